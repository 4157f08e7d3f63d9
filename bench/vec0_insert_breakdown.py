#!/usr/bin/env python3
"""Per-row insert cost of vec0 in vecsql and sqlite-vec, split from the quantize expression.

For each column type and engine, in a `:memory:` database: the vec0 insert (one transaction,
executemany), the insert's value expression alone (into a plain temp table), and a plain-table
insert of the same blob. Quick; see bench/results/vec0_vs_sqlite_vec-profile.md.

    .venv/bin/python bench/vec0_insert_breakdown.py [--rows 60000]
"""
import argparse
import os
import sqlite3
import time

import numpy as np
import sqlite_vec

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPES = {
    "float32": ("float[384]", "?"),
    "int8": ("int8[384]", "vec_quantize_int8(?, 'unit')"),
    "bit": ("bit[384]", "vec_quantize_binary(?)"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", os.path.join(REPO, "target", "release", "libvecsql")))
    args = ap.parse_args()
    base = np.load(os.path.join(args.data_dir, "minilm-pypi-dev-base.f16.npy"), mmap_mode="r")[: args.rows]
    blobs = [v.tobytes() for v in np.ascontiguousarray(base, dtype=np.float32)]
    n = len(blobs)
    print("| column | engine | vec0 insert (us/row) | expression alone (us/row) | plain-table insert (us/row) |")
    print("|---|---|---:|---:|---:|")
    for kind, (col, expr) in TYPES.items():
        for engine in ("sqlite-vec", "vecsql"):
            c = sqlite3.connect(":memory:", isolation_level=None)
            c.enable_load_extension(True)
            sqlite_vec.load(c) if engine == "sqlite-vec" else c.load_extension(args.ext)
            c.execute(f"create virtual table t using vec0(embedding {col})")
            c.execute("create temp table sink(x)")
            c.execute("create table plain(id integer primary key, v blob)")

            def timed(sql, rows):
                t = time.perf_counter()
                c.execute("begin")
                c.executemany(sql, rows)
                c.execute("commit")
                return (time.perf_counter() - t) / n * 1e6

            vec0 = timed(f"insert into t(rowid, embedding) values (?, {expr})", ((i + 1, b) for i, b in enumerate(blobs)))
            alone = timed(f"insert into sink(x) select length({expr})", ((b,) for b in blobs))
            plain = timed("insert into plain(id, v) values (?, ?)", ((i + 1, b) for i, b in enumerate(blobs)))
            print(f"| {kind} | {engine} | {vec0:.1f} | {alone:.1f} | {plain:.1f} |")
            c.close()


if __name__ == "__main__":
    main()
