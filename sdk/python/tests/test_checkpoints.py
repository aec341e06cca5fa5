"""Checkpoints of training jobs: save (files, folders), list, download, and the attempt that resumes a job."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import textwrap
import time
import unittest
from typing import Any, Dict, List
from unittest import mock

import aidos
from aidos import _http
from _support import ServerTest, decode_metric_batch, unique, wait_until, work_dir

JOBS = "/api/v1/training/jobs"
#: Where the SDK's sources are, for the jobs these tests start (their environment is the server's).
SDK_SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(aidos.__file__)))
ENDED = ("succeeded", "failed", "cancelled", "timed-out")


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read_tree(root: str) -> Dict[str, bytes]:
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            full = os.path.join(folder, name)
            with open(full, "rb") as f:
                found[os.path.relpath(full, root)] = f.read()
    return found


class Jobs:
    """Training jobs through the REST API, as the app's UI or CLI would submit them."""

    def __init__(self) -> None:
        self.client = _http.Client()

    def submit(self, code: str, retries: int = 0) -> Dict[str, Any]:
        folder = os.path.join(work_dir(), unique("job"))
        os.makedirs(folder)
        spec = {
            "name": unique("checkpoints"),
            "command": [sys.executable, "-c", textwrap.dedent(code)],
            "workingDir": folder,
            "env": {"PYTHONPATH": SDK_SOURCE, "PYTHONDONTWRITEBYTECODE": "1", "AIDOS_SYSTEM_METRICS": "0"},
            "retries": retries,
        }
        return self.client.call("POST", JOBS, spec)

    def get(self, job_id: str) -> Dict[str, Any]:
        return self.client.call("GET", f"{JOBS}/{job_id}")

    def wait(self, job_id: str, states: tuple, timeout: float = 60.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job["state"] in states:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} is still {job['state']} after {timeout} s, not {states}")
            time.sleep(0.1)

    def cancel(self, job_id: str) -> None:
        self.client.call("POST", f"{JOBS}/{job_id}/cancel")

    def output(self, job_id: str) -> List[str]:
        lines = self.client.call("GET", f"{JOBS}/{job_id}/logs")["lines"]
        return [line["text"] for line in lines if line["stream"] == "stdout"]


class OutsideAJobTest(unittest.TestCase):
    def test_saving_outside_a_job_says_so(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "AIDOS_JOB_ID"}
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaisesRegex(RuntimeError, "not in an AI-DOS training job: AIDOS_JOB_ID is not set"):
                aidos.save_checkpoint(__file__, 1)
            with self.assertRaisesRegex(RuntimeError, "AIDOS_JOB_ID"):
                aidos.list_checkpoints()

    def test_a_first_attempt_has_nothing_to_resume(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIDOS_RESUME_")}
        with mock.patch.dict(os.environ, env, clear=True):
            self.assertIsNone(aidos.resume_checkpoint())

    def test_refuses_bad_steps_and_missing_files_before_any_request(self) -> None:
        with self.assertRaisesRegex(ValueError, "step must be 0 or more"):
            aidos.save_checkpoint(__file__, -1, job_id="x", url="http://127.0.0.1:9")
        with self.assertRaisesRegex(TypeError, "step must be an integer"):
            aidos.save_checkpoint(__file__, 1.5, job_id="x", url="http://127.0.0.1:9")  # type: ignore[arg-type]
        with self.assertRaises(FileNotFoundError):
            aidos.save_checkpoint(os.path.join(work_dir(), "missing"), 1, job_id="x", url="http://127.0.0.1:9")


class CheckpointTest(ServerTest):
    """Checkpoints saved from this process into a job that runs meanwhile (a sleeping script)."""

    job_id: str
    jobs: Jobs

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.jobs = Jobs()
        cls.job_id = cls.jobs.submit("import time; time.sleep(600)")["id"]
        cls.jobs.wait(cls.job_id, ("running",))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.jobs.cancel(cls.job_id)
        cls.jobs.wait(cls.job_id, ENDED)

    def setUp(self) -> None:
        self.dir = os.path.join(work_dir(), unique("checkpoints"))

    def test_saves_lists_and_downloads_a_file(self) -> None:
        data = os.urandom(300_000)
        local = write(os.path.join(self.dir, "model.pt"), data)
        saved = aidos.save_checkpoint(local, 3, job_id=self.job_id)
        self.assertEqual(
            {k: saved[k] for k in ("jobId", "attempt", "step", "name", "size", "sha256")},
            {
                "jobId": self.job_id,
                "attempt": 1,
                "step": 3,
                "name": "model.pt",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )
        listed = aidos.list_checkpoints(self.job_id)
        self.assertEqual(listed[-1], saved)  # oldest first: the one just saved is last

        by_record = aidos.download_checkpoint(saved, os.path.join(self.dir, "a"))
        self.assertEqual(os.path.basename(by_record), "model.pt")
        with open(by_record, "rb") as f:
            self.assertEqual(f.read(), data)
        by_id = aidos.download_checkpoint(saved["id"], os.path.join(self.dir, "b"), job_id=self.job_id)
        with open(by_id, "rb") as f:
            self.assertEqual(f.read(), data)
        with self.assertRaises(aidos.NotFoundError):
            aidos.download_checkpoint("01JAAAAAAAAAAAAAAAAAAAAAAA", os.path.join(self.dir, "c"), job_id=self.job_id)

    def test_takes_the_job_from_the_environment_and_a_name_of_its_own(self) -> None:
        local = write(os.path.join(self.dir, "weights.bin"), b"\x01\x02")
        with mock.patch.dict(os.environ, {"AIDOS_JOB_ID": self.job_id}):
            saved = aidos.save_checkpoint(local, 0, name="epoch-0.bin")
            self.assertEqual((saved["jobId"], saved["step"], saved["name"]), (self.job_id, 0, "epoch-0.bin"))
            self.assertIn(saved["id"], [c["id"] for c in aidos.list_checkpoints()])

    def test_a_folder_travels_as_a_tar_gz_and_comes_back_as_the_folder(self) -> None:
        folder = os.path.join(self.dir, "state")
        write(os.path.join(folder, "model.pt"), os.urandom(5000))
        write(os.path.join(folder, "optimizer", "adam.pt"), b"moments")
        write(os.path.join(folder, "notes", "café.txt"), "épique".encode("utf-8"))
        saved = aidos.save_checkpoint(folder, 7, job_id=self.job_id)
        self.assertEqual((saved["name"], saved["step"]), ("state.tar.gz", 7))

        restored = aidos.download_checkpoint(saved, os.path.join(self.dir, "restored"))
        self.assertEqual(restored, os.path.join(self.dir, "restored", "state"))
        self.assertEqual(read_tree(restored), read_tree(folder))
        self.assertEqual(os.listdir(os.path.join(self.dir, "restored")), ["state"])  # the archive is gone

        # What a resumed attempt gets: the raw file as the server stored it, named as uploaded.
        raw = os.path.join(self.dir, "resume", "state.tar.gz")
        os.makedirs(os.path.dirname(raw))
        source = self.jobs.client.download(f"{JOBS}/{self.job_id}/checkpoints/{saved['id']}/content")
        with source, open(raw, "wb") as f:
            f.write(source.read())
        with mock.patch.dict(os.environ, {"AIDOS_RESUME_CHECKPOINT": raw, "AIDOS_RESUME_STEP": "7"}):
            resumed = aidos.resume_checkpoint()
        assert resumed is not None
        self.assertEqual(resumed.step, 7)
        self.assertEqual(os.path.basename(resumed.path), "state")
        self.assertEqual(read_tree(resumed.path), read_tree(folder))

    def test_a_tar_gz_file_of_ones_own_stays_a_file(self) -> None:
        import tarfile

        folder = write(os.path.join(self.dir, "data", "x.txt"), b"x")
        archive = os.path.join(self.dir, "mine.tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname="x.txt")
        saved = aidos.save_checkpoint(archive, 1, job_id=self.job_id)
        got = aidos.download_checkpoint(saved, os.path.join(self.dir, "got"))
        self.assertEqual(got, os.path.join(self.dir, "got", "mine.tar.gz"))
        with mock.patch.dict(os.environ, {"AIDOS_RESUME_CHECKPOINT": got, "AIDOS_RESUME_STEP": "1"}):
            self.assertEqual(aidos.resume_checkpoint(), aidos.Checkpoint(got, 1))

    def test_sends_the_buffered_metrics_before_the_checkpoint(self) -> None:
        run = self.init()
        events: List[Any] = []
        original = _http.Client._send

        def send(client: _http.Client, method: str, path: str, **kwargs: Any) -> Any:
            if path.endswith(f"/runs/{run.id}/metrics"):
                events.append(("metrics", len(decode_metric_batch(kwargs["body"]))))
            elif path.endswith("/checkpoints") and method == "POST":
                events.append(("checkpoint", run.buffered))
            return original(client, method, path, **kwargs)

        local = write(os.path.join(self.dir, "ck.bin"), b"state")
        with mock.patch.object(_http.Client, "_send", send):
            for step in range(1, 301):
                run.log({"loss": 1.0 / step}, step=step)
            aidos.save_checkpoint(local, 300, job_id=self.job_id)
        at = [kind for kind, _ in events].index("checkpoint")
        self.assertEqual(events[at], ("checkpoint", 0))  # nothing left in the buffer when it was sent
        self.assertEqual(sum(n for kind, n in events[:at] if kind == "metrics"), 300)
        self.assertEqual([s for s, _, _ in self.api.run(run.id).history("loss")], list(range(1, 301)))

    def test_saves_in_the_background_in_order_after_the_metrics(self) -> None:
        run = self.init()
        files = [write(os.path.join(self.dir, f"ck-{i}.bin"), os.urandom(50_000)) for i in range(3)]
        futures = []
        for i, file in enumerate(files):
            for step in range(i * 100 + 1, i * 100 + 101):
                run.log({"loss": float(step)}, step=step)
            futures.append(aidos.save_checkpoint(file, (i + 1) * 100, name="state.bin", job_id=self.job_id, wait=False))
        records = [f.result(timeout=30) for f in futures]
        self.assertEqual([(r["step"], r["name"]) for r in records], [(s, "state.bin") for s in (100, 200, 300)])
        ids = [c["id"] for c in aidos.list_checkpoints(self.job_id)]
        self.assertEqual(ids[-3:], [r["id"] for r in records])  # in the order saved: the newest is the last one
        for record, file in zip(records, files):
            with open(file, "rb") as f:
                self.assertEqual(record["sha256"], hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(run.buffered, 0)
        self.assertEqual([s for s, _, _ in self.api.run(run.id).history("loss")], list(range(1, 301)))

    def test_a_failed_background_save_is_in_its_future(self) -> None:
        local = write(os.path.join(self.dir, "ck.bin"), b"state")
        with self.assertLogs("aidos", "WARNING") as logged:
            future = aidos.save_checkpoint(local, 1, job_id="01JAAAAAAAAAAAAAAAAAAAAAAA", wait=False)
            with self.assertRaises(aidos.NotFoundError):
                future.result(timeout=30)
            wait_until(lambda: logged.output, what="the warning")
        self.assertIn("the checkpoint of step 1 was not saved", logged.output[0])

    def test_refusals(self) -> None:
        local = write(os.path.join(self.dir, "ck.bin"), b"state")
        with self.assertRaises(aidos.NotFoundError):
            aidos.save_checkpoint(local, 1, job_id="01JAAAAAAAAAAAAAAAAAAAAAAA")
        with self.assertRaises(aidos.AidosError) as bad_name:
            aidos.save_checkpoint(local, 1, name="../escape.bin", job_id=self.job_id)
        self.assertEqual(bad_name.exception.status, 400)

        ended = self.jobs.submit("pass")["id"]
        self.jobs.wait(ended, ENDED)
        with self.assertRaises(aidos.AidosError) as late:
            aidos.save_checkpoint(local, 1, job_id=ended)
        self.assertEqual(late.exception.status, 409)


class ResumeTest(ServerTest):
    def test_a_retried_attempt_resumes_from_the_latest_checkpoint(self) -> None:
        # The first attempt saves two folder checkpoints and fails; the retry gets the second one.
        code = """
            import json, os, sys
            import aidos

            resumed = aidos.resume_checkpoint()
            if resumed is None:
                os.makedirs("state/inner")
                for step in (4, 9):
                    with open("state/inner/value.txt", "w") as f:
                        f.write(f"saved at {step}")
                    aidos.save_checkpoint("state", step)
                sys.exit(3)
            with open(os.path.join(resumed.path, "inner", "value.txt")) as f:
                value = f.read()
            print(json.dumps({
                "step": resumed.step,
                "env_step": os.environ["AIDOS_RESUME_STEP"],
                "file": os.path.basename(os.environ["AIDOS_RESUME_CHECKPOINT"]),
                "folder": os.path.basename(resumed.path),
                "value": value,
            }))
        """
        jobs = Jobs()
        job = jobs.submit(code, retries=1)
        done = jobs.wait(job["id"], ENDED)
        output = jobs.output(job["id"])
        self.assertEqual((done["state"], done["attempt"]), ("succeeded", 2), output)
        self.assertEqual(
            json.loads(output[-1]),
            {"step": 9, "env_step": "9", "file": "state.tar.gz", "folder": "state", "value": "saved at 9"},
        )
        listed = aidos.list_checkpoints(job["id"])
        self.assertEqual(
            [(c["attempt"], c["step"], c["name"]) for c in listed], [(1, 4, "state.tar.gz"), (1, 9, "state.tar.gz")]
        )


if __name__ == "__main__":
    unittest.main()
