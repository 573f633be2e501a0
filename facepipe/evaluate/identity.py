"""Face identity distance: dlib's ResNet descriptor (the one `face_recognition` uses).

dlib is an optional dependency (`pip install -e ".[eval]"`, the `dlib-bin` wheel); its two model
files come through the registry. The face box comes from our landmarks (dlib's HOG detector misses
turned heads), dlib's 5-point model aligns inside it, and the 128-d descriptors of two images of
one person are < 0.6 apart by dlib's own threshold; our reports use the stricter 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facepipe.errors import ConfigError

__all__ = ["IdentityEncoder", "build", "distance", "SAME_PERSON_BELOW", "MODEL_NAMES"]

MODEL_NAMES = ("dlib_face_recognition", "dlib_shape_predictor_5")
SAME_PERSON_BELOW = 0.5


def _dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise ConfigError('identity evaluation needs dlib; valid: pip install -e ".[eval]" (dlib-bin)') from None
    return dlib


class IdentityEncoder:
    """Callable: (RGB `[H, W, 3]` uint8, face mesh `[468, 3]`) -> unit-scale 128-d descriptor."""

    def __init__(self, descriptor_path: str, shape_path: str):
        dlib = _dlib()
        self._dlib = dlib
        self._encoder = dlib.face_recognition_model_v1(str(descriptor_path))
        self._shape = dlib.shape_predictor(str(shape_path))

    def __call__(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        # dlib's boxes span the eyebrows to the chin; the mesh's bounding box, trimmed at the top
        # (point 10 sits on the forehead), is close to that
        lo, hi = points[:, :2].min(0), points[:, :2].max(0)
        top = lo[1] + 0.2 * (hi[1] - lo[1])
        box = self._dlib.rectangle(int(lo[0]), int(top), int(hi[0]), int(hi[1]))
        image = np.ascontiguousarray(image)
        shape = self._shape(image, box)
        return np.asarray(self._encoder.compute_face_descriptor(image, shape), np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors (dlib's metric)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def build(models: Any) -> IdentityEncoder:
    """The encoder with dlib's models fetched and verified through `models`."""
    return IdentityEncoder(*(models.path(name) for name in MODEL_NAMES))
