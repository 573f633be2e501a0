"""The upscaler protocol and the OpenCV resize helpers every backend shares."""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from facepipe.errors import ConfigError

__all__ = ["Upscaler", "MIN_INPUT_SIDE", "check_batch", "resize"]

MIN_INPUT_SIDE = 8  # smaller inputs carry too little signal to upscale meaningfully

_CV2_MODES = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}


class Upscaler(Protocol):
    """Brings RGB images to `size` x `size`.

    Attributes:
        name: the config option that built it, e.g. "bicubic" or "fsrcnn".
        size: output side in pixels.
    """

    name: str
    size: int

    def upscale(self, images: np.ndarray) -> np.ndarray:
        """`[N, h, w, 3]` uint8 RGB -> `[N, size, size, 3]` uint8 RGB."""
        ...


def check_batch(images: np.ndarray) -> np.ndarray:
    """Validate a batch `[N, h, w, 3]` uint8 with h, w >= MIN_INPUT_SIDE."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be [N, h, w, 3] uint8; got shape {images.shape} dtype {images.dtype}")
    h, w = images.shape[1:3]
    if min(h, w) < MIN_INPUT_SIDE:
        raise ConfigError(f"image of {w}x{h} px is too small to upscale; need at least {MIN_INPUT_SIDE} px a side")
    return images


def resize(image: np.ndarray, size: int | tuple[int, int], mode: str = "bicubic") -> np.ndarray:
    """Resize one `[h, w, C]` image to `size` (int: square; tuple: (width, height)).

    Shrinking always uses area averaging (the interpolating kernels alias when they shrink).
    """
    if mode not in _CV2_MODES:
        raise ConfigError(f"interpolation mode {mode!r}; valid: {', '.join(_CV2_MODES)}")
    dsize = (size, size) if isinstance(size, int) else size
    if (image.shape[1], image.shape[0]) == dsize:
        return image.copy()
    shrinking = dsize[0] < image.shape[1] and dsize[1] < image.shape[0]
    return cv2.resize(image, dsize, interpolation=cv2.INTER_AREA if shrinking else _CV2_MODES[mode])
