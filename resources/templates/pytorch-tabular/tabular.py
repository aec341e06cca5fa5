"""Reading a CSV table and turning it into numbers: shared by train.py and predict.py (numpy only).

Numeric columns (every present value parses as a number) are imputed with the training mean and
standardised; other columns are one-hot encoded over their most frequent training values (missing ones
imputed with the most frequent value; values never seen in training encode as all zeros). The statistics are a
plain JSON-able dict, ``preprocessing.json`` beside the model.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
FORMAT = 1


def is_missing(value: str) -> bool:
    return value.strip().lower() in MISSING


def as_number(value: str) -> Optional[float]:
    """The value as a float, None when missing; raises ValueError when it is not a number."""
    if is_missing(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def find_table(data_dir: Optional[str], file: Optional[str]) -> str:
    """``file`` (absolute, or inside ``data_dir``), else the first ``.csv`` of ``data_dir`` (top level first)."""
    if file:
        path = file if os.path.isabs(file) or not data_dir else os.path.join(data_dir, file)
        if not os.path.isfile(path):
            raise SystemExit(f"error: no table at {path}")
        return path
    if not data_dir:
        raise SystemExit(
            "error: no data: give --data-dir (or --file), or run as a job with a dataset mounted as TRAIN "
            "(AIDOS_DATASET_TRAIN)"
        )
    if not os.path.isdir(data_dir):
        raise SystemExit(f"error: {data_dir} is not a folder")
    found: List[Tuple[int, str]] = []
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        depth = os.path.relpath(root, data_dir).count(os.sep) + (0 if root == data_dir else 1)
        found.extend((depth, os.path.join(root, f)) for f in sorted(files) if f.lower().endswith(".csv"))
    if not found:
        raise SystemExit(f"error: no .csv file in {data_dir} (name one with --file)")
    return min(found)[1]


def read_table(path: str) -> Tuple[List[str], List[List[str]]]:
    """The header and the rows of a CSV file (blank lines skipped; short rows padded, long ones cut)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header:
            raise SystemExit(f"error: {path} is empty")
        header = [h.strip() for h in header]
        width = len(header)
        rows = []
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            rows.append((row + [""] * width)[:width])
    return header, rows


def column(rows: Sequence[Sequence[str]], index: int) -> List[str]:
    return [r[index] for r in rows]


def _is_numeric(values: Sequence[str]) -> bool:
    try:
        return bool(np.isfinite(_fast_numbers(values)).any())
    except ValueError:
        pass
    try:
        return any(as_number(v) is not None for v in values)
    except ValueError:
        return False


def _fast_numbers(values: Sequence[str]) -> np.ndarray:
    """Every value parsed by numpy at once: raises ValueError when one is missing or not a number."""
    out = np.asarray(values, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _numbers(values: Sequence[str]) -> np.ndarray:
    try:
        return _fast_numbers(values)
    except ValueError:
        pass
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        try:
            n = as_number(v)
        except ValueError:
            n = None
        out[i] = np.nan if n is None else n
    return out


def _label_order(labels: Sequence[str]) -> List[str]:
    unique = sorted(set(labels))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def fit(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    all_rows: Sequence[Sequence[str]],
    target: str,
    task: str,
    ignore: Sequence[str] = (),
    max_categories: int = 50,
) -> Dict[str, Any]:
    """Preprocessing statistics from the training ``rows``; the classes come from ``all_rows``."""
    if target not in header:
        raise SystemExit(f"error: no column {target!r} (the table has: {', '.join(header)})")
    unknown = [c for c in ignore if c not in header]
    if unknown:
        raise SystemExit(f"error: --ignore names columns the table does not have: {', '.join(unknown)}")
    features: List[Dict[str, Any]] = []
    for i, name in enumerate(header):
        if name == target or name in ignore:
            continue
        values = column(rows, i)
        if _is_numeric(values):
            numbers = _numbers(values)
            present = numbers[~np.isnan(numbers)]
            mean = float(present.mean()) if present.size else 0.0
            std = float(present.std()) if present.size else 0.0
            features.append({"name": name, "kind": "numeric", "mean": mean, "std": std if std > 1e-12 else 1.0})
        else:
            counts = Counter(v.strip() for v in values if not is_missing(v))
            categories = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_categories]]
            features.append(
                {
                    "name": name,
                    "kind": "categorical",
                    "categories": categories,
                    "fill": categories[0] if categories else "",
                }
            )
    stats: Dict[str, Any] = {"format": FORMAT, "target": target, "task": task, "features": features}
    t = header.index(target)
    if task == "classification":
        stats["classes"] = _label_order([r[t].strip() for r in all_rows if not is_missing(r[t])])
        if len(stats["classes"]) < 2:
            raise SystemExit(f"error: the target {target!r} has fewer than 2 classes")
    else:
        y = _numbers(column(rows, t))
        if np.isnan(y).all():
            raise SystemExit(f"error: the target {target!r} has no numbers: use --task classification")
        stats["target_mean"] = float(np.nanmean(y))
        std = float(np.nanstd(y))
        stats["target_std"] = std if std > 1e-12 else 1.0
    stats["width"] = sum(1 if f["kind"] == "numeric" else len(f["categories"]) for f in features)
    return stats


def encode(stats: Dict[str, Any], header: Sequence[str], rows: Sequence[Sequence[str]]) -> np.ndarray:
    """The feature matrix (float32, one row per row) under the statistics of :func:`fit`."""
    index = {name: i for i, name in enumerate(header)}
    missing = [f["name"] for f in stats["features"] if f["name"] not in index]
    if missing:
        raise SystemExit(f"error: the table lacks the columns {', '.join(missing)}")
    x = np.zeros((len(rows), stats["width"]), dtype=np.float32)
    at = 0
    for f in stats["features"]:
        values = column(rows, index[f["name"]])
        if f["kind"] == "numeric":
            numbers = _numbers(values)
            numbers[np.isnan(numbers)] = f["mean"]
            x[:, at] = (numbers - f["mean"]) / f["std"]
            at += 1
        else:
            slot = {c: k for k, c in enumerate(f["categories"])}
            for r, v in enumerate(values):
                k = slot.get(f["fill"] if is_missing(v) else v.strip())
                if k is not None:
                    x[r, at + k] = 1.0
            at += len(f["categories"])
    return x


def targets(stats: Dict[str, Any], header: Sequence[str], rows: Sequence[Sequence[str]]) -> np.ndarray:
    """Class indices (int64), or standardised values (float32) for regression; rows must have a target."""
    t = header.index(stats["target"])
    if stats["task"] == "classification":
        slot = {c: k for k, c in enumerate(stats["classes"])}
        return np.array([slot.get(r[t].strip(), -1) for r in rows], dtype=np.int64)
    y = _numbers(column(rows, t))
    return ((y - stats["target_mean"]) / stats["target_std"]).astype(np.float32)


def with_target(header: Sequence[str], rows: Sequence[Sequence[str]], target: str, task: str) -> List[List[str]]:
    """The rows whose target is present (and a number, for regression)."""
    t = header.index(target)
    kept = []
    for r in rows:
        if is_missing(r[t]):
            continue
        if task == "regression":
            try:
                float(r[t])
            except ValueError:
                continue
        kept.append(list(r))
    return kept
