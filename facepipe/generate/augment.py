"""Differentiable augmentation for GAN training on small data (Zhao et al.'s DiffAugment): random
colour, translation and cutout, applied alike to real and generated images before the discriminator
sees them, so it cannot memorise the training set and the generator still learns un-augmented faces.

Randomness is stateless: every draw is keyed by a `[2]` int32 seed, so a training step's
augmentation is a function of its step number and a resumed run repeats it exactly.
"""

from __future__ import annotations

from typing import Any

from facepipe._tf import tensorflow

__all__ = ["diff_augment", "POLICIES"]

POLICIES = ("color", "translation", "cutout")


def _uniform(seed: Any, k: int, shape: Any, lo: float = 0.0, hi: float = 1.0) -> Any:
    tf = tensorflow()
    return tf.random.stateless_uniform(shape, seed=seed + tf.constant([0, 7919], tf.int32) * k, minval=lo, maxval=hi)


def _color(x: Any, seed: Any) -> Any:
    tf = tensorflow()
    n = tf.shape(x)[0]
    x = x + (_uniform(seed, 1, [n, 1, 1, 1]) - 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * _uniform(seed, 2, [n, 1, 1, 1], 0.0, 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * _uniform(seed, 3, [n, 1, 1, 1], 0.5, 1.5) + mean


def _shift_indices(size: Any, shift: Any) -> Any:
    """Gather indices `[N, size]` of a shift by `shift` `[N]` pixels, -1 where the source is outside."""
    tf = tensorflow()
    src = tf.range(size)[None, :] - shift[:, None]
    return tf.where((src >= 0) & (src < size), src, -1)


def _translation(x: Any, seed: Any, ratio: float = 0.125) -> Any:
    tf = tensorflow()
    n, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    limit = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    dy = tf.random.stateless_uniform([n], seed=seed + 4, minval=-limit, maxval=limit + 1, dtype=tf.int32)
    dx = tf.random.stateless_uniform([n], seed=seed + 5, minval=-limit, maxval=limit + 1, dtype=tf.int32)
    padded = tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]])  # index -1 reads the zero row/column
    rows = tf.where(_shift_indices(h, dy) < 0, h, _shift_indices(h, dy))
    cols = tf.where(_shift_indices(w, dx) < 0, w, _shift_indices(w, dx))
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def _cutout(x: Any, seed: Any, ratio: float = 0.5) -> Any:
    tf = tensorflow()
    n, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    ch, cw = (
        tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32),
        tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32),
    )
    cy = tf.random.stateless_uniform([n], seed=seed + 6, minval=0, maxval=h + 1 - ch % 2, dtype=tf.int32)
    cx = tf.random.stateless_uniform([n], seed=seed + 7, minval=0, maxval=w + 1 - cw % 2, dtype=tf.int32)
    ys = tf.range(h)[None, :] - (cy[:, None] - ch // 2)
    xs = tf.range(w)[None, :] - (cx[:, None] - cw // 2)
    inside_y = (ys >= 0) & (ys < ch)
    inside_x = (xs >= 0) & (xs < cw)
    keep = 1.0 - tf.cast(inside_y[:, :, None] & inside_x[:, None, :], x.dtype)
    return x * keep[:, :, :, None]


def diff_augment(x: Any, seed: Any, policy: tuple[str, ...] = POLICIES) -> Any:
    """Augment images `[N, H, W, 3]` in [-1, 1] (any float) with the listed transforms, in order.

    Args:
        x: image batch.
        seed: `[2]` int32 tensor keying every random draw.
        policy: a subset of `POLICIES`.

    Raises:
        ValueError: an unknown policy name.
    """
    unknown = sorted(set(policy) - set(POLICIES))
    if unknown:
        raise ValueError(f"augment policy {unknown}; valid: {', '.join(POLICIES)}")
    seed = tensorflow().cast(seed, tensorflow().int32)
    if "color" in policy:
        x = _color(x, seed)
    if "translation" in policy:
        x = _translation(x, seed)
    if "cutout" in policy:
        x = _cutout(x, seed)
    return x
