"""The generator figures against answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from facepipe.evaluate.generator import frechet_distance, nearest_distances, pair_rate, percentiles


def test_frechet_distance_of_gaussians():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = a + np.array([3.0, 0.0, 0.0])
    assert frechet_distance(a, shifted) == pytest.approx(9.0, rel=1e-6)  # only the means differ
    wide = a * 2.0  # trace(C1 + C2 - 2 sqrt(C1 C2)) = 3 * (1 + 4 - 4) for unit C1
    assert frechet_distance(a, wide) == pytest.approx(3.0, rel=0.05)
    with pytest.raises(ValueError, match="must be"):
        frechet_distance(a, a[:, :2])


def test_nearest_distances_match_brute_force():
    rng = np.random.default_rng(1)
    q, r = rng.standard_normal((50, 8)), rng.standard_normal((300, 8))
    dist, idx = nearest_distances(q, r, chunk=7)
    full = np.linalg.norm(q[:, None] - r[None], axis=2)
    np.testing.assert_array_equal(idx, full.argmin(1))
    np.testing.assert_allclose(dist, full.min(1), rtol=1e-4)


def test_pair_rate_and_percentiles():
    points = np.array([[0.0, 0], [0.5, 0], [5, 0], [5, 0.1]])  # 2 of 6 pairs closer than 0.6
    assert pair_rate(points, 0.6) == pytest.approx(2 / 6)
    assert percentiles(np.arange(101.0)) == {"p1": 1.0, "p5": 5.0, "p50": 50.0}
