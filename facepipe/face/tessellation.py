"""The face mesh's own triangles: MediaPipe's tessellation of its 468 landmarks, holes closed.

The landmark model is trained on a fixed topology (852 triangles over the 468 vertices, with holes at
the mouth and the eyes). Warping with it keeps each triangle on the same patch of skin on every face;
a Delaunay triangulation of the landmark positions would depend on where they fall: with the lips
touching, it joins upper-lip vertices to the lower lip's outer edge in slivers a pixel wide, which an
opened mouth stretches into pink streaks below its painted interior.

The topology ships in mediapipe 0.10.21's wheel as Python source (`face_mesh_connections.py`,
fetched through the registry as `mediapipe_face_mesh_tessellation`). It is read with `ast` and never
run: `FACEMESH_TESSELATION = frozenset([(a, b), (b, c), (c, a), ...])`, one triangle per three edges.
The mouth and the eyes are closed here with strips between their upper and lower rows (upper lip to
lower lip, upper lid to lower lid), so a closed mouth or eye is drawn from its own texture and an
opened one has triangles to paint over. Orientation is made consistent by walking the mesh (the file's
own winding is not: 34 of its triangles are reversed against their neighbours).
"""

from __future__ import annotations

import ast
import functools
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facepipe.errors import CheckpointMismatch

__all__ = [
    "MODEL_NAME",
    "MESH_VERTICES",
    "FaceTopology",
    "read_tessellation",
    "face_triangles",
    "edges",
    "outline",
    "build",
]

MODEL_NAME = "mediapipe_face_mesh_tessellation"
MESH_VERTICES = 468
_VARIABLE = "FACEMESH_TESSELATION"
# Holes of the tessellation as (upper row, lower row), corner to corner; the rows share their corners.
_MOUTH = ((78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308), (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308))
_RIGHT_EYE = ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133))
_LEFT_EYE = ((263, 466, 388, 387, 386, 385, 384, 398, 362), (263, 249, 390, 373, 374, 380, 381, 382, 362))
HOLES = {"mouth": _MOUTH, "right_eye": _RIGHT_EYE, "left_eye": _LEFT_EYE}


def read_tessellation(path: str | os.PathLike) -> np.ndarray:
    """The triangles `[852, 3]` int of MediaPipe's `face_mesh_connections.py` at `path`, parsed, not executed.

    Raises:
        CheckpointMismatch: the file has no `FACEMESH_TESSELATION` list of integer pairs that close
            into triangles three at a time over vertices 0-467.
    """
    where = f"{os.fspath(path)!r}"
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError) as e:
        raise CheckpointMismatch(f"{where} is not MediaPipe's face_mesh_connections.py ({e})") from None
    value = next(
        (
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == _VARIABLE for t in node.targets)
        ),
        None,
    )
    if isinstance(value, ast.Call) and len(value.args) == 1:  # frozenset([...])
        value = value.args[0]
    if not isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        raise CheckpointMismatch(
            f"{where}: no {_VARIABLE} list of edges; valid: mediapipe 0.10.21's face_mesh_connections.py"
        )
    try:
        edges = np.array([ast.literal_eval(e) for e in value.elts], dtype=np.int64)
    except (ValueError, TypeError, SyntaxError) as e:
        raise CheckpointMismatch(f"{where}: {_VARIABLE} holds something other than integer pairs ({e})") from None
    if edges.ndim != 2 or edges.shape[1] != 2 or len(edges) % 3:
        raise CheckpointMismatch(f"{where}: {_VARIABLE} has shape {edges.shape}; valid: pairs, three per triangle")
    triples = edges.reshape(-1, 3, 2)
    closed = (triples[:, :, 1] == np.roll(triples[:, :, 0], -1, axis=1)).all(1)  # each edge ends where the next starts
    if not closed.all() or edges.min() < 0 or edges.max() >= MESH_VERTICES:
        raise CheckpointMismatch(
            f"{where}: {_VARIABLE}'s edges do not close into triangles over vertices "
            f"0-{MESH_VERTICES - 1} three at a time (first bad triangle {int(np.argmin(closed))})"
        )
    return triples[:, :, 0].copy()


def _strip(upper: tuple[int, ...], lower: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Triangles joining two rows of equal length that share their end points, quad by quad (the
    quads at the shared ends are single triangles)."""
    out = []
    for i in range(len(upper) - 1):
        u0, u1, l0, l1 = upper[i], upper[i + 1], lower[i], lower[i + 1]
        if u0 != l0:
            out.append((u0, u1, l0))
        if u1 != l1:
            out.append((u1, l1, l0))
    return out


def _consistent(triangles: np.ndarray) -> np.ndarray:
    """`triangles` reordered so every edge shared by two is traversed in opposite directions (one
    orientation over each connected piece, taken from its first triangle)."""
    tris = [list(t) for t in triangles]
    by_edge: dict[frozenset, list[int]] = {}
    for i, t in enumerate(tris):
        for k in range(3):
            by_edge.setdefault(frozenset((t[k], t[(k + 1) % 3])), []).append(i)
    done = np.zeros(len(tris), bool)
    for start in range(len(tris)):
        if done[start]:
            continue
        done[start] = True
        queue = deque([start])
        while queue:
            i = queue.popleft()
            t = tris[i]
            for k in range(3):
                a, b = t[k], t[(k + 1) % 3]
                for j in by_edge[frozenset((a, b))]:
                    if done[j]:
                        continue
                    u = tris[j]
                    if any(u[m] == a and u[(m + 1) % 3] == b for m in range(3)):  # same direction: flip
                        u[1], u[2] = u[2], u[1]
                    done[j] = True
                    queue.append(j)
    return np.array(tris, np.int64)


def face_triangles(tessellation: np.ndarray) -> np.ndarray:
    """`[852 + 46, 3]`: the tessellation with its mouth and eye holes closed by strips, all oriented alike
    (which way round faces the camera is decided where the head is laid out, `mesh_warp.head_model`)."""
    strips = [t for upper, lower in HOLES.values() for t in _strip(upper, lower)]
    return _consistent(np.concatenate([np.asarray(tessellation, np.int64), np.array(strips, np.int64)]))


def outline(triangles: np.ndarray) -> np.ndarray:
    """The vertices `[B]` of the boundary of consistently wound `triangles`, in order round it (the face
    oval for `face_triangles`): the edges that only one triangle traverses, chained head to tail."""
    directed = {(int(t[k]), int(t[(k + 1) % 3])) for t in triangles for k in range(3)}
    after = {a: b for a, b in directed if (b, a) not in directed}
    start = min(after)
    loop = [start]
    while after[loop[-1]] != start:
        loop.append(after[loop[-1]])
        if len(loop) > len(after):
            raise ValueError("the triangles' boundary is not one loop")
    return np.array(loop, np.int64)


def edges(triangles: np.ndarray) -> np.ndarray:
    """The undirected edges `[E, 2]` (smaller index first, sorted) of `triangles`."""
    pairs = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    return np.unique(np.sort(pairs, axis=1), axis=0)


@dataclass(frozen=True)
class FaceTopology:
    """How the 468 landmarks connect: `triangles` `[898, 3]` (`face_triangles`, holes closed), what the
    mesh warp draws; `edges` `[E, 2]` of the tessellation alone (mouth and eyes open), along which
    expressions spread, so the upper lip and the lower one are not neighbours."""

    triangles: np.ndarray
    edges: np.ndarray


@functools.lru_cache(maxsize=4)
def _load(path: str) -> FaceTopology:
    tessellation = read_tessellation(path)
    topology = FaceTopology(triangles=face_triangles(tessellation), edges=edges(tessellation))
    for array in (topology.triangles, topology.edges):
        array.setflags(write=False)
    return topology


def build(models: Any) -> FaceTopology:
    """The face's topology from the registry's copy of MediaPipe's tessellation."""
    return _load(str(models.path(MODEL_NAME)))
