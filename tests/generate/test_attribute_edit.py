"""The generate stage with attribute targets: edited by the committed guide and directions, recorded,
reproducible; bad targets and bad direction files refused before anything is written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from facepipe.attributes.directions import Directions, save
from facepipe.stages import generate
from facepipe.tracking import Tracker


def _generate(cfg, models):
    with Tracker(cfg.tracking, "test") as t:
        return generate.run(cfg, cfg.output_dir, models, t)


def test_old_male_is_edited_and_recorded(make_cfg, models, tmp_path):
    cfg = make_cfg("attributes=old_male", "seed=3")
    person = _generate(cfg, models)
    record = json.loads((person.dir / "person.json").read_text())["attributes"]
    assert record["applied"] is True and record["lock"] == ["Smiling", "Eyeglasses"]
    assert record["guide_after"]["Male"] >= 0.85 and record["guide_after"]["Young"] <= 0.15  # tolerance 0.15
    assert set(record["steps"]) == {"Male", "Young"} and record["directions_sha256"]
    # the saved latent is the edited one: it renders the saved face
    latent = np.load(person.dir / "latent.npy")
    from facepipe.backends import load_factory

    generator = load_factory(cfg.generator._target_, "generator")(cfg.generator, models)
    assert np.array_equal(generator.synthesize(latent[None])[0], person.face)
    # same config and seed, another folder: the same bytes
    again = _generate(make_cfg("attributes=old_male", "seed=3", f"output_dir={tmp_path / 'again'}"), models)
    for name in ("face.png", "latent.npy", "person.json"):
        assert (again.dir / name).read_bytes() == (person.dir / name).read_bytes()


def test_neutral_is_not_edited(make_cfg, models):
    person = _generate(make_cfg("seed=3"), models)
    assert json.loads((person.dir / "person.json").read_text())["attributes"]["applied"] is False


@pytest.mark.parametrize(
    "args, expected",
    [
        (["attributes.targets.Beardy=1"], "unknown attribute 'Beardy'; valid: 5_o_Clock_Shadow, Arched_Eyebrows"),
        (["attributes.targets.Male=2"], "attributes.targets.Male=2.0 is out of range; valid: [0, 1]"),
        (
            ["attributes=old_male", "attributes.lock=[Male]"],
            "attributes.lock contains 'Male', which attributes.targets edits",
        ),
    ],
)
def test_bad_attribute_requests_exit_2(tmp_path, args, expected):
    proc = run_cli(*args, f"output_dir={tmp_path}", "tracking=none", cwd=tmp_path)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert not list(tmp_path.glob("*/face.png"))


def test_direction_file_of_the_wrong_shape_exits_2(tmp_path):
    save(tmp_path / "dirs" / "dcgan_digiface.npz", Directions(["Male"], np.ones((1, 16), np.float32)))
    proc = run_cli(
        "attributes=old_male",
        f"directions.dir={tmp_path / 'dirs'}",
        f"output_dir={tmp_path}",
        "tracking=none",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "directions have latent dimension 16, the generator has 100" in proc.stderr, proc.stderr
