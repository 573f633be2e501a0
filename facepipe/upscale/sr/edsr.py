"""EDSR (Lim et al., CVPR 2017 workshops): residual blocks without batch norm, a global skip and
sub-pixel upsampling; krasserm/super-resolution's `model/edsr.py` layout (its `weights-edsr-16-x4`
is `edsr(scale=4, num_res_blocks=16)`), inputs and outputs RGB in [0, 255]."""

from __future__ import annotations

from facepipe._tf import keras
from facepipe.upscale.sr.layers import DIV2K_RGB_MEAN, Affine, Namer, PixelShuffle

__all__ = ["edsr", "SCALES"]

SCALES = (2, 3, 4)


def edsr(scale: int, num_filters: int = 64, num_res_blocks: int = 8, res_block_scaling: float | None = None):
    if scale not in SCALES:
        raise ValueError(f"EDSR scale={scale}; valid: {', '.join(map(str, SCALES))}")
    L, name = keras().layers, Namer()

    def conv(x, filters, activation=None, layer_name=None):
        return L.Conv2D(filters, 3, padding="same", activation=activation, name=layer_name or name("conv2d"))(x)

    x_in = keras().Input((None, None, 3))
    x = b = conv(Affine(DIV2K_RGB_MEAN, 1 / 127.5)(x_in), num_filters)
    for _ in range(num_res_blocks):
        r = conv(conv(b, num_filters, "relu"), num_filters)
        if res_block_scaling:
            r = Affine(0.0, res_block_scaling)(r)
        b = L.Add()([b, r])
    x = L.Add()([x, conv(b, num_filters)])
    factors = {2: [2], 3: [3], 4: [2, 2]}[scale]
    for i, f in enumerate(factors, 1):
        x = PixelShuffle(f)(conv(x, num_filters * f * f, layer_name=f"conv2d_{i}_scale_{f}"))
    x = conv(x, 3)
    x = Affine([-m * 2 / 255 for m in DIV2K_RGB_MEAN], 127.5)(x)  # x * 127.5 + mean
    return keras().Model(x_in, x, name="edsr")
