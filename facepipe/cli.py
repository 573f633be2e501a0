"""The Hydra entry point: `python -m facepipe [group=option ...] [key=value ...] [--multirun]`.

Composes `conf/`, validates it into `FacepipeConfig`, runs one job. Expected failures
(`FacepipeError`) print one line and exit with status 2; in a multirun they are re-raised so the
launcher reports which job failed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from facepipe.config_loader import load
from facepipe.errors import ConfigError, FacepipeError
from facepipe.pipeline import run_job
from facepipe.tracking import read_parent_run_id

__all__ = ["main", "compose", "compose_params", "check_group_choices", "free_keys", "CONF_DIR"]

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
log = logging.getLogger("facepipe")


def compose(overrides: list[str], version_base: str | None = "1.3") -> DictConfig:
    """Compose `conf/` with `overrides` outside a Hydra app (tests, benchmarks, `facepipe params`)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(str(CONF_DIR), version_base=version_base):
        return hydra_compose(config_name="config", overrides=free_keys(list(overrides)))


def compose_params(overrides: list[str]) -> str:
    """`conf/` composed with `overrides` and resolved, as YAML: what DVC's Hydra integration writes."""
    cfg = compose(overrides, version_base=None)  # DVC composes with version_base=None too
    OmegaConf.resolve(cfg)
    return OmegaConf.to_yaml(cfg)


# Config dicts whose keys are the user's to choose: `attributes.targets.Eyeglasses=1` adds a key that
# the preset may not have, which Hydra accepts only as `++attributes.targets.Eyeglasses=1`; likewise
# `paths.model_files.<model>=/local/copy`.
FREE_KEY_DICTS = ("attributes.targets.", "paths.model_files.")


def free_keys(argv: list[str]) -> list[str]:
    """`argv` with each plain `attributes.targets.<name>=v` (or `paths.model_files.<name>=path`)
    written as Hydra's add-or-override `++...`."""
    return [f"++{a}" if a.startswith(FREE_KEY_DICTS) and "=" in a else a for a in argv]


def check_group_choices(argv: list[str]) -> None:
    """Refuse `group=option` overrides naming an option that does not exist, in one line.

    Hydra would refuse them too, but with a multi-line report; this runs first and names the valid
    options. Sweeps (`upscaler=bilinear,fsrcnn`) are checked option by option.

    Raises:
        ConfigError: an unknown option of a config group.
    """
    for arg in argv:
        key, sep, value = arg.partition("=")
        group_dir = CONF_DIR / key
        if not sep or key.startswith(("+", "~", "-")) or "." in key or not group_dir.is_dir():
            continue
        valid = sorted(p.stem for p in group_dir.glob("*.yaml") if not p.stem.startswith("_"))  # _x: shared parts
        for option in value.split(","):
            if option not in valid:
                raise ConfigError(f"{key}={option!r} is not an option of group '{key}'; valid: {', '.join(valid)}")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(raw: DictConfig) -> None:
    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        cfg = load(raw)
        parent = read_parent_run_id(hc.sweep.dir) if multirun else None
        tags = {"facepipe.sweep_dir": str(hc.sweep.dir), "facepipe.job_num": str(hc.job.num)} if multirun else {}
        result = run_job(cfg, parent_run_id=parent, tags=tags)
    except FacepipeError as e:
        if multirun:
            raise
        print(f"facepipe: error: {e}", file=sys.stderr)
        sys.exit(2)
    log.info("person %s: %s", result.person.id, result.person.dir)
    log.info("upscaled %d image(s) to %s", len(result.upscaled.files), result.upscaled.dir)
