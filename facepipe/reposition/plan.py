"""What a reposition dataset contains: the yaw x pitch grid and the seeded random shots, and its labels.

Pure functions over the typed config: no images, no models. Random shot k draws from its own
generator (`SeedSequence(seed).spawn`), so it is the same whatever `n_random` is (house rule 10).
"""

from __future__ import annotations

import csv
import io as _io
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

import numpy as np

from facepipe import io
from facepipe.config import ExpressionsConf, SweepConf

__all__ = ["Shot", "grid_shots", "random_shots", "plan", "LabelRow", "labels_csv", "write_labels"]

_RANDOM_STREAM = 1  # SeedSequence key separating reposition randomness from the latent's


@dataclass(frozen=True)
class Shot:
    """One image to produce. Angles in degrees, absolute (README "Conventions"); intensity in [0, 1]."""

    name: str
    kind: str  # "grid" | "random"
    yaw: float
    pitch: float
    roll: float = 0.0
    gaze_yaw: float = 0.0
    gaze_pitch: float = 0.0
    expression: str = "neutral"
    intensity: float = 0.0


def grid_shots(max_angle: int, step: int) -> list[Shot]:
    """Every (yaw, pitch) in -max_angle..+max_angle by `step` (both ends included when on the grid)."""
    values = list(range(-max_angle, max_angle + 1, step))
    return [
        Shot(name=f"grid_y{yaw:+03d}_p{pitch:+03d}", kind="grid", yaw=float(yaw), pitch=float(pitch))
        for pitch in values
        for yaw in values
    ]


def random_shots(seed: int, n: int, sweep: SweepConf, expressions: ExpressionsConf) -> list[Shot]:
    """`n` seeded random poses, gazes and expressions within the configured ranges."""
    children = np.random.SeedSequence([seed, _RANDOM_STREAM]).spawn(n)
    shots = []
    for k, child in enumerate(children):
        rng = np.random.default_rng(child)
        yaw, pitch, roll = rng.uniform(-1, 1, 3) * [sweep.yaw_range, sweep.pitch_range, sweep.roll_range]
        gaze_yaw, gaze_pitch = rng.uniform(-1, 1, 2) * sweep.gaze_range
        expression = str(expressions.names[rng.integers(len(expressions.names))])
        intensity = (
            0.0 if expression == "neutral" else rng.uniform(expressions.intensity_min, expressions.intensity_max)
        )
        shots.append(
            Shot(
                name=f"random_{k:04d}",
                kind="random",
                yaw=round(float(yaw), 2),
                pitch=round(float(pitch), 2),
                roll=round(float(roll), 2),
                gaze_yaw=round(float(gaze_yaw), 2),
                gaze_pitch=round(float(gaze_pitch), 2),
                expression=expression,
                intensity=round(float(intensity), 3),
            )
        )
    return shots


def plan(seed: int, sweep: SweepConf, expressions: ExpressionsConf) -> list[Shot]:
    """The whole dataset of one person: the grid, then the random shots."""
    return grid_shots(sweep.max_angle, sweep.step) + random_shots(seed, sweep.n_random, sweep, expressions)


@dataclass(frozen=True)
class LabelRow:
    """One line of `labels.csv`: the request, and the pose measured on the produced image."""

    file: str
    shot: Shot
    measured_yaw: Optional[float] = None  # None: the produced image could not be landmarked
    measured_pitch: Optional[float] = None
    measured_roll: Optional[float] = None


def labels_csv(rows: list[LabelRow]) -> str:
    """CSV text: file, every Shot field, measured_yaw, measured_pitch, measured_roll (empty = not measured)."""
    shot_fields = [f.name for f in fields(Shot)]
    header = ["file", *shot_fields, "measured_yaw", "measured_pitch", "measured_roll"]
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        shot = asdict(row.shot)
        measured = ["" if v is None else f"{v:.2f}" for v in (row.measured_yaw, row.measured_pitch, row.measured_roll)]
        writer.writerow([row.file, *(shot[f] for f in shot_fields), *measured])
    return buf.getvalue()


def write_labels(path: str | Path, rows: list[LabelRow], overwrite: bool = False) -> str:
    """Publish `labels.csv` atomically (see `facepipe.io.publish_bytes`)."""
    return io.publish_bytes(path, labels_csv(rows).encode(), overwrite)
