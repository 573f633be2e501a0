"""Keras layers shared by the generators trained here: equalised-learning-rate dense and conv
layers and StyleGAN2's modulated convolution (the condition encoding is `generate.conditions`).

Every weight is drawn from N(0, 1) and scaled at run time by `gain / sqrt(fan_in)` (Karras et al.'s
equalised learning rate), so one Adam learning rate suits every layer. All layers are batch
independent: a face depends on its own latent and condition only, whatever else is in the batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from facepipe._tf import keras, tensorflow

__all__ = [
    "check_resolution",
    "initialize",
    "EqDense",
    "EqConv",
    "ModConv",
    "ToRGB",
    "upsample2",
    "downsample2",
    "lrelu",
]

_SQRT2 = math.sqrt(2.0)


def check_resolution(resolution: int) -> None:
    """Refuse a resolution the networks cannot be built at.

    Raises:
        ValueError: `resolution` is not a power of two from 8 to 256.
    """
    if resolution not in (8, 16, 32, 64, 128, 256):
        raise ValueError(f"resolution={resolution}; supported: 8, 16, 32, 64, 128, 256")


def initialize(model: Any, rng: np.random.Generator) -> None:
    """Draw every equalised-learning-rate weight of `model` from N(0, std^2), in layer order, from `rng`.

    Layers create their weights as zeros (TensorFlow's deterministic mode refuses unseeded random
    initialisers) and list what to draw in `normal_init`; this fills them reproducibly.
    """
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for variable, std in getattr(layer, "normal_init", ()):
            variable.assign(rng.standard_normal(tuple(variable.shape)).astype(np.float32) * std)


def lrelu(x: Any) -> Any:
    """Leaky ReLU (slope 0.2) scaled by sqrt(2) to keep unit variance."""
    tf = tensorflow()
    return tf.nn.leaky_relu(x, 0.2) * _SQRT2


def upsample2(x: Any) -> Any:
    """`[N, H, W, C]` -> `[N, 2H, 2W, C]`, bilinear."""
    tf = tensorflow()
    shape = tf.shape(x)
    return tf.image.resize(x, (shape[1] * 2, shape[2] * 2), method="bilinear")


def downsample2(x: Any) -> Any:
    """`[N, H, W, C]` -> `[N, H/2, W/2, C]`, 2x2 average."""
    return tensorflow().nn.avg_pool2d(x, 2, 2, "VALID")


def _layer_base() -> type:
    return keras().layers.Layer


class EqDense(_layer_base()):
    """Dense layer with equalised learning rate and an optional learning-rate multiplier."""

    def __init__(self, units: int, lr_mul: float = 1.0, bias_init: float = 0.0, activate: bool = False, **kw):
        super().__init__(**kw)
        self.units, self.lr_mul, self.bias_init, self.activate = units, lr_mul, bias_init, activate

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.lr_mul / math.sqrt(fan_in)
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units), initializer="zeros")
        self.normal_init = [(self.kernel, 1.0 / self.lr_mul)]
        self.bias = self.add_weight(
            name="bias", shape=(self.units,), initializer=keras().initializers.Constant(self.bias_init / self.lr_mul)
        )

    def call(self, x):
        y = tensorflow().matmul(x, self.kernel * self.scale) + self.bias * self.lr_mul
        return lrelu(y) if self.activate else y


class EqConv(_layer_base()):
    """k x k convolution (SAME padding) with equalised learning rate; optional leaky ReLU."""

    def __init__(self, filters: int, kernel: int = 3, activate: bool = True, use_bias: bool = True, **kw):
        super().__init__(**kw)
        self.filters, self.ksize, self.activate, self.use_bias = filters, kernel, activate, use_bias

    def build(self, input_shape):
        cin = int(input_shape[-1])
        self.scale = 1.0 / math.sqrt(cin * self.ksize * self.ksize)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.ksize, self.ksize, cin, self.filters), initializer="zeros"
        )
        self.normal_init = [(self.kernel, 1.0)]
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):
        tf = tensorflow()
        y = tf.nn.conv2d(x, self.kernel * self.scale, 1, "SAME")
        if self.use_bias:
            y = y + self.bias
        return lrelu(y) if self.activate else y


class ModConv(_layer_base()):
    """StyleGAN2's modulated 3x3 convolution with demodulation, written batch-independently:
    scale the input channels by the style, convolve with the shared kernel, then divide each output
    channel by the norm its per-sample kernel would have. Inputs: `(x [N, H, W, Cin], w [N, W_DIM])`."""

    def __init__(self, filters: int, kernel: int = 3, demodulate: bool = True, activate: bool = True, **kw):
        super().__init__(**kw)
        self.filters, self.ksize, self.demodulate, self.activate = filters, kernel, demodulate, activate

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        cin = int(x_shape[-1])
        self.cin = cin
        self.scale = 1.0 / math.sqrt(cin * self.ksize * self.ksize)
        self.affine = EqDense(cin, bias_init=1.0, name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.ksize, self.ksize, cin, self.filters), initializer="zeros"
        )
        self.normal_init = [(self.kernel, 1.0)]
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, inputs):
        tf = tensorflow()
        x, w = inputs
        style = self.affine(w)  # [N, Cin]
        kernel = self.kernel * self.scale
        y = tf.nn.conv2d(x * style[:, None, None, :], kernel, 1, "SAME")
        if self.demodulate:
            power = tf.matmul(tf.square(style), tf.reduce_sum(tf.square(kernel), axis=(0, 1)))  # [N, Cout]
            y = y * tf.math.rsqrt(power + 1e-8)[:, None, None, :]
        y = y + self.bias
        return lrelu(y) if self.activate else y


class ToRGB(ModConv):
    """1x1 modulated convolution to RGB, without demodulation or activation."""

    def __init__(self, **kw):
        super().__init__(3, kernel=1, demodulate=False, activate=False, **kw)
