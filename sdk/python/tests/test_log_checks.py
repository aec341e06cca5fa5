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
from _support import decode_metric_batch, unique, wait_until


class RecordingClient:
    """Stands in for the HTTP client: records each metric batch (decoded, as ``{"metrics": [points]}``)."""

    timeout = 5.0

    def __init__(self) -> None:
        self.bodies: List[Dict[str, Any]] = []
        self.delay = 0.0
        self._lock = threading.Lock()

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None, query: Any = None) -> Any:
        return {}

    def post_bytes(self, path: str, data: bytes) -> Any:
        time.sleep(self.delay)
        assert path == f"/api/v1/runs/{'0' * 32}/metrics", path
        points = decode_metric_batch(data)
        with self._lock:
            self.bodies.append({"metrics": points})
        return {"points": len(points)}

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
        with self.assertRaisesRegex(ValueError, "too large for a float64"):
            self.run.log({"ok": 10**400})
        for step in (2**53, -(2**53)):  # beyond what the server keeps exactly
            with self.assertRaisesRegex(ValueError, f"step {step} is out of range"):
                self.run.log({"ok": 2.0}, step=step)
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

        values = [0.5, 3, True, math.nan, math.inf, -math.inf, Scalar(), 2.5, 10**20]
        steps = [None, None, 5, None, None, Index(), None, 100, 2**53 - 1]
        before = time.time()
        for value, step in zip(values, steps):
            self.run.log({name: value}, step=step)  # type: ignore[arg-type]
        self.assertIn(name, _run._checked_metric_names)
        got = self.sent()
        # NaN and ±inf as float64s (named here: NaN equals nothing); every value a float.
        self.assertEqual(
            [(p["key"], p["value"] if math.isfinite(p["value"]) else str(p["value"]), p["step"]) for p in got],
            [
                (name, 0.5, 0),
                (name, 3.0, 1),
                (name, 1.0, 5),
                (name, "nan", 6),
                (name, "inf", 7),
                (name, "-inf", 7),
                (name, 0.125, 8),
                (name, 2.5, 100),
                (name, 1e20, 2**53 - 1),
            ],
        )
        self.assertTrue(all(type(p["value"]) is float for p in got))
        self.assertEqual([sorted(p) for p in got], [["key", "step", "timestamp", "value"]] * len(got))
        self.assertTrue(all(int(before * 1000) <= p["timestamp"] <= time.time() * 1000 for p in got))
        self.assertTrue(all(type(p["timestamp"]) is int for p in got))

    def test_several_names_in_one_call_share_step_and_timestamp(self) -> None:
        self.run.log({"a": 1.0, "b/c": 2, "d.e f-g": -0.5}, step=3)
        got = self.sent()
        self.assertEqual(
            [(p["key"], p["value"], p["step"]) for p in got], [("a", 1.0, 3), ("b/c", 2.0, 3), ("d.e f-g", -0.5, 3)]
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


    def test_the_automatic_step_follows_the_highest_step_logged_sent_or_not(self) -> None:
        for step in (5, 9, 7):
            self.run.log({"loss": 1.0}, step=step)  # the short way: no lock, nothing shared updated
        self.run.log({"acc": 0.5})  # 10: one past 9
        self.run.flush()  # every point sent and out of the buffer
        self.run.log({"loss": 2.0}, step=3)
        self.run.log({"acc": 0.6})  # 11: 9 and 10 were sent, and still count
        self.run.log({"acc": 0.7, "loss": 3})  # the long way, automatic too: 12
        self.run.log({"loss": 4.0}, step=40)
        self.run._send_pending(background=False)
        self.run.log({"acc": 0.8})  # 41
        self.assertEqual(
            [(p["key"], p["step"]) for p in self.sent()],
            [
                ("loss", 5),
                ("loss", 9),
                ("loss", 7),
                ("acc", 10),
                ("loss", 3),
                ("acc", 11),
                ("acc", 12),
                ("loss", 12),
                ("loss", 40),
                ("acc", 41),
            ],
        )

    def test_threads_logging_steps_at_once_lose_no_point_and_the_next_step_is_past_them_all(self) -> None:
        self.run.flush_interval = 0.01  # sends (and removes points) all the while
        per_thread = 20_000

        def steady(offset: int) -> None:
            for i in range(per_thread):
                self.run.log({"loss": float(i)}, step=offset + 2 * i)

        threads = [threading.Thread(target=steady, args=(offset,)) for offset in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.run.log({"done": 1.0})
        got = self.sent()
        self.assertEqual(sorted(p["step"] for p in got if p["key"] == "loss"), list(range(2 * per_thread)))
        self.assertEqual([p["step"] for p in got if p["key"] == "done"], [2 * per_thread])
        self.assertGreater(len(self.client.bodies), 2)

    def test_points_dropped_for_room_while_a_batch_is_out_are_not_removed_twice(self) -> None:
        self.client.delay = 0.3  # the first batch is on its way for 0.3 s
        with mock.patch.object(_run, "MAX_BUFFERED", 15_000), self.assertLogs("aidos", "WARNING") as logs:
            for i in range(10_000):
                self.run.log({"x": float(i)}, step=i)  # a full batch: the sender wakes and sends 0-9999
            time.sleep(0.1)
            for i in range(10_000, 20_000):
                self.run.log({"x": float(i)}, step=i)  # past 15,000 buffered: 0-4999 are dropped meanwhile
            self.run.flush()
        # One warning when dropping starts, one with the count once a batch is taken again: not one a point.
        self.assertEqual(len(logs.output), 2, logs.output)
        self.assertIn("5000 points were dropped", logs.output[1])
        steps = [p["step"] for p in self.client.points()]
        # 0-9999 went out once; the rest follow, none lost to the removal of a batch that had partly gone.
        self.assertEqual(steps[:10_000], list(range(10_000)))
        self.assertEqual(steps[10_000:], list(range(10_000, 20_000)))


if __name__ == "__main__":
    unittest.main()
