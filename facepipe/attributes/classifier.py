"""The attribute classifier: a small CNN scoring every output in `vocabulary.OUTPUTS` from a 64x64 face.

Two are trained (house rule: no figure graded by the model that produced it): the *guide* steers
edits, the *evaluator* grades them. They differ in seed, data split and width. Training is
multi-task over CelebA and UTKFace at once with NaN-masked losses: class-balanced binary
cross-entropy for the 40 CelebA attributes (+ UTKFace gender as `Male`), Huber loss on age / 100,
cross-entropy over the 5 races. It checkpoints every epoch and resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from facepipe import _tf
from facepipe.attributes.vocabulary import AGE, CELEBA, OUTPUTS, RACES
from facepipe.data.faces64 import SIDE, FaceSet
from facepipe.errors import CheckpointMismatch
from facepipe.training import resumable_adam

__all__ = ["build_network", "AttributeClassifier", "train", "BINARY", "AGE_INDEX", "RACE_SLICE"]

BINARY = len(CELEBA)  # outputs [0, BINARY) are binary attributes
AGE_INDEX = OUTPUTS.index(AGE)
RACE_SLICE = slice(AGE_INDEX + 1, AGE_INDEX + 1 + len(RACES))
AGE_SCALE = 100.0


def build_network(width: int = 32, seed: int = 0):
    """Conv(3x3)-BN-ReLU pairs at 64, 32, 16 and 8 px with `width`, 2x, 4x, 8x channels, global
    average pooling, dropout, one linear layer to all outputs (logits, age / 100, race logits)."""
    keras = _tf.keras()
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    x = inputs = keras.Input((SIDE, SIDE, 3), name="face")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(x)
    for level, convs in enumerate((1, 2, 2, 2)):
        for i in range(convs):
            x = layers.Conv2D(width << level, 3, padding="same", use_bias=False, name=f"conv{level}_{i}")(x)
            x = layers.BatchNormalization(name=f"bn{level}_{i}")(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3, seed=seed)(x)
    outputs = layers.Dense(len(OUTPUTS), name="outputs")(x)
    return keras.Model(inputs, outputs, name=f"attributes_w{width}")


@dataclass
class AttributeClassifier:
    """A trained network plus its card. Call it on RGB uint8 faces `[N, 64, 64, 3]` (other sizes are
    resized) to get `[N, len(OUTPUTS)]`: probabilities, age in years, race probabilities."""

    network: object
    card: dict

    @classmethod
    def load(cls, weights: Path, width: int, card: Optional[dict] = None) -> "AttributeClassifier":
        network = build_network(width)
        try:
            network.load_weights(str(weights))
        except (ValueError, OSError) as e:
            raise CheckpointMismatch(f"{weights}: not attribute-classifier weights of width {width}: {e}") from None
        return cls(network, card or {})

    def logits(self, images):
        """Differentiable raw outputs for float/uint8 image tensors `[N, 64, 64, 3]` in [0, 255]."""
        return self.network(images, training=False)

    def __call__(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        images = np.asarray(images)
        if images.shape[1:3] != (SIDE, SIDE):
            images = _tf.tensorflow().image.resize(images, (SIDE, SIDE), antialias=True).numpy()
        out = []
        for i in range(0, len(images), batch_size):
            out.append(np.asarray(self.network(images[i : i + batch_size].astype(np.float32), training=False)))
        return scores(np.concatenate(out) if out else np.zeros((0, len(OUTPUTS)), np.float32))


def scores(raw: np.ndarray) -> np.ndarray:
    """Raw network outputs -> probabilities / years."""
    raw = np.asarray(raw, np.float64)
    out = np.empty_like(raw)
    out[:, :BINARY] = 1 / (1 + np.exp(-raw[:, :BINARY]))
    out[:, AGE_INDEX] = np.clip(raw[:, AGE_INDEX] * AGE_SCALE, 0, 100)
    race = raw[:, RACE_SLICE] - raw[:, RACE_SLICE].max(1, keepdims=True)
    out[:, RACE_SLICE] = np.exp(race) / np.exp(race).sum(1, keepdims=True)
    return out.astype(np.float32)


def _balance(labels: np.ndarray) -> np.ndarray:
    """Per binary output, (weight of a positive, weight of a negative) so both classes count equally."""
    y = labels[:, :BINARY]
    pos = np.nansum(y, 0)
    n = np.sum(~np.isnan(y), 0)
    p = np.clip(pos / np.maximum(n, 1), 1e-3, 1 - 1e-3)
    return np.stack([0.5 / p, 0.5 / (1 - p)]).astype(np.float32)


def _loss(tf, weights: np.ndarray):
    w_pos, w_neg = (tf.constant(w) for w in weights)

    def loss(y, raw):
        known = tf.logical_not(tf.math.is_nan(y))
        y0 = tf.where(known, y, tf.zeros_like(y))
        yb, rb, kb = y0[:, :BINARY], raw[:, :BINARY], tf.cast(known[:, :BINARY], tf.float32)
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=rb) * (yb * w_pos + (1 - yb) * w_neg) * kb
        binary = tf.reduce_sum(bce) / tf.maximum(tf.reduce_sum(kb), 1.0)
        ka = tf.cast(known[:, AGE_INDEX], tf.float32)
        age = _tf.keras().losses.Huber(delta=0.1, reduction=None)(
            y0[:, AGE_INDEX : AGE_INDEX + 1] / AGE_SCALE, raw[:, AGE_INDEX : AGE_INDEX + 1]
        )
        age = tf.reduce_sum(age * ka) / tf.maximum(tf.reduce_sum(ka), 1.0)
        kr = tf.cast(known[:, RACE_SLICE.start], tf.float32)
        race = tf.nn.softmax_cross_entropy_with_logits(labels=y0[:, RACE_SLICE], logits=raw[:, RACE_SLICE])
        race = tf.reduce_sum(race * kr) / tf.maximum(tf.reduce_sum(kr), 1.0)
        return binary + 20.0 * age + race

    return loss


def _augment(tf, images, seed):
    """Random flip, scale 0.85-1.15 and shift +-6%, brightness and contrast: stateless, seeded."""
    n = tf.shape(images)[0]
    s = tf.random.stateless_uniform((n, 1), seed, 0.85, 1.15)
    c = tf.random.stateless_uniform((n, 2), seed + 1, -0.06, 0.06) + 0.5
    boxes = tf.concat([c - s / 2, c + s / 2], 1)
    boxes = tf.stack([boxes[:, 1], boxes[:, 0], boxes[:, 3], boxes[:, 2]], 1)
    x = tf.image.crop_and_resize(images, boxes, tf.range(n), (SIDE, SIDE), extrapolation_value=0.0)
    flip = tf.random.stateless_uniform((n, 1, 1, 1), seed + 2) < 0.5
    x = tf.where(flip, x[:, :, ::-1], x)
    gain = tf.random.stateless_uniform((n, 1, 1, 1), seed + 3, 0.75, 1.25)
    shift = tf.random.stateless_uniform((n, 1, 1, 1), seed + 4, -20.0, 20.0)
    mean = tf.reduce_mean(x, axis=(1, 2, 3), keepdims=True)
    return tf.clip_by_value((x - mean) * gain + mean + shift, 0.0, 255.0)


def _epoch_order(groups: np.ndarray, epoch_size: int, rng: np.random.Generator) -> np.ndarray:
    """`epoch_size` row indices, an equal share from each group (dataset), each share drawn without
    replacement (a group smaller than its share is used whole, then again), shuffled together."""
    names = np.unique(groups)
    share = epoch_size // len(names)
    picks = []
    for g in names:
        rows = np.flatnonzero(groups == g)
        reps = int(np.ceil(share / len(rows)))
        picks.append(np.concatenate([rng.permutation(rows) for _ in range(reps)])[:share])
    return rng.permutation(np.concatenate(picks))


def train(
    data: FaceSet,
    checkpoint_dir: Path,
    width: int,
    seed: int,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 2e-3,
    epoch_size: Optional[int] = None,
    groups: Optional[np.ndarray] = None,
    log: Callable[[str], None] = print,
):
    """Train (or resume training) a network on `data`; returns it after `epochs` epochs.

    An epoch is `epoch_size` faces (default all), an equal share from each of `groups` (one label
    per row, e.g. the dataset; default one group), drawn by `numpy.random.default_rng((seed, epoch))`.
    One checkpoint per epoch in `checkpoint_dir` (network, optimizer, epoch); a rerun resumes.
    """
    tf = _tf.tensorflow()
    network = build_network(width, seed)
    epoch_size = epoch_size or len(data.images)
    groups = np.zeros(len(data.images), np.int32) if groups is None else np.asarray(groups)
    steps_per_epoch = int(np.ceil(epoch_size / batch_size))
    optimizer, epoch, manager = resumable_adam(
        network, epochs * steps_per_epoch, learning_rate, 0.02, checkpoint_dir, log
    )
    loss_fn = _loss(tf, _balance(data.labels))

    @tf.function(reduce_retracing=True)
    def step(images, labels, aug_seed):
        with tf.GradientTape() as tape:
            raw = network(_augment(tf, images, aug_seed), training=True)
            loss = loss_fn(labels, raw)
        grads = tape.gradient(loss, network.trainable_variables)
        optimizer.apply_gradients(zip(grads, network.trainable_variables))
        return loss

    images = data.images.astype(np.float32)
    while int(epoch.numpy()) < epochs:
        e = int(epoch.numpy())
        order = _epoch_order(groups, epoch_size, np.random.default_rng((seed, e)))
        total = 0.0
        for k in range(steps_per_epoch):
            idx = order[k * batch_size : (k + 1) * batch_size]
            total += float(
                step(
                    tf.constant(images[idx]),
                    tf.constant(data.labels[idx]),
                    tf.constant([seed, e * steps_per_epoch + k], tf.int64),
                )
            )
        epoch.assign_add(1)
        manager.save()
        log(f"epoch {e + 1}/{epochs}: loss {total / steps_per_epoch:.4f}")
    return network


def evaluate(classifier: AttributeClassifier, data: FaceSet) -> dict:
    """Held-out figures: balanced accuracy per binary output (per dataset for `Male`), age MAE,
    race balanced accuracy (mean per-class recall) and the counts they rest on."""
    pred = classifier(data.images)
    out: dict = {"n": len(data.images), "balanced_accuracy": {}, "positives": {}}
    for j, name in enumerate(CELEBA):
        known = ~np.isnan(data.labels[:, j])
        y, p = data.labels[known, j] > 0.5, pred[known, j] > 0.5
        if y.sum() == 0 or (~y).sum() == 0:
            continue
        out["balanced_accuracy"][name] = round(float((np.mean(p[y]) + np.mean(~p[~y])) / 2), 4)
        out["positives"][name] = int(y.sum())
    known = ~np.isnan(data.labels[:, AGE_INDEX])
    if known.any():
        out["age_mae"] = round(float(np.mean(np.abs(pred[known, AGE_INDEX] - data.labels[known, AGE_INDEX]))), 2)
        truth = data.labels[known][:, RACE_SLICE].argmax(1)
        guess = pred[known][:, RACE_SLICE].argmax(1)
        recall = [float(np.mean(guess[truth == r] == r)) for r in range(len(RACES)) if (truth == r).any()]
        out["race_balanced_accuracy"] = round(float(np.mean(recall)), 4)
    return out


def load_member(cfg, member: str) -> AttributeClassifier:
    """The trained `member` ("guide" or "evaluator") from `cfg.dir` (a `ClassifiersConf`)."""
    from facepipe.errors import ConfigError
    from facepipe.io import project_path

    weights = project_path(Path(cfg.dir) / f"{member}.weights.h5")
    if not weights.is_file():
        raise ConfigError(
            f"attribute classifier {str(weights)!r} does not exist; valid: run "
            "`dvc repro train_classifiers` or set classifiers.dir to a folder holding it"
        )
    card_path = weights.with_name(f"{member}.json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    return AttributeClassifier.load(weights, getattr(cfg, member).width, card)
