"""WDSR-B (Yu et al. 2018): wide activation inside 1x1-linear-3x3 residual blocks, weight-normalised
convolutions, a 5x5 skip branch; both branches end in sub-pixel upsampling. krasserm/super-resolution's
`model/wdsr.py` layout (`wdsr_b(scale, num_res_blocks=32)` for its published `weights-wdsr-b-32-x4`)."""

from __future__ import annotations

from facepipe._tf import keras
from facepipe.upscale.sr.layers import DIV2K_RGB_MEAN, Affine, Namer, PixelShuffle, WeightNormConv2D

__all__ = ["wdsr_b", "SCALES"]

SCALES = (2, 3, 4)
LINEAR = 0.8  # the low-rank 1x1 layer's width, as a fraction of num_filters


def wdsr_b(
    scale: int,
    num_filters: int = 32,
    num_res_blocks: int = 8,
    res_block_expansion: int = 6,
    res_block_scaling: float | None = None,
):
    if scale not in SCALES:
        raise ValueError(f"WDSR scale={scale}; valid: {', '.join(map(str, SCALES))}")
    L, name = keras().layers, Namer()

    def conv(x, filters, kernel, activation=None):
        return WeightNormConv2D(filters, kernel, activation, name=name("weight_normalization"))(x)

    x_in = keras().Input((None, None, 3))
    x = Affine(DIV2K_RGB_MEAN, 1 / 127.5)(x_in)
    m = conv(x, num_filters, 3)
    for _ in range(num_res_blocks):
        r = conv(m, num_filters * res_block_expansion, 1, "relu")
        r = conv(conv(r, int(num_filters * LINEAR), 1), num_filters, 3)
        if res_block_scaling:
            r = Affine(0.0, res_block_scaling)(r)
        m = L.Add()([m, r])
    m = PixelShuffle(scale)(conv(m, 3 * scale**2, 3))
    s = PixelShuffle(scale)(conv(x, 3 * scale**2, 5))
    x = Affine([-c * 2 / 255 for c in DIV2K_RGB_MEAN], 127.5)(L.Add()([m, s]))
    return keras().Model(x_in, x, name="wdsr")
