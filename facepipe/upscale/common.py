"""Keras building blocks shared by the learned upscalers."""

from __future__ import annotations

from typing import Any

from facepipe._tf import keras, tensorflow

__all__ = ["pixel_shuffle", "bias_add"]


def pixel_shuffle(x: Any, scale: int, name: str) -> Any:
    """Depth-to-space: `[N, H, W, C*s*s]` -> `[N, H*s, W*s, C]` (sub-pixel convolution output)."""
    tf = tensorflow()
    return keras().layers.Lambda(lambda t: tf.nn.depth_to_space(t, scale), name=name)(x)


class _BiasAdd(keras().layers.Layer):
    """A learnable per-channel bias on its own (for graphs that add the bias after a reshuffle)."""

    def build(self, input_shape: Any) -> None:
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, x: Any) -> Any:
        return x + self.bias


def bias_add(x: Any, name: str) -> Any:
    """Apply a `_BiasAdd` layer called `name`."""
    return _BiasAdd(name=name)(x)
