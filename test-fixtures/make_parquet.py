"""Writes the Parquet fixtures in data/ (pyarrow 25.0.1, Python 3.11). Run: python3 make_parquet.py

people.parquet: 10 rows in 3 row groups (4 + 4 + 2), snappy, dictionary-encoded strings; nulls in `name`
and `age`; an int64 beyond 2^53 in `big`; a float32, a date, a UTC timestamp (ms), a naive timestamp (us)
and a list column. people-v2.parquet: the same table, gzip-compressed, with row 3 renamed, row 10 removed
and row 11 added (for table diffs).
"""

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

schema = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("age", pa.int32()),
        ("score", pa.float64()),
        ("ratio", pa.float32()),
        ("active", pa.bool_()),
        ("joined", pa.date32()),
        ("seen_at", pa.timestamp("ms", tz="UTC")),
        ("local_at", pa.timestamp("us")),
        ("big", pa.int64()),
        ("tags", pa.list_(pa.string())),
    ]
)

names = ["Ada", "Grace", "Linus", None, "Alan", "Edsger", "Barbara", "Ken", "Dennis", "Margaret"]


def rows(names, ids):
    return {
        "id": ids,
        "name": names,
        "age": [30 + i if i != 4 else None for i in ids],
        "score": [i * 1.5 for i in ids],
        "ratio": [0.1 * i for i in ids],
        "active": [i % 2 == 0 for i in ids],
        "joined": [dt.date(2024, 1, i) for i in ids],
        "seen_at": [dt.datetime(2024, 1, i, 12, 30, 15, 250000, tzinfo=dt.timezone.utc) for i in ids],
        "local_at": [dt.datetime(2024, 2, i, 8, 0, 0, 123456) for i in ids],
        "big": [9007199254740993 + i for i in ids],
        "tags": [["a", "b"] if i % 3 == 0 else [] for i in ids],
    }


v1 = pa.table(rows(names, list(range(1, 11))), schema=schema)
pq.write_table(v1, "data/people.parquet", row_group_size=4)

names2 = names[:9] + ["Niklaus"]
names2[2] = "Linus T."
v2 = pa.table(rows(names2, list(range(1, 10)) + [11]), schema=schema)
pq.write_table(v2, "data/people-v2.parquet", row_group_size=4, compression="gzip")
