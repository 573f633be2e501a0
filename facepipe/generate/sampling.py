"""Drawing a person: the seed's latent, seeded retries until the face is usable and its edit reached
its targets, and the attribute editor the job's config asks for.

Try 0 draws from `default_rng(seed)`; try k >= 1 from `SeedSequence([seed, 2, k])`, so a retry never
changes the faces of seeds that needed none.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Callable, Optional

import numpy as np

from facepipe import io
from facepipe.attributes.directions import for_generator
from facepipe.attributes.vocabulary import check_targets
from facepipe.config import FacepipeConfig
from facepipe.errors import ConfigError, NoFaceError
from facepipe.generate.base import draw_latents
from facepipe.generate.conditions import apply_condition, condition_targets
from facepipe.generate.edit import EditResult, EditSettings, UnreachableTarget, edit, latent_scorer
from facepipe.generate.guide_field import GuideField
from facepipe.models.registry import ModelStore

__all__ = ["sample_person", "build_editor", "edit_record", "MAX_TRIES"]

log = logging.getLogger(__name__)
MAX_TRIES = 16  # latents drawn for one seed before giving up on a usable face
_RESAMPLE_STREAM = 2  # SeedSequence key of the retry latents (1 is the reposition plan's)


def sample_person(
    cfg: FacepipeConfig,
    generator,
    usable: Optional[Callable[[np.ndarray], bool]],
    editor: Optional[Callable[[np.ndarray], "EditResult"]] = None,
) -> tuple[np.ndarray, np.ndarray, int, object]:
    """(latent, face, tries, edit): the seed's first latent, or the first retry whose (edited) face is
    `usable` and whose edit reached its targets.

    Try 0 draws from `default_rng(seed)`; try k >= 1 from `SeedSequence([seed, 2, k])`, so a
    retry never changes the faces of seeds that needed none.
    """
    failure = ""
    for k in range(MAX_TRIES):
        rng = np.random.default_rng(cfg.seed if k == 0 else np.random.SeedSequence([cfg.seed, _RESAMPLE_STREAM, k]))
        latent = draw_latents(generator, rng, 1, cfg.generator.truncation)[0]
        latent = apply_condition(generator, latent, cfg.attributes.targets)
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
    raise NoFaceError(
        f"seed={cfg.seed}: none of {MAX_TRIES} sampled faces could be landmarked within "
        "reposition.max_source_angle; valid: another seed, or a larger max_source_angle"
    )


def build_editor(cfg: FacepipeConfig, generator, models: ModelStore):
    """`latent -> EditResult` for the job's attribute targets, or None when there are none."""
    a = cfg.attributes
    check_targets(dict(a.targets), list(a.lock))  # bad names and ranges fail before anything loads
    targets = dict(a.targets)
    if hasattr(generator, "condition_latent"):  # a conditional generator sets these directly
        targets = condition_targets(targets)[1]
    if not targets:
        return None, {}
    from facepipe.attributes import classifier

    directions, path = for_generator(cfg.generator, cfg.directions.dir, models)
    directions.check_latent_dim(generator.latent_dim, str(path))
    missing = sorted((set(targets) | set(a.lock)) - set(directions.names))
    if missing:
        raise ConfigError(
            f"attributes {missing} have no direction in {path.name}; valid: {', '.join(directions.names)}"
        )
    guide = classifier.load_member(cfg.classifiers, "guide")
    dc = cfg.directions
    settings = EditSettings(dc.max_steps, dc.step_size, dc.tolerance, dc.walk, dc.metric, dc.metric_ridge)
    score = GuideField(generator, guide) if settings.walk == "gradient" else latent_scorer(generator, guide)
    provenance = {
        "directions": str(path),
        "directions_sha256": io.sha256_file(path),
        "guide_sha256": guide.card.get("weights_sha256", ""),
        "settings": asdict(settings),
    }
    return (lambda z: edit(z, targets, list(a.lock), directions, score, settings)), provenance


def edit_record(cfg: FacepipeConfig, edited, provenance: dict) -> dict:
    """person.json's `attributes`: the request, and for an edit the guide's scores before and after,
    the steps per target and the files and settings that make it reproducible."""
    record = {
        "name": cfg.attributes.name,
        "targets": dict(cfg.attributes.targets),
        "lock": list(cfg.attributes.lock),
        "applied": edited is not None,
    }
    if edited is not None:
        first = lambda part: {n: round(float(np.ravel(v)[0]), 4) for n, v in part.items()}  # noqa: E731
        record.update(
            {
                "steps": {n: int(np.ravel(v)[0]) for n, v in edited.steps.items()},
                "guide_before": first(edited.before),
                "guide_after": first(edited.after),
                **provenance,
            }
        )
    return record
