"""Training a conditional face GAN on CPU or GPU: non-saturating loss, lazy R1 penalty, DiffAugment,
an exponential moving average (EMA) of the generator for sampling, and checkpoints that resume exactly.

Everything random is a function of (seed, step): the batch order comes from a per-epoch permutation,
latents and augmentation from per-step seeds. A run stopped at any checkpoint and resumed repeats the
same steps it would have taken. The loop knows nothing of files beyond its checkpoint folder; the stage
(`stages/train_generator.py`) supplies the data, the logging callbacks and the export.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from facepipe._tf import keras, tensorflow
from facepipe.config import GanConf
from facepipe.generate import networks
from facepipe.generate.augment import diff_augment
from facepipe.generate.conditions import COND_DIM
from facepipe.generate.layers import initialize

__all__ = ["GanTrainer"]


def _weight_list(model: Any) -> Any:
    """A trackable holding every weight of `model`, in `model.weights` order."""
    bag = tensorflow().Module()
    bag.weights = list(model.weights)
    return bag


class GanTrainer:
    """Networks, optimisers and the step counter of one run, restored from `checkpoint_dir` if it
    holds a checkpoint.

    Args:
        settings: the run's hyper-parameters.
        checkpoint_dir: where checkpoints go (outside the work tree for long runs).
        log: progress messages.
    """

    def __init__(self, settings: GanConf, checkpoint_dir: str | Path, log: Callable[[str], None] = print):
        tf, k = tensorflow(), keras()
        s = self.settings = settings
        if s.batch_size % s.mbstd_group:
            raise ValueError(f"batch_size={s.batch_size} must be a multiple of mbstd_group={s.mbstd_group}")
        self.G = networks.generator(s.architecture, s.resolution, s.z_dim, s.g_channels)
        self.G_ema = networks.generator(s.architecture, s.resolution, s.z_dim, s.g_channels)
        self.D = networks.discriminator(s.resolution, COND_DIM, s.d_channels, s.mbstd_group)
        rng = np.random.default_rng(np.random.SeedSequence([s.seed, 9]))
        initialize(self.G, rng)
        initialize(self.D, rng)
        for dst, src in zip(self.G_ema.weights, self.G.weights):
            dst.assign(src)
        adam = dict(beta_1=s.betas[0], beta_2=s.betas[1], epsilon=1e-8)
        self.opt_g = k.optimizers.Adam(s.lr, **adam)
        c = s.r1_interval / (s.r1_interval + 1)  # lazy regularisation's correction (StyleGAN2, appendix B)
        self.opt_d = k.optimizers.Adam(s.lr * c, beta_1=s.betas[0] ** c, beta_2=s.betas[1] ** c, epsilon=1e-8)
        self.opt_g.build(self.G.trainable_variables)
        self.opt_d.build(self.D.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        # Each network's weights as one tracked list: TensorFlow's checkpoint does not follow Keras 3 layers
        # kept in Python lists, and would keep only the ones an optimiser also holds (not the EMA's).
        self.checkpoint = tf.train.Checkpoint(
            G=_weight_list(self.G),
            G_ema=_weight_list(self.G_ema),
            D=_weight_list(self.D),
            opt_g=self.opt_g,
            opt_d=self.opt_d,
            step=self.step,
        )
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(checkpoint_dir), max_to_keep=2)
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
            log(f"resumed from {self.manager.latest_checkpoint} (step {int(self.step.numpy())})")
        self._train_step = tf.function(self._step_fn, reduce_retracing=True)

    # -- one step ------------------------------------------------------------------------------------

    def _augment(self, x: Any, seed: Any) -> Any:
        return diff_augment(x, seed, tuple(self.settings.augment)) if self.settings.augment else x

    def _step_fn(self, real: Any, c_real: Any, z: Any, c_fake: Any, seed: Any, r1: Any) -> dict:
        tf, s = tensorflow(), self.settings
        G, D = self.G, self.D
        with tf.GradientTape() as tape:
            fake = G((z, c_fake), training=True)
            loss_g = tf.reduce_mean(tf.nn.softplus(-D((self._augment(fake, seed), c_fake), training=True)))
        self.opt_g.apply_gradients(zip(tape.gradient(loss_g, G.trainable_variables), G.trainable_variables))

        fake = tf.stop_gradient(G((z, c_fake), training=True))
        with tf.GradientTape() as tape:
            real_aug = self._augment(real, seed + 1)
            logits_fake = D((self._augment(fake, seed + 2), c_fake), training=True)
            if r1:
                with tf.GradientTape() as inner:
                    inner.watch(real_aug)
                    logits_real = D((real_aug, c_real), training=True)
                    real_sum = tf.reduce_sum(logits_real)
                grad = inner.gradient(real_sum, real_aug)
                penalty = tf.reduce_mean(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))
            else:
                logits_real = D((real_aug, c_real), training=True)
                penalty = tf.constant(0.0)
            loss_d = tf.reduce_mean(tf.nn.softplus(logits_fake)) + tf.reduce_mean(tf.nn.softplus(-logits_real))
            total_d = loss_d + penalty * (s.r1_gamma / 2 * s.r1_interval)
        self.opt_d.apply_gradients(zip(tape.gradient(total_d, D.trainable_variables), D.trainable_variables))
        return {
            "loss_g": loss_g,
            "loss_d": loss_d,
            "r1": penalty,
            "real_score": tf.reduce_mean(logits_real),
            "fake_score": tf.reduce_mean(logits_fake),
        }

    def _update_ema(self) -> None:
        s = self.settings
        images = float(self.step.numpy()) * s.batch_size
        half_life = min(s.ema_kimg * 1000, images * s.ema_rampup) if s.ema_rampup else s.ema_kimg * 1000
        beta = 0.5 ** (s.batch_size / max(half_life, 1e-8))
        for e, g in zip(self.G_ema.weights, self.G.weights):
            e.assign(g + (e - g) * beta)

    # -- the loop ------------------------------------------------------------------------------------

    def _batch(self, step: int, images: np.ndarray, conds: np.ndarray) -> tuple[np.ndarray, ...]:
        """Step `step`'s real batch (flipped at random), latents and fake conditions, from (seed, step)."""
        s = self.settings
        per_epoch = len(images) // s.batch_size
        epoch, i = divmod(step, per_epoch)
        order = np.random.default_rng(np.random.SeedSequence([s.seed, 1, epoch])).permutation(len(images))
        index = np.sort(order[i * s.batch_size : (i + 1) * s.batch_size])
        rng = np.random.default_rng(np.random.SeedSequence([s.seed, 2, step]))
        real = images[index].astype(np.float32) / 127.5 - 1.0
        flip = rng.random(s.batch_size) < 0.5
        real[flip] = real[flip, :, ::-1]
        z = rng.standard_normal((s.batch_size, s.z_dim)).astype(np.float32)
        c_fake = conds[rng.integers(0, len(conds), s.batch_size)]
        return real, conds[index], z, c_fake

    def train(
        self,
        images: np.ndarray,
        conds: np.ndarray,
        until_step: int,
        deadline: float = float("inf"),
        checkpoint_seconds: float = 300.0,
        on_log: Optional[Callable[[int, dict], None]] = None,
        on_checkpoint: Optional[Callable[[int], None]] = None,
        log_every: int = 50,
    ) -> int:
        """Train until `until_step` or the wall-clock `deadline` (time.time()), checkpointing every
        `checkpoint_seconds` and at the end. Returns the step reached.

        Args:
            images: training faces `[N, R, R, 3]` uint8.
            conds: their conditions `[N, COND_DIM]` float32 (`conditions.encode_conditions`).
        """
        tf, s = tensorflow(), self.settings
        if images.shape[1:] != (s.resolution, s.resolution, 3) or len(conds) != len(images):
            raise ValueError(
                f"images must be [N, {s.resolution}, {s.resolution}, 3] with N conditions; "
                f"got {images.shape} and {conds.shape}"
            )
        last_save, sums, r1_steps, t0 = time.time(), {}, 0, time.time()
        step = int(self.step.numpy())
        while step < until_step and time.time() < deadline:
            real, c_real, z, c_fake = self._batch(step, images, conds)
            r1 = step % s.r1_interval == 0
            out = self._train_step(
                tf.constant(real),
                tf.constant(c_real),
                tf.constant(z),
                tf.constant(c_fake),
                tf.constant([s.seed, step], tf.int32),
                r1,
            )
            r1_steps += r1
            self.step.assign_add(1)
            step += 1
            self._update_ema()
            for key, value in out.items():
                sums[key] = sums.get(key, 0.0) + float(value)
            if step % log_every == 0:
                metrics = {k: v / log_every for k, v in sums.items()}
                metrics["r1"] = sums["r1"] / max(1, r1_steps)  # the penalty is computed on r1 steps only
                metrics["images_per_s"] = log_every * s.batch_size / (time.time() - t0)
                sums, r1_steps, t0 = {}, 0, time.time()
                if on_log:
                    on_log(step, metrics)
            if time.time() - last_save > checkpoint_seconds:
                self.save(on_checkpoint)
                last_save = time.time()
        self.save(on_checkpoint)
        return step

    def save(self, on_checkpoint: Optional[Callable[[int], None]] = None) -> None:
        self.manager.save(checkpoint_number=int(self.step.numpy()))
        if on_checkpoint:
            on_checkpoint(int(self.step.numpy()))

    def sample(self, z: np.ndarray, conds: np.ndarray, ema: bool = True, batch: int = 32) -> np.ndarray:
        """Faces `[N, R, R, 3]` float32 in about [-1, 1] from the EMA (or raw) generator."""
        g = self.G_ema if ema else self.G
        parts = [g((z[i : i + batch], conds[i : i + batch]), training=False).numpy() for i in range(0, len(z), batch)]
        return np.concatenate(parts)
