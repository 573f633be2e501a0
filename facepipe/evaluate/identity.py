"""Face identity distance: dlib's ResNet descriptor (the one `face_recognition` uses).

dlib is an optional dependency (`pip install -e ".[eval]"`, the `dlib-bin` wheel); its model
file comes through the registry. dlib aligns a face by 5 points (both corners of each eye, the base
of the nose); we hand it those points from our landmarks instead of running its HOG detector and
5-point model, which miss turned heads and, on Grace Hopper's glasses, move by enough to change
the descriptor by 0.6 when the box shifts 3 px. Two images of one person are < 0.6 apart by dlib's
own threshold; our reports use the stricter 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facepipe.errors import ConfigError

__all__ = ["IdentityEncoder", "build", "distance", "SAME_PERSON_BELOW", "MODEL_NAMES", "DLIB_FIVE"]

MODEL_NAMES = ("dlib_face_recognition",)
# Mesh vertices in the order of dlib's 5-point model: subject's left eye outer and inner corner,
# subject's right eye outer and inner corner, base of the nose (checked against dlib's own model).
DLIB_FIVE = (263, 362, 33, 133, 2)
SAME_PERSON_BELOW = 0.5


def _dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise ConfigError('identity evaluation needs dlib; valid: pip install -e ".[eval]" (dlib-bin)') from None
    return dlib


class IdentityEncoder:
    """Callable: (RGB `[H, W, 3]` uint8, face mesh `[468, 3]`) -> unit-scale 128-d descriptor."""

    def __init__(self, descriptor_path: str):
        dlib = _dlib()
        self._dlib = dlib
        self._encoder = dlib.face_recognition_model_v1(str(descriptor_path))

    def __call__(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        lo, hi = points[:, :2].min(0), points[:, :2].max(0)
        box = self._dlib.rectangle(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
        parts = [self._dlib.point(int(round(x)), int(round(y))) for x, y in points[list(DLIB_FIVE), :2]]
        shape = self._dlib.full_object_detection(box, parts)
        return np.asarray(self._encoder.compute_face_descriptor(np.ascontiguousarray(image), shape), np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors (dlib's metric)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def build(models: Any) -> IdentityEncoder:
    """The encoder with dlib's models fetched and verified through `models`."""
    return IdentityEncoder(models.path(MODEL_NAMES[0]))
