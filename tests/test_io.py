"""Atomic, conflict-checked writes: nothing half-written, nothing overwritten silently."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facepipe import io
from facepipe.errors import ConfigError, OutputConflict, OutputNotWritable


def test_atomic_write_leaves_nothing_when_interrupted(tmp_path):
    target = tmp_path / "a.bin"
    with pytest.raises(RuntimeError):
        with io.atomic_write(target) as f:
            f.write(b"partial")
            raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with io.atomic_write(target) as f:
            f.write(b"new")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


def test_publish_bytes_refuses_silent_overwrite(tmp_path):
    target = tmp_path / "x.txt"
    assert io.publish_bytes(target, b"one") == "written"
    assert io.publish_bytes(target, b"one") == "unchanged"
    with pytest.raises(OutputConflict, match="x.txt"):
        io.publish_bytes(target, b"two")
    assert target.read_bytes() == b"one"
    assert io.publish_bytes(target, b"two", overwrite=True) == "replaced"
    assert target.read_bytes() == b"two"


def test_png_round_trip_is_lossless_and_deterministic(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    assert io.encode_image(rgb) == io.encode_image(rgb)
    io.write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(io.read_image(tmp_path / "a.png"), rgb)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lossy_formats_honour_quality(fmt):
    rgb = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    small, large = io.encode_image(rgb, fmt, quality=20), io.encode_image(rgb, fmt, quality=95)
    assert len(small) < len(large)
    with pytest.raises(ConfigError, match="gif"):
        io.encode_image(rgb, "gif")


def test_read_image_errors_name_the_path(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        io.read_image(tmp_path / "missing.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ConfigError, match="not a readable image"):
        io.read_image(bad)


def test_unwritable_output_dir_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputNotWritable, match="output_dir=") as info:
        io.ensure_writable_dir(blocker / "out")
    assert "\n" not in str(info.value)


def test_claim_dir_resumes_same_settings_and_guards_others(tmp_path):
    from facepipe.io import claim_dir

    folder = tmp_path / "out"
    folder.mkdir()
    settings = folder / "settings.json"
    assert claim_dir(settings, {"a": 1}, overwrite=False, what="things", stale="*.png") is False
    (folder / "x.png").write_bytes(b"old")
    assert claim_dir(settings, {"a": 1}, overwrite=False, what="things", stale="*.png") is True  # resume
    with pytest.raises(OutputConflict, match="other things"):
        claim_dir(settings, {"a": 2}, overwrite=False, what="things", stale="*.png")
    assert (folder / "x.png").exists()  # nothing lost on refusal
    assert claim_dir(settings, {"a": 2}, overwrite=True, what="things", stale="*.png") is False
    assert not (folder / "x.png").exists()  # stale results of the old settings removed
    settings.unlink()
    (folder / "y.png").write_bytes(b"?")
    with pytest.raises(OutputConflict, match="unknown things"):
        claim_dir(settings, {"a": 2}, overwrite=False, what="things", stale="*.png")


def test_sixteen_bit_greys_are_scaled_not_clipped(tmp_path):
    ramp = (np.arange(256, dtype=np.uint32) * 257).astype(np.uint16).reshape(16, 16)
    Image.fromarray(ramp).save(tmp_path / "grey16.png")
    rgb = io.read_image(tmp_path / "grey16.png")
    assert rgb.shape == (16, 16, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[..., 0], np.arange(256).reshape(16, 16))  # 0..65535 -> 0..255


def test_transparency_is_composited_on_white(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200  # red under everything
    rgba[:4, :, 3] = 255  # the top half opaque, the bottom half fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    rgb = io.read_image(tmp_path / "alpha.png")
    assert (rgb[:4] == [200, 0, 0]).all() and (rgb[4:] == io.ALPHA_BACKGROUND).all()


def test_several_frames_and_decompression_bombs_are_refused_in_one_line(tmp_path, monkeypatch):
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "two.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(ConfigError, match="has 2 frames; valid: a single-frame image"):
        io.read_image(tmp_path / "two.gif")
    Image.new("RGB", (64, 64)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64 x 64 is then more than twice the limit
    with pytest.raises(ConfigError, match="too large to read safely") as e:
        io.read_image(tmp_path / "big.png")
    assert "\n" not in str(e.value)
