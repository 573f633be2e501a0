"""Sampling a person with the conditional generator trained here: the condition its targets set, the
record it leaves, and the one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facepipe.config import TrackingConf
from facepipe.errors import ConfigError
from facepipe.generate.conditions import COND_DIM, condition_targets, encode_conditions
from facepipe.stages import generate
from facepipe.tracking import Tracker


def _person(make_cfg, tmp_path, models, *overrides):
    with Tracker(TrackingConf(enabled=False), "test") as t:
        return generate.run(make_cfg("generator=stylegan_lite", *overrides), tmp_path / "people", models, t)


def test_age_gender_and_race_targets_set_the_condition(make_cfg, tmp_path, models):
    person = _person(
        make_cfg,
        tmp_path,
        models,
        "+attributes.targets.age=70",
        "+attributes.targets.Male=1",
        "+attributes.targets.race_Asian=1",
    )
    np.testing.assert_allclose(person.latent[-COND_DIM:], encode_conditions([70], [1], [2])[0])
    assert person.face.shape == (128, 128, 3)
    manifest = json.loads((person.dir / "person.json").read_text())
    assert manifest["generator"]["model"].endswith("stylegan_lite_utkface128.npz")
    assert len(manifest["generator"]["sha256"]) == 64 and manifest["attributes"]["applied"] is False
    again = _person(
        make_cfg,
        tmp_path / "again",
        models,
        "+attributes.targets.age=70",
        "+attributes.targets.Male=1",
        "+attributes.targets.race_Asian=1",
    )
    np.testing.assert_array_equal(again.face, person.face)  # same config and seed, same bytes


def test_without_targets_the_condition_comes_from_the_training_rows(make_cfg, tmp_path, models):
    faces = [_person(make_cfg, tmp_path / str(s), models, f"seed={s}").latent[-COND_DIM:] for s in range(4)]
    ages = [round(float(np.expm1((c[0] + 0.5) * np.log1p(100.0)))) for c in faces]
    assert len(set(ages)) > 1 and all(0 <= a <= 100 for a in ages)
    for c in faces:  # one gender and one ethnicity each
        assert c[1:3].sum() == 1 and c[3:].sum() == 1


def test_bad_condition_targets_are_refused_in_one_line():
    with pytest.raises(ConfigError, match="age=150.0 is out of range; valid: 0 to 100"):
        condition_targets({"age": 150})
    with pytest.raises(ConfigError, match="takes one race target set to 1"):
        condition_targets({"race_Asian": 0.0})
    with pytest.raises(ConfigError, match="takes one race target set to 1"):
        condition_targets({"race_Asian": 1.0, "race_Black": 1.0})
    assert condition_targets({"Male": 0.2, "Smiling": 1.0}) == ({"gender": "female"}, {"Smiling": 1.0})
