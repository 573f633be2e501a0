"""The mesh warp rotates a real head by the requested amount, and the identity rotation changes nothing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photos import PHOTOS

from facepipe.config import RepositionConf
from facepipe.face import segmentation
from facepipe.face.pose import Pose, face_frame, from_camera, head_pose, rotation_matrix, to_camera
from facepipe.face.regions import FACE_OVAL
from facepipe.reposition.mesh import warp as mesh_warp
from facepipe.reposition.mesh.repositioner import build
from facepipe.reposition.mesh.warp import (
    BACK_LOWEST,
    BACK_TEXTURE_OUT,
    CHIN_TIP,
    MAX_HAIR_GROWTH,
    MESH_POINTS,
    STRETCH_SHARP,
    HeadModel,
    _back_of_head,
    _behind_rim,
    _hair_profile,
    _soften_stretched,
    background_plate,
    draw_order,
    fitted_ellipsoid,
    head_model,
    outline_follow,
    pose_change,
    project,
    rotate_head,
    triangle_stretch,
    unwrap,
)
from facepipe.reposition.plan import Shot


def test_identity_rotation_reproduces_the_image(landmarker, face_triangles):
    image = PHOTOS["astronaut"]()
    model = head_model(landmarker(image).points, image.shape[:2], face_triangles)
    out = rotate_head(image, model, np.eye(3))
    assert out.shape == image.shape and np.abs(out.astype(int) - image).mean() < 1.0


@pytest.mark.parametrize("photo", sorted(PHOTOS))
@pytest.mark.parametrize("yaw, pitch", [(20, 0), (-20, 0), (0, 15), (0, -15), (30, 20)])
def test_requested_pose_is_measured_back(landmarker, models, photo, yaw, pitch):
    """Through the calibrated mesh repositioner: the pose read on the render is the one requested."""
    repositioner = build(RepositionConf(), models)
    face = repositioner.prepare(PHOTOS[photo]())
    out = repositioner.render(face, Shot("t", "grid", float(yaw), float(pitch)))
    got = head_pose(landmarker(out).points)
    assert got.yaw == pytest.approx(yaw, abs=4) and got.pitch == pytest.approx(pitch, abs=4)


@pytest.mark.parametrize("target", [(0.0, 0.0, 0.0), (30.0, -25.0, 5.0), (-50.0, 40.0, -10.0)])
def test_pose_change_turns_a_mesh_to_the_absolute_pose(landmarker, target):
    """The rotation the renderer applies takes the photo's mesh to exactly the requested absolute pose,
    as the estimator measures it (frontal: MediaPipe's canonical face), from wherever the photo faced."""
    points = landmarker(PHOTOS["astronaut"]()).points.astype(np.float64)
    rotation = pose_change(face_frame(points), Pose(*target))
    pivot = points.mean(0)
    pose = head_pose(from_camera(to_camera(points - pivot) @ rotation.T) + pivot)
    assert np.allclose([pose.yaw, pose.pitch, pose.roll], target, atol=1e-6)


def test_uncalibrated_rotation_turns_by_the_mesh_angle(landmarker, face_triangles):
    """Without calibration a 20 degree turn reads back as less (the mesh's depth is flatter than a
    head's), which is why the repositioner calibrates."""
    image = PHOTOS["astronaut"]()
    face = landmarker(image)
    src, frame = head_pose(face.points), face_frame(face.points)
    out = rotate_head(
        image,
        head_model(face.points, image.shape[:2], face_triangles),
        pose_change(frame, Pose(src.yaw + 20, src.pitch, src.roll)),
    )
    got = head_pose(landmarker(out).points)
    assert 10 < got.yaw - src.yaw < 20 and got.pitch - src.pitch == pytest.approx(0, abs=4)
    assert np.abs(out.astype(int) - image).mean() > 1.0  # something did move


@pytest.mark.parametrize("target", [(0.0, 0.0), (20.0, -10.0), (-45.0, 5.0), (60.0, 60.0), (-60.0, -60.0)])
def test_calibration_inverts_a_known_response_inside_and_beyond_the_probes(target):
    """A response with gain 0.7 in yaw, 0.9 in pitch, an offset and yaw->pitch cross-talk, fitted
    from the probe grid, is inverted exactly: also beyond the probes' +-30 degrees."""
    from facepipe.reposition.mesh.repositioner import PROBE_ANGLES, Calibration

    def response(yaw, pitch):
        return np.array([0.7 * yaw + 1.0, 0.9 * pitch - 0.05 * yaw - 2.0])

    commanded = np.array([(y, p) for y in PROBE_ANGLES for p in PROBE_ANGLES])
    calibration = Calibration.fit(commanded, np.array([response(*c) for c in commanded]))
    assert calibration.plausible()
    command = calibration.command(Pose(*target, 0.0))
    assert response(command.yaw, command.pitch) == pytest.approx(np.array(target), abs=0.05)


def test_unwrap_keeps_directions_and_measures_the_angle_from_the_face_axis():
    axes, radii, centre = np.eye(3), np.array([2.0, 3.0, 2.0]), np.zeros(3)
    points = np.array([[0, 0, 5.0], [2, 0, 0], [0, 3, 0], [-2, 0, -2]])  # front, right, up, behind-left
    uv = unwrap(points, centre, axes, radii)
    np.testing.assert_allclose(uv[0], [0, 0], atol=1e-12)
    np.testing.assert_allclose(uv[1], [np.pi / 2, 0], atol=1e-12)
    np.testing.assert_allclose(uv[2], [0, -np.pi / 2], atol=1e-12)  # up in the head is up in the image (y down)
    np.testing.assert_allclose(uv[3], [-3 * np.pi / 4, 0], atol=1e-12)  # behind the rim: beyond pi / 2


@pytest.mark.parametrize("turned_away_nearer", [False, True])
def test_a_turned_away_face_triangle_is_drawn_only_where_nothing_nearer_covers_it(turned_away_nearer):
    """Four triangles over one spot: a face triangle that turned away, a proxy triangle facing the
    camera, a face triangle facing it (always on top) and a folded proxy triangle (never drawn).
    The turned-away one goes under the proxy when the proxy is nearer, over it when it is further.
    A triangle faces the camera while its projected area is positive (`head_model` winds them so)."""
    corners = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])  # positive area, x right, y down
    dst = np.zeros((MESH_POINTS + 6, 2))
    depth = np.zeros(len(dst))
    triangles = np.array(
        [
            [0, 2, 1],
            [MESH_POINTS, MESH_POINTS + 1, MESH_POINTS + 2],
            [3, 4, 5],
            [MESH_POINTS + 3, MESH_POINTS + 5, MESH_POINTS + 4],
        ]
    )  # first and last wound backwards
    for t, z in enumerate([5.0 if turned_away_nearer else 1.0, 3.0, 0.0, 9.0]):
        dst[np.sort(triangles[t])], depth[triangles[t]] = corners, z
    model = HeadModel(
        points=np.zeros((len(dst), 3)), pivot=np.zeros(3), triangles=triangles, unwrapped=dst.copy(), texture=dst.copy()
    )
    assert draw_order(model, dst, depth) == ([1, 0, 2] if turned_away_nearer else [0, 1, 2])


def test_head_proxy_never_stands_in_front_of_the_face_outline(landmarker, face_triangles):
    """The proxy's points are no nearer the camera than the mesh outline point closest to them: where
    they were (the ellipsoid passing in front of the cheek), turned heads drew a sawtooth cheek."""
    image = PHOTOS["grace_hopper"]()
    model = head_model(landmarker(image).points, image.shape[:2], face_triangles)
    mesh, proxy = model.points[:MESH_POINTS], model.points[MESH_POINTS:]
    rim = mesh[cv2.convexHull(mesh[:, :2].astype(np.float32), returnPoints=False)[:, 0]]
    nearest = np.linalg.norm(proxy[:, None, :2] - rim[None, :, :2], axis=2).argmin(1)
    assert len(proxy) > 50 and np.all(proxy[:, 2] <= rim[nearest, 2] + 1e-9)


def test_head_proxy_follows_the_face_outline_only_near_it(landmarker, face_triangles):
    """Moved as one, the outline carries the proxy points beside it almost all the way and leaves the
    far ones (the neck's lower part, the back of the head) where they were: a dropped jaw takes the skin
    below the chin with it instead of folding the proxy's triangles over the chin."""
    image = PHOTOS["astronaut"]()
    model = head_model(landmarker(image).points, image.shape[:2], face_triangles)
    width = np.linalg.norm(model.points[454] - model.points[234])
    weights = outline_follow(model.points, FACE_OVAL, 0.12)
    shift = np.array([0.0, -0.1 * width, 0.0])  # the whole outline down by a tenth of the face's width
    moved = weights @ np.tile(shift, (len(FACE_OVAL), 1))
    gap = np.linalg.norm(model.points[MESH_POINTS:, None] - model.points[list(FACE_OVAL)][None], axis=2).min(1) / width
    share = moved[:, 1] / shift[1]
    assert np.all((share >= 0) & (share <= 1 + 1e-9)) and np.allclose(moved[:, [0, 2]], 0)
    assert (gap < 0.05).any() and np.all(share[gap < 0.05] > 0.9)
    assert (gap > 0.5).any() and np.all(share[gap > 0.5] < 0.01)


def test_behind_rim_moves_only_points_in_front_of_their_nearest_outline_point():
    square = np.array([[0, 0, 1.0], [10, 0, 5.0], [10, 10, 1.0], [0, 10, 1.0]])  # an outline; z: towards the camera
    proxy = np.array([[12, 0, 7.0], [12, 0, 2.0], [-3, 11, 0.5]])
    out = _behind_rim(proxy, square)
    np.testing.assert_allclose(out, [[12, 0, 5.0], [12, 0, 2.0], [-3, 11, 0.5]])


def test_back_of_head_lies_behind_the_rim_and_takes_its_colour_just_outside_it():
    centre, axes, radii = np.array([1.0, 2.0, -3.0]), np.eye(3), np.array([2.0, 3.0, 2.0])
    back, colour = _back_of_head(centre, axes, radii)
    local = (back - centre) / radii
    assert len(back) > 100 and np.all(local[:, 2] < -0.1)  # behind the rim plane: hidden in the source
    assert np.all(local[:, 1] >= BACK_LOWEST - 1e-9)  # nothing below the jaw: the neck does not turn
    seen = (colour * [1, -1] - centre[:2]) / radii[:2]  # image -> camera axes, in radii
    reach = np.linalg.norm(seen, axis=1)
    assert np.all(reach >= 1.0) and np.all(reach <= 1 + BACK_TEXTURE_OUT + 1e-9)  # a ring just outside the rim
    along = local[:, :2] / np.linalg.norm(local[:, :2], axis=1, keepdims=True)
    np.testing.assert_allclose(seen / reach[:, None], along, atol=1e-9)  # at the point's own longitude


def _head_pixels(image: np.ndarray, model, yaw: float, person=None) -> np.ndarray:
    """Which pixels the head layer covers when the head turns by `yaw` (over a magenta plate)."""
    plate = np.zeros((image.shape[0] + 2 * model.pad, image.shape[1] + 2 * model.pad, 3), np.uint8)
    plate[...] = (255, 0, 255)
    out = rotate_head(image, model, rotation_matrix(yaw, 0.0, 0.0), plate, person)  # a turn by `yaw`
    return np.any(out != (255, 0, 255), axis=2)


@pytest.mark.parametrize("with_person, share", [(False, 0.9), (True, 0.85)])
def test_a_head_turned_60_degrees_keeps_its_hat(landmarker, face_triangles, models, with_person, share):
    """The back of the head fills the trailing side: turned 60 degrees, the hat above Grace Hopper's
    eyes covers nearly as many pixels as unturned (without the back, 80% of them: the plate showed).
    With the person mask too, where the proxy reaches out to the hat's edge (`_hair_profile`) and the
    back takes its colour inside that edge (outside it, background, the hat turned into a thin wedge:
    67% / 80% of its pixels): 93% / 88% at +-60."""
    image = PHOTOS["grace_hopper"]()
    points = landmarker(image).points
    person = segmentation.build(models)(image) if with_person else None
    model = head_model(points, image.shape[:2], face_triangles, person=person)
    above_eyes = slice(None, int(points[[33, 263], 1].min()))
    front = _head_pixels(image, model, 0.0, person)[above_eyes].sum()
    for yaw in (60.0, -60.0):
        assert _head_pixels(image, model, yaw, person)[above_eyes].sum() > share * front


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_no_proxy_point_lies_inside_the_face_where_the_head_is_triangulated(landmarker, face_triangles, photo):
    """In the unwrap (where the head is triangulated) every proxy point lies outside the face mesh's
    outline: the 20-25 that did (per photo) joined the mesh in teeth along a turned cheek."""
    image = PHOTOS[photo]()
    model = head_model(landmarker(image).points, image.shape[:2], face_triangles)
    face = model.unwrapped[:MESH_POINTS]
    outline = face[cv2.convexHull(face.astype(np.float32), returnPoints=False)[:, 0]].astype(np.float32)
    inside = [cv2.pointPolygonTest(outline, (float(u), float(v)), False) >= 0 for u, v in model.unwrapped[MESH_POINTS:]]
    assert len(inside) > 100 and not any(inside)


def test_closed_loop_brings_a_miscalibrated_shot_within_the_tolerance(landmarker, models):
    """Without calibration (the linear fallback) yaw -25 reads about -27.6 and pitch -3.9 on the astronaut
    (yaw 25 reads within 2 degrees since the stretched side of the head is drawn blurred);
    the closed loop re-renders until measured yaw and pitch are within `pose_tolerance` (2 degrees)."""
    image = PHOTOS["astronaut"]()
    misses = {}
    for steps in (0, 8):
        repositioner = build(RepositionConf(calibrate=False, max_pose_steps=steps), models)
        got = head_pose(
            landmarker(repositioner.render(repositioner.prepare(image), Shot("t", "grid", -25.0, 0.0))).points
        )
        misses[steps] = max(abs(got.yaw + 25.0), abs(got.pitch))
    # + 0.5: the loop reads `landmarker.pose` (mesh only); this reads the iris-refined mesh, a little different
    assert misses[0] > 3.0 and misses[8] <= 2.0 + 0.5


def test_an_expression_is_drawn_on_the_head_turned_as_for_the_neutral_shot(models):
    """The landmark model reads sad as pitch (on the astronaut at pitch -20 about 6 degrees above the
    same head neutral): the closed loop aims the neutral head, and the expression is drawn on the
    command it found, so an expression does not tilt the head."""
    repositioner = build(RepositionConf(), models)
    face = repositioner.prepare(PHOTOS["astronaut"]())
    draws = []
    original = repositioner._draw

    def spy(p, commanded, field, intensity, texture=None):
        draws.append((commanded, field, intensity))
        return original(p, commanded, field, intensity, texture)

    repositioner._draw = spy
    repositioner.render(face, Shot("t", "grid", 0.0, -20.0))
    neutral_command = draws[-1][0]
    draws.clear()
    repositioner.render(face, Shot("t", "random", 0.0, -20.0, expression="sad", intensity=1.0))
    commanded, field, intensity = draws[-1]
    assert field is face.expressions["sad"] and intensity == 1.0
    assert all(f is None for _, f, _ in draws[:-1])  # every render the loop measured was neutral
    assert (commanded.yaw, commanded.pitch) == (neutral_command.yaw, neutral_command.pitch)


def test_a_turned_face_stays_where_it_was_in_the_frame(landmarker, face_triangles):
    """The head turns about the face's centroid: turned 30 degrees (yaw, then pitch) the landmarked
    face centre moves by a few hundredths of the face's width (about the head's centre: a fifth)."""
    image = PHOTOS["astronaut"]()
    points = landmarker(image).points
    model, frame = head_model(points, image.shape[:2], face_triangles), face_frame(points)
    src = head_pose(points)
    width = np.linalg.norm(points[454, :2] - points[234, :2])
    for turn in (Pose(src.yaw + 30, src.pitch, src.roll), Pose(src.yaw, src.pitch - 30, src.roll)):
        moved = landmarker(rotate_head(image, model, pose_change(frame, turn))).points
        assert np.linalg.norm(moved[:, :2].mean(0) - points[:, :2].mean(0)) < 0.08 * width


def test_closed_loop_turns_less_when_the_calibrated_render_cannot_be_read(landmarker, models):
    """Without calibration and with twice the yaw it needs (`yaw_gain` 2), yaw 40 is commanded as
    about 80 degrees: that render has no landmarkable face, so the loop retries nearer the requested
    angle, keeps a render it can read and corrects it (the loop's Jacobian is the wrong calibration's,
    so its corrections overshoot: within 3 degrees, not the 2 of `pose_tolerance`); without the loop
    the output stays unreadable. The head keeps the photo's own pitch: only the yaw is tested."""
    image = PHOTOS["astronaut"]()
    pitch = round(landmarker.pose(image).pitch)
    outputs = {}
    for steps in (0, 8):
        repositioner = build(RepositionConf(calibrate=False, yaw_gain=2.0, max_pose_steps=steps), models)
        outputs[steps] = repositioner.render(repositioner.prepare(image), Shot("t", "grid", 40.0, float(pitch)))
    assert landmarker.pose(outputs[0]) is None
    got = landmarker.pose(outputs[8])
    assert got is not None and abs(got.yaw - 40.0) <= 3.0 and abs(got.pitch - pitch) <= 3.0


def test_triangle_stretch_is_the_largest_magnification_of_each_map():
    src = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 5.0], [5.0, 5.0]])
    dst = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 0.5], [0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    tris = np.array([[0, 1, 2], [3, 4, 5]])  # x3 / x0.5 across, then a degenerate one
    stretch = triangle_stretch(src, dst, tris)
    assert stretch[0] == pytest.approx(3.0) and stretch[1] == 1.0


def test_stretched_texture_is_drawn_blurred_and_the_rest_untouched():
    """One-pixel stripes sampled by a map that stretches them 8x are smoothed; at a stretch below
    `STRETCH_SHARP` the remapped head comes back as it was, byte for byte."""
    image = np.zeros((40, 40, 3), np.uint8)
    image[::2] = 255
    ys, xs = np.mgrid[0:40, 0:40].astype(np.float32)
    head = cv2.remap(image, xs, ys, cv2.INTER_LINEAR)
    labels = np.zeros((40, 40), np.int32)
    kept = _soften_stretched(image, head, labels, np.array([STRETCH_SHARP * 0.9]), xs, ys)
    assert kept is head
    soft = _soften_stretched(image, head, labels, np.array([8.0]), xs, ys)
    inner = (slice(8, 32), slice(8, 32))

    def rows_change(img):
        return np.abs(np.diff(img[inner].astype(float), axis=0)).mean()

    assert rows_change(soft) < 0.1 * rows_change(head)
    assert soft[inner].mean() == pytest.approx(head[inner].mean(), abs=8)  # blurred, not darkened or lost
    # maps that read beyond the image's edge (a turned head near the frame) read its edge pixels
    edge = np.arange(40, dtype=np.float32)[:, None].repeat(40, 1)
    beyond = _soften_stretched(image, head, labels, np.array([8.0]), xs + 100, edge + 60)
    assert np.allclose(beyond, image[-1, -1].astype(float), atol=1)


def test_a_turned_head_shows_its_side_without_stripes(landmarker, face_triangles, monkeypatch):
    """Grace Hopper turned 35 degrees shows the side of her head, a strip a few pixels wide in the
    photo: where the render stretches the source 4x or more, its rows no longer flicker from one to
    the next (mean |vertical difference| less than half of what the sharp warp drew)."""
    image = PHOTOS["grace_hopper"]()
    face = landmarker(image)
    model = head_model(face.points, image.shape[:2], face_triangles)
    rotation = pose_change(face_frame(face.points), Pose(35.0, 0.0, 0.0))
    dst, depth = project(model, rotation)
    labels = mesh_warp.triangle_labels(
        (image.shape[0] + 2 * model.pad, image.shape[1] + 2 * model.pad),
        dst,
        model.triangles,
        draw_order(model, dst, depth),
    )
    stretched = (triangle_stretch(model.texture, dst, model.triangles)[np.maximum(labels, 0)] > 4) & (labels >= 0)
    stretched = cv2.erode(stretched.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    p = model.pad
    stretched = stretched[p:-p, p:-p]
    assert stretched.sum() > 500  # the side of the head is in view, and stretched
    soft = rotate_head(image, model, rotation).astype(float)
    monkeypatch.setattr(mesh_warp, "STRETCH_BLUR", 0.0)
    sharp = rotate_head(image, model, rotation).astype(float)

    def flicker(img):
        return np.abs(np.diff(img, axis=0))[stretched[:-1]].mean()

    assert flicker(soft) < 0.5 * flicker(sharp)


def _outline_mask(model, shape):
    hull = np.zeros(shape, np.uint8)
    outline = from_camera(model.points)[:, :2] - model.pad
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(outline).astype(np.int32)), 1)
    return hull > 0, outline


def test_head_proxy_reaches_out_to_hold_the_hat_so_no_second_hat_stays_behind(landmarker, face_triangles, models):
    """Grace Hopper's hat crown reaches above the head proxy fitted to her face. Given her person
    mask, the proxy reaches out (per longitude; the jaw stays) until its outline holds it, so the
    crown turns with her head and the background plate inpaints it (before, it stayed in the plate
    and stood above the turned hat); the body below the chin stays in the plate as it was."""
    image = PHOTOS["grace_hopper"]()
    points = landmarker(image).points
    person = segmentation.build(models)(image)
    fitted = head_model(points, image.shape[:2], face_triangles)
    grown = head_model(points, image.shape[:2], face_triangles, person=person)
    fitted_hull, outline = _outline_mask(fitted, image.shape[:2])
    grown_hull, grown_outline = _outline_mask(grown, image.shape[:2])
    rows = np.arange(image.shape[0])[:, None]
    crown = (
        (person > 0.5)
        & ~cv2.dilate(fitted_hull.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
        & (rows < outline[CHIN_TIP, 1])
    )
    assert crown.sum() > 300
    assert grown_hull[crown].mean() > 0.9  # the grown proxy holds the crown
    plate = background_plate(image, grown)[grown.pad : -grown.pad, grown.pad : -grown.pad].astype(int)
    assert np.abs(plate[crown] - image[crown]).mean() > 20  # inpainted, not left standing
    body = (person > 0.5) & ~grown_hull & (rows > outline[CHIN_TIP, 1] + 10)
    assert body.sum() > 10000 and np.array_equal(plate[body], image[body])
    # the jaw end of the proxy stays where it was
    lowest, grown_lowest = outline[MESH_POINTS:, 1].max(), grown_outline[MESH_POINTS:, 1].max()
    assert grown_lowest == pytest.approx(lowest, abs=0.02 * image.shape[0])


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_background_plate_fills_the_head_smoothly(landmarker, models, face_triangles, photo):
    """Where the head was, the plate is a smooth blend of the colours around it, without the radial
    streaks a full-size inpainting drew from the hull's edge inwards (Telea at full size: detail 1.86 grey
    levels on the astronaut, 1.29 on Grace Hopper; filled at the coarse scale 1.00 and 0.62). Outside
    the hull it is the image itself."""
    image = PHOTOS[photo]()
    model = head_model(
        landmarker(image).points, image.shape[:2], face_triangles, person=segmentation.build(models)(image)
    )
    p = model.pad
    plate = background_plate(image, model)[p:-p, p:-p].astype(np.float32)
    hull = _outline_mask(model, image.shape[:2])[0].astype(np.uint8)
    inner = cv2.erode(hull, np.ones((9, 9), np.uint8)) > 0
    detail = np.abs(plate - cv2.GaussianBlur(plate, (0, 0), 4)).mean(-1)
    assert detail[inner].mean() < 1.1
    outside = cv2.dilate(hull, np.ones((3, 3), np.uint8)) == 0
    assert np.array_equal(plate[outside], image[outside].astype(np.float32))


def test_head_proxy_does_not_grow_without_hair_beyond_it(landmarker, face_triangles):
    """A person mask that is the face mesh's own outline needs no growth; one that is the whole
    image reaches out only by `MAX_HAIR_GROWTH`."""
    image = PHOTOS["astronaut"]()
    points = landmarker(image).points
    face_only = np.zeros(image.shape[:2], np.float32)
    cv2.fillConvexPoly(face_only, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1.0)
    fitted = head_model(points, image.shape[:2], face_triangles)
    same = head_model(points, image.shape[:2], face_triangles, person=face_only)
    assert np.allclose(same.points, fitted.points)
    everything = head_model(points, image.shape[:2], face_triangles, person=np.ones(image.shape[:2], np.float32))
    width = np.ptp(everything.points[MESH_POINTS:, 0]) / np.ptp(fitted.points[MESH_POINTS:, 0])
    assert 1.1 < width <= MAX_HAIR_GROWTH + 0.01


def test_hair_profile_reaches_out_only_where_the_hair_is(landmarker):
    """Hair on one side of the face only (a block beside it at eye level) grows the proxy at the
    longitudes on that side, not on the other: an even growth reached past the hair elsewhere, and the
    back of the head there floated behind a turned head as a hoop."""
    image = PHOTOS["astronaut"]()
    points = landmarker(image).points
    person = np.zeros(image.shape[:2], np.float32)
    cv2.fillConvexPoly(person, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1.0)
    x1, eyes = int(points[:, 0].max()), int(points[[33, 263], 1].mean())
    person[eyes - 10 : eyes + 10, x1 - 5 : x1 + 40] = 1.0  # hair sticking out to image right
    cam, axes = to_camera(points.astype(np.float64)), face_frame(points)
    centre, radii = fitted_ellipsoid(cam, axes)
    profile = _hair_profile(person, cam, centre, axes, radii)
    sides = profile[0], profile[len(profile) // 2]  # the across axis's two ends
    assert max(sides) > 1.15 and min(sides) == 1.0
    assert (profile == 1.0).sum() >= len(profile) // 2  # most of the outline stays fitted to the face
