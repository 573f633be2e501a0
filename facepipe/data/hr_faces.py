"""High-resolution faces for training and judging SR models, read from the shared data's tars.

UTKFace: 200x200 face crops (forehead to chin). CelebA: the aligned 89x109 images cut to 88x108
(both sides multiples of 4, so area downscaling by 2 and 4 is exact), hair and background included.
Images stay uint8 in memory (23,707 x 200 x 200 x 3 = 2.8 GB for UTKFace)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facepipe.data.tars import FILES as _TAR_FILES
from facepipe.data.tars import decode_rgb, members, need
from facepipe.errors import ConfigError

__all__ = ["load_hr_faces", "split_sets", "held_out_faces", "FILES"]

FILES = {name: _TAR_FILES[name] for name in ("utkface", "celeba")}
_CUT = {"utkface": None, "celeba": (0, 0, 88, 108)}  # PIL box (left, top, right, bottom)
_SHAPE = {"utkface": (200, 200, 3), "celeba": (108, 88, 3)}  # anything else in a set is skipped


def _read(tar_path: Path, cut, shape, limit: int | None) -> tuple[np.ndarray, list[str]]:
    images, names = [], []
    for member, data in members(need(tar_path, "sr.data_dir"), lambda n: n.lower().endswith(".jpg"), limit):
        image = decode_rgb(data, crop=cut)
        if image.shape == shape:
            images.append(image)
            names.append(Path(member).name)
    if not images:
        raise ConfigError(f"{tar_path.name}: no {shape[1]}x{shape[0]} JPEG faces inside; valid: the shared data's tar")
    return np.stack(images), names


def load_hr_faces(
    data_dir: str | Path, limit: int | None = None, sets: tuple[str, ...] = tuple(FILES)
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """`{set name: (images [N, H, W, 3] uint8, file names)}` for `sets` (UTKFace and CelebA), sorted by name."""
    root = Path(data_dir)
    return {name: _read(root / FILES[name], _CUT[name], _SHAPE[name], limit) for name in sets}


def split_sets(sets: dict, split_seed: int, held_out: float) -> tuple[dict, dict]:
    """({set: training images}, {set: held-out images}) by `faces64.split` over each set's sorted faces."""
    from facepipe.data.faces64 import split

    train, held = {}, {}
    for name, (images, _) in sets.items():
        tr, ho = split(len(images), split_seed, held_out)
        train[name], held[name] = images[tr], images[ho]
    return train, held


def held_out_faces(
    data_dir: str | Path, split_seed: int, held_out: float, limit: int | None = None
) -> dict[str, np.ndarray]:
    """Each face set's held-out part (never trained on by the SR model): the SR evaluation set."""
    return split_sets(load_hr_faces(data_dir, limit), split_seed, held_out)[1]
