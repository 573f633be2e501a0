"""Stage `train_generator`: a conditional face generator trained on UTKFace, resumable over many sessions.

The run lives in `run_dir` (outside the work tree: `~/.cache/facepipe/train/<name>` by default):
TensorFlow checkpoints every few minutes, `metrics.jsonl`, 8x8 sample sheets under `samples/` and
`snapshot.npz`, a compact fp16 copy of G, its EMA and D (no optimiser state) that a fresh machine
resumes from when the run folder is gone. `export` writes the EMA generator's weights and card to
`models/generator/`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

import numpy as np

from facepipe.config import TrainGeneratorConf
from facepipe.io import publish_bytes

__all__ = [
    "run",
    "export",
    "resume_path",
    "sheet_inputs",
    "write_sheet",
    "export_snapshot",
    "load_snapshot",
    "export_weights",
    "default_run_dir",
    "run_dir_of",
    "training_faces",
]

SHEET_ROWS = [  # (age, male, ethnicity code) of each sample-sheet row; columns are 8 latents
    (25, 1, 0),
    (25, 0, 0),
    (40, 1, 1),
    (30, 0, 2),
    (60, 1, 3),
    (70, 0, 0),
    (8, 1, 2),
    (50, 0, 1),
]


def resume_path(cfg: TrainGeneratorConf) -> Path:
    """The committed compact checkpoint a fresh machine resumes from: `<out_dir>/<name>.resume.npz`."""
    from facepipe.io import project_path

    return project_path(Path(cfg.out_dir) / f"{cfg.name}.resume.npz")


def default_run_dir(name: str) -> Path:
    root = os.environ.get("FACEPIPE_TRAIN_DIR") or Path.home() / ".cache" / "facepipe" / "train"
    return Path(root) / name


def run_dir_of(cfg: TrainGeneratorConf) -> Path:
    """`train_generator.run_dir`, or `default_run_dir(name)` when it is null."""
    return Path(cfg.run_dir) if cfg.run_dir else default_run_dir(cfg.name)


def training_faces(cfg: TrainGeneratorConf) -> Any:
    """The training split of UTKFace at the GAN's resolution (`data.utkface.held_out_split`)."""
    from facepipe.data import utkface

    faces = utkface.load(cfg.data_dir, cfg.gan.resolution, utkface.CACHE_DIR)
    return faces.take(utkface.held_out_split(len(faces.images), cfg.split_seed)[0])


def _labels(faces: Any) -> dict[str, np.ndarray]:
    """The (age, male, ethnicity) rows conditions are sampled from."""
    return {
        "age": faces.age.astype(np.uint8),
        "male": faces.male.astype(np.uint8),
        "ethnicity": faces.ethnicity.astype(np.uint8),
    }


def sheet_inputs(z_dim: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """The fixed 64 latents and conditions of the 8x8 sample sheet (rows: `SHEET_ROWS`)."""
    from facepipe.generate.conditions import encode_conditions

    z = np.random.default_rng(seed).standard_normal((8, z_dim)).astype(np.float32)
    rows = np.repeat(np.array(SHEET_ROWS), 8, axis=0)
    return np.tile(z, (8, 1)), encode_conditions(rows[:, 0], rows[:, 1], rows[:, 2])


def write_sheet(path: Path, images_m11: np.ndarray) -> None:
    """An 8x8 PNG of 64 images `[64, R, R, 3]` in [-1, 1], written atomically."""
    from facepipe.generate.base import from_m11
    from facepipe.io import write_image

    x = from_m11(images_m11)
    n, r = len(x), x.shape[1]
    grid = x.reshape(8, n // 8, r, r, 3).transpose(0, 2, 1, 3, 4).reshape(8 * r, n // 8 * r, 3)
    write_image(path, grid, overwrite=True)


def export_snapshot(trainer: Any, path: Path) -> None:
    """fp16 weights of G, G_ema and D plus the step and settings: a compact resumable checkpoint."""
    from facepipe.io import atomic_write

    arrays = {
        f"{net}/{w.path}": w.numpy().astype(np.float16)
        for net in ("G", "G_ema", "D")
        for w in getattr(trainer, net).weights
    }
    arrays["step"] = np.array(int(trainer.step.numpy()))
    arrays["settings"] = np.array(json.dumps(asdict(trainer.settings)))
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)


def load_snapshot(trainer: Any, path: Path) -> int:
    """Load `export_snapshot`'s file into a fresh trainer (optimisers start anew). Returns the step.

    Raises:
        ValueError: a weight is missing, unexpected, or of another shape.
    """
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    expected = set()
    for net in ("G", "G_ema", "D"):
        for w in getattr(trainer, net).weights:
            key = f"{net}/{w.path}"
            expected.add(key)
            if key not in arrays or arrays[key].shape != tuple(w.shape):
                raise ValueError(f"snapshot {path} lacks {key!r} of shape {tuple(w.shape)}")
            w.assign(arrays[key].astype(np.float32))
    leftover = sorted(set(arrays) - expected - {"step", "settings"})
    if leftover:
        raise ValueError(f"snapshot {path} has weights the networks do not: {leftover[:5]}")
    trainer.step.assign(int(arrays["step"]))
    return int(arrays["step"])


def export_weights(trainer: Any, out_dir: Path, name: str, labels: dict, card: dict) -> Path:
    """The EMA generator as `<name>.npz` (float32 weights keyed `G/<path>`, the settings as `meta`, the
    training labels as `labels/*` for sampling conditions) and its card `<name>.json`."""
    from facepipe.io import atomic_write, sha256_file, write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.npz"
    arrays = {f"G/{w.path}": w.numpy() for w in trainer.G_ema.weights}
    arrays["meta"] = np.array(json.dumps({"format": 1, **asdict(trainer.settings)}))
    arrays.update({f"labels/{k}": np.asarray(v) for k, v in labels.items()})
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)
    write_json(out_dir / f"{name}.json", {**card, "weights_sha256": sha256_file(path)}, overwrite=True)
    return path


def _append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def run(cfg: TrainGeneratorConf, tracker: Any = None, log: Any = print) -> dict:
    """Train (or resume) the run, then export the EMA weights. Returns a summary."""
    from facepipe._tf import tensorflow
    from facepipe.generate.conditions import encode_conditions
    from facepipe.generate.gan_train import GanTrainer

    settings = cfg.gan
    run_dir = run_dir_of(cfg)
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    tf = tensorflow()
    if cfg.threads:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
    faces = training_faces(cfg)
    conds = encode_conditions(faces.age, faces.male, faces.ethnicity)
    trainer = GanTrainer(settings, run_dir / "checkpoints", log=log)
    snapshot = run_dir / "snapshot.npz"
    committed = resume_path(cfg)
    if int(trainer.step.numpy()) == 0:
        for source in (snapshot, committed):  # a fresh machine: the run folder's snapshot, else the committed one
            if source.is_file():
                log(f"resumed from snapshot {source} (step {load_snapshot(trainer, source)}; optimisers restart)")
                break
    sheet_z, sheet_c = sheet_inputs(settings.z_dim)
    timers = {"sample": time.time(), "snapshot": time.time()}

    def on_log(step: int, metrics: dict) -> None:
        kimg = step * settings.batch_size / 1000
        _append_jsonl(run_dir / "metrics.jsonl", {"step": step, "kimg": kimg, "time": time.time(), **metrics})
        if tracker is not None:
            tracker.log_metrics({**metrics, "kimg": kimg}, step=step)
        log(f"step {step} kimg {kimg:.1f} " + " ".join(f"{k} {v:.3f}" for k, v in metrics.items()))

    def on_checkpoint(step: int, final: bool = False) -> None:
        if final or time.time() - timers["sample"] > cfg.sample_minutes * 60:
            sheet = run_dir / "samples" / f"step{step:07d}.png"
            write_sheet(sheet, trainer.sample(sheet_z, sheet_c))
            if tracker is not None:
                tracker.log_artifact(sheet, "samples")
            timers["sample"] = time.time()
        if final or time.time() - timers["snapshot"] > cfg.snapshot_minutes * 60:
            export_snapshot(trainer, snapshot)
            timers["snapshot"] = time.time()

    started = time.time()
    deadline = started + cfg.minutes * 60 if cfg.minutes else float("inf")
    until = int(np.ceil(cfg.total_kimg * 1000 / settings.batch_size))
    step = trainer.train(faces.images, conds, until, deadline, cfg.checkpoint_minutes * 60, on_log, on_checkpoint)
    on_checkpoint(step, final=True)  # writes the run folder's snapshot.npz
    weights = export(cfg, trainer=trainer, labels=_labels(faces))
    publish_bytes(resume_path(cfg), snapshot.read_bytes(), overwrite=True)
    return {
        "step": step,
        "kimg": step * settings.batch_size / 1000,
        "seconds": time.time() - started,
        "run_dir": str(run_dir),
        "weights": str(weights),
    }


def export(
    cfg: TrainGeneratorConf,
    out_dir: Optional[str] = None,
    card: Optional[dict] = None,
    trainer: Any = None,
    labels: Optional[dict[str, np.ndarray]] = None,
) -> Path:
    """Write the run's latest EMA generator (from `trainer`, else its checkpoint) to `<out_dir>/<name>.npz`
    with its card; `labels` are the training rows (read from the data when not given)."""
    from facepipe.generate.gan_train import GanTrainer

    settings = cfg.gan
    run_dir = run_dir_of(cfg)
    if trainer is None:
        trainer = GanTrainer(settings, run_dir / "checkpoints", log=lambda m: None)
    step = int(trainer.step.numpy())
    if step == 0:
        raise ValueError(f"run {str(run_dir)!r} has no checkpoint to export")
    info = {
        "name": cfg.name,
        "step": step,
        "kimg": step * settings.batch_size / 1000,
        "data": "UTKFace 200 px (../shared/data/utkface-200px.tar), training split of "
        f"utkface.held_out_split(seed={cfg.split_seed}); research-only licence",
        **(card or {}),
    }
    labels = _labels(training_faces(cfg)) if labels is None else labels
    return export_weights(trainer, Path(out_dir or cfg.out_dir), cfg.name, labels, info)
