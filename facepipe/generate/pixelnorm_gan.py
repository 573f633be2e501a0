"""`pixelnorm_gan`: a conditional ProGAN-style generator network (without progressive growing).

The latent z and the embedded condition are concatenated and projected to a 4x4 map; each resolution
upsamples and applies two 3x3 convolutions, each followed by pixel-wise feature normalisation; a
1x1 convolution gives RGB at the output size only. It is the plain baseline the style-modulated
`stylegan_lite` is compared against, at the same channel widths.
"""

from __future__ import annotations

from typing import Any

from facepipe._tf import keras, tensorflow
from facepipe.generate.conditions import COND_DIM
from facepipe.generate.layers import EqConv, EqDense, check_resolution, upsample2
from facepipe.generate.stylegan_lite import DEFAULT_CHANNELS

__all__ = ["build_network", "PixelNormGAN"]


def _pixel_norm(x: Any) -> Any:
    tf = tensorflow()
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + 1e-8)


class PixelNormGAN(keras().Model):
    """`(z [N, z_dim], c [N, COND_DIM]) -> images [N, R, R, 3]` float32, about [-1, 1]."""

    def __init__(self, resolution: int, z_dim: int, channels: dict[int, int], **kw):
        super().__init__(**kw)
        self.resolution, self.z_dim = resolution, z_dim
        self.cond_embed = EqDense(z_dim, name="cond_embed")
        self.c4 = channels[4]
        self.fc = EqDense(16 * channels[4], activate=True, name="fc")
        self.convs = [EqConv(channels[4], name="b4_conv")]
        res = 8
        while res <= resolution:
            self.convs += [EqConv(channels[res], name=f"b{res}_conv0"), EqConv(channels[res], name=f"b{res}_conv1")]
            res *= 2
        self.to_rgb = EqConv(3, kernel=1, activate=False, name="to_rgb")

    def call(self, inputs):
        tf = tensorflow()
        z, c = inputs
        x = tf.concat([_pixel_norm(z), _pixel_norm(self.cond_embed(c))], axis=1)
        x = _pixel_norm(tf.reshape(self.fc(x), [-1, 4, 4, self.c4]))
        x = _pixel_norm(self.convs[0](x))
        for i in range(1, len(self.convs), 2):
            x = upsample2(x)
            x = _pixel_norm(self.convs[i](x))
            x = _pixel_norm(self.convs[i + 1](x))
        return self.to_rgb(x)


def build_network(resolution: int = 128, z_dim: int = 128, channels: dict[int, int] | None = None) -> PixelNormGAN:
    """The generator network, its weights built (as zeros; `layers.initialize` draws them).

    Raises:
        ValueError: `resolution` is not a power of two in 8..256.
    """
    check_resolution(resolution)
    tf = tensorflow()
    model = PixelNormGAN(
        resolution, z_dim, dict(DEFAULT_CHANNELS if channels is None else channels), name=f"pixelnorm_gan_{resolution}"
    )
    model((tf.zeros((1, z_dim)), tf.zeros((1, COND_DIM))))
    return model
