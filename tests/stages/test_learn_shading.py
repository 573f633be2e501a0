"""Stage learn_shading end to end on crops of the package photos standing in for CelebA: the model,
the smile shape, the card and picture are written, and the mesh repositioner loads what the stage wrote."""

from __future__ import annotations

import json

import numpy as np
from photos import astronaut, faces_tar

from facepipe.config import RepositionConf, ShadingConf, TrackingConf
from facepipe.reposition.mesh.repositioner import build as build_mesh
from facepipe.reposition.mesh.shading import ShadingModel
from facepipe.reposition.mesh.smile_shape import SmileShape
from facepipe.stages import learn_shading
from facepipe.tracking import Tracker


def test_learn_shading_writes_model_card_and_picture(tmp_path, models):
    faces_tar(tmp_path / "celeba-10k-89x109.tar", (89, 109), 6)
    faces_tar(tmp_path / "utkface-200px.tar", (200, 200), 2)
    cfg = ShadingConf(
        data_dir=str(tmp_path),
        file=str(tmp_path / "out" / "shading.npz"),
        smile_file=str(tmp_path / "out" / "smile_shape.npz"),
        sets={"celeba": 10, "utkface": None},
        side=64,
        highpass_sigma=5.0,
        min_faces=0.5,
    )
    with Tracker(TrackingConf(enabled=False), "test") as t:
        path = learn_shading.run(cfg, models, t)
    card = json.loads((tmp_path / "out" / "shading.json").read_text())
    assert card["data"]["celeba"]["images"] == 10 and card["data"]["utkface"]["images"] == 4
    assert 0 < card["data"]["celeba"]["landmarked"] <= 10 and 0 < card["data"]["utkface"]["landmarked"] <= 4
    landmarked = card["data"]["celeba"]["landmarked"] + card["data"]["utkface"]["landmarked"]
    assert sum(card["top_label_counts"].values()) == landmarked
    model = ShadingModel.load(path)
    assert set(model.maps) == set(card["maps"]) and model.maps and model.neutral.shape == (64, 64)
    assert all(card["effective_faces"][e] >= 0.5 for e in model.maps)
    assert (tmp_path / "out" / "shading.png").stat().st_size > 0
    smile = SmileShape.load(cfg.smile_file)
    assert abs(smile.threshold - card["smile_shape"]["threshold"]) < 1e-3
    assert sum(len(v) == 3 for v in card["smile_shape"]["amount_percentiles_10_50_90"].values()) >= 1
    rep = build_mesh(
        RepositionConf(shading=str(path), smile_shape=cfg.smile_file, calibrate=False, segment=False), models
    )
    assert rep.prepare(astronaut()).shading  # the repositioner reads what the stage wrote
    assert np.allclose(rep.smile_shape.smile, smile.smile)
