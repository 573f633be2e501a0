"""Which face SR network: candidates trained on the same budget, judged on the same held-out faces.

    python benchmarks/sr_architectures.py [--epochs 10] [--out outputs/bench/sr_architectures.json]

Each candidate (architecture, filters, blocks) trains with `conf/train/sr/default.yaml`'s data, split,
crops and schedule, for `--epochs` epochs (checkpoints under outputs/checkpoints/sr_candidates/, so a
stopped run resumes), then is scored like the card: x4 Y PSNR/SSIM against bicubic on the held-out
faces, plus its parameter count and images/s on 64x64 inputs (one pass, batch 16, 2 cores).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from facepipe.config import SRConf
from facepipe.data.hr_faces import load_hr_faces
from facepipe.io import write_json
from facepipe.stages.train_sr import figures, network, predictor, split_sets
from facepipe.upscale.sr.train import train

CANDIDATES = [("edsr", 16, 4), ("edsr", 32, 8), ("wdsr_b", 32, 8)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="outputs/bench/sr_architectures.json")
    args = parser.parse_args()
    base = SRConf()
    train_sets, held = split_sets(load_hr_faces(base.data_dir), base)
    results = {
        "epochs": args.epochs,
        "steps_per_epoch": base.steps_per_epoch,
        "batch_size": base.batch_size,
        "held_out_faces": {k: len(v) for k, v in held.items()},
        "candidates": {},
    }
    for arch, filters, blocks in CANDIDATES:
        cfg = dataclasses.replace(base, architecture=arch, filters=filters, blocks=blocks, epochs=args.epochs)
        name = f"{arch}-{filters}f-{blocks}b"
        start = time.perf_counter()
        net = train(
            network(cfg),
            list(train_sets.values()),
            Path("outputs/checkpoints/sr_candidates") / name,
            cfg.scale,
            cfg.seed,
            cfg.epochs,
            cfg.steps_per_epoch,
            cfg.batch_size,
            cfg.patch,
            cfg.learning_rate,
            lambda m, name=name: print(f"{name}: {m}", file=sys.stderr),
        )
        train_s = time.perf_counter() - start
        run = predictor(net)
        x = np.random.default_rng(0).integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)
        run(x[:16])
        t = time.perf_counter()
        run(x)
        results["candidates"][name] = {
            "parameters": int(net.count_params()),
            "train_seconds": round(train_s),
            "images_per_s_64px": round(64 / (time.perf_counter() - t), 1),
            **figures(run, held, cfg.scale),
        }
        write_json(args.out, results, overwrite=True)
    print(f"\n{'candidate':<18}{'params':>9}{'img/s':>8}" + "".join(f"{s + ' PSNR':>15}{'gain':>7}" for s in held))
    for name, r in results["candidates"].items():
        print(
            f"{name:<18}{r['parameters']:>9}{r['images_per_s_64px']:>8}"
            + "".join(f"{r[s]['psnr']:>15.2f}{r[s]['gain_db']:>+7.2f}" for s in held)
        )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
