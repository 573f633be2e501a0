"""MLflow holds one run per job with params, seeds, images, timings and the dataset; sweeps nest."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from facepipe.pipeline import run_job
from facepipe.tracking import flatten


def _client(uri: str):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    return MlflowClient(uri)


def _runs(client, experiment: str):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id]) if exp else []


def test_flatten_makes_dotted_params():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": None, "e": {}}) == {
        "a.b": 1,
        "a.c": "[1, 2]",
        "d": "None",
        "e": "{}",
    }


def test_job_run_is_readable_back(make_cfg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is relative to the working directory
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = run_job(
        make_cfg("tracking=mlflow", f"tracking.uri={uri}", "tracking.experiment=t", "seed=21", "upscaler=fsrcnn")
    )
    client = _client(uri)
    (run,) = _runs(client, "t")
    assert run.info.run_id == result.run_id and run.info.status == "FINISHED"
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    assert params["seed"] == "21" and tags["seed"] == "21" and params["upscaler.name"] == "fsrcnn"
    assert params["generator.model"] == "dcgan_digiface" and tags["person_id"] == result.person.id
    assert all(len(tags[f"model.{m}.sha256"]) == 64 for m in ("dcgan_digiface", "fsrcnn_x4", "fsrcnn_x2"))
    assert {
        "generate_s",
        "generate_tries",
        "reposition_s",
        "reposition_images_per_s",
        "reposition_measured_fraction",
        "reposition_yaw_err_median_le30",
        "upscale_s",
        "total_s",
        "upscale_images_per_s",
    } <= set(metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "person", "dataset", "upscaled"} <= artifacts
    dataset = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "dataset")}
    assert dataset == {"labels.csv", "contact_sheet.png"}
    person = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "person")}
    assert {"face.png", "latent.npy", "person.json"} <= person
    inputs = {i.dataset.name: i for i in run.inputs.dataset_inputs}
    assert set(inputs) == {result.person.id, f"{result.person.id}-dataset", "fsrcnn-1024-png"}
    assert {t.key: t.value for t in inputs[f"{result.person.id}-dataset"].tags}["mlflow.data.context"] == "repositioned"
    assert result.upscaled.dir.resolve().as_uri() in inputs["fsrcnn-1024-png"].dataset.source
    assert {t.key: t.value for t in inputs[result.person.id].tags}["mlflow.data.context"] == "generated"


def test_multirun_jobs_nest_under_one_sweep_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = run_cli(
        "--multirun",
        "seed=1,2",
        "upscaler=bilinear,bicubic",
        f"output_dir={tmp_path / 'out'}",
        f"tracking.uri={uri}",
        "tracking.experiment=sweep",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = _runs(_client(uri), "sweep")
    parents = [r for r in runs if r.data.tags.get("facepipe.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("facepipe.role") == "job"]
    assert len(parents) == 1 and len(children) == 4
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert sorted((r.data.params["seed"], r.data.params["upscaler.name"]) for r in children) == [
        ("1", "bicubic"),
        ("1", "bilinear"),
        ("2", "bicubic"),
        ("2", "bilinear"),
    ]
    assert all(r.info.status == "FINISHED" for r in runs)
    people = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert len(people) == 2 and all(len(list((p / "upscaled").iterdir())) == 2 for p in people)


@pytest.mark.parametrize("disabled", ["tracking=none", "tracking.enabled=false"])
def test_disabled_tracking_writes_no_database(make_cfg, tmp_path, monkeypatch, disabled):
    monkeypatch.chdir(tmp_path)
    run_job(make_cfg(disabled))
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


def _open_store(uri: str) -> str:
    from facepipe.config import TrackingConf
    from facepipe.tracking import _mlflow

    mlflow = _mlflow(TrackingConf(enabled=True, uri=uri, experiment="race"))
    return mlflow.get_experiment_by_name("race").experiment_id


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    """Stages started side by side on a fresh mlflow.db used to fail MLflow's schema migration."""
    import multiprocessing

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ids = pool.map(_open_store, [uri] * 4)
    assert len(set(ids)) == 1


def test_mlflow_tracking_uri_is_honoured_unless_the_config_sets_one(make_cfg, tmp_path, monkeypatch):
    from facepipe.config import TrackingConf
    from facepipe.tracking import tracking_uri

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'from_env.db'}")
    run_job(make_cfg("tracking=mlflow", "tracking.experiment=env", "seed=22", "upscaler=bicubic"))
    client = _client(f"sqlite:///{tmp_path / 'from_env.db'}")
    assert len(_runs(client, "env")) == 1
    assert client.get_experiment_by_name("env").tags["mlflow.experimentKind"] == "custom_model_development"
    assert not (tmp_path / "mlflow.db").exists()
    assert tracking_uri(TrackingConf(uri="sqlite:///set.db")) == "sqlite:///set.db"  # an explicit setting wins
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking_uri(TrackingConf()) == "sqlite:///mlflow.db"
