"""Head-pose conventions: exact under rigid rotation, signs as the README states on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photos import PHOTOS

from facepipe.face.pose import (
    CANONICAL_FACE,
    angles,
    face_frame,
    frame_pose,
    from_camera,
    head_pose,
    pose_frame,
    rotation_matrix,
    to_camera,
)


def test_angles_invert_rotation_matrix():
    rng = np.random.default_rng(0)
    for yaw, pitch, roll in rng.uniform([-170, -85, -170], [170, 85, 170], (50, 3)):
        pose = angles(rotation_matrix(yaw, pitch, roll))
        assert np.allclose([pose.yaw, pose.pitch, pose.roll], [yaw, pitch, roll], atol=1e-6)


def test_signs_of_the_basic_rotations():
    nose = np.array([0.0, 0.0, 1.0])
    assert (rotation_matrix(30, 0, 0) @ nose)[0] > 0  # yaw > 0: nose to image right (+X)
    assert (rotation_matrix(0, 30, 0) @ nose)[1] > 0  # pitch > 0: nose up (+Y)
    assert (rotation_matrix(0, 0, 30) @ np.array([0.0, 1.0, 0.0]))[0] > 0  # roll > 0: top of head to the right


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_rigid_rotation_of_a_mesh_is_measured_exactly(landmarker, photo):
    points = landmarker(PHOTOS[photo]()).points.astype(np.float64)
    before = rotation_matrix(**head_pose(points).__dict__)
    for target in [(30, 0, 0), (0, -25, 0), (0, 0, 20), (-40, 20, 10)]:
        delta = rotation_matrix(*target) @ before.T
        pivot = points.mean(0)
        moved = from_camera((to_camera(points - pivot)) @ delta.T) + pivot
        pose = head_pose(moved)
        assert np.allclose([pose.yaw, pose.pitch, pose.roll], target, atol=1e-6)


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_image_roll_and_mirror_signs_on_real_photos(landmarker, photo):
    image = PHOTOS[photo]()
    base = head_pose(landmarker(image).points)
    h, w = image.shape[:2]
    clockwise = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), -15, 1.0), (w, h))
    assert head_pose(landmarker(clockwise).points).roll - base.roll == pytest.approx(15, abs=3)
    mirrored = head_pose(landmarker(np.ascontiguousarray(image[:, ::-1])).points)
    assert abs(mirrored.roll + base.roll) < 3 and abs(mirrored.yaw + base.yaw) < 3
    assert abs(base.yaw) < 5 and abs(base.roll) < 5  # both photos are near-frontal portraits


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_pose_frame_inverts_frame_pose(landmarker, photo):
    frame = face_frame(landmarker(PHOTOS[photo]()).points)
    np.testing.assert_allclose(pose_frame(frame_pose(frame)), frame, atol=1e-9)


def test_the_frontal_reference_is_mediapipes_canonical_face():
    """A head whose face frame is the camera's axes (forehead-to-nose line in the image plane) is
    turned down from the canonical face by its forehead's slope, 11.04 degrees; the canonical reads 0."""
    assert frame_pose(np.eye(3)).pitch == pytest.approx(-11.037, abs=1e-3)
    canonical = np.full((468, 3), np.nan)
    for index, point in CANONICAL_FACE.items():
        canonical[index] = from_camera(np.array(point))
    pose = head_pose(canonical)
    assert np.allclose([pose.yaw, pose.pitch, pose.roll], 0, atol=1e-9)
