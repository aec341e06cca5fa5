"""System metrics: sampled in the background under MLflow's names, GPUs through nvidia-smi, off on request."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
import unittest
from unittest import mock

import aidos
from aidos import _system
from _support import ServerTest, report, wait_until

CPU = "system/cpu_utilization_percentage"
MEMORY = (
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/process_rss_megabytes",
)
GPU_LINE = "0, 37, 2048, 81559, 41, 68.50"


def fake_nvidia_smi(folder: str, body: str) -> str:
    """An executable ``nvidia-smi`` in ``folder`` that runs the shell ``body``."""
    path = os.path.join(folder, "nvidia-smi")
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{body}\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def system_metrics(run: aidos.ApiRun) -> set:
    return {k for k in run.metrics if k.startswith("system/")}


class SamplerTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def test_reads_cpu_and_memory_of_the_machine_and_the_process(self) -> None:
        sampler = _system.Sampler(nvidia_smi="")
        sum(i * i for i in range(200_000))  # some CPU time between the two readings, and a few clock ticks
        time.sleep(0.1)
        got = sampler.sample()
        for key in (CPU, "system/process_cpu_utilization_percentage", *MEMORY):
            self.assertIn(key, got)
        self.assertTrue(0 <= got[CPU] <= 100, got)
        self.assertGreater(got["system/system_memory_usage_megabytes"], 0)
        self.assertGreater(got["system/process_rss_megabytes"], 1)
        self.assertFalse([k for k in got if k.startswith("system/gpu_")])

    def test_reports_each_gpu_nvidia_smi_lists_and_leaves_out_what_it_cannot_read(self) -> None:
        line2 = "1, [N/A], 10, 100, [N/A], [Not Supported]"
        sampler = _system.Sampler(nvidia_smi=fake_nvidia_smi(self.dir, f"echo '{GPU_LINE}'; echo '{line2}'"))
        got = sampler.sample()
        self.assertEqual(
            {k: v for k, v in got.items() if k.startswith("system/gpu_")},
            {
                "system/gpu_0_utilization_percentage": 37.0,
                "system/gpu_0_memory_usage_megabytes": 2048.0,
                "system/gpu_0_memory_usage_percentage": round(2048 / 81559 * 100, 2),
                "system/gpu_0_temperature_celsius": 41.0,
                "system/gpu_0_power_usage_watts": 68.5,
                "system/gpu_1_memory_usage_megabytes": 10.0,
                "system/gpu_1_memory_usage_percentage": 10.0,
            },
        )

    def test_a_failing_nvidia_smi_is_ignored_quietly_and_given_up_after_a_few_tries(self) -> None:
        calls = os.path.join(self.dir, "calls")
        sampler = _system.Sampler(nvidia_smi=fake_nvidia_smi(self.dir, f"echo x >> {calls}; exit 9"))
        for _ in range(_system.NVIDIA_SMI_MAX_FAILURES + 3):
            got = sampler.sample()
            self.assertIn("system/process_rss_megabytes", got)
            self.assertFalse([k for k in got if k.startswith("system/gpu_")])
        with open(calls) as f:
            self.assertEqual(len(f.readlines()), _system.NVIDIA_SMI_MAX_FAILURES)

    def test_a_hanging_nvidia_smi_is_cut_off_by_the_timeout(self) -> None:
        sampler = _system.Sampler(nvidia_smi=fake_nvidia_smi(self.dir, "exec sleep 10"))
        started = time.monotonic()
        with mock.patch.object(_system, "NVIDIA_SMI_TIMEOUT_S", 0.3):
            got = sampler.sample()
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("system/process_rss_megabytes", got)

    def test_one_unreadable_source_does_not_cost_the_others(self) -> None:
        sampler = _system.Sampler(nvidia_smi="")
        with mock.patch.object(_system, "memory_megabytes", side_effect=OSError("no /proc")):
            got = sampler.sample()
        self.assertIn("system/process_cpu_utilization_percentage", got)
        self.assertNotIn("system/system_memory_usage_megabytes", got)

    def test_a_real_gpu_is_reported_when_nvidia_smi_is_on_the_path_and_none_otherwise(self) -> None:
        got = _system.Sampler().sample()
        gpus = [k for k in got if k.startswith("system/gpu_")]
        if shutil.which("nvidia-smi"):
            self.assertIn("system/gpu_0_memory_usage_megabytes", got)
        else:
            self.assertEqual(gpus, [])

    def test_the_switch_in_the_environment(self) -> None:
        self.assertTrue(_system.enabled_by_env({}))
        self.assertTrue(_system.enabled_by_env({"AIDOS_SYSTEM_METRICS": "1"}))
        for off in ("0", "false", "OFF", "no"):
            self.assertFalse(_system.enabled_by_env({"AIDOS_SYSTEM_METRICS": off}), off)


class SystemMetricsTest(ServerTest):
    def test_a_run_logs_system_metrics_named_as_mlflow_names_them(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            fake_nvidia_smi(folder, f"echo '{GPU_LINE}'")
            path = folder + os.pathsep + os.environ.get("PATH", "")
            with mock.patch.dict(os.environ, {"PATH": path}):
                run = self.init(system_metrics=True, system_metrics_interval=0.2)
                run.log({"loss": 1.0})
                wanted = {CPU, *MEMORY, "system/gpu_0_utilization_percentage"}

                def three_samples() -> bool:
                    got = self.api.run(run.id)
                    return wanted <= system_metrics(got) and len(got.history(CPU)) >= 3

                wait_until(three_samples, 10, "three samples")
                run.log({"loss": 0.5})
                run.finish()
        got = self.api.run(run.id)
        self.assertEqual(got.metrics["system/gpu_0_memory_usage_megabytes"], 2048.0)
        history = got.history("system/process_rss_megabytes")
        self.assertEqual([s for s, _, _ in history], list(range(len(history))))
        stamps = [t for _, _, t in history]
        self.assertEqual(stamps, sorted(stamps))
        self.assertLess(abs(stamps[-1] - time.time() * 1000), 60_000)
        # Samples count their own steps: the script's steps go on as if there were none.
        self.assertEqual([s for s, _, _ in got.history("loss")], [0, 1])
        report("system", run_id=run.id, names=sorted(system_metrics(got)))

    def test_init_samples_every_ten_seconds_by_default(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "AIDOS_SYSTEM_METRICS"}
        with mock.patch.dict(os.environ, env, clear=True):
            run = self.init(system_metrics=None)
        self.assertIsNotNone(run._monitor)
        self.assertEqual(run._monitor.interval, 10.0)  # type: ignore[union-attr]
        thread = run._monitor._thread  # type: ignore[union-attr]
        run.finish()
        thread.join(2)
        self.assertFalse(thread.is_alive())

    def test_turned_off_by_the_argument_or_the_environment_a_run_logs_none(self) -> None:
        ids = []
        for env, argument in (({}, False), ({"AIDOS_SYSTEM_METRICS": "0"}, None)):
            with mock.patch.dict(os.environ, env):
                run = self.init(system_metrics=argument, system_metrics_interval=0.1)
            self.assertIsNone(run._monitor)
            run.log({"loss": 1.0})
            time.sleep(0.4)
            run.finish()
            self.assertEqual(set(self.api.run(run.id).metrics), {"loss"})
            ids.append(run.id)
        report("no-system", run_ids=ids)

    def test_a_bad_interval_is_refused_before_a_run_is_created(self) -> None:
        with self.assertRaises(ValueError):
            aidos.init("never-created", system_metrics=True, system_metrics_interval=0)
        self.assertIsNone(aidos.run)


if __name__ == "__main__":
    unittest.main()
