"""Face landmarks from MediaPipe's models on LiteRT: face box -> 468-point 3D mesh -> irises.

The three `.tflite` files come from the mediapipe 0.10.21 wheel through the model registry; we run
them with `ai-edge-litert` and reimplement the small amount of glue MediaPipe's graphs do (SSD anchor
decoding, rotated square crops, mapping points back). Coordinates are source-image pixels; `z` is
depth in the same pixel units, negative towards the camera (MediaPipe's convention).

Small or tightly cropped faces (a 64 px generated face fills its image) are found by letterboxing
the image with a margin: BlazeFace short-range expects a face well inside its 128 px view.

One landmarker per set of model files per process (`build`), and it remembers the meshes of the last
few images it read (by content): the mesh backend's closed loop measures each render it keeps, and the
reposition stage then labels that same image, so the second reading is a look-up, not a model pass.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional

import cv2
import numpy as np

from facepipe._tf import run_tflite, tflite_interpreter
from facepipe.errors import NoFaceError
from facepipe.face.pose import Pose, head_pose

__all__ = ["FaceLandmarks", "FaceLandmarker", "NoFaceError", "build", "usable", "MODEL_NAMES"]

MODEL_NAMES = ("mediapipe_face_detection", "mediapipe_face_landmark", "mediapipe_iris_landmark")
DETECT_SIZE, MESH_SIZE, IRIS_SIZE = 128, 192, 64
MIN_DETECTION_SCORE, MIN_MESH_SCORE = 0.5, 0.5
RECENT_MESHES = 4  # enough for the closed loop's kept render and the trial after it
WINDOW_PARTS = (2, 4)  # when the whole image shows no face: windows of 1/2, then 1/4 of its side
# Mesh indices of each eye's corners (subject's right eye first); the eye crop spans 2.3x their distance.
EYE_CORNERS = ((33, 133), (362, 263))
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
# The iris model's first 16 eye-contour points are these mesh vertices (lower lid outer -> inner
# corner, then the upper lid), per eye as cropped (the left eye's crop is mirrored): MediaPipe's
# "refined landmarks" replace the mesh's lids with them, which follow a closing eye far better.
EYE_CONTOUR_TO_MESH = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)


@dataclass(frozen=True)
class FaceLandmarks:
    """One face's landmarks in source-image pixels.

    Attributes:
        points: `[468, 3]` float32 mesh vertices (x, y, z), eyelids refined by the iris model.
        iris: `[2, 5, 3]` float32, subject's right then left iris: centre, then 4 points on the rim.
        score: the mesh model's face-presence probability.
    """

    points: np.ndarray
    iris: np.ndarray
    score: float


def _anchors() -> np.ndarray:
    """BlazeFace short-range SSD anchor centres `[896, 2]` in [0, 1] (strides 8 and 16; 2 and 6 per cell)."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        n = DETECT_SIZE // stride
        grid = (np.stack(np.meshgrid(np.arange(n), np.arange(n)), -1).reshape(-1, 2) + 0.5) / n
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


_ANCHORS = _anchors()


def _window_starts(length: int, side: int) -> list[int]:
    """Offsets of windows of `side` px covering `length` px with half-window overlap, the last flush."""
    if side >= length:
        return [0]
    starts = list(range(0, length - side + 1, max(side // 2, 1)))
    return starts if starts[-1] == length - side else starts + [length - side]


def _square_crop(
    image: np.ndarray, centre: np.ndarray, size: float, angle: float, out: int, flip: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Crop a rotated square (side `size` px, rotated by `angle` rad) to `out` x `out`.

    Returns the crop and the 2x3 matrix mapping crop pixels back to image pixels.
    """
    c, s = np.cos(angle), np.sin(angle)
    scale = size / out
    sign = -1.0 if flip else 1.0
    # image = centre + R(angle) @ diag(sign, 1) @ (crop - out/2) * scale
    to_image = np.array([[c * scale * sign, -s * scale, 0.0], [s * scale * sign, c * scale, 0.0]])
    to_image[:, 2] = centre - to_image[:, :2] @ np.array([out / 2, out / 2])
    crop = cv2.warpAffine(
        image, to_image, (out, out), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, to_image


def _to_image(points: np.ndarray, to_image: np.ndarray, size: float, out: int) -> np.ndarray:
    """Map `[K, 3]` crop-space points to image pixels (z scaled like x)."""
    xy = points[:, :2] @ to_image[:, :2].T + to_image[:, 2]
    return np.column_stack([xy, points[:, 2] * size / out]).astype(np.float32)


class FaceLandmarker:
    """Callable: RGB `[H, W, 3]` uint8 -> `FaceLandmarks` of the most confident face."""

    def __init__(
        self,
        detector: str | os.PathLike,
        mesh: str | os.PathLike,
        iris: str | os.PathLike,
        margins: tuple[float, ...] = (0.0, 0.6),
    ):
        self._detector = tflite_interpreter(detector)
        self._mesh = tflite_interpreter(mesh)
        self._iris = tflite_interpreter(iris)
        self.margins = margins
        self._recent: OrderedDict[bytes, tuple[np.ndarray, float] | str] = OrderedDict()  # digest -> mesh or error

    def detect(self, image: np.ndarray) -> Optional[tuple[np.ndarray, np.ndarray, float]]:
        """Best face as (box centre-size `[4]` px, 6 keypoints `[6, 2]` px, score), or None.

        The whole image first (with letterbox margins); if that finds nothing, overlapping windows
        of a half and a quarter of the image, each upsampled to the detector's 128 px view: a face
        under about a tenth of a large photo is too small for BlazeFace in one view.
        """
        best = self._detect_view(image, self.margins)
        h, w = image.shape[:2]
        for parts in WINDOW_PARTS:
            side = int(np.ceil(max(h, w) / parts))
            if best is not None or side < DETECT_SIZE:  # found, or the image is small: windows add nothing
                break
            for y0 in _window_starts(h, side):
                for x0 in _window_starts(w, side):
                    found = self._detect_view(image[y0 : y0 + side, x0 : x0 + side], (0.0,))
                    if found is not None and (best is None or found[2] > best[2]):
                        box, keypoints, score = found
                        shift = np.array([x0, y0], np.float64)
                        best = (np.concatenate([box[:2] + shift, box[2:]]), keypoints + shift, score)
        return best

    def _detect_view(
        self, image: np.ndarray, margins: tuple[float, ...]
    ) -> Optional[tuple[np.ndarray, np.ndarray, float]]:
        """Best face in one view of `image` (letterboxed with each margin in turn), or None."""
        best = None
        h, w = image.shape[:2]
        for margin in margins:
            side = int(round(max(h, w) * (1 + margin)))
            left, top = (side - w) // 2, (side - h) // 2
            offset = np.array([left, top], np.float64)
            canvas = cv2.copyMakeBorder(
                image, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=(0, 0, 0)
            )
            x = cv2.resize(canvas, (DETECT_SIZE, DETECT_SIZE), interpolation=cv2.INTER_AREA) / 127.5 - 1.0
            outputs = run_tflite(self._detector, x)
            raw, logits = outputs if outputs[0].shape[-1] == 16 else outputs[::-1]
            scores = 1 / (1 + np.exp(-np.clip(logits[:, 0].astype(np.float64), -100, 100)))
            keep = scores >= MIN_DETECTION_SCORE
            if not keep.any():
                continue
            decoded = raw[keep] / DETECT_SIZE
            anchors = _ANCHORS[keep]
            decoded[:, 0:2] += anchors
            decoded[:, 4::2] += anchors[:, :1]
            decoded[:, 5::2] += anchors[:, 1:]
            first = int(np.argmax(scores[keep]))
            # weighted average of detections overlapping the best one (MediaPipe's weighted NMS)
            overlap = np.all(np.abs(decoded[:, :2] - decoded[first, :2]) < decoded[first, 2:4] / 2, axis=1)
            weights = scores[keep][overlap]
            merged = (decoded[overlap] * weights[:, None]).sum(0) / weights.sum() * side  # canvas pixels
            box = np.concatenate([merged[:2] - offset, merged[2:4]])  # centre moves back, size does not
            keypoints = merged[4:].reshape(6, 2) - offset
            score = float(scores[keep][first])
            if best is None or score > best[2]:
                best = (box, keypoints, score)
        return best

    def _mesh_pass(self, image: np.ndarray, centre: np.ndarray, size: float, angle: float):
        crop, to_image = _square_crop(image, centre, size, angle, MESH_SIZE)
        outputs = run_tflite(self._mesh, crop.astype(np.float32) / 255.0)
        flat = next(o for o in outputs if o.size == 468 * 3).reshape(468, 3)
        logit = float(next(o for o in outputs if o.size == 1).reshape(()))
        return _to_image(flat, to_image, size, MESH_SIZE), 1 / (1 + np.exp(-logit))

    def _eyes(self, image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Irises `[2, 5, 3]` and the mesh with both eyes' lids refined by the iris model."""
        irises, refined = [], points.copy()
        for eye, (a, b) in enumerate(EYE_CORNERS):
            p, q = points[a, :2], points[b, :2]
            # both crops upright along the eye line; the left eye's is mirrored to look like a right eye
            angle = np.arctan2(q[1] - p[1], q[0] - p[0])
            size = float(np.linalg.norm(q - p) * 2.3)
            crop, to_image = _square_crop(image, (p + q) / 2, size, angle, IRIS_SIZE, flip=eye == 1)
            outputs = run_tflite(self._iris, crop.astype(np.float32) / 255.0)
            iris = next(o for o in outputs if o.size == 15).reshape(5, 3)
            contour = _to_image(
                next(o for o in outputs if o.size == 71 * 3).reshape(71, 3)[:16], to_image, size, IRIS_SIZE
            )
            irises.append(_to_image(iris, to_image, size, IRIS_SIZE))
            refined[list(EYE_CONTOUR_TO_MESH[eye]), :2] = contour[:, :2]
        return np.stack(irises), refined

    def mesh(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The 468-point mesh `[468, 3]` and its score, without the irises (enough for head pose).

        Raises:
            NoFaceError: no face, or a mesh score below `MIN_MESH_SCORE`.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be [H, W, 3] uint8; got shape {image.shape} dtype {image.dtype}")
        key = _digest(image)
        if key not in self._recent:
            try:
                self._recent[key] = self._read_mesh(image)
            except NoFaceError as error:
                self._recent[key] = str(error)
            if len(self._recent) > RECENT_MESHES:
                self._recent.popitem(last=False)
        self._recent.move_to_end(key)
        found = self._recent[key]
        if isinstance(found, str):
            raise NoFaceError(found)
        return found[0].copy(), found[1]

    def _read_mesh(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        found = self.detect(image)
        if found is None:
            raise NoFaceError(f"no face found in the {image.shape[1]}x{image.shape[0]} image")
        box, keypoints, _ = found
        eyes = keypoints[1] - keypoints[0]  # subject's right eye -> left eye
        angle = float(np.arctan2(eyes[1], eyes[0]))
        points, score = self._mesh_pass(image, box[:2], float(max(box[2:4])) * 1.5, angle)
        # second pass on the ROI the mesh itself implies (MediaPipe's tracking step): tighter, upright
        eyes = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
        lo, hi = points[:, :2].min(0), points[:, :2].max(0)
        points, score = self._mesh_pass(
            image, (lo + hi) / 2, float((hi - lo).max()) * 1.5, float(np.arctan2(eyes[1], eyes[0]))
        )
        if score < MIN_MESH_SCORE:
            raise NoFaceError(f"face landmarks not trusted (score {score:.2f} < {MIN_MESH_SCORE})")
        return points, float(score)

    def pose(self, image: np.ndarray) -> Optional[Pose]:
        """The head pose of the image's face (`face.pose` conventions), or None if it has no usable face."""
        try:
            points, _ = self.mesh(image)
        except NoFaceError:
            return None
        return head_pose(points)

    def __call__(self, image: np.ndarray) -> FaceLandmarks:
        points, score = self.mesh(image)
        iris, refined = self._eyes(image, points)
        return FaceLandmarks(points=refined, iris=iris, score=score)


def _digest(image: np.ndarray) -> bytes:
    """A content key for an image: its shape and pixels."""
    h = hashlib.blake2b(str(image.shape).encode(), digest_size=16)
    h.update(np.ascontiguousarray(image).data)
    return h.digest()


def build(models: Any) -> FaceLandmarker:
    """The landmarker with the three MediaPipe models fetched and verified through `models` (one per
    set of files: the stage and its repositioner share it, and with it the meshes it has read)."""
    return _shared(*(str(models.path(name)) for name in MODEL_NAMES))


@functools.lru_cache(maxsize=4)
def _shared(detector: str, mesh: str, iris: str) -> FaceLandmarker:
    return FaceLandmarker(detector, mesh, iris)


def usable(models: Any, max_angle: Optional[float] = None) -> Callable[[np.ndarray], bool]:
    """A predicate for the generate stage's resampling: can this face be landmarked, and (with
    `max_angle`) is its measured |yaw| and |pitch| at most that many degrees?"""
    landmarker = build(models)

    def check(image: np.ndarray) -> bool:
        pose = landmarker.pose(image)
        return pose is not None and (max_angle is None or max(abs(pose.yaw), abs(pose.pitch)) <= max_angle)

    return check
