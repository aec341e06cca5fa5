"""Where the URL and the token come from, and what a refused or missing token says."""

from __future__ import annotations

import os
import tempfile
import unittest
from unittest import mock

import aidos
from aidos._http import DEFAULT_URL, Client, resolve, token_file_path
from _support import closed_port_url, require_server, unique


class ResolveTest(unittest.TestCase):
    def test_defaults_to_the_local_server_and_its_token_file(self) -> None:
        with tempfile.TemporaryDirectory() as home:
            with open(os.path.join(home, "token"), "w") as f:
                f.write("file-token\n")
            expected = (DEFAULT_URL, "file-token", os.path.join(home, "token"))
            self.assertEqual(resolve(env={"AIDOS_HOME": home}), expected)
            self.assertEqual(
                resolve(env={"AIDOS_HOME": home, "AIDOS_TOKEN": "env-token", "AIDOS_URL": "http://h:1/"}),
                ("http://h:1", "env-token", "AIDOS_TOKEN"),
            )
            self.assertEqual(resolve("http://a:2", "arg", env={})[1:], ("arg", "the token argument"))

    def test_the_token_file_is_under_the_home_folder(self) -> None:
        self.assertEqual(token_file_path({}), os.path.join(os.path.expanduser("~"), ".aidos", "token"))
        self.assertEqual(token_file_path({"AIDOS_HOME": "/data/aidos"}), "/data/aidos/token")

    def test_a_missing_token_says_where_it_was_looked_for(self) -> None:
        with tempfile.TemporaryDirectory() as home:
            with self.assertRaises(aidos.AuthenticationError) as caught:
                resolve(env={"AIDOS_HOME": home})
        self.assertIn(os.path.join(home, "token"), str(caught.exception))
        self.assertIn("AIDOS_TOKEN", str(caught.exception))

    def test_an_unreachable_server_is_reported_after_the_retries(self) -> None:
        client = Client(closed_port_url(), "t", retries=2, backoff=0.01)
        with self.assertRaises(aidos.ServerUnreachableError) as caught:
            client.call("GET", "/api/2.0/mlflow/runs/get", query={"run_id": "0" * 32})
        self.assertIn("could not reach", str(caught.exception))


class TokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        require_server()

    def test_a_bad_token_gets_a_clear_error(self) -> None:
        with self.assertRaises(aidos.AuthenticationError) as caught:
            aidos.Api(token="not-a-token").run("0" * 32)
        message = str(caught.exception)
        self.assertIn("refused the token", message)
        self.assertIn("401", message)
        self.assertIn("the token argument", message)
        self.assertEqual(caught.exception.status, 401)

    def test_init_with_a_bad_token_fails_before_any_run_exists(self) -> None:
        with mock.patch.dict(os.environ, {"AIDOS_TOKEN": "wrong"}):
            with self.assertRaises(aidos.AuthenticationError) as caught:
                aidos.init(unique("denied"))
        self.assertIn("AIDOS_TOKEN", str(caught.exception))
        self.assertIsNone(aidos.run)

    def test_reads_the_token_file_when_AIDOS_TOKEN_is_unset(self) -> None:
        with tempfile.TemporaryDirectory() as home:
            with open(os.path.join(home, "token"), "w") as f:
                f.write(os.environ["AIDOS_TOKEN"])
            env = {k: v for k, v in os.environ.items() if k != "AIDOS_TOKEN"}
            with mock.patch.dict(os.environ, {**env, "AIDOS_HOME": home}, clear=True):
                with self.assertRaises(aidos.NotFoundError):
                    aidos.Api().run("0" * 32)


if __name__ == "__main__":
    unittest.main()
