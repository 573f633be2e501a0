"""Every figure of the reposition issue's "Done when", measured; prints tables and writes JSON.

    python benchmarks/reposition.py [--faces 20] [--step 15] [--out outputs/bench/reposition.json]
                                    [--skip pose,identity,expressions,speed]

- pose: the two package photos and `--faces` generated faces (drawn as the pipeline draws them:
  landmarkable, within reposition.max_source_angle) rendered at every (yaw, pitch) in -60..60 by
  `--step`, at roll 0, landmarked again; median |measured - requested| for |yaw|,|pitch| <= 30 and
  <= 60, and how many renders could not be landmarked (not scored, counted).
- identity: dlib distance between each photo and its renders for |yaw|,|pitch| <= 30 (step 5),
  fraction < 0.5 and mean distance per |yaw| and per |pitch|; with and without mouth neutralising.
- expressions: fer's top label on each photo at intensity 1 for smile/laugh/surprise/sad/angry at
  five poses (frontal, yaw +-15, pitch +-10), and at 25 (yaw -30..30 by 15 x pitch -20..20 by 10;
  steadier: the 5-pose rate moves by 10 points with sub-pixel changes of the renders), also per photo; eye
  openness for blink and wink (frontal).
- speed: the reposition stage for one generated person, max_angle=60 + 100 random shots (725
  images, 64 px, labels measured), in a fresh process with the default `reposition.workers`: images/s,
  the stage process's peak RSS and the largest render worker's; and the same with max_angle=20 (181
  images) to show memory does not grow with the number of images.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from facepipe.config import RepositionConf
from facepipe.data.photos import PHOTOS
from facepipe.evaluate import identity
from facepipe.face import emotion, expression
from facepipe.face.landmarks import NoFaceError, build, usable
from facepipe.generate import sample_latents
from facepipe.generate.dcgan import build as build_generator
from facepipe.io import write_json
from facepipe.models.registry import ModelStore
from facepipe.reposition.mesh.repositioner import build as build_mesh
from facepipe.reposition.plan import Shot


def _shot(yaw: float, pitch: float, **kw) -> Shot:
    return Shot("bench", "grid", float(yaw), float(pitch), **kw)


def generated_faces(models: ModelStore, n: int) -> list[np.ndarray]:
    """The first `n` faces of seed 7's stream that the pipeline would accept as sources."""
    generator = build_generator(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=64), models)
    ok = usable(models, RepositionConf().max_source_angle)
    faces = [
        f for f in generator.synthesize(sample_latents(np.random.default_rng(7), 4 * n, generator.latent_dim)) if ok(f)
    ]
    return faces[:n]


def pose(images: list[np.ndarray], repositioner, landmarker, step: int) -> dict:
    rows, lost, render_s, renders, lost_at = [], 0, 0.0, 0, []
    for image in images:
        face = repositioner.prepare(image)
        for yaw in range(-60, 61, step):
            for pitch in range(-60, 61, step):
                t = time.perf_counter()
                out = repositioner.render(face, _shot(yaw, pitch))
                render_s += time.perf_counter() - t
                renders += 1
                got = landmarker.pose(out)
                if got is None:
                    lost += 1
                    lost_at.append((yaw, pitch))
                    continue
                rows.append((yaw, pitch, abs(got.yaw - yaw), abs(got.pitch - pitch)))
    r = np.array(rows)
    out = {
        "sources": len(images),
        "renders": renders,
        "not_landmarkable": lost,
        "ms_per_render": round(1000 * render_s / renders, 1),
    }
    for limit in (30, 60):
        sel = (np.abs(r[:, 0]) <= limit) & (np.abs(r[:, 1]) <= limit)
        lost_here = sum(abs(y) <= limit and abs(p) <= limit for y, p in lost_at)
        out[f"le{limit}"] = {
            "n": int(sel.sum()),
            "not_landmarkable": lost_here,
            "yaw_median_abs_err": round(float(np.median(r[sel, 2])), 2),
            "pitch_median_abs_err": round(float(np.median(r[sel, 3])), 2),
        }
    return out


def identity_figures(models: ModelStore, landmarker) -> dict:
    encoder = identity.build(models)
    result = {}
    for neutralize in (True, False):
        repositioner = build_mesh(RepositionConf(neutralize=neutralize), models)
        per_photo, everything = {}, []
        for name, load in PHOTOS.items():
            image = load()
            source = encoder(image, landmarker.mesh(image)[0])
            face = repositioner.prepare(image)
            dists, by_yaw, by_pitch, lost = [], defaultdict(list), defaultdict(list), 0
            for yaw in range(-30, 31, 5):
                for pitch in range(-30, 31, 5):
                    out = repositioner.render(face, _shot(yaw, pitch))
                    try:
                        d = identity.distance(source, encoder(out, landmarker.mesh(out)[0]))
                    except NoFaceError:
                        lost += 1
                        d = float("inf")  # an output with no findable face counts as a miss
                    dists.append(d)
                    by_yaw[abs(yaw)].append(d)
                    by_pitch[abs(pitch)].append(d)
            d = np.array(dists)
            everything.extend(dists)
            per_photo[name] = {
                "n": len(d),
                "not_landmarkable": lost,
                "fraction_below_0.5": round(float((d < identity.SAME_PERSON_BELOW).mean()), 3),
                "median": round(float(np.median(d)), 3),
                "mean_by_abs_yaw": {k: round(float(np.mean(np.minimum(v, 2.0))), 3) for k, v in sorted(by_yaw.items())},
                "mean_by_abs_pitch": {
                    k: round(float(np.mean(np.minimum(v, 2.0))), 3) for k, v in sorted(by_pitch.items())
                },
            }
        result["neutralize" if neutralize else "as_is"] = {
            "photos": per_photo,
            "fraction_below_0.5": round(float((np.array(everything) < identity.SAME_PERSON_BELOW).mean()), 3),
        }
    return result


FER_POSES = [(0, 0), (15, 0), (-15, 0), (0, 10), (0, -10)]
# 25 poses: the 5-pose figure swings by 10 points when a render changes by a fraction of a pixel
# (fer's top label flips between close scores), so the wider set is the steadier reading
FER_POSES_WIDE = [(y, p) for y in (-30, -15, 0, 15, 30) for p in (-20, -10, 0, 10, 20)]


def _fer_tally(faces: dict, repositioner, fer, landmarker, poses: list) -> dict:
    tally = {e: Counter() for e in emotion.EXPECTED_EMOTION}
    photo_hits = Counter()
    for name, face in faces.items():
        for expr, expected in emotion.EXPECTED_EMOTION.items():
            for yaw, pitch in poses:
                out = repositioner.render(face, _shot(yaw, pitch, expression=expr, intensity=1.0))
                try:
                    top = fer.top(out, landmarker.mesh(out)[0])
                except NoFaceError:
                    top = "no face"
                tally[expr][top] += 1
                photo_hits[name] += top == expected
    hits = sum(t[emotion.EXPECTED_EMOTION[e]] for e, t in tally.items())
    n = sum(sum(t.values()) for t in tally.values())
    per_photo = len(poses) * len(emotion.EXPECTED_EMOTION)
    return {
        "fer_match_rate": round(hits / n, 3),
        "n": n,
        "poses": poses,
        "fer_match_rate_by_photo": {name: round(photo_hits[name] / per_photo, 3) for name in faces},
        "fer_top_labels": {e: dict(t.most_common()) for e, t in tally.items()},
    }


def expression_figures(models: ModelStore, landmarker) -> dict:
    fer = emotion.build(models)
    repositioner = build_mesh(RepositionConf(), models)
    faces = {name: repositioner.prepare(load()) for name, load in PHOTOS.items()}
    eyes = {}
    for name, face in faces.items():
        eyes[name] = {}
        for expr in ("neutral", "blink", "wink"):
            out = repositioner.render(face, _shot(0, 0, expression=expr, intensity=1.0 if expr != "neutral" else 0.0))
            right, left = expression.geometry(landmarker(out).points).eye_openness
            eyes[name][expr] = {"right": round(right, 3), "left": round(left, 3)}
    return {
        **_fer_tally(faces, repositioner, fer, landmarker, FER_POSES),
        "wide": _fer_tally(faces, repositioner, fer, landmarker, FER_POSES_WIDE),
        "eye_openness": eyes,
        "eye_closed_below": expression.EYE_CLOSED_BELOW,
    }


_STAGE_CHILD = """
import resource, sys, time
from pathlib import Path
from facepipe.cli import compose
from facepipe.config_loader import load
from facepipe.models.registry import ModelStore
from facepipe.stages import generate, reposition
from facepipe.face.landmarks import usable
from facepipe.tracking import Tracker
cfg = load(compose(sys.argv[2:]))
models = ModelStore(cfg.paths.model_cache, progress=False)
with Tracker(cfg.tracking, "bench", {}) as t:
    person = generate.run(cfg, Path(cfg.output_dir), models, t, usable(models, cfg.reposition.max_source_angle))
    start = time.perf_counter()
    result = reposition.run(cfg, person.face, person.dir, models, t, latent=person.latent)
    seconds = time.perf_counter() - start
print(len(result.files), seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, file=open(sys.argv[1], "w"))
"""


def speed(workdir: Path) -> dict:
    out = {}
    for max_angle in (20, 60):
        report = workdir / f"speed{max_angle}.txt"
        cmd = [
            sys.executable,
            "-c",
            _STAGE_CHILD,
            str(report),
            "seed=0",
            "tracking=none",
            f"output_dir={workdir / str(max_angle)}",
            f"sweep.max_angle={max_angle}",
            "sweep.n_random=100",
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        n, seconds, rss, worker_rss = report.read_text().split()
        out[f"max_angle_{max_angle}"] = {
            "images": int(n),
            "seconds": round(float(seconds), 2),
            "images_per_s": round(int(n) / float(seconds), 1),
            "peak_rss_mib": round(float(rss), 1),
            "worker_peak_rss_mib": round(float(worker_rss), 1),
            "workers": RepositionConf().workers,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=20)
    parser.add_argument("--step", type=int, default=15)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip")
    parser.add_argument("--out", default="outputs/bench/reposition.json")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    models = ModelStore("models/cache", progress=False)
    landmarker = build(models)
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    if "pose" not in skip:
        repositioner = build_mesh(RepositionConf(), models)
        results["pose"] = {
            "photos": pose([load() for load in PHOTOS.values()], repositioner, landmarker, args.step),
            "generated": pose(generated_faces(models, args.faces), repositioner, landmarker, args.step),
        }
        print(f"\npose (grid -60..60 step {args.step}): median |measured - requested|, degrees")
        print(
            f"{'set':<10} {'sources':>7} {'ms':>6} {'<=30: n':>8} {'lost':>5} {'yaw':>5} {'pitch':>5} "
            f"{'<=60: n':>8} {'lost':>5} {'yaw':>5} {'pitch':>5}"
        )
        for name, r in results["pose"].items():
            a, b = r["le30"], r["le60"]
            print(
                f"{name:<10} {r['sources']:>7} {r['ms_per_render']:>6} {a['n']:>8} {a['not_landmarkable']:>5} "
                f"{a['yaw_median_abs_err']:>5} {a['pitch_median_abs_err']:>5} {b['n']:>8} {b['not_landmarkable']:>5} "
                f"{b['yaw_median_abs_err']:>5} {b['pitch_median_abs_err']:>5}"
            )
    if "identity" not in skip:
        results["identity"] = identity_figures(models, landmarker)
        print("\nidentity (dlib distance, |yaw|,|pitch| <= 30 step 5): fraction < 0.5, median")
        for mode, r in results["identity"].items():
            for name, p in r["photos"].items():
                print(
                    f"{mode:<11} {name:<13} {p['fraction_below_0.5']:>6} {p['median']:>6}  by |yaw| "
                    f"{p['mean_by_abs_yaw']}  by |pitch| {p['mean_by_abs_pitch']}"
                )
    if "expressions" not in skip:
        results["expressions"] = r = expression_figures(models, landmarker)
        print(f"\nexpressions: fer match rate {r['fer_match_rate']} over {r['n']} renders")
        for expr, labels in r["fer_top_labels"].items():
            print(f"  {expr:<9} {labels}")
        w = r["wide"]
        print(
            f"  wide ({len(w['poses'])} poses, yaw +-30, pitch +-20): fer match rate {w['fer_match_rate']} over {w['n']}"
            f" (by photo {w['fer_match_rate_by_photo']})"
        )
        for expr, labels in w["fer_top_labels"].items():
            print(f"  {expr:<9} {labels}")
        print(f"  eye openness (closed below {r['eye_closed_below']}): {r['eye_openness']}")
    if "speed" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            results["speed"] = speed(Path(tmp))
        print("\nspeed (reposition stage, one generated person, 64 px, labels measured)")
        for key, s in results["speed"].items():
            print(
                f"  {key:<13} {s['images']:>4} images {s['seconds']:>7} s {s['images_per_s']:>6} img/s "
                f"peak RSS {s['peak_rss_mib']} MiB (each of {s['workers']} render workers at most "
                f"{s['worker_peak_rss_mib']} MiB)"
            )
    write_json(args.out, results, overwrite=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
