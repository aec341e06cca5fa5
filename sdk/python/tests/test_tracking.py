"""init / log / finish against a real core: params, tags, steps, batching, the background sender, exits."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import unittest
from unittest import mock

import aidos
from aidos import _run
from aidos._http import Client
from _support import CallRecorder, ServerTest, closed_port_url, report, run_child, unique, wait_until


class HappyPathTest(ServerTest):
    def test_logs_config_tags_and_metrics_and_finishes(self) -> None:
        project = unique("happy")
        config = {"lr": 0.01, "model": {"layers": 4, "act": "relu"}}
        run = self.init(project, run_name="first", config=config, tags={"team": "vision"})
        self.assertIs(aidos.run, run)
        for i in range(10):
            aidos.log({"loss": 1.0 / (i + 1), "acc": i / 10})
        aidos.log({"lr": 0.5}, step=100)
        aidos.log({"lr": 0.25})
        aidos.finish()
        self.assertIsNone(aidos.run)

        got = self.api.run(run.id)
        self.assertEqual(got.status, "FINISHED")
        self.assertIsNotNone(got.end_time)
        self.assertEqual(got.name, "first")
        self.assertEqual(got.params, {"lr": "0.01", "model.layers": "4", "model.act": "relu"})
        self.assertEqual(got.tags["team"], "vision")
        self.assertEqual(got.tags["aidos.heartbeat_interval_ms"], "30000")
        self.assertTrue(got.tags["mlflow.source.name"])
        self.assertTrue(got.tags["mlflow.user"])
        history = got.history("loss")
        self.assertEqual([(s, v) for s, v, _ in history], [(i, 1.0 / (i + 1)) for i in range(10)])
        self.assertEqual([s for s, _, _ in got.history("lr")], [100, 101])
        self.assertAlmostEqual(got.metrics["acc"], 0.9)
        self.assertEqual(run.project, project)
        report("happy", run_id=run.id, key="loss", steps=list(range(10)), values=[1.0 / (i + 1) for i in range(10)])

    def test_keeps_nan_and_infinities(self) -> None:
        run = self.init()
        run.log({"x": math.nan})
        run.log({"x": math.inf})
        run.log({"x": -math.inf})
        run.log({"x": 2})
        run.finish()
        values = [v for _, v, _ in self.api.run(run.id).history("x")]
        self.assertTrue(math.isnan(values[0]))
        self.assertEqual(values[1:], [math.inf, -math.inf, 2.0])

    def test_every_value_of_a_name_arrives_once_log_remembers_the_name(self) -> None:
        run = self.init()
        name = unique("m")
        run.log({name: 1.0})  # checked, and remembered from here on
        run.log({name: 2.0}, step=5)
        with self.assertRaises(ValueError):
            run.log({name: 3.0, "b//ad": 1.0})
        run.log({name: math.inf})
        run.finish()
        self.assertIn(name, _run._checked_metric_names)
        history = self.api.run(run.id).history(name)
        self.assertEqual([(s, v) for s, v, _ in history], [(0, 1.0), (5, 2.0), (6, math.inf)])

    def test_refuses_bad_names_and_values_at_the_call(self) -> None:
        run = self.init()
        with self.assertRaises(ValueError):
            run.log({"a//b": 1})
        with self.assertRaises(TypeError):
            run.log({"a": "high"})
        with self.assertRaises(TypeError):
            run.log({"a": 1}, step=1.5)  # type: ignore[arg-type]
        self.assertEqual(run.buffered, 0)

    def test_a_context_manager_run_that_raises_is_failed(self) -> None:
        with self.assertRaises(ZeroDivisionError):
            with aidos.init(unique("ctx")) as run:
                run.log({"a": 1})
                1 / 0
        self.assertEqual(self.api.run(run.id).status, "FAILED")


class BatchingTest(ServerTest):
    def test_sends_many_points_in_batches_of_at_most_10000_without_duplicates(self) -> None:
        run = self.init()
        calls = CallRecorder(run)
        count = 25_000
        for i in range(count):
            run.log({"loss": i * 0.5})
        run.flush()
        sizes = [len(points) for points in calls.metric_batches()]
        self.assertGreaterEqual(len(sizes), 3, sizes)
        self.assertTrue(all(n <= 10_000 for n in sizes), sizes)
        self.assertEqual(sum(sizes), count)
        history = self.api.run(run.id).history("loss")
        self.assertEqual([s for s, _, _ in history], list(range(count)))
        self.assertEqual([v for _, v, _ in history[:3]], [0.0, 0.5, 1.0])
        run.finish()
        report("batched", run_id=run.id, key="loss", count=count)

    def test_the_background_thread_sends_within_a_second_or_so(self) -> None:
        run = self.init()
        started = time.monotonic()
        for i in range(5):
            run.log({"m": i})
        wait_until(lambda: len(self.api.run(run.id).history("m")) == 5, 5, "points sent in the background")
        self.assertLess(time.monotonic() - started, 3.5)
        self.assertEqual(run.buffered, 0)

    def test_sends_heartbeats_while_idle(self) -> None:
        run = self.init()
        calls = CallRecorder(run)
        run.heartbeat_interval = 0.3
        wait_until(lambda: sum(1 for b in calls.batches() if set(b) == {"run_id"}) >= 2, 5, "two heartbeats")

    def test_keeps_points_while_the_server_is_unreachable_and_sends_them_later(self) -> None:
        run = self.init()
        good = run._client
        run._client = Client(closed_port_url(), "x")
        run._client.retries, run._client.backoff = 1, 0.01
        with self.assertLogs("aidos", "WARNING") as logs:
            run.log({"m": 1})
            run.log({"m": 2})
            wait_until(lambda: logs.output, 5, "a warning")
        self.assertIn("stay buffered", logs.output[0])
        self.assertEqual(run.buffered, 2)
        with self.assertRaises(aidos.ServerUnreachableError):
            run.flush()
        self.assertEqual(run.buffered, 2)
        run._client = good
        run.log({"m": 3})
        run.flush()
        self.assertEqual([(s, v) for s, v, _ in self.api.run(run.id).history("m")], [(0, 1.0), (1, 2.0), (2, 3.0)])

    def test_a_refused_batch_is_logged_in_the_background_and_raised_by_flush(self) -> None:
        run = self.init()
        run._client.call("POST", "/api/2.0/mlflow/runs/delete", {"run_id": run.id})
        with self.assertLogs("aidos", "ERROR") as logs:
            run.log({"m": 1})
            wait_until(lambda: logs.output, 5, "an error logged")
        self.assertIn("refused", logs.output[0])
        with self.assertRaises(aidos.AidosError) as caught:
            run.flush()
        self.assertEqual(caught.exception.status, 400)
        run.flush()  # raised once


class AttachTest(ServerTest):
    def test_continues_the_run_named_by_AIDOS_RUN_ID(self) -> None:
        project = unique("attach")
        experiment = self.api.client.call("POST", "/api/2.0/mlflow/experiments/create", {"name": project})
        created = self.api.client.call(
            "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": experiment["experiment_id"], "run_name": "queued"}
        )["run"]["info"]
        self.api.client.call("POST", "/api/2.0/mlflow/runs/update", {"run_id": created["run_id"], "status": "SCHEDULED"})
        with mock.patch.dict(os.environ, {"AIDOS_RUN_ID": created["run_id"]}):
            run = self.init("ignored", config={"epochs": 3})
        self.assertEqual(run.id, created["run_id"])
        self.assertEqual(self.api.run(run.id).status, "RUNNING")
        self.assertEqual(run.project, project)
        run.log({"loss": 0.5})
        run.finish()
        got = self.api.run(created["run_id"])
        self.assertEqual(got.status, "FINISHED")
        self.assertEqual(got.params, {"epochs": "3"})
        self.assertEqual(got.name, "queued")
        self.assertEqual(got.tags["aidos.heartbeat_interval_ms"], "30000")
        self.assertEqual(len(list(self.api.runs(project))), 1)

    def test_an_AIDOS_RUN_ID_the_server_does_not_have_is_named_in_the_error(self) -> None:
        with mock.patch.dict(os.environ, {"AIDOS_RUN_ID": "f" * 32}):
            with self.assertRaises(aidos.NotFoundError) as caught:
                aidos.init("ignored")
        self.assertIn("AIDOS_RUN_ID", str(caught.exception))


CHILD = """
import aidos, sys
run = aidos.init(sys.argv[1] if len(sys.argv) > 1 else "child-{tag}")
print(run.id, flush=True)
for i in range(50):
    aidos.log({{"loss": i}})
"""


class ExitTest(ServerTest):
    def _child(self, body: str, **kwargs: object) -> subprocess.CompletedProcess:
        return run_child(CHILD.format(tag=unique("x")) + body, **kwargs)  # type: ignore[arg-type]

    def test_a_script_that_just_ends_finishes_its_run_with_every_point(self) -> None:
        done = self._child("")
        self.assertEqual(done.returncode, 0, done.stderr)
        run = self.api.run(done.stdout.split()[0])
        self.assertEqual(run.status, "FINISHED")
        self.assertEqual(len(run.history("loss")), 50)

    def test_a_script_that_raises_fails_its_run_and_still_prints_the_traceback(self) -> None:
        done = self._child("raise RuntimeError('diverged')\n")
        self.assertEqual(done.returncode, 1)
        self.assertIn("RuntimeError: diverged", done.stderr)
        run = self.api.run(done.stdout.split()[0])
        self.assertEqual(run.status, "FAILED")
        self.assertEqual(len(run.history("loss")), 50)
        report("failed", run_id=run.id)

    @unittest.skipIf(sys.platform == "win32", "POSIX signals")
    def test_sigterm_kills_the_run_after_sending_its_points(self) -> None:
        code = CHILD.format(tag=unique("term")) + "print('ready', flush=True)\nimport time\nwhile 1: time.sleep(0.05)\n"
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        try:
            run_id = child.stdout.readline().split()[0]  # type: ignore[union-attr]
            self.assertEqual(child.stdout.readline().strip(), "ready")  # type: ignore[union-attr]
            child.send_signal(signal.SIGTERM)
            self.assertIn(child.wait(30), (128 + signal.SIGTERM, -signal.SIGTERM))
        finally:
            child.kill() if child.poll() is None else None
            child.stdout.close()  # type: ignore[union-attr]
        run = self.api.run(run_id)
        self.assertEqual(run.status, "KILLED")
        self.assertEqual(len(run.history("loss")), 50)


class HooksTest(unittest.TestCase):
    def test_the_excepthook_chain_is_restored_after_finish(self) -> None:
        # No server needed: a run whose requests go nowhere is enough to install and remove the hooks.
        before = sys.excepthook
        client = Client(closed_port_url(), "x", retries=0)
        run = _run.Run(client, {"run_id": "0" * 32, "experiment_id": "0"}, "p")
        self.assertIsNot(sys.excepthook, before)
        with self.assertRaises(aidos.ServerUnreachableError):
            run.finish()
        self.assertIs(sys.excepthook, before)
        self.assertIsNone(aidos.run)


if __name__ == "__main__":
    unittest.main()
