"""Facial expressions as displacement fields on the 468-point mesh, applied before the head rotates.

Each expression moves a few control landmarks (mouth corners, lips, jaw, brows, eyelids) by amounts
given in units of face width, in the face's own frame (across, up, forward), so an expression looks
the same on any face size and head pose. The motion is carried to every other mesh vertex, pinned to
zero at the face outline, nose and forehead, so the head's outline does not move
(except the jaw, when the mouth opens). The eyelids' moves spread by a thin-plate spline over the face
plane (a closing lid draws the skin up to the brow with it); every other move spreads along the mesh
itself (`_harmonic`: each free vertex the distance-weighted mean of its neighbours in MediaPipe's
tessellation, where mouth and eyes are holes). A spline over the plane couples the upper lip to the
lower one a pixel below it: where a closed mouth opens it overshoots the lips' middle rows past their
outer edge, and next to corners pulled down (sad) it folds the skin into a wedge; along the mesh
nothing overshoots. The field is linear in the control displacements, so intensity `s` is the
intensity-1 field times `s`.

Blink and wink are measured per face: each upper-lid vertex moves onto the line where the lids meet; so are
laugh's and surprise's opened mouths, whose lips are placed on a shape (a wide D, an O: `_MOUTH_SHAPES`).
An opened mouth is painted afterwards (`mouth.paint_mouth`): the source never saw its interior; so is
the seam of a source's open mouth that neutralising closed (`mouth.paint_closed_lips`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.interpolate import RBFInterpolator

from facepipe.config import EXPRESSION_NAMES
from facepipe.face.pose import face_plane, face_width
from facepipe.face.regions import (
    BROW_INNER,
    BROW_OUTER,
    CHEEK,
    CHIN,
    EYE_LIDS,
    FACE_OVAL,
    JAW_SIDE,
    LID_CREASE,
    LOWER_LIP_COLUMNS,
    LOWER_LIP_INNER,
    LOWER_LIP_OUTER,
    MOUTH_CORNER,
    MOUTH_CORNER_COLUMNS,
    RIGID,
    UPPER_LIP_COLUMNS,
    UPPER_LIP_INNER,
    UPPER_LIP_OUTER,
)

if TYPE_CHECKING:
    from facepipe.reposition.mesh.smile_shape import SmileShape

__all__ = ["ExpressionField", "expression_fields", "neutralizing_offsets", "mouth_gap", "OPEN_GAP", "OPEN_MOUTH"]

CREASE_FOLLOW = (0.65, 0.3)  # how far the two rows above an upper lid follow it
OPEN_GAP = (
    0.023  # inner-lip gap (face widths) above which a source's mouth counts as open: 90th percentile of neutral faces
)

# Control moves at intensity 1: landmark group -> (outward, up, forward) in face widths. "Outward"
# points away from the face's midline on both sides, so each entry serves the left and right side.
_MOVES: dict[str, dict[tuple, tuple[float, float, float]]] = {
    # lips part a little over the upper teeth, corners out and up, cheeks raised. Sized for the spread
    # along the mesh, which carries a move less far than a spline over the face plane: smaller moves
    # read less often as happy
    "smile": {
        MOUTH_CORNER: (0.084, 0.07, -0.014),
        UPPER_LIP_OUTER: (0.028, 0.028, 0),
        UPPER_LIP_INNER: (0.028, 0.035, 0),
        LOWER_LIP_OUTER: (0.028, -0.021, 0),
        LOWER_LIP_INNER: (0.028, -0.028, 0),
        CHEEK: (0.0, 0.049, 0.014),
    },
    # a wide grin: the lips drawn by `_opened_mouth`; cheeks raised, the jaw's sides down with it
    "laugh": {CHEEK: (0.0, 0.04, 0.01), JAW_SIDE: (0.02, -0.04, 0)},
    # brows up, jaw dropped, the mouth a round O (`_opened_mouth` places the lips). The brows rise only a
    # little: raised further they read less often as surprise, and the forehead bunches up against its
    # pinned top.
    "surprise": {BROW_INNER: (0, 0.048, 0), BROW_OUTER: (0, 0.04, 0), JAW_SIDE: (0, -0.068, 0)},
    # inner brows up and together, corners down, lower lip pushed up and out (a pout), the upper lids a
    # little lowered (`_LIDS`). The corners drop by the amount fer reads as sad most often over turned
    # heads as well as frontal ones (`benchmarks/expression_tuning.py --wide`)
    "sad": {
        BROW_INNER: (-0.025, 0.06, 0),
        BROW_OUTER: (0, -0.035, 0),
        MOUTH_CORNER: (-0.02, -0.15, 0),
        LOWER_LIP_OUTER: (0, 0.04, 0.015),
        LOWER_LIP_INNER: (0, 0.01, 0),
        CHIN: (0, 0.02, 0),
        CHEEK: (0, -0.02, 0),
    },
    # brows down and drawn together, lips pressed thin, their corners clearly down and only a little in:
    # drawn in further and barely down, a turned head's pressed mouth reads as a smirk (happy)
    "angry": {
        BROW_INNER: (-0.06, -0.09, 0),
        BROW_OUTER: (0, -0.02, 0),
        MOUTH_CORNER: (-0.02, -0.07, 0),
        UPPER_LIP_OUTER: (0, -0.015, 0),
        LOWER_LIP_OUTER: (0, 0.02, 0),
        LOWER_LIP_INNER: (0, 0.02, 0),
        CHEEK: (0, -0.015, 0),
    },
}


@dataclass(frozen=True)
class MouthShape:
    """An opened mouth's inner outline: corners `scale` times as far apart as the closed mouth's, their
    midpoint moved up by `rise`; the upper and lower lips half-ellipses `upper` above and `lower` below the
    corners' line (face widths; `_opened_mouth`)."""

    scale: float
    rise: float
    upper: float
    lower: float


# Opened mouths drawn as a shape rather than by moving lip groups: moved as groups, the whole lower lip
# drops by one amount, a box with pinched corners. Surprise, an O of middling size: a taller one reads as
# angry more often, a smaller one looks hardly larger than parted lips on a photo. Laugh, a wide D (flat
# upper lip, deep lower one); a still wider one reads no more often as happy.
_MOUTH_SHAPES = {
    "surprise": MouthShape(scale=0.65, rise=-0.08, upper=0.10, lower=0.10),
    "laugh": MouthShape(scale=1.45, rise=0.05, upper=0.0, lower=0.15),
}
_CHIN_FOLLOWS_LIP = 0.9  # the chin drops with the lower lip's middle
OPEN_MOUTH = ("smile", "laugh", "surprise")  # expressions that part the lips (and so get a painted interior)
# Eyelid moves as fractions of each eye's opening: (upper lid, lower lid), positive = up.
_LIDS: dict[str, dict[str, tuple[float, float]]] = {
    "blink": {"right": (-0.85, 0.15), "left": (-0.85, 0.15)},
    "wink": {"left": (-0.85, 0.15)},
    # wide open, which reads as surprise more often; not wider: the stretched lid skin above the iris
    # (the source shows no white there) becomes a pale band
    "surprise": {"right": (0.7, -0.15), "left": (0.7, -0.15)},
    "angry": {"right": (-0.25, 0.15), "left": (-0.25, 0.15)},
    "smile": {"right": (0.0, 0.12), "left": (0.0, 0.12)},  # cheeks push the lower lids up
    "laugh": {"right": (0.0, 0.18), "left": (0.0, 0.18)},
    "sad": {"right": (-0.1, 0.0), "left": (-0.1, 0.0)},
}


@dataclass(frozen=True)
class ExpressionField:
    """One expression's mesh offsets at intensity 1, `[468, 3]` in the camera frame, and its mouth.

    `mouth_open` tells `paint_mouth` whether the inner lips part (and `teeth` whether to show them).
    """

    offsets: np.ndarray
    mouth_open: bool = False
    teeth: bool = False


def _controls(name: str, cam: np.ndarray, axes: np.ndarray, width: float) -> dict[int, np.ndarray]:
    """Control landmark -> camera-frame displacement `[3]` for expression `name` at intensity 1."""
    moves: dict[int, np.ndarray] = {}
    for key, (outward, up, forward) in _MOVES.get(name, {}).items():
        right, left, mid = key
        for indices, side in ((right, -1.0), (left, 1.0), (mid, 0.0)):
            for i in indices:
                moves[i] = axes @ np.array([side * outward, up, forward]) * width
    if name in _MOUTH_SHAPES:
        moves.update(_opened_mouth(cam, axes, width, _MOUTH_SHAPES[name]))
    up_axis = axes[:, 1]
    for eye, (upper_move, lower_move) in _LIDS.get(name, {}).items():
        upper, lower, _ = EYE_LIDS[eye]
        for u, lo, crease, crease2 in zip(upper, lower, *LID_CREASE[eye]):
            gap = (cam[u] - cam[lo]) @ up_axis  # lid opening along the face's up axis
            moves[u] = upper_move * gap * up_axis
            moves[lo] = lower_move * gap * up_axis
            moves[crease] = CREASE_FOLLOW[0] * upper_move * gap * up_axis  # the skin above follows the lid
            moves[crease2] = CREASE_FOLLOW[1] * upper_move * gap * up_axis
    return moves


def _opened_mouth(cam: np.ndarray, axes: np.ndarray, width: float, shape: MouthShape) -> dict[int, np.ndarray]:
    """Moves opening the mouth into `shape`: each inner-lip vertex goes to the point of its lip's
    half-ellipse where it sits across the mouth, its lip's outer edge with it (the lips keep their
    thickness), the corners to the ends, the chin with the lower lip."""
    local = cam @ axes / width  # (across, up, forward) in face widths
    corners = local[[MOUTH_CORNER_COLUMNS[0][0], MOUTH_CORNER_COLUMNS[1][0]], :2]
    middle, half = corners.mean(0), abs(corners[1, 0] - corners[0, 0]) / 2
    centre, reach = middle + np.array([0.0, shape.rise]), shape.scale * half

    def move(column: tuple[int, ...], target: np.ndarray) -> dict[int, np.ndarray]:
        shift = axes @ np.array([*(target - local[column[0], :2]), 0.0]) * width
        return {i: shift for i in column}

    moves: dict[int, np.ndarray] = {}
    for columns, height in ((UPPER_LIP_COLUMNS, shape.upper), (LOWER_LIP_COLUMNS, -shape.lower)):
        for column in columns:
            x = float(np.clip((local[column[0], 0] - middle[0]) / half, -1, 1))
            moves.update(move(column, centre + np.array([reach * x, height * np.sqrt(1 - x * x)])))
    for column, side in zip(MOUTH_CORNER_COLUMNS, (-1.0, 1.0)):
        moves.update(move(column, centre + np.array([side * reach, 0.0])))
    chin = _CHIN_FOLLOWS_LIP * moves[LOWER_LIP_INNER[2][0]]
    moves.update({i: chin for group in CHIN for i in group})
    return moves


def _with_lip_rows(moves: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """`moves` plus the lips' middle rows wherever their inner or outer rows move: each column's middle
    vertices a third and two thirds of the way from its inner move to its outer (the one move where only
    one end moves), and each corner's column its outer corner's move."""
    out = dict(moves)
    for column in (*LOWER_LIP_COLUMNS, *UPPER_LIP_COLUMNS):
        inner, outer = moves.get(column[0]), moves.get(column[-1])
        if inner is None and outer is None:
            continue
        inner, outer = (outer, outer) if inner is None else (inner, inner) if outer is None else (inner, outer)
        for k, i in enumerate(column[1:-1], start=1):
            out.setdefault(i, inner + (outer - inner) * k / (len(column) - 1))
    for column in MOUTH_CORNER_COLUMNS:
        if column[-1] in moves:
            for i in column[:-1]:
                out.setdefault(i, moves[column[-1]])
    return out


def _spline(moves: dict[int, np.ndarray], local: np.ndarray) -> np.ndarray:
    """Offsets `[468, 3]` through `moves` (pins included), a thin-plate spline over the face plane `local`."""
    idx = np.array(list(moves))
    values = np.array(list(moves.values()))
    offsets = RBFInterpolator(local[idx], values, kernel="thin_plate_spline", smoothing=1e-6)(local)
    offsets[idx] = values  # exact at the controls and pins
    return offsets


def _mesh_laplacian(local: np.ndarray, edges: np.ndarray) -> scipy.sparse.csr_matrix:
    """The graph Laplacian `[468, 468]` of `edges` `[E, 2]`, each edge weighted by 1 / its length in the
    face plane `local`: one per face, shared by all of its expressions' spreads."""
    d = np.linalg.norm(local[edges[:, 0]] - local[edges[:, 1]], axis=1)
    w = np.repeat(1.0 / np.maximum(d, 1e-6), 2)
    n = len(local)
    adjacency = scipy.sparse.csr_matrix((w, (edges.ravel(), edges[:, ::-1].ravel())), shape=(n, n))
    return (scipy.sparse.diags(np.asarray(adjacency.sum(1)).ravel()) - adjacency).tocsr()


def _harmonic(moves: dict[int, np.ndarray], laplacian: scipy.sparse.csr_matrix) -> np.ndarray:
    """Offsets `[468, 3]` through `moves` (pins included), each other vertex the mean of its neighbours
    weighted as in `laplacian` (`_mesh_laplacian`): a discrete harmonic field, which never leaves the
    range of the moves around it (no overshoot, no fold from the spread)."""
    n = laplacian.shape[0]
    fixed = np.zeros(n, bool)
    fixed[list(moves)] = True
    offsets = np.zeros((n, 3))
    offsets[list(moves)] = np.array(list(moves.values()))
    free = ~fixed
    offsets[free] = scipy.sparse.linalg.spsolve(
        laplacian[free][:, free].tocsc(), -(laplacian[free][:, fixed] @ offsets[fixed])
    )
    return offsets


def _spread(
    moves: dict[int, np.ndarray], local: np.ndarray, free_jaw: bool, laplacian: scipy.sparse.csr_matrix
) -> np.ndarray:
    """Offsets `[468, 3]`: `moves` at their landmarks (the lips' middle rows following, `_with_lip_rows`),
    zero at the pinned outline: the eyelids' moves by the spline over `local`, the rest along the mesh
    (`laplacian`, module docstring). The lids keep the spline: it draws the lid's skin up to the brow
    with it, and spread along the mesh a blink can leave an eye open above the closed mark (openness 0.20)."""
    moves = _with_lip_rows(moves)
    pins = {
        i: np.zeros(3)
        for i in (*FACE_OVAL, *RIGID)
        if i not in moves and not (free_jaw and any(i in g for g in (*CHIN, *JAW_SIDE)))
    }
    lids = {i: v for i, v in moves.items() if i in _LID_VERTICES}
    offsets = _spline({**lids, **pins}, local) if lids else np.zeros((len(local), 3))
    rest = {i: v - offsets[i] for i, v in moves.items() if i not in _LID_VERTICES}
    if rest:
        offsets = offsets + _harmonic({**rest, **pins, **{i: np.zeros(3) for i in lids}}, laplacian)
    return offsets


_LID_VERTICES = frozenset(i for rows in (*EYE_LIDS.values(), *LID_CREASE.values()) for row in rows for i in row)


def expression_fields(
    points_cam: np.ndarray, axes: np.ndarray, edges: np.ndarray, names: tuple[str, ...] = EXPRESSION_NAMES
) -> dict[str, ExpressionField]:
    """Intensity-1 fields of `names` for one face.

    Args:
        points_cam: `[468, 3]` mesh in the camera frame (as the head model holds it).
        axes: the face frame `[3, 3]` (columns across, up, forward; `face.pose.face_frame`).
        edges: `[E, 2]` the mesh's edges, mouth and eyes open (`tessellation.FaceTopology.edges`).
    """
    width, local = face_plane(points_cam, axes)
    laplacian = _mesh_laplacian(local, edges)
    fields = {}
    for name in names:
        moves = _controls(name, points_cam, axes, width)
        if not moves:
            fields[name] = ExpressionField(np.zeros_like(points_cam))
            continue
        drops_jaw = any(i in moves for i in CHIN[2])
        fields[name] = ExpressionField(
            _spread(moves, local, drops_jaw, laplacian), mouth_open=name in OPEN_MOUTH, teeth=name in ("smile", "laugh")
        )
    return fields


def neutralizing_offsets(
    points_cam: np.ndarray, axes: np.ndarray, edges: np.ndarray, smile: SmileShape | None = None
) -> np.ndarray:
    """Offsets `[468, 3]` taking the source's mouth to a neutral one. Zero for a face that is neutral already.

    First the source's own smile beyond the neutral range is taken out along the learned smile shape
    (`smile`, `reposition.smile_shape`: cheeks, lids, lips and corners together); then lips still
    parted past `OPEN_GAP` (the 90th percentile of neutral faces, CelebA `Smiling` and
    `Mouth_Slightly_Open` both -1) are closed to a tenth of their gap, the chin following. The learned
    shape takes out the whole smile (cheeks and lids with the mouth), so the expressions drawn on a
    smiling source read as intended more often (docs/reposition.md).
    """
    moved = points_cam if smile is None else points_cam + smile.offsets(points_cam, axes)
    width, local = face_plane(moved, axes)
    frontal = (moved @ axes) / width  # (across, up, forward) in face widths
    up = axes[:, 1] * width
    moves: dict[int, np.ndarray] = {}
    if mouth_gap(moved, axes) > OPEN_GAP:  # open mouth: close each lip pair to a tenth of its gap
        for upper, lower in zip(UPPER_LIP_COLUMNS, LOWER_LIP_COLUMNS):
            ui, uo, li, lo = upper[0], upper[-1], lower[0], lower[-1]  # each lip's inner and outer vertex
            gap = max(frontal[ui, 1] - frontal[li, 1], 0.0)
            moves[ui] = moves[uo] = -0.45 * gap * up
            moves[li] = moves[lo] = 0.45 * gap * up
        for i in CHIN[2]:
            moves[i] = 0.5 * moves[14]
    offsets = moved - points_cam
    if moves:
        offsets = offsets + _spread(moves, local, True, _mesh_laplacian(local, edges))
    return offsets


def mouth_gap(points_cam: np.ndarray, axes: np.ndarray) -> float:
    """The inner lips' gap at the midline, in face widths along the face's up axis."""
    return float((points_cam[13] - points_cam[14]) @ axes[:, 1]) / face_width(points_cam)
