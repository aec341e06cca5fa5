"""System metrics of a run: CPU, memory and NVIDIA GPUs, sampled by a daemon thread, named as MLflow names them.

Linux is read from ``/proc``; elsewhere ``os.times()``, ``os.getloadavg()`` and ``resource`` give what they can.
GPUs come from one ``nvidia-smi`` call per sample, when it is on ``PATH``. Whatever cannot be read is left out:
sampling never raises into the training script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from typing import Callable, Dict, Optional, Tuple

from ._http import logger

#: Seconds between samples unless ``init(system_metrics_interval=...)`` says otherwise.
DEFAULT_INTERVAL_S = 10.0
#: ``AIDOS_SYSTEM_METRICS=0`` (or false, no, off) turns sampling off when ``init`` does not say.
ENV_SWITCH = "AIDOS_SYSTEM_METRICS"
#: Longest wait for ``nvidia-smi``; it runs in the sampling thread, never in the training script's.
NVIDIA_SMI_TIMEOUT_S = 5.0
#: After this many failed ``nvidia-smi`` calls in a row, GPUs are no longer asked about.
NVIDIA_SMI_MAX_FAILURES = 3

GPU_QUERY = [
    "--query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
    "--format=csv,noheader,nounits",
]

_MB = 1024 * 1024


def enabled_by_env(env: Optional[Dict[str, str]] = None) -> bool:
    value = (os.environ if env is None else env).get(ENV_SWITCH, "").strip().lower()
    return value not in ("0", "false", "no", "off")


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def machine_cpu_times() -> Optional[Tuple[float, float]]:
    """(busy, total) jiffies of every CPU together, from the first line of ``/proc/stat``."""
    text = _read("/proc/stat")
    if not text or not text.startswith("cpu "):
        return None
    # user nice system idle iowait irq softirq steal (guest time is already counted in user).
    fields = [float(x) for x in text.split("\n", 1)[0].split()[1:9]]
    total = sum(fields)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return total - idle, total


def process_cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used: ``/proc/self/stat``, else ``os.times()``."""
    text = _read("/proc/self/stat")
    if text and ")" in text:
        # After the command name (which may hold spaces): state is field 3, utime and stime fields 14 and 15.
        fields = text.rsplit(")", 1)[1].split()
        try:
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (IndexError, ValueError, OSError, AttributeError):
            pass
    t = os.times()
    return t.user + t.system


def memory_megabytes() -> Optional[Tuple[float, float]]:
    """(used, total) memory of the machine in MB: ``/proc/meminfo`` (total − available), else ``sysconf``."""
    text = _read("/proc/meminfo")
    if text:
        info: Dict[str, float] = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                info[key] = float(parts[0]) / 1024  # kB
        if "MemTotal" in info and "MemAvailable" in info:
            return info["MemTotal"] - info["MemAvailable"], info["MemTotal"]
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = os.sysconf("SC_PHYS_PAGES") * page / _MB
        available = os.sysconf("SC_AVPHYS_PAGES") * page / _MB
        return total - available, total
    except (ValueError, OSError, AttributeError):
        return None


def process_rss_megabytes() -> Optional[float]:
    """This process's resident memory in MB: ``VmRSS`` of ``/proc/self/status``, else the peak from ``resource``."""
    text = _read("/proc/self/status")
    if text:
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / _MB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, kB elsewhere
    except (ImportError, OSError, ValueError):
        return None


def parse_nvidia_smi(output: str) -> Dict[str, float]:
    """``system/gpu_<i>_...`` values from ``nvidia-smi --query-gpu`` CSV; "[N/A]" fields are left out."""

    def number(text: str) -> Optional[float]:
        try:
            return float(text.strip())
        except ValueError:
            return None

    metrics: Dict[str, float] = {}
    for line in output.splitlines():
        cells = line.split(",")
        if len(cells) < 6:
            continue
        index = cells[0].strip()
        if not index.isdigit():
            continue
        util, used, total, temp, power = (number(c) for c in cells[1:6])
        prefix = f"system/gpu_{index}_"
        if util is not None:
            metrics[prefix + "utilization_percentage"] = util
        if used is not None:
            metrics[prefix + "memory_usage_megabytes"] = used
            if total:
                metrics[prefix + "memory_usage_percentage"] = round(used / total * 100, 2)
        if temp is not None:
            metrics[prefix + "temperature_celsius"] = temp
        if power is not None:
            metrics[prefix + "power_usage_watts"] = power
    return metrics


class Sampler:
    """Reads the system's counters; each :meth:`sample` reports CPU use since the one before."""

    def __init__(self, nvidia_smi: Optional[str] = None) -> None:
        self.nvidia_smi = nvidia_smi if nvidia_smi is not None else shutil.which("nvidia-smi")
        self._gpu_failures = 0
        self._cpu = machine_cpu_times()
        self._process = (time.monotonic(), process_cpu_seconds())
        self._cores = os.cpu_count() or 1

    def sample(self) -> Dict[str, float]:
        metrics: Dict[str, float] = {}
        for read in (self._cpu_metrics, self._memory_metrics, self._gpu_metrics):
            try:
                metrics.update(read())
            except Exception as e:  # one unreadable source must not cost the others
                logger.debug("aidos: system metrics: %s failed: %r", read.__name__, e)
        return metrics

    def _cpu_metrics(self) -> Dict[str, float]:
        out: Dict[str, float] = {}
        now = machine_cpu_times()
        if now is not None and self._cpu is not None and now[1] > self._cpu[1]:
            busy, total = now[0] - self._cpu[0], now[1] - self._cpu[1]
            out["system/cpu_utilization_percentage"] = round(max(0.0, min(100.0, busy / total * 100)), 2)
        elif now is None and hasattr(os, "getloadavg"):
            # No /proc/stat: the 1-minute load over the cores, a rougher measure of the same thing.
            out["system/cpu_utilization_percentage"] = round(min(100.0, os.getloadavg()[0] / self._cores * 100), 2)
        self._cpu = now
        wall, cpu = time.monotonic(), process_cpu_seconds()
        if wall > self._process[0]:
            # Percent of one core, as top shows it: a process busy on 4 cores reads 400.
            out["system/process_cpu_utilization_percentage"] = round(
                max(0.0, (cpu - self._process[1]) / (wall - self._process[0]) * 100), 2
            )
        self._process = (wall, cpu)
        return out

    def _memory_metrics(self) -> Dict[str, float]:
        out: Dict[str, float] = {}
        memory = memory_megabytes()
        if memory is not None:
            used, total = memory
            out["system/system_memory_usage_megabytes"] = round(used, 1)
            out["system/system_memory_total_megabytes"] = round(total, 1)
            if total > 0:
                out["system/system_memory_usage_percentage"] = round(used / total * 100, 2)
        rss = process_rss_megabytes()
        if rss is not None:
            out["system/process_rss_megabytes"] = round(rss, 1)
        return out

    def _gpu_metrics(self) -> Dict[str, float]:
        if not self.nvidia_smi or self._gpu_failures >= NVIDIA_SMI_MAX_FAILURES:
            return {}
        try:
            done = subprocess.run(
                [self.nvidia_smi, *GPU_QUERY],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=NVIDIA_SMI_TIMEOUT_S,
            )
            metrics = parse_nvidia_smi(done.stdout) if done.returncode == 0 else {}
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
            metrics = {}
        self._gpu_failures = 0 if metrics else self._gpu_failures + 1
        return metrics


class Monitor:
    """A daemon thread that hands ``emit(metrics, step, timestamp_ms)`` a sample every ``interval`` seconds.

    Steps count samples from 0. The first sample comes one interval after the start (CPU use needs two readings).
    """

    def __init__(
        self,
        emit: Callable[[Dict[str, float], int, int], None],
        interval: float = DEFAULT_INTERVAL_S,
        name: str = "aidos-system",
        sampler: Optional[Sampler] = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"system_metrics_interval must be a positive number of seconds, got {interval!r}")
        self.interval = float(interval)
        self._emit = emit
        self._stop = threading.Event()
        self._sampler = sampler
        self.samples = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            sampler = self._sampler or Sampler()
        except Exception as e:  # the training script goes on without system metrics
            logger.warning("aidos: system metrics are off: %r", e)
            return
        while not self._stop.wait(self.interval):
            try:
                metrics = sampler.sample()
                if metrics and not self._stop.is_set():
                    self._emit(metrics, self.samples, int(time.time() * 1000))
                    self.samples += 1
            except Exception as e:  # never let the sampler die: try again next interval
                logger.debug("aidos: system metrics sample failed: %r", e)

    def stop(self, timeout: float = 0.5) -> None:
        """Stops sampling; waits up to ``timeout`` seconds for a sample under way (``nvidia-smi``) to end.

        A sample that ends later is not emitted (and a finished run drops it anyway).
        """
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

