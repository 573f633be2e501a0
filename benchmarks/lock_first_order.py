"""Why a lock holds the guide but not the evaluator: a first-order look at one edit step.

    python benchmarks/lock_first_order.py [--persons 40] [--seed 1002] [--edit Smiling]
                                          [--out outputs/bench/lock_first_order.json]

At `--persons` seeded latents, the steepest step of the gradient walk towards `--edit` is built as
`edit.walk_gradient` builds it (`edit._steepest`, the image metric by default), under several
ways of holding Male and Young, and each step is read by the evaluator's gradients: its Male and
Young logit change per unit of the guide's edited logit (mean of the absolute value and the signed
mean, over persons), and the step's latent length per unit. Rows:

- free: nothing held; lock: the guide's Male and Young held (what `attributes.lock` does);
- lock + related: also every CelebA attribute whose labels correlate with Male or Young by |r| >= 0.4
  in the subset (`RELATED`; computed once from `celeba-10k-attributes.txt`);
- lock + latent directions: also the committed linear Male and Young directions (TL-GAN's projection);
- latent metric: steps measured in latent distance instead of image change;
- feature penalty: the image metric plus lambda x the pullback of the guide's pooled features, so a
  step changes as little of what the guide sees as it can;
- lock + age: also the guide's UTKFace age head (trained on other photos than its Young);
- lock per view: Male and Young held in each of the guide's six views separately (12 constraints),
  not only their mean;
- lock + neighbour gradients: also Male and Young's gradients at 3 latents sigma away (8 constraints),
  so the step stays level where the guide's gradients turn;
- focused image metric: pixel changes weighted by 1 / (0.2 + s), s the guide's mean image saliency for
  the edited attribute over the persons (blurred, max 1): changes where the guide looks for a smile are
  cheap, elsewhere dear, so the step leaves hair and face shape alone.

Only first order, at the start of a walk; the walks themselves are `benchmarks/attributes.py`'s locking.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import yaml

from facepipe.attributes import classifier, directions
from facepipe.attributes.vocabulary import OUTPUTS
from facepipe.config_loader import load
from facepipe.data.faces64 import SIDE
from facepipe.generate import sample_latents
from facepipe.generate.dcgan import build as build_generator
from facepipe.generate.edit import _steepest
from facepipe.generate.guide_field import GuideField
from facepipe.io import write_json
from facepipe.models.registry import ModelStore

LOCK = ("Male", "Young")
RELATED = ("Wearing_Lipstick", "Heavy_Makeup", "No_Beard", "Arched_Eyebrows", "Attractive", "5_o_Clock_Shadow")
FEATURE_LAMBDAS = (0.3, 1.0, 10.0)
NEIGHBOUR_SIGMAS = (0.1, 0.3)


def feature_metrics(field: GuideField, z: np.ndarray) -> np.ndarray:
    """`[N, D, D]`: per latent, `J^T J` of the guide's globally pooled features (J: features by latent)."""
    tf = field._tf
    network = field.classifier.network
    pooled = next(layer for layer in network.layers if "global_average" in layer.name)
    features = tf.keras.Model(network.input, pooled.output)

    @tf.function(reduce_retracing=True)
    def pushforward(latents, tangents):
        with tf.autodiff.ForwardAccumulator(latents, tangents) as acc:
            images = (field.generator.model(latents, training=False) + 1.0) * 127.5
            if images.shape[1] != SIDE:
                images = tf.image.resize(images, (SIDE, SIDE), antialias=True)
            out = features(images, training=False)
        return acc.jvp(out)

    d = z.shape[1]
    eye = tf.constant(np.eye(d, dtype=np.float32))
    out = np.empty((len(z), d, d))
    for n, latent in enumerate(z):
        jac_t = pushforward(tf.constant(np.repeat(latent[None], d, 0)), eye).numpy().astype(np.float64)
        out[n] = jac_t @ jac_t.T
    return out


def per_view_jacobian(field: GuideField, z: np.ndarray, columns: list[int]) -> np.ndarray:
    """`[N, views x columns, D]`: the latent gradients of `columns` in each view separately."""
    tf = field._tf
    latents = tf.constant(z)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(latents)
        images = (field.generator.model(latents, training=False) + 1.0) * 127.5
        raws = [field.classifier.logits(v) for v in field.views(images)]
        sums = [tf.reduce_sum(r[:, c]) for r in raws for c in columns]
    return np.stack([tape.gradient(s, latents).numpy() for s in sums], 1)


def focused_metrics(field: GuideField, z: np.ndarray, column: int, eps: float = 0.2, sigma: float = 2.0) -> np.ndarray:
    """`[N, D, D]`: `J^T W J` (J: 64 px image by latent), W = 1 / (eps + s) per pixel, s the guide's mean
    |d logit / d image| of `column` over the persons, blurred by `sigma` px and scaled to max 1."""
    tf = field._tf
    images = (field.generator.model(tf.constant(z), training=False) + 1.0) * 127.5
    with tf.GradientTape() as tape:
        tape.watch(images)
        raw = tf.reduce_mean(tf.stack([field.classifier.logits(v) for v in field.views(images)]), 0)
        total = tf.reduce_sum(raw[:, column])
    saliency = cv2.GaussianBlur(
        np.abs(tape.gradient(total, images).numpy()).sum(-1).mean(0).astype(np.float64), (0, 0), sigma
    )
    weight = np.sqrt(1.0 / (eps + saliency / saliency.max())).ravel()[:, None]  # per pixel, every channel
    d = z.shape[1]
    eye = tf.constant(np.eye(d, dtype=np.float32))
    out = np.empty((len(z), d, d))
    for n, latent in enumerate(z):
        jac_t = field._pushforward(tf.constant(np.repeat(latent[None], d, 0)), eye).numpy().reshape(d, -1, 3)
        weighted = (jac_t * weight[None]).reshape(d, -1).astype(np.float64)
        out[n] = weighted @ weighted.T
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1002, help="as the locking benchmark's latents")
    parser.add_argument("--edit", default="Smiling")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", default="outputs/bench/lock_first_order.json")
    args = parser.parse_args()
    if args.edit not in OUTPUTS or args.edit in LOCK:
        parser.error(f"--edit {args.edit!r}: valid: an attribute of {', '.join(OUTPUTS)} other than {LOCK}")
    models = ModelStore(os.environ.get("FACEPIPE_MODEL_CACHE", "models/cache"), progress=False)
    generator = build_generator(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=64), models)
    params = load(yaml.safe_load(Path(args.params).read_text()))
    guide = GuideField(generator, classifier.load_member(params.classifiers, "guide"))
    evaluator = GuideField(generator, classifier.load_member(params.classifiers, "evaluator"))
    committed = directions.load(Path(params.directions.dir) / f"{generator.name}.npz")
    z = sample_latents(np.random.default_rng(args.seed), args.persons, generator.latent_dim)

    col = OUTPUTS.index
    _, guide_jac = guide.raw_and_jacobian(z, range(len(OUTPUTS)))  # [N, outputs, D]
    _, eval_jac = evaluator.raw_and_jacobian(z, [col(n) for n in LOCK])
    image_inverse = guide.image_metric_inverse(z, params.directions.metric_ridge)
    image_metric = np.linalg.inv(image_inverse)
    feature = feature_metrics(guide, z)
    latent_dirs = np.stack([committed[n] for n in LOCK])

    def row(held: list[str], inverse, extra: np.ndarray | None = None) -> dict:
        h = guide_jac[:, [col(n) for n in held]]
        if extra is not None:
            extra = (
                extra if extra.ndim == 3 else np.broadcast_to(extra, (len(z),) + extra.shape)
            )  # per person or shared
            h = np.concatenate([h, extra], 1)
        step = _steepest(guide_jac[:, col(args.edit)], h, inverse)
        gain = np.einsum("nd,nd->n", guide_jac[:, col(args.edit)], step)
        per_unit = np.einsum("nkd,nd->nk", eval_jac, step) / gain[:, None]
        out = {f"{n}_abs": round(float(np.abs(per_unit[:, i]).mean()), 3) for i, n in enumerate(LOCK)}
        out.update({f"{n}_mean": round(float(per_unit[:, i].mean()), 3) for i, n in enumerate(LOCK)})
        out["step_length_per_unit"] = round(float((np.linalg.norm(step, axis=1) / gain).mean()), 3)
        return out

    lock = list(LOCK)
    rows = {
        "free": row([], image_inverse),
        "lock": row(lock, image_inverse),
        "lock + related": row(lock + [n for n in RELATED if n != args.edit], image_inverse),
        "lock + latent directions": row(lock, image_inverse, latent_dirs),
        "free, latent metric": row([], None),
        "lock, latent metric": row(lock, None),
    }
    for lam in FEATURE_LAMBDAS:
        metric = np.stack([m / np.trace(m) + lam * f / np.trace(f) for m, f in zip(image_metric, feature)])
        rows[f"lock, feature penalty {lam:g}"] = row(lock, np.linalg.inv(metric))
    rows["lock + age"] = row(lock + ["age"], image_inverse)
    views = per_view_jacobian(guide, z, [col(n) for n in LOCK])
    rows["lock per view"] = row([], image_inverse, extra=views)
    rng = np.random.default_rng(args.seed)
    for sigma in NEIGHBOUR_SIGMAS:
        near = [
            guide.raw_and_jacobian(z + sigma * rng.standard_normal(z.shape).astype(np.float32), [col(n) for n in LOCK])[
                1
            ]
            for _ in range(3)
        ]
        rows[f"lock + neighbour gradients {sigma:g}"] = row(lock, image_inverse, extra=np.concatenate(near, 1))
    focused = focused_metrics(guide, z, col(args.edit))
    ridge = params.directions.metric_ridge
    focused_inverse = np.stack([np.linalg.inv(m + ridge * np.trace(m) / len(m) * np.eye(len(m))) for m in focused])
    rows["free, focused image metric"] = row([], focused_inverse)
    rows["lock, focused image metric"] = row(lock, focused_inverse)

    print(
        f"evaluator logit change per unit of the guide's {args.edit} logit ({args.persons} persons, seed {args.seed})"
    )
    print(f"{'hold':<30} {'|Male|':>7} {'Male':>7} {'|Young|':>8} {'Young':>7} {'length':>7}")
    for name, r in rows.items():
        print(
            f"{name:<30} {r['Male_abs']:>7.3f} {r['Male_mean']:>+7.3f} {r['Young_abs']:>8.3f} {r['Young_mean']:>+7.3f} "
            f"{r['step_length_per_unit']:>7.3f}"
        )
    write_json(
        args.out,
        {
            "edit": args.edit,
            "persons": args.persons,
            "seed": args.seed,
            "rows": rows,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        },
        overwrite=True,
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
