"""MediaPipe's detector, mesh and iris models on LiteRT find faces in real photos and generated faces."""

from __future__ import annotations

import numpy as np
import pytest
from photos import PHOTOS

from facepipe.face.landmarks import NoFaceError
from facepipe.generate import sample_latents
from facepipe.generate.dcgan import build as build_generator


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_real_photos_get_a_plausible_mesh(landmarker, photo):
    image = PHOTOS[photo]()
    face = landmarker(image)
    assert face.score > 0.9 and face.points.shape == (468, 3) and face.iris.shape == (2, 5, 3)
    pts = face.points
    right_eye, left_eye, nose, chin = pts[33], pts[263], pts[1], pts[152]
    assert right_eye[0] < nose[0] < left_eye[0]  # subject's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < chin[1]  # eyes above nose above chin
    assert nose[2] < pts[234, 2]  # nose tip nearer the camera than the cheek edge
    for eye, (a, b) in enumerate(((33, 133), (362, 263))):
        lo, hi = np.minimum(pts[a], pts[b]), np.maximum(pts[a], pts[b])
        centre = face.iris[eye, 0]
        assert lo[0] < centre[0] < hi[0] and abs(centre[1] - (lo[1] + hi[1]) / 2) < (hi[0] - lo[0]) / 2


def test_generated_faces_are_mostly_landmarkable(landmarker, models):
    from types import SimpleNamespace

    generator = build_generator(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=32), models)
    faces = generator.synthesize(sample_latents(np.random.default_rng(0), 20, 100))
    found = 0
    for face in faces:
        try:
            landmarker(face)
            found += 1
        except NoFaceError:
            pass
    assert found >= 16  # measured 37 of 40 on seeds 0..39 of this generator


def test_no_face_is_a_clear_error(landmarker):
    with pytest.raises(NoFaceError, match="no face"):
        landmarker(np.full((128, 128, 3), 127, np.uint8))


def test_small_face_in_a_large_image_is_found_in_windows(landmarker):
    """Grace Hopper's face is about 6% of a 2400 px canvas: too small for one 128 px view."""
    image = PHOTOS["grace_hopper"]()
    canvas = np.full((2400, 2400, 3), 120, np.uint8)
    canvas[1700 : 1700 + image.shape[0], 1500 : 1500 + image.shape[1]] = image
    assert landmarker._detect_view(canvas, landmarker.margins) is None  # one view does not see it
    face = landmarker(canvas)
    direct = landmarker(image)
    assert np.abs(face.points[:, :2] - (direct.points[:, :2] + [1500, 1700])).mean() < 3.0


def test_an_image_read_again_is_looked_up_not_landmarked_again(landmarker, models, monkeypatch):
    """The stage labels the renders the closed loop has just measured: the second reading must be the
    same mesh without another model pass, and any other image (or a changed one) is read afresh."""
    from facepipe.face.landmarks import build

    assert build(models) is landmarker  # the stage and its repositioner share one landmarker
    image = PHOTOS["astronaut"]()
    passes = []
    read = landmarker._read_mesh
    monkeypatch.setattr(landmarker, "_read_mesh", lambda im: passes.append(1) or read(im))
    first, score = landmarker.mesh(image)
    first[0] += 100.0  # a caller changing its copy does not change what is remembered
    again, again_score = landmarker.mesh(image.copy())
    assert len(passes) == 1 and again_score == score and np.array_equal(again, read(image)[0])
    changed = image.copy()
    changed[0, 0] ^= 1
    landmarker.mesh(changed)
    blank = np.zeros((64, 64, 3), np.uint8)
    for _ in range(2):
        with pytest.raises(NoFaceError, match="no face"):
            landmarker.mesh(blank)
    assert len(passes) == 3  # the changed image and the blank one, each read once
