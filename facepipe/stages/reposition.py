"""The reposition stage: one source face -> a dataset of shots, labels.csv and a contact sheet.

Layout inside the person folder:
    dataset/<shot name>.png    one image per shot of `reposition.plan` (grid, then random)
    dataset/reposition.json    the settings that own the folder (resume / conflict check)
    labels.csv                 one row per image: the request and the pose measured on the image
    contact_sheet.png          the whole dataset at a glance

Images are streamed: rendered (in `reposition.workers` processes for a large dataset, `render_pool`),
handed to a writer thread and pasted into the sheet one at a time, so memory does not grow with the
number of shots. A rerun with the same settings keeps every image
already on disk (atomic writes make each one complete) and renders only the missing ones.
"""

from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm import tqdm

from facepipe import io
from facepipe.config import FacepipeConfig, to_dict
from facepipe.errors import ConfigError
from facepipe.evaluate.dataset import pose_errors
from facepipe.layout import CONTACT_SHEET_FILE, DATASET_DIR, LABELS_FILE, REPOSITION_SETTINGS_FILE, dataset_image
from facepipe.models.registry import ModelStore
from facepipe.reposition import render_pool
from facepipe.reposition.contact_sheet import ContactSheet
from facepipe.reposition.plan import LabelRow, Shot, plan, write_labels
from facepipe.tracking import Tracker

__all__ = ["RepositionResult", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepositionResult:
    """What the reposition stage produced (paths absolute, `files` in plan order)."""

    dir: Path
    files: list[Path]
    labels: Path
    contact_sheet: Path
    rows: list[LabelRow]
    metrics: dict[str, float]
    written: int
    seconds: float


def _settings(cfg: FacepipeConfig) -> dict:
    """What owns a dataset folder: a rerun with other settings is a conflict, not a silent mix. The
    shading model counts by content, so a retrained `shading.npz` at the same path is another setting."""
    tree = to_dict(cfg)
    settings = {
        "seed": cfg.seed,
        "sweep": tree["sweep"],
        "expressions": tree["expressions"],
        "reposition": {k: v for k, v in tree["reposition"].items() if k not in ("image", "workers")},
    }
    if cfg.reposition.name == "mesh" and cfg.reposition.shading:
        shading = io.project_path(cfg.reposition.shading)
        settings["shading_sha256"] = io.sha256_file(shading) if shading.is_file() else None
    return settings


def run(
    cfg: FacepipeConfig,
    source: np.ndarray,
    person_dir: Path,
    models: ModelStore,
    tracker: Tracker,
    latent: Optional[np.ndarray] = None,
) -> RepositionResult:
    """Render the dataset of `source` (`[H, W, 3]` uint8, the person's face) into `person_dir`.

    `latent` is the person's generator latent (`[D]`), which the latent backend needs; None for a photo.

    Raises:
        NoFaceError: the source face cannot be landmarked.
        OutputConflict: the folder holds a dataset of other settings and overwrite is false.
    """
    start = time.perf_counter()
    shots = plan(cfg.seed, cfg.sweep, cfg.expressions)
    repositioner = render_pool.repositioner_for(cfg, models)
    unsupported = [n for n in cfg.expressions.names if n not in repositioner.expressions]
    if unsupported:
        raise ConfigError(
            f"expressions.names={unsupported} cannot be made by reposition={repositioner.name}; "
            f"valid: {', '.join(repositioner.expressions)}"
        )
    prepared = repositioner.prepare(source, latent)
    dataset_dir = io.ensure_writable_dir(Path(person_dir) / DATASET_DIR)
    resuming = io.claim_dir(
        dataset_dir / REPOSITION_SETTINGS_FILE, _settings(cfg), cfg.overwrite, "dataset settings", "*.png"
    )
    src_pose = repositioner.source_pose(prepared)
    sheet = ContactSheet(shots, crop=repositioner.face_box(prepared))
    rows: list[LabelRow] = []
    files: list[Path] = []
    digests: list[Future | str] = []
    written = 0

    def write(path: Path, image: np.ndarray) -> str:
        data = io.encode_image(image, "png")
        io.publish_bytes(path, data, cfg.overwrite)
        return io.sha256_bytes(data)

    def image_path(shot: Shot) -> Path:
        return dataset_image(person_dir, shot.name)

    def existing(shot: Shot) -> Optional[Path]:
        path = image_path(shot)
        return path if resuming and path.exists() else None

    produced = render_pool.produce(cfg, models, repositioner, prepared, shots, existing)
    with ThreadPoolExecutor(max_workers=1) as writer:
        for done in tqdm(produced, desc="reposition", unit="img", total=len(shots), disable=len(shots) < 2):
            path = image_path(done.shot)
            if done.rendered:
                digests.append(writer.submit(write, path, done.image))
                written += 1
            else:
                digests.append(io.sha256_file(path))
            sheet.paste(done.shot, done.image)
            pose = done.pose  # None: not measured, or no face
            measured = (pose.yaw, pose.pitch, pose.roll) if pose else (None, None, None)
            rows.append(LabelRow(f"{DATASET_DIR}/{path.name}", done.shot, *measured))
            files.append(path)
        hashes = [d.result() if isinstance(d, Future) else d for d in digests]

    labels = Path(person_dir) / LABELS_FILE
    write_labels(labels, rows, cfg.overwrite)
    sheet_path = Path(person_dir) / CONTACT_SHEET_FILE
    io.publish_bytes(sheet_path, io.encode_image(sheet.image, "png"), cfg.overwrite)
    seconds = time.perf_counter() - start

    metrics = {f"reposition_{k}": v for k, v in pose_errors(rows).items()} if cfg.reposition.measure else {}
    metrics.update(
        {
            "reposition_s": seconds,
            "reposition_images": len(shots),
            "reposition_images_per_s": written / seconds if written else 0.0,
            "source_yaw": src_pose.yaw,
            "source_pitch": src_pose.pitch,
            "source_roll": src_pose.roll,
        }
    )
    tracker.log_metrics(metrics)
    tracker.log_artifact(labels, "dataset")
    tracker.log_artifact(sheet_path, "dataset")
    digest = hashlib.sha256("".join(hashes).encode()).hexdigest()
    tracker.log_dataset(
        dataset_dir, name=f"{Path(person_dir).name}-{DATASET_DIR}", digest=digest, context="repositioned"
    )
    log.info("reposition: %d images (%d new) -> %s", len(shots), written, dataset_dir)
    return RepositionResult(
        dir=dataset_dir,
        files=files,
        labels=labels,
        contact_sheet=sheet_path,
        rows=rows,
        metrics=metrics,
        written=written,
        seconds=seconds,
    )
