"""SR metrics on Y and `facepipe evaluate sr` end to end on small face tars built from the
package-shipped photos (the shared data is not needed)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from photos import faces_tar

from facepipe.evaluate.sr import degrade, psnr_ssim_y, y_channel


def test_psnr_ssim_on_luma():
    hr = np.random.default_rng(0).integers(20, 230, (2, 32, 32, 3), dtype=np.uint8)
    p, s = psnr_ssim_y(hr, hr, 4)
    assert np.all(np.isinf(p)) and np.allclose(s, 1.0)
    brighter = hr + np.uint8(2)  # every channel +2 -> Y + 2 * (65.481 + 128.553 + 24.966) / 255 = Y + 1.717...
    p, _ = psnr_ssim_y(brighter, hr, 4)
    assert np.allclose(p, 20 * np.log10(255 / (2 * 219 / 255)), atol=1e-3)
    assert y_channel(np.array([[0, 0, 0], [255, 255, 255]], np.uint8)).tolist() == pytest.approx([16.0, 235.0])
    with pytest.raises(ValueError, match="not a multiple of scale 4"):
        degrade(hr[0, :30], 4)


def test_evaluate_sr_cli_writes_the_table(tmp_path):
    faces_tar(tmp_path / "utkface-200px.tar", (200, 200), 4)
    faces_tar(tmp_path / "celeba-10k-89x109.tar", (89, 109), 4)
    out = tmp_path / "sr.json"
    cmd = [
        sys.executable,
        "-m",
        "facepipe",
        "evaluate",
        "sr",
        "--methods",
        "bilinear,bicubic",
        "--speed-images",
        "4",
        "--out",
        str(out),
        f"sr.data_dir={tmp_path}",
        "sr.held_out=0.5",
        "tracking=none",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["faces"] == {"utkface": 4, "celeba": 4}
    for s in ("utkface", "celeba"):  # bicubic beats bilinear on real photos: the figures are live
        assert result["methods"]["bicubic"][s]["psnr"] > result["methods"]["bilinear"][s]["psnr"]
    assert result["methods"]["bicubic"]["speed_to_1024"]["images_per_s"] > 0
    assert out.with_suffix(".png").is_file() and "bicubic" in proc.stdout


def test_evaluate_sr_without_data_is_one_line(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "facepipe",
        "evaluate",
        "sr",
        "--methods",
        "bicubic",
        f"sr.data_dir={tmp_path / 'none'}",
        "tracking=none",
        "--out",
        str(tmp_path / "x.json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("facepipe: error: training data")
    assert len(proc.stderr.strip().splitlines()) == 1
