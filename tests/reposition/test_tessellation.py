"""The face mesh's own triangles: read from MediaPipe's source without running it, holes closed, wound alike."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from facepipe.errors import CheckpointMismatch
from facepipe.face.regions import FACE_OVAL
from facepipe.face.tessellation import HOLES, MODEL_NAME, face_triangles, outline, read_tessellation


def _directed_edges(triangles: np.ndarray) -> Counter:
    return Counter((int(t[k]), int(t[(k + 1) % 3])) for t in triangles for k in range(3))


def test_mediapipe_tessellation_covers_the_mesh_with_holes_at_mouth_and_eyes(models):
    triangles = read_tessellation(models.path(MODEL_NAME))
    assert triangles.shape == (852, 3) and np.unique(triangles).size == 468
    undirected = Counter(tuple(sorted(e)) for e in _directed_edges(triangles))
    assert max(undirected.values()) == 2  # a manifold: no edge in three triangles
    boundary = {v for e, n in undirected.items() if n == 1 for v in e}
    holes = {v for upper, lower in HOLES.values() for v in (*upper, *lower)}
    assert boundary == set(FACE_OVAL) | holes


def test_closed_holes_leave_one_consistently_wound_boundary_the_face_oval(face_triangles):
    assert len(face_triangles) == 852 + 18 + 14 + 14
    edges = _directed_edges(face_triangles)
    assert max(edges.values()) == 1  # every shared edge is walked once each way
    loop = outline(face_triangles).tolist()
    start = loop.index(FACE_OVAL[0])
    turned = loop[start:] + loop[:start]
    assert turned in (list(FACE_OVAL), [FACE_OVAL[0], *reversed(FACE_OVAL[1:])])


def test_winding_is_made_consistent_whatever_the_input_order():
    """Two triangles sharing an edge, the second given the wrong way round, and a strip-closed hole."""
    flat = face_triangles(np.array([[0, 1, 2], [1, 2, 3]]))[:2]
    assert max(_directed_edges(flat).values()) == 1


@pytest.mark.parametrize(
    "source, why",
    [
        ("X = 1\n", "no FACEMESH_TESSELATION"),
        ("FACEMESH_TESSELATION = frozenset([(0, 1), (1, 2), (2, 3)])\n", "do not close"),
        ("FACEMESH_TESSELATION = frozenset([(0, 1), (1, 2)])\n", "three per triangle"),
        ("FACEMESH_TESSELATION = frozenset([(0, 1), (1, 'a'), ('a', 0)])\n", "integer pairs"),
        ("FACEMESH_TESSELATION = frozenset([(0, 1), (1, 999), (999, 0)])\n", "0-467"),
        ("FACEMESH_TESSELATION = frozenset([(0, 1), (1, os.getpid()), (2, 0)])\n", "integer pairs"),
        ("def broken(:\n", "is not MediaPipe's"),
    ],
)
def test_a_file_that_is_not_the_tessellation_is_refused_clearly(tmp_path, source, why):
    path = tmp_path / "face_mesh_connections.py"
    path.write_text(source)
    with pytest.raises(CheckpointMismatch, match=why):
        read_tessellation(path)


def test_the_file_is_parsed_not_run(tmp_path):
    """Code around the table is never executed (it would exit the test run)."""
    path = tmp_path / "face_mesh_connections.py"
    path.write_text("raise SystemExit(3)\nFACEMESH_TESSELATION = frozenset([(5, 6), (6, 7), (7, 5)])\n")
    np.testing.assert_array_equal(read_tessellation(path), [[5, 6, 7]])


def test_expressions_spread_along_edges_that_never_cross_the_mouth_or_an_eye(models):
    """The topology's edges are the tessellation's own: no edge joins a hole's upper row to its lower
    one (away from the shared corners), while the drawn triangles close every hole."""
    from facepipe.face import tessellation

    topology = tessellation.build(models)
    pairs = {tuple(e) for e in topology.edges.tolist()}
    for upper, lower in HOLES.values():
        across = {tuple(sorted((u, v))) for u in upper[1:-1] for v in lower[1:-1]}
        assert not across & pairs
        drawn = {tuple(sorted((int(t[k]), int(t[(k + 1) % 3])))) for t in topology.triangles for k in range(3)}
        assert across & drawn
