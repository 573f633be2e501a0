"""The SRGAN generator (SRResNet, Ledig et al., CVPR 2017): 9x9 head, residual blocks with batch norm
and PReLU, two x2 sub-pixel upsamplers, tanh output. krasserm/super-resolution's `model/srgan.py`
`sr_resnet` layout (its published `weights-srgan` generator); x4 only. RGB in [0, 255] both ends."""

from __future__ import annotations

from facepipe._tf import keras
from facepipe.upscale.sr.layers import Affine, Namer, PixelShuffle

__all__ = ["sr_resnet", "SCALES"]

SCALES = (4,)


def sr_resnet(scale: int = 4, num_filters: int = 64, num_res_blocks: int = 16):
    if scale not in SCALES:
        raise ValueError(f"SRGAN generator scale={scale}; valid: 4")
    L, name = keras().layers, Namer()

    def conv(x, filters, kernel=3, activation=None):
        return L.Conv2D(filters, kernel, padding="same", activation=activation, name=name("conv2d"))(x)

    def bn(x, momentum=0.8):
        return L.BatchNormalization(momentum=momentum, epsilon=1e-3, name=name("batch_normalization"))(x)

    def prelu(x):
        return L.PReLU(shared_axes=[1, 2], name=name("p_re_lu"))(x)

    x_in = keras().Input((None, None, 3))
    x = x1 = prelu(conv(Affine(0.0, 1 / 255)(x_in), num_filters, 9))
    for _ in range(num_res_blocks):
        r = bn(conv(prelu(bn(conv(x, num_filters))), num_filters))
        x = L.Add()([x, r])
    x = L.Add()([x1, bn(conv(x, num_filters), momentum=0.99)])
    for _ in range(2):
        x = prelu(PixelShuffle(2)(conv(x, num_filters * 4)))
    x = conv(x, 3, 9, "tanh")
    return keras().Model(x_in, Affine(-1.0, 127.5)(x), name="srgan")
