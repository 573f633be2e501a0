"""The GAN trained here, at toy size: exact resume, export and load, conditions, augmentation, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from facepipe.config import GanConf
from facepipe.errors import CheckpointMismatch, ConfigError
from facepipe.generate.augment import diff_augment
from facepipe.generate.conditional import from_file, load_weights
from facepipe.generate.conditions import COND_DIM, check_condition, encode_conditions
from facepipe.generate.gan_train import GanTrainer

TINY = dict(
    resolution=16,
    z_dim=8,
    batch_size=4,
    g_channels={4: 16, 8: 8, 16: 8},
    d_channels={16: 8, 8: 8, 4: 16},
    r1_interval=2,
)


def _data(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)
    conds = encode_conditions(rng.integers(1, 90, n), rng.integers(0, 2, n), rng.integers(0, 5, n))
    return images, conds


def _weights(trainer: GanTrainer) -> list[np.ndarray]:
    return [w.numpy() for net in (trainer.G, trainer.G_ema, trainer.D) for w in net.weights]


@pytest.mark.parametrize("architecture", ["stylegan_lite", "pixelnorm_gan"])
def test_an_interrupted_run_resumes_exactly(tmp_path, architecture):
    images, conds = _data()
    settings = GanConf(architecture=architecture, **TINY)
    straight = GanTrainer(settings, tmp_path / "a", log=lambda m: None)
    straight.train(images, conds, until_step=6)

    first = GanTrainer(settings, tmp_path / "b", log=lambda m: None)
    first.train(images, conds, until_step=3)
    resumed = GanTrainer(settings, tmp_path / "b", log=lambda m: None)  # a new process would build this
    assert int(resumed.step.numpy()) == 3
    resumed.train(images, conds, until_step=6)

    before = GanTrainer(settings, tmp_path / "c", log=lambda m: None)
    assert any(not np.array_equal(a, b) for a, b in zip(_weights(before), _weights(straight)))  # it trained
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_array_equal(a, b)


def test_export_loads_as_a_generator_and_samples_from_the_training_rows(tmp_path):
    from facepipe.stages.train_generator import export_weights

    images, conds = _data()
    trainer = GanTrainer(GanConf(**TINY), tmp_path / "run", log=lambda m: None)
    trainer.train(images, conds, until_step=2)
    labels = {
        "age": np.array([70, 70], np.uint8),
        "male": np.array([1, 1], np.uint8),
        "ethnicity": np.array([2, 2], np.uint8),
    }
    path = export_weights(trainer, tmp_path / "out", "tiny", labels, {"step": 2})
    gen = from_file(path, "tiny")
    assert gen.latent_dim == 8 + COND_DIM and gen.resolution == 16

    latents = gen.sample_latents(np.random.default_rng(5), 3)
    np.testing.assert_allclose(latents[:, 8:], np.repeat(encode_conditions([70], [1], [2]), 3, 0))  # the only row
    faces = gen.synthesize(latents)
    assert faces.shape == (3, 16, 16, 3) and faces.dtype == np.uint8
    np.testing.assert_array_equal(faces, gen.synthesize(gen.sample_latents(np.random.default_rng(5), 3)))
    np.testing.assert_allclose(gen.forward_m11(latents), trainer.sample(latents[:, :8], latents[:, 8:]), atol=1e-5)

    young = gen.condition_latent(latents[0], age=5, gender="female", ethnicity="white")
    np.testing.assert_allclose(young[8:], encode_conditions([5], [0], [0])[0])
    np.testing.assert_array_equal(young[:8], latents[0, :8])


def test_bad_conditions_and_files_fail_in_one_line(tmp_path):
    for kwargs, match in [
        ({"ethnicity": "martian"}, "ethnicity='martian' is unknown; valid: white, black"),
        ({"age": 150}, "age=150 is out of range; valid: 0 to 100"),
        ({"age": -1}, "age=-1 is out of range"),
        ({"gender": "x"}, "gender='x' is unknown; valid: male, female"),
    ]:
        with pytest.raises(ConfigError, match=match) as e:
            check_condition(**kwargs)
        assert "\n" not in str(e.value)
    with pytest.raises(CheckpointMismatch, match="do not exist"):
        load_weights(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointMismatch, match="corrupt or not an npz"):
        load_weights(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(CheckpointMismatch, match="no 'meta' entry"):
        load_weights(tmp_path / "other.npz")


def test_a_weights_file_of_another_network_is_refused(tmp_path):
    from facepipe.stages.train_generator import export_weights

    trainer = GanTrainer(GanConf(**TINY), tmp_path / "run", log=lambda m: None)
    labels = {"age": np.array([30], np.uint8), "male": np.array([0], np.uint8), "ethnicity": np.array([0], np.uint8)}
    path = export_weights(trainer, tmp_path / "out", "tiny", labels, {})
    with np.load(path) as z:
        arrays = dict(z)
    key = next(k for k in arrays if k.startswith("G/"))
    arrays[key] = np.zeros((1, 2, 3), np.float32)
    np.savez(tmp_path / "changed.npz", **arrays)
    with pytest.raises(CheckpointMismatch, match="has shape"):
        from_file(tmp_path / "changed.npz", "tiny")


def test_diff_augment_is_keyed_by_its_seed():
    from facepipe._tf import tensorflow

    tf = tensorflow()
    x = tf.constant(np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32))
    a = diff_augment(x, tf.constant([0, 7])).numpy()
    b = diff_augment(x, tf.constant([0, 7])).numpy()
    c = diff_augment(x, tf.constant([0, 8])).numpy()
    assert a.shape == x.shape and np.array_equal(a, b) and not np.array_equal(a, c)
    cut = diff_augment(x, tf.constant([0, 7]), ("cutout",)).numpy()
    zeroed = (cut == 0).all(axis=3).mean(axis=(1, 2))
    assert (zeroed > 0).all() and (zeroed <= 0.25).all()  # a half-side square, clipped where it leaves the image
    shifted = diff_augment(x, tf.constant([0, 7]), ("translation",)).numpy()
    assert not np.array_equal(shifted, x.numpy())
    with pytest.raises(ValueError, match="valid: color, translation, cutout"):
        diff_augment(x, tf.constant([0, 7]), ("blur",))
