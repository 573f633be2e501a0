"""The upscale stage: every image under a folder, brought to `upscaler.output_size`, into a mirror folder."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from tqdm import tqdm

from facepipe import io
from facepipe.backends import load_factory
from facepipe.config import FacepipeConfig, UpscalerConf
from facepipe.layout import UPSCALE_SETTINGS_FILE
from facepipe.models.registry import ModelStore
from facepipe.tracking import Tracker

__all__ = ["UpscaleResult", "run", "list_images"]

log = logging.getLogger(__name__)
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


@dataclass(frozen=True)
class UpscaleResult:
    """What the upscale stage produced: `files` are destination paths, in source order."""

    dir: Path
    files: list[Path]
    written: int
    seconds: float


def list_images(src_dir: Path, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Image files under `src_dir` (recursively, sorted), skipping anything inside `exclude`."""
    excluded = [p.resolve() for p in exclude]
    return sorted(
        p
        for p in Path(src_dir).rglob("*")
        if p.suffix.lower() in _IMAGE_SUFFIXES
        and p.is_file()
        and not p.name.startswith(".")
        and not any(p.resolve().is_relative_to(e) for e in excluded)
    )


def _settings(cfg: UpscalerConf) -> dict:
    """The upscaler settings that own an output folder."""
    return {
        "target": cfg._target_,
        "name": cfg.name,
        "output_size": cfg.output_size,
        "format": cfg.format,
        "quality": cfg.quality,
        "png_level": cfg.png_level,
        "models": list(cfg.models),
    }


def _batches(items: Iterable[tuple[Path, np.ndarray]], size: int) -> Iterator[list[tuple[Path, np.ndarray]]]:
    """Consecutive (target, image) pairs of equal image shape, at most `size` at a time (memory stays flat)."""
    batch: list[tuple[Path, np.ndarray]] = []
    for item in items:
        if batch and (len(batch) == size or item[1].shape != batch[0][1].shape):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def run(
    cfg: FacepipeConfig,
    src_dir: Path,
    dst_dir: Path,
    models: ModelStore,
    tracker: Tracker,
    exclude: tuple[Path, ...] = (),
) -> UpscaleResult:
    """Upscale every image under `src_dir` into `dst_dir` (same relative paths, extension per format).

    Resumable: with the same settings, destinations already present (complete, thanks to atomic
    writes) are kept and only missing ones are computed.
    """
    start = time.perf_counter()
    ucfg = cfg.upscaler
    sources = list_images(src_dir, exclude)
    dst_dir = io.ensure_writable_dir(dst_dir)
    resuming = io.claim_dir(dst_dir / UPSCALE_SETTINGS_FILE, _settings(ucfg), cfg.overwrite, "upscaler settings")
    ext = ".jpg" if ucfg.format == "jpeg" else f".{ucfg.format}"
    targets = [dst_dir / p.relative_to(src_dir).with_suffix(ext) for p in sources]
    todo = [(s, t) for s, t in zip(sources, targets) if not (resuming and t.exists())]
    if resuming and len(todo) < len(sources):
        log.info("resuming: %d of %d images already upscaled in %s", len(sources) - len(todo), len(sources), dst_dir)

    upscaler = load_factory(ucfg._target_, "upscaler")(ucfg, models) if todo else None
    images = ((t, io.read_image(s)) for s, t in todo)

    def write(target: Path, image: np.ndarray) -> str:
        return io.write_image(target, image, ucfg.format, ucfg.quality, cfg.overwrite, ucfg.png_level)

    # Encoding a 1024 px image costs more than upscaling it; zlib and libjpeg release the GIL, so
    # each batch is written by a thread per core.
    with (
        tqdm(total=len(todo), desc=f"upscale {ucfg.name}", unit="img", disable=len(todo) < 2) as bar,
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
    ):
        for batch in _batches(images, ucfg.batch_size):
            out = upscaler.upscale(np.stack([image for _, image in batch]))
            list(pool.map(write, [target for target, _ in batch], out))
            bar.update(len(batch))
    seconds = time.perf_counter() - start

    digest = hashlib.sha256(b"".join(io.sha256_file(t).encode() for t in targets)).hexdigest()
    tracker.set_tags({f"model.{name}.sha256": models.spec(name).sha256 for name in ucfg.models})
    tracker.log_metrics(
        {
            "upscale_s": seconds,
            "upscale_images": len(targets),
            "upscale_images_per_s": len(todo) / seconds if todo else 0.0,
        }
    )
    tracker.log_dataset(dst_dir, name=dst_dir.name, digest=digest, context="upscaled")
    return UpscaleResult(dir=dst_dir, files=targets, written=len(todo), seconds=seconds)
