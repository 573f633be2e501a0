"""The generate stage: sample a latent from the seed, render the face, save everything to reproduce it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from facepipe import __version__, io
from facepipe.backends import load_factory
from facepipe.config import FacepipeConfig, to_dict
from facepipe.generate import person_id, sample_latents
from facepipe.models.registry import ModelStore
from facepipe.tracking import Tracker

__all__ = ["GeneratedPerson", "run", "person_config_yaml", "FACE_FILE", "LATENT_FILE", "CONFIG_FILE", "MANIFEST_FILE"]

log = logging.getLogger(__name__)
FACE_FILE, LATENT_FILE, CONFIG_FILE, MANIFEST_FILE = "face.png", "latent.npy", "config.yaml", "person.json"


@dataclass(frozen=True)
class GeneratedPerson:
    """What the generate stage produced. `face` is `[R, R, 3]` uint8, `latent` `[D]` float32."""

    id: str
    dir: Path
    face: np.ndarray
    latent: np.ndarray
    seconds: float


def person_config_yaml(cfg: FacepipeConfig) -> str:
    """The resolved config sections that define the person (seed, generator, attributes), as YAML.

    Settings of later stages (upscaler, sweep, ...) live with those stages' outputs, so one person
    folder can hold results of several upscalers without its config changing.
    """
    tree = to_dict(cfg)
    return yaml.safe_dump({key: tree[key] for key in ("seed", "generator", "attributes")}, sort_keys=False)


def run(cfg: FacepipeConfig, out_root: Path, models: ModelStore, tracker: Tracker) -> GeneratedPerson:
    """Generate the person of `cfg` into `out_root/<person id>/`.

    Files: `face.png`, `latent.npy` (`[D]` float32), `config.yaml` (`person_config_yaml`) and
    `person.json` (seed, generator weights sha256, file hashes). A rerun with the same config
    rewrites nothing (identical bytes); different bytes under the same name raise `OutputConflict`
    unless `overwrite=true`.
    """
    start = time.perf_counter()
    pid = person_id(cfg)
    person_dir = io.ensure_writable_dir(Path(out_root) / pid)
    if cfg.attributes.targets:
        log.warning("attribute editing is not implemented yet: targets %s are recorded, not applied",
                    dict(cfg.attributes.targets))

    generator = load_factory(cfg.generator._target_, "generator")(cfg.generator, models)
    rng = np.random.default_rng(cfg.seed)
    latent = sample_latents(rng, 1, generator.latent_dim, cfg.generator.truncation)[0]
    face = generator.synthesize(latent[None])[0]

    face_png = io.encode_image(face, "png")
    files = {FACE_FILE: io.sha256_bytes(face_png)}
    io.publish_bytes(person_dir / FACE_FILE, face_png, cfg.overwrite)
    io.write_npy(person_dir / LATENT_FILE, latent, cfg.overwrite)
    files[LATENT_FILE] = io.sha256_file(person_dir / LATENT_FILE)
    io.publish_bytes(person_dir / CONFIG_FILE, person_config_yaml(cfg).encode(), cfg.overwrite)
    spec = models.spec(cfg.generator.model)
    manifest = {
        "id": pid,
        "seed": cfg.seed,
        "generator": {"name": generator.name, "model": spec.name, "sha256": spec.sha256,
                      "latent_dim": generator.latent_dim, "resolution": generator.resolution,
                      "truncation": cfg.generator.truncation},
        "attributes": {"targets": dict(cfg.attributes.targets), "lock": list(cfg.attributes.lock),
                       "applied": False},
        "files": files,
        "facepipe_version": __version__,
    }
    io.write_json(person_dir / MANIFEST_FILE, manifest, cfg.overwrite)
    seconds = time.perf_counter() - start

    tracker.set_tags({"person_id": pid, f"model.{spec.name}.sha256": spec.sha256})
    for name in (FACE_FILE, LATENT_FILE, MANIFEST_FILE):
        tracker.log_artifact(person_dir / name, "person")
    tracker.log_metrics({"generate_s": seconds})
    tracker.log_dataset(person_dir, name=pid, digest=io.sha256_bytes(face_png + latent.tobytes()), context="generated")
    log.info("person %s -> %s", pid, person_dir)
    return GeneratedPerson(id=pid, dir=person_dir, face=face, latent=latent, seconds=seconds)
