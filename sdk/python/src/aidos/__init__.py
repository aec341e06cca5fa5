"""AI-DOS from Python: track training runs, log artifacts, register models and read datasets.

    import aidos

    run = aidos.init("mnist", config={"lr": 0.01, "model": {"layers": 4}})
    for step in range(100):
        aidos.log({"loss": loss, "acc": acc})
    aidos.log_artifact("checkpoints/")
    aidos.register_model("mnist-cnn", path="model.pt", aliases=["candidate"])
    aidos.finish()                                   # or let the program end

In a training job, ``aidos.save_checkpoint(path, step)`` keeps a checkpoint on the server and
``aidos.resume_checkpoint()`` hands the latest one to the attempt that resumes the job.

Only the standard library is needed. The server is ``AIDOS_URL`` (default ``http://127.0.0.1:8000``); the
token is ``AIDOS_TOKEN``, else the local server's token file ``$AIDOS_HOME/token`` (``~/.aidos/token``).
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _state, _system, datasets
from ._api import Api, ApiRun
from ._checkpoints import Checkpoint, download_checkpoint, list_checkpoints, resume_checkpoint, save_checkpoint
from ._errors import AidosError, AuthenticationError, NotFoundError, ServerUnreachableError
from ._http import Client
from ._models import ModelVersion
from ._run import Run, start_run
from .datasets import Dataset

__version__ = "0.1.0"

__all__ = [
    "AidosError",
    "Api",
    "ApiRun",
    "AuthenticationError",
    "Checkpoint",
    "Dataset",
    "ModelVersion",
    "NotFoundError",
    "Run",
    "ServerUnreachableError",
    "datasets",
    "download_checkpoint",
    "finish",
    "flush",
    "init",
    "list_checkpoints",
    "log",
    "log_artifact",
    "register_model",
    "resume_checkpoint",
    "run",
    "save_checkpoint",
    "use_dataset",
]


def init(
    project: str,
    run_name: Optional[str] = None,
    config: Any = None,
    tags: Union[Mapping[str, Any], Iterable[str], None] = None,
    *,
    system_metrics: Optional[bool] = None,
    system_metrics_interval: float = _system.DEFAULT_INTERVAL_S,
    url: Optional[str] = None,
    token: Optional[str] = None,
) -> Run:
    """Starts a run in ``project`` (an experiment, created when missing) and makes it ``aidos.run``.

    ``config`` (a dict, nested dicts flattened as ``a.b``; or a dataclass or argparse namespace) is logged as
    the run's params; ``tags`` is a dict of tags (or a list of names, set with empty values). The run also
    gets the tags ``mlflow.source.name`` (the script), ``mlflow.user`` and ``aidos.heartbeat_interval_ms``.

    System metrics (CPU, memory, NVIDIA GPUs, as ``system/...`` metrics) are sampled every
    ``system_metrics_interval`` seconds by a background thread, unless ``system_metrics=False`` or, when
    ``system_metrics`` is not given, the environment has ``AIDOS_SYSTEM_METRICS=0``.

    With ``AIDOS_RUN_ID`` set (the job runner does), the run with that id is continued instead, in its own
    experiment. A run still current is finished first.

    The run ends when the program does: FINISHED, or FAILED after an uncaught exception, or KILLED on
    SIGTERM or Ctrl-C; buffered metrics are sent first.
    """
    client = Client(url, token)
    previous = _state.current
    if previous is not None:
        previous.finish()
    sample = _system.enabled_by_env() if system_metrics is None else bool(system_metrics)
    run = start_run(
        client,
        project,
        run_name,
        config,
        tags,
        run_id=os.environ.get("AIDOS_RUN_ID") or None,
        system_metrics_interval=system_metrics_interval if sample else None,
    )
    _state.replace(run)
    return run


def _current() -> Run:
    run = _state.current
    if run is None:
        raise RuntimeError("no active run: call aidos.init() first")
    return run


def log(data: Mapping[str, Any], step: Optional[int] = None) -> None:
    """Logs metric values (``{"loss": 0.3, "acc": 0.9}``) to the current run; see :meth:`Run.log`.

    Buffered and sent by a background thread (at least every second, in batches of at most 1000 points); a
    server that cannot be reached only delays them, with a warning. ``step`` counts up by itself.
    """
    run = _state.current  # what _current() does, without its call: this one is made every training step
    if run is None:
        raise RuntimeError("no active run: call aidos.init() first")
    run.log(data, step)


def flush() -> None:
    """Sends the current run's buffered metrics now; raises when the server refuses or cannot be reached."""
    _current().flush()


def log_artifact(path: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> str:
    """Uploads a file or folder to the current run's artifacts under ``artifact_path``; returns its path there."""
    return _current().log_artifact(path, artifact_path)


def register_model(
    name: str,
    path: Union[str, "os.PathLike[str]", None] = None,
    artifact_path: Optional[str] = None,
    aliases: Sequence[str] = (),
    description: Optional[str] = None,
    tags: Optional[Mapping[str, Any]] = None,
) -> ModelVersion:
    """Registers a version of model ``name`` from the current run; see :meth:`Run.register_model`."""
    return _current().register_model(name, path, artifact_path, aliases, description, tags)


def use_dataset(dataset: Dataset, context: Optional[str] = "training") -> None:
    """Records a dataset version as an input of the current run; see :meth:`Run.use_dataset`."""
    _current().use_dataset(dataset, context)


def finish(status: str = "FINISHED") -> None:
    """Ends the current run (FINISHED, FAILED or KILLED) after sending what is buffered; no-op without one."""
    run = _state.current
    if run is not None:
        run.finish(status)


def __getattr__(name: str) -> Any:
    # `aidos.run`: the current run, or None.
    if name == "run":
        return _state.current
    raise AttributeError(f"module 'aidos' has no attribute {name!r}")
