"""Expression geometry from the 468-point mesh: mouth opening, smile width, eye openness.

Each is a ratio of landmark distances, so it does not depend on image size; distances are taken in
the face plane (the mesh in its own face frame, `face.pose.face_frame`), so a turned head does not read
as a narrower smile. Emotion labels from a trained classifier live in `facepipe.face.emotion`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facepipe.face.pose import face_frame, to_camera
from facepipe.face.regions import EYE_LIDS

__all__ = ["ExpressionGeometry", "geometry", "EYE_CLOSED_BELOW"]

EYE_CLOSED_BELOW = 0.20  # eye openness (lid gap / eye width) under which an eye counts as closed (open eyes: 0.26-0.38 on the two test photos)


@dataclass(frozen=True)
class ExpressionGeometry:
    """Ratios measured on one face.

    Attributes:
        mouth_opening: inner-lip gap at the centre / face width.
        smile_width: mouth-corner distance / face width.
        corner_lift: height of the mouth corners above the centre of the lips / face width
            (positive in a smile, negative in a frown).
        eye_openness: (subject's right, left) mean lid gap over the middle of the eye / eye width.
    """

    mouth_opening: float
    smile_width: float
    corner_lift: float
    eye_openness: tuple[float, float]


def geometry(points: np.ndarray) -> ExpressionGeometry:
    """Expression ratios of a face mesh `[468, 3]` (image space, `FaceLandmarker` output)."""
    frontal = to_camera(np.asarray(points, np.float64)) @ face_frame(points)  # (across, up, forward)
    width = np.linalg.norm(frontal[454, :2] - frontal[234, :2])
    mouth = abs(frontal[13, 1] - frontal[14, 1]) / width
    smile = np.linalg.norm(frontal[291, :2] - frontal[61, :2]) / width
    lift = ((frontal[61, 1] + frontal[291, 1]) - (frontal[13, 1] + frontal[14, 1])) / 2 / width
    eyes = []
    for side in ("right", "left"):
        upper, lower, (outer, inner) = EYE_LIDS[side]
        middle = slice(2, 5)  # the three lid points over the iris
        gap = np.mean(frontal[list(upper[middle]), 1] - frontal[list(lower[middle]), 1])
        eyes.append(float(max(gap, 0.0) / np.linalg.norm(frontal[outer, :2] - frontal[inner, :2])))
    return ExpressionGeometry(
        mouth_opening=float(mouth), smile_width=float(smile), corner_lift=float(lift), eye_openness=(eyes[0], eyes[1])
    )
