"""The mesh repositioner: landmark once, then per shot move the eyes, deform the mesh, rotate, warp.

Order per shot, each step a plain function: gaze (`gaze.shift_gaze`, on the source texture, so the
eyes turn with the head) -> expression offsets (`expressions`, in the head's frame) -> rotation to the
requested absolute pose (`mesh_warp.pose_change`) -> triangle warp over the background plate ->
an opened mouth's interior painted in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facepipe.config import RepositionConf
from facepipe.evaluate.pose import Pose, angles, face_frame
from facepipe.reposition import landmarks
from facepipe.reposition.expressions import (INNER_LIPS, ExpressionField, expression_fields, neutralizing_offsets,
                                             paint_mouth)
from facepipe.reposition.gaze import shift_gaze
from facepipe.reposition.mesh_warp import HeadModel, background_plate, head_model, pose_change, project, render
from facepipe.reposition.plan import Shot

__all__ = ["PreparedFace", "MeshRepositioner", "build"]


@dataclass(frozen=True)
class PreparedFace:
    """A source face ready to render: its landmarks, rotatable head, background and expressions."""

    image: np.ndarray
    face: landmarks.FaceLandmarks
    model: HeadModel
    plate: np.ndarray
    frame: np.ndarray  # face axes [3, 3] in the camera frame
    expressions: dict[str, ExpressionField]
    neutral: np.ndarray  # [K, 3] offsets to a neutral mouth, under every expression (zeros if off)


class MeshRepositioner:
    """`Repositioner` backed by the landmark mesh and `mesh_warp`."""

    name = "mesh"

    def __init__(self, landmarker: landmarks.FaceLandmarker, yaw_gain: float, neutralize: bool = True):
        self.landmarker = landmarker
        self.yaw_gain = yaw_gain
        self.neutralize = neutralize

    def prepare(self, image: np.ndarray) -> PreparedFace:
        face = self.landmarker(image)
        model = head_model(face.points, image.shape[:2])
        frame = face_frame(face.points)
        neutral = np.zeros_like(model.points)
        if self.neutralize:
            neutral[:468] = neutralizing_offsets(model.points[:468], frame)
        return PreparedFace(image=image, face=face, model=model, plate=background_plate(image, model),
                            frame=frame, expressions=expression_fields(model.points[:468], frame), neutral=neutral)

    def source_pose(self, prepared: PreparedFace) -> Pose:
        return angles(prepared.frame)

    def render(self, prepared: PreparedFace, shot: Shot) -> np.ndarray:
        p = prepared
        texture = shift_gaze(p.image, p.face.points, p.face.iris, shot.gaze_yaw, shot.gaze_pitch)
        field = p.expressions.get(shot.expression)
        offsets = p.neutral.copy()
        if field is not None and shot.intensity > 0:
            offsets[:468] += field.offsets * shot.intensity
        rotation = pose_change(p.frame, Pose(shot.yaw, shot.pitch, shot.roll), self.yaw_gain)
        dst, depth = project(p.model, rotation, offsets)
        out = render(texture, p.model, dst, depth, p.plate)
        if field is not None and shot.intensity > 0 and field.mouth_open:
            out = paint_mouth(out, dst[list(INNER_LIPS)] - p.model.pad, field.teeth)
        return out


def build(cfg: RepositionConf, models: Any) -> MeshRepositioner:
    """Factory named by `conf/reposition/mesh.yaml`."""
    return MeshRepositioner(landmarks.build(models), cfg.yaw_gain, cfg.neutralize)
