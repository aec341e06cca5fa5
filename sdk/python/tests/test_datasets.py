"""aidos.datasets: a version's files, downloads checked by sha256, streams, to_pandas without pandas, and
the dataset inputs a run records for lineage."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import unittest
from typing import Any, Dict, List
from unittest import mock

import aidos
from aidos.datasets import Dataset, FileEntry
from _support import ServerTest, report, require_server, unique

# What sdk.int.test.ts imports as the dataset AIDOS_TEST_DATASET.
FILES = {
    "table.csv": b"id,name,score\n1,ada,0.9\n2,bob,0.7\n",
    "notes/readme.txt": "caf\u00e9 notes\n".encode("utf-8"),
    "notes/deep/blob.bin": bytes(range(256)) * 64,
}


class DatasetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        require_server()
        cls.name = os.environ.get("AIDOS_TEST_DATASET")
        if not cls.name:
            raise unittest.SkipTest("needs AIDOS_TEST_DATASET: a dataset holding FILES")

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_gets_the_latest_version_and_lists_its_files(self) -> None:
        ds = aidos.datasets.get(self.name)
        self.assertEqual((ds.version, ds.file_count, ds.total_bytes), (1, 3, sum(map(len, FILES.values()))))
        expected = sorted(FileEntry(p, hashlib.sha256(b).hexdigest(), len(b)) for p, b in FILES.items())
        self.assertEqual(ds.files(), expected)
        self.assertEqual([f.path for f in ds.files("notes/deep")], ["notes/deep/blob.bin"])
        self.assertEqual(aidos.datasets.get(self.name, 1).id, ds.id)

    def test_downloads_every_file_verified(self) -> None:
        ds = aidos.datasets.get(self.name, "latest")
        target = os.path.join(self.tmp.name, "data")
        self.assertEqual(ds.download(target), target)
        for path, data in FILES.items():
            with open(os.path.join(target, *path.split("/")), "rb") as f:
                self.assertEqual(f.read(), data, path)
        # Again: what is there and right is kept.
        with mock.patch.object(Dataset, "open", side_effect=AssertionError("downloaded again")):
            ds.download(target)

    def test_a_file_whose_bytes_do_not_match_is_refused_and_not_left_behind(self) -> None:
        ds = aidos.datasets.get(self.name)
        wrong = [FileEntry("table.csv", "0" * 64, len(FILES["table.csv"]))]
        with mock.patch.object(Dataset, "iter_files", return_value=iter(wrong)):
            with self.assertRaises(aidos.AidosError) as caught:
                ds.download(self.tmp.name)
        self.assertIn("sha256", str(caught.exception))
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_opens_files_as_bytes_or_text(self) -> None:
        ds = aidos.datasets.get(self.name)
        with ds.open("notes/deep/blob.bin") as f:
            self.assertEqual(f.read(10), bytes(range(10)))
            self.assertEqual(len(f.read()), len(FILES["notes/deep/blob.bin"]) - 10)
        with ds.open("notes/readme.txt", "r") as f:
            self.assertEqual(f.read(), "caf\u00e9 notes\n")
        with self.assertRaises(aidos.NotFoundError):
            ds.read("absent.txt")

    def test_to_pandas_names_pandas_when_it_is_missing(self) -> None:
        ds = aidos.datasets.get(self.name)
        with mock.patch.dict(sys.modules, {"pandas": None}):
            with self.assertRaises(ImportError) as caught:
                ds.to_pandas()
        self.assertIn("pandas", str(caught.exception))
        self.assertIn("pip install pandas", str(caught.exception))

    def test_an_unknown_dataset_or_version_is_not_found(self) -> None:
        with self.assertRaises(aidos.NotFoundError):
            aidos.datasets.get(unique("no-such-dataset"))
        with self.assertRaises(aidos.NotFoundError):
            aidos.datasets.get(self.name, 99)


class DatasetInputTest(ServerTest):
    """Which dataset versions a run used, as MLflow dataset inputs (``runs/log-inputs``)."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.name = os.environ.get("AIDOS_TEST_DATASET")
        if not cls.name:
            raise unittest.SkipTest("needs AIDOS_TEST_DATASET: a dataset holding FILES")

    def inputs(self, run: aidos.Run) -> List[Dict[str, Any]]:
        got = self.api.client.call("GET", "/api/2.0/mlflow/runs/get", query={"run_id": run.id})
        return got["run"]["inputs"].get("dataset_inputs", [])

    def expected(self, ds: Dataset, context: str) -> Dict[str, Any]:
        return {
            "name": self.name,
            "digest": ds.raw["manifestSha256"][:16],
            "source_type": "aidos",
            "source": f"aidos://datasets/{self.name}/versions/1",
            "context": context,
        }

    @staticmethod
    def flat(i: Dict[str, Any]) -> Dict[str, Any]:
        tags = {t["key"]: t["value"] for t in i.get("tags", [])}
        return {
            **{k: i["dataset"][k] for k in ("name", "digest", "source_type", "source")},
            "context": tags.get("mlflow.data.context"),
        }

    def test_use_dataset_records_the_version_with_its_context(self) -> None:
        run = self.init()
        ds = aidos.datasets.get(self.name, log_input=False)
        self.assertEqual(self.inputs(run), [])
        run.use_dataset(ds, context="validation")
        got = self.inputs(run)
        self.assertEqual([self.flat(i) for i in got], [self.expected(ds, "validation")])
        self.assertEqual(len(ds.raw["manifestSha256"]), 64)
        # The same version again only changes its context.
        aidos.use_dataset(ds, "evaluation")
        self.assertEqual([self.flat(i) for i in self.inputs(run)], [self.expected(ds, "evaluation")])
        self.assertEqual(len(self.api.run(run.id).inputs), 1)
        run.finish()
        with self.assertRaises(RuntimeError):
            run.use_dataset(ds)
        report("input", run_id=run.id, source=f"aidos://datasets/{self.name}/versions/1", context="evaluation")

    def test_datasets_get_records_the_input_of_the_active_run(self) -> None:
        run = self.init()
        ds = aidos.datasets.get(self.name, 1)
        self.assertEqual([self.flat(i) for i in self.inputs(run)], [self.expected(ds, "training")])
        run.finish()
        self.assertIsNone(aidos.run)
        aidos.datasets.get(self.name)  # no run: nothing to record, nothing fails
        report("auto-input", run_id=run.id, source=f"aidos://datasets/{self.name}/versions/1", context="training")

    def test_a_run_that_cannot_record_the_input_still_gets_its_dataset(self) -> None:
        run = self.init()
        self.api.client.call("POST", "/api/2.0/mlflow/runs/delete", {"run_id": run.id})
        with self.assertLogs("aidos", "WARNING") as logs:
            ds = aidos.datasets.get(self.name, context="testing")
        self.assertEqual(ds.version, 1)
        self.assertIn("could not record", logs.output[0])

    def test_use_dataset_takes_only_what_datasets_get_returns(self) -> None:
        run = self.init()
        with self.assertRaises(TypeError):
            run.use_dataset("penguins")  # type: ignore[arg-type]


if __name__ == "__main__":
    unittest.main()
