"""Gaze: move what is inside each eye opening (iris, pupil, sclera) as an eyeball turning would.

The content of the opening shifts by `r * sin(angle)`, r the eyeball radius (about twice the iris
radius: 12 mm vs 6 mm), and is clipped by the eyelids: only pixels inside the lid polygon change,
and what the shift uncovers is filled with the eye's sclera colour. Gaze angles are relative to the
head, in the pose convention's signs (README): gaze_yaw > 0 looks towards image right, gaze_pitch > 0
up. Applied to the source image before the head is rotated, so the eyes turn with the head.
"""

from __future__ import annotations

import cv2
import numpy as np

from facepipe.face.regions import EYE_LIDS
from facepipe.reposition.mesh.warp import polygon_alpha

__all__ = ["shift_gaze", "eye_polygon"]

EYEBALL_PER_IRIS_RADIUS = 2.0


def eye_polygon(points: np.ndarray, eye: str) -> np.ndarray:
    """The lid outline `[16, 2]` of `eye` ("right"/"left", the subject's) in image pixels."""
    upper, lower, (outer, inner) = EYE_LIDS[eye]
    ring = (outer, *upper, inner, *reversed(lower))
    return points[list(ring), :2].astype(np.float64)


def _iris_radius(iris: np.ndarray) -> float:
    """Mean distance from an iris centre to its four rim points `[5, 3]`."""
    return float(np.linalg.norm(iris[1:, :2] - iris[0, :2], axis=1).mean())


def shift_gaze(
    image: np.ndarray, points: np.ndarray, iris: np.ndarray, gaze_yaw: float, gaze_pitch: float
) -> np.ndarray:
    """`image` with both eyes looking `gaze_yaw`, `gaze_pitch` degrees away from where they looked.

    Args:
        points: `[468, 3]` mesh (image pixels); iris: `[2, 5, 3]` (right, left), as `FaceLandmarks`.
    """
    if gaze_yaw == 0 and gaze_pitch == 0:
        return image
    out = image.astype(np.float32)
    h, w = image.shape[:2]
    for k, eye in enumerate(("right", "left")):
        poly = eye_polygon(points, eye)
        radius = EYEBALL_PER_IRIS_RADIUS * _iris_radius(iris[k])
        shift = radius * np.sin(np.radians([gaze_yaw, -gaze_pitch]))  # image y points down
        x0, y0 = np.floor(poly.min(0) - 2).astype(int)
        x1, y1 = np.ceil(poly.max(0) + 2).astype(int)
        x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w - 1), min(int(y1), h - 1)
        if x1 <= x0 or y1 <= y0:
            continue
        # eyes are a few pixels tall on small faces: a supersampled mask of the opening
        alpha = polygon_alpha(poly - [x0, y0], (y1 - y0 + 1, x1 - x0 + 1), supersample=4)
        patch = image[y0 : y1 + 1, x0 : x1 + 1].astype(np.float32)
        inside = alpha > 0.5
        if inside.sum() < 2:
            continue
        lum = patch[inside].mean(1)
        sclera = np.median(patch[inside][lum >= np.median(lum)], axis=0)
        ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1].astype(np.float32)
        map_x, map_y = (xs - shift[0]).astype(np.float32), (ys - shift[1]).astype(np.float32)
        moved = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        # where the content came from outside the opening, the eyeball shows sclera instead
        came_from = cv2.remap(
            alpha, map_x - x0, map_y - y0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        moved = came_from[..., None] * moved + (1 - came_from[..., None]) * sclera
        a = alpha[..., None]
        out[y0 : y1 + 1, x0 : x1 + 1] = a * moved + (1 - a) * patch
    return np.rint(out).astype(np.uint8)
