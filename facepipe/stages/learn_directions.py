"""Stage `learn_directions`: attribute directions for the configured generator, scored by the guide.

Draws `directions.n_samples` latents from `default_rng(directions.seed)`, generates and scores them
with the guide classifier, fits one direction per classifier output (`attributes.directions.fit`),
writes `<directions.dir>/<generator name>.npz` and logs the directions' cosine-similarity heatmap
(and the npz) to MLflow.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from facepipe.attributes import classifier, directions
from facepipe.attributes.vocabulary import OUTPUTS, value_range
from facepipe.backends import load_factory
from facepipe.config import FacepipeConfig
from facepipe.face import landmarks
from facepipe.face.landmarks import NoFaceError
from facepipe.generate import sample_latents
from facepipe.generate.edit import latent_scorer
from facepipe.reposition.latent import EXPRESSION_LABELS, POSE_LABELS, labels_of

__all__ = ["run", "heatmap"]


def heatmap(d: directions.Directions, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 11))
    im = ax.imshow(d.cosine_similarity(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(d.names)), d.names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(d.names)), d.names, fontsize=7)
    ax.set_title(f"cosine similarity of attribute directions ({d.meta.get('method')}, n={d.meta.get('n_samples')})")
    fig.colorbar(im, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def pose_directions(generator, landmarker, z: np.ndarray) -> directions.Directions:
    """Yaw, pitch and expression-geometry directions by regression on the landmarkable faces of `z`
    (labels: `face.pose`, `face.expression`); their slopes size the latent repositioner's steps."""
    rows, kept = [], []
    for i in range(0, len(z), 256):
        for j, face in enumerate(generator.synthesize(z[i : i + 256])):
            try:
                rows.append(labels_of(landmarker(face).points))
            except NoFaceError:
                continue
            kept.append(i + j)
    labels = np.array(rows)
    names = [*POSE_LABELS, *EXPRESSION_LABELS]
    d = directions.fit(z[kept], labels, names, "regression", [(-np.inf, np.inf)] * len(names))
    d.meta.update({"pose_samples": len(z), "pose_landmarked": len(kept)})  # merged into the stage's meta
    return d


def run(cfg: FacepipeConfig, models, tracker) -> Path:
    generator = load_factory(cfg.generator._target_, "generator")(cfg.generator, models)
    guide = classifier.load_member(cfg.classifiers, "guide")
    dc = cfg.directions
    z = sample_latents(np.random.default_rng(dc.seed), dc.n_samples, generator.latent_dim)
    scores = latent_scorer(generator, guide, batch=500)(z)
    d = directions.fit(z, scores, list(OUTPUTS), dc.method, [value_range(n) for n in OUTPUTS], dc.seed)
    pose = pose_directions(generator, landmarks.build(models), z[: dc.n_pose_samples])
    d = d.merged(pose)
    d.meta.update({k: pose.meta[k] for k in ("pose_samples", "pose_landmarked")})
    d.meta.update(
        {"generator": generator.name, "seed": dc.seed, "guide_weights_sha256": guide.card.get("weights_sha256", "")}
    )
    out = directions.directions_path(cfg.directions.dir, cfg.generator.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    directions.save(out, d)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "direction_cosine_similarity.png"
        heatmap(d, png)
        tracker.log_artifact(png, "directions")
    tracker.log_artifact(out, "directions")
    tracker.log_metrics(
        {
            "directions.n_samples": dc.n_samples,
            "directions.max_abs_offdiag_cosine": float(np.abs(d.cosine_similarity() - np.eye(len(d.names))).max()),
        }
    )
    return out
