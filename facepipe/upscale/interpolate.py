"""Plain interpolation upscalers (OpenCV): `bilinear`, `bicubic`, `lanczos`.

One backend with three options, because they differ only in the kernel; each has its own YAML in
`conf/upscaler/` whose `_target_` is this module's `build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facepipe.upscale.base import check_batch, resize

__all__ = ["Interpolator", "build"]


@dataclass(frozen=True)
class Interpolator:
    """`Upscaler` that resizes with an OpenCV kernel named by `name`."""

    name: str
    size: int

    def upscale(self, images: np.ndarray) -> np.ndarray:
        images = check_batch(images)
        return np.stack([resize(im, self.size, self.name) for im in images])


def build(cfg: Any, models: Any = None) -> Interpolator:
    """Factory for `conf/upscaler/{bilinear,bicubic,lanczos}.yaml` (the option name is the kernel)."""
    resize(np.zeros((1, 1, 3), np.uint8), 2, cfg.name)  # validates the kernel name up front
    return Interpolator(name=cfg.name, size=cfg.output_size)
