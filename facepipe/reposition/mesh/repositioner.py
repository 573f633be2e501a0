"""The mesh repositioner: landmark once, then per shot move the eyes, deform the mesh, rotate, warp.

Order per shot, each step a plain function: gaze (`gaze.shift_gaze`, on the source texture, so the
eyes turn with the head) -> learned expression shading (`shading`, creases and folds on the source
texture) -> expression offsets (`expressions`, in the head's frame) -> rotation to the
requested absolute pose (`mesh_warp.pose_change`) -> triangle warp over the background plate ->
an opened mouth's interior painted in (over the strip of triangles that joins the lips inside it,
`tessellation`).

Calibration: the pose a landmarker reads on a render is close to, not equal to, the pose the mesh
was turned to (the mesh's depth is flatter than a real head's; a face filling a 64 px frame loses
its chin when pitched). So `prepare` renders each source on a probe grid (yaw, pitch in -30, -15,
0, 15, 30), measures the probes with the same estimator the labels use, and every shot is commanded
through the inverse of that measured map (`Calibration`; the response is not linear, hence 5 x 5).
Uncalibrated, yaw reads back at about 0.77x the command and, on generated faces, pitch at about 0.78x
with a yaw-dependent bias. Each render is then measured and, if it misses by more than the
tolerance, re-rendered with a corrected command (the closed loop in `_aim`); one that cannot be
measured at all is retried turned less (`UNREADABLE_RETRIES`) before the loop gives up on it. The
loop measures the head without its expression, which is drawn afterwards on the command found: the
landmark model reads expressions as a few degrees of pitch, and correcting for that would tilt
expressive heads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

import numpy as np

from facepipe.config import EXPRESSION_NAMES, RepositionConf
from facepipe.face import landmarks, segmentation, tessellation
from facepipe.face.pose import Pose, face_frame, frame_pose
from facepipe.face.regions import FACE_OVAL, INNER_LIPS, OUTER_LIPS
from facepipe.reposition.mesh.expressions import (
    OPEN_GAP,
    ExpressionField,
    expression_fields,
    mouth_gap,
    neutralizing_offsets,
)
from facepipe.reposition.mesh.gaze import shift_gaze
from facepipe.reposition.mesh.mouth import paint_closed_lips, paint_mouth
from facepipe.reposition.mesh.shading import ShadingModel, shade
from facepipe.reposition.mesh.smile_shape import SmileShape
from facepipe.reposition.mesh.warp import (
    MESH_POINTS,
    HeadModel,
    background_plate,
    head_model,
    outline_follow,
    pose_change,
    project,
    render,
)
from facepipe.reposition.plan import Shot

__all__ = ["PreparedFace", "Calibration", "MeshRepositioner", "build"]

PROBE_ANGLES = (-30.0, -15.0, 0.0, 15.0, 30.0)  # commanded yaw x pitch probe grid, degrees
GAIN_RANGE = (0.5, 1.5)  # mean gain over the probes outside this: the probes were misread, fall back
MAX_STEP = 15.0  # degrees: the most one step may change a command (Newton steps in `command`, the closed loop)
MAX_TURN = 89.0  # degrees: the most a command may turn the mesh on either axis
MIN_SLOPE = 0.05  # the measured pose must grow with the commanded one everywhere on the probe grid
# When the calibrated command's render cannot be landmarked, the loop retries with the command this
# share of the way from the requested angles to it (0: the mesh turned exactly as requested). The
# calibration turns the mesh up to 1.3x further than requested, which can push a 64 px generated face's
# chin or forehead out of its frame, where the landmarker finds no face and the shot would get no
# measured pose in labels.csv.
UNREADABLE_RETRIES = (0.5, 0.0)
# Face widths: how far from the face's outline the head proxy follows its offsets (`outline_follow`).
# Without it an opened jaw leaves a jagged dark edge along the chin. Kept for the image, although fer
# reads surprise on the clean chin as angry a little more often.
PROXY_FOLLOW = 0.12


def _slope(f, yaw: float, pitch: float, h: float) -> np.ndarray:
    """`[2, 2]` forward-difference d f / d (yaw, pitch) of a map (yaw, pitch) -> (yaw, pitch)."""
    at = f(yaw, pitch)
    return np.column_stack([(f(yaw + h, pitch) - at) / h, (f(yaw, pitch + h) - at) / h])


def _terms(yaw: float, pitch: float) -> np.ndarray:
    """Monomials of total degree <= 3 in (yaw, pitch) / 30: the calibration's basis."""
    a, b = yaw / 30.0, pitch / 30.0
    return np.array([1, a, b, a * a, a * b, b * b, a**3, a * a * b, a * b * b, b**3])


@dataclass(frozen=True)
class Calibration:
    """Measured (yaw, pitch) of one source's renders as a smooth function of the commanded pose.

    A cubic polynomial in (yaw, pitch), least-squares fitted to the probe grid (the landmarker's
    read-out is noisy by a degree or two, so it is fitted, not interpolated); beyond the probes'
    +-30 degrees it continues linearly with its mean slope from the centre to the edge. It captures each axis's gain and
    offset and the cross-talk between them (a turned mesh reads a few degrees pitched down);
    `command` inverts it by Newton's method.
    """

    coefficients: np.ndarray  # [10, 2]: measured (yaw, pitch) = _terms(commanded) @ coefficients

    @classmethod
    def linear(cls, yaw_gain: float = 1.0, yaw_offset: float = 0.0) -> "Calibration":
        """The model without probes: yaw reads `yaw_gain` x commanded + offset, pitch as commanded."""
        c = np.zeros((10, 2))
        c[0, 0], c[1, 0], c[2, 1] = yaw_offset, 30.0 * yaw_gain, 30.0
        return cls(c)

    @classmethod
    def fit(cls, commanded: np.ndarray, measured: np.ndarray) -> "Calibration":
        basis = np.array([_terms(y, p) for y, p in commanded])
        return cls(np.linalg.lstsq(basis, measured, rcond=None)[0])

    def forward(self, yaw: float, pitch: float) -> np.ndarray:
        """Measured (yaw, pitch) expected for a mesh commanded to (yaw, pitch)."""
        edge = max(abs(a) for a in PROBE_ANGLES)
        inside = np.clip([yaw, pitch], -edge, edge)
        base = _terms(*inside) @ self.coefficients
        value = base.copy()
        beyond = np.array([yaw, pitch]) - inside
        for axis in np.flatnonzero(beyond):  # continue with the mean slope from the centre to the edge
            centre = inside.copy()
            centre[axis] = 0.0
            value += (base - _terms(*centre) @ self.coefficients) / inside[axis] * beyond[axis]
        return value

    def _fit_slope(self, yaw: float, pitch: float, h: float = 0.5) -> np.ndarray:
        """`[2, 2]` slope of the fitted polynomial itself (not of `forward`, which continues linearly
        past the probes): what `plausible` checks at the probes, edges included, before any clamping."""
        return _slope(lambda y, p: _terms(y, p) @ self.coefficients, yaw, pitch, h)

    def jacobian(self, yaw: float, pitch: float, h: float = 0.5) -> np.ndarray:
        """`[2, 2]` d measured / d commanded of `forward` at (yaw, pitch), kept invertible (each axis's
        own slope at least `MIN_SLOPE`; cross-talk dropped where the matrix is near singular)."""
        jac = _slope(self.forward, yaw, pitch, h)
        jac[[0, 1], [0, 1]] = np.maximum(jac[[0, 1], [0, 1]], MIN_SLOPE)
        return jac if abs(np.linalg.det(jac)) >= 1e-6 else np.diag(np.diag(jac))

    def command(self, target: Pose) -> Pose:
        """The pose to turn the mesh to so that `target` is what gets measured."""
        want = np.array([target.yaw, target.pitch])
        c = want.copy()
        for _ in range(30):
            f = self.forward(*c)
            step = np.clip(np.linalg.solve(self.jacobian(*c), want - f), -MAX_STEP, MAX_STEP)  # damped
            c = np.clip(c + step, -MAX_TURN, MAX_TURN)
            if np.abs(step).max() < 1e-3:
                break
        return Pose(float(c[0]), float(c[1]), target.roll)

    def plausible(self) -> bool:
        """Monotonic over the probes (each axis's slope > `MIN_SLOPE`) and each axis's mean gain from
        the centre to the edges within `GAIN_RANGE`; otherwise the probes were misread."""
        edge = max(abs(a) for a in PROBE_ANGLES)
        for yaw in PROBE_ANGLES:
            for pitch in PROBE_ANGLES:
                jac = self._fit_slope(yaw, pitch)
                if jac[0, 0] < MIN_SLOPE or jac[1, 1] < MIN_SLOPE:
                    return False
        gains = [
            (self.forward(edge, 0)[0] - self.forward(-edge, 0)[0]) / (2 * edge),
            (self.forward(0, edge)[1] - self.forward(0, -edge)[1]) / (2 * edge),
        ]
        return all(GAIN_RANGE[0] <= g <= GAIN_RANGE[1] for g in gains)


@dataclass(frozen=True)
class PreparedFace:
    """A source face ready to render: its landmarks, rotatable head, background and expressions."""

    image: np.ndarray
    person: Optional[np.ndarray]  # [H, W] person probability (None: segmentation off)
    face: landmarks.FaceLandmarks
    model: HeadModel
    plate: np.ndarray
    frame: np.ndarray  # face axes [3, 3] in the camera frame
    expressions: dict[str, ExpressionField]
    neutral: np.ndarray  # [K, 3] offsets to a neutral mouth, under every expression (zeros if off)
    shading: dict[str, np.ndarray] = field(default_factory=dict)  # expression -> luminance residual [H, W] on `image`
    calibration: Optional[Calibration] = None  # set by MeshRepositioner.prepare; None only while probing
    closed_lips: bool = False  # `neutral` closes an open source mouth: its seam is painted (`paint_closed_lips`)
    # `[proxy points, len(FACE_OVAL)]`: how the head proxy follows the face outline's offsets (`outline_follow`)
    proxy_follow: Optional[np.ndarray] = None


class MeshRepositioner:
    """`Repositioner` backed by the landmark mesh and `mesh_warp`."""

    name = "mesh"
    expressions = EXPRESSION_NAMES

    def __init__(
        self,
        landmarker: landmarks.FaceLandmarker,
        topology: tessellation.FaceTopology,
        yaw_gain: float,
        neutralize: bool = True,
        calibrate: bool = True,
        segmenter: Optional[segmentation.PersonSegmenter] = None,
        shading: Optional[ShadingModel] = None,
        shading_gain: float = 3.5,
        pose_tolerance: float = 2.0,
        max_pose_steps: int = 8,
        smile_shape: Optional[SmileShape] = None,
    ):
        self.landmarker = landmarker
        self.topology = topology  # the face mesh's own triangles and edges (`tessellation.build`)
        self.segmenter = segmenter
        self.shading, self.shading_gain = shading, shading_gain
        self.smile_shape = smile_shape  # neutralize: the learned smile taken out of a smiling source
        self.yaw_gain = yaw_gain  # the fallback when calibration is off or its probes are unreadable
        self.neutralize = neutralize
        self.calibrate = calibrate
        self.tolerance, self.max_steps = pose_tolerance, max_pose_steps

    def prepare(self, image: np.ndarray, latent: Optional[np.ndarray] = None) -> PreparedFace:
        face = self.landmarker(image)
        person = self.segmenter(image) if self.segmenter is not None else None
        model = head_model(face.points, image.shape[:2], self.topology.triangles, person=person)
        frame = face_frame(face.points)
        neutral = np.zeros_like(model.points)
        closed_lips = self.neutralize and mouth_gap(model.points[:468], frame) > OPEN_GAP
        if self.neutralize:
            neutral[:468] = neutralizing_offsets(model.points[:468], frame, self.topology.edges, self.smile_shape)
        # expressions start from the neutralised face: a shaped mouth (`expressions._MOUTH_SHAPES`) is placed
        # where it should end up, and the lids' openings are the neutral ones
        fields = expression_fields(model.points[:468] + neutral[:468], frame, self.topology.edges)
        prepared = PreparedFace(
            image=image,
            person=person,
            face=face,
            model=model,
            plate=background_plate(image, model),
            frame=frame,
            expressions=fields,
            neutral=neutral,
            closed_lips=closed_lips,
            proxy_follow=outline_follow(model.points, FACE_OVAL, PROXY_FOLLOW),
            shading=self._shading(image, face.points),
        )
        return replace(prepared, calibration=self._calibration(prepared))

    def _shading(self, image: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
        """Each expression's luminance residual at intensity 1 on `image` (`shading.ShadingModel.residuals`);
        the source's own smile shading comes out under other expressions when `neutralize` is on."""
        if self.shading is None:
            return {}
        unsmile = 0.0
        if self.neutralize and "happy" in self.shading.maps:
            unsmile = max(self.shading.strength(image, points, "happy"), 0.0)
        return self.shading.residuals(points, image.shape[:2], EXPRESSION_NAMES, self.shading_gain, unsmile)

    def _calibration(self, prepared: PreparedFace) -> Calibration:
        src = frame_pose(prepared.frame)
        # without probes: yaw changes scaled by yaw_gain (measured = src + (commanded - src) / gain)
        fallback = Calibration.linear(1 / self.yaw_gain, src.yaw * (1 - 1 / self.yaw_gain))
        if not self.calibrate:
            return fallback
        commanded, measured = [], []
        for yaw in PROBE_ANGLES:
            for pitch in PROBE_ANGLES:
                pose = self.landmarker.pose(self._draw(prepared, Pose(yaw, pitch, 0.0), None, 0.0))
                if pose is None:
                    continue  # an unreadable probe is left out of the fit
                commanded.append((yaw, pitch))
                measured.append((pose.yaw, pose.pitch))
        if len(commanded) < 15:  # too few probes to fit 10 terms per axis with confidence
            return fallback
        calibration = Calibration.fit(np.array(commanded), np.array(measured))
        return calibration if calibration.plausible() else fallback

    def source_pose(self, prepared: PreparedFace) -> Pose:
        return frame_pose(prepared.frame)

    def face_box(self, prepared: PreparedFace) -> tuple[int, int, int, int]:
        points = prepared.face.points[:, :2]
        centre, half = (points.min(0) + points.max(0)) / 2, (points.max(0) - points.min(0)).max() * 0.9
        x0, y0 = np.floor(centre - half).astype(int)
        x1, y1 = np.ceil(centre + half).astype(int)
        return int(x0), int(y0), int(x1), int(y1)

    def render(self, prepared: PreparedFace, shot: Shot) -> np.ndarray:
        p = prepared
        texture = shift_gaze(p.image, p.face.points, p.face.iris, shot.gaze_yaw, shot.gaze_pitch)
        target, field = Pose(shot.yaw, shot.pitch, shot.roll), p.expressions.get(shot.expression)
        # The head is aimed as the neutral shot is, then the expression drawn on it: the landmark model
        # reads a moved mouth, brows or lids as pitch (at the same head rotation sad reads up to about 6
        # degrees above neutral, blink 5 below), and aiming the expressive render would turn the head by
        # that much.
        commanded, out = self._aim(p, target, texture)
        if field is not None and shot.intensity > 0:
            if shot.expression in p.shading:  # creases first, so the mesh carries them with the skin
                texture = shade(texture, p.shading[shot.expression], shot.intensity)
            return self._draw(p, commanded, field, shot.intensity, texture)
        return out if out is not None else self._draw(p, commanded, None, 0.0, texture)

    def _aim(self, p: PreparedFace, target: Pose, texture: np.ndarray) -> tuple[Pose, Optional[np.ndarray]]:
        """The command that turns the neutral head to read `target` (the calibrated command, then the
        closed loop on what the landmarker reads back) and the neutral render of it that the loop kept;
        with the loop off, the calibrated command and None: nothing is drawn that the shot may not use."""
        commanded = p.calibration.command(target)
        if not self.max_steps:
            return commanded, None
        out = self._draw(p, commanded, None, 0.0, texture)
        miss = self._miss(out, target)
        if miss is None:  # unreadable, most often a face turned past its frame: try turning it less
            for share in UNREADABLE_RETRIES:
                trial = Pose(
                    target.yaw + share * (commanded.yaw - target.yaw),
                    target.pitch + share * (commanded.pitch - target.pitch),
                    target.roll,
                )
                image = self._draw(p, trial, None, 0.0, texture)
                trial_miss = self._miss(image, target)
                if trial_miss is not None:
                    commanded, out, miss = trial, image, trial_miss
                    break
        for _ in range(self.max_steps):  # closed loop: the calibration is a fit, and beyond its probes a guess
            if miss is None or np.abs(miss).max() <= self.tolerance:
                break
            step = np.clip(
                np.linalg.solve(p.calibration.jacobian(commanded.yaw, commanded.pitch), miss), -MAX_STEP, MAX_STEP
            )
            turned = np.clip([commanded.yaw + step[0], commanded.pitch + step[1]], -MAX_TURN, MAX_TURN)
            trial = Pose(*turned, target.roll)
            image = self._draw(p, trial, None, 0.0, texture)
            trial_miss = self._miss(image, target)
            if trial_miss is None or np.abs(trial_miss).max() >= np.abs(miss).max():
                break  # no better (or no longer readable): keep the previous render
            commanded, out, miss = trial, image, trial_miss
        return commanded, out

    def _miss(self, image: np.ndarray, target: Pose) -> Optional[np.ndarray]:
        """Requested minus measured (yaw, pitch) of a render; None when it cannot be landmarked."""
        got = self.landmarker.pose(image)
        return None if got is None else np.array([target.yaw - got.yaw, target.pitch - got.pitch])

    @staticmethod
    def _draw(
        p: PreparedFace,
        commanded: Pose,
        field: Optional[ExpressionField],
        intensity: float,
        texture: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """Render the mesh turned to `commanded` (no calibration applied) with an expression."""
        offsets = p.neutral.copy()
        active = field is not None and intensity > 0
        if active:
            offsets[:468] += field.offsets * intensity
        if p.proxy_follow is not None:  # the skin below a dropped jaw goes with it
            offsets[MESH_POINTS:] += p.proxy_follow @ offsets[list(FACE_OVAL)]
        opened, model = active and field.mouth_open, p.model
        dst, depth = project(model, pose_change(p.frame, commanded), offsets)
        out = render(p.image if texture is None else texture, model, dst, depth, p.plate, p.person)
        if opened:
            out = paint_mouth(out, dst[list(INNER_LIPS)] - model.pad, field.teeth)
        elif p.closed_lips:
            out = paint_closed_lips(out, dst[list(INNER_LIPS)] - model.pad, dst[list(OUTER_LIPS)] - model.pad)
        return out


def build(cfg: RepositionConf, models: Any, job: Any = None) -> MeshRepositioner:
    """Factory named by `conf/reposition/mesh.yaml`."""
    segmenter = segmentation.build(models) if cfg.segment else None
    shading = ShadingModel.load(cfg.shading) if cfg.shading else None
    smile_shape = SmileShape.load(cfg.smile_shape) if cfg.smile_shape else None
    return MeshRepositioner(
        landmarks.build(models),
        tessellation.build(models),
        cfg.yaw_gain,
        cfg.neutralize,
        cfg.calibrate,
        segmenter,
        shading,
        cfg.shading_gain,
        cfg.pose_tolerance,
        cfg.max_pose_steps,
        smile_shape,
    )
