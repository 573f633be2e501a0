"""The generate stage: sample a latent from the seed, render the face, save everything to reproduce it."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import yaml

from facepipe import __version__, io
from facepipe.backends import load_factory
from facepipe.config import FacepipeConfig, to_dict
from facepipe.errors import ConfigError
from facepipe.reposition.landmarks import NoFaceError
from facepipe.attributes.vocabulary import check_targets
from facepipe.generate import person_id, sample_latents
from facepipe.generate.edit import EditResult, EditSettings, UnreachableTarget, edit, latent_scorer
from facepipe.generate.guide_field import GuideField
from facepipe.models.registry import ModelStore
from facepipe.tracking import Tracker

__all__ = ["GeneratedPerson", "source_person", "run", "from_photo", "person_config_yaml", "FACE_FILE", "LATENT_FILE", "CONFIG_FILE",
           "MANIFEST_FILE", "MAX_TRIES"]

log = logging.getLogger(__name__)
FACE_FILE, LATENT_FILE, CONFIG_FILE, MANIFEST_FILE = "face.png", "latent.npy", "config.yaml", "person.json"
MAX_TRIES = 16  # latents drawn for one seed before giving up on a usable face
_RESAMPLE_STREAM = 2  # SeedSequence key of the retry latents (1 is the reposition plan's)


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


def _sample(cfg: FacepipeConfig, generator, usable: Optional[Callable[[np.ndarray], bool]],
            editor: Optional[Callable[[np.ndarray], "EditResult"]] = None) -> tuple[np.ndarray, np.ndarray, int, object]:
    """(latent, face, tries, edit): the seed's first latent, or the first retry whose (edited) face is
    `usable` and whose edit reached its targets.

    Try 0 draws from `default_rng(seed)`; try k >= 1 from `SeedSequence([seed, 2, k])`, so a
    retry never changes the faces of seeds that needed none.
    """
    failure = ""
    for k in range(MAX_TRIES):
        rng = np.random.default_rng(cfg.seed if k == 0 else np.random.SeedSequence([cfg.seed, _RESAMPLE_STREAM, k]))
        latent = sample_latents(rng, 1, generator.latent_dim, cfg.generator.truncation)[0]
        result = None
        if editor is not None:
            try:
                result = editor(latent)
            except UnreachableTarget as e:
                failure = str(e)
                log.info("seed %d try %d: %s; resampling", cfg.seed, k + 1, e)
                continue
            latent = result.z
        face = generator.synthesize(latent[None])[0]
        if usable is None or usable(face):
            return latent, face, k + 1, result
        failure = "no landmarks, or turned more than reposition.max_source_angle"
        log.info("seed %d try %d: face not usable (%s); resampling", cfg.seed, k + 1, failure)
    if failure.startswith("attributes."):
        raise UnreachableTarget(f"seed={cfg.seed}: none of {MAX_TRIES} sampled faces could be edited; last: {failure}")
    raise NoFaceError(f"seed={cfg.seed}: none of {MAX_TRIES} sampled faces could be landmarked within "
                      "reposition.max_source_angle; valid: another seed, or a larger max_source_angle")


def _directions(cfg: FacepipeConfig, models: ModelStore):
    """The generator's attribute directions and their file: a TL-GAN file from the registry when the
    generator config names one (`generator.directions`), else this project's `<name>.npz`."""
    from facepipe.attributes.directions import load, load_tlgan
    from facepipe.stages.learn_directions import directions_path

    if cfg.generator.directions:
        path = models.path(cfg.generator.directions)
        return load_tlgan(path), path
    path = directions_path(cfg)
    return load(path), path


def _editor(cfg: FacepipeConfig, generator, models: ModelStore):
    """`latent -> EditResult` for the job's attribute targets, or None when there are none."""
    a = cfg.attributes
    check_targets(dict(a.targets), list(a.lock))  # bad names and ranges fail before anything loads
    if not a.targets:
        return None, {}
    from facepipe.attributes import classifier

    directions, path = _directions(cfg, models)
    directions.check_latent_dim(generator.latent_dim, str(path))
    missing = sorted((set(a.targets) | set(a.lock)) - set(directions.names))
    if missing:
        raise ConfigError(f"attributes {missing} have no direction in {path.name}; valid: {', '.join(directions.names)}")
    guide = classifier.load_member(cfg.classifiers, "guide")
    dc = cfg.directions
    settings = EditSettings(dc.max_steps, dc.step_size, dc.tolerance, dc.walk, dc.metric, dc.metric_ridge)
    score = GuideField(generator, guide) if settings.walk == "gradient" else latent_scorer(generator, guide)
    provenance = {"directions": str(path), "directions_sha256": io.sha256_file(path),
                  "guide_sha256": guide.card.get("weights_sha256", ""), "settings": asdict(settings)}
    return (lambda z: edit(z, dict(a.targets), list(a.lock), directions, score, settings)), provenance


def run(cfg: FacepipeConfig, out_root: Path, models: ModelStore, tracker: Tracker,
        usable: Optional[Callable[[np.ndarray], bool]] = None) -> GeneratedPerson:
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
    editor, provenance = _editor(cfg, generator, models)
    latent, face, tries, edited = _sample(cfg, generator, usable, editor)

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
        "tries": tries,
        "attributes": _edit_record(cfg, edited, provenance),
        "files": files,
        "facepipe_version": __version__,
    }
    io.write_json(person_dir / MANIFEST_FILE, manifest, cfg.overwrite)
    seconds = time.perf_counter() - start

    tracker.set_tags({"person_id": pid, f"model.{spec.name}.sha256": spec.sha256})
    for name in (FACE_FILE, LATENT_FILE, MANIFEST_FILE):
        tracker.log_artifact(person_dir / name, "person")
    tracker.log_metrics({"generate_s": seconds, "generate_tries": tries})
    if edited is not None:
        tracker.log_metrics({f"edit.{k}.{n}": float(v) for k, part in
                             (("steps", edited.steps), ("before", edited.before), ("after", edited.after))
                             for n, v in ((n, np.ravel(x)[0]) for n, x in part.items())})
    tracker.log_dataset(person_dir, name=pid, digest=io.sha256_bytes(face_png + latent.tobytes()), context="generated")
    log.info("person %s -> %s", pid, person_dir)
    return GeneratedPerson(id=pid, dir=person_dir, face=face, latent=latent, seconds=seconds, tries=tries)


def _edit_record(cfg: FacepipeConfig, edited, provenance: dict) -> dict:
    """person.json's `attributes`: the request, and for an edit the guide's scores before and after,
    the steps per target and the files and settings that make it reproducible."""
    record = {"name": cfg.attributes.name, "targets": dict(cfg.attributes.targets), "lock": list(cfg.attributes.lock),
              "applied": edited is not None}
    if edited is not None:
        first = lambda part: {n: round(float(np.ravel(v)[0]), 4) for n, v in part.items()}  # noqa: E731
        record.update({"steps": {n: int(np.ravel(v)[0]) for n, v in edited.steps.items()},
                       "guide_before": first(edited.before), "guide_after": first(edited.after), **provenance})
    return record


def from_photo(cfg: FacepipeConfig, out_root: Path, tracker: Tracker,
               usable: Optional[Callable[[np.ndarray], bool]] = None) -> GeneratedPerson:
    """A person folder for the face photo `cfg.reposition.image`, named `photo-<12 hex of its pixels>`.

    Holds `face.png` (the photo as RGB PNG), `config.yaml` (the photo's path) and `person.json`
    (the photo's file sha256). There is no latent: the photo is the person.

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
        raise NoFaceError(f"no face found in the {face.shape[1]}x{face.shape[0]} image reposition.image={str(path)!r}; "
                          "valid: a photo with one clearly visible face")
    pid = "photo-" + io.sha256_bytes(face.tobytes() + repr(face.shape).encode())[:12]
    person_dir = io.ensure_writable_dir(Path(out_root) / pid)
    face_png = io.encode_image(face, "png")
    io.publish_bytes(person_dir / FACE_FILE, face_png, cfg.overwrite)
    io.publish_bytes(person_dir / CONFIG_FILE, yaml.safe_dump({"reposition": {"image": str(path)}}).encode(),
                     cfg.overwrite)
    manifest = {"id": pid, "source": {"image": str(path), "sha256": io.sha256_file(path),
                                      "width": face.shape[1], "height": face.shape[0]},
                "files": {FACE_FILE: io.sha256_bytes(face_png)}, "facepipe_version": __version__}
    io.write_json(person_dir / MANIFEST_FILE, manifest, cfg.overwrite)
    tracker.set_tags({"person_id": pid, "source_image": str(path)})
    tracker.log_artifact(person_dir / MANIFEST_FILE, "person")
    log.info("photo %s -> person %s", path, person_dir)
    return GeneratedPerson(id=pid, dir=person_dir, face=face, latent=None, seconds=time.perf_counter() - start)


def source_person(cfg: FacepipeConfig, out_root: Path, models: ModelStore, tracker: Tracker) -> GeneratedPerson:
    """The person a job repositions: the photo `reposition.image` if set, else a generated face that
    can be landmarked and is turned at most `reposition.max_source_angle` (photos are used as given)."""
    from facepipe.reposition.landmarks import usable

    if cfg.reposition.image:
        return from_photo(cfg, out_root, tracker, usable(models))
    return run(cfg, out_root, models, tracker, usable(models, cfg.reposition.max_source_angle))
