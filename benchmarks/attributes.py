"""Every figure of the attribute issue's "Done when", measured; prints tables and writes JSON.

    python benchmarks/attributes.py [--persons 200] [--out outputs/bench/attributes.json]
                                    [--skip classifiers,methods,editing,locking,presets]
                                    [--walk gradient|linear] [--metric image|latent]
                                    [--params params.yaml] [--attributes A,B] [--resume]

- classifiers: held-out balanced accuracy per attribute (guide and evaluator cards), how many
  mission attributes reach 0.80, gender (CelebA Male and UTKFace), age MAE, race.
- methods: directions by TL-GAN regression and by InterFaceGAN's SVM, fitted on the same
  `--method-samples` guide-scored latents, each judged by editing success (20 persons, 8 attributes).
- `--walk`: how edits move (edit.walk_gradient, the default, or TL-GAN's straight lines, edit.walk);
  `--metric`: for the gradient walk, steepest per image change (default) or per latent distance.
- editing: `--persons` seeded latents (never seen by any classifier: generated), each mission
  attribute edited towards "present" with the committed directions; success = the *evaluator*
  says present (probability > 0.5; for beard, No_Beard < 0.5); also how many were present before.
- locking: edits of 4 other attributes with lock=[Male, Young] and without, on `--lock-persons`
  persons; the evaluator's mean |change| of Male and Young.
- presets: `old_male` etc. through the generate stage for `--preset-seeds` seeds: does the
  evaluator agree with every target, tries taken; a sheet of the faces (`<out>.presets.png`: rows
  neutral (unedited), old_male, young_female, bearded_man_glasses, smiling_woman_blond; a column per seed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import yaml

from facepipe.attributes import classifier, directions
from facepipe.attributes.vocabulary import AGE, MISSION_ATTRIBUTES, OUTPUTS, value_range
from facepipe.config import ClassifiersConf, FacepipeConfig
from facepipe.config_loader import load
from facepipe.generate import sample_latents
from facepipe.generate.dcgan import build as build_generator
from facepipe.generate.edit import EditSettings, latent_scorer, walk, walk_gradient
from facepipe.generate.guide_field import GuideField
from facepipe.io import write_image, write_json
from facepipe.models.registry import ModelStore

PRESENT_IS_LOW = {"No_Beard"}  # the mission's "beard" is CelebA's No_Beard = 0
LOCK = ["Male", "Young"]
LOCK_EDITS = ["Eyeglasses", "Smiling", "Blond_Hair", "Bangs"]
METHOD_ATTRIBUTES = ["Male", "Eyeglasses", "Smiling", "Blond_Hair", "Bangs", "Bald", "No_Beard", "Heavy_Makeup"]


def _target(name: str) -> float:
    return 0.0 if name in PRESENT_IS_LOW else 1.0


def _present(name: str, p: np.ndarray) -> np.ndarray:
    return p < 0.5 if name in PRESENT_IS_LOW else p > 0.5


def classifier_figures(cfg: ClassifiersConf) -> dict:
    out = {}
    for member in ("guide", "evaluator"):
        card = classifier.load_member(cfg, member).card
        f = card["held_out_figures"]
        mission = {
            n: f["celeba"]["balanced_accuracy"][n] for n in MISSION_ATTRIBUTES if n in f["celeba"]["balanced_accuracy"]
        }
        out[member] = {
            "mission_balanced_accuracy": mission,
            "mission_at_least_0.80": sum(v >= 0.80 for v in mission.values()),
            "mission_attributes": len(mission),
            "gender_celeba": f["celeba"]["balanced_accuracy"]["Male"],
            "gender_utkface": f["utkface"]["balanced_accuracy"]["Male"],
            "age_mae_years": f["utkface"]["age_mae"],
            "race_balanced_accuracy": f["utkface"]["race_balanced_accuracy"],
            "all_balanced_accuracy": f["celeba"]["balanced_accuracy"],
        }
    print("\nclassifiers: held-out balanced accuracy (mission attributes)")
    print(f"{'attribute':<22} {'guide':>6} {'eval':>6}")
    for n in out["guide"]["mission_balanced_accuracy"]:
        print(
            f"{n:<22} {out['guide']['mission_balanced_accuracy'][n]:>6.3f} {out['evaluator']['mission_balanced_accuracy'][n]:>6.3f}"
        )
    for m in ("guide", "evaluator"):
        o = out[m]
        print(
            f"{m}: {o['mission_at_least_0.80']}/{o['mission_attributes']} >= 0.80; gender {o['gender_celeba']:.3f} (CelebA) "
            f"{o['gender_utkface']:.3f} (UTKFace); age MAE {o['age_mae_years']:.1f} y; race {o['race_balanced_accuracy']:.3f}"
        )
    return out


def walker(kind: str, d, score, metric: str = "image", ridge: float = 1e-3):
    """`(z, targets, lock) -> EditResult` for the chosen walk; `score` is a GuideField for gradient."""
    if kind == "gradient":
        settings = EditSettings(walk="gradient", metric=metric, ridge=ridge)
        return lambda z, targets, lock: walk_gradient(z, targets, lock, score, settings)
    return lambda z, targets, lock: walk(z, targets, lock, d, score, EditSettings(walk="linear"))


def editing(
    move, evaluate, generator, persons: int, seed: int, names, rows: dict | None = None, save=lambda rows: None
) -> dict:
    """Edit every attribute of `names` not in `rows` already (a resumed run's); `save(rows)` after each."""
    z = sample_latents(np.random.default_rng(seed), persons, generator.latent_dim)
    before_eval = evaluate(z)
    rows = dict(rows or {})
    for name in names:
        if name in rows:
            continue
        col = OUTPUTS.index(name)
        start = time.perf_counter()
        r = move(z, {name: _target(name)}, [])
        after_eval = evaluate(r.z)
        rows[name] = {
            "success": round(float(_present(name, after_eval[:, col]).mean()), 3),
            "present_before": round(float(_present(name, before_eval[:, col]).mean()), 3),
            "guide_reached": round(float(r.reached[name].mean()), 3),
            "mean_steps": round(float(r.steps[name].mean()), 1),
            "mean_latent_distance": round(float(np.linalg.norm(r.z - z, axis=1).mean()), 2),
            "seconds": round(time.perf_counter() - start, 1),
        }
        save(rows)
    return rows


def locking(move, score, evaluate, generator, persons: int, seed: int) -> dict:
    z = sample_latents(np.random.default_rng(seed), persons, generator.latent_dim)
    cols = [OUTPUTS.index(n) for n in LOCK]
    base, guide_base = evaluate(z)[:, cols], score(z)[:, cols]
    rows = {}
    for name in LOCK_EDITS:
        entry = {}
        for label, lock in (("locked", LOCK), ("free", [])):
            r = move(z, {name: _target(name)}, lock)
            delta = np.abs(evaluate(r.z)[:, cols] - base)
            entry[label] = {n: round(float(delta[:, i].mean()), 3) for i, n in enumerate(LOCK)}
            guide_delta = np.abs(score(r.z)[:, cols] - guide_base)
            entry[f"guide_{label}"] = {n: round(float(guide_delta[:, i].mean()), 3) for i, n in enumerate(LOCK)}
            entry[f"evaluator_present_{label}"] = round(
                float(_present(name, evaluate(r.z)[:, OUTPUTS.index(name)]).mean()), 3
            )
            entry[f"latent_distance_{label}"] = round(float(np.linalg.norm(r.z - z, axis=1).mean()), 2)
        entry["ratio_free_over_locked"] = round(
            float(np.mean(list(entry["free"].values())) / max(np.mean(list(entry["locked"].values())), 1e-6)), 2
        )
        rows[name] = entry
    return rows


def presets(workdir: Path, seeds: int, walk_kind: str, metric: str, params: FacepipeConfig) -> dict:
    from facepipe.cli import compose
    from facepipe.stages import generate
    from facepipe.tracking import Tracker

    evaluator = classifier.load_member(params.classifiers, "evaluator")
    out, faces = {}, {}
    for preset in ("neutral", "old_male", "young_female", "bearded_man_glasses", "smiling_woman_blond"):
        rows, faces[preset] = [], []
        for seed in range(seeds):
            cfg = load(
                compose(
                    [
                        f"attributes={preset}",
                        f"seed={seed}",
                        "tracking=none",
                        f"output_dir={workdir}",
                        f"directions.walk={walk_kind}",
                        f"directions.metric={metric}",
                        f"classifiers.dir={params.classifiers.dir}",
                        f"classifiers.guide.width={params.classifiers.guide.width}",
                        f"classifiers.evaluator.width={params.classifiers.evaluator.width}",
                        f"directions.dir={params.directions.dir}",
                    ]
                )
            )
            models = ModelStore(cfg.paths.model_cache, progress=False)
            with Tracker(cfg.tracking, "bench") as t:
                try:
                    person = generate.run(cfg, workdir, models, t)
                except Exception as e:  # an unreachable target is a figure here, not a crash
                    rows.append({"seed": seed, "error": str(e)[:200]})
                    faces[preset].append(None)
                    continue
            faces[preset].append(person.face)
            if preset == "neutral":  # no targets: the unedited faces, for the sheet
                continue
            e = evaluator(person.face[None])[0]
            met = all((e[OUTPUTS.index(n)] > 0.5) == (v > 0.5) for n, v in cfg.attributes.targets.items())
            rows.append(
                {
                    "seed": seed,
                    "tries": person.tries,
                    "evaluator_agrees": bool(met),
                    "evaluator": {n: round(float(e[OUTPUTS.index(n)]), 3) for n in cfg.attributes.targets},
                }
            )
        if preset != "neutral":
            out[preset] = {
                "seeds": rows,
                "evaluator_agrees": sum(r.get("evaluator_agrees", False) for r in rows),
                "errors": sum("error" in r for r in rows),
            }
    return out, faces


def face_sheet(rows: dict[str, list], tile: int = 128, gap: int = 4) -> np.ndarray:
    """One row of faces per preset (in order), one column per seed, on white; a face that failed is blank."""
    n_cols = max(len(r) for r in rows.values())
    sheet = np.full((gap + len(rows) * (tile + gap), gap + n_cols * (tile + gap), 3), 255, np.uint8)
    for i, row in enumerate(rows.values()):
        for j, face in enumerate(row):
            if isinstance(face, np.ndarray):
                y, x = gap + i * (tile + gap), gap + j * (tile + gap)
                sheet[y : y + tile, x : x + tile] = cv2.resize(face, (tile, tile), interpolation=cv2.INTER_NEAREST)
    return sheet


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1000, help="latents for editing (not the directions' seed)")
    parser.add_argument("--method-samples", type=int, default=5000)
    parser.add_argument("--lock-persons", type=int, default=100)
    parser.add_argument("--preset-seeds", type=int, default=5)
    parser.add_argument("--skip", default="")
    parser.add_argument("--walk", choices=("gradient", "linear"), default="gradient")
    parser.add_argument("--metric", choices=("image", "latent"), default=None, help="default: the params file's")
    parser.add_argument(
        "--attributes",
        default="",
        help="comma list: edit only these mission attributes, in this order "
        "(to split the editing section across processes)",
    )
    parser.add_argument(
        "--params",
        default="params.yaml",
        help="the classifiers and directions measured (a "
        "`facepipe params` file; e.g. candidates before they are committed)",
    )
    parser.add_argument("--out", default="outputs/bench/attributes.json")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="editing: keep the attributes `--out` already has (same metric and persons) and edit only the rest",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    models = ModelStore(os.environ.get("FACEPIPE_MODEL_CACHE", "models/cache"), progress=False)
    generator = build_generator(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=256), models)
    params = load(yaml.safe_load(Path(args.params).read_text()))
    guide = classifier.load_member(params.classifiers, "guide")
    evaluator = classifier.load_member(params.classifiers, "evaluator")
    linear_score, evaluate = latent_scorer(generator, guide), latent_scorer(generator, evaluator)
    score = GuideField(generator, guide) if args.walk == "gradient" else linear_score
    committed = directions.load(Path(params.directions.dir) / f"{generator.name}.npz")
    binary = [n for n in MISSION_ATTRIBUTES if n != AGE]
    metric = args.metric or params.directions.metric
    move = walker(args.walk, committed, score, metric, params.directions.metric_ridge)
    if args.attributes:
        unknown = sorted(set(args.attributes.split(",")) - set(binary))
        if unknown:
            parser.error(f"--attributes {unknown} are not mission attributes; valid: {', '.join(binary)}")
        binary = list(dict.fromkeys(args.attributes.split(",")))  # in the order given
    # read before anything below rewrites `--out`
    earlier = json.loads(Path(args.out).read_text()) if args.resume and Path(args.out).is_file() else {}
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "directions": committed.meta,
        "walk": args.walk,
        "metric": metric,
        "params": args.params,
        "classifiers_dir": params.classifiers.dir,
    }
    if earlier.get("metric") == metric and earlier.get("editing", {}).get("persons") == args.persons:
        results["editing"] = earlier["editing"]  # kept in every rewrite of `--out` until editing resumes
    if "classifiers" not in skip:
        results["classifiers"] = classifier_figures(params.classifiers)
    write_json(args.out, results, overwrite=True)  # after every part: a stopped run keeps what it measured
    if "methods" not in skip:
        dc = params.directions
        z = sample_latents(np.random.default_rng(dc.seed), args.method_samples, generator.latent_dim)
        scores = latent_scorer(generator, guide, batch=500)(z)
        results["methods"] = {}
        for method in ("regression", "svm"):
            d = directions.fit(z, scores, list(OUTPUTS), method, [value_range(n) for n in OUTPUTS], dc.seed)
            rows = editing(walker("linear", d, linear_score), evaluate, generator, 20, args.seed + 1, METHOD_ATTRIBUTES)
            results["methods"][method] = {
                "mean_success": round(float(np.mean([r["success"] for r in rows.values()])), 3),
                "mean_guide_reached": round(float(np.mean([r["guide_reached"] for r in rows.values()])), 3),
                "mean_steps": round(float(np.mean([r["mean_steps"] for r in rows.values()])), 1),
                "rows": rows,
            }
            m = results["methods"][method]
            print(
                f"method {method}: evaluator success {m['mean_success']}, guide reached {m['mean_guide_reached']}, "
                f"mean steps {m['mean_steps']} (20 persons, {len(METHOD_ATTRIBUTES)} attributes, {args.method_samples} samples)"
            )
    write_json(args.out, results, overwrite=True)  # after every part: a stopped run keeps what it measured
    if "editing" not in skip:

        def save(rows: dict) -> None:  # after every attribute: a stopped run resumes with --resume
            results["editing"] = {
                "persons": args.persons,
                "rows": rows,
                "at_least_0.80": sum(r["success"] >= 0.8 for r in rows.values()),
            }
            write_json(args.out, results, overwrite=True)

        done = results.get("editing", {}).get("rows", {})
        rows = editing(move, evaluate, generator, args.persons, args.seed, binary, done, save)
        save(rows)
        print(f"\nediting towards present, {args.persons} persons: evaluator says present")
        print(f"{'attribute':<22} {'success':>8} {'before':>7} {'guide':>6} {'steps':>6}")
        for n, r in rows.items():
            print(
                f"{n:<22} {r['success']:>8.2f} {r['present_before']:>7.2f} {r['guide_reached']:>6.2f} {r['mean_steps']:>6.1f}"
            )
        print(f"{results['editing']['at_least_0.80']} attributes >= 0.80")
    write_json(args.out, results, overwrite=True)  # after every part: a stopped run keeps what it measured
    if "locking" not in skip:
        results["locking"] = locking(move, score, evaluate, generator, args.lock_persons, args.seed + 2)
        print(f"\nlocking {LOCK}: evaluator mean |change|, locked vs free")
        for n, r in results["locking"].items():
            print(
                f"{n:<14} evaluator: locked {r['locked']} free {r['free']} ratio {r['ratio_free_over_locked']}; "
                f"guide: locked {r['guide_locked']} free {r['guide_free']}"
            )
    write_json(args.out, results, overwrite=True)  # after every part: a stopped run keeps what it measured
    if "presets" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            results["presets"], faces = presets(Path(tmp), args.preset_seeds, args.walk, metric, params)
        sheet = Path(args.out).with_suffix(".presets.png")
        write_image(sheet, face_sheet(faces), overwrite=True)
        results["presets_sheet"] = {"file": str(sheet), "rows": list(faces), "columns": "seeds 0.."}
        for p, r in results["presets"].items():
            print(
                f"preset {p}: evaluator agrees on {r['evaluator_agrees']}/{args.preset_seeds} seeds, {r['errors']} errors"
            )
    write_json(args.out, results, overwrite=True)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
