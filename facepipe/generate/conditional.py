"""Generators trained here (`stylegan_lite`, `pixelnorm_gan`), conditioned on age, gender and ethnicity.

A person's latent is one vector `[z_dim + COND_DIM]`: the noise z, then the encoded condition
(`conditions.encode_conditions`). Saving that vector saves the face. Sampling draws z from N(0, I) and the
condition from the training set's own (age, gender, ethnicity) rows, stored in the weights file, so
unconditional faces follow the data's distribution; `condition_latent` sets a chosen condition.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from facepipe.errors import CheckpointMismatch
from facepipe.generate.base import from_m11, sample_latents
from facepipe.generate.conditions import COND_DIM, ETHNICITIES, GENDERS, check_condition, encode_conditions

__all__ = ["ConditionalGenerator", "load_weights", "from_file", "build"]

FORMAT = 1


def load_weights(path: str | Path) -> tuple[dict, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(settings, weights keyed by Keras weight path, training label table) from an exported `.npz`.

    Raises:
        CheckpointMismatch: the file is missing, not an npz, or lacks the expected entries.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointMismatch(
            f"generator weights {str(path)!r} do not exist; valid: a file written by "
            "`facepipe stage train_generator` (models/generator/<name>.npz)"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CheckpointMismatch(f"generator weights {str(path)!r} are corrupt or not an npz file: {e}") from None
    if "meta" not in arrays:
        raise CheckpointMismatch(f"{path}: no 'meta' entry; not a facepipe generator export")
    meta = json.loads(str(arrays["meta"]))
    if meta.get("format") != FORMAT:
        raise CheckpointMismatch(f"{path}: format {meta.get('format')!r}; supported: {FORMAT}")
    weights = {k[2:]: v for k, v in arrays.items() if k.startswith("G/")}
    labels = {k[7:]: v for k, v in arrays.items() if k.startswith("labels/")}
    if set(labels) != {"age", "male", "ethnicity"}:
        raise CheckpointMismatch(f"{path}: label table {sorted(labels)}; expected age, male, ethnicity")
    return meta, weights, labels


def _assign(model: Any, weights: dict[str, np.ndarray], source: str) -> None:
    """Copy every weight by path; every model weight needs one and every file weight must be used."""
    used = set()
    for w in model.weights:
        if w.path not in weights:
            raise CheckpointMismatch(f"{source}: no weight for {w.path!r}")
        value = weights[w.path]
        if tuple(value.shape) != tuple(w.shape):
            raise CheckpointMismatch(f"{source}: {w.path!r} has shape {value.shape}; expected {tuple(w.shape)}")
        w.assign(value.astype(np.float32))
        used.add(w.path)
    leftover = sorted(set(weights) - used)
    if leftover:
        raise CheckpointMismatch(f"{source}: weights not used by the network: {leftover[:5]}")


@dataclass
class ConditionalGenerator:
    """`Generator` over latents `[N, z_dim + COND_DIM]` (noise, then encoded condition)."""

    model: Any
    labels: dict[str, np.ndarray]
    name: str
    z_dim: int
    resolution: int
    batch_size: int = 32

    @property
    def latent_dim(self) -> int:
        return self.z_dim + COND_DIM

    def sample_latents(self, rng: np.random.Generator, n: int, truncation: Optional[float] = None) -> np.ndarray:
        """`[n, latent_dim]`: z from N(0, I) (optionally truncated), conditions drawn from the training rows."""
        z = sample_latents(rng, n, self.z_dim, truncation)
        rows = rng.integers(0, len(self.labels["age"]), n)
        c = encode_conditions(self.labels["age"][rows], self.labels["male"][rows], self.labels["ethnicity"][rows])
        return np.concatenate([z, c], axis=1)

    def condition_latent(
        self,
        latent: np.ndarray,
        age: Optional[float] = None,
        gender: Optional[str] = None,
        ethnicity: Optional[str] = None,
    ) -> np.ndarray:
        """`latent` `[latent_dim]` with the given parts of its condition replaced."""
        check_condition(age, gender, ethnicity)
        latent = np.array(latent, np.float32)
        c = latent[self.z_dim :]
        if age is not None:
            c[0] = encode_conditions([age], [0], [0])[0, 0]
        if gender is not None:
            c[1:3] = np.eye(2, dtype=np.float32)[GENDERS.index(gender)]
        if ethnicity is not None:
            c[3:] = np.eye(len(ETHNICITIES), dtype=np.float32)[ETHNICITIES.index(ethnicity)]
        return latent

    def forward_m11(self, latents: np.ndarray) -> np.ndarray:
        """Raw output `[N, R, R, 3]` float32, about [-1, 1]."""
        latents = np.asarray(latents, np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(f"latents must be [N, {self.latent_dim}]; got shape {latents.shape}")
        parts = [
            self.model(
                (latents[i : i + self.batch_size, : self.z_dim], latents[i : i + self.batch_size, self.z_dim :]),
                training=False,
            ).numpy()
            for i in range(0, len(latents), self.batch_size)
        ]
        r = self.resolution
        return np.concatenate(parts) if parts else np.zeros((0, r, r, 3), np.float32)

    def synthesize(self, latents: np.ndarray) -> np.ndarray:
        """Faces `[N, R, R, 3]` uint8 RGB."""
        return from_m11(self.forward_m11(latents))


def from_file(path: str | Path, name: str, batch_size: int = 32) -> ConditionalGenerator:
    """The generator in an exported weights file."""
    from facepipe.generate import networks

    meta, weights, labels = load_weights(path)
    model = networks.generator(meta["architecture"], meta["resolution"], meta["z_dim"], meta.get("g_channels"))
    _assign(model, weights, str(path))
    return ConditionalGenerator(model, labels, name, meta["z_dim"], meta["resolution"], batch_size)


def build(cfg: Any, models: Any) -> ConditionalGenerator:
    """Factory named in `conf/generator/<name>.yaml`: the committed (or registry) weights file."""
    from facepipe.io import project_path

    path = models.path(cfg.model) if getattr(cfg, "model", None) else project_path(cfg.weights)
    return from_file(path, cfg.name, cfg.batch_size)
