"""Render a dataset's shots, in this process or in worker processes, in plan order.

A shot's image is a function of the prepared face and the shot alone, so workers give the same bytes
as the stage's own process: each worker builds its own repositioner (model interpreters do not travel
between processes), receives the face the stage prepared (plain arrays and dataclasses), then renders
and measures the shots it is handed. One process keeps about one
core busy, so a worker per free core raises the stage's throughput (figures in the README, Results).
At most `WINDOW_PER_WORKER` shots per worker are in flight ahead of the one the stage is waiting for:
memory stays flat in the number of shots. Workers are spawned (not forked: the parent holds
TensorFlow Lite interpreters and threads).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from facepipe import io
from facepipe.backends import load_factory
from facepipe.config import FacepipeConfig
from facepipe.face import landmarks
from facepipe.face.pose import Pose
from facepipe.models.registry import ModelStore
from facepipe.reposition.plan import Shot

__all__ = ["Produced", "produce", "repositioner_for", "MIN_SHOTS_PER_WORKER"]

MIN_SHOTS_PER_WORKER = 16  # fewer shots to render than this per worker: starting workers costs more than it saves
WINDOW_PER_WORKER = 4


@dataclass(frozen=True)
class Produced:
    """One shot's image (read back when it was on disk already), its measured pose (None: not
    measured, or no face) and whether it was rendered now."""

    shot: Shot
    image: np.ndarray
    pose: Optional[Pose]
    rendered: bool


def repositioner_for(cfg: FacepipeConfig, models: ModelStore) -> Any:
    """The backend `cfg.reposition` names, built with `models`."""
    return load_factory(cfg.reposition._target_, "repositioner")(cfg.reposition, models, cfg)


def _measurer(cfg: FacepipeConfig, models: ModelStore) -> Any:
    """The landmarker that measures each image's pose for labels.csv, or None when `reposition.measure` is off."""
    return landmarks.build(models) if cfg.reposition.measure else None


def _one(repositioner: Any, prepared: Any, measurer: Any, shot: Shot, existing: Optional[Path]) -> Produced:
    image = io.read_image(existing) if existing is not None else repositioner.render(prepared, shot)
    return Produced(shot, image, measurer.pose(image) if measurer is not None else None, existing is None)


_worker: dict[str, Any] = {}


def _start_worker(cfg: FacepipeConfig, cache_dir: Path, catalog: dict, prepared: Any) -> None:
    models = ModelStore(cache_dir, catalog=catalog, progress=False)
    _worker["parts"] = (repositioner_for(cfg, models), prepared, _measurer(cfg, models))


def _in_worker(shot: Shot, existing: Optional[Path]) -> Produced:
    return _one(*_worker["parts"], shot, existing)


def produce(
    cfg: FacepipeConfig,
    models: ModelStore,
    repositioner: Any,
    prepared: Any,
    shots: list[Shot],
    existing: Callable[[Shot], Optional[Path]],
) -> Iterator[Produced]:
    """Each of `shots` in order: read from `existing(shot)` when that is a path, else rendered from
    `prepared` (`repositioner.prepare`'s). `repositioner` renders here when the work is too small for
    `cfg.reposition.workers` processes, when that is 1, or when this is a worker process."""
    workers = cfg.reposition.workers
    found = [existing(shot) for shot in shots]  # one look at the disk per shot
    to_render = sum(path is None for path in found)
    # A stage that runs in a worker process itself (the joblib launcher's jobs) renders in that process:
    # its launcher already runs jobs side by side, and a spawned grandchild cannot start there (it
    # inherits loky's start method, which a fresh interpreter does not know).
    nested = multiprocessing.parent_process() is not None
    if workers < 2 or nested or to_render < workers * MIN_SHOTS_PER_WORKER:
        measurer = _measurer(cfg, models)
        for shot, path in zip(shots, found):
            yield _one(repositioner, prepared, measurer, shot, path)
        return
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(cfg, models.cache_dir, models.catalog, prepared),
    )
    try:
        pending: deque = deque()
        for shot, path in zip(shots, found):
            pending.append(pool.submit(_in_worker, shot, path))
            if len(pending) >= workers * WINDOW_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
