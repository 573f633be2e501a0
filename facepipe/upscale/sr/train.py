"""Training an SR network on face crops: L1 loss, Adam with cosine decay, resumable.

Each step draws `batch_size` HR crops of `patch` px, half from each face set, at seeded random
positions with random flips and 90-degree turns (`numpy.random.default_rng((seed, epoch))`), and
makes their inputs by area downscaling, the same degradation the evaluation uses. One checkpoint per
epoch (network, optimizer, epoch); a rerun resumes where the last one stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from facepipe import _tf
from facepipe.training import resumable_adam

__all__ = ["sample_batch", "train"]


def sample_batch(
    sets: Sequence[np.ndarray], batch_size: int, patch: int, scale: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(LR `[B, p/s, p/s, 3]`, HR `[B, p, p, 3]`) float32 in [0, 255]: crops, flips, turns, area downscale."""
    hr = np.empty((batch_size, patch, patch, 3), np.uint8)
    for i in range(batch_size):
        images = sets[i % len(sets)]
        im = images[rng.integers(len(images))]
        y, x = rng.integers(im.shape[0] - patch + 1), rng.integers(im.shape[1] - patch + 1)
        crop = im[y : y + patch, x : x + patch]
        crop = np.rot90(crop, rng.integers(4))
        hr[i] = crop[:, ::-1] if rng.integers(2) else crop
    lr = np.stack([cv2.resize(h, (patch // scale, patch // scale), interpolation=cv2.INTER_AREA) for h in hr])
    return lr.astype(np.float32), hr.astype(np.float32)


def train(
    network,
    sets: Sequence[np.ndarray],
    checkpoint_dir: Path,
    scale: int,
    seed: int,
    epochs: int,
    steps_per_epoch: int,
    batch_size: int,
    patch: int,
    learning_rate: float,
    log: Callable[[str], None] = print,
):
    """Train (or resume) `network` (RGB [0, 255] in and out) for `epochs`; returns it."""
    tf = _tf.tensorflow()
    if patch % scale:
        raise ValueError(f"sr.patch={patch} is not a multiple of scale {scale}")
    optimizer, epoch, manager = resumable_adam(
        network, epochs * steps_per_epoch, learning_rate, 0.05, checkpoint_dir, log
    )

    @tf.function(reduce_retracing=True)
    def step(lr, hr):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(network(lr, training=True) - hr))
        grads = tape.gradient(loss, network.trainable_variables)
        optimizer.apply_gradients(zip(grads, network.trainable_variables))
        return loss

    while int(epoch.numpy()) < epochs:
        e = int(epoch.numpy())
        rng = np.random.default_rng((seed, e))
        total = 0.0
        for _ in range(steps_per_epoch):
            lr, hr = sample_batch(sets, batch_size, patch, scale, rng)
            total += float(step(tf.constant(lr), tf.constant(hr)))
        epoch.assign_add(1)
        manager.save()
        log(f"epoch {e + 1}/{epochs}: L1 {total / steps_per_epoch:.3f}")
    return network
