"""High-resolution faces for training and judging SR models, read from the shared data's tars.

UTKFace: 200x200 face crops (forehead to chin). CelebA: the aligned 89x109 images cut to 88x108
(both sides multiples of 4, so area downscaling by 2 and 4 is exact), hair and background included.
Images stay uint8 in memory (23,707 x 200 x 200 x 3 = 2.8 GB for UTKFace)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from facepipe.errors import ConfigError

__all__ = ["load_hr_faces", "FILES"]

FILES = {"utkface": "utkface-200px.tar", "celeba": "celeba-10k-89x109.tar"}
_CUT = {"utkface": None, "celeba": (0, 0, 88, 108)}  # PIL box (left, top, right, bottom)
_SHAPE = {"utkface": (200, 200, 3), "celeba": (108, 88, 3)}  # anything else in a set is skipped


def _read(tar_path: Path, cut, shape, limit: int | None) -> tuple[np.ndarray, list[str]]:
    if not tar_path.is_file():
        raise ConfigError(f"training data {str(tar_path)!r} does not exist; valid: a copy of ../shared/data/ "
                          "(sr.data_dir points at it)")
    images, names = [], []
    with tarfile.open(tar_path) as tar:
        members = sorted((m for m in tar if m.isfile() and m.name.lower().endswith(".jpg")), key=lambda m: m.name)
        for m in members[:limit]:
            with Image.open(io.BytesIO(tar.extractfile(m).read())) as im:
                im = im.convert("RGB")
                image = np.asarray(im.crop(cut) if cut else im)
            if image.shape == shape:
                images.append(image)
                names.append(Path(m.name).name)
    if not images:
        raise ConfigError(f"{tar_path.name}: no {shape[1]}x{shape[0]} JPEG faces inside; valid: the shared data's tar")
    return np.stack(images), names


def load_hr_faces(data_dir: str | Path, limit: int | None = None, sets: tuple[str, ...] = tuple(FILES)
                  ) -> dict[str, tuple[np.ndarray, list[str]]]:
    """`{set name: (images [N, H, W, 3] uint8, file names)}` for `sets` (UTKFace and CelebA), sorted by name."""
    root = Path(data_dir)
    return {name: _read(root / FILES[name], _CUT[name], _SHAPE[name], limit) for name in sets}
