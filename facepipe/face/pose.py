"""Head pose (yaw, pitch, roll in degrees) from a 468-point face mesh, and the rotations behind it.

Camera frame: X to the image's right, Y up, Z towards the camera (right-handed). A frontal face has
its right-to-left-eye axis along +X, its up axis along +Y and its nose along +Z. Signs (README,
"Conventions"): yaw > 0 turns the nose towards image right, pitch > 0 turns it up, roll > 0 tilts
the head clockwise in the image. R = Ry(yaw) @ Rx(-pitch) @ Rz(-roll) turns a frontal head to that pose.

The face frame is measured from the mesh alone: the across-face axis from rigid symmetric landmark
pairs, the up axis from forehead to the base of the nose (both unaffected by mouth, brows and eyes),
so a rigid rotation of the head changes the measured frame by exactly that rotation. The pose is that
frame measured against a frontal reference, MediaPipe's canonical face model (the face its own face
geometry module measures poses against): its frame is tilted 11.04 degrees up from the camera's axes,
as a face's forehead slopes back from its nose, so a head whose forehead-to-nose line lies in the
image plane reads 11 degrees down, not frontal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "face_plane",
    "Pose",
    "rotation_matrix",
    "angles",
    "face_frame",
    "face_width",
    "frame_pose",
    "pose_frame",
    "head_pose",
    "to_camera",
    "from_camera",
    "FRONTAL_FRAME",
]

# (subject's right, subject's left) landmark pairs on rigid parts: eye corners, cheek/temple edges.
SYMMETRIC_PAIRS = ((33, 263), (133, 362), (234, 454), (127, 356), (93, 323), (132, 361))
FOREHEAD = (10, 151, 9)
NOSE_BASE = (2, 94, 19)

# MediaPipe's canonical face model (mediapipe/modules/face_geometry/data/canonical_face_model.obj,
# Apache-2.0, Google): the vertices of the landmarks `face_frame` reads, in the model's frame, which is
# the camera frame of a frontal face (cm; x right, y up, z towards the camera).
CANONICAL_FACE = {
    33: (-4.445859, 2.663991, 3.173422),
    263: (4.445859, 2.663991, 3.173422),
    133: (-1.856432, 2.585245, 3.757904),
    362: (1.856432, 2.585245, 3.757904),
    234: (-7.664182, 0.673132, -2.435867),
    454: (7.664182, 0.673132, -2.435867),
    127: (-7.743095, 2.364999, -2.005167),
    356: (7.743095, 2.364999, -2.005167),
    93: (-7.542244, -1.049282, -2.431321),
    323: (7.542244, -1.049282, -2.431321),
    132: (-7.270895, -2.890917, -2.252455),
    361: (7.270895, -2.890917, -2.252455),
    10: (0.0, 8.261778, 4.481535),
    151: (0.0, 6.545390, 5.027311),
    9: (0.0, 4.885979, 5.385258),
    2: (0.0, -2.089024, 6.058267),
    94: (0.0, -1.724003, 6.601390),
    19: (0.0, -1.501095, 7.112196),
}


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees, absolute relative to the camera (0, 0, 0 = frontal)."""

    yaw: float
    pitch: float
    roll: float


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """`[3, 3]` rotation (camera frame) of a head at (yaw, pitch, roll) degrees."""
    y, p, r = np.radians([yaw, pitch, roll])
    return _ry(y) @ _rx(-p) @ _rz(-r)


def angles(rotation: np.ndarray) -> Pose:
    """Inverse of `rotation_matrix` (pitch in [-90, 90])."""
    ex, ey, ez = rotation[:, 0], rotation[:, 1], rotation[:, 2]
    return Pose(
        yaw=float(np.degrees(np.arctan2(ez[0], ez[2]))),
        pitch=float(np.degrees(np.arcsin(np.clip(ez[1], -1.0, 1.0)))),
        roll=float(np.degrees(np.arctan2(-ex[1], ey[1]))),
    )


def to_camera(points: np.ndarray) -> np.ndarray:
    """Image-space points `[K, 3]` (x right, y down, z away from camera) -> camera frame."""
    return points * np.array([1.0, -1.0, -1.0], dtype=points.dtype)


from_camera = to_camera  # the flip is its own inverse


def face_frame(points: np.ndarray) -> np.ndarray:
    """Orthonormal face axes `[3, 3]` (columns: across, up, forward) in the camera frame.

    Args:
        points: `[468, 3]` mesh in image space (see `facepipe.face.landmarks`).
    """
    if points.shape != (468, 3):
        raise ValueError(f"`points` must be [468, 3]; got shape {points.shape}")
    return _axes(to_camera(np.asarray(points, np.float64)))


def _axes(cam: np.ndarray) -> np.ndarray:
    """`face_frame` of camera-frame points; reads only `SYMMETRIC_PAIRS`, `FOREHEAD` and `NOSE_BASE`."""
    across = sum((cam[left] - cam[right]) / np.linalg.norm(cam[left] - cam[right]) for right, left in SYMMETRIC_PAIRS)
    across /= np.linalg.norm(across)
    up = cam[list(FOREHEAD)].mean(0) - cam[list(NOSE_BASE)].mean(0)
    up -= up.dot(across) * across
    up /= np.linalg.norm(up)
    return np.column_stack([across, up, np.cross(across, up)])


def face_width(points: np.ndarray) -> float:
    """Distance between the face outline's points level with the eyes (234, 454), in the points' units:
    the unit that expressions, neutralising and the head proxy measure their offsets in."""
    return float(np.linalg.norm(points[454] - points[234]))


def _canonical_frame() -> np.ndarray:
    """`face_frame` of `CANONICAL_FACE` (the landmarks it does not list stay NaN: `_axes` never reads them)."""
    cam = np.full((468, 3), np.nan)
    for index, point in CANONICAL_FACE.items():
        cam[index] = point
    return _axes(cam)


# The face frame of a frontal head: pose (0, 0, 0).
FRONTAL_FRAME = _canonical_frame()


def frame_pose(frame: np.ndarray) -> Pose:
    """The head pose of a face frame `[3, 3]` (`face_frame`): its rotation away from `FRONTAL_FRAME`."""
    return angles(frame @ FRONTAL_FRAME.T)


def pose_frame(pose: Pose) -> np.ndarray:
    """The face frame `[3, 3]` of a head at `pose`; inverse of `frame_pose`."""
    return rotation_matrix(pose.yaw, pose.pitch, pose.roll) @ FRONTAL_FRAME


def head_pose(points: np.ndarray) -> Pose:
    """Yaw, pitch and roll in degrees of a face mesh `[468, 3]` (image space)."""
    return frame_pose(face_frame(points))


def face_plane(points_cam: np.ndarray, axes: np.ndarray) -> tuple[float, np.ndarray]:
    """Face width and face-plane coordinates `[468, 2]` in face widths."""
    width = face_width(points_cam)
    return width, (points_cam - points_cam.mean(0)) @ axes[:, :2] / width
