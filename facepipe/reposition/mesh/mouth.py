"""Painting a mouth the source never showed: the interior of an opened mouth (teeth, cavity, tongue),
and the seam of an open source mouth that neutralising closed."""

from __future__ import annotations

import cv2
import numpy as np

from facepipe.reposition.mesh.warp import polygon_alpha

__all__ = ["paint_mouth", "paint_closed_lips", "SEAM_SHADE", "TEETH_COLOUR"]

SEAM_SHADE = 0.8  # a closed mouth's seam: the lips' colour times this
TEETH_COLOUR = np.array([250, 248, 242], np.float32)  # RGB, before the shadow under the lip and towards the corners
# Teeth are lit like the face around them (`_teeth_light`): full colour where that face's brightest channel
# is at least LIT_SKIN, down to TEETH_LIGHT_MIN of it in dim faces, so they never shine as white bars.
LIT_SKIN = 150.0
TEETH_LIGHT_MIN = 0.45


def paint_mouth(image: np.ndarray, lips: np.ndarray, teeth: bool) -> np.ndarray:
    """Paint the interior of an opened mouth inside the inner-lip loop `lips` `[20, 2]` (pixels, `INNER_LIPS`).

    Shaded by the depth across the opening, t = 0 at the upper lip to 1 at the lower: a row of upper
    teeth (t < 0.4, smiles only) in shadow under the lip and darker towards the corners, then the
    dark mouth cavity, then (smiles only) a hint of tongue; the loop's edge is anti-aliased. Without
    the tongue an opened mouth reads as a dark hole.
    """
    # Drawn in the opening's box, with room for `_teeth_light`'s ring around it: supersampling the
    # whole image costs about 55 ms per render of a 512 px photo.
    reach = _ring_reach(lips)
    x0, y0, x1, y1 = _pixel_box(lips, image.shape, reach)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return image
    box, lips = image[y0:y1, x0:x1], lips - np.array([x0, y0], np.float64)
    h, w = box.shape[:2]
    alpha = polygon_alpha(lips, (h, w), supersample=8)  # the opening is a few pixels tall on a 64 px face
    if alpha.max() < 0.05:
        return image
    upper, lower = lips[0:11], np.concatenate([lips[10:], lips[:1]])  # corner -> corner, both lips
    upper, lower = upper[np.argsort(upper[:, 0])], lower[np.argsort(lower[:, 0])]
    xs = np.arange(w, dtype=np.float32) + 0.0
    top = np.interp(xs, upper[:, 0], upper[:, 1])
    bottom = np.interp(xs, lower[:, 0], lower[:, 1])
    t = (np.arange(h, dtype=np.float32)[:, None] - top[None]) / np.maximum(bottom - top, 0.5)[None]
    t = np.clip(t, 0, 1)
    left, right = lips[:, 0].min(), lips[:, 0].max()
    across = np.clip(np.abs(xs - (left + right) / 2) / max((right - left) / 2, 1e-3), 0, 1)[None]  # 0 centre, 1 corners
    cavity = np.array([70, 25, 30], np.float32)
    interior = cavity * (0.55 + 0.45 * np.abs(t - 0.55)[..., None] / 0.55)  # darkest in the middle
    if teeth:  # a tongue only behind teeth: in surprise's O, which shows none, it would be a pink blob on a small face
        tongue = np.clip((t - 0.72) / 0.2, 0, 1)[..., None] * (1 - across[..., None] ** 2)
        interior = interior * (1 - 0.6 * tongue) + np.array([150, 70, 75], np.float32) * 0.6 * tongue
        upper_row = np.clip((0.5 - t) / 0.08, 0, 1)
        lower_row = np.clip((t - 0.82) / 0.08, 0, 1) * 0.8  # the lower teeth, a little in shadow
        band = (np.maximum(upper_row, lower_row) * np.clip((0.92 - across) / 0.15, 0, 1))[..., None]
        shade = (0.72 + 0.28 * np.clip(t / 0.12, 0, 1))[..., None] * (1 - 0.35 * across[..., None] ** 2)
        interior = interior * (1 - band) + TEETH_COLOUR * _teeth_light(box, alpha, reach) * shade * band
    a = alpha[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.rint(a * interior + (1 - a) * box.astype(np.float32)).astype(np.uint8)
    return out


def _pixel_box(points: np.ndarray, shape: tuple[int, ...], margin: int = 0) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the pixels around `points` `[K, 2]` (2 before and 3 after their rounded extremes,
    room for anti-aliased edges) plus `margin`, clipped to an image of `shape` (h, w, ...)."""
    x0, y0 = np.maximum(np.floor(points.min(0)).astype(int) - margin - 2, 0)
    x1, y1 = np.minimum(np.ceil(points.max(0)).astype(int) + margin + 3, [shape[1], shape[0]])
    return int(x0), int(y0), int(x1), int(y1)


def _ring_reach(lips: np.ndarray) -> int:
    """Pixels around the opening `_teeth_light` reads the face's brightness in: half the mouth's width."""
    return max(int(round(float(np.ptp(lips[:, 0])) / 2)), 1)


def _teeth_light(image: np.ndarray, opening: np.ndarray, reach: int) -> float:
    """How lit the teeth are: the median brightness (max channel) of the face around the opening (a ring
    `reach` pixels wide, `_ring_reach`) over `LIT_SKIN`'s, at most 1. Teeth as bright as in a well-lit photo
    would shine as white bars in a dim face."""
    inside = (opening > 0.05).astype(np.uint8)
    ring = (cv2.dilate(inside, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0) & (opening < 0.05)
    if not ring.any():
        return 1.0
    return float(np.clip(np.median(image[ring].max(axis=1)) / LIT_SKIN, TEETH_LIGHT_MIN, 1.0))


def paint_closed_lips(image: np.ndarray, lips: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Paint the seam of lips that `neutralizing_offsets` closed over an open mouth.

    Closing the lips squeezes what showed between them (teeth, the dark interior) into a strip a
    pixel or two tall, which shows as a dotted white line (the astronaut's teeth). A closed mouth
    shows a thin line a little darker than the lips there instead. The strip between the inner lips `lips` `[20, 2]`
    (pixels, `INNER_LIPS` order) and the seam through its middle, at least a pixel wide, take the
    lips' own colour (the median inside the outer lip loop `outer` `[20, 2]`, `OUTER_LIPS`, outside
    the strip) times `SEAM_SHADE`.
    """
    x0, y0, x1, y1 = _pixel_box(np.concatenate([lips, outer]), image.shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image
    box = image[y0:y1, x0:x1].astype(np.float32)
    shape, shift = (y1 - y0, x1 - x0), np.array([x0, y0], np.float64)
    upper = lips[0:11]
    lower = np.concatenate([lips[:1], lips[:9:-1]])  # corner -> corner under the upper lip's points
    seam = (upper + lower) / 2
    # where an expression carried the upper lip below the lower one (sad pulls the corners down), the
    # loop crosses itself and its fill would be a flat patch of seam over both lips: such columns meet at the seam
    across = upper[-1] - upper[0]
    crossed = (across[0] * (lower - upper)[:, 1] - across[1] * (lower - upper)[:, 0]) < 0
    upper, lower = np.where(crossed[:, None], seam, upper), np.where(crossed[:, None], seam, lower)
    lips = np.concatenate([upper, lower[-2:0:-1]])
    seam = seam - shift
    supersample = 8
    mask = np.zeros((shape[0] * supersample, shape[1] * supersample), np.uint8)
    cv2.fillPoly(mask, [np.round((lips - shift + 0.5) * supersample - 0.5).astype(np.int32)], 255, cv2.LINE_AA)
    cv2.polylines(
        mask, [np.round((seam + 0.5) * supersample - 0.5).astype(np.int32)], False, 255, supersample, cv2.LINE_AA
    )
    alpha = cv2.resize(mask, shape[::-1], interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    lip_area = (polygon_alpha(outer - shift, shape, supersample=4) > 0.5) & (alpha < 0.05)
    if not lip_area.any():
        return image
    colour = np.median(box[lip_area], axis=0) * SEAM_SHADE
    out = image.copy()
    a = alpha[..., None]
    out[y0:y1, x0:x1] = np.rint(a * colour + (1 - a) * box).astype(np.uint8)
    return out
