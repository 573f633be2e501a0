"""The discriminator the generators here are trained against: a residual network with a projection
head for the condition (Miyato and Koyama's projection discriminator), StyleGAN2's minibatch
standard-deviation feature, and equalised learning rates. Used only in training."""

from __future__ import annotations

import math
from typing import Any

from facepipe._tf import keras, tensorflow
from facepipe.generate.layers import EqConv, EqDense, downsample2

__all__ = ["build_discriminator", "DEFAULT_CHANNELS"]

DEFAULT_CHANNELS = {256: 8, 128: 16, 64: 32, 32: 64, 16: 128, 8: 256, 4: 256}


class _Block(keras().layers.Layer):
    """A 3x3 conv, 2x average pooling, a 3x3 conv widening to `cout`; a pooled 1x1 skip; the sum
    scaled by 1/sqrt(2). The widening conv runs at the lower resolution to keep large inputs cheap."""

    def __init__(self, cin: int, cout: int, **kw):
        super().__init__(**kw)
        self.conv0 = EqConv(cin, name="conv0")
        self.conv1 = EqConv(cout, name="conv1")
        self.skip = EqConv(cout, kernel=1, activate=False, use_bias=False, name="skip")

    def call(self, x):
        y = self.conv1(downsample2(self.conv0(x)))
        return (y + self.skip(downsample2(x))) / math.sqrt(2.0)


class ProjectionDiscriminator(keras().Model):
    """`(images [N, R, R, 3] in [-1, 1], c [N, COND_DIM]) -> logits [N]`."""

    def __init__(self, resolution: int, channels: dict[int, int], mbstd_group: int = 4, **kw):
        super().__init__(**kw)
        self.mbstd_group = mbstd_group
        self.from_rgb = EqConv(channels[resolution], kernel=1, name="from_rgb")
        self.blocks = []
        res = resolution
        while res > 4:
            self.blocks.append(_Block(channels[res], channels[res // 2], name=f"b{res}"))
            res //= 2
        self.conv = EqConv(channels[4], name="b4_conv")
        self.fc = EqDense(channels[4], activate=True, name="b4_fc")
        self.out = EqDense(1, name="out")
        self.embed = EqDense(channels[4], name="cond_embed")

    def _mbstd(self, x: Any) -> Any:
        tf = tensorflow()
        n, h, w, c = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2], x.shape[-1]
        g = tf.minimum(self.mbstd_group, n)
        y = tf.reshape(x, [g, -1, h, w, c])
        y = tf.sqrt(tf.reduce_mean(tf.square(y - tf.reduce_mean(y, axis=0)), axis=0) + 1e-8)
        y = tf.reduce_mean(y, axis=[1, 2, 3])  # [N/g]
        y = tf.tile(tf.reshape(y, [-1, 1, 1, 1]), [g, h, w, 1])
        return tf.concat([x, y], axis=3)

    def call(self, inputs):
        tf = tensorflow()
        img, c = inputs
        x = self.from_rgb(img)
        for block in self.blocks:
            x = block(x)
        x = self.conv(self._mbstd(x))
        h = self.fc(tf.reshape(x, [tf.shape(x)[0], -1]))
        return tf.squeeze(self.out(h), 1) + tf.reduce_sum(self.embed(c) * h, axis=1) / math.sqrt(h.shape[-1])


def build_discriminator(
    resolution: int = 128, cond_dim: int = 8, channels: dict[int, int] | None = None, mbstd_group: int = 4
) -> ProjectionDiscriminator:
    """The discriminator for R px images, its weights built. The batch must be a multiple of `mbstd_group`."""
    tf = tensorflow()
    d = ProjectionDiscriminator(
        resolution,
        dict(DEFAULT_CHANNELS if channels is None else channels),
        mbstd_group,
        name=f"projection_d_{resolution}",
    )
    d((tf.zeros((mbstd_group, resolution, resolution, 3)), tf.zeros((mbstd_group, cond_dim))))
    return d
