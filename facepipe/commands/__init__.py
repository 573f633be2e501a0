"""The plain (non-Hydra) command family of `facepipe`:

    facepipe models list|fetch|verify [NAME ...]   the model registry
    facepipe stage NAME [--params params.yaml]     one stage (what `dvc repro` runs)
    facepipe params [overrides ...]                compose conf/ into params.yaml
    facepipe evaluate NAME [...]                   an evaluation (sr)
    facepipe bench NAME [...]                      a benchmark script of the source checkout (benchmarks/NAME.py)

This package is the edge: it may import the dispatcher (`pipeline`), the CLI's composer and tracking.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

import yaml

__all__ = ["main"]

BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"  # in a source checkout


def _models(args: argparse.Namespace) -> int:
    from facepipe.models.registry import ModelStore

    store = ModelStore(args.cache)
    names = args.names or sorted(store.catalog)
    for name in names:
        store.spec(name)  # unknown names fail before anything is fetched
    if args.action == "list":
        print(f"{'name':<16} {'status':<9} {'size':>10}  {'format':<12} source")
        for name in names:
            spec = store.spec(name)
            src = spec.source.requirement or spec.source.url or spec.source.path
            print(
                f"{name:<16} {store.verify(name):<9} {spec.size or '?':>10}  {spec.format:<12} {spec.source.kind}: {src}"
            )
        return 0
    if args.action == "fetch":
        if args.file and len(names) != 1:
            raise SystemExit("facepipe: error: --file needs exactly one model name")
        for name in names:
            print(f"{name}: {store.fetch(name, file=args.file, force=args.force)}")
        return 0
    bad = 0
    for name in names:  # verify: a named model must be there; unnamed, only what is there must be intact
        status = store.verify(name)
        bad += status == "mismatch" or (status == "missing" and bool(args.names))
        print(f"{name}: {status} ({store.cached_path(name)})")
    return 1 if bad else 0


def _stage(args: argparse.Namespace) -> int:
    from facepipe.config_loader import load
    from facepipe.pipeline import run_stage

    cfg = load(yaml.safe_load(Path(args.params).read_text()))
    for line in run_stage(
        args.stage, cfg, args.input or [], Path(args.out) if args.out else None, tuple(args.member or ())
    ):
        print(line)
    return 0


def _params(args: argparse.Namespace) -> int:
    from facepipe.cli import compose_params
    from facepipe.config_loader import load
    from facepipe.io import publish_bytes

    text = compose_params(args.overrides)
    load(yaml.safe_load(text))  # refuse to write a params.yaml that would fail at stage start
    publish_bytes(args.out, text.encode(), overwrite=True)
    print(f"wrote {args.out}")
    return 0


def _bench(argv: list[str]) -> int:
    """Run `benchmarks/<NAME>.py` with the remaining arguments, as `python benchmarks/<NAME>.py` would."""
    import runpy

    from facepipe.errors import ConfigError

    found = sorted(p.stem for p in BENCHMARKS_DIR.glob("*.py")) if BENCHMARKS_DIR.is_dir() else []
    if not argv or argv[0] in ("-h", "--help"):
        print(
            "usage: facepipe bench NAME [ARGS ...]\nbenchmarks: "
            + (", ".join(found) or "none (they live in the source checkout's benchmarks/ folder)")
        )
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in found:
        raise ConfigError(
            f"benchmark {name!r} is unknown; valid: {', '.join(found) or 'none outside a source checkout'}"
        )
    sys.argv = [str(BENCHMARKS_DIR / f"{name}.py"), *rest]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else 1
    return 0


def _parser() -> argparse.ArgumentParser:
    from facepipe.config import PathsConf
    from facepipe.pipeline import STAGES

    parser = argparse.ArgumentParser(prog="facepipe", description="facepipe registry and stage commands")
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser("models", help="list, fetch or verify registry models")
    models.add_argument("action", choices=["list", "fetch", "verify"])
    models.add_argument("names", nargs="*", help="model names (default: all)")
    models.add_argument(
        "--cache",
        default=PathsConf().model_cache,
        help="model cache dir (default: $FACEPIPE_MODEL_CACHE or %(default)s)",
    )
    models.add_argument("--file", help="fetch: take the bytes from this local file (verified by sha256)")
    models.add_argument("--force", action="store_true", help="fetch: re-download even if cached")
    models.set_defaults(func=_models)
    stage = sub.add_parser("stage", help="run one DVC stage with params from a composed params.yaml")
    stage.add_argument("stage", choices=STAGES)
    stage.add_argument("--params", default="params.yaml")
    stage.add_argument(
        "--in",
        dest="input",
        action="append",
        help="reposition: the generate stage's folder; upscale: folder(s) of images (repeatable)",
    )
    stage.add_argument("--out", help="output folder (a DVC out; generate, reposition, upscale)")
    stage.add_argument(
        "--member",
        action="append",
        choices=["guide", "evaluator"],
        help="train_classifiers: train only this classifier (repeatable; default both)",
    )
    stage.set_defaults(func=_stage)
    params = sub.add_parser("params", help="compose conf/ (plus overrides) into params.yaml for DVC")
    params.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. seed=7 upscaler=fsrcnn")
    params.add_argument("--out", default="params.yaml")
    params.set_defaults(func=_params)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    from facepipe.errors import FacepipeError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "evaluate":
            from facepipe.commands.evaluate import main as evaluate_main

            return evaluate_main(argv[1:])
        if argv and argv[0] == "bench":
            return _bench(argv[1:])
        args = _parser().parse_args(argv)
        return args.func(args)
    except FacepipeError as e:
        print(f"facepipe: error: {e}", file=sys.stderr)
        return 2
