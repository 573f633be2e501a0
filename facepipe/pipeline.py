"""One job = one person: generate, then upscale, in the person's folder, tracked as one MLflow run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from facepipe import io
from facepipe.config import FacepipeConfig
from facepipe.generate import person_id
from facepipe.models.registry import ModelStore
from facepipe.stages import generate, upscale
from facepipe.tracking import Tracker

__all__ = ["JobResult", "run_job", "UPSCALED_DIR"]

UPSCALED_DIR = "upscaled"  # inside a person folder: one subfolder per upscaler setting


@dataclass(frozen=True)
class JobResult:
    person: generate.GeneratedPerson
    upscaled: upscale.UpscaleResult
    run_id: Optional[str]


def run_job(cfg: FacepipeConfig, parent_run_id: Optional[str] = None,
            tags: Optional[dict[str, str]] = None) -> JobResult:
    """Run the whole pipeline for the person of `cfg` under `cfg.output_dir/<person id>/`."""
    start = time.perf_counter()
    out_root = io.ensure_writable_dir(cfg.output_dir)
    models = ModelStore(cfg.paths.model_cache)
    run_name = f"{person_id(cfg)} {cfg.upscaler.name}"
    with Tracker(cfg.tracking, run_name, {"facepipe.role": "job", **(tags or {})}, parent_run_id) as tracker:
        tracker.log_config(cfg)
        person = generate.run(cfg, out_root, models, tracker)
        upscaled_root = person.dir / UPSCALED_DIR
        result = upscale.run(cfg, person.dir, upscaled_root / upscale.upscaled_dir_name(cfg.upscaler),
                             models, tracker, exclude=(upscaled_root,))
        for path in result.files[:16]:  # the face (and a few more); whole datasets go in as a dataset input
            tracker.log_artifact(path, "upscaled")
        tracker.log_metrics({"total_s": time.perf_counter() - start})
    return JobResult(person=person, upscaled=result, run_id=tracker.run_id)
