"""GuideField: the guide read through the DCGAN, its views and its latent gradients (checked against
finite differences), which the gradient walk relies on."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from facepipe.attributes import classifier
from facepipe.attributes.vocabulary import OUTPUTS
from facepipe.config import ClassifiersConf
from facepipe.errors import ConfigError
from facepipe.generate import sample_latents
from facepipe.generate.dcgan import build
from facepipe.generate.guide_field import GuideField, differentiable


@pytest.fixture(scope="module")
def field(models):
    generator = build(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=64), models)
    return GuideField(generator, classifier.load_member(ClassifiersConf(), "guide"))


def test_scores_average_the_views_of_the_face(field):
    z = sample_latents(np.random.default_rng(0), 3, 100)
    faces = field.generator.synthesize(z).astype(np.float32)
    guide = field.classifier
    plain, mirrored = guide.logits(faces).numpy(), guide.logits(faces[:, :, ::-1]).numpy()
    raw = field.raw(z)
    assert raw.shape == (3, len(OUTPUTS))
    # the mean over views lies near the two unshifted views (shifts are 2 px) but is none of them
    assert np.abs(raw - (plain + mirrored) / 2).mean() < 0.5 * np.abs(plain - mirrored).mean() + 0.05
    assert not np.allclose(raw, plain, atol=1e-4)
    assert np.array_equal(field.scores(z), field.scores(z))


def test_jacobian_matches_finite_differences(field):
    z = sample_latents(np.random.default_rng(1), 2, 100).astype(np.float64)
    columns = [OUTPUTS.index("Male"), OUTPUTS.index("Smiling"), OUTPUTS.index("age")]
    raw, jacobian = field.raw_and_jacobian(z.astype(np.float32), columns)
    assert raw.shape == (2, len(OUTPUTS)) and jacobian.shape == (2, 3, 100)
    assert np.allclose(raw, field.raw(z.astype(np.float32)), atol=1e-4)
    # ReLU kinks and float32 make single differences noisy; over 8 random directions the
    # directional derivatives must agree as a whole (a wrong or mis-signed Jacobian gives ~0 or < 0)
    u = np.random.default_rng(2).standard_normal((8, 100))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    h = 1e-2
    numeric = np.stack(
        [(field.raw((z + h * v).astype(np.float32)) - field.raw((z - h * v).astype(np.float32)))[:, columns] for v in u]
    ) / (2 * h)
    analytic = np.einsum("nkd,vd->vnk", jacobian, u)
    for k in range(len(columns)):
        a, n = analytic[..., k].ravel(), numeric[..., k].ravel()
        assert np.corrcoef(a, n)[0, 1] > 0.95
        assert np.abs(a - n).mean() < 0.25 * np.abs(n).mean()


def test_generators_without_a_model_are_refused():
    assert not differentiable(SimpleNamespace(name="x"))
    with pytest.raises(ConfigError, match="directions.walk=linear"):
        GuideField(SimpleNamespace(name="x"), None)


def test_image_metric_measures_how_much_a_step_changes_the_face(field):
    """v^T M v = |d image|^2 along v (the pullback metric), checked by finite differences of the
    64 px face in [-1, 1]; the ridge adds `ridge x mean eigenvalue` to every direction."""
    z = sample_latents(np.random.default_rng(3), 2, 100).astype(np.float32)
    inverse = field.image_metric_inverse(z, ridge=1e-6)
    assert inverse.shape == (2, 100, 100) and np.allclose(inverse, inverse.transpose(0, 2, 1), rtol=1e-6, atol=1e-9)
    metric = np.linalg.inv(inverse)
    u = np.random.default_rng(4).standard_normal((6, 100))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    h = 1e-2

    def image(x):
        return field.generator.model(x.astype(np.float32), training=False).numpy().reshape(len(x), -1)

    numeric = np.stack([np.sum(((image(z + h * v) - image(z - h * v)) / (2 * h)) ** 2, 1) for v in u])
    analytic = np.einsum("vd,nde,ve->vn", u, metric, u)
    assert np.corrcoef(numeric.ravel(), analytic.ravel())[0, 1] > 0.95
    assert np.abs(analytic - numeric).mean() < 0.1 * numeric.mean()
    ridged = np.linalg.inv(field.image_metric_inverse(z[:1], ridge=1.0)[0])
    assert np.allclose(
        ridged - metric[0], np.trace(metric[0]) / 100 * np.eye(100), rtol=1e-3, atol=1e-3 * np.trace(metric[0]) / 100
    )
