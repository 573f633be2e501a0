"""The mesh warp rotates a real head by the requested amount, and the identity rotation changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from photos import PHOTOS

from facepipe.evaluate.pose import Pose, face_frame, head_pose
from facepipe.reposition.mesh_warp import head_model, pose_change, rotate_head


def test_identity_rotation_reproduces_the_image(landmarker):
    image = PHOTOS["astronaut"]()
    model = head_model(landmarker(image).points, image.shape[:2])
    out = rotate_head(image, model, np.eye(3))
    assert out.shape == image.shape and np.abs(out.astype(int) - image).mean() < 1.0


@pytest.mark.parametrize("photo", sorted(PHOTOS))
@pytest.mark.parametrize("yaw, pitch", [(20, 0), (-20, 0), (0, 15), (0, -15)])
def test_requested_pose_change_is_measured_back(landmarker, photo, yaw, pitch):
    image = PHOTOS[photo]()
    face = landmarker(image)
    src, frame = head_pose(face.points), face_frame(face.points)
    out = rotate_head(image, head_model(face.points, image.shape[:2]),
                      pose_change(frame, Pose(src.yaw + yaw, src.pitch + pitch, src.roll)))
    got = head_pose(landmarker(out).points)
    assert got.yaw - src.yaw == pytest.approx(yaw, abs=6)
    assert got.pitch - src.pitch == pytest.approx(pitch, abs=6)
    assert np.abs(out.astype(int) - image).mean() > 1.0  # something did move
