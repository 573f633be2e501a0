"""The real face photos the tests use; both ship inside installed packages (no network, no ../shared)."""

from __future__ import annotations

import io
import tarfile

import numpy as np
from PIL import Image

from facepipe.data.photos import PHOTOS, astronaut, grace_hopper

__all__ = ["PHOTOS", "astronaut", "grace_hopper", "faces_tar"]


def faces_tar(path, size, copies):
    """`copies` crops of each package photo, resized to `size` (w, h), as JPEGs in a tar: a stand-in
    for the shared data's face tars."""
    rng = np.random.default_rng(1)
    with tarfile.open(path, "w") as tar:
        for name, load in PHOTOS.items():
            photo = load()
            for i in range(copies):
                y, x = rng.integers(0, 60, 2)
                crop = Image.fromarray(photo[y : y + 400, x : x + 400]).resize(size, Image.Resampling.LANCZOS)
                buf = io.BytesIO()
                crop.save(buf, "JPEG", quality=92)
                info = tarfile.TarInfo(f"faces/{name}_{i:02d}.jpg")
                info.size = len(buf.getvalue())
                tar.addfile(info, io.BytesIO(buf.getvalue()))
