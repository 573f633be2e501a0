"""What the project's training loops share: Adam on a cosine schedule, and per-epoch checkpoints of
network, optimizer state and epoch counter together, so an interrupted run resumes where it stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from facepipe import _tf

__all__ = ["resumable_adam"]


def resumable_adam(
    network: Any,
    total_steps: int,
    learning_rate: float,
    final_fraction: float,
    checkpoint_dir: Path,
    log: Callable[[str], None] = print,
) -> tuple[Any, Any, Any]:
    """(optimizer, epoch variable, checkpoint manager) for `network`, restored from the latest
    checkpoint in `checkpoint_dir` if there is one. Call `epoch.assign_add(1); manager.save()` after
    each epoch. The learning rate decays from `learning_rate` to `final_fraction` of it."""
    tf, keras = _tf.tensorflow(), _tf.keras()
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=final_fraction)
    optimizer = keras.optimizers.Adam(schedule)
    epoch = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(network=network, optimizer=optimizer, epoch=epoch)
    manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        log(f"resumed from {manager.latest_checkpoint} (epoch {int(epoch.numpy())})")
    return optimizer, epoch, manager
