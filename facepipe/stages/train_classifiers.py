"""Stage `train_classifiers`: the guide and the evaluator attribute classifiers, trained and carded.

Reads the shared data (`classifiers.data_dir`), splits each dataset by the member's `split_seed`,
trains with per-epoch checkpoints (an interrupted run resumes), writes
`<dir>/<member>.weights.h5` and `<dir>/<member>.json` (the card: data, split, seed, held-out figures)
and logs the figures to MLflow.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from facepipe.attributes import classifier
from facepipe.config import ClassifiersConf
from facepipe.data.faces64 import FaceSet, load_celeba, load_utkface, split
from facepipe.io import sha256_file, write_json

__all__ = ["run", "MEMBERS", "DATA_FILES"]

MEMBERS = ("guide", "evaluator")
DATA_FILES = {
    "celeba": "celeba-10k-89x109.tar",
    "celeba_attributes": "celeba-10k-attributes.txt",
    "utkface": "utkface-200px.tar",
}


def _subset(data: FaceSet, n: int, seed: int) -> FaceSet:
    return data.take(np.sort(np.random.default_rng(seed).permutation(len(data.images))[:n]))


def load_sets(cfg: ClassifiersConf, limit: int | None = None) -> dict[str, FaceSet]:
    root = Path(cfg.data_dir)
    return {
        "celeba": load_celeba(root / DATA_FILES["celeba"], root / DATA_FILES["celeba_attributes"], limit),
        "utkface": load_utkface(root / DATA_FILES["utkface"], limit),
    }


def _concat(sets: list[FaceSet]) -> FaceSet:
    return FaceSet(
        np.concatenate([s.images for s in sets]),
        np.concatenate([s.labels for s in sets]),
        [n for s in sets for n in s.names],
        "+".join(s.source for s in sets),
    )


def run(
    cfg: ClassifiersConf,
    tracker,
    members: tuple[str, ...] = MEMBERS,
    limit: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, dict]:
    """Train (or resume) each member in `members`; returns their cards."""
    sets = load_sets(cfg, limit)
    root = Path(cfg.data_dir)
    data_hashes = {k: sha256_file(root / v) for k, v in DATA_FILES.items()}
    out_dir = Path(cfg.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cards = {}
    for member in members:
        m = getattr(cfg, member)
        train_parts, held_parts, held_names = [], {}, {}
        for name, data in sets.items():
            tr, ho = split(len(data.images), m.split_seed, cfg.held_out)
            train_parts.append(data.take(tr))
            held_parts[name] = data.take(ho)
            held_names[name] = len(ho)
        train_set = _concat(train_parts)
        groups = np.concatenate([np.full(len(p.images), i) for i, p in enumerate(train_parts)])
        epoch_size = cfg.epoch_size
        log(
            f"{member}: {len(train_set.images)} training faces, {epoch_size} per epoch (half from each "
            f"dataset), {cfg.epochs} epochs"
        )
        network = classifier.train(
            train_set,
            Path(cfg.checkpoint_dir) / member,
            m.width,
            m.seed,
            cfg.epochs,
            cfg.batch_size,
            cfg.learning_rate,
            epoch_size=epoch_size,
            groups=groups,
            log=log,
        )
        model = classifier.AttributeClassifier(network, {})
        figures = {name: classifier.evaluate(model, held) for name, held in held_parts.items()}
        weights = out_dir / f"{member}.weights.h5"
        tmp = weights.with_name(f".{weights.name}.tmp.weights.h5")
        network.save_weights(str(tmp))
        tmp.replace(weights)
        card = {
            "member": member,
            **asdict(m),
            "epochs": cfg.epochs,
            "epoch_size": epoch_size,
            "sampling": "each epoch: half its faces from each dataset's training part, without replacement",
            "batch_size": cfg.batch_size,
            "learning_rate": cfg.learning_rate,
            "held_out": cfg.held_out,
            "split": "numpy.random.default_rng(split_seed).permutation(n); the first round(n * held_out) "
            "are held out (n = faces in each dataset, sorted by file name)",
            "data": {
                "files": DATA_FILES,
                "sha256": data_hashes,
                "training_faces": len(train_set.images),
                "held_out_faces": held_names,
            },
            "weights_sha256": sha256_file(weights),
            "held_out_figures": figures,
        }
        write_json(out_dir / f"{member}.json", card, overwrite=True)
        tracker.log_metrics(
            {f"{member}.{name}.{attr}": v for name, f in figures.items() for attr, v in f["balanced_accuracy"].items()}
        )
        tracker.log_metrics({f"{member}.utkface.age_mae": figures["utkface"]["age_mae"]})
        tracker.log_artifact(out_dir / f"{member}.json", "classifiers")
        cards[member] = card
    return cards
