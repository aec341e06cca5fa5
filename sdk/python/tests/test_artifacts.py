"""log_artifact (files, folders, a large file) and register_model with aliases."""

from __future__ import annotations

import os
import unittest

import aidos
from _support import ServerTest, report, unique, work_dir


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


class ArtifactTest(ServerTest):
    def setUp(self) -> None:
        self.dir = os.path.join(work_dir(), unique("artifacts"))

    def test_uploads_a_file_under_a_folder(self) -> None:
        run = self.init()
        local = write(os.path.join(self.dir, "weights.bin"), bytes(range(256)) * 40)
        self.assertEqual(aidos.log_artifact(local, "checkpoints/epoch 1"), "checkpoints/epoch 1/weights.bin")
        got = self.api.run(run.id)
        self.assertEqual(got.artifact("checkpoints/epoch 1/weights.bin"), bytes(range(256)) * 40)
        self.assertEqual(
            got.artifacts("checkpoints/epoch 1"),
            [{"path": "checkpoints/epoch 1/weights.bin", "is_dir": False, "file_size": 10240}],
        )
        report("artifact", run_id=run.id, path="checkpoints/epoch 1/weights.bin", local=local)

    def test_uploads_a_folder_with_its_subfolders(self) -> None:
        run = self.init()
        folder = os.path.join(self.dir, "model")
        write(os.path.join(folder, "config.json"), b'{"layers": 4}')
        write(os.path.join(folder, "shards", "a.bin"), b"\x00" * 3)
        write(os.path.join(folder, "shards", "b.bin"), b"\x01" * 5)
        self.assertEqual(run.log_artifact(folder), "model")
        got = self.api.run(run.id)
        self.assertEqual([f["path"] for f in got.artifacts()], ["model"])
        self.assertEqual(
            [(f["path"], f["is_dir"]) for f in got.artifacts("model")],
            [("model/config.json", False), ("model/shards", True)],
        )
        self.assertEqual(got.artifact("model/shards/b.bin"), b"\x01" * 5)

    def test_streams_a_large_file(self) -> None:
        run = self.init()
        data = os.urandom(1 << 20) * 12  # 12 MiB: well past the 1 MiB JSON body limit
        local = write(os.path.join(self.dir, "big.bin"), data)
        run.log_artifact(local)
        self.assertEqual(self.api.run(run.id).artifact("big.bin"), data)

    def test_refuses_what_does_not_exist(self) -> None:
        run = self.init()
        with self.assertRaises(FileNotFoundError):
            run.log_artifact(os.path.join(self.dir, "missing"))


class RegisterModelTest(ServerTest):
    def test_registers_versions_from_an_upload_and_from_a_logged_artifact_and_moves_aliases(self) -> None:
        name = unique("classifier")
        folder = os.path.join(work_dir(), unique("reg"), "model")
        write(os.path.join(folder, "model.onnx"), b"not really onnx")
        run = self.init()
        first = aidos.register_model(
            name, path=folder, aliases=["champion", "latest-good"], description="first", tags={"framework": "torch"}
        )
        self.assertEqual(first.version, 1)
        self.assertEqual(first.source, f"{run.artifact_uri}/model")
        self.assertEqual(first.run_id, run.id)
        self.assertEqual(sorted(first.aliases), ["champion", "latest-good"])
        self.assertEqual(first.tags, {"framework": "torch"})
        self.assertEqual(self.api.model_version(name, "champion").version, 1)
        self.assertEqual(self.api.model_version(name, 1).description, "first")

        second = run.register_model(name, artifact_path="model/model.onnx", aliases=("champion",))
        self.assertEqual(second.version, 2)
        self.assertEqual(second.source, f"{run.artifact_uri}/model/model.onnx")
        self.assertEqual(self.api.model_version(name, "champion").version, 2)
        self.assertEqual(self.api.model_version(name, "latest-good").version, 1)
        self.assertEqual(self.api.model_version(name, "2").run_id, run.id)
        report("model", name=name, alias="champion", version=2, source=second.source)

    def test_refuses_an_artifact_the_run_does_not_have_and_ambiguous_arguments(self) -> None:
        run = self.init()
        with self.assertRaises(aidos.AidosError):
            run.register_model(unique("m"), artifact_path="nothing/here")
        with self.assertRaises(ValueError):
            run.register_model(unique("m"))
        with self.assertRaises(ValueError):
            run.register_model(unique("m"), path=".", artifact_path="x")

    def test_an_unknown_alias_is_not_found(self) -> None:
        with self.assertRaises(aidos.NotFoundError):
            self.api.model_version(unique("nope"), "champion")


if __name__ == "__main__":
    unittest.main()
