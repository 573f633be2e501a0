"""Name -> network factory for the generators trained here (one file per architecture) and the
discriminator they train against."""

from __future__ import annotations

from typing import Any, Optional

from facepipe.config import GAN_ARCHITECTURES as ARCHITECTURES

__all__ = ["ARCHITECTURES", "generator", "discriminator"]


def generator(architecture: str, resolution: int, z_dim: int, channels: Optional[dict] = None) -> Any:
    """The named generator network `(z [N, z_dim], c [N, COND_DIM]) -> [N, R, R, 3]`, weights built (zeros).

    Raises:
        ValueError: an unknown architecture.
    """
    channels = {int(k): int(v) for k, v in channels.items()} if channels else None
    if architecture == "stylegan_lite":
        from facepipe.generate.stylegan_lite import build_network
    elif architecture == "pixelnorm_gan":
        from facepipe.generate.pixelnorm_gan import build_network
    else:
        raise ValueError(f"architecture={architecture!r}; valid: {', '.join(ARCHITECTURES)}")
    return build_network(resolution, z_dim=z_dim, channels=channels)


def discriminator(resolution: int, cond_dim: int, channels: Optional[dict] = None, mbstd_group: int = 4) -> Any:
    """The projection discriminator for R px faces, weights built (zeros)."""
    from facepipe.generate.discriminator import build_discriminator

    channels = {int(k): int(v) for k, v in channels.items()} if channels else None
    return build_discriminator(resolution, cond_dim, channels, mbstd_group)
