"""The shared face data (`../shared/data/`, see its README) as 64x64 arrays with one label matrix.

CelebA's aligned crops show more hair and background than our generator's faces, UTKFace's crops
less; CelebA is cropped to the generator's framing (eyes at 45% of the height, eye-to-mouth 30%),
UTKFace is used whole, and training augments scale and shift to cover the rest. Labels are one
float matrix `[N, len(OUTPUTS)]` with NaN where a dataset has no label: CelebA gives the 40
attributes, UTKFace age, race (one-hot) and gender (as `Male`). Images are read straight from the
tar files; nothing is extracted or committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepipe.attributes.vocabulary import AGE, CELEBA, OUTPUTS, RACES
from facepipe.data.tars import decode_rgb, members, need, utkface_labels
from facepipe.errors import ConfigError

__all__ = ["FaceSet", "load_celeba", "load_utkface", "split", "SIDE"]

SIDE = 64  # the generator's resolution; classifiers see every face at this size
CELEBA_BOX = (9.5, 24.0, 79.5, 94.0)  # (x0, y0, x1, y1) in the 89x109 aligned images


@dataclass
class FaceSet:
    """Images `[N, 64, 64, 3]` uint8 RGB, labels `[N, len(OUTPUTS)]` float32 (NaN = unknown), file names."""

    images: np.ndarray
    labels: np.ndarray
    names: list[str]
    source: str

    def take(self, index: np.ndarray) -> "FaceSet":
        return FaceSet(self.images[index], self.labels[index], [self.names[i] for i in index], self.source)


def load_celeba(images_tar: Path, attributes_txt: Path, limit: int | None = None) -> FaceSet:
    """CelebA's aligned images with their 40 attributes (+1/-1 in the file, 1/0 here)."""
    lines = need(attributes_txt, "classifiers.data_dir").read_text().split("\n")
    header = lines[1].split()
    if tuple(header) != CELEBA:
        raise ConfigError(
            f"{attributes_txt}: attribute names {header[:3]}... are not CelebA's 40; valid: {CELEBA[:3]}..."
        )
    rows = {}
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == 41:
            rows[parts[0]] = (np.array(parts[1:], np.float32) + 1) / 2
    images, labels, names = [], [], []
    for member, data in members(need(images_tar, "classifiers.data_dir"), lambda n: Path(n).name in rows, limit):
        name = Path(member).name
        images.append(decode_rgb(data, (SIDE, SIDE), box=CELEBA_BOX))
        label = np.full(len(OUTPUTS), np.nan, np.float32)
        label[: len(CELEBA)] = rows[name]
        labels.append(label)
        names.append(name)
    return FaceSet(np.stack(images), np.stack(labels), names, "celeba")


def load_utkface(images_tar: Path, limit: int | None = None) -> FaceSet:
    """UTKFace with age, gender (as `Male`) and race from the file names; malformed names are skipped."""
    male, age, race0 = OUTPUTS.index("Male"), OUTPUTS.index(AGE), OUTPUTS.index(f"race_{RACES[0]}")
    images, labels, names = [], [], []
    for member, data in members(
        need(images_tar, "classifiers.data_dir"), lambda n: utkface_labels(n) is not None, limit
    ):
        a, m, r = utkface_labels(member)
        label = np.full(len(OUTPUTS), np.nan, np.float32)
        label[male] = float(m)
        label[age] = float(a)
        label[race0 : race0 + len(RACES)] = np.eye(len(RACES), dtype=np.float32)[r]
        images.append(decode_rgb(data, (SIDE, SIDE)))
        labels.append(label)
        names.append(Path(member).name)
    return FaceSet(np.stack(images), np.stack(labels), names, "utkface")


def split(n: int, seed: int, held_out: float) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, seeded (train, held-out) split of `range(n)`."""
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(n * held_out))
    return np.sort(order[k:]), np.sort(order[:k])
