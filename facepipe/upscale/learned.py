"""Upscalers built on the RGB SR networks of `facepipe/upscale/sr/`: the face model trained here
(`upscaler=face_sr`) and krasserm's published EDSR / WDSR-B / SRGAN weights (`upscaler=edsr|wdsr|srgan`).

A network pass multiplies the side by its scale. Passes are chained towards `output_size`
(`chain: model`), or one pass is followed by bicubic (`chain: bicubic`); either way the last step to
the exact size is a resize. Large inputs run in overlapping tiles (`tile` px of input plus `overlap`
on each side, centres stitched), so memory is bounded by the tile, not the image; small ones in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facepipe import _tf
from facepipe.errors import ConfigError
from facepipe.models import keras2_h5
from facepipe.upscale.base import check_batch, resize
from facepipe.upscale.sr import build_network

__all__ = ["LearnedUpscaler", "build", "tiles"]

CHAINS = ("bicubic", "model")


def tiles(side: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Along one axis of `side` px: (read start, read stop, keep start, keep stop) per tile; the kept
    parts cover [0, side) exactly once, each read part adds up to `overlap` px of context per side."""
    out, start = [], 0
    while start < side:
        stop = min(start + tile, side)
        out.append((max(0, start - overlap), min(side, stop + overlap), start, stop))
        start = stop
    return out


@dataclass
class LearnedUpscaler:
    """`Upscaler` over an RGB SR network (uint8 [0, 255] in and out)."""

    network: Any
    scale: int
    size: int
    name: str
    chain: str = "bicubic"
    tile: int = 128
    overlap: int = 8
    batch_size: int = 16

    def __post_init__(self) -> None:
        tf = _tf.tensorflow()
        spec = [tf.TensorSpec([None, None, None, 3], tf.float32)]
        self._fn = tf.function(lambda x: self.network(x, training=False), input_signature=spec)

    def _run(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(self._fn(x.astype(np.float32)).numpy()), 0, 255).astype(np.uint8)

    def _pass(self, images: np.ndarray) -> np.ndarray:
        """One network pass over a batch `[N, h, w, 3]` -> `[N, h*s, w*s, 3]`."""
        n, h, w = images.shape[:3]
        if max(h, w) <= self.tile + 2 * self.overlap:
            return np.concatenate([self._run(images[i : i + self.batch_size]) for i in range(0, n, self.batch_size)])
        s = self.scale
        out = np.empty((n, h * s, w * s, 3), np.uint8)
        for y0, y1, ky0, ky1 in tiles(h, self.tile, self.overlap):
            for x0, x1, kx0, kx1 in tiles(w, self.tile, self.overlap):
                sr = np.concatenate(
                    [self._run(images[i : i + self.batch_size, y0:y1, x0:x1]) for i in range(0, n, self.batch_size)]
                )
                out[:, ky0 * s : ky1 * s, kx0 * s : kx1 * s] = sr[
                    :, (ky0 - y0) * s : (ky1 - y0) * s, (kx0 - x0) * s : (kx1 - x0) * s
                ]
        return out

    def upscale(self, images: np.ndarray) -> np.ndarray:
        images = check_batch(images)
        side = min(images.shape[1:3])
        while side < self.size:  # a pass that overshoots is shrunk back by area, sharper than bicubic alone
            images, side = self._pass(images), side * self.scale
            if self.chain == "bicubic":
                break
        return np.stack([resize(im, self.size, "bicubic") for im in images])


def build(cfg: Any, models: Any) -> LearnedUpscaler:
    """Factory for `conf/upscaler/{face_sr,edsr,wdsr,srgan}.yaml`: the network from `cfg.network`, its
    weights from `cfg.weights` (a registry name, or a file path relative to the project)."""
    from facepipe.io import project_path

    if cfg.chain not in CHAINS:
        raise ConfigError(f"upscaler.chain={cfg.chain!r}; valid: {', '.join(CHAINS)}")
    if not cfg.weights:
        raise ConfigError(
            f"upscaler {cfg.name!r} has no weights; valid: a registry name or a .h5 path in upscaler.weights"
        )
    arch = dict(cfg.network)
    scale = int(arch.get("scale", 4))
    network = build_network(arch.get("name"), scale, arch.get("filters"), arch.get("blocks"))
    path = models.path(cfg.weights) if cfg.weights in models.catalog else project_path(Path(cfg.weights))
    if not Path(path).is_file():
        raise ConfigError(
            f"upscaler.weights={cfg.weights!r} is neither a registry model nor an existing file; "
            "valid: e.g. models/sr/face_edsr_x4.weights.h5"
        )
    keras2_h5.load(network, path)
    return LearnedUpscaler(network, scale, cfg.output_size, cfg.name, cfg.chain, cfg.tile, batch_size=cfg.batch_size)
