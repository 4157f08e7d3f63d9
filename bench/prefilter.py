#!/usr/bin/env python3
"""Cost of `vecsql search --where`, which turns the filter into a pre-filter on the matching
keys: `... and id in (select id from t where <filter>)` (issue 17).

Per selectivity (the fraction of rows the filter keeps) and per table (exact scan, and with
`indexed by hnsw()`), the p50 latency and recall@k of one KNN query written four ways:

  metadata  `and bucket < N`: a metadata constraint vec0 filters natively; the CLI still runs
            a filter this way when vec0 takes every term of it (checked in the bytecode)
  subquery  `and id in (select id from t where bucket < N)`: what the CLI runs for any other
            filter (e.g. `bucket + 0 < N`)
  aux       the same subquery on an auxiliary column (`+grp`), which vec0 cannot filter at all
  or        `bucket < N/2 or bucket >= 1000 - N/2` in the subquery; the post-filter column is
            the old CLI's `and (<filter>)`, which SQLite applies to the k rows vec0 returned:
            its recall shows the rows it lost

Recall is against numpy's exact top k over the rows the filter keeps.

    VECSQL_EXT=target/release/libvecsql .venv/bin/python bench/prefilter.py [--rows 5000]
        [--data data/pypi-5k.f16.npy] [--queries data/queries-100.f16.npy] [--no-index]
"""
import argparse
import os
import sqlite3
import statistics
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SELECTIVITIES = [0.001, 0.01, 0.1, 0.5, 1.0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "data", "pypi-5k.f16.npy"))
    ap.add_argument("--queries", default=os.path.join(REPO, "data", "queries-100.f16.npy"))
    ap.add_argument("--rows", type=int, default=None, help="first N rows of --data")
    ap.add_argument("-n", type=int, default=50, help="queries")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--no-index", action="store_true")
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", os.path.join(REPO, "target", "release", "libvecsql")))
    args = ap.parse_args()

    base = np.load(args.data, mmap_mode="r")
    base = np.ascontiguousarray(base[: args.rows] if args.rows else base, dtype=np.float32)
    queries = np.ascontiguousarray(np.load(args.queries)[: args.n], dtype=np.float32)
    n, dims = base.shape
    unit = base / np.linalg.norm(base, axis=1, keepdims=True)
    qunit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    bucket = np.arange(n) % 1000  # metadata and aux: id % 1000, so "bucket < N" keeps N/1000

    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(args.ext)
    tables = [("exact", "")] + ([] if args.no_index else [("hnsw", " indexed by hnsw()")])
    for name, index in tables:
        started = time.perf_counter()
        conn.execute(
            f"create virtual table {name} using vec0(id integer primary key, "
            f"embedding float[{dims}] distance_metric=cosine{index}, bucket integer, +grp integer)"
        )
        conn.execute("begin")
        conn.executemany(
            f"insert into {name}(id, embedding, bucket, grp) values (?, ?, ?, ?)",
            ((i, base[i].tobytes(), int(bucket[i]), int(bucket[i])) for i in range(n)),
        )
        conn.execute("commit")
        print(f"# {name}: {n:,} x {dims} built in {time.perf_counter() - started:.1f} s")

    print(f"\n{n:,} rows x {dims} dims, {len(queries)} queries, k = {args.k}; p50 ms / recall@{args.k}\n")
    print("| table | kept | metadata | subquery | aux | or (subquery) | or (old post-filter) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _ in tables:
        for s in SELECTIVITIES:
            limit = max(1, round(s * 1000))
            half = limit // 2
            keep_lt = bucket < limit
            keep_or = (bucket < half) | (bucket >= 1000 - (limit - half))
            or_sql = f"bucket < {half} or bucket >= {1000 - (limit - half)}"
            forms = [
                (f"bucket < {limit}", keep_lt),
                (f"id in (select id from {name} where bucket < {limit})", keep_lt),
                (f"id in (select id from {name} where grp < {limit})", keep_lt),
                (f"id in (select id from {name} where {or_sql})", keep_or),
                (f"({or_sql})", keep_or),
            ]
            cells = []
            for where, keep in forms:
                sql = (
                    f"select id from {name} where embedding match ? and k = {args.k} "
                    f"and {where} order by distance"
                )
                times, recalls = [], []
                for q, qu in zip(queries, qunit):
                    t = time.perf_counter()
                    got = [r[0] for r in conn.execute(sql, (q.tobytes(),))]
                    times.append((time.perf_counter() - t) * 1000)
                    ids = np.flatnonzero(keep)
                    d = 1 - unit[ids] @ qu
                    truth = set(ids[np.argsort(d, kind="stable")[: args.k]].tolist())
                    recalls.append(len(truth & set(got)) / max(1, len(truth)))
                cells.append(f"{statistics.median(times):.2f} / {statistics.mean(recalls):.2f}")
            print(f"| {name} | {s:.1%} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
