"""learn_directions on a tiny budget: every classifier output and the pose/expression labels get a unit
direction; the npz and the cosine-similarity heatmap are logged."""

from __future__ import annotations

import numpy as np

from facepipe.attributes import classifier
from facepipe.attributes.directions import load
from facepipe.attributes.vocabulary import OUTPUTS
from facepipe.reposition.latent import EXPRESSION_LABELS, POSE_LABELS
from facepipe.stages import learn_directions


class _Recorder:
    def __init__(self):
        self.artifacts, self.metrics = [], {}

    def log_artifact(self, path, artifact_path=None):
        self.artifacts.append((path.name, artifact_path))

    def log_metrics(self, metrics):
        self.metrics.update(metrics)


def test_learns_and_saves_every_direction(make_cfg, models, tmp_path):
    (tmp_path / "cls").mkdir()
    classifier.build_network(4, seed=0).save_weights(str(tmp_path / "cls" / "guide.weights.h5"))
    cfg = make_cfg(
        f"classifiers.dir={tmp_path / 'cls'}",
        "classifiers.guide.width=4",
        f"directions.dir={tmp_path / 'dirs'}",
        "directions.n_samples=120",
        "directions.n_pose_samples=40",
    )
    tracker = _Recorder()
    path = learn_directions.run(cfg, models, tracker)
    d = load(path)
    assert d.names == [*OUTPUTS, *POSE_LABELS, *EXPRESSION_LABELS] and d.latent_dim == 100
    norms = np.linalg.norm(d.vectors, axis=1)
    # unit length, except where the (untrained) guide's score is constant: no direction to learn
    assert np.allclose(norms[norms > 0.5], 1, atol=1e-5) and (norms > 0.5).sum() >= len(d.names) - 2
    assert np.isfinite(d.scales[len(OUTPUTS) :]).all()  # pose/expression slopes for reposition=latent
    assert ("direction_cosine_similarity.png", "directions") in tracker.artifacts
    assert tracker.metrics["directions.n_samples"] == 120
