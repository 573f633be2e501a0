"""The one dispatcher of stages: a job (generate -> reposition -> upscale for one person, one MLflow
run) and any single stage by name (`facepipe stage NAME`, what `dvc repro` runs).

Stage names are defined here, once. This is the only module outside `stages/` that imports `stages/`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from facepipe import io, layout
from facepipe.config import FacepipeConfig
from facepipe.errors import ConfigError
from facepipe.generate import person_id
from facepipe.models.registry import ModelStore
from facepipe.stages import generate, reposition, upscale
from facepipe.tracking import Tracker

__all__ = ["JobResult", "run_job", "run_stage", "STAGES", "PIPELINE_STAGES", "TRAINING_STAGES"]

PIPELINE_STAGES = ("generate", "reposition", "upscale")  # DVC outs under paths.pipeline_dir
TRAINING_STAGES = ("train_classifiers", "learn_directions", "train_sr", "learn_shading", "train_generator")
STAGES = PIPELINE_STAGES + TRAINING_STAGES


@dataclass(frozen=True)
class JobResult:
    person: generate.GeneratedPerson
    dataset: reposition.RepositionResult
    upscaled: upscale.UpscaleResult
    run_id: Optional[str]


def run_job(
    cfg: FacepipeConfig, parent_run_id: Optional[str] = None, tags: Optional[dict[str, str]] = None
) -> JobResult:
    """Run the whole pipeline for the person of `cfg` under `cfg.output_dir/<person id>/`."""
    start = time.perf_counter()
    out_root = io.ensure_writable_dir(cfg.output_dir)
    models = ModelStore.for_paths(cfg.paths)
    photo = cfg.reposition.image
    who = f"photo {Path(photo).name}" if photo else person_id(cfg)
    with Tracker(
        cfg.tracking, f"{who} {cfg.upscaler.name}", {"facepipe.role": "job", **(tags or {})}, parent_run_id
    ) as tracker:
        tracker.log_config(cfg)
        person = generate.source_person(cfg, out_root, models, tracker)
        dataset = reposition.run(cfg, person.face, person.dir, models, tracker, latent=person.latent)
        upscaled_root = person.dir / layout.UPSCALED_DIR
        u = cfg.upscaler
        result = upscale.run(
            cfg,
            person.dir,
            upscaled_root / layout.upscaled_dir_name(u.name, u.output_size, u.format),
            models,
            tracker,
            exclude=(upscaled_root, dataset.contact_sheet),
        )
        for path in result.files[:16]:  # the face (and a few more); whole datasets go in as a dataset input
            tracker.log_artifact(path, "upscaled")
        tracker.log_metrics({"total_s": time.perf_counter() - start})
    return JobResult(person=person, dataset=dataset, upscaled=result, run_id=tracker.run_id)


def _person_dirs(root: Path) -> list[Path]:
    found = layout.person_dirs(root)
    if not found:
        raise ConfigError(
            f"--in {str(root)!r} holds no person folder (<id>/{layout.FACE_FILE}); "
            "valid: the output folder of `facepipe stage generate`"
        )
    return found


def _pipeline_stage(
    name: str, cfg: FacepipeConfig, inputs: list[Path], out: Path, models: ModelStore, tracker: Tracker
) -> list[str]:
    if name == "generate":
        person = generate.source_person(cfg, out, models, tracker)
        return [f"person {person.id} -> {person.dir}"]
    if not inputs:
        raise ConfigError(f"stage {name} needs --in DIR; valid: the output folder of the stage before it")
    report = []
    if name == "reposition":
        for person_dir in _person_dirs(inputs[0]):
            latent_file = person_dir / layout.LATENT_FILE
            latent = np.load(latent_file, allow_pickle=False) if latent_file.is_file() else None
            face = io.read_image(person_dir / layout.FACE_FILE)
            result = reposition.run(cfg, face, out / person_dir.name, models, tracker, latent=latent)
            report.append(f"repositioned {len(result.files)} image(s) -> {result.dir}")
        return report
    for src in inputs:  # upscale: each --in folder mirrored into --out (contact sheets are overviews, not data)
        sheets = tuple(src.rglob(layout.CONTACT_SHEET_FILE))
        result = upscale.run(cfg, src, out, models, tracker, exclude=sheets)
        report.append(f"upscaled {len(result.files)} image(s) from {src} -> {result.dir}")
    return report


def _training_stage(
    name: str, cfg: FacepipeConfig, models: ModelStore, tracker: Tracker, members: tuple[str, ...] = ()
) -> list[str]:
    if name == "train_classifiers":
        from facepipe.stages import train_classifiers

        chosen = members or train_classifiers.MEMBERS
        return [
            f"{m}: {cfg.classifiers.dir}/{m}.weights.h5"
            for m in train_classifiers.run(cfg.classifiers, tracker, chosen)
        ]
    if name == "train_sr":
        from facepipe.stages import train_sr

        train_sr.run(cfg.sr, tracker)
        return [f"sr -> {cfg.sr.dir}"]
    if name == "learn_shading":
        from facepipe.stages import learn_shading

        return [f"shading -> {learn_shading.run(cfg.shading, models, tracker)}"]
    if name == "learn_directions":
        from facepipe.stages import learn_directions

        return [f"directions -> {learn_directions.run(cfg, models, tracker)}"]
    if name == "train_generator":
        from facepipe.stages import train_generator

        summary = train_generator.run(cfg.train_generator, tracker)
        return [f"generator -> {summary['weights']} (step {summary['step']}, {summary['kimg']:.0f} kimg)"]
    raise ConfigError(f"stage {name!r} is unknown; valid: {', '.join(STAGES)}")


def run_stage(
    name: str, cfg: FacepipeConfig, inputs: list[Path], out: Optional[Path], members: tuple[str, ...] = ()
) -> list[str]:
    """Run one stage by name in its own MLflow run; returns lines to print.

    Training stages turn oneDNN back on before TensorFlow loads (`_tf` turns it off for byte-identical
    inference): it trains about 1.5x faster here, and their artifact is the committed weights.

    Raises:
        ConfigError: an unknown stage, or a pipeline stage without the folders it needs.
    """
    if name not in STAGES:
        raise ConfigError(f"stage {name!r} is unknown; valid: {', '.join(STAGES)}")
    if name in ("train_classifiers", "train_sr", "train_generator") and "tensorflow" not in sys.modules:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    if name in PIPELINE_STAGES and out is None:
        raise ConfigError(f"stage {name} needs --out DIR; valid: a folder for the stage's outputs")
    models = ModelStore.for_paths(cfg.paths)
    with Tracker(cfg.tracking, f"stage {name}", {"facepipe.role": "stage", "facepipe.stage": name}) as tracker:
        tracker.log_config(cfg)
        if name in PIPELINE_STAGES:
            return _pipeline_stage(name, cfg, [Path(p) for p in inputs], Path(out), models, tracker)
        return _training_stage(name, cfg, models, tracker, members)
