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
from omegaconf import DictConfig

from facepipe.config import load
from facepipe.errors import FacepipeError
from facepipe.pipeline import run_job
from facepipe.tracking import read_parent_run_id

__all__ = ["main", "CONF_DIR"]

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
log = logging.getLogger("facepipe")


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
