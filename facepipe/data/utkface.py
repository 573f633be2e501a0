"""UTKFace (`utkface-200px.tar` in the shared data, see its README) at any side, with its labels and
a fixed held-out split.

The tar holds 23,707 aligned 200 px crops named `AGE_GENDER_RACE_DATETIME.jpg.chip.jpg` (gender 0 =
male, 1 = female; race 0..4 = white, black, asian, indian, other); three malformed names are skipped.
Decoding every JPEG takes a minute, so `load` keeps one uint8 array per side in a cache folder and
reuses it while the tar's size and modification time are unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from facepipe.data.tars import FILES, decode_rgb, members, utkface_labels
from facepipe.errors import ConfigError

__all__ = ["UTKFace", "load", "held_out_split", "TAR_NAME", "HELD_OUT", "CACHE_DIR"]

TAR_NAME = FILES["utkface"]
HELD_OUT = 1000  # faces never trained on: the evaluation set of every model trained on UTKFace
CACHE_DIR = Path.home() / ".cache" / "facepipe" / "data"  # decoded arrays, one per side (outside the work tree)


@dataclass(frozen=True)
class UTKFace:
    """Faces `[N, S, S, 3]` uint8 RGB; `age` `[N]` years, `male` `[N]` 0/1, `ethnicity` `[N]` 0..4;
    `names` the tar member names, sorted."""

    images: np.ndarray
    age: np.ndarray
    male: np.ndarray
    ethnicity: np.ndarray
    names: tuple[str, ...]

    def take(self, index: np.ndarray) -> "UTKFace":
        return UTKFace(
            self.images[index],
            self.age[index],
            self.male[index],
            self.ethnicity[index],
            tuple(self.names[i] for i in index),
        )


def _read_tar(tar_path: Path, side: int) -> UTKFace:
    rows = list(members(tar_path, lambda n: utkface_labels(n) is not None))
    images = np.empty((len(rows), side, side, 3), np.uint8)
    for i, (_, data) in enumerate(rows):
        images[i] = decode_rgb(data, (side, side), resample=Image.Resampling.LANCZOS)
    labels = np.array([utkface_labels(name) for name, _ in rows], np.int64).reshape(-1, 3)
    return UTKFace(images, labels[:, 0].astype(np.float32), labels[:, 1], labels[:, 2], tuple(n for n, _ in rows))


def load(data_dir: str | os.PathLike, side: int, cache_dir: str | os.PathLike | None = None) -> UTKFace:
    """All labelled UTKFace faces at `side` px, from the cache when it matches the tar.

    Raises:
        ConfigError: the tar is missing.
    """
    tar_path = Path(data_dir) / TAR_NAME
    if not tar_path.is_file():
        raise ConfigError(
            f"training data {str(tar_path)!r} does not exist; valid: a folder holding "
            f"{TAR_NAME} (a copy of ../shared/data/)"
        )
    if cache_dir is None:
        return _read_tar(tar_path, side)
    st = tar_path.stat()
    cache = Path(cache_dir) / f"utkface-{side}px-{st.st_size}-{int(st.st_mtime)}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return UTKFace(z["images"], z["age"], z["male"], z["ethnicity"], tuple(str(n) for n in z["names"]))
    faces = _read_tar(tar_path, side)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez(
            f,
            images=faces.images,
            age=faces.age,
            male=faces.male,
            ethnicity=faces.ethnicity,
            names=np.array(faces.names),
        )
    os.replace(tmp, cache)
    return faces


def held_out_split(n: int, seed: int = 0, held_out: int = HELD_OUT) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices into the sorted faces: a seeded permutation's first `held_out` are held out."""
    if not 0 < held_out < n:
        raise ValueError(f"held_out={held_out} must lie in 1..{n - 1}")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[held_out:]), np.sort(order[:held_out])
