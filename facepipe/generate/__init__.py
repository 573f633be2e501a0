"""Generating a person: the `Generator` protocol and its backends (one file each: `dcgan`, `pggan`,
`conditional` for the generators trained here), sampling with seeded retries, the closed-loop
attribute edit with locks, and training the GAN (`gan_train`, its networks, augmentation).

Imports `attributes/`, `face/`, `models/` and below; `reposition/`, `stages/` and the commands import it.
"""

from facepipe.generate.base import Generator, from_m11, sample_latents
from facepipe.generate.person import person_id

__all__ = ["Generator", "sample_latents", "from_m11", "person_id"]
