"""Helpers for the SDK tests: they run against a real AI-DOS core named by AIDOS_URL / AIDOS_TOKEN.

sdk/python/sdk.int.test.ts starts one, imports the dataset AIDOS_TEST_DATASET, runs these tests, and then
checks on the server what they report in AIDOS_TEST_REPORT (JSON lines) under AIDOS_TEST_WORK.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
import uuid
from typing import Any, Callable, Dict, List, Optional

import aidos


def require_server() -> None:
    if not os.environ.get("AIDOS_URL") or not os.environ.get("AIDOS_TOKEN"):
        raise unittest.SkipTest("needs a running core: set AIDOS_URL and AIDOS_TOKEN (sdk.int.test.ts does)")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def work_dir() -> str:
    """A folder that outlives the test process (the TypeScript side reads files from it)."""
    path = os.environ.get("AIDOS_TEST_WORK") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "aidos-sdk-tests")
    os.makedirs(path, exist_ok=True)
    return path


_report_lock = threading.Lock()


def report(what: str, **values: Any) -> None:
    """Tells the TypeScript side what to check on the server."""
    path = os.environ.get("AIDOS_TEST_REPORT")
    if not path:
        return
    with _report_lock, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"what": what, **values}) + "\n")


def closed_port_url() -> str:
    """The URL of a port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_child(code: str, env: Optional[Dict[str, str]] = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter with this one's environment (so it finds aidos and the server)."""
    full_env = {k: v for k, v in os.environ.items() if k != "AIDOS_RUN_ID"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=timeout
    )


def decode_metric_batch(data: bytes) -> List[Dict[str, Any]]:
    """The points of a binary metric batch (docs/api.md, "AIMB"), read here apart from the SDK's encoder."""
    assert data[:4] == b"AIMB", data[:16]
    (header_length,) = struct.unpack_from("<I", data, 4)
    header = json.loads(data[8 : 8 + header_length].decode("utf-8"))
    n = header["points"]
    start = (8 + header_length + 7) // 8 * 8
    assert len(data) == start + 26 * n, (len(data), start, n)
    values = struct.unpack_from(f"<{n}d", data, start)
    stamps = struct.unpack_from(f"<{n}d", data, start + 8 * n)
    steps = struct.unpack_from(f"<{n}d", data, start + 16 * n)
    keys = struct.unpack_from(f"<{n}H", data, start + 24 * n)
    as_int = lambda x: int(x) if x.is_integer() else x  # noqa: E731
    return [
        {"key": header["keys"][k], "value": v, "timestamp": as_int(t), "step": as_int(s)}
        for v, t, s, k in zip(values, stamps, steps, keys)
    ]


class CallRecorder:
    """Wraps a run's client to record (method, path, body) of each call, from any thread; binary metric batches
    are recorded decoded, as ``{"metrics": [points]}``."""

    def __init__(self, run: aidos.Run) -> None:
        self.calls: List[Any] = []
        self._lock = threading.Lock()
        client = run._client
        original: Callable[..., Any] = client.call
        original_bytes: Callable[..., Any] = client.post_bytes

        def call(method: str, path: str, body: Any = None, query: Any = None) -> Any:
            with self._lock:
                self.calls.append((method, path, body))
            return original(method, path, body, query)

        def post_bytes(path: str, data: bytes) -> Any:
            with self._lock:
                self.calls.append(("POST", path, {"metrics": decode_metric_batch(data)}))
            return original_bytes(path, data)

        client.call = call  # type: ignore[method-assign]
        client.post_bytes = post_bytes  # type: ignore[method-assign]

    def batches(self) -> List[Dict[str, Any]]:
        """MLflow ``runs/log-batch`` bodies (params, tags, heartbeats)."""
        with self._lock:
            return [b for m, p, b in self.calls if p.endswith("/runs/log-batch")]

    def metric_batches(self) -> List[List[Dict[str, Any]]]:
        """The points of each binary metric batch, in the order sent."""
        with self._lock:
            return [b["metrics"] for m, p, b in self.calls if p.endswith("/metrics") and m == "POST"]


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class ServerTest(unittest.TestCase):
    """A test against the core; runs made with ``self.init`` are finished afterwards whatever happens."""

    @classmethod
    def setUpClass(cls) -> None:
        require_server()
        cls.api = aidos.Api()

    def init(self, project: Optional[str] = None, **kwargs: Any) -> aidos.Run:
        # System metrics only where a test asks for them: their points would mix with the ones it counts.
        kwargs.setdefault("system_metrics", False)
        run = aidos.init(project or unique(type(self).__name__.lower()), **kwargs)
        self.addCleanup(self._finish_quietly, run)
        return run

    @staticmethod
    def _finish_quietly(run: aidos.Run) -> None:
        try:
            run.finish()
        except aidos.AidosError:
            pass
