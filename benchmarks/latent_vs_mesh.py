"""The latent repositioner beside the mesh backend, on the same generated persons and figures.

    python benchmarks/latent_vs_mesh.py [--faces 10] [--out outputs/bench/latent_vs_mesh.json]

For `--faces` generated persons (seed 7's stream, accepted as the pipeline accepts sources), both
backends render the grid -30..30 by 15 (yaw x pitch) and the five fer-scored expressions at the
frontal pose; reported per backend: median |measured - requested| yaw and pitch (renders that can
be landmarked), how many could not be, dlib identity distance to the source (fraction < 0.5, median)
and fer's top-label match rate (smile/laugh -> happy, surprise, sad, angry), and ms per image.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

import numpy as np

from facepipe.cli import compose
from facepipe.config_loader import load
from facepipe.evaluate import identity
from facepipe.face import emotion
from facepipe.face.landmarks import NoFaceError, build, usable
from facepipe.generate import sample_latents
from facepipe.io import write_json
from facepipe.models.registry import ModelStore
from facepipe.reposition.latent import build as build_latent
from facepipe.reposition.mesh.repositioner import build as build_mesh
from facepipe.reposition.plan import Shot


def sources(generator, models, n: int):
    ok = usable(models, 20.0)
    z = sample_latents(np.random.default_rng(7), 4 * n, generator.latent_dim)
    faces = generator.synthesize(z)
    keep = [i for i, f in enumerate(faces) if ok(f)][:n]
    return z[keep], faces[keep]


def measure(backend, latents, faces, landmarker, encoder, fer) -> dict:
    errors, lost, dists, renders, seconds = [], 0, [], 0, 0.0
    tally = Counter()
    hits = 0
    for z, face in zip(latents, faces):
        prepared = backend.prepare(face, z)
        ref = encoder(face, landmarker.mesh(face)[0])
        for yaw in range(-30, 31, 15):
            for pitch in range(-30, 31, 15):
                t = time.perf_counter()
                out = backend.render(prepared, Shot("b", "grid", float(yaw), float(pitch)))
                seconds += time.perf_counter() - t
                renders += 1
                try:
                    points = landmarker.mesh(out)[0]
                except NoFaceError:
                    lost += 1
                    dists.append(np.inf)
                    continue
                got = landmarker.pose(out)
                errors.append((abs(got.yaw - yaw), abs(got.pitch - pitch)))
                dists.append(identity.distance(ref, encoder(out, points)))
        for expr, expected in emotion.EXPECTED_EMOTION.items():
            out = backend.render(prepared, Shot("b", "random", 0.0, 0.0, expression=expr, intensity=1.0))
            try:
                label = fer.top(out, landmarker.mesh(out)[0])
            except NoFaceError:
                label = "no face"
            tally[f"{expr}->{label}"] += 1
            hits += label == expected
    e, d = np.array(errors), np.array(dists)
    n_expr = len(latents) * len(emotion.EXPECTED_EMOTION)
    return {
        "renders": renders,
        "not_landmarkable": lost,
        "ms_per_render": round(1000 * seconds / renders, 1),
        "yaw_median_abs_err": round(float(np.median(e[:, 0])), 2),
        "pitch_median_abs_err": round(float(np.median(e[:, 1])), 2),
        "identity_fraction_below_0.5": round(float((d < identity.SAME_PERSON_BELOW).mean()), 3),
        "identity_median": round(float(np.median(d)), 3),
        "fer_match_rate": round(hits / n_expr, 3),
        "fer_labels": dict(tally.most_common()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=10)
    parser.add_argument("--out", default="outputs/bench/latent_vs_mesh.json")
    args = parser.parse_args()
    cfg = load(compose(["tracking=none", "reposition=latent"]))
    models = ModelStore(cfg.paths.model_cache, progress=False)
    latent_backend = build_latent(cfg.reposition, models, cfg)
    mesh_backend = build_mesh(load(compose(["tracking=none"])).reposition, models)
    landmarker, encoder, fer = build(models), identity.build(models), emotion.build(models)
    latents, faces = sources(latent_backend.generator, models, args.faces)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "faces": len(faces),
        "grid": "yaw, pitch in -30..30 step 15",
    }
    for name, backend in (("mesh", mesh_backend), ("latent", latent_backend)):
        results[name] = measure(backend, latents, faces, landmarker, encoder, fer)
    keys = (
        "yaw_median_abs_err",
        "pitch_median_abs_err",
        "not_landmarkable",
        "identity_fraction_below_0.5",
        "identity_median",
        "fer_match_rate",
        "ms_per_render",
    )
    print(f"{'figure':<28} {'mesh':>8} {'latent':>8}")
    for k in keys:
        print(f"{k:<28} {results['mesh'][k]:>8} {results['latent'][k]:>8}")
    write_json(args.out, results, overwrite=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
