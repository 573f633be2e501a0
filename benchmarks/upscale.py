"""Upscalers end to end and in throughput: `facepipe bench upscale [--n 256] [--out outputs/bench/bench.json]`.

1. End to end, per upscaler: `python -m facepipe` for one person in a fresh process (so TensorFlow
   start-up and model loading count): wall time and that process's peak RSS (from `os.wait4`).
2. Throughput, per upscaler: n generated 64x64 faces upscaled to 1024x1024 in one warm process;
   images/s for the upscaler alone, and for the upscale stage as the pipeline runs it (read PNG,
   upscale, encode PNG, atomic write).
Prints a table and writes JSON with a description of the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "end_to_end", "throughput"]

UPSCALERS = ("bilinear", "bicubic", "lanczos", "fsrcnn", "face_sr")


def end_to_end(upscaler: str, workdir: Path) -> dict:
    """One person via the CLI in a child process: wall seconds and peak RSS in MiB."""
    # the face alone (a one-image dataset): the reposition stage has its own benchmark
    cmd = [
        sys.executable,
        "-m",
        "facepipe",
        "seed=0",
        f"upscaler={upscaler}",
        f"output_dir={workdir / upscaler}",
        "tracking=none",
        "sweep.max_angle=0",
        "sweep.n_random=0",
        f"hydra.run.dir={workdir / 'hydra' / upscaler}",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def throughput(cfg: object, src_dir: Path, faces: np.ndarray, models: object, workdir: Path) -> dict:
    """images/s of the upscaler alone on `faces`, and of the whole upscale stage (read, upscale, PNG write)."""
    from facepipe.backends import load_factory
    from facepipe.stages import upscale
    from facepipe.tracking import Tracker

    ucfg = cfg.upscaler
    upscaler = load_factory(ucfg._target_, "upscaler")(ucfg, models)
    upscaler.upscale(faces[:2])  # warm-up (graph tracing) is not throughput
    start = time.perf_counter()
    for i in range(0, len(faces), ucfg.batch_size):
        upscaler.upscale(faces[i : i + ucfg.batch_size])
    alone = time.perf_counter() - start
    with Tracker(cfg.tracking, "bench") as tracker:
        stage = upscale.run(cfg, src_dir, workdir / ucfg.name, models, tracker)
    return {
        "upscale_images_per_s": round(len(faces) / alone, 2),
        "stage_images_per_s": round(len(stage.files) / stage.seconds, 2),
    }


def _machine() -> dict:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facepipe bench upscale", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="faces for the throughput part (default: %(default)s)")
    parser.add_argument("--upscalers", nargs="*", default=list(UPSCALERS), choices=UPSCALERS)
    parser.add_argument("--out", default="outputs/bench/bench.json")
    args = parser.parse_args(argv)

    from facepipe.backends import load_factory
    from facepipe.cli import compose
    from facepipe.config_loader import load
    from facepipe.generate import sample_latents
    from facepipe.io import write_image, write_json
    from facepipe.models.registry import ModelStore

    results: dict = {"machine": _machine(), "n_faces": args.n, "end_to_end": {}, "throughput_1024": {}}
    with tempfile.TemporaryDirectory(prefix="facepipe-bench-") as tmp:
        tmp = Path(tmp)
        for name in args.upscalers:
            results["end_to_end"][name] = end_to_end(name, tmp / "e2e")
            print(f"end to end {name}: {results['end_to_end'][name]}", file=sys.stderr)
        cfg = load(compose(["tracking=none"]))
        models = ModelStore.for_paths(cfg.paths)
        generator = load_factory(cfg.generator._target_, "generator")(cfg.generator, models)
        faces = generator.synthesize(sample_latents(np.random.default_rng(0), args.n, generator.latent_dim))
        for i, face in enumerate(faces):
            write_image(tmp / "faces" / f"{i:04d}.png", face)
        for name in args.upscalers:
            ucfg = load(compose([f"upscaler={name}", "tracking=none"]))
            results["throughput_1024"][name] = throughput(ucfg, tmp / "faces", faces, models, tmp / "up")
            print(f"throughput {name}: {results['throughput_1024'][name]}", file=sys.stderr)

    print(f"\n{'upscaler':<10} {'e2e s':>7} {'e2e peak MiB':>13} {'upscale img/s':>14} {'stage img/s':>12}")
    for name in args.upscalers:
        e2e, thr = results["end_to_end"][name], results["throughput_1024"][name]
        print(
            f"{name:<10} {e2e['seconds']:>7} {e2e['peak_rss_mib']:>13} {thr['upscale_images_per_s']:>14} "
            f"{thr['stage_images_per_s']:>12}"
        )
    write_json(args.out, results, overwrite=True)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
