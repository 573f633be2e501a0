"""Reading images straight out of the shared data's tar files (nothing is extracted or committed)."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np
from PIL import Image

from facepipe.errors import ConfigError

__all__ = ["members", "decode_rgb", "need", "utkface_labels", "FILES"]

FILES = {
    "utkface": "utkface-200px.tar",
    "celeba": "celeba-10k-89x109.tar",
    "celeba_attributes": "celeba-10k-attributes.txt",
}
_UTK_NAME = re.compile(r"(\d+)_([01])_([0-4])_\d+\.jpg\.chip\.jpg$")


def need(path: str | Path, setting: str = "paths.data_dir") -> Path:
    """`path` if it is a file, else a one-line error naming the setting that points at it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"training data {str(path)!r} does not exist; valid: a copy of ../shared/data/ ({setting} points at it)"
        )
    return path


def utkface_labels(name: str) -> Optional[tuple[int, int, int]]:
    """(age in years, male 0/1, race code 0..4) from a UTKFace file name, or None for a malformed one."""
    m = _UTK_NAME.search(name)
    if m is None:
        return None
    age, gender, race = (int(g) for g in m.groups())
    return age, 1 - gender, race  # UTKFace: gender 0 = male


def members(tar_path: Path, keep: Callable[[str], bool], limit: Optional[int] = None) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of the regular files whose name `keep` accepts, sorted by name, the first `limit`."""
    with tarfile.open(tar_path) as tar:
        chosen = sorted((m for m in tar if m.isfile() and keep(m.name)), key=lambda m: m.name)
        for m in chosen[:limit]:
            yield m.name, tar.extractfile(m).read()


def decode_rgb(
    data: bytes,
    size: Optional[tuple[int, int]] = None,
    box: Optional[tuple[float, ...]] = None,
    resample: int = Image.Resampling.BILINEAR,
    crop: Optional[tuple[int, int, int, int]] = None,
) -> np.ndarray:
    """An image file's bytes as RGB uint8 `[H, W, 3]`: cropped to `crop`, or resized to `size` (w, h) from `box`."""
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        if crop is not None:
            im = im.crop(crop)
        if size is not None and (im.size != tuple(size) or box is not None):
            im = im.resize(size, resample, box=box, reducing_gap=None)
        return np.asarray(im, np.uint8)
