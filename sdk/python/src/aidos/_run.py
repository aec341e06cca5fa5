"""A tracked run: buffered metric logging with a background sender, artifacts, models, and the end of the run."""

from __future__ import annotations

import atexit
import dataclasses
import getpass
import json
import operator
import os
import re
import signal
import struct
import sys
import threading
import time
from array import array
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _system
from ._errors import AidosError, NotFoundError
from ._http import Client, logger, quote_path
from ._models import ModelVersion

if TYPE_CHECKING:
    from .datasets import Dataset

#: Points per request (the server's limit for binary batches), and the buffered points that wake the sender early.
BATCH_SIZE = 10_000
#: Params or tags per ``runs/log-batch`` request.
PARAMS_PER_BATCH = 100
#: The background thread sends what waits at least this often (seconds).
FLUSH_INTERVAL_S = 1.0
#: With nothing else sent for this long, an empty ``runs/log-batch`` tells the server the process lives.
HEARTBEAT_INTERVAL_S = 30.0
#: Points kept while the server cannot be reached; beyond, the oldest are dropped (with a warning).
MAX_BUFFERED = 1_000_000
#: Metric names remembered as valid (so that ``log`` checks a name once, not on every call); past this many,
#: further new names are checked on every call, so a script that makes names up as it goes cannot grow it forever.
MAX_CHECKED_NAMES = 10_000

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
#: Hex characters of a dataset version's manifest sha256 used as its MLflow digest (MLflow's are short).
DATASET_DIGEST_CHARS = 16

_NAME = re.compile(r"^[/\w.\- ]*$", re.ASCII)


def check_key(kind: str, key: Any) -> str:
    """The server's rules for metric, param and tag names, checked here so a bad name fails at the call."""
    if not isinstance(key, str):
        raise TypeError(f"{kind} names must be strings, got {type(key).__name__}")
    parts = key.split("/")
    if (
        not _NAME.match(key)
        or key == ""
        or key.startswith("/")
        or key.endswith("/")
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ValueError(
            f"invalid {kind} name {key!r}: use letters, digits, _ - . space and / (not at either end, no empty, "
            "'.' or '..' parts)"
        )
    if len(key) > 250:
        raise ValueError(f"{kind} name {key[:40]!r}… is longer than 250 characters")
    return key


#: Metric names that passed :func:`check_key`, each mapped to itself (the ``str`` that was checked).
_checked_metric_names: Dict[Any, str] = {}


def metric_name(key: Any) -> str:
    """A metric name after :func:`check_key`, remembered (up to ``MAX_CHECKED_NAMES``) once it has passed."""
    name = check_key("metric", key)
    if len(_checked_metric_names) < MAX_CHECKED_NAMES:
        _checked_metric_names[name] = name
    return name


def metric_value(value: Any) -> float:
    """A metric value as the float64 the server keeps (NaN and ±inf included); ``True`` is 1.0."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"metric values must be numbers, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"metric value {value!r} is too large for a float64") from None
    except (TypeError, ValueError):
        raise TypeError(f"metric values must be numbers, got {type(value).__name__}") from None


def flatten(config: Any, prefix: str = "") -> Dict[str, str]:
    """Nested settings as ``a.b.c`` → value-as-string params (dicts, dataclasses and argparse namespaces)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    elif not isinstance(config, Mapping) and hasattr(config, "__dict__"):
        config = vars(config)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict (or a dataclass or an argparse namespace), got {type(config).__name__}")
    out: Dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


def _now_ms() -> int:
    return int(time.time() * 1000)


#: Steps the server keeps exactly (JavaScript's safe integers: a float64 holds them, and the wire carries float64s).
MAX_STEP = 2**53 - 1


def _step_out_of_range(step: int) -> ValueError:
    return ValueError(f"step {step} is out of range: steps go from -{MAX_STEP} to {MAX_STEP}")


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"step must be an integer, got {step!r}")
    step = operator.index(step)
    if not -MAX_STEP <= step <= MAX_STEP:
        raise _step_out_of_range(step)
    return step


_STEP_OF = operator.itemgetter(3)

#: A buffered point: (key, value, timestamp in ms, step). Tuples: ``log`` runs in the training loop, and the
#: sender thread makes the request's columns (:func:`encode_points`) as it sends.
Point = Tuple[str, float, int, int]

_LITTLE_ENDIAN = sys.byteorder == "little"


def encode_points(points: Sequence[Point]) -> bytes:
    """Points as ``POST /api/v1/runs/{run}/metrics`` takes them: the AIMB format of docs/api.md.

    "AIMB", the header's length (u32 LE), the header (JSON: the keys and the number of points), zero bytes to a
    multiple of 8, then the values, timestamps and steps as float64 LE columns and each point's key as a u16 index.
    Built by C loops (``zip``, ``array``), not a Python statement a point: MLflow's JSON took ~1.5 µs a point of
    the interpreter's lock, which the training loop waits for; this takes ~0.2 µs.
    """
    names, values, stamps, steps = zip(*points) if points else ((), (), (), ())
    keys = list(dict.fromkeys(names))
    index = {k: i for i, k in enumerate(keys)}
    header = json.dumps({"keys": keys, "points": len(points)}, separators=(",", ":")).encode("utf-8")
    columns = [array("d", values), array("d", stamps), array("d", steps), array("H", map(index.__getitem__, names))]
    if not _LITTLE_ENDIAN:
        for column in columns:
            column.byteswap()
    padding = b"\0" * (-(8 + len(header)) % 8)
    return b"".join([b"AIMB", struct.pack("<I", len(header)), header, padding, *(c.tobytes() for c in columns)])


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Run:
    """A run being tracked. Made by :func:`aidos.init`; its methods back the module-level functions.

    Attributes: ``id``, ``name``, ``project`` (the experiment's name), ``experiment_id``, ``artifact_uri``,
    ``config`` (as given to ``init``).
    """

    def __init__(
        self,
        client: Client,
        info: Mapping[str, Any],
        project: str,
        config: Optional[Dict[str, Any]] = None,
        *,
        install_hooks: bool = True,
    ) -> None:
        self._client = client
        self.id: str = info["run_id"]
        self.name: str = info.get("run_name", "")
        self.experiment_id: str = info["experiment_id"]
        self.artifact_uri: str = info.get("artifact_uri", f"mlflow-artifacts:/{self.experiment_id}/{self.id}/artifacts")
        self.project = project
        self.config: Dict[str, Any] = dict(config or {})
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        # The buffer. ``log`` appends to it without the lock (a list's append is atomic); everything that removes
        # points from its front holds ``_lock``, and counts them in ``_removed`` (points of the run removed so far).
        self._pending: List[Point] = []
        self._removed = 0
        # One more than the highest step of the first ``_folded`` points of the run (0 first): the automatic step.
        # Kept from the points themselves (folded in under ``_lock`` before they leave the buffer, or when a step is
        # needed) so that ``log`` with a step updates nothing shared and needs no lock.
        self._next_step = 0
        self._folded = 0
        self._dropped = 0  # points dropped for room since the server last took a batch
        self._system_points: List[Point] = []  # system metrics samples, with ``_lock`` held
        self._send_lock = threading.Lock()
        self._closing = False
        self._finished = False
        self._last_write = time.monotonic()
        self._unreachable = False
        self._rejected: Optional[AidosError] = None
        self._exit_status: Optional[str] = None
        self._monitor: Optional[_system.Monitor] = None
        self.flush_interval = FLUSH_INTERVAL_S
        self.heartbeat_interval = HEARTBEAT_INTERVAL_S
        self._thread = threading.Thread(target=self._loop, name=f"aidos-run-{self.id[:8]}", daemon=True)
        self._thread.start()
        self._hooks: List[Tuple[str, Any]] = []
        if install_hooks:
            self._install_hooks()

    def __repr__(self) -> str:
        return f"<aidos.Run {self.id} {self.name!r} in {self.project!r}>"

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        if kind is None:
            self.finish()
        else:
            self.finish("KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED")

    # Logging metrics

    def log(self, data: Mapping[str, Any], step: Optional[int] = None) -> None:
        """Buffers metric values (``{name: number}``) at ``step``, sent in the background.

        ``step`` defaults to one more than the highest step so far (0 first), so a given step moves the count on.
        NaN and ±inf are kept. Bad names or non-numbers raise ``ValueError``/``TypeError`` here, at once.
        """
        # Called every training step: the common case (a dict of floats, names seen before, an int step) takes
        # the short way, anything else the full checks of check_key, metric_value and _check_step. Everything is
        # checked before anything is buffered: a call that raises leaves no trace. With a step, the points are
        # appended without the lock (~2 µs of a 370 µs training step, in the loop's cold caches).
        if self._finished:
            raise RuntimeError(f"run {self.id} has finished: call aidos.init() for a new one")
        if type(step) is int and type(data) is dict and len(data) == 1 and -MAX_STEP <= step <= MAX_STEP:
            for k, v in data.items():
                name = _checked_metric_names.get(k)
                if name is not None and type(v) is float:
                    pending = self._pending
                    pending.append((name, v, int(time.time() * 1000), step))
                    if len(pending) >= BATCH_SIZE:
                        self._buffer_full()
                    return
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"log() takes a dict of metric values, got {type(data).__name__}")
        names = _checked_metric_names
        values: List[Tuple[str, Any]] = []
        for k, v in data.items():
            try:
                name = names[k]
            except (KeyError, TypeError):  # not checked yet (or unhashable: check_key says what is wrong)
                name = metric_name(k)
            if type(v) is not float:
                v = metric_value(v)
            values.append((name, v))
        if step is not None and (type(step) is not int or not -MAX_STEP <= step <= MAX_STEP):
            step = _check_step(step)
        timestamp = int(time.time() * 1000)
        if step is None:
            with self._lock:
                self._fold_steps(len(self._pending))
                step = self._next_step
                # Buffered while the lock is held: the next automatic step folds this one in.
                self._pending.extend([(name, v, timestamp, step) for name, v in values])
        else:
            self._pending.extend([(name, v, timestamp, step) for name, v in values])
        if len(self._pending) >= BATCH_SIZE:
            self._buffer_full()

    def _buffer_system(self, points: List[Point]) -> None:
        """Queues a system metrics sample (a list of its own: its steps count samples, not the script's steps)."""
        with self._lock:
            self._system_points.extend(points)
            del self._system_points[:-MAX_BUFFERED]

    def _buffer_full(self) -> None:
        """A batch or more waits: wakes the sender, and past ``MAX_BUFFERED`` drops the oldest points."""
        with self._lock:
            pending = self._pending
            if len(pending) > MAX_BUFFERED:
                if self._dropped == 0:
                    logger.warning(
                        "aidos: the server has been unreachable too long: the oldest of %d buffered points are "
                        "dropped to make room until it answers",
                        MAX_BUFFERED,
                    )
                dropped = len(pending) - MAX_BUFFERED
                self._dropped += dropped
                self._remove(dropped)
            # The sender may be sending already (it checks the size again before it waits): a spare wake-up only
            # sends the next batch sooner.
            self._wake.notify()

    def _fold_steps(self, upto: int) -> None:
        """Folds the steps of the buffer's first ``upto`` points into ``_next_step``; with ``_lock`` held."""
        start = self._folded - self._removed
        if start < upto:
            self._next_step = max(self._next_step, max(map(_STEP_OF, self._pending[start:upto])) + 1)
            self._folded = self._removed + upto

    def _remove(self, count: int) -> None:
        """Takes the buffer's first ``count`` points out (sent, refused or dropped); with ``_lock`` held."""
        self._fold_steps(count)
        del self._pending[:count]
        self._removed += count

    @property
    def buffered(self) -> int:
        """Points logged but not yet accepted by the server."""
        with self._lock:
            return len(self._pending) + len(self._system_points)

    def _send_pending(self, *, background: bool) -> None:
        """Sends what waits when it starts, in order, ``BATCH_SIZE`` at a time; a point leaves the buffer once the
        server has it.

        Points logged meanwhile wait for the next time: sending until the buffer is empty would, while a training
        loop logs every step, send a request for every point or two, back to back, taking CPU and the GIL from the
        loop. In the background, an unreachable server leaves the points buffered (with one warning per outage) and
        a refused batch is dropped and logged; called in the foreground both raise.
        """
        with self._send_lock:
            with self._lock:
                system, self._system_points = self._system_points, []
            if system and not self._post_batch(system, background, lambda: None):
                with self._lock:  # unreachable: back in front of any sampled meanwhile
                    self._system_points[:0] = system
                return
            left = len(self._pending)
            while left > 0:
                with self._lock:
                    batch = self._pending[: min(left, BATCH_SIZE)]
                    first = self._removed  # the batch's first point (dropped meanwhile if the buffer overflows)
                if not batch:
                    return
                left -= len(batch)
                if not self._post_batch(batch, background, lambda: self._remove_sent(first, len(batch))):
                    return

    def _post_batch(self, batch: List[Point], background: bool, remove: Callable[[], None]) -> bool:
        """Sends one batch and calls ``remove`` once the server has answered (taken or refused it); False when the
        server cannot be reached in the background (the points stay). In the foreground, raises what went wrong."""
        try:
            self._client.post_bytes(f"/api/v1/runs/{self.id}/metrics", encode_points(batch))
        except AidosError as e:
            if e.status is None or e.status >= 500 or e.status == 429:
                if background:
                    if not self._unreachable:
                        logger.warning(
                            "aidos: %s; %d points stay buffered and will be sent when it answers", e, self.buffered
                        )
                    self._unreachable = True
                    return False
                raise
            remove()
            if background:
                logger.error("aidos: the server refused %d points of run %s: %s", len(batch), self.id, e)
                self._rejected = self._rejected or e
                return True
            raise
        if self._unreachable:
            logger.warning("aidos: the server answers again; sending the buffered points")
            self._unreachable = False
        with self._lock:
            dropped, self._dropped = self._dropped, 0
        if dropped:
            logger.warning("aidos: %d points were dropped while the server could not take them", dropped)
        self._last_write = time.monotonic()
        remove()
        return True

    def _remove_sent(self, first: int, count: int) -> None:
        """Takes a batch that began at the run's point ``first`` out of the buffer (less what was dropped since)."""
        with self._lock:
            left = first + count - self._removed
            if left > 0:
                self._remove(left)

    def _heartbeat(self) -> None:
        try:
            self._client.call("POST", "/api/2.0/mlflow/runs/log-batch", {"run_id": self.id})
            self._last_write = time.monotonic()
        except AidosError as e:
            logger.debug("aidos: heartbeat failed: %s", e)
            # Try again at the next tick rather than a whole interval later.
            self._last_write = time.monotonic() - self.heartbeat_interval + self.flush_interval

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._wake.wait_for(lambda: self._closing or len(self._pending) >= BATCH_SIZE, self.flush_interval)
                closing = self._closing
            if closing:
                return
            try:
                self._send_pending(background=True)
                if time.monotonic() - self._last_write >= self.heartbeat_interval:
                    self._heartbeat()
            except Exception as e:  # never let the sender die: the training script goes on
                logger.error("aidos: background sender error: %r", e)

    def flush(self) -> None:
        """Sends every buffered point now; raises when the server refuses them or cannot be reached.

        Also raises (once) the first refusal that the background sender met since the last call.
        """
        self._send_pending(background=False)
        rejected, self._rejected = self._rejected, None
        if rejected is not None:
            raise rejected

    # System metrics

    def start_system_metrics(self, interval: float = _system.DEFAULT_INTERVAL_S) -> None:
        """Samples CPU, memory and GPUs every ``interval`` seconds into ``system/...`` metrics until the run ends.

        Their steps count the samples (0, 1, 2…), apart from the steps of :meth:`log`. Started by
        :func:`aidos.init` unless ``system_metrics=False`` or ``AIDOS_SYSTEM_METRICS=0``; calling it again
        changes the interval.
        """
        if self._finished:
            raise RuntimeError(f"run {self.id} has finished")
        self.stop_system_metrics()
        self._monitor = _system.Monitor(self._log_system, interval, name=f"aidos-system-{self.id[:8]}")

    def stop_system_metrics(self) -> None:
        """Stops sampling system metrics (the run goes on)."""
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.stop()

    def _log_system(self, metrics: Mapping[str, float], step: int, timestamp: int) -> None:
        points: List[Point] = [(k, metric_value(v), timestamp, step) for k, v in metrics.items()]
        if not self._finished:
            self._buffer_system(points)

    # Params and tags

    def _log_batch(self, params: Mapping[str, str] = {}, tags: Mapping[str, str] = {}) -> None:
        items = [("params", k, v) for k, v in params.items()] + [("tags", k, v) for k, v in tags.items()]
        for chunk in _chunks(items, PARAMS_PER_BATCH):
            body: Dict[str, Any] = {"run_id": self.id}
            for kind, key, value in chunk:
                body.setdefault(kind, []).append({"key": check_key(kind[:-1], key), "value": value})
            self._client.call("POST", "/api/2.0/mlflow/runs/log-batch", body)
        self._last_write = time.monotonic()

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs (nested, flattened with ``.``) params; a param cannot change once logged."""
        self._log_batch(params=flatten(params))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Sets tags (they can change)."""
        self._log_batch(tags={k: str(v) for k, v in tags.items()})

    # Dataset inputs

    def use_dataset(self, dataset: "Dataset", context: Optional[str] = "training") -> None:
        """Records that this run used a dataset version (from :func:`aidos.datasets.get`), for lineage.

        Logged as an MLflow dataset input (``runs/log-inputs``): source type ``aidos``, source
        ``aidos://datasets/<name>/versions/<number>``, the manifest's sha256 (shortened) as digest, and
        ``context`` ("training", "validation", "evaluation"…) as the tag ``mlflow.data.context``. Using the
        same version again only updates the context. :func:`aidos.datasets.get` does this by itself while a
        run is active.
        """
        if self._finished:
            raise RuntimeError(f"run {self.id} has finished: call aidos.init() for a new one")
        raw = getattr(dataset, "raw", None)
        if not isinstance(raw, Mapping) or "number" not in raw:
            raise TypeError(f"use_dataset() takes what aidos.datasets.get() returns, got {type(dataset).__name__}")
        digest = str(raw.get("manifestSha256") or raw.get("id") or "")[:DATASET_DIGEST_CHARS]
        entry: Dict[str, Any] = {
            "dataset": {
                "name": dataset.name,
                "digest": digest,
                "source_type": "aidos",
                "source": f"aidos://datasets/{dataset.name}/versions/{dataset.version}",
                "profile": json.dumps({"file_count": dataset.file_count, "total_bytes": dataset.total_bytes}),
            },
        }
        if context:
            entry["tags"] = [{"key": "mlflow.data.context", "value": str(context)}]
        self._client.call("POST", "/api/2.0/mlflow/runs/log-inputs", {"run_id": self.id, "datasets": [entry]})
        self._last_write = time.monotonic()

    # Artifacts

    def _artifact_url(self, path: str) -> str:
        return f"/api/2.0/mlflow-artifacts/artifacts/{self.experiment_id}/{self.id}/artifacts/{quote_path(path)}"

    def log_artifact(self, path: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> str:
        """Uploads a file or a folder (recursively) to the run's artifacts; returns where it went.

        It goes to ``<artifact_path>/<its name>`` (``artifact_path`` is a folder in the run's artifacts; the
        top by default). Files are streamed, never read whole into memory.
        """
        local = os.fspath(path)
        name = os.path.basename(os.path.normpath(local))
        folder = (artifact_path or "").strip("/")
        target = f"{folder}/{name}" if folder else name
        if os.path.isdir(local):
            for root, dirs, files in os.walk(local):
                dirs.sort()
                for file in sorted(files):
                    full = os.path.join(root, file)
                    rel = os.path.relpath(full, local).replace(os.sep, "/")
                    self._upload(full, f"{target}/{rel}")
        elif os.path.isfile(local):
            self._upload(local, target)
        else:
            raise FileNotFoundError(f"no file or folder at {local}")
        return target

    def _upload(self, local: str, target: str) -> None:
        with open(local, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            self._client.upload(self._artifact_url(target), f, size)
        self._last_write = time.monotonic()

    def _artifact_exists(self, artifact_path: str) -> bool:
        parent, _, name = artifact_path.rpartition("/")
        location = f"{self.experiment_id}/{self.id}/artifacts" + (f"/{parent}" if parent else "")
        listing = self._client.call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": location})
        return any(f.get("path") == name for f in listing.get("files", []))

    # Models

    def register_model(
        self,
        name: str,
        path: Union[str, "os.PathLike[str]", None] = None,
        artifact_path: Optional[str] = None,
        aliases: Sequence[str] = (),
        description: Optional[str] = None,
        tags: Optional[Mapping[str, Any]] = None,
    ) -> ModelVersion:
        """Registers a new version of model ``name`` (created when missing) from this run's artifacts.

        Give either ``path`` (a local file or folder: uploaded with :meth:`log_artifact` first) or
        ``artifact_path`` (something this run already logged). The version's source is that artifact's URI in
        the run; ``aliases`` (e.g. ``("champion",)``) are pointed at the new version.
        """
        if (path is None) == (artifact_path is None):
            raise ValueError("register_model() takes either path (to upload) or artifact_path (already logged)")
        if isinstance(aliases, str):
            aliases = (aliases,)
        if path is not None:
            artifact_path = self.log_artifact(path)
        else:
            artifact_path = str(artifact_path).strip("/")
            if not self._artifact_exists(artifact_path):
                raise AidosError(f"run {self.id} has no artifact {artifact_path!r}: log it first, or pass path=")
        try:
            self._client.call("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
        except AidosError as e:
            if e.code != "RESOURCE_ALREADY_EXISTS":
                raise
        body: Dict[str, Any] = {
            "name": name,
            "source": f"{self.artifact_uri}/{artifact_path}",
            "run_id": self.id,
        }
        if description is not None:
            body["description"] = description
        if tags:
            body["tags"] = [{"key": str(k), "value": str(v)} for k, v in tags.items()]
        created = self._client.call("POST", "/api/2.0/mlflow/model-versions/create", body)["model_version"]
        for alias in aliases:
            self._client.call(
                "POST",
                "/api/2.0/mlflow/registered-models/alias",
                {"name": name, "alias": alias, "version": created["version"]},
            )
        if aliases:
            created = self._client.call(
                "GET", "/api/2.0/mlflow/model-versions/get", query={"name": name, "version": created["version"]}
            )["model_version"]
        return ModelVersion(created)

    # The end

    def finish(self, status: str = "FINISHED") -> None:
        """Sends what is buffered and ends the run with ``status`` (FINISHED, FAILED or KILLED). Idempotent.

        Raises when buffered points could not be delivered or were refused; the status is set regardless.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {', '.join(RUN_STATUSES)}, got {status!r}")
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self._closing = True
            self._wake.notify()
        self.stop_system_metrics()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=max(5.0, self._client.timeout))
        self._remove_hooks()
        error: Optional[BaseException] = None
        try:
            self.flush()
        except AidosError as e:
            error = e
        try:
            self._client.call(
                "POST",
                "/api/2.0/mlflow/runs/update",
                {"run_id": self.id, "status": status, "end_time": _now_ms()},
            )
        finally:
            from . import _state

            _state.forget(self)
            self._client.close()
        if error is not None:
            raise error

    # Exit handling: atexit, sys.excepthook, SIGTERM

    def _install_hooks(self) -> None:
        atexit.register(self._at_exit)
        self._hooks.append(("atexit", self._at_exit))
        previous_hook = sys.excepthook

        def excepthook(kind: Any, value: Any, tb: Any) -> None:
            if not self._finished and os.getpid() == self._pid:
                self._exit_status = "KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED"
            previous_hook(kind, value, tb)

        sys.excepthook = excepthook
        self._hooks.append(("excepthook", (excepthook, previous_hook)))
        # Only where nobody else handles SIGTERM, and only from the main thread (Python's rule for handlers).
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
            signal.SIG_DFL,
            None,
        ):

            def on_sigterm(signum: int, frame: Any) -> None:
                if os.getpid() != self._pid or self._finished:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                # Unwind the main thread (finally blocks run) and let atexit finish the run as KILLED: finishing
                # right here could interrupt this very run while it holds its lock.
                self._exit_status = "KILLED"
                raise SystemExit(128 + signal.SIGTERM)

            signal.signal(signal.SIGTERM, on_sigterm)
            self._hooks.append(("sigterm", on_sigterm))

    def _remove_hooks(self) -> None:
        for kind, hook in self._hooks:
            try:
                if kind == "atexit":
                    atexit.unregister(hook)
                elif kind == "excepthook" and sys.excepthook is hook[0]:
                    sys.excepthook = hook[1]
                elif (
                    kind == "sigterm"
                    and threading.current_thread() is threading.main_thread()
                    and signal.getsignal(signal.SIGTERM) is hook
                ):
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
            except Exception:  # pragma: no cover - best effort at shutdown
                pass
        self._hooks = []

    def _at_exit(self) -> None:
        if os.getpid() != self._pid or self._finished:
            return
        try:
            self.finish(self._exit_status or "FINISHED")
        except Exception as e:
            lost = self.buffered
            logger.warning(
                "aidos: could not finish run %s at exit%s: %s",
                self.id,
                f" ({lost} metric points not sent)" if lost else "",
                e,
            )


def start_run(
    client: Client,
    project: str,
    run_name: Optional[str] = None,
    config: Any = None,
    tags: Union[Mapping[str, Any], Iterable[str], None] = None,
    run_id: Optional[str] = None,
    system_metrics_interval: Optional[float] = None,
) -> Run:
    """Creates the run (or attaches to ``run_id``) and logs its config and tags; see :func:`aidos.init`.

    With ``system_metrics_interval`` (seconds), system metrics are sampled from then on.
    """
    if not isinstance(project, str) or not project.strip():
        raise ValueError("init() needs a project name (the experiment the run belongs to)")
    if system_metrics_interval is not None:
        try:
            good = not isinstance(system_metrics_interval, bool) and float(system_metrics_interval) > 0
        except (TypeError, ValueError):
            good = False
        if not good:
            raise ValueError(
                f"system_metrics_interval must be a positive number of seconds, got {system_metrics_interval!r}"
            )
    params = flatten(config) if config is not None else {}
    given: Dict[str, str] = {}
    if isinstance(tags, Mapping):
        given = {str(k): str(v) for k, v in tags.items()}
    elif tags is not None:
        given = {str(t): "" for t in tags}
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    source = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c", "-m") else "<interactive>"
    system = {
        "mlflow.source.name": source,
        "mlflow.source.type": "LOCAL",
        "mlflow.user": user,
        "aidos.heartbeat_interval_ms": str(int(HEARTBEAT_INTERVAL_S * 1000)),
    }
    if run_id:
        try:
            info = client.call("GET", "/api/2.0/mlflow/runs/get", query={"run_id": run_id})["run"]["info"]
        except NotFoundError as e:
            message = f"AIDOS_RUN_ID names run {run_id}, which the server does not have: {e}"
            raise NotFoundError(message, e.status, e.code) from None
        change: Dict[str, Any] = {}
        if run_name:
            change["run_name"] = run_name
        if info.get("status") != "RUNNING":
            # Created ahead (SCHEDULED) by the job runner, or resumed: this process runs it now.
            change["status"] = "RUNNING"
        if change:
            info = client.call("POST", "/api/2.0/mlflow/runs/update", {"run_id": run_id, **change})["run_info"]
        experiment = client.call(
            "GET", "/api/2.0/mlflow/experiments/get", query={"experiment_id": info["experiment_id"]}
        )
        project = experiment["experiment"]["name"]
    else:
        experiment_id = _experiment_id(client, project.strip())
        body: Dict[str, Any] = {
            "experiment_id": experiment_id,
            "user_id": user,
            "start_time": _now_ms(),
            "tags": [{"key": k, "value": v} for k, v in system.items()],
        }
        if run_name:
            body["run_name"] = run_name
        info = client.call("POST", "/api/2.0/mlflow/runs/create", body)["run"]["info"]
    run = Run(client, info, project, config if isinstance(config, dict) else params, install_hooks=True)
    try:
        run._log_batch(params=params, tags={**system, **given} if run_id else given)
    except BaseException:
        try:
            run.finish("FAILED")
        except Exception as e:
            logger.debug("aidos: could not end the run that failed to start: %s", e)
        raise
    if system_metrics_interval is not None:
        run.start_system_metrics(system_metrics_interval)
    return run


def _experiment_id(client: Client, name: str) -> str:
    try:
        found = client.call("GET", "/api/2.0/mlflow/experiments/get-by-name", query={"experiment_name": name})
        return found["experiment"]["experiment_id"]
    except AidosError as e:
        if e.code != "RESOURCE_DOES_NOT_EXIST":
            raise
    try:
        return client.call("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]
    except AidosError as e:
        if e.code != "RESOURCE_ALREADY_EXISTS":  # created by another process meanwhile
            raise
    found = client.call("GET", "/api/2.0/mlflow/experiments/get-by-name", query={"experiment_name": name})
    return found["experiment"]["experiment_id"]
