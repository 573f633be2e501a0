"""Attribute editing on the progressive GAN with TL-GAN-format directions: the generate stage runs a
preset on `generator=pggan_celebahq`, reading the generator pickle and a `feature_direction_*.pkl`
from local copies (`paths.model_files`), edits, records and reproduces the person.

Random fixture weights draw textures no face classifier has an opinion about, so the guide here is a
stand-in that reads fixed linear features of the image; what is under test is the generator, the
TL-GAN file and the stage working together, not the classifier (tests/attributes covers that).
"""

from __future__ import annotations

import json
import pickle
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from make_pggan_pickle import write  # noqa: E402

from facepipe.attributes import classifier, directions  # noqa: E402
from facepipe.attributes.vocabulary import CELEBA, OUTPUTS  # noqa: E402
from facepipe.config import ClassifiersConf  # noqa: E402
from facepipe.errors import ConfigError  # noqa: E402
from facepipe.generate.edit import EditSettings, latent_scorer, walk, walk_gradient  # noqa: E402
from facepipe.generate.guide_field import GuideField  # noqa: E402
from facepipe.generate.pggan import PGGANGenerator  # noqa: E402
from facepipe.models.pggan_pickle import read_networks  # noqa: E402
from facepipe.models.registry import ModelStore, load_catalog  # noqa: E402
from facepipe.stages import generate  # noqa: E402
from facepipe.tracking import Tracker  # noqa: E402

LATENT = 32


class LinearGuide:
    """Scores every output as a sigmoid of a fixed random linear read-out of the image, standardised
    on sample faces so each spans most of (0, 1)."""

    card = {"weights_sha256": "stand-in"}

    def __init__(self, faces: np.ndarray):
        rng = np.random.default_rng(7)
        self.w = rng.standard_normal((faces[0].size, len(OUTPUTS))).astype(np.float32)
        f = self._features(faces)
        self.mu, self.sd = f.mean(0), f.std(0) + 1e-6

    def _features(self, faces):
        return (np.asarray(faces, np.float32).reshape(len(faces), -1) / 255.0) @ self.w

    def __call__(self, faces):
        return 1 / (1 + np.exp(-2.0 * (self._features(faces) - self.mu) / self.sd))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A fixture pg-GAN pickle, a stand-in guide and TL-GAN-format directions fitted with it."""
    root = tmp_path_factory.mktemp("pggan")
    pkl = write(root / "karras2018iclr-celebahq-1024x1024.pkl", resolution=16, latent_size=LATENT, seed=1)
    gen = PGGANGenerator(read_networks(pkl)["Gs"], batch_size=256)
    z = np.random.default_rng(0).standard_normal((1500, LATENT)).astype(np.float32)
    faces = gen.synthesize(z)
    guide = LinearGuide(faces)
    fitted = directions.fit(z, guide(faces)[:, : len(CELEBA)], list(CELEBA), "regression", [(0.0, 1.0)] * len(CELEBA))
    tlgan = root / "feature_direction_20181002_044444.pkl"
    tlgan.write_bytes(pickle.dumps({"direction": fitted.vectors.T.copy(), "name": list(CELEBA)}))  # TL-GAN's layout
    return pkl, tlgan, guide


def _store(cache: Path, pkl: Path, tlgan: Path) -> ModelStore:
    """The real catalog, with the fixture's sizes standing in for the published ones; its own cache
    (the pins recorded on first use must not land in the machine's cache)."""
    catalog = load_catalog()
    catalog["pggan_celebahq"] = replace(catalog["pggan_celebahq"], size=pkl.stat().st_size)
    catalog["tlgan_celebahq_directions"] = replace(catalog["tlgan_celebahq_directions"], size=tlgan.stat().st_size)
    return ModelStore(
        cache, catalog, progress=False, files={"pggan_celebahq": str(pkl), "tlgan_celebahq_directions": str(tlgan)}
    )


def _generate(cfg, models):
    with Tracker(cfg.tracking, "test") as t:
        return generate.run(cfg, cfg.output_dir, models, t)


def test_preset_edits_a_pggan_person_with_tlgan_directions(reference, make_cfg, tmp_path, monkeypatch):
    pkl, tlgan, guide = reference
    monkeypatch.delenv("FACEPIPE_MODEL_CACHE", raising=False)
    monkeypatch.setattr(classifier, "load_member", lambda cfg, member: guide)
    models = _store(tmp_path / "cache", pkl, tlgan)
    overrides = [
        "generator=pggan_celebahq",
        "attributes=old_male",
        "seed=2",
        "reposition.image=null",
        "directions.walk=linear",
    ]  # TL-GAN's method: its own directions, straight lines
    person = _generate(make_cfg(*overrides), models)
    record = json.loads((person.dir / "person.json").read_text())["attributes"]
    assert record["applied"] is True and record["directions"] == str(tlgan)
    male, young = OUTPUTS.index("Male"), OUTPUTS.index("Young")
    scores = guide(person.face[None])[0]
    assert scores[male] >= 0.85 and scores[young] <= 0.15  # the targets, within tolerance 0.15
    assert person.face.shape == (16, 16, 3)
    gen = PGGANGenerator(read_networks(pkl)["Gs"])
    assert np.array_equal(gen.synthesize(np.load(person.dir / "latent.npy")[None])[0], person.face)
    again = _generate(make_cfg(*overrides, f"output_dir={tmp_path / 'again'}"), models)
    assert (again.dir / "face.png").read_bytes() == (person.dir / "face.png").read_bytes()


def test_tlgan_directions_lock_on_the_pggan(reference):
    """Editing Male on 16 persons with lock=[Smiling, Eyeglasses] moves those less than without it."""
    pkl, tlgan, guide = reference
    gen = PGGANGenerator(read_networks(pkl)["Gs"], batch_size=256)
    score, d = latent_scorer(gen, guide), directions.load_tlgan(tlgan)
    z = np.random.default_rng(5).standard_normal((16, LATENT)).astype(np.float32)
    lock = ["Smiling", "Eyeglasses"]
    drift = {}
    for label, held in (("locked", lock), ("free", [])):
        r = walk(z, {"Male": 1.0}, held, d, score)
        assert r.reached["Male"].mean() >= 0.8
        after = score(r.z)
        drift[label] = np.mean(
            [np.abs(after[:, OUTPUTS.index(n)] - score(z)[:, OUTPUTS.index(n)]).mean() for n in lock]
        )
    assert drift["locked"] < 0.5 * drift["free"], drift


def test_a_target_without_a_tlgan_direction_is_refused(reference, make_cfg, tmp_path, monkeypatch):
    pkl, tlgan, guide = reference
    monkeypatch.delenv("FACEPIPE_MODEL_CACHE", raising=False)
    monkeypatch.setattr(classifier, "load_member", lambda cfg, member: guide)
    cfg = make_cfg(
        "generator=pggan_celebahq", "++attributes.targets.age=60", "reposition.image=null", "directions.walk=linear"
    )
    with pytest.raises(ConfigError, match=r"\['age'\] have no direction in feature_direction_20181002_044444.pkl"):
        _generate(cfg, _store(tmp_path / "cache", pkl, tlgan))


def test_gradient_walk_runs_through_the_pggan(reference):
    """The default walk differentiates the guide through any Keras generator, resizing its output to
    the classifier's 64 px inside the graph (here 16 px fixture faces and the committed guide)."""
    pkl, _, _ = reference
    gen = PGGANGenerator(read_networks(pkl)["Gs"], batch_size=8)
    field = GuideField(gen, classifier.load_member(ClassifiersConf(), "guide"))
    z = np.random.default_rng(6).standard_normal((2, LATENT)).astype(np.float32)
    raw, jacobian = field.raw_and_jacobian(z, [OUTPUTS.index("Male"), OUTPUTS.index("Smiling")])
    assert raw.shape == (2, len(OUTPUTS)) and jacobian.shape == (2, 2, LATENT) and np.isfinite(jacobian).all()
    assert (np.linalg.norm(jacobian, axis=2) > 0).all()
    male = OUTPUTS.index("Male")
    target = 0.1 if field.scores(z)[:, male].mean() > 0.5 else 0.9
    r = walk_gradient(z, {"Male": target}, ["Smiling"], field, EditSettings(max_steps=8, step_size=0.5))
    moved = np.abs(r.after["Male"] - target) < np.abs(r.before["Male"] - target)
    assert (r.steps["Male"] > 0).any() and moved[r.steps["Male"] > 0].all()
