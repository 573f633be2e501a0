"""Stage train_sr end to end on a few faces made from the package photos: trains, resumes, writes
weights in the Keras 2 HDF5 layout the upscaler loads, and a card with held-out figures."""

from __future__ import annotations

import json

import numpy as np
from photos import faces_tar

from facepipe.config import SRConf, TrackingConf
from facepipe.models import keras2_h5
from facepipe.stages import train_sr
from facepipe.tracking import Tracker


def test_train_sr_writes_weights_and_card_and_resumes(tmp_path):
    faces_tar(tmp_path / "utkface-200px.tar", (200, 200), 3)
    faces_tar(tmp_path / "celeba-10k-89x109.tar", (89, 109), 3)
    cfg = SRConf(
        data_dir=str(tmp_path),
        dir=str(tmp_path / "sr"),
        checkpoint_dir=str(tmp_path / "ck"),
        filters=8,
        blocks=1,
        epochs=1,
        steps_per_epoch=3,
        batch_size=4,
        patch=32,
        held_out=0.34,
    )
    logs: list[str] = []
    with Tracker(TrackingConf(enabled=False), "test") as t:
        card = train_sr.run(cfg, t, log=logs.append)
    assert any("epoch 1/1" in m for m in logs)
    figures = card["held_out_figures"]
    assert set(figures) == {"utkface", "celeba"} and figures["utkface"]["faces"] == 2
    assert json.loads((tmp_path / "sr" / "face_edsr_x4.json").read_text())["weights_sha256"] == card["weights_sha256"]
    net = train_sr.network(cfg)
    keras2_h5.load(net, train_sr.weights_path(cfg))  # the upscaler's loader reads what the stage wrote
    assert np.asarray(net(np.zeros((1, 8, 8, 3), np.float32))).shape == (1, 32, 32, 3)
    logs.clear()
    with Tracker(TrackingConf(enabled=False), "test") as t:
        train_sr.run(cfg, t, log=logs.append)  # done already: resumes at epoch 1 and trains nothing
    assert any("resumed" in m for m in logs) and not any("epoch 1/1" in m for m in logs)
