"""UTKFace's reader on a small tar in its naming scheme, its cache, and the fixed held-out split."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from facepipe.data import utkface
from facepipe.errors import ConfigError

NAMES = [
    "25_0_2_20170116.jpg.chip.jpg",
    "70_1_0_20170117.jpg.chip.jpg",
    "3_0_4_20170118.jpg.chip.jpg",
    "broken_name.jpg.chip.jpg",
]


def _tar(path, side=40):
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w") as tar:
        for name in NAMES:
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(buf, "JPEG", quality=95)
            info = tarfile.TarInfo(f"unlabeled/{name}")
            info.size = len(buf.getvalue())
            tar.addfile(info, io.BytesIO(buf.getvalue()))


def test_labels_come_from_the_names_and_malformed_ones_are_skipped(tmp_path):
    _tar(tmp_path / utkface.TAR_NAME)
    faces = utkface.load(tmp_path, 16)
    assert faces.images.shape == (3, 16, 16, 3) and faces.images.dtype == np.uint8
    by_age = dict(zip(faces.age.tolist(), zip(faces.male.tolist(), faces.ethnicity.tolist())))
    assert by_age == {25.0: (1, 2), 70.0: (0, 0), 3.0: (1, 4)}  # gender 0 in the name = male


def test_the_cache_gives_the_same_faces(tmp_path):
    _tar(tmp_path / utkface.TAR_NAME)
    first = utkface.load(tmp_path, 16, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    again = utkface.load(tmp_path, 16, tmp_path / "cache")
    np.testing.assert_array_equal(first.images, again.images)
    assert first.names == again.names


def test_a_missing_tar_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist; valid: a folder holding utkface-200px.tar"):
        utkface.load(tmp_path, 16)


def test_the_held_out_split_is_fixed_and_disjoint():
    train, held = utkface.held_out_split(5000, seed=0, held_out=1000)
    assert len(held) == 1000 and len(train) == 4000 and not set(train) & set(held)
    np.testing.assert_array_equal(held, utkface.held_out_split(5000, seed=0, held_out=1000)[1])
    assert not np.array_equal(held, utkface.held_out_split(5000, seed=1, held_out=1000)[1])
    with pytest.raises(ValueError, match="held_out=0"):
        utkface.held_out_split(10, held_out=0)
