"""A person's identity key: what decides who gets generated, and nothing else."""

from __future__ import annotations

import hashlib
import json

from facepipe.config import FacepipeConfig

__all__ = ["person_id", "identity_key"]


def identity_key(cfg: FacepipeConfig) -> dict:
    """The config values that determine the face: generator, weights, truncation, seed, attribute edits.

    Upscaler, sweep and tracking settings are deliberately absent: they change the dataset around a
    person, not the person, so they do not change the folder name.
    """
    g, a = cfg.generator, cfg.attributes
    return {
        "generator": {
            "target": g._target_,
            "name": g.name,
            "model": g.model,
            "truncation": g.truncation,
            **({"weights": g.weights} if g.weights else {}),
        },
        "seed": cfg.seed,
        "attributes": {"targets": dict(sorted(a.targets.items())), "lock": sorted(a.lock)},
    }


def person_id(cfg: FacepipeConfig) -> str:
    """12 hex characters of sha256 over `identity_key(cfg)`: stable, short, collision-safe enough."""
    blob = json.dumps(identity_key(cfg), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]
