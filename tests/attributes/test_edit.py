"""edit/walk on a planted latent space: targets reached, locks held, bounds enforced, deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from facepipe.attributes.directions import Directions
from facepipe.attributes.vocabulary import OUTPUTS
from facepipe.errors import ConfigError
from facepipe.generate.edit import EditSettings, UnreachableTarget, edit, walk

DIM = 8


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
    a = edit(z, {"Male": 1.0}, ["Smiling"], d, score)
    b = edit(z, {"Male": 1.0}, ["Smiling"], d, score)
    assert a.z.shape == (DIM,) and np.array_equal(a.z, b.z)
    with pytest.raises(UnreachableTarget, match=r"attributes.targets.Male=1 not reached within 2 steps of 0.2 \(guide score"):
        edit(-3 * d["Male"], {"Male": 1.0}, [], d, score, EditSettings(max_steps=2))


def test_bad_requests():
    d, score, _ = _space()
    z = np.zeros(DIM, np.float32)
    with pytest.raises(ConfigError, match="lock contains 'Male'"):
        edit(z, {"Male": 1.0}, ["Male"], d, score)
    with pytest.raises(ConfigError, match="out of range"):
        edit(z, {"Male": 2.0}, [], d, score)
    with pytest.raises(ConfigError, match="no direction for attribute 'Bald'"):
        edit(z, {"Bald": 1.0}, [], d, score)
