"""`stylegan_lite`: a small conditional StyleGAN2-style generator network, trained here on UTKFace.

A mapping network turns the latent z and the condition (age, gender, ethnicity) into a style w; a
learned 4x4 constant is refined by modulated 3x3 convolutions at 8, 16, ... R px, and each resolution's
RGB is added to the upsampled RGB of the one below (StyleGAN2's skip generator). There are no noise
inputs, so a face is a deterministic function of (z, condition). Channel widths are small enough that
2 CPU cores render dozens of 128 px faces a second.
"""

from __future__ import annotations

from typing import Any

from facepipe._tf import keras, tensorflow
from facepipe.generate.conditions import COND_DIM
from facepipe.generate.layers import EqDense, ModConv, ToRGB, check_resolution, upsample2

__all__ = ["build_network", "StyleGANLite", "DEFAULT_CHANNELS"]

DEFAULT_CHANNELS = {4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8}


class _Const(keras().layers.Layer):
    """The learned 4x4 input, repeated over the batch."""

    def __init__(self, channels: int, **kw):
        super().__init__(**kw)
        self.channels = channels

    def build(self, input_shape):
        self.const = self.add_weight(name="const", shape=(1, 4, 4, self.channels), initializer="zeros")
        self.normal_init = [(self.const, 1.0)]

    def call(self, w):
        tf = tensorflow()
        return tf.tile(self.const, [tf.shape(w)[0], 1, 1, 1])


def _normalise(x: Any) -> Any:
    tf = tensorflow()
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=1, keepdims=True) + 1e-8)


class StyleGANLite(keras().Model):
    """`(z [N, z_dim], c [N, COND_DIM]) -> images [N, R, R, 3]` float32, about [-1, 1]."""

    def __init__(self, resolution: int, z_dim: int, w_dim: int, map_layers: int, channels: dict[int, int], **kw):
        super().__init__(**kw)
        self.resolution, self.z_dim, self.w_dim = resolution, z_dim, w_dim
        self.cond_embed = EqDense(w_dim, name="cond_embed")
        self.mapping = [EqDense(w_dim, lr_mul=0.01, activate=True, name=f"map{i}") for i in range(map_layers)]
        self.const = _Const(channels[4], name="const")
        self.convs = [ModConv(channels[4], name="b4_conv")]
        self.rgbs = [ToRGB(name="b4_rgb")]
        res = 8
        while res <= resolution:
            self.convs += [ModConv(channels[res], name=f"b{res}_conv0"), ModConv(channels[res], name=f"b{res}_conv1")]
            self.rgbs.append(ToRGB(name=f"b{res}_rgb"))
            res *= 2

    def map(self, z: Any, c: Any) -> Any:
        """Styles `[N, w_dim]` for latents `[N, z_dim]` and conditions `[N, COND_DIM]`."""
        x = tensorflow().concat([_normalise(z), _normalise(self.cond_embed(c))], axis=1)
        for layer in self.mapping:
            x = layer(x)
        return x

    def synthesize(self, w: Any) -> Any:
        """Images `[N, R, R, 3]` from styles `[N, w_dim]`."""
        x = self.convs[0]([self.const(w), w])
        rgb = self.rgbs[0]([x, w])
        for i, to_rgb in enumerate(self.rgbs[1:]):
            x = upsample2(x)
            x = self.convs[1 + 2 * i]([x, w])
            x = self.convs[2 + 2 * i]([x, w])
            rgb = upsample2(rgb) + to_rgb([x, w])
        return rgb

    def call(self, inputs):
        z, c = inputs
        return self.synthesize(self.map(z, c))


def build_network(
    resolution: int = 128,
    z_dim: int = 128,
    w_dim: int = 256,
    map_layers: int = 4,
    channels: dict[int, int] | None = None,
) -> StyleGANLite:
    """The generator network, its weights built.

    Args:
        resolution: R, a power of two from 8 to 256.
        z_dim: latent length.
        w_dim: style length (mapping network width).
        map_layers: mapping network depth.
        channels: feature maps per resolution (default `DEFAULT_CHANNELS`).

    Raises:
        ValueError: `resolution` is not a power of two in 8..256.
    """
    check_resolution(resolution)
    tf = tensorflow()
    model = StyleGANLite(
        resolution,
        z_dim,
        w_dim,
        map_layers,
        dict(DEFAULT_CHANNELS if channels is None else channels),
        name=f"stylegan_lite_{resolution}",
    )
    model((tf.zeros((1, z_dim)), tf.zeros((1, COND_DIM))))
    return model
