"""MLflow at the edge: one run per job, nested under a sweep's parent run in Hydra multirun.

Core code never imports MLflow. Stages receive a `Tracker` and call its few methods; with
`tracking.enabled=false` every method is a no-op, so tests and offline users pay nothing.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, Optional

import yaml

from facepipe.config import DEFAULT_TRACKING_URI, FacepipeConfig, TrackingConf, to_dict

__all__ = ["Tracker", "flatten", "tracking_uri", "SweepParentCallback", "PARENT_RUN_FILE", "read_parent_run_id"]

log = logging.getLogger(__name__)
EXPERIMENT_KIND_TAG, EXPERIMENT_KIND = "mlflow.experimentKind", "custom_model_development"
PARENT_RUN_FILE = "mlflow_parent_run_id"  # written into the Hydra sweep dir by SweepParentCallback


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> {"a.b.c": value}; lists and None are stringified for MLflow params."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return flat


def _sqlite_path(uri: str) -> Optional[Path]:
    """The database file of a `sqlite:///...` tracking URI (None for servers and file stores)."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) else None


def tracking_uri(cfg: TrackingConf) -> str:
    """`tracking.uri` when the config sets one, else MLflow's own `$MLFLOW_TRACKING_URI`, else the default."""
    return cfg.uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def _mlflow(cfg: TrackingConf) -> Any:
    """MLflow pointed at `tracking_uri(cfg)`, with the experiment created.

    Two processes that open a new SQLite store at once (two stages started side by side, parallel
    sweep jobs) both run MLflow's schema migrations and one fails ("duplicate column name"); a file
    lock beside the database serialises the creation. Servers handle this themselves.
    """
    import mlflow
    from filelock import FileLock

    for name in ("alembic", "mlflow"):  # schema-migration and experiment-creation chatter
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = tracking_uri(cfg)
    mlflow.set_tracking_uri(uri)
    db = _sqlite_path(uri)
    if db is None:
        _set_experiment(mlflow, cfg.experiment)
        return mlflow
    db.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(db) + ".lock"):
        _set_experiment(mlflow, cfg.experiment)
    return mlflow


def _set_experiment(mlflow: Any, name: str) -> None:
    """Make `name` the active experiment, marked as model development so that MLflow 3's UI opens it on
    the runs list (unmarked, it guesses a GenAI experiment and opens an empty traces page)."""
    experiment = mlflow.set_experiment(name)
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
        mlflow.set_experiment_tag(EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)


class Tracker:
    """A context manager around one MLflow run (or nothing, when tracking is disabled)."""

    def __init__(
        self,
        cfg: TrackingConf,
        run_name: str,
        tags: Optional[dict[str, str]] = None,
        parent_run_id: Optional[str] = None,
        run_id: Optional[str] = None,
    ):
        self.cfg, self.run_name, self.tags, self.parent_run_id = cfg, run_name, tags or {}, parent_run_id
        self.mlflow: Any = None
        self.run_id: Optional[str] = run_id  # given: that run is continued (a resumed training run)

    def __enter__(self) -> "Tracker":
        if self.cfg.enabled:
            self.mlflow = _mlflow(self.cfg)
            if self.run_id is not None:
                run = self.mlflow.start_run(run_id=self.run_id)
            else:
                run = self.mlflow.start_run(
                    run_name=self.run_name,
                    tags=self.tags,
                    parent_run_id=self.parent_run_id,
                    nested=self.parent_run_id is not None,
                )
            self.run_id = run.info.run_id
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.mlflow is not None:
            self.mlflow.end_run(status="FAILED" if exc_type else "FINISHED")

    def log_config(self, cfg: FacepipeConfig) -> None:
        """The resolved config as params (dotted keys) and as a `config.yaml` artifact; seeds as tags."""
        if self.mlflow is None:
            return
        tree = to_dict(cfg)
        self.mlflow.log_params(flatten(tree))
        self.mlflow.log_text(yaml.safe_dump(tree, sort_keys=False), "config.yaml")
        self.mlflow.set_tag("seed", str(cfg.seed))

    def set_tags(self, tags: dict[str, Any]) -> None:
        if self.mlflow is not None:
            self.mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_metrics(self, metrics: dict[str, float], step: Optional[int] = None) -> None:
        if self.mlflow is not None:
            self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def log_artifact(self, path: str | os.PathLike, artifact_path: Optional[str] = None) -> None:
        if self.mlflow is not None:
            self.mlflow.log_artifact(os.fspath(path), artifact_path)

    def log_dataset(self, path: str | os.PathLike, name: str, digest: str, context: str) -> None:
        """Record a folder of outputs as an MLflow dataset input (source = the local folder)."""
        if self.mlflow is None:
            return
        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset

        with warnings.catch_warnings():  # MLflow registers two equivalent local-file source classes
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(Path(path).resolve().as_uri())
        dataset = MetaDataset(source=source, name=name, digest=digest[:36])
        try:
            self.mlflow.log_input(dataset, context=context)
        except self.mlflow.exceptions.MlflowException as e:
            # Parallel sweep jobs of one person (same seed, other upscaler) insert the same dataset row at
            # once; the loser hits the UNIQUE constraint. The row exists now, so linking it again succeeds.
            if "UNIQUE constraint failed: datasets" not in str(e):
                raise
            self.mlflow.log_input(dataset, context=context)


def read_parent_run_id(sweep_dir: str | os.PathLike) -> Optional[str]:
    """The sweep's parent run id written by `SweepParentCallback`, if any."""
    path = Path(sweep_dir) / PARENT_RUN_FILE
    return path.read_text().strip() if path.is_file() else None


try:  # the callback is only meaningful where Hydra is installed, which it is for the CLI
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover
    Callback = object  # type: ignore[assignment,misc]


class SweepParentCallback(Callback):  # type: ignore[misc,valid-type]
    """Hydra callback: a multirun gets one parent MLflow run; each job becomes a nested run of it.

    The parent id goes into a file in the sweep dir, which every job (local process or cluster node
    on a shared filesystem) reads, so no launcher-specific plumbing is needed.
    """

    def __init__(self) -> None:
        self._run_id: Optional[str] = None

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        tracking = TrackingConf(**config.tracking)
        if not tracking.enabled:
            return
        from mlflow import MlflowClient

        mlflow = _mlflow(tracking)
        experiment = mlflow.get_experiment_by_name(tracking.experiment)
        sweep_dir = Path(str(config.hydra.sweep.dir))
        run = MlflowClient().create_run(
            experiment.experiment_id,
            run_name=f"sweep {sweep_dir.name}",
            tags={"facepipe.sweep_dir": str(sweep_dir), "facepipe.role": "sweep"},
        )
        self._run_id = run.info.run_id
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / PARENT_RUN_FILE).write_text(self._run_id)

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        if self._run_id is not None:
            from mlflow import MlflowClient

            MlflowClient().set_terminated(self._run_id)
