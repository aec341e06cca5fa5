"""aidos.datasets: a version's files, downloads checked by sha256, streams, and to_pandas without pandas."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import unittest
from unittest import mock

import aidos
from aidos.datasets import Dataset, FileEntry
from _support import require_server, unique

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


if __name__ == "__main__":
    unittest.main()
