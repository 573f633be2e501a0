"""Every config option composes and builds; bad values fail at start with one clear line."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CONF_DIR, compose_cfg

from facepipe.backends import load_factory
from facepipe.errors import ConfigError
from facepipe.models.registry import ModelStore


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


TRAINING_GROUPS = {
    "train/classifiers": "classifiers",
    "train/directions": "directions",
    "train/sr": "sr",
    "train/shading": "shading",
    "train/generator": "train_generator",
}


def test_every_group_is_tested():
    groups = {str(p.relative_to(CONF_DIR)) for p in CONF_DIR.rglob("*") if p.is_dir() and any(p.glob("*.yaml"))}
    assert groups == {
        "generator",
        "attributes",
        "sweep",
        "expressions",
        "reposition",
        "upscaler",
        "tracking",
        "paths",
        *TRAINING_GROUPS,
    }


@pytest.mark.parametrize("group", sorted(TRAINING_GROUPS))
def test_every_training_option_composes(group):
    key = TRAINING_GROUPS[group]
    for option in _options(group):
        cfg = compose_cfg([f"{group}@{key}={option}"])
        assert getattr(cfg, key) is not None
    if group == "train/generator":
        assert compose_cfg([f"{group}@{key}=pixelnorm_gan"]).train_generator.gan.architecture == "pixelnorm_gan"


@pytest.mark.parametrize(
    "group", ["generator", "attributes", "sweep", "expressions", "reposition", "upscaler", "tracking", "paths"]
)
def test_every_option_composes(group):
    options = _options(group)
    assert options, f"conf/{group} has no options"
    for option in options:
        cfg = compose_cfg([f"{group}={option}"])
        if group in ("attributes", "expressions", "upscaler", "generator"):
            assert getattr(cfg, group).name == option


@pytest.mark.parametrize("option", _options("upscaler"))
def test_every_upscaler_option_builds(option, models, tmp_path, monkeypatch):
    cfg = compose_cfg([f"upscaler={option}"]).upscaler
    if cfg.weights in models.catalog and models.spec(cfg.weights).source.kind == "url":
        # published SR weights (no internet here): a file in their layout, the network the config names
        from facepipe.models import keras2_h5
        from facepipe.upscale.sr import build_network

        monkeypatch.delenv("FACEPIPE_MODEL_CACHE")
        arch = dict(cfg.network)
        keras2_h5.save(
            build_network(arch["name"], arch["scale"], arch["filters"], arch["blocks"]), tmp_path / "weights.h5"
        )
        models = ModelStore(
            tmp_path / "cache",
            {cfg.weights: models.spec(cfg.weights)},
            progress=False,
            files={cfg.weights: str(tmp_path / "weights.h5")},
        )
    upscaler = load_factory(cfg._target_, "upscaler")(cfg, models)
    assert upscaler.size == cfg.output_size and upscaler.name == option


@pytest.mark.parametrize("option", _options("generator"))
def test_every_generator_option_builds(option, models, tmp_path, monkeypatch):
    cfg = compose_cfg([f"generator={option}"]).generator
    if (
        cfg.model and models.spec(cfg.model).source.kind == "url"
    ):  # the reference pg-GAN (no internet here): a file in its layout
        sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
        from make_pggan_pickle import write

        monkeypatch.delenv("FACEPIPE_MODEL_CACHE")
        pkl = write(tmp_path / "g.pkl", resolution=1024, fmap_base=8192, fmap_max=512, latent_size=512)
        spec = replace(models.spec(cfg.model), size=pkl.stat().st_size)
        models = ModelStore(tmp_path / "cache", {cfg.model: spec}, progress=False, files={cfg.model: str(pkl)})
    generator = load_factory(cfg._target_, "generator")(cfg, models)
    assert generator.latent_dim > 0 and generator.resolution >= 64


def test_cli_style_overrides_reach_the_typed_config():
    cfg = compose_cfg(["attributes=old_male", "sweep.max_angle=60", "seed=7", "upscaler.output_size=512"])
    assert cfg.attributes.targets == {"Male": 1.0, "Young": 0.0}
    assert (cfg.sweep.max_angle, cfg.seed, cfg.upscaler.output_size) == (60, 7, 512)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("sweep.max_angle=abc", "sweep.max_angle"),
        ("sweep.max_angle=91", "sweep.max_angle=91"),
        ("sweep.max_angle=-5", "sweep.max_angle=-5"),
        ("sweep.step=0", "sweep.step=0"),
        ("sweep.step=7", "sweep.step=7 is invalid; valid: a divisor of sweep.max_angle=30 (the grid holds 0 and"),
        ("sweep.n_random=1000000", "sweep.n_random=1000000 is invalid; valid: an integer in [0, 100000]"),
        ("upscaler.output_size=-4", "upscaler.output_size=-4"),
        ("upscaler.format=gif", "upscaler.format='gif'"),
        ("generator.truncation=-1", "generator.truncation=-1"),
        ("seed=-1", "seed=-1"),
        ("output_dir=/", "output_dir='/' is invalid; valid: a folder for the person folders, not a filesystem root"),
        ("directions.walk=diagonal", "directions.walk='diagonal'"),
        ("directions.metric=pixels", "directions.metric='pixels'"),
        ("directions.metric_ridge=0", "directions.metric_ridge=0"),
    ],
)
def test_bad_values_raise_one_line_config_errors(override, fragment):
    with pytest.raises(ConfigError) as info:
        compose_cfg([override])
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_unknown_factory_is_a_config_error():
    with pytest.raises(ConfigError, match="no_such_module"):
        load_factory("facepipe.no_such_module.build", "upscaler")


def test_conf_defaults_are_the_schema_defaults():
    """conf/ and the dataclasses state each default once in effect: composing conf/ with no overrides gives
    exactly the schema's defaults, so neither can drift from the other."""
    from dataclasses import asdict

    from facepipe.config import FacepipeConfig

    composed = asdict(compose_cfg([]))
    schema = asdict(FacepipeConfig())
    shared = ("output_size", "format", "quality", "png_level")  # each upscaler option's own keys are its YAML's
    composed["upscaler"] = {k: v for k, v in composed["upscaler"].items() if k in shared}
    schema["upscaler"] = {k: v for k, v in schema["upscaler"].items() if k in shared}
    differ = {key: (composed[key], schema[key]) for key in schema if composed[key] != schema[key]}
    assert differ == {}
