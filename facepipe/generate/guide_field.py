"""The guide classifier read through the generator: scores and their gradients as functions of the latent.

The gradient walk (`edit.walk_gradient`) needs two things the linear walk does not: the guide's raw
outputs for a latent, and their gradients with respect to it. Both come from chaining the
generator's Keras model into the classifier.

The guide reads a face as the mean of its raw outputs over `VIEWS`: the face and its mirror image,
each at three small shifts (expectation over transformation). An edit stepping up a gradient of one
view can succeed through pixel details only that view responds to; averaged over views, a step has
to change what every view sees. By the independent evaluator a locked attribute holds a little
better, for 6x the classifier's cost.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from facepipe import _tf
from facepipe.attributes.classifier import scores as scores_of_raw
from facepipe.data.faces64 import SIDE
from facepipe.errors import ConfigError

__all__ = ["GuideField", "VIEWS", "differentiable"]

VIEWS = ((0, 0), (2, 0), (0, 2))  # (dy, dx) pixel shifts at the classifier's 64 px; each also mirrored
_PAD = 3


def differentiable(generator: Any) -> bool:
    """Whether a generator exposes its Keras model (latents -> NHWC images in [-1, 1]) for gradients."""
    return callable(getattr(generator, "model", None))


class GuideField:
    """`scores(z)` and `raw_and_jacobian(z, columns)` of the guide over a generator's latents."""

    def __init__(self, generator: Any, classifier: Any, batch_size: int = 64):
        if not differentiable(generator):
            raise ConfigError(
                f"directions.walk=gradient needs a generator with a Keras model; "
                f"{getattr(generator, 'name', generator)!r} has none; valid: directions.walk=linear"
            )
        self.generator, self.classifier, self.batch_size = generator, classifier, batch_size
        tf = _tf.tensorflow()
        self._tf = tf
        self._raw = tf.function(self._views_raw, reduce_retracing=True)
        self._jacobian = tf.function(self._raw_and_jacobian, reduce_retracing=True)
        self._pushforward = tf.function(self._image_jvp, reduce_retracing=True)

    def views(self, images):
        """The guide's views (VIEWS, then each mirrored) of a tensor of images `[N, SIDE, SIDE, 3]` in 0..255."""
        padded = self._tf.pad(images, [[0, 0], [_PAD, _PAD], [_PAD, _PAD], [0, 0]], mode="REFLECT")
        views = [padded[:, _PAD + dy : _PAD + dy + SIDE, _PAD + dx : _PAD + dx + SIDE] for dy, dx in VIEWS]
        return views + [v[:, :, ::-1] for v in views]

    def _views_raw(self, z):
        """Mean raw classifier output over VIEWS for a latent tensor `[N, D]`."""
        tf = self._tf
        images = (self.generator.model(z, training=False) + 1.0) * 127.5
        if images.shape[1] != SIDE:
            images = tf.image.resize(images, (SIDE, SIDE), antialias=True)
        views = self.views(images)
        n = tf.shape(z)[0]
        raw = self.classifier.logits(tf.concat(views, 0))
        return tf.reduce_mean(tf.reshape(raw, (len(views), n, -1)), 0)

    def raw(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32)
        parts = [
            self._raw(self._tf.constant(z[i : i + self.batch_size])).numpy() for i in range(0, len(z), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    def scores(self, z: np.ndarray) -> np.ndarray:
        """Latents `[N, D]` -> the guide's scores `[N, len(OUTPUTS)]` (probabilities, years)."""
        return scores_of_raw(self.raw(z))

    __call__ = scores  # a Scorer, so the linear walk and the records can use the same reading

    def _raw_and_jacobian(self, z, columns: tuple[int, ...]):
        """Rows are independent (batch norm in inference mode), so the gradient of a column's sum over
        the batch is every row's own gradient: one backward pass per column, not per row."""
        tf = self._tf
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(z)
            raw = self._views_raw(z)
            sums = [tf.reduce_sum(raw[:, c]) for c in columns]
        return raw, tf.stack([tape.gradient(s, z) for s in sums], 1)

    def raw_and_jacobian(self, z: np.ndarray, columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """All raw outputs `[N, len(OUTPUTS)]` and the gradients `[N, K, D]` of `columns` with respect
        to the latent, in one pass."""
        tf = self._tf
        z = np.asarray(z, np.float32)
        cols = tuple(int(c) for c in columns)  # a Python tuple: one trace per column set
        raws, jacobians = [], []
        for i in range(0, len(z), self.batch_size):
            raw, jacobian = self._jacobian(tf.constant(z[i : i + self.batch_size]), cols)
            raws.append(raw.numpy())
            jacobians.append(jacobian.numpy())
        return np.concatenate(raws), np.concatenate(jacobians)

    def _image_jvp(self, z, tangents):
        """d image / d z along `tangents` (one per row of `z`), a larger image area-averaged to about the
        guide's 64 px (forward mode has no rule for the antialiased resize the guide's view uses)."""
        tf = self._tf
        with tf.autodiff.ForwardAccumulator(z, tangents) as acc:
            images = self.generator.model(z, training=False)
            if images.shape[1] >= 2 * SIDE:
                factor = images.shape[1] // SIDE
                images = tf.nn.avg_pool2d(images, factor, factor, "VALID")
        return acc.jvp(images)

    def image_metric_inverse(self, z: np.ndarray, ridge: float) -> np.ndarray:
        """`[N, D, D]`: per latent, the inverse of the generator's pullback metric `J^T J + ridge * t * I`
        (J: image pixels in [-1, 1] by latent, at about the guide's 64 px; t: the mean eigenvalue of `J^T J`).

        Under this metric a step's length is how much it changes the picture, so the steepest step
        up a score changes the fewest pixels for the gain (`edit.walk_gradient`, `directions.metric=image`).
        One forward-mode pass per latent dimension: `D` generator evaluations per latent."""
        tf = self._tf
        z = np.asarray(z, np.float32)
        d = z.shape[1]
        eye, chunk = np.eye(d, dtype=np.float32), self.batch_size * 4
        inverses = np.empty((len(z), d, d))
        for n, latent in enumerate(z):
            rows = np.repeat(latent[None], d, 0)
            jacobian_t = np.concatenate(
                [  # [D, pixels]: d image / d z_i, i = 0 .. D-1
                    self._pushforward(tf.constant(rows[i : i + chunk]), tf.constant(eye[i : i + chunk]))
                    .numpy()
                    .reshape(len(rows[i : i + chunk]), -1)
                    for i in range(0, d, chunk)
                ]
            ).astype(np.float64)
            metric = jacobian_t @ jacobian_t.T
            inverses[n] = np.linalg.inv(metric + ridge * np.trace(metric) / d * np.eye(d))
        return inverses
