"""Generating a person: generator backends, latent sampling and the person id."""

from facepipe.generate.base import Generator, from_m11, sample_latents
from facepipe.generate.person import person_id

__all__ = ["Generator", "sample_latents", "from_m11", "person_id"]
