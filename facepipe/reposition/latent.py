"""Repositioning in the generator's latent space: the same person's latent walked along learned pose
and expression directions (TL-GAN's method applied to head pose), identity directions locked.

The directions come from `learn_directions` (labels: `face.pose` and `face.expression` on
generated faces, with their regression slopes). A shot's expression is an open-loop move sized by
those slopes; its yaw and pitch are then reached in closed loop: generate, measure the head pose,
step by error / slope, until within `pose_tolerance` degrees or `max_pose_steps`. Roll is an
in-plane rotation of the image. Gaze is not controllable here: the eyes look where the generator
puts them (the mesh backend moves them). Works only for generated persons (it needs the latent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import cv2
import numpy as np

from facepipe.attributes.directions import Directions, orthogonal_to
from facepipe.errors import ConfigError
from facepipe.face import landmarks
from facepipe.face.expression import geometry
from facepipe.face.landmarks import NoFaceError
from facepipe.face.pose import Pose, head_pose
from facepipe.reposition.plan import Shot

__all__ = ["LatentRepositioner", "build", "POSE_LABELS", "EXPRESSION_LABELS", "labels_of", "IDENTITY_LOCK"]

POSE_LABELS = ("yaw", "pitch")
EXPRESSION_LABELS = ("mouth_opening", "smile_width", "corner_lift", "eye_openness")
# Attribute directions held fixed while the pose and expression change: who the person is.
IDENTITY_LOCK = (
    "Male",
    "Young",
    "age",
    "Pale_Skin",
    "race_White",
    "race_Black",
    "race_Asian",
    "race_Indian",
    "Eyeglasses",
    "Bald",
    "Bangs",
    "Black_Hair",
    "Blond_Hair",
    "Brown_Hair",
    "Gray_Hair",
    "No_Beard",
    "Goatee",
    "Mustache",
    "Big_Nose",
    "Heavy_Makeup",
)
# Each expression at intensity 1: the change of each geometry label, in face widths (eye: of eye width).
EXPRESSION_MOVES = {
    "neutral": {},
    "smile": {"smile_width": 0.06, "corner_lift": 0.03},
    "laugh": {"smile_width": 0.06, "corner_lift": 0.03, "mouth_opening": 0.10},
    "surprise": {"mouth_opening": 0.12, "eye_openness": 0.10},
    "sad": {"corner_lift": -0.03, "smile_width": -0.02},
    "angry": {"smile_width": -0.04, "eye_openness": -0.08},
    "blink": {"eye_openness": -0.35},
}
MAX_MOVE = 4.0  # latent distance per label move (latents are N(0, I): 4 = four standard deviations)


def labels_of(points: np.ndarray) -> np.ndarray:
    """`[yaw, pitch, mouth_opening, smile_width, corner_lift, eye_openness]` of one face mesh."""
    pose, g = head_pose(points), geometry(points)
    return np.array([pose.yaw, pose.pitch, g.mouth_opening, g.smile_width, g.corner_lift, np.mean(g.eye_openness)])


@dataclass
class PreparedLatent:
    latent: np.ndarray
    image: np.ndarray
    pose: Pose


class LatentRepositioner:
    """`Repositioner` that regenerates the person from a walked latent."""

    name = "latent"
    expressions = tuple(EXPRESSION_MOVES)

    def __init__(
        self,
        generator: Any,
        landmarker: landmarks.FaceLandmarker,
        directions: Directions,
        pose_tolerance: float = 2.0,
        max_pose_steps: int = 8,
    ):
        self.generator, self.landmarker = generator, landmarker
        self.tolerance, self.max_steps = pose_tolerance, max_pose_steps
        for name in (*POSE_LABELS, *EXPRESSION_LABELS):
            if not np.isfinite(directions.scale(name)) or directions.scale(name) <= 0:
                raise ConfigError(
                    f"direction {name!r} has no regression slope; valid: directions learned by "
                    "`learn_directions` (method regression for pose and expression labels)"
                )
        lock = [directions[n] for n in IDENTITY_LOCK if n in directions.names]
        self._pose = {}
        for name in POSE_LABELS:
            other = [directions[n] for n in POSE_LABELS if n != name]
            self._pose[name] = (orthogonal_to(directions[name], lock + other), directions.scale(name))
        self._expr = {}
        for name in EXPRESSION_LABELS:
            self._expr[name] = (
                orthogonal_to(directions[name], lock + [directions[n] for n in POSE_LABELS]),
                directions.scale(name),
            )

    def prepare(self, image: np.ndarray, latent: Optional[np.ndarray] = None) -> PreparedLatent:
        if latent is None:
            raise ConfigError("reposition=latent needs a generated person's latent; valid: reposition=mesh for a photo")
        pose = self.landmarker.pose(image)
        if pose is None:
            raise NoFaceError("the generated face cannot be landmarked; valid: another seed")
        return PreparedLatent(np.asarray(latent, np.float32), image, pose)

    def source_pose(self, prepared: PreparedLatent) -> Pose:
        return prepared.pose

    def face_box(self, prepared: PreparedLatent) -> tuple[int, int, int, int]:
        h, w = prepared.image.shape[:2]
        return 0, 0, w, h

    def _expression(self, z: np.ndarray, name: str, intensity: float) -> np.ndarray:
        if name not in EXPRESSION_MOVES:
            raise ConfigError(
                f"reposition=latent cannot make expression {name!r}; valid: {', '.join(EXPRESSION_MOVES)}"
            )
        for label, change in EXPRESSION_MOVES[name].items():
            direction, slope = self._expr[label]
            z = z + float(np.clip(intensity * change / slope, -MAX_MOVE, MAX_MOVE)) * direction
        return z

    def render(self, prepared: PreparedLatent, shot: Shot) -> np.ndarray:
        z = self._expression(prepared.latent.copy(), shot.expression, shot.intensity)
        target = np.array([shot.yaw, shot.pitch])
        best, best_err, roll = None, np.inf, prepared.pose.roll
        for _ in range(self.max_steps + 1):
            image = self.generator.synthesize(z[None])[0]
            pose = self.landmarker.pose(image)
            if pose is None:
                break  # walked off what the landmarker can read: keep the last readable image
            err = target - np.array([pose.yaw, pose.pitch])
            if np.abs(err).max() < best_err:
                best, best_err, roll = image, float(np.abs(err).max()), pose.roll
            if np.abs(err).max() <= self.tolerance:
                break
            for (direction, slope), e in zip((self._pose["yaw"], self._pose["pitch"]), err):
                z = z + float(np.clip(e / slope, -MAX_MOVE / 2, MAX_MOVE / 2)) * direction
        if best is None:
            best = self.generator.synthesize(z[None])[0]
        return _roll(best, shot.roll - roll)


def _roll(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate in the image plane; positive = clockwise (README conventions), edges reflected."""
    if abs(degrees) < 1e-3:
        return image
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def build(cfg: Any, models: Any, job: Any = None) -> LatentRepositioner:
    """Factory named by `conf/reposition/latent.yaml`: the job's generator and its learned directions."""
    from facepipe.attributes.directions import directions_path, load
    from facepipe.backends import load_factory

    if job is None:
        raise ConfigError(
            "reposition=latent needs the job config (generator, directions); valid: run it through a stage"
        )
    generator = load_factory(job.generator._target_, "generator")(job.generator, models)
    path = directions_path(job.directions.dir, job.generator.name)
    directions = load(path).check_latent_dim(generator.latent_dim, str(path))
    return LatentRepositioner(generator, landmarks.build(models), directions, cfg.pose_tolerance, cfg.max_pose_steps)
