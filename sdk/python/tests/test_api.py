"""Reading back with aidos.Api: runs by id, searches over every page, errors."""

from __future__ import annotations

import unittest

import aidos
from _support import ServerTest, unique


class ApiTest(ServerTest):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.project = unique("search")
        cls.ids = []
        for i in range(5):
            run = aidos.init(cls.project, config={"i": i})
            run.log({"score": float(i)})
            run.finish("FAILED" if i == 4 else "FINISHED")
            cls.ids.append(run.id)

    def test_iterates_every_page_of_a_project(self) -> None:
        found = [r.id for r in self.api.runs(self.project, page_size=2)]
        self.assertEqual(sorted(found), sorted(self.ids))

    def test_filters_and_orders(self) -> None:
        best = list(self.api.runs(self.project, filter="metrics.score >= 2", order_by="metrics.score DESC"))
        self.assertEqual([r.metrics["score"] for r in best], [4.0, 3.0, 2.0])
        self.assertEqual([r.params["i"] for r in best], ["4", "3", "2"])
        failed = list(self.api.runs(self.project, filter="attributes.status = 'FAILED'"))
        self.assertEqual([r.id for r in failed], [self.ids[4]])

    def test_reads_a_run(self) -> None:
        run = self.api.run(self.ids[1])
        self.assertEqual((run.status, run.metrics, run.params), ("FINISHED", {"score": 1.0}, {"i": "1"}))
        self.assertEqual([(s, v) for s, v, _ in run.history("score")], [(0, 1.0)])
        self.assertEqual(run.history("absent"), [])

    def test_unknown_runs_and_projects_are_not_found(self) -> None:
        with self.assertRaises(aidos.NotFoundError):
            self.api.run("0" * 32)
        with self.assertRaises(aidos.NotFoundError):
            list(self.api.runs(unique("no-such-project")))


if __name__ == "__main__":
    unittest.main()
