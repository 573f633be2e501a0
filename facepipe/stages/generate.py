"""The generate stage: sample a latent from the seed, render the face, save everything to reproduce it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import yaml

from facepipe import __version__, io
from facepipe.backends import load_factory
from facepipe.config import FacepipeConfig, to_dict
from facepipe.errors import ConfigError, NoFaceError
from facepipe.generate import person_id
from facepipe.generate.sampling import build_editor, edit_record, sample_person
from facepipe.layout import CONFIG_FILE, FACE_FILE, LATENT_FILE, MANIFEST_FILE
from facepipe.models.registry import ModelStore
from facepipe.tracking import Tracker

__all__ = ["GeneratedPerson", "source_person", "run", "from_photo", "person_config_yaml"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratedPerson:
    """What the generate stage produced. `face` is `[R, R, 3]` uint8, `latent` `[D]` float32.

    A person taken from a photo (`from_photo`) has no latent and took no tries.
    """

    id: str
    dir: Path
    face: np.ndarray
    latent: Optional[np.ndarray]
    seconds: float
    tries: int = 0


def person_config_yaml(cfg: FacepipeConfig) -> str:
    """The resolved config sections that define the person (seed, generator, attributes), as YAML.

    Settings of later stages (upscaler, sweep, ...) live with those stages' outputs, so one person
    folder can hold results of several upscalers without its config changing.
    """
    tree = to_dict(cfg)
    return yaml.safe_dump({key: tree[key] for key in ("seed", "generator", "attributes")}, sort_keys=False)


def _weights_identity(cfg: FacepipeConfig, models: ModelStore) -> tuple[str, str]:
    """(name, sha256) of the generator's weights: a registry model's pinned hash, or a committed file's."""
    if cfg.generator.model:
        spec = models.spec(cfg.generator.model)
        return spec.name, spec.sha256
    path = io.project_path(cfg.generator.weights)
    return str(cfg.generator.weights), io.sha256_file(path) if path.is_file() else ""


def run(
    cfg: FacepipeConfig,
    out_root: Path,
    models: ModelStore,
    tracker: Tracker,
    usable: Optional[Callable[[np.ndarray], bool]] = None,
) -> GeneratedPerson:
    """Generate the person of `cfg` into `out_root/<person id>/`.

    `usable(face)` decides whether a sampled face can go on (the reposition stage needs landmarks);
    an unusable one is replaced by a seed-derived retry, and the number of tries is recorded.

    Files: `face.png`, `latent.npy` (`[D]` float32), `config.yaml` (`person_config_yaml`) and
    `person.json` (seed, generator weights sha256, file hashes). A rerun with the same config
    rewrites nothing (identical bytes); different bytes under the same name raise `OutputConflict`
    unless `overwrite=true`.
    """
    start = time.perf_counter()
    pid = person_id(cfg)
    person_dir = io.ensure_writable_dir(Path(out_root) / pid)
    generator = load_factory(cfg.generator._target_, "generator")(cfg.generator, models)
    editor, provenance = build_editor(cfg, generator, models)
    latent, face, tries, edited = sample_person(cfg, generator, usable, editor)

    face_png = io.encode_image(face, "png")
    files = {FACE_FILE: io.sha256_bytes(face_png)}
    io.publish_bytes(person_dir / FACE_FILE, face_png, cfg.overwrite)
    io.write_npy(person_dir / LATENT_FILE, latent, cfg.overwrite)
    files[LATENT_FILE] = io.sha256_file(person_dir / LATENT_FILE)
    io.publish_bytes(person_dir / CONFIG_FILE, person_config_yaml(cfg).encode(), cfg.overwrite)
    model_name, model_sha256 = _weights_identity(cfg, models)
    manifest = {
        "id": pid,
        "seed": cfg.seed,
        "generator": {
            "name": generator.name,
            "model": model_name,
            "sha256": model_sha256,
            "latent_dim": generator.latent_dim,
            "resolution": generator.resolution,
            "truncation": cfg.generator.truncation,
        },
        "tries": tries,
        "attributes": edit_record(cfg, edited, provenance),
        "files": files,
        "facepipe_version": __version__,
    }
    io.write_json(person_dir / MANIFEST_FILE, manifest, cfg.overwrite)
    seconds = time.perf_counter() - start

    tracker.set_tags({"person_id": pid, f"model.{model_name}.sha256": model_sha256})
    for name in (FACE_FILE, LATENT_FILE, MANIFEST_FILE):
        tracker.log_artifact(person_dir / name, "person")
    tracker.log_metrics({"generate_s": seconds, "generate_tries": tries})
    if edited is not None:
        tracker.log_metrics(
            {
                f"edit.{k}.{n}": float(v)
                for k, part in (("steps", edited.steps), ("before", edited.before), ("after", edited.after))
                for n, v in ((n, np.ravel(x)[0]) for n, x in part.items())
            }
        )
    tracker.log_dataset(person_dir, name=pid, digest=io.sha256_bytes(face_png + latent.tobytes()), context="generated")
    log.info("person %s -> %s", pid, person_dir)
    return GeneratedPerson(id=pid, dir=person_dir, face=face, latent=latent, seconds=seconds, tries=tries)


def from_photo(
    cfg: FacepipeConfig, out_root: Path, tracker: Tracker, usable: Optional[Callable[[np.ndarray], bool]] = None
) -> GeneratedPerson:
    """A person folder for the face photo `cfg.reposition.image`, named `photo-<12 hex of its pixels>`.

    Holds `face.png` (the photo as RGB PNG), `config.yaml` and `person.json` (the sha256 and size of
    its pixels). There is no latent: the photo is the person. The folder depends on the pixels alone,
    so the same photo under another path or name is the same person; the path and the file's sha256 go
    to the run's log (MLflow tags), not into the folder.

    Raises:
        ConfigError: the path does not exist or is not a readable image.
        NoFaceError: `usable(photo)` is false (checked before anything is written).
    """
    start = time.perf_counter()
    path = Path(cfg.reposition.image)
    valid = "valid: a path to a PNG/JPEG/WebP face photo"
    if not path.is_file():
        raise ConfigError(f"reposition.image={str(path)!r} does not exist or is not a file; {valid}")
    try:
        face = io.read_image(path)
    except ConfigError:
        raise ConfigError(f"reposition.image={str(path)!r} is not a readable image; {valid}") from None
    if usable is not None and not usable(face):
        raise NoFaceError(
            f"no face found in the {face.shape[1]}x{face.shape[0]} image reposition.image={str(path)!r}; "
            "valid: a photo with one clearly visible face"
        )
    pixels = io.sha256_bytes(face.tobytes() + repr(face.shape).encode())
    pid = "photo-" + pixels[:12]
    person_dir = io.ensure_writable_dir(Path(out_root) / pid)
    face_png = io.encode_image(face, "png")
    io.publish_bytes(person_dir / FACE_FILE, face_png, cfg.overwrite)
    source = {"pixels_sha256": pixels, "width": face.shape[1], "height": face.shape[0]}
    io.publish_bytes(person_dir / CONFIG_FILE, yaml.safe_dump({"photo": source}).encode(), cfg.overwrite)
    manifest = {
        "id": pid,
        "source": source,
        "files": {FACE_FILE: io.sha256_bytes(face_png)},
        "facepipe_version": __version__,
    }
    io.write_json(person_dir / MANIFEST_FILE, manifest, cfg.overwrite)
    tracker.set_tags({"person_id": pid, "source_image": str(path), "source_image_sha256": io.sha256_file(path)})
    tracker.log_artifact(person_dir / MANIFEST_FILE, "person")
    log.info("photo %s -> person %s", path, person_dir)
    return GeneratedPerson(id=pid, dir=person_dir, face=face, latent=None, seconds=time.perf_counter() - start)


def source_person(cfg: FacepipeConfig, out_root: Path, models: ModelStore, tracker: Tracker) -> GeneratedPerson:
    """The person a job repositions: the photo `reposition.image` if set, else a generated face that
    can be landmarked and is turned at most `reposition.max_source_angle` (photos are used as given)."""
    from facepipe.face.landmarks import usable

    if cfg.reposition.image:
        return from_photo(cfg, out_root, tracker, usable(models))
    return run(cfg, out_root, models, tracker, usable(models, cfg.reposition.max_source_angle))
