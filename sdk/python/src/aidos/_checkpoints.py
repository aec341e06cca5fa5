"""Checkpoints of a training job: saved to the server, handed back to the attempt that resumes the job.

A checkpoint is a file (a folder is sent as a tar.gz and unpacked again when read). The job runner sets
``AIDOS_JOB_ID`` for every attempt, and ``AIDOS_RESUME_CHECKPOINT`` / ``AIDOS_RESUME_STEP`` (a local copy of
the job's latest checkpoint and its step) for an attempt that resumes after a failure, a restart or a
preemption. Before such an attempt starts, the server drops the run's metric points past that step.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import operator
import os
import shutil
import tarfile
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _state
from ._errors import AidosError, NotFoundError
from ._http import Client, logger, quote_path

#: The first member of the tar.gz a folder checkpoint is sent as: tells it apart from a tar.gz the user saved.
FOLDER_MARKER = ".aidos-checkpoint-folder.json"
FOLDER_SUFFIX = ".tar.gz"

PathLike = Union[str, "os.PathLike[str]"]


class Checkpoint:
    """The checkpoint an attempt resumes from: ``path`` (a file, or a folder for a folder checkpoint) and ``step``."""

    def __init__(self, path: str, step: int) -> None:
        self.path = path
        self.step = step

    def __repr__(self) -> str:
        return f"<aidos.Checkpoint step={self.step} {self.path!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checkpoint) and (self.path, self.step) == (other.path, other.step)

    def __hash__(self) -> int:
        return hash((self.path, self.step))


def _job_id(job_id: Optional[str]) -> str:
    found = job_id or os.environ.get("AIDOS_JOB_ID")
    if not found:
        raise RuntimeError(
            "not in an AI-DOS training job: AIDOS_JOB_ID is not set (the job runner sets it; "
            "outside a job, pass job_id=)"
        )
    return found


def _checkpoints_path(job_id: str) -> str:
    return f"/api/v1/training/jobs/{quote_path(job_id)}/checkpoints"


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"step must be an integer, got {step!r}")
    value = operator.index(step)
    if value < 0:
        raise ValueError(f"step must be 0 or more, got {value}")
    return value


def _pack_folder(folder: str, into: str) -> None:
    """Writes ``folder`` as a tar.gz: the marker first, then the folder under its own name."""
    name = os.path.basename(os.path.normpath(folder))
    marker = json.dumps({"format": 1, "folder": name}).encode("utf-8")
    # Level 1: checkpoints are mostly weights, which hardly compress; speed matters more.
    with tarfile.open(into, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo(FOLDER_MARKER)
        info.size = len(marker)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(marker))
        tar.add(folder, arcname=name, recursive=True)


def _folder_of(archive: str) -> Optional[str]:
    """The folder name a folder checkpoint holds, or None when ``archive`` is not one (any other file)."""
    if not archive.endswith(FOLDER_SUFFIX):
        return None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != FOLDER_MARKER or not first.isfile():
                return None
            reader = tar.extractfile(first)
            marker = json.loads(reader.read().decode("utf-8")) if reader else {}
    except (tarfile.TarError, OSError, ValueError):
        return None
    folder = marker.get("folder") if isinstance(marker, dict) else None
    if not isinstance(folder, str) or folder in ("", ".", "..") or "/" in folder or os.sep in folder:
        return None
    return folder


def _safe_members(tar: tarfile.TarFile, folder: str) -> List[tarfile.TarInfo]:
    """The members to extract: files, folders and links that stay inside ``folder``; anything else raises."""
    members = []
    for member in tar.getmembers():
        if member.name == FOLDER_MARKER:
            continue
        parts = member.name.split("/")
        if parts[0] != folder or member.name.startswith("/") or ".." in parts:
            raise AidosError(f"folder checkpoint holds {member.name!r}, outside its folder {folder!r}")
        if member.issym() or member.islnk():
            target = member.linkname
            # A symbolic link is relative to its own folder, a hard link to the top of the archive.
            base = os.path.dirname(member.name) if member.issym() else ""
            resolved = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
            if target.startswith("/") or resolved.split("/")[0] != folder:
                raise AidosError(f"folder checkpoint holds a link {member.name!r} pointing outside it ({target!r})")
        elif not (member.isfile() or member.isdir()):
            raise AidosError(f"folder checkpoint holds {member.name!r}, which is not a file or a folder")
        members.append(member)
    return members


def _unpack_folder(archive: str, folder: str, into: str) -> str:
    """Extracts a folder checkpoint into ``into``; returns the folder's path there."""
    os.makedirs(into, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = _safe_members(tar, folder)
        if hasattr(tarfile, "data_filter"):  # Python 3.12, and 3.9.17+ / 3.10.12+ / 3.11.4+
            tar.extractall(into, members=members, filter="data")
        else:
            tar.extractall(into, members=members)
    return os.path.join(into, folder)


def save_checkpoint(
    path: PathLike,
    step: int,
    *,
    name: Optional[str] = None,
    wait: bool = True,
    job_id: Optional[str] = None,
    url: Optional[str] = None,
    token: Optional[str] = None,
) -> Any:
    """Saves a file (or a folder, sent as a tar.gz) as a checkpoint of this job at ``step``; returns its record.

    The current run's buffered metrics are sent first, so that every point logged so far (up to ``step``) is
    on the server before the checkpoint exists: an attempt that resumes from it continues at ``step + 1``
    without gaps. The record is ``{id, jobId, attempt, step, name, size, sha256, createdAt}``.

    ``name`` is what the checkpoint is called on the server (by default the file's name, or the folder's name
    with ``.tar.gz``). The job is ``AIDOS_JOB_ID`` unless ``job_id`` is given; outside a job this raises
    ``RuntimeError``. Raises :class:`aidos.AidosError` when the server refuses (409: the job has ended) or the
    metrics cannot be sent.

    With ``wait=False`` it returns at once a :class:`concurrent.futures.Future` of the record, and one
    background thread sends the metrics and the file, checkpoints in the order saved. Leave the file (or
    folder) as it is until the future is done; a failure is in the future (and logged). The program waits for
    pending checkpoints when it ends.
    """
    job = _job_id(job_id)
    step = _check_step(step)
    local = os.fspath(path)
    is_folder = os.path.isdir(local)
    if not is_folder and not os.path.isfile(local):
        raise FileNotFoundError(f"no file or folder at {local}")
    stored = name or os.path.basename(os.path.normpath(local))
    if is_folder and not stored.endswith(FOLDER_SUFFIX):
        stored += FOLDER_SUFFIX
    client = Client(url, token)
    run = _state.current
    if wait:
        return _save(client, run, local, is_folder, job, step, stored)
    future = _uploader().submit(_save, client, run, local, is_folder, job, step, stored)
    future.add_done_callback(_log_failure(step))
    return future


def _save(
    client: Client, run: Any, local: str, is_folder: bool, job: str, step: int, stored: str
) -> Dict[str, Any]:
    packed: Optional[str] = None
    try:
        if run is not None and not run._finished:
            run.flush()
        if is_folder:
            handle, packed = tempfile.mkstemp(prefix="aidos-checkpoint-", suffix=FOLDER_SUFFIX)
            os.close(handle)
            _pack_folder(local, packed)
        with open(packed or local, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            response, _ = client._send(
                "POST",
                _checkpoints_path(job),
                query={"step": step, "name": stored},
                body=f,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            )
            raw = response.read()
        return json.loads(raw.decode("utf-8"))
    finally:
        client.close()
        if packed is not None and os.path.exists(packed):
            os.remove(packed)


_uploader_lock = threading.Lock()
_executor: Optional[ThreadPoolExecutor] = None


def _uploader() -> ThreadPoolExecutor:
    """One thread, so that checkpoints reach the server in the order saved (the newest is the one resumed from).

    Its thread is not a daemon: the interpreter waits for pending uploads before it runs ``atexit`` (where the
    run is finished).
    """
    global _executor
    with _uploader_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aidos-checkpoints")
        return _executor


def _log_failure(step: int) -> Any:
    def done(future: "Future[Dict[str, Any]]") -> None:
        error = future.exception()
        if error is not None:
            logger.warning("aidos: the checkpoint of step %d was not saved: %s", step, error)

    return done


def list_checkpoints(
    job_id: Optional[str] = None, *, url: Optional[str] = None, token: Optional[str] = None
) -> List[Dict[str, Any]]:
    """The checkpoints of a job (this one, ``AIDOS_JOB_ID``, unless ``job_id`` is given), oldest first."""
    path = _checkpoints_path(_job_id(job_id))
    client = Client(url, token)
    try:
        return list(client.call("GET", path).get("checkpoints", []))
    finally:
        client.close()


def download_checkpoint(
    checkpoint: Union[str, Mapping[str, Any]],
    dest: PathLike,
    *,
    job_id: Optional[str] = None,
    url: Optional[str] = None,
    token: Optional[str] = None,
) -> str:
    """Writes a checkpoint (its id, or a record from :func:`list_checkpoints`) into folder ``dest``; returns its path.

    The bytes are checked against the checkpoint's sha256. A folder checkpoint is unpacked: the path is the
    folder. The job is ``AIDOS_JOB_ID`` unless ``job_id`` is given (or the record names it).
    """
    if isinstance(checkpoint, Mapping):
        job = str(checkpoint.get("jobId") or _job_id(job_id))
    else:
        job = _job_id(job_id)
    client = Client(url, token)
    try:
        if isinstance(checkpoint, Mapping):
            record: Mapping[str, Any] = checkpoint
        else:
            listing = client.call("GET", _checkpoints_path(job)).get("checkpoints", [])
            found = [c for c in listing if c.get("id") == checkpoint]
            if not found:
                raise NotFoundError(f"job {job} has no checkpoint {checkpoint}", 404, "NOT_FOUND")
            record = found[0]
        root = os.path.abspath(os.fspath(dest))
        os.makedirs(root, exist_ok=True)
        stored = os.path.basename(str(record["name"]))
        target = os.path.join(root, stored)
        partial = f"{target}.aidos-partial"
        digest = hashlib.sha256()
        try:
            source = client.download(f"{_checkpoints_path(job)}/{quote_path(str(record['id']))}/content")
            with source, open(partial, "wb") as out:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if record.get("sha256") and digest.hexdigest() != record["sha256"]:
                raise AidosError(
                    f"checkpoint {record['id']} arrived with sha256 {digest.hexdigest()}, expected {record['sha256']}"
                )
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        folder = _folder_of(target)
        if folder is None:
            return target
        try:
            return _unpack_folder(target, folder, root)
        finally:
            os.remove(target)
    finally:
        client.close()


_resumed_lock = threading.Lock()
_resumed: Dict[str, Checkpoint] = {}


def _remove_later(folder: str) -> None:
    atexit.register(shutil.rmtree, folder, True)


def resume_checkpoint() -> Optional[Checkpoint]:
    """The checkpoint this attempt resumes from, or ``None`` when it does not resume (a first attempt).

    Read from ``AIDOS_RESUME_CHECKPOINT`` and ``AIDOS_RESUME_STEP``, which the job runner sets when the job
    is started again (after a failure, a restart of the app or a preemption) and has a checkpoint: the
    latest one. A folder checkpoint is unpacked into a temporary folder (removed when the program ends) and
    ``path`` is that folder; for a file, ``path`` is the file. Continue logging from ``step + 1``.
    """
    path = os.environ.get("AIDOS_RESUME_CHECKPOINT")
    if not path:
        return None
    raw_step = os.environ.get("AIDOS_RESUME_STEP", "")
    try:
        step = int(raw_step)
    except ValueError:
        raise AidosError(f"AIDOS_RESUME_STEP must be an integer, got {raw_step!r}") from None
    if not os.path.isfile(path):
        raise FileNotFoundError(f"AIDOS_RESUME_CHECKPOINT names {path}, which is not a file")
    with _resumed_lock:
        key = f"{path}\0{step}"
        if key in _resumed:
            return _resumed[key]
        folder = _folder_of(path)
        if folder is None:
            found = Checkpoint(os.path.abspath(path), step)
        else:
            into = tempfile.mkdtemp(prefix="aidos-resume-")
            _remove_later(into)
            found = Checkpoint(_unpack_folder(path, folder, into), step)
        _resumed[key] = found
        return found
