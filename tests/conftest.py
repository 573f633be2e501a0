"""Shared fixtures: the real configs composed with fast overrides, and a shared model cache.

Models are fetched once per machine into `models/cache` (or `$FACEPIPE_MODEL_CACHE`) through the
registry itself, so the suite needs PyPI the first time and nothing afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from facepipe.cli import CONF_DIR, compose  # noqa: F401  (CONF_DIR re-exported for the tests)
from facepipe.config import FacepipeConfig
from facepipe.config_loader import load
from facepipe.models.registry import CACHE_ENV, ModelStore

REPO = Path(__file__).resolve().parents[1]
MODEL_CACHE = Path(os.environ.get(CACHE_ENV) or REPO / "models" / "cache").resolve()
os.environ[CACHE_ENV] = str(MODEL_CACHE)  # subprocesses and ModelStore share it


def compose_cfg(overrides: list[str]) -> FacepipeConfig:
    """Compose `conf/` exactly as the CLI does and validate it."""
    return load(compose(overrides))


@pytest.fixture(scope="session")
def models() -> ModelStore:
    store = ModelStore(MODEL_CACHE, progress=False)
    for name, spec in store.catalog.items():
        if spec.source.kind == "pypi":  # the url entries (pg-GAN, 277 MB) need the internet
            store.path(name)
    return store


@pytest.fixture(scope="session")
def face_triangles(models):
    """The face mesh's own triangles (MediaPipe's tessellation, holes closed), for `mesh_warp.head_model`."""
    from facepipe.face import tessellation

    return tessellation.build(models).triangles


@pytest.fixture(scope="session")
def landmarker(models):
    """MediaPipe detector + mesh + iris on LiteRT, shared by the reposition and evaluate tests."""
    from facepipe.face.landmarks import build

    return build(models)


@pytest.fixture
def make_cfg(tmp_path, models):
    """Config factory writing under tmp_path, tracking off unless asked for, with a small dataset
    (a 3 x 3 grid and 2 random shots) unless a test asks for more."""

    def make(*overrides: str) -> FacepipeConfig:
        base = [f"output_dir={tmp_path / 'out'}", "tracking=none", "sweep.max_angle=5", "sweep.n_random=2"]
        return compose_cfg(base + list(overrides))

    return make


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m facepipe ARGS` in a subprocess, as a user would type it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "facepipe", *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
