"""fer's reading of our expressions on CelebA faces: the tuning set (the two test photos are not).

    python benchmarks/expression_tuning.py [--faces 20] [--smiling] [--wide] [--shading-gain 3.5]
                                           [--data ../shared/data] [--out outputs/bench/expression_tuning.json]

Takes the first `--faces` CelebA faces from image 5001 on (past the images 1-3000 that gave the
neutral-mouth targets) that are neutral (`Smiling` and `Mouth_Slightly_Open` both -1; with
`--smiling`, smiling ones instead), scaled x2, renders each expression at intensity 1 at yaw 0 and
+-15 (with `--wide`, at the 9 poses yaw -30 / 0 / 30 x pitch -20 / 0 / 20: turned heads, as the
photos' 25-pose figure has them), and counts fer's top labels. It is the set on which the
expression moves and `reposition.shading_gain` are chosen: the gain is the smallest that reads about as
well as the best, short of where a smile looks painted on and an angry brow turns into a black bar.
Needs `../shared/data` (research-only data; never committed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tarfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from facepipe.config import RepositionConf
from facepipe.face import emotion
from facepipe.face.landmarks import NoFaceError, build
from facepipe.io import write_json
from facepipe.models.registry import ModelStore
from facepipe.reposition.mesh.repositioner import build as build_mesh
from facepipe.reposition.plan import Shot

FIRST_IMAGE = 5001
FRONTAL_POSES = [(0.0, 0.0), (15.0, 0.0), (-15.0, 0.0)]  # (yaw, pitch)
WIDE_POSES = [(float(y), float(p)) for y in (-30, 0, 30) for p in (-20, 0, 20)]


def celeba_faces(data: Path, n: int, smiling: bool) -> list[np.ndarray]:
    lines = (data / "celeba-10k-attributes.txt").read_text().splitlines()
    names = lines[1].split()
    smile, mouth = names.index("Smiling"), names.index("Mouth_Slightly_Open")
    wanted = []
    for line in lines[2:]:
        file, *values = line.split()
        if int(file.split(".")[0]) < FIRST_IMAGE:
            continue
        values = list(map(int, values))
        if (values[smile] == 1) if smiling else (values[smile] == -1 and values[mouth] == -1):
            wanted.append(file)
        if len(wanted) == n:
            break
    faces = []
    with tarfile.open(data / "celeba-10k-89x109.tar") as tar:
        for file in wanted:
            with tar.extractfile(f"celebA/{file}") as f, Image.open(f) as im:
                rgb = np.asarray(im.convert("RGB"))
            faces.append(cv2.resize(rgb, (rgb.shape[1] * 2, rgb.shape[0] * 2), interpolation=cv2.INTER_CUBIC))
    return faces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=20)
    parser.add_argument("--smiling", action="store_true")
    parser.add_argument("--wide", action="store_true", help="9 poses, yaw +-30 and pitch +-20, not 3 frontal ones")
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument(
        "--shading-gain",
        type=float,
        default=RepositionConf.shading_gain,
        help="learned expression shading x this (0: geometry only)",
    )
    parser.add_argument("--out", default="outputs/bench/expression_tuning.json")
    args = parser.parse_args()
    models = ModelStore(os.environ.get("FACEPIPE_MODEL_CACHE", "models/cache"), progress=False)
    landmarker, fer = build(models), emotion.build(models)
    repositioner = build_mesh(RepositionConf(shading_gain=args.shading_gain), models)
    tally = {e: Counter() for e in emotion.EXPECTED_EMOTION}
    poses = WIDE_POSES if args.wide else FRONTAL_POSES
    for image in celeba_faces(Path(args.data), args.faces, args.smiling):
        try:
            face = repositioner.prepare(image)
        except NoFaceError:
            continue
        for expr in tally:
            for yaw, pitch in poses:
                out = repositioner.render(face, Shot("tune", "random", yaw, pitch, expression=expr, intensity=1.0))
                try:
                    tally[expr][fer.top(out, landmarker.mesh(out)[0])] += 1
                except NoFaceError:
                    tally[expr]["no face"] += 1
    hits = sum(t[emotion.EXPECTED_EMOTION[e]] for e, t in tally.items())
    n = sum(sum(t.values()) for t in tally.values())
    result = {
        "faces": args.faces,
        "smiling": args.smiling,
        "poses": poses,
        "shading_gain": args.shading_gain,
        "fer_match_rate": round(hits / n, 3),
        "n": n,
        "fer_top_labels": {e: dict(t.most_common()) for e, t in tally.items()},
    }
    print(f"fer match rate {result['fer_match_rate']} over {n} renders")
    for expr, labels in result["fer_top_labels"].items():
        print(f"  {expr:<9} {labels}")
    write_json(args.out, result, overwrite=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
