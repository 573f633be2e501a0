"""Expression shading: the piecewise-affine warp, learning from planted data, applying, strength, files."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from photos import astronaut, grace_hopper

from facepipe.config import RepositionConf
from facepipe.errors import ConfigError
from facepipe.reposition.mesh import shading
from facepipe.reposition.mesh.repositioner import build as build_mesh
from facepipe.reposition.mesh.shading import ShadingModel, learn, shade, warp_triangles
from facepipe.reposition.plan import Shot

BROW = (105, 66, 334, 296)  # mesh vertices on both brows: where the planted "frown" darkens


@pytest.fixture(scope="module")
def meshes(landmarker):
    return {"astronaut": landmarker.mesh(astronaut())[0], "grace_hopper": landmarker.mesh(grace_hopper())[0]}


def _probs(**p: float) -> np.ndarray:
    return np.array([p.get(e, 0.0) for e in shading.EMOTIONS], np.float32)


def _planted_model(meshes) -> tuple[ShadingModel, np.ndarray]:
    """Learned from copies of both photos: the 'angry' copies have darkened brows, nothing else differs."""
    photos = {"astronaut": astronaut(), "grace_hopper": grace_hopper()}
    faces, all_meshes = [], []
    for name, image in photos.items():
        points = meshes[name]
        dark = image.copy()
        for i in BROW:
            x, y = np.round(points[i, :2]).astype(int)
            dark[y - 6 : y + 7, x - 6 : x + 7] = (dark[y - 6 : y + 7, x - 6 : x + 7] * 0.5).astype(np.uint8)
        faces += [
            (image, points, _probs(neutral=1.0)),
            (dark, points, _probs(angry=1.0)),
            (image, points, _probs(happy=1.0)),
            (image, points, _probs(sad=0.1, neutral=0.9)),
        ]
        all_meshes += [points] * 4
    return learn(iter(faces), np.array(all_meshes), min_faces=1.0), np.array(all_meshes)


def test_warp_triangles_round_trip_is_identity_inside_the_face(meshes):
    image = astronaut()[..., 1].astype(np.float32)
    canonical, triangles = shading.canonical_shape(np.array([meshes["astronaut"]]))
    points = meshes["astronaut"][:, :2]
    there, covered = warp_triangles(image, points, canonical, triangles, (shading.SIDE, shading.SIDE))
    assert covered.mean() > 0.4 and there[covered].std() > 10  # the face, not a blank
    back, inside = warp_triangles(there, canonical, points, triangles, image.shape)
    # the face is ~190 px wide in the photo and 120 px in the canonical square: a blur, not a shift
    core = inside & (np.abs(np.gradient(image)[0]) < 4) & (np.abs(np.gradient(image)[1]) < 4)
    assert np.median(np.abs(back[core] - image[core])) < 4
    assert back[~inside].max() == 0


def test_learned_map_finds_the_planted_brows_and_nothing_where_nothing_differs(meshes):
    model, _ = _planted_model(meshes)
    assert set(model.maps) == {"angry", "happy"}  # sad: 0.02 effective faces; surprise: none
    angry = model.maps["angry"]
    brows = [tuple(np.round(model.canonical[i]).astype(int)) for i in BROW]
    assert all(angry[y, x] < -0.2 for x, y in brows)  # log-luminance: darker, on both sides
    away = np.ones_like(angry, bool)
    for x, y in brows:
        away[max(y - 20, 0) : y + 20, max(x - 20, 0) : x + 20] = False
    assert np.abs(angry[away]).max() < 0.05
    assert np.abs(model.maps["happy"]).max() < 1e-6  # the happy copies equal the neutral ones


def test_too_few_faces_leave_an_emotion_out(meshes):
    model, all_meshes = _planted_model(meshes)
    assert model.faces["sad"] == pytest.approx(2 * 0.01) and "sad" not in model.maps
    faces = [(astronaut(), meshes["astronaut"], _probs(neutral=1.0))]
    with pytest.raises(ValueError, match="effective neutral faces"):
        learn(iter(faces), all_meshes[:1], min_faces=2.0)


def test_shade_scales_luminance_and_zero_changes_nothing():
    image = astronaut()
    residual = np.zeros(image.shape[:2], np.float32)
    residual[100:200, 100:200] = -0.5
    assert np.array_equal(shade(image, residual, 0.0), image)
    out = shade(image, residual, 1.0)
    assert np.array_equal(out[:100], image[:100])
    inner = image[120:180, 120:180].astype(np.float32)
    ratio = (out[120:180, 120:180].astype(np.float32) + 8) / (inner + 8)
    lit = inner > 30  # darker pixels clip at 0
    assert lit.mean() > 0.5 and np.allclose(ratio[lit], np.exp(-0.5), atol=0.02)


def test_strength_measures_how_much_of_a_map_a_face_carries(meshes):
    model, _ = _planted_model(meshes)
    image, points = astronaut(), meshes["astronaut"]
    base = model.strength(image, points, "angry")
    residual = model.residuals(points, image.shape[:2], ["angry"])["angry"]
    assert model.strength(shade(image, residual, 1.0), points, "angry") - base == pytest.approx(1.0, abs=0.25)


def test_save_load_round_trip_and_clear_errors(tmp_path, meshes):
    model, _ = _planted_model(meshes)
    path = tmp_path / "shading.npz"
    model.save(path)
    back = ShadingModel.load(path)
    assert set(back.maps) == set(model.maps) and np.allclose(back.maps["angry"], model.maps["angry"], atol=1e-3)
    assert back.faces == pytest.approx(model.faces) and back.sigma == model.sigma
    with pytest.raises(ConfigError, match="does not exist; valid:"):
        ShadingModel.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ConfigError, match="is not a shading model"):
        ShadingModel.load(tmp_path / "other.npz")


def test_committed_model_loads_with_the_emotions_it_has_enough_faces_for():
    model = ShadingModel.load(RepositionConf().shading)
    assert {"angry", "happy", "sad"} <= set(model.maps) and model.canonical.shape == (468, 2)
    assert all(model.faces[e] >= 50 for e in model.maps)


@pytest.fixture(scope="module")
def prepared(models):
    with_shading = build_mesh(RepositionConf(calibrate=False, segment=False), models)
    without = build_mesh(RepositionConf(calibrate=False, segment=False, shading=None), models)
    image = astronaut()
    return with_shading, with_shading.prepare(image), without, without.prepare(image)


def test_mesh_shading_changes_only_expression_shots_and_only_the_face(prepared):
    rep, face, plain_rep, plain = prepared
    assert set(face.shading) == {"smile", "laugh", "surprise", "sad", "angry"} and not plain.shading
    neutral = Shot("t", "grid", 10.0, 0.0)
    assert np.array_equal(rep.render(face, neutral), plain_rep.render(plain, neutral))
    angry = Shot("t", "random", 0.0, 0.0, expression="angry", intensity=1.0)
    a, b = rep.render(face, angry), plain_rep.render(plain, angry)
    changed = np.abs(a.astype(int) - b.astype(int)).max(-1) > 8
    x0, y0, x1, y1 = rep.face_box(face)
    assert changed.any() and not changed[:y0].any() and not changed[y1:].any()
    half = rep.render(face, replace(angry, intensity=0.5))
    assert 0 < np.abs(half.astype(int) - b).sum() < np.abs(a.astype(int) - b).sum()


def test_smiling_source_loses_its_smile_shading_under_other_expressions_only(prepared, models):
    rep, face, _, _ = prepared
    model = rep.shading
    strength = model.strength(face.image, face.face.points, "happy")
    assert strength > 0.5  # the astronaut smiles
    expected = model.residuals(face.face.points, face.image.shape[:2], ["sad", "smile"], rep.shading_gain, strength)
    assert np.allclose(face.shading["sad"], expected["sad"]) and np.allclose(face.shading["smile"], expected["smile"])
    no_unsmile = model.residuals(face.face.points, face.image.shape[:2], ["sad", "smile"], rep.shading_gain, 0.0)
    assert np.allclose(face.shading["smile"], no_unsmile["smile"])  # a smile keeps the source's folds
    assert not np.allclose(face.shading["sad"], no_unsmile["sad"])
    # angry takes out twice as much of it (UNSMILE_GAIN): on smiling sources it read happy otherwise
    plain = model.residuals(face.face.points, face.image.shape[:2], ["angry"], rep.shading_gain, 0.0)["angry"]
    taken = {e: r - face.shading[e] for e, r in (("sad", no_unsmile["sad"]), ("angry", plain))}
    assert np.allclose(taken["angry"], 2.0 * taken["sad"], atol=1e-5) and np.abs(taken["sad"]).max() > 0.01
    # and sad's own map is drawn 1.5x (MAP_GAIN)
    sad_map = warp_triangles(
        model.maps["sad"], model.canonical, face.face.points[:, :2], model.triangles, face.image.shape[:2]
    )[0]
    assert np.allclose(no_unsmile["sad"], 1.5 * rep.shading_gain * sad_map, atol=1e-5)
    kept = build_mesh(RepositionConf(calibrate=False, segment=False, neutralize=False), models).prepare(face.image)
    assert np.allclose(kept.shading["sad"], no_unsmile["sad"])  # neutralize off: the source keeps its smile


def test_config_refuses_a_bad_gain():
    with pytest.raises(ConfigError, match="reposition.shading_gain"):
        RepositionConf(shading_gain=7.0)
