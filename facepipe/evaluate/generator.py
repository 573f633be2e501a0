"""Figures that grade a face generator against real faces it never saw.

Plain functions over arrays: Fréchet distance between two feature sets, nearest-neighbour distances
to a reference set (are samples closer to training faces than new real people are?), and the rate of
pairs under an identity threshold (do two seeds give two people?).
"""

from __future__ import annotations

import numpy as np

__all__ = ["frechet_distance", "nearest_distances", "pair_rate", "percentiles"]


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to features `a` `[N, D]` and `b` `[M, D]`.

    Raises:
        ValueError: the feature sets differ in width or have fewer than 2 rows.
    """
    from scipy import linalg

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"features must be [N, D] and [M, D] with N, M >= 2; got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    if not np.isfinite(root).all():
        eps = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query's nearest reference row (Euclidean), `[N]` each."""
    q, r = np.asarray(queries, np.float32), np.asarray(reference, np.float32)
    r2 = (r**2).sum(1)
    dist, idx = np.empty(len(q), np.float32), np.empty(len(q), np.int64)
    for i in range(0, len(q), chunk):
        d2 = (q[i : i + chunk] ** 2).sum(1)[:, None] + r2[None, :] - 2 * q[i : i + chunk] @ r.T
        j = d2.argmin(1)
        idx[i : i + chunk] = j
        dist[i : i + chunk] = np.sqrt(np.maximum(d2[np.arange(len(j)), j], 0))
    return dist, idx


def pair_rate(features: np.ndarray, threshold: float) -> float:
    """Fraction of unordered pairs of rows closer than `threshold` (Euclidean)."""
    f = np.asarray(features, np.float64)
    if len(f) < 2:
        raise ValueError(f"need at least 2 rows; got {len(f)}")
    sq = (f**2).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * f @ f.T
    iu = np.triu_indices(len(f), 1)
    return float(np.mean(np.sqrt(np.maximum(d2[iu], 0)) < threshold))


def percentiles(values: np.ndarray, qs: tuple[float, ...] = (1, 5, 50)) -> dict[str, float]:
    """{"p1": ..., "p5": ..., "p50": ...} of `values`, rounded to 4 places."""
    return {f"p{q:g}": round(float(np.percentile(values, q)), 4) for q in qs}
