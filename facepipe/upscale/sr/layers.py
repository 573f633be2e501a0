"""The parameter-free pieces and the weight-normalised convolution the SR models share.

Layer *names* matter here: the published weight files (Keras 2 `save_weights`, HDF5) identify each
layer by the name a fresh Keras 2 session gave it (`conv2d`, `conv2d_1`, ...). `Namer` hands out the
same names in the same creation order, so our models match those files name for name.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from facepipe._tf import keras, tensorflow

__all__ = ["Namer", "Affine", "PixelShuffle", "WeightNormConv2D", "DIV2K_RGB_MEAN"]

DIV2K_RGB_MEAN = (np.array([0.4488, 0.4371, 0.4040]) * 255).tolist()  # EDSR/WDSR input centring (DIV2K)


class Namer:
    """Keras 2's automatic layer names: `<snake_case class>` then `_1`, `_2`, ... per class."""

    def __init__(self) -> None:
        self._count: defaultdict[str, int] = defaultdict(int)

    def __call__(self, kind: str) -> str:
        n = self._count[kind]
        self._count[kind] += 1
        return kind if n == 0 else f"{kind}_{n}"


class Affine(keras().layers.Layer):
    """`(x - offset) * scale`, per channel or scalar: the models' fixed input/output normalisation."""

    def __init__(self, offset: Any = 0.0, scale: float = 1.0, **kw: Any) -> None:
        super().__init__(**kw)
        self.offset, self.scale = offset, scale

    def call(self, x: Any) -> Any:
        return (x - tensorflow().constant(self.offset, x.dtype)) * self.scale

    def get_config(self) -> dict:
        return {**super().get_config(), "offset": self.offset, "scale": self.scale}


class PixelShuffle(keras().layers.Layer):
    """Sub-pixel convolution output: `[N, H, W, C*s*s]` -> `[N, H*s, W*s, C]` (depth-to-space)."""

    def __init__(self, factor: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.factor = factor

    def call(self, x: Any) -> Any:
        return tensorflow().nn.depth_to_space(x, self.factor)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class WeightNormConv2D(keras().layers.Layer):
    """Conv2D with weight normalisation (Salimans & Kingma 2016): kernel = g * v / ||v||, the norm
    over each output filter. Weights in TensorFlow Addons' `WeightNormalization(Conv2D)` order:
    `g`, `kernel` (v), `bias`, `initialized` (a flag the original sets after its first call)."""

    def __init__(self, filters: int, kernel_size: int, activation: Any = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.filters, self.kernel_size, self.activation = filters, kernel_size, keras().activations.get(activation)

    def build(self, shape: Any) -> None:
        k = self.kernel_size
        self.g = self.add_weight(name="g", shape=(self.filters,), initializer="ones")
        self.v = self.add_weight(name="kernel", shape=(k, k, shape[-1], self.filters), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.initialized = self.add_weight(
            name="initialized", shape=(), dtype="bool", initializer="zeros", trainable=False
        )

    def call(self, x: Any) -> Any:
        tf = tensorflow()
        kernel = tf.nn.l2_normalize(self.v, axis=[0, 1, 2]) * self.g
        return self.activation(tf.nn.conv2d(x, kernel, 1, "SAME") + self.bias)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "activation": keras().activations.serialize(self.activation),
        }
