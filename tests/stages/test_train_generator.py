"""Stage train_generator at toy size: trains, exports weights, card and the resume file, and a fresh run
folder resumes from the committed resume file."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
from PIL import Image

from facepipe.config import GanConf, TrainGeneratorConf
from facepipe.data import utkface
from facepipe.generate.conditional import from_file
from facepipe.stages import train_generator


def _tar(path, n=24):
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w") as tar:
        for i in range(n):
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(buf, "JPEG")
            info = tarfile.TarInfo(f"unlabeled/{10 + i}_{i % 2}_{i % 5}_2017011{i:02d}.jpg.chip.jpg")
            info.size = len(buf.getvalue())
            tar.addfile(info, io.BytesIO(buf.getvalue()))


def test_trains_exports_and_resumes_from_the_committed_file(tmp_path, monkeypatch):
    _tar(tmp_path / utkface.TAR_NAME)
    monkeypatch.setattr(utkface, "CACHE_DIR", tmp_path / "cache")
    split = utkface.held_out_split
    monkeypatch.setattr(utkface, "held_out_split", lambda n, seed=0: split(n, seed, held_out=4))
    gan = GanConf(
        resolution=16,
        z_dim=8,
        batch_size=4,
        r1_interval=2,
        g_channels={4: 16, 8: 8, 16: 8},
        d_channels={16: 8, 8: 8, 4: 16},
    )
    cfg = TrainGeneratorConf(
        name="tiny",
        data_dir=str(tmp_path),
        run_dir=str(tmp_path / "run"),
        out_dir=str(tmp_path / "out"),
        total_kimg=0.008,
        gan=gan,
    )
    summary = train_generator.run(cfg, log=lambda m: None)
    assert summary["step"] == 2
    out = tmp_path / "out"
    card = json.loads((out / "tiny.json").read_text())
    assert card["step"] == 2 and len(card["weights_sha256"]) == 64
    assert (out / "tiny.resume.npz").read_bytes() == (tmp_path / "run" / "snapshot.npz").read_bytes()
    gen = from_file(out / "tiny.npz", "tiny")
    assert len(gen.labels["age"]) == 20  # the training rows: 24 faces less 4 held out
    assert gen.synthesize(gen.sample_latents(np.random.default_rng(0), 2)).shape == (2, 16, 16, 3)

    fresh = TrainGeneratorConf(
        name="tiny",
        data_dir=str(tmp_path),
        run_dir=str(tmp_path / "fresh"),
        out_dir=str(out),
        total_kimg=0.016,
        gan=gan,
    )
    logged = []
    assert train_generator.run(fresh, log=logged.append)["step"] == 4  # went on from step 2
    assert any("resumed from snapshot" in m and "tiny.resume.npz" in m for m in logged)
