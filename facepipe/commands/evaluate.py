"""`facepipe evaluate sr`: super-resolution quality and speed, every method side by side.

    facepipe evaluate sr [--methods bilinear,bicubic,lanczos,fsrcnn,face_sr,face_sr+upscaler.chain=model]
                                   [--limit N] [--speed-images 32] [--out outputs/bench/sr.json] [key=value ...]

Quality: mean PSNR / SSIM on the Y channel at x4 on the held-out faces of the `train_sr` split (never
trained on; needs `sr.data_dir`, default ../shared/data), per face set. Speed: images/s from 64x64 to
1024x1024 and peak resident memory, each method in a fresh process on this machine's cores. Prints a
table, writes JSON, logs both and a side-by-side crop sheet to MLflow (tracking config).
A method is an `upscaler=` option, optionally with `+key=value` overrides.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_METHODS = "bilinear,bicubic,lanczos,fsrcnn,face_sr,face_sr+upscaler.chain=model"
SCALE = 4


def _upscaler(method: str, size: int, overrides: list[str]):
    from facepipe.backends import load_factory
    from facepipe.cli import compose
    from facepipe.config_loader import load
    from facepipe.models.registry import ModelStore

    option, *extra = method.split("+")
    cfg = load(compose([*overrides, f"upscaler={option}", f"upscaler.output_size={size}", *extra]))
    return load_factory(cfg.upscaler._target_, "upscaler")(
        cfg.upscaler, ModelStore.for_paths(cfg.paths, progress=False)
    )


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the process image, while
    `ru_maxrss` survives exec and would report the parent's peak (the parent holds the face sets)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _speed_child(args: argparse.Namespace) -> int:
    """In a fresh process: images/s to 1024 px for one method, and this process's peak RSS."""
    faces = np.load(args.faces)
    up = _upscaler(args.method, 1024, args.overrides)
    up.upscale(faces[:2])  # warm-up: graph tracing
    start = time.perf_counter()
    for i in range(0, len(faces), 8):
        up.upscale(faces[i : i + 8])
    seconds = time.perf_counter() - start
    print(json.dumps({"images_per_s": round(len(faces) / seconds, 2), "peak_rss_mb": _peak_rss_mb()}))
    return 0


def _speed(method: str, faces_path: Path, overrides: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "facepipe", "evaluate", "_speed", "--faces", str(faces_path), method, *overrides],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sr(args: argparse.Namespace) -> int:
    import cv2

    from facepipe.cli import compose
    from facepipe.config_loader import load
    from facepipe.data.hr_faces import held_out_faces
    from facepipe.evaluate.sr import comparison_sheet, quality, square_faces
    from facepipe.io import write_image, write_json
    from facepipe.tracking import Tracker

    cfg = load(compose(args.overrides))
    methods = [m for m in args.methods.split(",") if m]
    faces = square_faces(held_out_faces(cfg.sr.data_dir, cfg.sr.split_seed, cfg.sr.held_out, args.limit), SCALE)
    print(f"held-out faces: {', '.join(f'{len(v)} {k} ({v.shape[1]} px)' for k, v in faces.items())}", file=sys.stderr)
    results: dict = {
        "scale": SCALE,
        "cpus": os.cpu_count(),
        "faces": {k: len(v) for k, v in faces.items()},
        "methods": {},
    }
    small = np.stack(
        [cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in faces["utkface"][: args.speed_images]]
    )
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "faces64.npy", small)
        for m in methods:
            entry = quality(lambda side, m=m: _upscaler(m, side, args.overrides), faces, SCALE)
            entry["speed_to_1024"] = _speed(m, Path(tmp) / "faces64.npy", args.overrides)
            results["methods"][m] = entry
            print(f"{m}: {entry}", file=sys.stderr)
            write_json(args.out, results, overwrite=True)  # after every method: a stopped run keeps its figures
        hr = faces["celeba"][:4]
        sheet = comparison_sheet({m: _upscaler(m, hr.shape[1], args.overrides) for m in methods}, hr, SCALE)
        sheet_path = Path(args.out).with_suffix(".png")
        write_image(sheet_path, sheet, overwrite=True)
    sets = list(faces)
    print(
        f"\n{'method':<34}"
        + "".join(f"{s + ' PSNR':>15}{'SSIM':>8}" for s in sets)
        + f"{'img/s 1024':>12}{'peak MB':>9}"
    )
    for m, e in results["methods"].items():
        sp = e["speed_to_1024"]
        print(
            f"{m:<34}"
            + "".join(f"{e[s]['psnr']:>15.2f}{e[s]['ssim']:>8.4f}" for s in sets)
            + f"{sp.get('images_per_s', float('nan')):>12.2f}{sp.get('peak_rss_mb', float('nan')):>9.0f}"
        )
    print(f"\nwrote {args.out} and {sheet_path} (columns: input, {', '.join(methods)}, original)")
    with Tracker(cfg.tracking, "evaluate sr", {"facepipe.role": "evaluate"}) as t:
        t.log_metrics(
            {
                f"sr.{re.sub(r'[^A-Za-z0-9_.-]', '_', m)}.{s}.{k}": v  # MLflow's allowed name characters
                for m, e in results["methods"].items()
                for s in sets
                for k, v in e[s].items()
                if k != "faces"
            }
        )
        t.log_artifact(args.out, "evaluate")
        t.log_artifact(sheet_path, "evaluate")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facepipe evaluate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sr = sub.add_parser("sr", help="super-resolution PSNR/SSIM (Y, x4, held-out faces), speed and memory")
    sr.add_argument("--methods", default=DEFAULT_METHODS)
    sr.add_argument(
        "--limit",
        type=int,
        default=None,
        help="read only the first N faces of each set: a quick check, not a figure "
        "(the split is then drawn over those N, so its held-out faces may have been trained on)",
    )
    sr.add_argument("--speed-images", type=int, default=32)
    sr.add_argument("--out", default="outputs/bench/sr.json")
    sr.add_argument("overrides", nargs="*", help="config overrides, e.g. sr.data_dir=/data tracking=none")
    speed = sub.add_parser("_speed")  # internal: one method's speed in a fresh process
    speed.add_argument("method")
    speed.add_argument("--faces", required=True)
    speed.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    try:
        return _sr(args) if args.command == "sr" else _speed_child(args)
    except Exception as e:  # one line, non-zero exit (house rule), as the main CLI does
        from facepipe.errors import FacepipeError

        if isinstance(e, FacepipeError):
            print(f"facepipe: error: {e}", file=sys.stderr)
            return 2
        raise
