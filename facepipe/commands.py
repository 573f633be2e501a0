"""Plain (non-Hydra) subcommands: the model registry and the DVC stage runners."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

import yaml

__all__ = ["main"]

DEFAULT_MODEL_CACHE = "models/cache"  # as in conf/paths/default.yaml; $FACEPIPE_MODEL_CACHE overrides both


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
            print(f"{name:<16} {store.verify(name):<9} {spec.size or '?':>10}  {spec.format:<12} {spec.source.kind}: {src}")
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


def _person_dirs(root: Path) -> list[Path]:
    """Person folders (those holding a face.png) directly under a stage's output folder."""
    from facepipe.stages.generate import FACE_FILE

    found = sorted(p.parent for p in Path(root).glob(f"*/{FACE_FILE}"))
    if not found:
        raise SystemExit(f"facepipe: error: --in {str(root)!r} holds no person folder (<id>/{FACE_FILE}); "
                         "run `stage generate` first")
    return found


def _stage(args: argparse.Namespace) -> int:
    from facepipe.config import load
    from facepipe.io import read_image
    from facepipe.models.registry import ModelStore
    from facepipe.stages import generate, reposition, upscale
    from facepipe.tracking import Tracker

    params = yaml.safe_load(Path(args.params).read_text())
    cfg = load(params)
    models = ModelStore.for_paths(cfg.paths)
    if args.stage in ("train_classifiers", "learn_directions", "train_sr", "learn_shading"):
        return _train_stage(args, cfg, models)
    if args.stage != "generate" and not args.input:
        raise SystemExit(f"facepipe: error: stage {args.stage} needs --in DIR")
    with Tracker(cfg.tracking, f"stage {args.stage}", {"facepipe.role": "stage", "facepipe.stage": args.stage}) as t:
        t.log_config(cfg)
        if args.stage == "generate":
            person = generate.source_person(cfg, Path(args.out), models, t)
            print(f"person {person.id} -> {person.dir}")
        elif args.stage == "reposition":
            for person_dir in _person_dirs(Path(args.input[0])):
                face = read_image(person_dir / generate.FACE_FILE)
                result = reposition.run(cfg, face, Path(args.out) / person_dir.name, models, t)
                print(f"repositioned {len(result.files)} image(s) -> {result.dir}")
        else:  # upscale: each --in folder mirrored into --out (contact sheets are overviews, not data)
            for src in map(Path, args.input):
                sheets = tuple(src.rglob(reposition.CONTACT_SHEET_FILE))
                result = upscale.run(cfg, src, Path(args.out), models, t, exclude=sheets)
                print(f"upscaled {len(result.files)} image(s) from {src} -> {result.dir}")
    return 0


def _train_stage(args: argparse.Namespace, cfg, models) -> int:
    """The model-building stages: their outputs are committed files under models/, not pipeline outs.

    Training turns oneDNN back on (facepipe._tf turns it off for byte-identical inference): it trains
    1.5x faster here, and the committed weights, not a rerun's bytes, are the reproducible artifact.
    """
    import os

    from facepipe.tracking import Tracker

    if args.stage in ("train_classifiers", "train_sr") and "tensorflow" not in sys.modules:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"

    with Tracker(cfg.tracking, f"stage {args.stage}", {"facepipe.role": "stage", "facepipe.stage": args.stage}) as t:
        t.log_config(cfg)
        if args.stage == "train_classifiers":
            from facepipe.stages import train_classifiers

            members = tuple(args.member) if args.member else train_classifiers.MEMBERS
            for member, card in train_classifiers.run(cfg.classifiers, t, members).items():
                print(f"{member}: {cfg.classifiers.dir}/{member}.weights.h5")
        elif args.stage == "train_sr":
            from facepipe.stages import train_sr

            train_sr.run(cfg.sr, t)
        elif args.stage == "learn_shading":
            from facepipe.stages import learn_shading

            print(f"shading -> {learn_shading.run(cfg.shading, models, t)}")
        else:
            from facepipe.stages import learn_directions

            path = learn_directions.run(cfg, models, t)
            print(f"directions -> {path}")
    return 0


def compose_params(overrides: list[str]) -> str:
    """`conf/` composed with `overrides` and resolved, as YAML: what DVC's Hydra integration writes."""
    from omegaconf import OmegaConf

    from facepipe.cli import compose

    cfg = compose(overrides, version_base=None)  # DVC composes with version_base=None too
    OmegaConf.resolve(cfg)
    return OmegaConf.to_yaml(cfg)


def _params(args: argparse.Namespace) -> int:
    from facepipe.config import load
    from facepipe.io import publish_bytes

    text = compose_params(args.overrides)
    load(yaml.safe_load(text))  # refuse to write a params.yaml that would fail at stage start
    publish_bytes(args.out, text.encode(), overwrite=True)
    print(f"wrote {args.out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facepipe", description="facepipe registry and stage commands")
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser("models", help="list, fetch or verify registry models")
    models.add_argument("action", choices=["list", "fetch", "verify"])
    models.add_argument("names", nargs="*", help="model names (default: all)")
    models.add_argument("--cache", default=DEFAULT_MODEL_CACHE,
                        help="model cache dir (default: $FACEPIPE_MODEL_CACHE or %(default)s)")
    models.add_argument("--file", help="fetch: take the bytes from this local file (verified by sha256)")
    models.add_argument("--force", action="store_true", help="fetch: re-download even if cached")
    models.set_defaults(func=_models)
    stage = sub.add_parser("stage", help="run one DVC stage with params from a composed params.yaml")
    stage.add_argument("stage", choices=["generate", "reposition", "upscale", "train_classifiers", "learn_directions", "train_sr", "learn_shading"])
    stage.add_argument("--params", default="params.yaml")
    stage.add_argument("--in", dest="input", action="append",
                       help="reposition: the generate stage's folder; upscale: folder(s) of images (repeatable)")
    stage.add_argument("--out", help="output folder (a DVC out; generate, reposition, upscale)")
    stage.add_argument("--member", action="append", choices=["guide", "evaluator"],
                       help="train_classifiers: train only this classifier (repeatable; default both)")
    stage.set_defaults(func=_stage)
    params = sub.add_parser("params", help="compose conf/ (plus overrides) into params.yaml for DVC")
    params.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. seed=7 upscaler=fsrcnn")
    params.add_argument("--out", default="params.yaml")
    params.set_defaults(func=_params)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    from facepipe.errors import FacepipeError

    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except FacepipeError as e:
        print(f"facepipe: error: {e}", file=sys.stderr)
        return 2
