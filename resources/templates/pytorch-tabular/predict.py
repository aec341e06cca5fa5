"""Predictions of a model trained by train.py: its folder (model.pt + preprocessing.json) and a CSV table.

    python3 predict.py --model-dir model --file new.csv --output predictions.csv

Writes the table's rows with a `prediction` column (and `prob_<class>` columns for a classifier). When the
table has the target column, prints the accuracy (or RMSE) as a JSON line: {"rows": …, "accuracy": …}.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Predict with a model made by train.py.")
    p.add_argument("--model-dir", required=True, help="the folder holding model.pt and preprocessing.json")
    p.add_argument("--file", required=True, help="a CSV table with the columns the model was trained on")
    p.add_argument("--output", default="", help="where to write the predictions (default: standard output)")
    args = p.parse_args(argv)

    import numpy as np
    import torch

    # This folder may be shared by many jobs, or read-only: no __pycache__ in it.
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    import tabular

    with open(os.path.join(args.model_dir, "preprocessing.json"), encoding="utf-8") as f:
        stats = json.load(f)
    model = torch.jit.load(os.path.join(args.model_dir, "model.pt"), map_location="cpu")
    model.eval()
    header, rows = tabular.read_table(args.file)
    x = torch.from_numpy(tabular.encode(stats, header, rows))
    with torch.no_grad():
        out = model(x)

    classification = stats["task"] == "classification"
    extra: List[str] = ["prediction"]
    if classification:
        probs = torch.softmax(out, dim=1).numpy()
        labels = [stats["classes"][k] for k in probs.argmax(1)]
        extra += [f"prob_{c}" for c in stats["classes"]]
        cells = [[labels[i]] + [f"{v:.6g}" for v in probs[i]] for i in range(len(rows))]
    else:
        values = out.squeeze(1).numpy() * stats["target_std"] + stats["target_mean"]
        cells = [[f"{v:.6g}"] for v in values]

    target = stats["target"]
    summary: dict = {"rows": len(rows)}
    if target in header:
        t = header.index(target)
        known = [i for i, r in enumerate(rows) if not tabular.is_missing(r[t])]
        if classification:
            hits = sum(1 for i in known if rows[i][t].strip() == cells[i][0])
            summary["accuracy"] = hits / len(known) if known else None
        else:
            errors = [float(cells[i][0]) - float(rows[i][t]) for i in known]
            summary["rmse"] = math.sqrt(float(np.mean(np.square(errors)))) if errors else None

    out_file = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        writer = csv.writer(out_file)
        writer.writerow(list(header) + extra)
        for row, cell in zip(rows, cells):
            writer.writerow(list(row) + cell)
    finally:
        if args.output:
            out_file.close()
    print(json.dumps(summary), file=sys.stdout if args.output else sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
