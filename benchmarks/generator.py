"""How real are a generator's faces? Seeded samples against held-out real UTKFace faces.

    python benchmarks/generator.py [--generator NAME=WEIGHTS.npz ...] [--n 500] [--out outputs/bench/generator.json]

Every generator (the default `dcgan_digiface`, plus each `--generator`, an exported `.npz` from
`facepipe stage train_generator`) draws `--n` seeded samples (conditions from the training rows); the
ceiling is `--n` held-out real UTKFace faces that no generator trained on. Figures:
- detect: share of faces MediaPipe's face detector finds;
- FD dlib / FD evaluator: Fréchet distance to the real faces in dlib's 128-d identity space and in the
  evaluator classifier's penultimate layer (two spaces no generator trained against);
- gender / age: the evaluator's reading against the condition (conditional generators; the floor is the
  same reading on real held-out faces the evaluator never trained on);
- nearest training face (dlib distance), 1st/5th/50th percentiles, against the same for real faces;
- same-person pairs: share of sample pairs under dlib's 0.6;
- faces/s: synthesis at batch 32 on this machine.
Training-face descriptors are cached under ~/.cache/facepipe/bench.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facepipe.attributes.classifier import AGE_INDEX, load_member
from facepipe.attributes.vocabulary import OUTPUTS
from facepipe.config import ClassifiersConf
from facepipe.data import utkface
from facepipe.data.faces64 import split as classifier_split
from facepipe.evaluate import identity
from facepipe.evaluate.generator import frechet_distance, nearest_distances, pair_rate, percentiles
from facepipe.face import landmarks
from facepipe.io import write_image, write_json
from facepipe.models.registry import ModelStore

MALE = OUTPUTS.index("Male")
CACHE = Path.home() / ".cache" / "facepipe" / "bench"


class Judges:
    """MediaPipe detector and mesh, dlib's descriptor and the evaluator's penultimate layer."""

    def __init__(self, models: ModelStore):
        from facepipe._tf import keras

        self.landmarker = landmarks.build(models)
        self.encoder = identity.build(models)
        self.evaluator = load_member(ClassifiersConf(), "evaluator")
        net = self.evaluator.network
        pooled = next(layer for layer in net.layers if "global_average_pooling" in layer.name)
        self.features = keras().Model(net.inputs, pooled.output)

    def read(self, images: np.ndarray, label: str) -> dict:
        """Per image: detected (bool), dlib descriptor (NaN when no mesh), evaluator features and scores."""
        from facepipe._tf import tensorflow

        detected = np.zeros(len(images), bool)
        desc = np.full((len(images), 128), np.nan, np.float32)
        for i, img in enumerate(tqdm(images, desc=f"{label}: faces", leave=False)):
            detected[i] = self.landmarker.detect(img) is not None
            try:
                points = self.landmarker(img).points
            except landmarks.NoFaceError:
                continue
            desc[i] = self.encoder(img, points)
        small = tensorflow().image.resize(images, (64, 64), antialias=True).numpy()
        feats = np.concatenate(
            [self.features(small[i : i + 256], training=False).numpy() for i in range(0, len(small), 256)]
        )
        return {"detected": detected, "dlib": desc, "features": feats, "scores": self.evaluator(images)}


def train_descriptors(judges: Judges, faces: utkface.UTKFace, chunk: int = 500) -> np.ndarray:
    """dlib descriptors of the training faces (NaN rows: not meshed), cached; computed in chunks that
    are saved as they finish, so an interrupted run goes on where it stopped."""
    path = CACHE / f"utkface{faces.images.shape[1]}-train{len(faces.images)}-dlib.npy"
    if path.is_file():
        return np.load(path)
    partial = path.with_suffix(".partial.npy")
    done = np.load(partial) if partial.is_file() else np.zeros((0, 128), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    for start in range(len(done), len(faces.images), chunk):
        part = judges.read(faces.images[start : start + chunk], f"training faces {start}+")["dlib"]
        done = np.concatenate([done, part])
        tmp = partial.with_suffix(".tmp.npy")
        np.save(tmp, done)
        os.replace(tmp, partial)
    os.replace(partial, path)
    return done


def speed(generator, latents: np.ndarray) -> float:
    generator.synthesize(latents[:32])  # warm-up (graph tracing)
    t = time.perf_counter()
    for i in range(0, len(latents), 32):
        generator.synthesize(latents[i : i + 32])
    return len(latents) / (time.perf_counter() - t)


def figures(read: dict, real: dict, train_desc: np.ndarray, conds: dict | None) -> dict:
    ok = ~np.isnan(read["dlib"][:, 0])
    d = read["dlib"][ok]
    out = {
        "faces": len(read["detected"]),
        "detect": round(float(read["detected"].mean()), 4),
        "meshed": int(ok.sum()),
        "fd_evaluator": round(frechet_distance(read["features"], real["features"]), 4),
    }
    if len(d) >= 2:  # figures in dlib's space need faces that were meshed
        nn, _ = nearest_distances(d, train_desc[~np.isnan(train_desc[:, 0])])
        out.update(
            {
                "fd_dlib": round(frechet_distance(d, real["dlib"][~np.isnan(real["dlib"][:, 0])]), 4),
                "nearest_training": percentiles(nn),
                "same_person_pairs_0.6": round(pair_rate(d, 0.6), 4),
            }
        )
    if conds is not None:
        s = read["scores"]
        out["gender_match"] = round(float(np.mean((s[:, MALE] > 0.5) == (conds["male"] == 1))), 4)
        err = np.abs(s[:, AGE_INDEX] - conds["age"])
        out["age_within_10"] = round(float(np.mean(err <= 10)), 4)
        out["age_mae"] = round(float(err.mean()), 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", action="append", default=[], metavar="NAME=WEIGHTS")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument(
        "--train-subset", type=int, default=0, help="nearest-face search over this many training faces (0 = all)"
    )
    parser.add_argument("--no-dcgan", action="store_true", help="skip the dcgan_digiface baseline")
    parser.add_argument("--out", default="outputs/bench/generator.json")
    args = parser.parse_args()

    models = ModelStore(os.environ.get("FACEPIPE_MODEL_CACHE", "models/cache"))
    judges = Judges(models)
    faces = utkface.load(args.data, 128, utkface.CACHE_DIR)
    train_idx, held_idx = utkface.held_out_split(len(faces.images))
    held = faces.take(np.random.default_rng(args.seed).choice(held_idx, args.n, replace=False))
    real = judges.read(held.images, "held-out real")
    train_desc = train_descriptors(judges, faces.take(train_idx[: args.train_subset or None]))
    # the evaluator's own held-out UTKFace faces (its split over the same sorted list) give the reading floor
    _, eval_held = classifier_split(
        len(faces.images), ClassifiersConf().evaluator.split_seed, ClassifiersConf().held_out
    )
    floor_idx = np.intersect1d(eval_held, held_idx)
    floor = faces.take(floor_idx)
    fs = judges.evaluator(floor.images)
    results = {"n": args.n, "seed": args.seed, "generators": {}}
    real_fig = figures(real, real, train_desc, None)
    real_fig["fd_dlib"] = real_fig["fd_evaluator"] = 0.0
    real_fig.update(
        {
            "floor_faces": len(floor_idx),
            "gender_match": round(float(np.mean((fs[:, MALE] > 0.5) == (floor.male == 1))), 4),
            "age_within_10": round(float(np.mean(np.abs(fs[:, AGE_INDEX] - floor.age) <= 10)), 4),
            "age_mae": round(float(np.mean(np.abs(fs[:, AGE_INDEX] - floor.age))), 2),
        }
    )
    results["real_held_out"] = real_fig

    gens = [] if args.no_dcgan else [("dcgan_digiface", None)]
    gens += [tuple(g.split("=", 1)) for g in args.generator]
    for name, weights in gens:
        rng = np.random.default_rng(args.seed)
        if weights is None:
            from facepipe.generate import dcgan
            from facepipe.generate.base import sample_latents

            gen = dcgan.DCGANGenerator(dcgan.build_model(), batch_size=32)
            dcgan.load_state_dict(gen.model, dcgan.load_torch_zip(models.path("dcgan_digiface"))["netG_state_dict"])
            latents, conds = sample_latents(rng, args.n, gen.latent_dim), None
        else:
            from facepipe.generate.conditional import from_file
            from facepipe.generate.conditions import COND_DIM, decode_ages

            gen = from_file(weights, name)
            latents = gen.sample_latents(rng, args.n)
            c = latents[:, -COND_DIM:]
            conds = {"male": (c[:, 1] > 0.5).astype(int), "age": decode_ages(c)}
        images = gen.synthesize(latents)
        fig = figures(judges.read(images, name), real, train_desc, conds)
        fig["resolution"] = int(images.shape[1])
        fig["faces_per_s"] = round(speed(gen, latents[:320]), 1)
        results["generators"][name] = fig
        if len(images) >= 64:
            r = images.shape[1]
            write_image(
                Path(args.out).with_name(f"generator_{name}_sheet.png"),
                images[:64].reshape(8, 8, r, r, 3).transpose(0, 2, 1, 3, 4).reshape(8 * r, 8 * r, 3),
                overwrite=True,
            )
    base = results["generators"].get("dcgan_digiface")
    for name, fig in results["generators"].items():
        if base and name != "dcgan_digiface" and "fd_dlib" in fig:
            fig["fd_dlib_ratio_to_dcgan"] = round(fig["fd_dlib"] / base["fd_dlib"], 3)
            fig["fd_evaluator_ratio_to_dcgan"] = round(fig["fd_evaluator"] / base["fd_evaluator"], 3)
    write_json(args.out, results, overwrite=True)
    cols = [
        "detect",
        "fd_dlib",
        "fd_evaluator",
        "gender_match",
        "age_within_10",
        "age_mae",
        "same_person_pairs_0.6",
        "faces_per_s",
    ]
    print(f"{'':<28}" + "".join(f"{c:>14}" for c in cols) + f"{'nn p1/p5/p50':>22}")
    for name, fig in [("real held-out", real_fig), *results["generators"].items()]:
        nn = fig.get("nearest_training", {})
        print(
            f"{name:<28}"
            + "".join(f"{fig.get(c, '-')!s:>14}" for c in cols)
            + f"{nn.get('p1', '-')!s:>8}/{nn.get('p5', '-')}/{nn.get('p50', '-')}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
