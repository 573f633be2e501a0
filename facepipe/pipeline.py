"""One job = one person: generate (or take a photo), reposition, upscale, in the person's folder.

Tracked as one MLflow run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from facepipe import io
from facepipe.config import FacepipeConfig
from facepipe.generate import person_id
from facepipe.models.registry import ModelStore
from facepipe.stages import generate, reposition, upscale
from facepipe.tracking import Tracker

__all__ = ["JobResult", "run_job", "UPSCALED_DIR"]

UPSCALED_DIR = "upscaled"  # inside a person folder: one subfolder per upscaler setting


@dataclass(frozen=True)
class JobResult:
    person: generate.GeneratedPerson
    dataset: reposition.RepositionResult
    upscaled: upscale.UpscaleResult
    run_id: Optional[str]


def run_job(cfg: FacepipeConfig, parent_run_id: Optional[str] = None,
            tags: Optional[dict[str, str]] = None) -> JobResult:
    """Run the whole pipeline for the person of `cfg` under `cfg.output_dir/<person id>/`."""
    start = time.perf_counter()
    out_root = io.ensure_writable_dir(cfg.output_dir)
    models = ModelStore.for_paths(cfg.paths)
    photo = cfg.reposition.image
    who = f"photo {Path(photo).name}" if photo else person_id(cfg)
    with Tracker(cfg.tracking, f"{who} {cfg.upscaler.name}", {"facepipe.role": "job", **(tags or {})},
                 parent_run_id) as tracker:
        tracker.log_config(cfg)
        person = generate.source_person(cfg, out_root, models, tracker)
        dataset = reposition.run(cfg, person.face, person.dir, models, tracker)
        upscaled_root = person.dir / UPSCALED_DIR
        result = upscale.run(cfg, person.dir, upscaled_root / upscale.upscaled_dir_name(cfg.upscaler),
                             models, tracker, exclude=(upscaled_root, dataset.contact_sheet))
        for path in result.files[:16]:  # the face (and a few more); whole datasets go in as a dataset input
            tracker.log_artifact(path, "upscaled")
        tracker.log_metrics({"total_s": time.perf_counter() - start})
    return JobResult(person=person, dataset=dataset, upscaled=result, run_id=tracker.run_id)
