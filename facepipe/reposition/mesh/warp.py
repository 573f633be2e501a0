"""Rotate a face in an image: a 3D landmark mesh plus a head proxy, warped triangle by triangle.

The 468-point mesh is extended with points on an ellipsoid fitted around it (forehead, hair, ears,
jaw sides: what the mesh does not cover), reaching out to hair or a hat beyond it where the source's
person mask shows them, including the back of the head above the jaw, which the source never saw and
which shows as the head turns away. The face keeps the landmark model's own triangles
(`tessellation`); the proxy is triangulated once around it (Delaunay, on the head unwrapped about the
proxy's centre). The head is rotated about the face's centroid, projected
orthographically and rendered back to front: a label map of destination triangles (painter's order
by depth), then one `cv2.remap` through each triangle's inverse affine map. Adjacent triangles share vertices, so the
map is continuous; regions the source never saw take the stretched texture of their neighbours,
blurred in proportion to the stretch.
The head layer is composited over a background plate (the source with the head inpainted), so
what a turning head uncovers is background, never a hole.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from scipy.spatial import Delaunay

from facepipe.face import tessellation
from facepipe.face.pose import Pose, face_frame, face_width, from_camera, pose_frame, to_camera

__all__ = [
    "polygon_alpha",
    "HeadModel",
    "head_model",
    "background_plate",
    "draw_order",
    "outline_follow",
    "project",
    "render",
    "rotate_head",
    "pose_change",
    "triangle_labels",
    "triangle_maps",
]

MESH_POINTS = 468  # the first points of a HeadModel are the face mesh; the head proxy follows
FOREHEAD_TOP, CHIN_TIP = 10, 152  # mesh vertices at the top and bottom of the face's midline
_SHIFT = 4  # fixed-point bits for cv2.fillConvexPoly: sub-pixel triangle edges
BACK_LATITUDE_STEP = 55 / 8  # degrees between the back of the head's rings, as on the front proxy
BACK_TEXTURE_OUT = 0.12  # the back's last ring takes its colour this much (of the radii) outside the rim
MAX_HAIR_GROWTH = 1.35  # the proxy reaches out at most this much to hold hair or a hat (`_hair_profile`)
BACK_LOWEST = -0.35  # back-of-head points lower than this (proxy radii, from its centre) are left out: the neck
# Texture stretched more than STRETCH_SHARP times (render pixels per source pixel, along the most
# stretched direction) is drawn from the source blurred by STRETCH_BLUR source pixels (Gaussian sigma)
# per unit of stretch beyond it, up to the last of BLUR_LEVELS (`_soften_stretched`)
STRETCH_SHARP = 1.5
STRETCH_BLUR = 0.5
BLUR_LEVELS = (1.5, 3.0, 6.0)
PLATE_FILL_SIZE = 32  # pixels across the head's hull where `background_plate` fills it


@dataclass(frozen=True)
class HeadModel:
    """3D points of one head in camera coordinates, ready to be rotated.

    Attributes:
        points: `[K, 3]` float64 camera-frame points: the 468 mesh vertices, then the head proxy.
        pivot: `[3]` rotation centre: the face mesh's centroid, so the face stays where it was in the
            frame and the rest of the head swings around it. About the head's centre (0.45 face widths
            further back) a turn would also slide the face sideways or down by up to a fifth of its
            width, pushing the chin or cheek of a 64 px generated face out of its frame, where it can
            no longer be landmarked.
        triangles: `[T, 3]` vertex indices: the face's own, then the proxy's (Delaunay on `unwrapped`);
            each wound so its projected area is positive while it faces the camera.
        unwrapped: `[K, 2]` the points unwrapped about the proxy's centre (`unwrap`), where the
            proxy's triangles were made.
        texture: `[K, 2]` where each point takes its colour from in the (padded) source image: its
            projection, except for the back of the head, which the source never saw (`_back_of_head`).
        pad: pixels of margin rendered around the image, so a head filling a tight crop keeps the
            room its proxy and background ring need (coordinates above include it).
    """

    points: np.ndarray
    pivot: np.ndarray
    triangles: np.ndarray
    unwrapped: np.ndarray
    texture: np.ndarray
    pad: int = 0

    @functools.cached_property
    def proxy_triangles(self) -> np.ndarray:
        """`[T]` bool: the triangles with a head-proxy vertex (the rest are the face mesh's own)."""
        return (self.triangles >= MESH_POINTS).any(axis=1)


def _ellipsoid_points(
    centre: np.ndarray,
    axes: np.ndarray,
    radii: np.ndarray,
    n_lat: int = 9,
    n_lon: int = 24,
    lats: np.ndarray | None = None,
    profile: np.ndarray | None = None,
) -> np.ndarray:
    """Points on an ellipsoid's camera-facing half and rim (latitude measured from the face axis),
    or at the latitudes `lats` (degrees) instead; `profile` `[n_lon]` scales each longitude's across
    and up radii (`_hair_profile`), lat-major like the points."""
    pts = []
    for lat in np.linspace(35, 90, n_lat) if lats is None else lats:  # degrees from the forward axis; 90 is the rim
        for j, lon in enumerate(np.linspace(0, 360, n_lon, endpoint=False)):
            a, b = np.radians(lat), np.radians(lon)
            local = np.array([np.sin(a) * np.cos(b), np.sin(a) * np.sin(b), np.cos(a)]) * radii
            if profile is not None:
                local[:2] *= profile[j]
            pts.append(centre + axes @ local)
    return np.array(pts)


def unwrap(points: np.ndarray, centre: np.ndarray, axes: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """`[K, 2]` azimuthal-equidistant map of camera-frame `points` seen from `centre`: each point's
    angle from the face's forward axis, in the direction it lies from that axis (x right, y down,
    like the image), after scaling the head frame by `radii` (the proxy ellipsoid becomes a sphere).

    The source image squeezes the sides of the head into a few pixels, so a Delaunay triangulation
    made there joins the cheek's edge to points far behind it in long slivers; turned, they fold
    into a sawtooth along the near cheek. Unwrapped, the sides are as wide as the front."""
    local = (points - centre) @ axes / radii
    n = local / np.linalg.norm(local, axis=1, keepdims=True)
    theta = np.arccos(np.clip(n[:, 2], -1.0, 1.0))
    phi = np.arctan2(n[:, 1], n[:, 0])
    return np.column_stack([theta * np.cos(phi), -theta * np.sin(phi)])


def _back_of_head(
    centre: np.ndarray, axes: np.ndarray, radii: np.ndarray, profile: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points `[P, 3]` on the proxy ellipsoid behind its rim (latitudes 97-145 degrees, above the jaw)
    and where each takes its colour in the image `[P, 2]`, as the source never saw them: mirrored
    through the rim, a ring just outside it at the same longitude, further out the further back (hair
    or hat; where it is background, the person mask keeps the back see-through).

    Without them the head is only its camera-facing half: turned by 45-60 degrees its trailing side
    shrinks by up to half its radius, and the inpainted background plate shows through where the
    hair or hat should be. Hidden in the source (their triangles face away), they appear as the head
    turns. Below the jaw the back is left out: the neck does not turn with the head (with it, the
    collar's dark texture would swing up behind the chin). The colour is not taken inside the head's
    outline: that would paint a mirrored, smeared face on the back of the head.

    Where the proxy grew to the hair's or hat's edge (`profile` > 1), outside its rim is background:
    there the colour comes from just inside the rim instead (otherwise, turned 60 degrees, hair or a
    hat that the proxy grew to hold becomes a thin wedge)."""
    lats = 90 + BACK_LATITUDE_STEP * np.arange(1, 9)
    back = _ellipsoid_points(centre, axes, radii, lats=lats, profile=profile)
    steps = (lats - 90) / (lats[-1] - 90)
    rim = _ellipsoid_points(centre, axes, radii, lats=np.array([90.0]), profile=profile)  # [n_lon, 3]
    grown = np.zeros(len(rim), bool) if profile is None else np.asarray(profile) > 1.0
    scale = np.where(grown[None], 1 - BACK_TEXTURE_OUT * steps[:, None], 1 + BACK_TEXTURE_OUT * steps[:, None])
    rim = (centre + (rim[None] - centre) * scale[..., None]).reshape(-1, 3)  # [L * n_lon, 3], lat-major
    up = (back - centre) @ axes[:, 1] / radii[1]
    keep = up >= BACK_LOWEST
    return back[keep], from_camera(rim)[keep, :2]


def _behind_rim(proxy: np.ndarray, rim: np.ndarray) -> np.ndarray:
    """`proxy` `[P, 3]` with each point's depth (camera z) no nearer than the outline point of the mesh
    (`rim` `[R, 3]`, its convex hull's vertices) closest to it in the image plane. Where the ellipsoid
    passes in front of the cheek's edge, the triangles between them would stand up as walls that fold
    over the face when it turns."""
    nearest = np.linalg.norm(proxy[:, None, :2] - rim[None, :, :2], axis=2).argmin(1)
    out = proxy.copy()
    out[:, 2] = np.minimum(proxy[:, 2], rim[nearest, 2])
    return out


def head_model(
    points: np.ndarray,
    image_shape: tuple[int, int],
    face_triangles: np.ndarray,
    depth_gain: float = 1.0,
    person: np.ndarray | None = None,
) -> HeadModel:
    """Build the rotatable head of a face mesh `[468, 3]` (image space) in an image of `(H, W)`.

    `face_triangles` `[F, 3]` are the mesh's own (`tessellation.FaceTopology.triangles`: MediaPipe's,
    holes closed, wound alike); the head proxy is joined to the face's outline by Delaunay, in the
    unwrap, outside it.

    `person` `[H, W]` (the source's person mask, `segmentation.PersonSegmenter`) lets the proxy reach
    out to the hair or hat above the chin (`_hair_profile`); without it the proxy fits the face only.

    `depth_gain` stretches the mesh's depth about its mean before anything else. The landmark
    model's z is flatter than a real face's, but deepening it makes renders worse (fewer of them keep
    the source's identity by dlib's distance), so the default leaves it; the repositioner's
    calibration absorbs the flatness instead.

    """
    cam = to_camera(np.asarray(points, np.float64))
    cam[:, 2] = cam[:, 2].mean() + (cam[:, 2] - cam[:, 2].mean()) * depth_gain
    axes = face_frame(points)  # columns: across, up, forward
    width = face_width(cam)
    centre, radii = fitted_ellipsoid(cam, axes)
    profile = None if person is None else _hair_profile(person, cam, centre, axes, radii)
    h, w = image_shape
    ring = from_camera(_ellipsoid_points(centre, axes, radii * 1.35, n_lat=1, n_lon=32))[:, :2]
    pad = int(np.ceil(max(0.0, -ring.min(), (ring - [w - 1, h - 1]).max()))) + 2
    shift = np.array([pad, -pad, 0.0])  # image (x + pad, y + pad) in camera coordinates
    cam, centre, h, w = cam + shift, centre + shift, h + 2 * pad, w + 2 * pad
    proxy = _ellipsoid_points(centre, axes, radii, profile=profile)
    # keep proxy points that project outside the mesh (the mesh already covers the face itself)
    rim = cam[cv2.convexHull(cam[:, :2].astype(np.float32), returnPoints=False)[:, 0]]
    hull = rim[:, :2].astype(np.float32)
    outside = np.array(
        [cv2.pointPolygonTest(hull, (float(x), float(y)), True) < -0.02 * width for x, y in proxy[:, :2]]
    )
    proxy = _behind_rim(proxy[outside], rim)
    # ... and that lie outside it where the head is triangulated, too: a proxy point that the unwrap
    # puts inside the face's outline would join the mesh in teeth that stand out along a turned cheek
    face_uv, proxy_uv = unwrap(cam, centre, axes, radii), unwrap(proxy, centre, axes, radii)
    face_outline = face_uv[cv2.convexHull(face_uv.astype(np.float32), returnPoints=False)[:, 0]].astype(np.float32)
    clear = np.array([cv2.pointPolygonTest(face_outline, (float(u), float(v)), False) < 0 for u, v in proxy_uv])
    proxy = proxy[clear]
    back, back_texture = _back_of_head(centre, axes, radii, profile)
    moving = np.concatenate([cam, proxy, back])
    texture = np.concatenate([from_camera(np.concatenate([cam, proxy]))[:, :2], back_texture])
    unwrapped = np.concatenate([face_uv, proxy_uv[clear], unwrap(back, centre, axes, radii)])
    face = np.asarray(face_triangles)
    if _signed_areas(face_uv, face).sum() < 0:  # wound so that facing the camera is a positive area
        face = face[:, ::-1]
    triangles = np.concatenate([face, _around_face(unwrapped, tessellation.outline(face))])
    return HeadModel(
        points=moving, pivot=cam.mean(0), triangles=triangles, unwrapped=unwrapped, texture=texture, pad=pad
    )


def fitted_ellipsoid(cam: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The head proxy's centre `[3]` and radii `[3]` (across, up, forward) fitted to a face mesh
    `[468, 3]` in the camera frame with face frame `axes`: behind the face and a little above it."""
    width, height = face_width(cam), np.linalg.norm(cam[FOREHEAD_TOP] - cam[CHIN_TIP])
    centre = cam.mean(0) - axes[:, 2] * 0.45 * width + axes[:, 1] * 0.12 * height
    return centre, np.array([0.62 * width, 0.78 * height, 0.62 * width])


def _hair_profile(
    person: np.ndarray, cam: np.ndarray, centre: np.ndarray, axes: np.ndarray, radii: np.ndarray, n_lon: int = 24
) -> np.ndarray:
    """`[n_lon]` how much each longitude of the proxy (`_ellipsoid_points`) must reach out
    (1 .. `MAX_HAIR_GROWTH`) to hold the person above the chin (`person` `[H, W]`, the source's mask;
    the part joined to the face): hair or a hat reaching beyond the proxy would stay in the background
    plate and stand behind a turned head as a second outline. Shaped per longitude, not one scale: a
    proxy grown evenly reaches past the hair at most longitudes, and the back of the head there
    floats behind the turned head as a hoop."""
    face = from_camera(cam)[:, :2]
    hair = (person > 0.5).astype(np.uint8)
    hair[max(int(np.ceil(face[CHIN_TIP, 1])), 0) :] = 0
    _, blobs = cv2.connectedComponents(hair)
    inside = blobs[
        np.clip(np.round(face[:, 1]).astype(int), 0, hair.shape[0] - 1),
        np.clip(np.round(face[:, 0]).astype(int), 0, hair.shape[1] - 1),
    ]
    joined = np.unique(inside[inside > 0])
    ys, xs = np.nonzero(np.isin(blobs, joined))
    profile = np.ones(n_lon)
    if not len(xs):
        return profile
    pixels = to_camera(np.column_stack([xs, ys, np.zeros(len(xs))]).astype(np.float64))[:, :2]
    rel = (pixels - centre[:2]) @ axes[:2, :2] / radii[:2]  # (across, up) in the image plane, in radii
    reach, angle = np.hypot(rel[:, 0], rel[:, 1]), np.degrees(np.arctan2(rel[:, 1], rel[:, 0]))
    step = 360.0 / n_lon
    for j in range(n_lon):
        near = np.abs((angle - j * step + 180) % 360 - 180) <= step / 2
        if near.any():
            profile[j] = np.percentile(reach[near], 99) * 1.03
    profile = (np.roll(profile, 1) + 2 * profile + np.roll(profile, -1)) / 4  # no single-longitude spikes
    return np.clip(profile, 1.0, MAX_HAIR_GROWTH)


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Twice each triangle's signed area at `points` `[K, 2]` (x right, y down): positive = as the camera sees a face."""
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _around_face(unwrapped: np.ndarray, outline_loop: np.ndarray) -> np.ndarray:
    """Triangles `[T, 3]` joining the face's outline (`outline_loop`, mesh vertex indices in order) to the
    head proxy: Delaunay of the outline and every point after the mesh, in the unwrap, without the
    triangles that fill the outline itself (the face's own cover it), each wound positively there."""
    ids = np.concatenate([outline_loop, np.arange(MESH_POINTS, len(unwrapped))])
    triangles = ids[Delaunay(unwrapped[ids]).simplices]
    polygon = unwrapped[outline_loop].astype(np.float32)
    centres = unwrapped[triangles].mean(1)
    inside = np.array([cv2.pointPolygonTest(polygon, (float(u), float(v)), False) > 0 for u, v in centres])
    triangles = triangles[~((triangles < MESH_POINTS).all(1) & inside)]
    flip = _signed_areas(unwrapped, triangles) < 0
    triangles[flip] = triangles[flip][:, ::-1]
    return triangles


def outline_follow(points: np.ndarray, outline: Sequence[int], sigma: float) -> np.ndarray:
    """`[K - MESH_POINTS, len(outline)]` weights that carry the face outline's offsets onto the head proxy:
    `offsets[MESH_POINTS:] += weights @ offsets[outline]` (`points` `[K, 3]`, a `HeadModel`'s).

    An expression moves the face mesh, and where the jaw drops, its outline too; were the proxy to stay
    put, the chin would slide over the proxy points below it, their triangles fold (dropped by
    `draw_order`) and the gap fill from the neck in a jagged dark edge along the chin. Each proxy point
    moves by the Gaussian-weighted mean of the outline points' offsets, faded by the same Gaussian of its
    distance to the nearest one (`sigma` in face widths): the skin just below the chin goes with it, the
    neck and the back of the head stay.
    """
    width = face_width(points)
    d2 = ((points[MESH_POINTS:, None] - points[list(outline)][None]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2 * (sigma * width) ** 2))
    return kernel / np.maximum(kernel.sum(1, keepdims=True), 1e-300) * kernel.max(1, keepdims=True)


def _fill_holes(labels: np.ndarray, dst: np.ndarray) -> None:
    """Give every uncovered pixel inside the head's outline (convex hull of `dst`) the triangle of
    the nearest covered pixel, in place: where the turned surface folds (the far side's rim) its
    triangles leave gaps, and extending the neighbouring triangle's map fills them with stretched
    texture instead of letting the background show through in teeth."""
    covered = labels >= 0
    hull = np.zeros(labels.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(dst).astype(np.int32)), 1)
    holes = (hull > 0) & ~covered
    if not holes.any() or not covered.any():
        return
    _, nearest = cv2.distanceTransformWithLabels(
        (~covered).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    ys, xs = np.nonzero(covered)  # the zero pixels of the transform's input, each its own label
    triangle_of = np.zeros(int(nearest.max()) + 1, np.int32)
    triangle_of[nearest[ys, xs]] = labels[ys, xs]
    labels[holes] = triangle_of[nearest[holes]]


def background_plate(image: np.ndarray, model: HeadModel) -> np.ndarray:
    """The padded image with the head region inpainted: what shows where a turning head no longer is.

    Filled at a coarse scale (the head's hull about `PLATE_FILL_SIZE` pixels across) and upsampled: a
    smooth blend of the colours around the head, like a background out of focus. Inpainted at full
    size (Telea), the hull's edge colours would be drawn inwards as radial streaks across a region the
    size of a head, which a turned head uncovers. Outside the hull the plate is the image itself.

    Compute it once per source image and pass it to each `rotate_head` call for that image.
    """
    p = model.pad
    padded = cv2.copyMakeBorder(image, p, p, p, p, cv2.BORDER_REPLICATE)
    mask = np.zeros(padded.shape[:2], np.uint8)
    hull = cv2.convexHull(np.round(from_camera(model.points)[:, :2]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    h, w = mask.shape
    factor = max(1, int(round(max(cv2.boundingRect(hull)[2:]) / PLATE_FILL_SIZE)))
    size = (max(w // factor, 1), max(h // factor, 1))
    small_mask = cv2.dilate(
        (cv2.resize(mask, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8), np.ones((3, 3), np.uint8)
    )  # every coarse pixel the hull touches is filled
    filled = cv2.inpaint(cv2.resize(padded, size, interpolation=cv2.INTER_AREA), small_mask, 3, cv2.INPAINT_TELEA)
    return np.where(mask[..., None] > 0, cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR), padded)


def pose_change(source: np.ndarray, target: Pose) -> np.ndarray:
    """Rotation `[3, 3]` taking a head with face frame `source` to the absolute pose `target`.

    Exact for the mesh; what a landmarker reads back on the rendered image differs a little (the
    mesh's depth is flatter than a real head's), which `facepipe.reposition.mesh.repositioner` calibrates away.
    """
    return pose_frame(target) @ source.T


def triangle_labels(shape: tuple[int, int], dst: np.ndarray, triangles: np.ndarray, order) -> np.ndarray:
    """`[H, W]` int32 map of which triangle covers each pixel (-1: none), `triangles` at `dst` drawn
    with sub-pixel edges in `order` (later ones on top)."""
    labels = np.full(shape, -1, np.int32)
    corners = np.round(dst[triangles] * (1 << _SHIFT)).astype(np.int32)  # [T, 3, 2], all at once
    for t in order:
        cv2.fillConvexPoly(labels, corners[t], int(t), cv2.LINE_8, _SHIFT)
    return labels


def triangle_maps(
    labels: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`cv2.remap` maps `[H, W]` float32: each pixel labelled with triangle t (`labels`, -1: none, which
    takes triangle 0's map) is sent through t's affine map from its `dst` corners to its `src` corners.
    All triangles' maps are solved at once; a degenerate triangle maps to the origin."""
    h, w = labels.shape
    d = np.concatenate([dst[triangles], np.ones((len(triangles), 3, 1))], axis=2)  # [T, 3, 3]
    ok = np.abs(np.linalg.det(d)) > 1e-9
    maps = np.zeros((len(triangles), 3, 2))
    maps[ok] = np.linalg.solve(d[ok], src[triangles][ok])
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    m = maps[np.where(labels >= 0, labels, 0)]  # [H, W, 3, 2]
    map_x = (xs * m[..., 0, 0] + ys * m[..., 1, 0] + m[..., 2, 0]).astype(np.float32)
    map_y = (xs * m[..., 0, 1] + ys * m[..., 1, 1] + m[..., 2, 1]).astype(np.float32)
    return map_x, map_y


def triangle_stretch(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """`[T]` how many render pixels one source pixel becomes along the direction each triangle's map
    (`src` -> `dst` corners) stretches most: its larger singular value, in closed form (a batched SVD
    costs about a millisecond a render); 1 where the source triangle is degenerate."""
    a = dst[triangles[:, 1:]] - dst[triangles[:, :1]]  # [T, 2, 2]: two edges, as rows
    b = src[triangles[:, 1:]] - src[triangles[:, :1]]
    det_b = b[:, 0, 0] * b[:, 1, 1] - b[:, 0, 1] * b[:, 1, 0]
    ok = np.abs(det_b) > 1e-9
    inv_b = np.stack([np.stack([b[:, 1, 1], -b[:, 0, 1]], 1), np.stack([-b[:, 1, 0], b[:, 0, 0]], 1)], 1)
    linear = inv_b @ a / np.where(ok, det_b, 1.0)[:, None, None]  # source -> render: edges_src @ linear = edges_dst
    squares = (linear**2).sum((1, 2))
    det = linear[:, 0, 0] * linear[:, 1, 1] - linear[:, 0, 1] * linear[:, 1, 0]
    largest = np.sqrt((squares + np.sqrt(np.maximum(squares**2 - 4 * det**2, 0.0))) / 2)
    return np.where(ok, largest, 1.0)


def _soften_stretched(
    image: np.ndarray, head: np.ndarray, labels: np.ndarray, stretch: np.ndarray, map_x: np.ndarray, map_y: np.ndarray
) -> np.ndarray:
    """`head` (the remapped `image`) where its triangles stretch the source (`stretch`, per triangle)
    drawn from the source blurred in proportion (`STRETCH_BLUR`), between the levels `BLUR_LEVELS`.

    What a turning head shows of its side (ear, hair, the glasses' arms) is a strip a few pixels wide
    in a frontal source; stretched five to ten times across, every pixel row of it would become a
    stripe, most visibly at yaw +-30 and beyond. Blurred first, it is a smooth side of the head
    instead. Face and hair seen as they were keep their detail.
    """
    want = np.clip(STRETCH_BLUR * (stretch - STRETCH_SHARP), 0, BLUR_LEVELS[-1])[np.maximum(labels, 0)]
    want = np.where(labels >= 0, want, 0).astype(np.float32)
    if want.max() <= 0:
        return head
    want = cv2.GaussianBlur(want, (0, 0), 1.5)  # no seams between neighbouring triangles' levels
    rows, cols = np.flatnonzero(want.max(1) > 0), np.flatnonzero(want.max(0) > 0)
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    out = head.astype(np.float32)
    part, weight = out[box], want[box][..., None]
    xs, ys = map_x[box], map_y[box]
    size = np.array(image.shape[1::-1])  # (w, h)
    lower = 0.0
    for level in BLUR_LEVELS:
        if weight.max() <= lower:
            break
        # blur only the part of the source these pixels sample, with room for the kernel
        reach = weight[..., 0] > lower
        lo = np.clip(np.floor([xs[reach].min(), ys[reach].min()]) - 3 * level - 1, 0, size - 1).astype(int)
        hi = np.clip(np.ceil([xs[reach].max(), ys[reach].max()]) + 3 * level + 2, lo + 1, size).astype(int)
        (x0, y0), (x1, y1) = lo, hi  # maps beyond the image read its edge (BORDER_REPLICATE), as in `render`
        source = image[y0:y1, x0:x1]
        blurred = cv2.remap(
            cv2.GaussianBlur(source, (0, 0), level),
            xs - np.float32(x0),
            ys - np.float32(y0),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ).astype(np.float32)
        t = np.clip((weight - lower) / (level - lower), 0, 1)
        part = part * (1 - t) + blurred * t
        lower = level
    out[box] = part
    return out


def project(model: HeadModel, rotation: np.ndarray, offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Padded-image 2D positions `[K, 2]` and depths `[K]` (camera Z) of the rotated head.

    `offsets` `[K, 3]` (camera frame) move points before the rotation: an expression deforms the
    face in the head's own frame, and the texture still comes from the undeformed source positions.
    """
    pts = model.points if offsets is None else model.points + offsets
    pts = (pts - model.pivot) @ rotation.T + model.pivot
    return from_camera(pts)[:, :2], pts[:, 2]


def rotate_head(
    image: np.ndarray,
    model: HeadModel,
    rotation: np.ndarray,
    plate: np.ndarray | None = None,
    person: np.ndarray | None = None,
) -> np.ndarray:
    """Render `image` `[H, W, 3]` uint8 with the head rotated by `rotation` (`[3, 3]`, camera frame)."""
    dst, depth = project(model, rotation)
    return render(image, model, dst, depth, plate, person)


def draw_order(model: HeadModel, dst: np.ndarray, depth: np.ndarray) -> list[int]:
    """Painter's order of `model`'s triangles at `dst` / `depth` (from `project`), later ones on top.

    Two layers, each back to front by mean depth. First the head proxy's triangles that still face
    the camera together with the face's triangles that turned away (their winding flipped: `head_model`
    stores each with a positive area as laid out): a turned-away face triangle only shows where nothing nearer covers it (the far
    cheek's edge, mirrored, rather than a hole). Then the face's triangles that face the camera:
    proxy triangles reaching in from the rim never cover the cheek (the face never lies behind its
    own head). Folded proxy triangles (the far rim, overtaken by the turning face) are dropped: their
    mirrored strips of background would stand out in teeth; `_fill_holes` fills the gap they leave.

    Turned-away face triangles are not a layer of their own above the whole proxy: looking down 45
    degrees or more, the forehead's top edge turns away, and such a layer would paint it over the hair
    of the proxy in front of it as a dark or skin-coloured hole.
    """
    tris = model.triangles
    facing = _signed_areas(dst, tris) > 0  # `head_model` winds every triangle positively as laid out
    proxy = model.proxy_triangles
    by_depth = np.argsort(depth[tris].mean(1), kind="stable")
    behind, front = (proxy == facing)[by_depth], (~proxy & facing)[by_depth]
    return np.concatenate([by_depth[behind], by_depth[front]]).tolist()


def render(
    image: np.ndarray,
    model: HeadModel,
    dst: np.ndarray,
    depth: np.ndarray,
    plate: np.ndarray | None = None,
    person: np.ndarray | None = None,
) -> np.ndarray:
    """Warp `image` so the head's points land at `dst` (from `project`), nearer triangles on top.

    The head layer (mesh + proxy triangles) is composited with a one-pixel feather over `plate`
    (see `background_plate`; computed here when not given). `person` `[H, W]` in [0, 1] (the
    source's person mask, `segmentation.PersonSegmenter`) travels with the head layer as its alpha,
    so background that the proxy ellipsoid covered in the source stays behind.
    """
    p = model.pad
    crop_h, crop_w = image.shape[:2]
    plate = background_plate(image, model) if plate is None else plate
    image = cv2.copyMakeBorder(image, p, p, p, p, cv2.BORDER_REPLICATE)
    h, w = image.shape[:2]
    src, tris = model.texture, model.triangles
    labels = triangle_labels((h, w), dst, tris, draw_order(model, dst, depth))
    _fill_holes(labels, dst)
    map_x, map_y = triangle_maps(labels, src, dst, tris)
    head = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    head = _soften_stretched(image, head, labels, triangle_stretch(src, dst, tris), map_x, map_y)
    # Outside the head the maps are triangle 0's, extrapolated far away; the feather below reaches one
    # pixel out, and blending that texture in would draw a thin dark ring around every head.
    head = np.where((labels >= 0)[..., None], head, plate)
    alpha = cv2.GaussianBlur((labels >= 0).astype(np.float32), (3, 3), 0)
    if person is not None:
        person = cv2.copyMakeBorder(person.astype(np.float32), p, p, p, p, cv2.BORDER_REPLICATE)
        mesh_cover = np.isin(labels, np.flatnonzero(~model.proxy_triangles))  # the face itself is never see-through
        moved = cv2.remap(person, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha *= np.where(mesh_cover, 1.0, moved)
    alpha = alpha[..., None]
    out = np.rint(alpha * head + (1 - alpha) * plate).astype(np.uint8)
    return out[p : p + crop_h, p : p + crop_w]


def polygon_alpha(polygon: np.ndarray, shape: tuple[int, int], supersample: int) -> np.ndarray:
    """Coverage `[h, w]` float32 in [0, 1] of `polygon` `[K, 2]` (pixel coordinates, pixel centres on
    integers), drawn `supersample` times larger and area-averaged down: smooth edges on small features."""
    h, w = shape
    mask = np.zeros((h * supersample, w * supersample), np.uint8)
    cv2.fillPoly(mask, [np.round((polygon + 0.5) * supersample - 0.5).astype(np.int32)], 255, cv2.LINE_AA)
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
