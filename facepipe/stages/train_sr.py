"""Stage `train_sr`: the face super-resolution model, trained on the shared faces and carded.

Splits each face set by `sr.split_seed` (the held-out part is never trained on and is what the card's
figures, and `python -m facepipe.evaluate sr`, are computed on), trains with per-epoch checkpoints
(an interrupted run resumes), writes `<sr.dir>/<sr.name>.weights.h5` in the Keras 2 HDF5 layout the
published SR weights use (one loader for both) and `<sr.name>.json`, the card.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from facepipe.config import SRConf
from facepipe.data import hr_faces
from facepipe.data.hr_faces import FILES, load_hr_faces
from facepipe.evaluate.sr import degrade, psnr_ssim_y
from facepipe.io import sha256_file, write_json
from facepipe.models import keras2_h5

__all__ = ["run", "network", "held_out_faces", "weights_path", "split_sets", "figures", "predictor"]


def network(cfg: SRConf):
    """The configured architecture, untrained."""
    from facepipe.upscale.sr import build_network

    return build_network(cfg.architecture, cfg.scale, cfg.filters, cfg.blocks, key="sr")


def weights_path(cfg: SRConf) -> Path:
    return Path(cfg.dir) / f"{cfg.name}.weights.h5"


def split_sets(sets: dict, cfg: SRConf) -> tuple[dict, dict]:
    return hr_faces.split_sets(sets, cfg.split_seed, cfg.held_out)


def held_out_faces(cfg: SRConf, limit: int | None = None) -> dict[str, np.ndarray]:
    """Each face set's held-out part (never trained on): the evaluation set."""
    return hr_faces.held_out_faces(cfg.data_dir, cfg.split_seed, cfg.held_out, limit)


def figures(upscale: Callable[[np.ndarray], np.ndarray], held: dict[str, np.ndarray], scale: int) -> dict:
    """Mean Y-channel PSNR/SSIM of `upscale(LR batch) -> HR batch` and of bicubic, per face set."""
    out = {}
    for name, hr in held.items():
        lr = np.stack([degrade(h, scale) for h in hr])
        ours = psnr_ssim_y(upscale(lr), hr, scale)
        bicubic = np.stack([cv2.resize(x, hr.shape[2:0:-1], interpolation=cv2.INTER_CUBIC) for x in lr])
        base = psnr_ssim_y(bicubic, hr, scale)
        out[name] = {
            "faces": len(hr),
            "psnr": round(float(ours[0].mean()), 3),
            "ssim": round(float(ours[1].mean()), 4),
            "bicubic_psnr": round(float(base[0].mean()), 3),
            "bicubic_ssim": round(float(base[1].mean()), 4),
        }
        out[name]["gain_db"] = round(out[name]["psnr"] - out[name]["bicubic_psnr"], 3)
    return out


def predictor(net, batch_size: int = 16) -> Callable[[np.ndarray], np.ndarray]:
    """uint8 LR batch -> uint8 SR batch through `net` (RGB [0, 255] both ends)."""

    def run(lr: np.ndarray) -> np.ndarray:
        out = [
            np.asarray(net(lr[i : i + batch_size].astype(np.float32), training=False))
            for i in range(0, len(lr), batch_size)
        ]
        return np.clip(np.rint(np.concatenate(out)), 0, 255).astype(np.uint8)

    return run


def run(cfg: SRConf, tracker, limit: int | None = None, log: Callable[[str], None] = print) -> dict:
    """Train (or resume) the face SR model, evaluate it on the held-out faces, write weights and card."""
    from facepipe.upscale.sr.train import train

    sets = load_hr_faces(cfg.data_dir, limit)
    train_sets, held = split_sets(sets, cfg)
    log(
        f"sr: training on {', '.join(f'{len(v)} {k}' for k, v in train_sets.items())} faces; "
        f"held out {', '.join(f'{len(v)} {k}' for k, v in held.items())}"
    )
    net = train(
        network(cfg),
        list(train_sets.values()),
        Path(cfg.checkpoint_dir) / cfg.name,
        cfg.scale,
        cfg.seed,
        cfg.epochs,
        cfg.steps_per_epoch,
        cfg.batch_size,
        cfg.patch,
        cfg.learning_rate,
        log,
    )
    result = figures(predictor(net), held, cfg.scale)
    weights = weights_path(cfg)
    keras2_h5.save(net, weights)
    root = Path(cfg.data_dir)
    card = {
        **asdict(cfg),
        "parameters": int(net.count_params()),
        "weights_sha256": sha256_file(weights),
        "data": {
            "files": FILES,
            "sha256": {k: sha256_file(root / f) for k, f in FILES.items()},
            "training_faces": {k: len(v) for k, v in train_sets.items()},
            "held_out_faces": {k: len(v) for k, v in held.items()},
        },
        "split": "numpy.random.default_rng(split_seed).permutation(n); the first round(n * held_out) are "
        "held out (n = faces in each set, sorted by file name)",
        "degradation": "area downscale (cv2.INTER_AREA) by scale; metrics on BT.601 Y, scale px border cropped",
        "held_out_figures": result,
    }
    write_json(Path(cfg.dir) / f"{cfg.name}.json", card, overwrite=True)
    tracker.log_metrics({f"sr.{k}.{m}": v for k, f in result.items() for m, v in f.items()})
    tracker.log_artifact(Path(cfg.dir) / f"{cfg.name}.json", "sr")
    log(f"sr: {weights} {result}")
    return card
