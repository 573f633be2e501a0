"""The generator protocol, latent sampling and value-range helpers shared by all generator backends."""

from __future__ import annotations

from typing import Optional, Protocol

import numpy as np

__all__ = ["Generator", "sample_latents", "draw_latents", "from_m11"]


class Generator(Protocol):
    """A face generator: latents in, RGB faces out.

    Attributes:
        name: registry name of the backend, e.g. "dcgan_digiface".
        latent_dim: D, the length of one latent vector.
        resolution: R, the side of the square output image.
    """

    name: str
    latent_dim: int
    resolution: int

    def synthesize(self, z: np.ndarray) -> np.ndarray:
        """Render latents `[N, D]` float32 to faces `[N, R, R, 3]` uint8 RGB."""
        ...


def sample_latents(rng: np.random.Generator, n: int, dim: int, truncation: Optional[float] = None) -> np.ndarray:
    """Draw `[n, dim]` float32 latents from N(0, I), optionally truncated.

    Truncation (BigGAN's trick for generators without a mapping network) redraws every component with
    |z_i| > truncation from the same generator until all lie inside, so the result is a deterministic
    function of the generator's state.
    """
    if n < 0 or dim <= 0:
        raise ValueError(f"need n >= 0 and dim > 0; got n={n}, dim={dim}")
    z = rng.standard_normal((n, dim))
    if truncation is not None:
        if truncation <= 0:
            raise ValueError(f"truncation must be > 0; got {truncation}")
        while (outside := np.abs(z) > truncation).any():
            z[outside] = rng.standard_normal(int(outside.sum()))
    return z.astype(np.float32)


def draw_latents(
    generator: Generator, rng: np.random.Generator, n: int, truncation: Optional[float] = None
) -> np.ndarray:
    """`[n, latent_dim]` latents for `generator`: its own `sample_latents(rng, n, truncation)` when it has
    one (a conditional generator also draws a condition), else N(0, I) by `sample_latents`."""
    own = getattr(generator, "sample_latents", None)
    if own is not None:
        return own(rng, n, truncation)
    return sample_latents(rng, n, generator.latent_dim, truncation)


def from_m11(x: np.ndarray) -> np.ndarray:
    """Map float images in [-1, 1] to uint8 [0, 255] (round half to even, clipped)."""
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
