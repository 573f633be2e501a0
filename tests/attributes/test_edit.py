"""edit/walk on a planted latent space: targets reached, locks held, bounds enforced, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from facepipe.attributes.classifier import scores as scores_of_raw
from facepipe.attributes.directions import Directions
from facepipe.attributes.vocabulary import OUTPUTS
from facepipe.errors import ConfigError
from facepipe.generate.edit import EditSettings, UnreachableTarget, edit, walk, walk_gradient

DIM = 8
LINEAR = EditSettings(walk="linear")


def _space():
    """Directions for Male, Young, Smiling, age; Young leans 60% on Male (correlated, as in real data)."""
    rng = np.random.default_rng(0)
    male, smiling, age = np.linalg.qr(rng.standard_normal((DIM, 3)))[0].T
    young = 0.6 * male + 0.8 * np.linalg.qr(np.stack([male, smiling, age, rng.standard_normal(DIM)], 1))[0][:, 3]
    w = {"Male": male, "Young": young, "Smiling": smiling, "age": age}

    def score(z):
        z = np.atleast_2d(z)
        out = np.full((len(z), len(OUTPUTS)), 0.5, np.float32)
        for name in ("Male", "Young", "Smiling"):
            out[:, OUTPUTS.index(name)] = 1 / (1 + np.exp(-3 * z @ w[name]))
        out[:, OUTPUTS.index("age")] = 40 + 15 * z @ w["age"]
        return out

    return Directions(list(w), np.stack(list(w.values()))), score, w


def test_targets_are_reached_and_reported():
    d, score, _ = _space()
    z = np.random.default_rng(1).standard_normal((50, DIM)).astype(np.float32)
    r = walk(z, {"Male": 1.0, "age": 70}, [], d, score, EditSettings(max_steps=60))
    final = score(r.z)
    assert r.reached["Male"].all() and (final[:, OUTPUTS.index("Male")] >= 0.85).all()
    assert (np.abs(final[:, OUTPUTS.index("age")] - 70) <= 7.5).all()
    assert (r.steps["Male"] > 0).any() and r.steps["Male"].max() <= 60


def test_intermediate_target_is_bisected_onto():
    d, score, _ = _space()
    z = np.zeros((1, DIM), np.float32) - 2 * d["Smiling"]
    r = walk(z, {"Smiling": 0.5}, [], d, score, EditSettings(step_size=1.5, tolerance=0.02))
    assert abs(score(r.z)[0, OUTPUTS.index("Smiling")] - 0.5) <= 0.02


def test_lock_holds_a_correlated_attribute():
    d, score, _ = _space()
    z = np.random.default_rng(3).standard_normal((100, DIM)).astype(np.float32)
    young = OUTPUTS.index("Young")
    free = walk(z, {"Male": 1.0}, [], d, score)
    locked = walk(z, {"Male": 1.0}, ["Young"], d, score)
    drift_free = np.abs(score(free.z)[:, young] - score(z)[:, young]).mean()
    drift_locked = np.abs(score(locked.z)[:, young] - score(z)[:, young]).mean()
    assert drift_free > 0.1 and drift_locked < 0.01


def test_edit_is_deterministic_and_fails_loudly_when_out_of_reach():
    d, score, _ = _space()
    z = np.random.default_rng(4).standard_normal(DIM).astype(np.float32)
    a = edit(z, {"Male": 1.0}, ["Smiling"], d, score, LINEAR)
    b = edit(z, {"Male": 1.0}, ["Smiling"], d, score, LINEAR)
    assert a.z.shape == (DIM,) and np.array_equal(a.z, b.z)
    with pytest.raises(
        UnreachableTarget, match=r"attributes.targets.Male=1 not reached within 2 steps of 0.2 \(guide score"
    ):
        edit(-3 * d["Male"], {"Male": 1.0}, [], d, score, EditSettings(max_steps=2, walk="linear"))


def test_bad_requests():
    d, score, _ = _space()
    z = np.zeros(DIM, np.float32)
    with pytest.raises(ConfigError, match="lock contains 'Male'"):
        edit(z, {"Male": 1.0}, ["Male"], d, score, LINEAR)
    with pytest.raises(ConfigError, match="out of range"):
        edit(z, {"Male": 2.0}, [], d, score, LINEAR)
    with pytest.raises(ConfigError, match="no direction for attribute 'Bald'"):
        edit(z, {"Bald": 1.0}, [], d, score, LINEAR)
    with pytest.raises(ConfigError, match="lock contains 'Male'"):
        edit(z, {"Male": 1.0}, ["Male"], d, _CurvedField())


class _CurvedField:
    """A planted guide with gradients (GuideField's interface): Smiling and Male are linear in the
    latent, Young bends with Smiling (its logit has a (smiling . z)^2 term), age is linear in years.
    Projecting out a fixed Young direction holds such a lock only to first order; the local gradients
    are re-measured at every step."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.male, self.smiling, self.young, self.age = np.linalg.qr(rng.standard_normal((DIM, 4)))[0].T
        self.pixels = rng.standard_normal((24, DIM)) * np.geomspace(0.1, 3, DIM)  # the "generator": image = pixels @ z
        self.calls = 0

    def _raw_and_grads(self, z):
        z = np.atleast_2d(np.asarray(z, np.float64))
        raw = np.zeros((len(z), len(OUTPUTS)))
        grads = np.zeros((len(z), len(OUTPUTS), DIM))
        s = z @ self.smiling
        for name, logit, grad in (
            ("Male", 3 * z @ self.male, np.broadcast_to(3 * self.male, (len(z), DIM))),
            ("Smiling", 3 * s, np.broadcast_to(3 * self.smiling, (len(z), DIM))),
            ("Young", 3 * z @ self.young + 3 * s**2, 3 * self.young + 6 * s[:, None] * self.smiling),
            ("age", (40 + 15 * z @ self.age) / 100, np.broadcast_to(0.15 * self.age, (len(z), DIM))),
        ):
            raw[:, OUTPUTS.index(name)], grads[:, OUTPUTS.index(name)] = logit, grad
        return raw, grads

    def raw(self, z):
        return self._raw_and_grads(z)[0]

    def scores(self, z):
        self.calls += 1
        return scores_of_raw(self.raw(z))

    __call__ = scores

    def raw_and_jacobian(self, z, columns):
        raw, grads = self._raw_and_grads(z)
        return raw, grads[:, columns]

    def image_metric_inverse(self, z, ridge):
        metric = self.pixels.T @ self.pixels
        return np.broadcast_to(np.linalg.inv(metric + ridge * np.trace(metric) / DIM * np.eye(DIM)), (len(z), DIM, DIM))

    def image_change(self, z0, z1):
        return np.linalg.norm((np.asarray(z1, np.float64) - z0) @ self.pixels.T, axis=1)


def test_gradient_walk_reaches_targets():
    field = _CurvedField()
    z = np.random.default_rng(1).standard_normal((50, DIM)).astype(np.float32)
    r = walk_gradient(z, {"Male": 1.0, "age": 70}, [], field, EditSettings(metric="latent"))
    final = field.scores(r.z)
    assert r.reached["Male"].all() and r.reached["age"].all()
    assert (final[:, OUTPUTS.index("Male")] >= 0.85).all() and (
        np.abs(final[:, OUTPUTS.index("age")] - 70) <= 7.5
    ).all()
    mid = walk_gradient(z[:5], {"Smiling": 0.5}, [], field, EditSettings(step_size=1.5, tolerance=0.02))
    assert (np.abs(field.scores(mid.z)[:, OUTPUTS.index("Smiling")] - 0.5) <= 0.02).all()  # bisected onto


def test_gradient_walk_holds_a_curved_lock():
    field = _CurvedField()
    z = np.random.default_rng(3).standard_normal((100, DIM)).astype(np.float32)
    young = OUTPUTS.index("Young")
    start = field.scores(z)[:, young]

    def drift(result):
        return float(np.abs(field.scores(result.z)[:, young] - start).mean())

    for metric in ("latent", "image"):
        settings = EditSettings(metric=metric)
        free = walk_gradient(z, {"Smiling": 1.0}, [], field, settings)
        locked = walk_gradient(z, {"Smiling": 1.0}, ["Young"], field, settings)
        assert locked.reached["Smiling"].all() and free.reached["Smiling"].all()
        assert drift(free) > 0.1 and drift(locked) < 0.01, metric


def test_the_image_metric_walk_changes_the_picture_less_for_the_same_edit():
    """Steepest in image change: the same Smiling target reached with fewer changed "pixels" than the
    latent-distance walk (which follows the gradient straight), with and without a lock."""
    field = _CurvedField()
    z = np.random.default_rng(5).standard_normal((40, DIM)).astype(np.float32)
    for lock in ([], ["Male"]):
        change = {}
        for metric in ("latent", "image"):
            r = walk_gradient(z, {"Smiling": 1.0}, lock, field, EditSettings(metric=metric))
            assert r.reached["Smiling"].all(), (metric, lock)
            change[metric] = field.image_change(z, r.z).mean()
        assert change["image"] < 0.6 * change["latent"], (lock, change)


def test_gradient_edit_is_deterministic_and_fails_loudly_when_out_of_reach():
    field = _CurvedField()
    z = (np.random.default_rng(4).standard_normal(DIM) - 2 * field.male).astype(np.float32)
    a = edit(z, {"Male": 1.0}, ["Smiling"], None, field)
    b = edit(z, {"Male": 1.0}, ["Smiling"], None, field)
    assert a.z.shape == (DIM,) and np.array_equal(a.z, b.z) and a.steps["Male"][0] > 0
    with pytest.raises(UnreachableTarget, match=r"attributes.targets.Male=1 not reached within 2 steps of 0.2"):
        edit(-3 * field.male, {"Male": 1.0}, [], None, field, EditSettings(max_steps=2))
