"""`dvc repro` runs generate -> reposition -> upscale from params.yaml; reruns only what a change touches."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from facepipe.cli import compose_params


def test_committed_params_match_conf():
    assert (REPO / "params.yaml").read_text() == compose_params([]), "run `facepipe params` after editing conf/"


def _dvc(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **{
            f"GIT_{who}_{what}": value
            for who in ("AUTHOR", "COMMITTER")
            for what, value in (("NAME", "facepipe-tests"), ("EMAIL", "tests@facepipe.invalid"))
        },
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


@pytest.fixture
def dvc_repo(tmp_path):
    """A throwaway clone-alike: the pipeline files, the package sources it depends on, git and DVC."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in (
        "conf",
        "facepipe",
        "models/attributes",
        "models/directions",
        "models/sr",
        "models/expressions",
        "models/generator",
    ):
        shutil.copytree(REPO / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(REPO / name, repo / name)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    _dvc(repo, "init", "-q")
    _dvc(repo, "config", "core.analytics", "false")
    _dvc(repo, "config", "hydra.enabled", "true")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["tracking"]["enabled"] = False
    params["sweep"].update(max_angle=5, n_random=2)  # a 3 x 3 grid and 2 random shots: fast
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return repo


def _set_output_size(repo: Path, value: int) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["upscaler"]["output_size"] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_repro_twice_then_upscale_change_reruns_only_upscale(dvc_repo):
    first = _dvc(dvc_repo, "repro")
    for stage in ("generate", "reposition", "upscale"):
        assert f"Running stage '{stage}'" in first
    for stage in ("train_classifiers", "learn_directions", "train_sr"):  # frozen: the committed models are used
        assert f"Running stage '{stage}'" not in first
    (person,) = (dvc_repo / "outputs/pipeline/generate").iterdir()
    repositioned = dvc_repo / "outputs/pipeline/reposition" / person.name
    assert len(list((repositioned / "dataset").glob("*.png"))) == 11 and (repositioned / "labels.csv").is_file()
    upscaled = dvc_repo / "outputs/pipeline/upscale" / person.name / "face.png"
    assert upscaled.is_file() and len(list(upscaled.parent.glob("dataset/*.png"))) == 11
    assert not (upscaled.parent / "contact_sheet.png").exists()

    second = _dvc(dvc_repo, "repro")
    assert "Running stage" not in second and "up to date" in second

    _set_output_size(dvc_repo, 512)
    third = _dvc(dvc_repo, "repro")
    assert "Running stage 'upscale'" in third
    assert "Running stage 'generate'" not in third and "Running stage 'reposition'" not in third
    from PIL import Image

    assert Image.open(upscaled).size == (512, 512)

    _set_output_size(dvc_repo, 1024)  # back: restored from DVC's run cache, at the right size
    _dvc(dvc_repo, "repro")
    assert Image.open(upscaled).size == (1024, 1024)


def test_dag_chains_generate_reposition_upscale(dvc_repo):
    out = _dvc(dvc_repo, "dag", "--mermaid")
    nodes = {line.split("[")[0].strip(): line.split('"')[1] for line in out.splitlines() if '["' in line}
    edges = {tuple(nodes[n.strip()] for n in line.split("-->")) for line in out.splitlines() if "-->" in line}
    assert {("generate", "reposition"), ("reposition", "upscale")} <= edges, out


def test_exp_run_recomposes_params_from_conf(dvc_repo):
    """DVC's Hydra integration: `-S seed=7` is applied to conf/ and composed into params.yaml."""
    (dvc_repo / "conf/tracking/none.yaml").write_text("enabled: false\nuri: sqlite:///mlflow.db\nexperiment: x\n")
    (dvc_repo / "conf/config.yaml").write_text(
        (dvc_repo / "conf/config.yaml").read_text().replace("  - tracking: mlflow", "  - tracking: none")
    )
    git = ["git", "-c", "user.name=facepipe-tests", "-c", "user.email=tests@facepipe.invalid"]
    subprocess.run(git + ["add", "-A"], cwd=dvc_repo, check=True, capture_output=True)
    subprocess.run(git + ["commit", "-qm", "init"], cwd=dvc_repo, check=True, capture_output=True)
    out = _dvc(dvc_repo, "exp", "run", "-S", "seed=7")
    assert "Running stage 'generate'" in out
    params = yaml.safe_load((dvc_repo / "params.yaml").read_text())
    assert params["seed"] == 7 and params["tracking"]["enabled"] is False
    (person,) = (dvc_repo / "outputs/pipeline/generate").iterdir()
    assert yaml.safe_load((person / "config.yaml").read_text())["seed"] == 7
