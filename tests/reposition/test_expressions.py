"""Expressions and gaze, measured on the rendered image by landmarking it again (not on the mesh we moved)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photos import PHOTOS

from facepipe.config import RepositionConf
from facepipe.face.expression import EYE_CLOSED_BELOW, geometry
from facepipe.face.pose import frame_pose
from facepipe.reposition.mesh.mouth import paint_closed_lips, paint_mouth
from facepipe.reposition.mesh.repositioner import build
from facepipe.reposition.mesh.warp import polygon_alpha
from facepipe.reposition.plan import Shot


@pytest.fixture(scope="module")
def prepared(models):
    repositioner = build(RepositionConf(), models)
    return repositioner, {name: repositioner.prepare(load()) for name, load in PHOTOS.items()}


def _own_pose(repositioner, face, **shot) -> Shot:
    """A shot of `face` at the photo's own pose, so that only the expression (or gaze) differs from it."""
    pose = repositioner.source_pose(face)
    return Shot("t", "random", pose.yaw, pose.pitch, pose.roll, **shot)


def _measure(landmarker, repositioner, face, **shot):
    return geometry(landmarker(repositioner.render(face, _own_pose(repositioner, face, **shot))).points)


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_blink_closes_both_eyes_and_wink_one(prepared, landmarker, photo):
    repositioner, faces = prepared
    face = faces[photo]
    neutral = _measure(landmarker, repositioner, face)
    assert min(neutral.eye_openness) > EYE_CLOSED_BELOW
    blink = _measure(landmarker, repositioner, face, expression="blink", intensity=1.0)
    assert max(blink.eye_openness) < EYE_CLOSED_BELOW
    wink = _measure(landmarker, repositioner, face, expression="wink", intensity=1.0)
    assert wink.eye_openness[1] < EYE_CLOSED_BELOW < wink.eye_openness[0]  # the subject's left eye closes


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_mouth_expressions_move_the_mouth_the_right_way(prepared, landmarker, photo):
    repositioner, faces = prepared
    face = faces[photo]
    neutral = _measure(landmarker, repositioner, face)
    smile = _measure(landmarker, repositioner, face, expression="smile", intensity=1.0)
    laugh = _measure(landmarker, repositioner, face, expression="laugh", intensity=1.0)
    half = _measure(landmarker, repositioner, face, expression="laugh", intensity=0.5)
    sad = _measure(landmarker, repositioner, face, expression="sad", intensity=1.0)
    assert smile.smile_width > neutral.smile_width + 0.02
    # both intensities open the mouth (the landmarker's reading saturates near 0.1 on Grace Hopper,
    # so full vs half intensity is not compared)
    assert laugh.mouth_opening > neutral.mouth_opening + 0.04 and half.mouth_opening > neutral.mouth_opening + 0.02
    assert sad.smile_width < neutral.smile_width


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_surprise_opens_the_mouth_into_a_round_o(prepared, landmarker, photo):
    """Measured on a render with the face square to the camera: surprise draws the mouth's corners in and
    opens it at least a third as tall as it is wide. Its lips used to move as groups (the whole lower lip
    dropped, the corners barely in), a box as wide as the closed mouth (height / width 0.38 and 0.26; fer
    read it angry on 31 of 50 renders)."""
    repositioner, faces = prepared
    face = faces[photo]
    square = frame_pose(np.eye(3))  # face frame = camera axes: the mouth's height is not foreshortened

    def mouth(expression: str) -> tuple[float, float]:
        points = landmarker(
            repositioner.render(
                face, Shot("t", "random", square.yaw, square.pitch, expression=expression, intensity=1.0)
            )
        ).points
        return float(np.linalg.norm(points[308, :2] - points[78, :2])), float(points[14, 1] - points[13, 1])

    neutral_width, _ = mouth("neutral")
    width, height = mouth("surprise")
    assert width < 0.95 * neutral_width and height > 0.32 * width, (neutral_width, width, height)


def test_a_shaped_mouth_is_placed_on_the_neutralised_face(prepared):
    """The astronaut smiles with parted lips, which neutralising closes and draws in. Surprise's O is placed
    relative to that neutral mouth, so its corners end `scale` times as far apart as the neutral mouth's;
    placed on her smiling mouth and then neutralised, they ended 0.56 times as far apart instead."""
    from facepipe.face.regions import MOUTH_CORNER_COLUMNS
    from facepipe.reposition.mesh.expressions import _MOUTH_SHAPES

    _, faces = prepared
    face = faces["astronaut"]
    corners = [MOUTH_CORNER_COLUMNS[0][0], MOUTH_CORNER_COLUMNS[1][0]]
    neutral = face.model.points[:468] + face.neutral[:468]
    surprised = neutral + face.expressions["surprise"].offsets
    ratio = np.linalg.norm(np.diff(surprised[corners] @ face.frame[:, :2], axis=0)) / np.linalg.norm(
        np.diff(neutral[corners] @ face.frame[:, :2], axis=0)
    )
    assert abs(ratio - _MOUTH_SHAPES["surprise"].scale) < 0.01, ratio


def test_gaze_moves_the_iris_within_the_eye(prepared, landmarker):
    repositioner, faces = prepared
    face = faces["astronaut"]
    base = landmarker(repositioner.render(face, _own_pose(repositioner, face))).iris[:, 0, :2]
    right = landmarker(repositioner.render(face, _own_pose(repositioner, face, gaze_yaw=20.0))).iris[:, 0, :2]
    up = landmarker(repositioner.render(face, _own_pose(repositioner, face, gaze_pitch=15.0))).iris[:, 0, :2]
    assert (right[:, 0] - base[:, 0]).min() > 0.5  # both irises moved towards image right
    assert (up[:, 1] - base[:, 1]).max() < -0.3  # and up (image y decreases)


def test_source_pose_without_calibration_or_neutralising_reproduces_the_photo(models):
    repositioner = build(RepositionConf(neutralize=False, calibrate=False), models)
    face = repositioner.prepare(PHOTOS["astronaut"]())
    out = repositioner.render(face, _own_pose(repositioner, face))
    assert np.abs(out.astype(int) - face.image).mean() < 1.0


def test_small_turn_keeps_the_identity(prepared, landmarker, models):
    """dlib's descriptor: a 10 degree turn stays the same person; the other photo does not."""
    from facepipe.evaluate.identity import SAME_PERSON_BELOW, build, distance

    encoder = build(models)
    repositioner, faces = prepared
    a, b = faces["astronaut"], faces["grace_hopper"]
    source = encoder(a.image, a.face.points)
    turned = repositioner.render(a, Shot("t", "grid", 10.0, 5.0))
    assert distance(source, encoder(turned, landmarker.mesh(turned)[0])) < SAME_PERSON_BELOW
    assert distance(source, encoder(b.image, b.face.points)) > 0.6


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_an_opened_mouth_is_not_joined_to_the_lower_lip_across_its_edge(prepared, photo):
    """The only triangles that join the upper lip to the lower lie inside the opening (the strip between
    the inner lips, painted over when the mouth opens). Delaunay-triangulated, the near-coincident lips
    were joined past the opening (10 and 20 such triangles on the two photos) and an opened mouth had
    streaks of stretched lip below its painted interior; the face now keeps MediaPipe's tessellation."""
    from facepipe.face.regions import INNER_LIPS

    upper = set(INNER_LIPS[1:10]) | {185, 40, 39, 37, 0, 267, 269, 270, 409}  # inner and outer upper lip
    lower = set(INNER_LIPS[11:]) | {146, 91, 181, 84, 17, 314, 405, 321, 375}  # inner and outer lower lip
    _, faces = prepared
    joining = [t for t in faces[photo].model.triangles.tolist() if set(t) & upper and set(t) & lower]
    assert len(joining) >= 16 and all(set(t) <= set(INNER_LIPS) for t in joining), joining


@pytest.mark.parametrize("photo", sorted(PHOTOS))
@pytest.mark.parametrize("expression", ["smile", "laugh", "surprise", "sad", "angry"])
def test_each_lip_keeps_its_rows_in_order(prepared, photo, expression):
    """Along every column of each lip, inner row to outer, the vertices stay in order up the face after an
    expression: the thin-plate spline used to carry the two middle rows past the outer edge where a
    closed mouth opened (Grace Hopper's surprise: the lower lip's middle below its outer row), and the
    folded lip showed as streaks below the opening."""
    from facepipe.face.pose import face_width
    from facepipe.face.regions import LOWER_LIP_COLUMNS, UPPER_LIP_COLUMNS

    _, faces = prepared
    face = faces[photo]
    points = face.model.points[:468]
    before = points @ face.frame[:, 1] / face_width(points)
    after = (points + face.neutral[:468] + face.expressions[expression].offsets) @ face.frame[:, 1] / face_width(points)
    for columns, sign in ((LOWER_LIP_COLUMNS, 1.0), (UPPER_LIP_COLUMNS, -1.0)):  # lower lip: inner row highest
        for column in columns:
            # each row's step towards the outer edge (face widths) may shrink, but not turn back past the source's
            steps_before, steps_after = np.diff(sign * before[list(column)]), np.diff(sign * after[list(column)])
            assert np.all(steps_after < np.maximum(steps_before, 0) + 0.01), (column, steps_before, steps_after)


def _lip_loop(left: float, right: float, y: float, above: float, below: float) -> np.ndarray:
    """A synthetic lip loop `[20, 2]` in `INNER_LIPS` order (corner to corner over the top, back underneath):
    the upper edge bulging `above` px above row `y` in the middle, the lower edge `below` px below it."""
    xs, bulge = np.linspace(left, right, 11), np.sin(np.linspace(0, np.pi, 11))
    upper, lower = np.column_stack([xs, y - above * bulge]), np.column_stack([xs, y + below * bulge])
    return np.concatenate([upper, lower[-2:0:-1]])


def test_closed_lips_lose_the_teeth_between_them():
    """Lips closed over a bright strip (squeezed teeth): the strip takes a shade of the lips' colour,
    darker than the lips and far from white, and nothing outside the lips' box changes."""
    image = np.full((40, 60, 3), (200, 160, 140), np.uint8)  # skin
    lips, outer = _lip_loop(15, 45, 20, 0.6, 0.6), _lip_loop(15, 45, 20, 4, 4)
    cv2.fillPoly(image, [np.round(outer).astype(np.int32)], (170, 80, 90))  # lips
    image[19:22, 17:44] = 250  # the squeezed teeth
    out = paint_closed_lips(image, lips, outer)
    seam = out[20, 20:41].astype(int)
    assert seam.max() < 170 and np.all(seam[:, 0] > seam[:, 1])  # lip-coloured, darker than the lips
    assert np.array_equal(out[:, :10], image[:, :10]) and np.array_equal(out[:, 51:], image[:, 51:])


def test_lips_carried_through_each_other_get_a_seam_not_a_patch():
    """An upper lip carried 6 px below the lower one (sad on the astronaut) crosses the inner loop over
    itself; only a seam a pixel or two wide is painted there, not the region the crossed loop encloses."""
    image = np.full((40, 60, 3), (200, 160, 140), np.uint8)
    lips = _lip_loop(15, 45, 20, -3, -3)  # the upper lip below the lower one, by 6 px in the middle
    outer = _lip_loop(15, 45, 20, 6, 6)
    cv2.fillPoly(image, [np.round(outer).astype(np.int32)], (170, 80, 90))
    changed = np.abs(paint_closed_lips(image, lips, outer).astype(int) - image).sum(2) > 0
    rows = np.nonzero(changed[:, 28:33].any(1))[0]  # the middle columns
    assert 0 < len(rows) <= 3 and abs(rows.mean() - 20) <= 1


def test_only_an_open_source_mouth_gets_its_seam_painted(prepared):
    """The astronaut smiles with parted lips (neutralising closes them); Grace Hopper's are closed."""
    _, faces = prepared
    assert faces["astronaut"].closed_lips and not faces["grace_hopper"].closed_lips


def test_moves_spread_along_the_mesh_without_overshoot(landmarker, models):
    """Off the eyelids, an expression's moves spread along the tessellation as a harmonic field: exact
    at the controls and pins, and every other vertex within the range of the moves (the plane spline
    overshot: on Grace Hopper's closed lips the lower lip's middle rows dropped past its outer edge)."""
    from facepipe.face import tessellation
    from facepipe.face.pose import face_frame, face_plane, to_camera
    from facepipe.reposition.mesh.expressions import _harmonic, _mesh_laplacian

    points = landmarker(PHOTOS["grace_hopper"]()).points
    cam, axes = to_camera(points), face_frame(points)
    _, local = face_plane(cam, axes)
    rng = np.random.default_rng(0)
    controls = rng.choice(468, 40, replace=False)
    moves = {int(i): rng.normal(size=3) for i in controls}
    offsets = _harmonic(moves, _mesh_laplacian(local, tessellation.build(models).edges))
    values = np.array(list(moves.values()))
    np.testing.assert_allclose(offsets[controls], values)
    assert np.all(offsets >= values.min(0) - 1e-9) and np.all(offsets <= values.max(0) + 1e-9)
    assert np.abs(offsets[np.setdiff1d(np.arange(468), controls)]).max() > 0.1  # the free vertices did move


def test_painted_teeth_are_lit_like_the_face_around_them():
    """The same opened smile painted into a bright and a dim face: the teeth keep their colour in the
    bright one and are darker in the dim one (near-white teeth shone as white bars in a dim face)."""
    lips = _lip_loop(20, 60, 30, 2, 10)
    teeth = {}
    for level in (200, 60):
        face = np.full((60, 80, 3), (level, int(level * 0.8), int(level * 0.7)), np.uint8)
        teeth[level] = int(paint_mouth(face, lips, teeth=True)[29:33, 35:45].max())
    assert teeth[200] > 230 and teeth[60] < 0.6 * teeth[200], teeth


def test_a_mouth_without_teeth_is_dark_to_its_lower_lip():
    """Surprise's O shows no teeth and no tongue: its lower part stays as dark as the cavity (a pink tongue
    there made a small O read as pursed lips); a smile's opening keeps its tongue."""
    lips = _lip_loop(20, 60, 25, 8, 12)
    face = np.full((60, 80, 3), (200, 160, 140), np.uint8)
    o_mouth, smile = paint_mouth(face, lips, teeth=False), paint_mouth(face, lips, teeth=True)
    assert o_mouth[33:36, 38:43, 0].max() < 75 < smile[33:36, 38:43, 0].max()


def test_a_painted_mouth_depends_only_on_the_face_around_it():
    """`paint_mouth` works in the opening's box: painted into a large textured image it changes nothing
    away from the mouth and gives the same pixels as painted into a crop around it (lips shifted with the
    crop), also with the opening cut by the image's edge."""
    image = np.random.default_rng(0).integers(60, 220, (200, 240, 3), dtype=np.uint8)
    lips = _lip_loop(100, 140, 120, 2, 10)
    whole = paint_mouth(image, lips, teeth=True)
    crop = paint_mouth(image[60:180, 50:190], lips - [50, 60], teeth=True)
    assert np.array_equal(whole[60:180, 50:190], crop)
    changed = (whole != image).any(axis=2)
    assert changed.any() and not (changed & (polygon_alpha(lips, image.shape[:2], 8) == 0)).any()
    edge = paint_mouth(image, lips + [115, 0], teeth=True)  # the right corner 15 px past the edge
    assert np.array_equal(edge[:, :200], image[:, :200]) and (edge[115:130, 225:] != image[115:130, 225:]).any()


def test_painted_teeth_take_the_light_of_the_whole_ring_around_the_mouth():
    """The teeth's light is read in a ring half the mouth's width around the opening, not only next to
    it: a dim band 4 px wide around the opening in an otherwise bright face leaves the teeth bright."""
    lips = _lip_loop(100, 140, 120, 2, 10)  # 40 px wide: the ring reaches 20 px out
    face = np.full((200, 240, 3), 200, np.uint8)
    opening = np.zeros(face.shape[:2], np.uint8)
    cv2.fillPoly(opening, [np.round(lips).astype(np.int32)], 1)
    face[cv2.dilate(opening, np.ones((9, 9), np.uint8)) > 0] = 60
    assert paint_mouth(face, lips, teeth=True)[119:123, 115:125].max() > 230
