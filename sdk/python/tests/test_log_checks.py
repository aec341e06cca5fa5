"""Run.log's checks and the way it buffers, without a server: a client that records what would be sent.

``log`` remembers the metric names it has checked and skips the full checks for plain floats, ints and int
steps (it is called every training step); these tests pin that what it sends and refuses stays the same.
"""

from __future__ import annotations

import math
import threading
import time
import unittest
from typing import Any, Dict, List, Optional
from unittest import mock

from aidos import _run
from _support import unique, wait_until


class RecordingClient:
    """Stands in for the HTTP client: records each request's body, answers ``{}``."""

    timeout = 5.0

    def __init__(self) -> None:
        self.bodies: List[Dict[str, Any]] = []
        self.delay = 0.0
        self._lock = threading.Lock()

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None, query: Any = None) -> Any:
        time.sleep(self.delay)
        if path.endswith("/runs/log-batch") and body and "metrics" in body:
            with self._lock:
                self.bodies.append(body)
        return {}

    def close(self) -> None:
        pass

    def points(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [p for b in self.bodies for p in b["metrics"]]


class LogChecksTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = RecordingClient()
        info = {"run_id": "0" * 32, "experiment_id": "0"}
        self.run = _run.Run(self.client, info, "p", install_hooks=False)  # type: ignore[arg-type]
        self.addCleanup(self.run.finish)

    def sent(self) -> List[Dict[str, Any]]:
        self.run.flush()
        return self.client.points()

    def test_an_invalid_name_is_refused_on_every_use_not_only_the_first(self) -> None:
        for bad in ("a//b", "/a", "a/", "a/../b", "", "é", "x" * 251):
            for _ in range(2):
                with self.assertRaises(ValueError, msg=repr(bad)):
                    self.run.log({bad: 1.0})
            self.assertNotIn(bad, _run._checked_metric_names)
        for bad in (1, 1.5, None, ("a",)):
            for _ in range(2):
                with self.assertRaises(TypeError, msg=repr(bad)):
                    self.run.log({bad: 1.0})  # type: ignore[dict-item]
        self.assertEqual(self.run.buffered, 0)

    def test_a_call_with_one_bad_name_or_value_buffers_nothing_and_keeps_the_step(self) -> None:
        self.run.log({"ok": 1.0})  # step 0, "ok" now remembered
        with self.assertRaises(ValueError):
            self.run.log({"ok": 2.0, "b//ad": 3.0})
        with self.assertRaises(TypeError):
            self.run.log({"ok": 2.0, "v": "high"})
        with self.assertRaises(TypeError):
            self.run.log({"ok": 2.0}, step=True)  # type: ignore[arg-type]
        self.assertEqual(self.run.buffered, 1)
        self.run.log({"ok": 4.0})
        self.assertEqual([(p["step"], p["value"]) for p in self.sent()], [(0, 1.0), (1, 4.0)])

    def test_values_logged_under_a_remembered_name_arrive_as_before(self) -> None:
        name = unique("m")

        class Scalar:  # a tensor or numpy scalar: converted with float()
            def __float__(self) -> float:
                return 0.125

        class Index:  # a numpy integer as step
            def __index__(self) -> int:
                return 7

        values = [0.5, 3, True, math.nan, math.inf, -math.inf, Scalar(), 2.5]
        steps = [None, None, 5, None, None, Index(), None, 100]
        before = time.time()
        for value, step in zip(values, steps):
            self.run.log({name: value}, step=step)  # type: ignore[arg-type]
        self.assertIn(name, _run._checked_metric_names)
        got = self.sent()
        self.assertEqual(
            [(p["key"], p["value"], p["step"]) for p in got],
            [
                (name, 0.5, 0),
                (name, 3, 1),
                (name, 1.0, 5),
                (name, "NaN", 6),
                (name, "Infinity", 7),
                (name, "-Infinity", 7),
                (name, 0.125, 8),
                (name, 2.5, 100),
            ],
        )
        self.assertEqual([sorted(p) for p in got], [["key", "step", "timestamp", "value"]] * len(got))
        self.assertTrue(all(int(before * 1000) <= p["timestamp"] <= time.time() * 1000 for p in got))
        self.assertTrue(all(type(p["timestamp"]) is int for p in got))

    def test_several_names_in_one_call_share_step_and_timestamp(self) -> None:
        self.run.log({"a": 1.0, "b/c": 2, "d.e f-g": -0.5}, step=3)
        got = self.sent()
        self.assertEqual(
            [(p["key"], p["value"], p["step"]) for p in got], [("a", 1.0, 3), ("b/c", 2, 3), ("d.e f-g", -0.5, 3)]
        )
        self.assertEqual(len({p["timestamp"] for p in got}), 1)

    def test_names_past_the_cache_limit_are_still_checked_and_sent(self) -> None:
        with mock.patch.object(_run, "MAX_CHECKED_NAMES", len(_run._checked_metric_names) + 1):
            first, second = unique("m"), unique("m")
            self.run.log({first: 1.0, second: 2.0})
            self.assertIn(first, _run._checked_metric_names)
            self.assertNotIn(second, _run._checked_metric_names)
            self.run.log({second: 3.0})
            with self.assertRaises(ValueError):
                self.run.log({"a//b": 1.0})
        self.assertEqual([(p["key"], p["value"]) for p in self.sent()], [(first, 1.0), (second, 2.0), (second, 3.0)])

    def test_a_full_batch_wakes_the_sender_before_the_interval(self) -> None:
        self.run.flush_interval = 60.0
        time.sleep(_run.FLUSH_INTERVAL_S + 0.3)  # the sender's first wait (1 s) is over: it now waits 60 s
        for i in range(_run.BATCH_SIZE - 1):
            self.run.log({"x": float(i)})
        time.sleep(0.3)
        self.assertEqual(self.client.points(), [])
        self.run.log({"x": -1.0})  # the buffer reaches a batch: the sender wakes
        wait_until(lambda: len(self.client.points()) == _run.BATCH_SIZE, 5, "the first batch")
        for i in range(_run.BATCH_SIZE):  # emptied and filled again: it wakes again
            self.run.log({"x": float(i)})
        wait_until(lambda: len(self.client.points()) == 2 * _run.BATCH_SIZE, 5, "the second batch")
        self.assertEqual([len(b["metrics"]) for b in self.client.bodies], [_run.BATCH_SIZE, _run.BATCH_SIZE])

    def test_points_logged_steadily_go_in_batches_not_a_request_per_point(self) -> None:
        self.client.delay = 0.002  # a server that takes 2 ms: a point or two arrive while each request is out
        self.run.flush_interval = 0.2
        steps = 3000
        started = time.monotonic()
        for i in range(steps):
            self.run.log({"loss": float(i)}, step=i)
            time.sleep(max(0.0, started + (i + 1) * 0.0005 - time.monotonic()))
        got = self.sent()
        self.assertEqual([p["step"] for p in got], list(range(steps)))
        # About one request per flush interval (the loop runs ~1.5 s): before, the sender emptied the buffer
        # each time it woke, and never got there while the loop logged, so ~1000 requests of 2-3 points.
        self.assertLess(len(self.client.bodies), 50)

    def test_flush_returns_while_another_thread_logs_and_sends_what_was_logged_before_it(self) -> None:
        stop = threading.Event()
        logged = [0]

        def steady() -> None:
            while not stop.is_set():
                self.run.log({"loss": 1.0})
                logged[0] += 1
                time.sleep(0.0002)

        thread = threading.Thread(target=steady)
        thread.start()
        try:
            time.sleep(0.3)
            before = logged[0]
            self.run.flush()
            self.assertGreaterEqual(len(self.client.points()), before)
            self.assertTrue(thread.is_alive())
        finally:
            stop.set()
            thread.join()
        got = self.sent()
        self.assertEqual([p["step"] for p in got], list(range(logged[0])))


if __name__ == "__main__":
    unittest.main()
