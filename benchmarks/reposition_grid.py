"""Pose accuracy of the mesh warp on a yaw x pitch grid (issue 3, work in progress).

    python benchmarks/reposition_grid.py [--faces 24] [--step 15] [--out outputs/bench/reposition_grid.json]

For the two package-shipped photos and `--faces` generated faces (seed 7): landmark the source,
render every (yaw, pitch) in -60..60 by `--step` at the source's roll, landmark each render again and
compare the measured change with the requested one. Prints a table and writes JSON. Renders whose
face cannot be landmarked again are counted, not scored.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from photos import PHOTOS  # noqa: E402

from facepipe.evaluate.pose import Pose, face_frame, head_pose  # noqa: E402
from facepipe.generate import sample_latents  # noqa: E402
from facepipe.generate.dcgan import build as build_generator  # noqa: E402
from facepipe.io import publish_bytes  # noqa: E402
from facepipe.models.registry import ModelStore  # noqa: E402
from facepipe.reposition.landmarks import NoFaceError, build  # noqa: E402
from facepipe.reposition.mesh_warp import background_plate, head_model, pose_change, rotate_head  # noqa: E402


def measure(images: list[np.ndarray], landmarker, step: int) -> dict:
    rows, failed, sources, render_s = [], 0, 0, 0.0
    for image in images:
        try:
            face = landmarker(image)
        except NoFaceError:
            continue
        sources += 1
        src, frame = head_pose(face.points), face_frame(face.points)
        model = head_model(face.points, image.shape[:2])
        plate = background_plate(image, model)
        for yaw in range(-60, 61, step):
            for pitch in range(-60, 61, step):
                t = time.perf_counter()
                out = rotate_head(image, model, pose_change(frame, Pose(yaw, pitch, src.roll)), plate)
                render_s += time.perf_counter() - t
                try:
                    got = head_pose(landmarker(out).points)
                except NoFaceError:
                    failed += 1
                    continue
                rows.append((yaw, pitch, abs(got.yaw - yaw), abs(got.pitch - pitch)))
    r = np.array(rows)
    within30 = (np.abs(r[:, 0]) <= 30) & (np.abs(r[:, 1]) <= 30)
    renders = sources * len(range(-60, 61, step)) ** 2
    return {"sources": sources, "renders": renders, "not_landmarkable": failed,
            "ms_per_render": round(1000 * render_s / renders, 1),
            "median_abs_err_within_30": {"yaw": round(float(np.median(r[within30, 2])), 2),
                                         "pitch": round(float(np.median(r[within30, 3])), 2)},
            "median_abs_err_within_60": {"yaw": round(float(np.median(r[:, 2])), 2),
                                         "pitch": round(float(np.median(r[:, 3])), 2)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=24)
    parser.add_argument("--step", type=int, default=15)
    parser.add_argument("--out", default="outputs/bench/reposition_grid.json")
    args = parser.parse_args()
    models = ModelStore("models/cache", progress=False)
    landmarker = build(models)
    generator = build_generator(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=64), models)
    faces = list(generator.synthesize(sample_latents(np.random.default_rng(7), args.faces, generator.latent_dim)))
    results = {"photos": measure([load() for load in PHOTOS.values()], landmarker, args.step),
               "generated": measure(faces, landmarker, args.step)}
    print(f"{'set':<10} {'sources':>7} {'renders':>7} {'lost':>5} {'ms':>6} {'yaw<=30':>8} {'pitch<=30':>9} "
          f"{'yaw<=60':>8} {'pitch<=60':>9}")
    for name, r in results.items():
        a, b = r["median_abs_err_within_30"], r["median_abs_err_within_60"]
        print(f"{name:<10} {r['sources']:>7} {r['renders']:>7} {r['not_landmarkable']:>5} {r['ms_per_render']:>6} "
              f"{a['yaw']:>8} {a['pitch']:>9} {b['yaw']:>8} {b['pitch']:>9}")
    publish_bytes(args.out, (json.dumps(results, indent=2) + "\n").encode(), overwrite=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
