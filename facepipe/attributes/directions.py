"""Attribute directions in a generator's latent space: learned, stored, and read from TL-GAN's files.

A direction is a unit vector `d` in latent space along which the guide classifier's score for one
attribute rises. Two ways to learn it from latents `z` and guide scores `s` (TL-GAN and InterFaceGAN):
- `regression`: least squares `s ~ z.w + b` on every sample (TL-GAN, labels clipped to their range);
- `svm`: a linear SVM separating the samples with the top and bottom 10% of scores (InterFaceGAN).
Stored as `.npz` (`names`, `directions [K, D]`, plus provenance), read without pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facepipe.errors import ConfigError
from facepipe.models import safe_pickle

__all__ = ["Directions", "fit", "load", "save", "load_tlgan", "orthogonal_to", "directions_path", "for_generator"]

EXTREME_FRACTION = 0.10  # svm: samples per side, as a fraction of all


@dataclass
class Directions:
    """Unit directions `[K, D]` float32, one per name; `meta` says how they were made.

    `scales` `[K]` (regression only, else NaN): how fast the label rises along the unit direction,
    in label units per unit of latent distance; the latent repositioner steps by it.
    """

    names: list[str]
    vectors: np.ndarray
    meta: dict = field(default_factory=dict)
    scales: np.ndarray | None = None

    def __post_init__(self) -> None:
        v = np.asarray(self.vectors)
        if v.ndim != 2 or v.shape[0] != len(self.names):
            raise ConfigError(
                f"directions of shape {v.shape} do not match {len(self.names)} names; "
                "valid: an array [n_names, latent_dim]"
            )
        self.vectors = (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        self.scales = (
            np.full(len(self.names), np.nan, np.float32) if self.scales is None else np.asarray(self.scales, np.float32)
        )

    def scale(self, name: str) -> float:
        return float(self.scales[self._index(name)])

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ConfigError(f"no direction for attribute {name!r}; valid: {', '.join(self.names)}") from None

    def merged(self, other: "Directions") -> "Directions":
        return Directions(
            self.names + other.names,
            np.concatenate([self.vectors, other.vectors]),
            self.meta,
            np.concatenate([self.scales, other.scales]),
        )

    @property
    def latent_dim(self) -> int:
        return int(self.vectors.shape[1])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.vectors[self._index(name)]

    def check_latent_dim(self, dim: int, source: str = "directions") -> "Directions":
        if self.latent_dim != dim:
            raise ConfigError(
                f"{source}: directions have latent dimension {self.latent_dim}, the generator "
                f"has {dim}; valid: directions learned for this generator"
            )
        return self

    def cosine_similarity(self) -> np.ndarray:
        return self.vectors @ self.vectors.T


def fit(
    latents: np.ndarray,
    scores: np.ndarray,
    names: list[str],
    method: str,
    ranges: list[tuple[float, float]],
    seed: int = 0,
) -> Directions:
    """One direction per column of `scores` `[N, K]` from latents `[N, D]`."""
    z = np.asarray(latents, np.float64)
    vectors, scales = [], []
    for k, (lo, hi) in enumerate(ranges):
        s = np.clip(np.asarray(scores[:, k], np.float64), lo, hi)
        if method == "regression":
            a = np.concatenate([z, np.ones((len(z), 1))], 1)
            w = np.linalg.lstsq(a, s, rcond=None)[0][:-1]
            scales.append(np.linalg.norm(w))
        elif method == "svm":
            from sklearn.svm import LinearSVC

            m = max(2, int(len(s) * EXTREME_FRACTION))
            order = np.argsort(s, kind="stable")
            idx = np.concatenate([order[:m], order[-m:]])
            label = np.r_[np.zeros(m), np.ones(m)]
            svm = LinearSVC(C=0.01, random_state=seed, max_iter=5000).fit(z[idx], label)
            w = svm.coef_[0]
            scales.append(np.nan)
        else:
            raise ConfigError(f"directions.method={method!r} is unknown; valid: regression, svm")
        vectors.append(w)
    return Directions(list(names), np.array(vectors), {"method": method, "n_samples": len(z)}, np.array(scales))


def orthogonal_to(direction: np.ndarray, locked: list[np.ndarray]) -> np.ndarray:
    """`direction` with the span of `locked` projected out (TL-GAN's Gram-Schmidt), unit length.

    Moving along the result leaves every locked direction's coordinate unchanged.
    """
    d = np.asarray(direction, np.float64)
    if locked:
        q, _ = np.linalg.qr(np.asarray(locked, np.float64).T)  # orthonormal basis of the lock set
        d = d - q @ (q.T @ d)
    norm = np.linalg.norm(d)
    if norm < 1e-6:
        raise ConfigError("the edited direction lies in the span of the locked ones; valid: lock fewer attributes")
    return (d / norm).astype(np.float32)


def save(path: Path, directions: Directions) -> None:
    from facepipe.io import atomic_write

    with atomic_write(path) as f:
        np.savez(
            f,
            names=np.array(directions.names),
            directions=directions.vectors,
            scales=directions.scales,
            meta=np.array(repr(sorted(directions.meta.items()))),
        )


def load(path: Path) -> Directions:
    """A `.npz` written by `save` (no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"directions file {str(path)!r} does not exist; valid: run `dvc repro learn_directions` "
            "or point directions at an existing .npz"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            return Directions(
                [str(n) for n in f["names"]],
                f["directions"],
                {"file": str(path), "about": str(f["meta"])},
                f["scales"] if "scales" in f.files else None,
            )
    except (KeyError, ValueError, OSError) as e:
        raise ConfigError(
            f"{str(path)!r} is not a facepipe directions file ({e}); valid: an .npz with names, directions"
        ) from None


def load_tlgan(path: Path) -> Directions:
    """TL-GAN's `feature_direction_*.pkl`: `{'direction': [D, K] array, 'name': [K names]}`.

    Read by `safe_pickle` (numpy arrays and plain containers only; nothing in the file is executed).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"TL-GAN direction file {str(path)!r} does not exist; valid: a feature_direction_*.pkl")
    obj = safe_pickle.load(path.read_bytes(), what=f"TL-GAN direction file {path.name}")
    if not isinstance(obj, dict) or "direction" not in obj or "name" not in obj:
        raise ConfigError(
            f"{path.name}: expected a dict with 'direction' and 'name', got {type(obj).__name__} "
            f"{sorted(obj) if isinstance(obj, dict) else ''}; valid: TL-GAN's feature_direction_*.pkl"
        )
    direction, names = np.asarray(obj["direction"]), [str(n) for n in obj["name"]]
    if direction.ndim != 2 or direction.shape[1] != len(names):
        raise ConfigError(
            f"{path.name}: 'direction' has shape {direction.shape} for {len(names)} names; valid: [latent_dim, n_names]"
        )
    return Directions(names, direction.T, {"file": str(path), "format": "tl-gan"})


def directions_path(directions_dir: str, generator_name: str) -> Path:
    """`<directions_dir>/<generator name>.npz`, found under the project root when run elsewhere."""
    from facepipe.io import project_path

    return project_path(Path(directions_dir) / f"{generator_name}.npz")


def for_generator(generator_cfg, directions_dir: str, models) -> tuple[Directions, Path]:
    """A generator's attribute directions and their file: TL-GAN's file from the registry when the
    generator config names one (`generator.directions`), else this project's `<name>.npz`."""
    if generator_cfg.directions:
        path = models.path(generator_cfg.directions)
        return load_tlgan(path), path
    path = directions_path(directions_dir, generator_cfg.name)
    return load(path), path
