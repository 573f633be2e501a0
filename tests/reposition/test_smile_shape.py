"""The learned smile shape: found in planted data, measured on a face, taken out down to the threshold, files."""

from __future__ import annotations

import numpy as np
import pytest
from photos import astronaut, grace_hopper

from facepipe.config import RepositionConf
from facepipe.errors import ConfigError
from facepipe.face.emotion import EMOTIONS
from facepipe.face.pose import face_frame, to_camera
from facepipe.reposition.mesh.repositioner import build as build_mesh
from facepipe.reposition.mesh.smile_shape import SmileShape, frontal, learn

CORNERS, CHEEKS = (61, 291), (205, 425)


@pytest.fixture(scope="module")
def base(landmarker):
    return landmarker.mesh(grace_hopper())[0].astype(np.float64)


def _planted(base: np.ndarray) -> np.ndarray:
    """An image-space 'smile': corners out and up by 6 px, cheeks up by 3 px (image y points down)."""
    move = np.zeros_like(base)
    move[CORNERS[0], :2] = (-6, -6)
    move[CORNERS[1], :2] = (6, -6)
    move[list(CHEEKS), 1] = -3
    return move


def _probs(emotion: str) -> np.ndarray:
    p = np.full(len(EMOTIONS), 0.01)
    p[EMOTIONS.index(emotion)] = 0.94
    return p


def _learned(base: np.ndarray) -> tuple[SmileShape, np.ndarray]:
    rng = np.random.default_rng(0)
    smile = _planted(base)
    meshes, probs = [], []
    for i in range(40):
        happy = i % 2 == 0
        meshes.append(base + rng.normal(0, 0.3, base.shape) + (smile if happy else 0))
        probs.append(_probs("happy" if happy else "neutral"))
    shape, amounts = learn(np.array(meshes), np.array(probs))
    return shape, amounts


def _cam(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return to_camera(mesh), face_frame(mesh)


def test_learned_shape_is_the_planted_smile_and_measures_its_amount(base):
    shape, amounts = _learned(base)
    truth = frontal(*_cam(base + _planted(base)))[0] - frontal(*_cam(base))[0]
    cosine = np.sum(shape.smile * truth) / np.linalg.norm(shape.smile) / np.linalg.norm(truth)
    assert cosine > 0.95
    elsewhere = [i for i in range(468) if i not in (*CORNERS, *CHEEKS)]
    assert np.abs(shape.smile[elsewhere]).max() < 0.2 * np.abs(shape.smile).max()
    assert np.median(amounts[0::2]) == pytest.approx(1.0, abs=0.1)  # the smiling copies
    assert np.median(amounts[1::2]) == pytest.approx(0.0, abs=0.1)  # the neutral ones
    assert shape.amount(*_cam(base + 2 * _planted(base))) == pytest.approx(2.0, abs=0.2)
    assert 0 < shape.threshold < 0.5  # the 90th percentile of the neutral copies: noise only


def test_offsets_bring_a_smile_down_to_the_threshold_and_leave_a_neutral_face(base):
    shape, _ = _learned(base)
    cam, axes = _cam(base + 3 * _planted(base))
    moved = cam + shape.offsets(cam, axes)
    assert shape.amount(moved, axes) == pytest.approx(shape.threshold, abs=0.05)
    assert np.linalg.norm(moved[CORNERS[0]] - moved[CORNERS[1]]) < np.linalg.norm(cam[CORNERS[0]] - cam[CORNERS[1]])
    cam, axes = _cam(base - 0.5 * _planted(base))  # less of a smile than the neutral copies' mean
    assert not shape.offsets(cam, axes).any()


def test_save_load_round_trip_and_clear_errors(tmp_path, base):
    shape, _ = _learned(base)
    shape.save(tmp_path / "smile.npz")
    back = SmileShape.load(tmp_path / "smile.npz")
    assert np.allclose(back.smile, shape.smile, atol=1e-6) and back.threshold == pytest.approx(shape.threshold)
    with pytest.raises(ConfigError, match="does not exist; valid:"):
        SmileShape.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ConfigError, match="is not a smile shape"):
        SmileShape.load(tmp_path / "other.npz")
    np.savez(tmp_path / "flat.npz", neutral=np.zeros((468, 3)), smile=np.zeros((468, 2)), threshold=0.4)
    with pytest.raises(ConfigError, match=r"valid: two \(468, 3\) arrays"):
        SmileShape.load(tmp_path / "flat.npz")


def test_committed_shape_takes_the_astronauts_smile_out_and_grace_hoppers_slight_one(models):
    shape = SmileShape.load(RepositionConf().smile_shape)
    assert 0.2 < shape.threshold < 0.6
    rep = build_mesh(RepositionConf(calibrate=False, segment=False), models)
    lips_only = build_mesh(RepositionConf(calibrate=False, segment=False, smile_shape=None), models)
    for image, smiles in ((astronaut(), 1.5), (grace_hopper(), 0.5)):
        face = rep.prepare(image)
        points, frame = face.model.points[:468], face.frame
        assert shape.amount(points, frame) > smiles
        neutral = points + face.neutral[:468]
        assert shape.amount(neutral, frame) < shape.threshold + 0.15
        assert shape.amount(points + lips_only.prepare(image).neutral[:468], frame) > shape.amount(neutral, frame) + 0.2
    assert not lips_only.prepare(
        grace_hopper()
    ).neutral.any()  # her lips are closed: nothing else to do without the shape
