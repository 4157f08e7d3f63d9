"""The 1M-row limit run (not part of CI): a vec0 table with a million rows, filled in batches,
then KNN at the k limits with and without filters, checked against numpy brute force.

    cargo build --release -p vecsql
    .venv/bin/python bench/limits_1m.py                      # 1,000,000 x float[64]
    .venv/bin/python bench/limits_1m.py --rows 200000 --dims 384 --index ' indexed by hnsw()'

Reports insert rate, file size, peak memory (RSS) and KNN latency for k = 1, 10, 4096, with a
partition filter and with metadata filters, and checks every exact answer against numpy: the
same ids at ties-by-rowid and distances within float32 rounding. With `--index`, it reports
recall@k instead (the ANN answer is approximate by design). Exits non-zero on a mismatch.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import resource
import sqlite3
import sys
import tempfile
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--index", default="", help="e.g. ' indexed by hnsw()'")
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", str(REPO / "target/release/libvecsql")))
    ap.add_argument("--db", default=None, help="database path (default: a temporary file)")
    args = ap.parse_args()

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory()
        args.db = os.path.join(tmp.name, "limits.db")
    conn = sqlite3.connect(args.db, isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(args.ext)
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = normal")
    conn.execute(
        f"create virtual table t using vec0(emb float[{args.dims}]{args.index}, "
        "part integer partition key, n integer, tag text)"
    )
    rng = np.random.default_rng(1)
    data = rng.standard_normal((args.rows, args.dims), dtype=np.float32)
    part = np.arange(args.rows) % 8
    n = (np.arange(args.rows) * 7919) % 1000
    tags = np.array(["alpha", "beta", "a tag longer than twelve bytes"])[np.arange(args.rows) % 3]

    start = time.perf_counter()
    batch = 10_000
    for lo in range(0, args.rows, batch):
        hi = min(lo + batch, args.rows)
        conn.execute("begin")
        conn.executemany(
            "insert into t(rowid, emb, part, n, tag) values (?, ?, ?, ?, ?)",
            ((i + 1, data[i].tobytes(), int(part[i]), int(n[i]), str(tags[i])) for i in range(lo, hi)),
        )
        conn.execute("commit")
    insert_s = time.perf_counter() - start
    size = os.path.getsize(args.db) + (os.path.getsize(args.db + "-wal") if os.path.exists(args.db + "-wal") else 0)
    print(f"rows {args.rows:,} x float[{args.dims}]{args.index}: inserted in {insert_s:.1f} s "
          f"({args.rows / insert_s:,.0f} rows/s), file {size / 2**20:.1f} MiB")

    failures = 0
    cases = [
        ("k=1", "", lambda ids: np.ones(len(ids), bool), 1),
        ("k=10", "", lambda ids: np.ones(len(ids), bool), 10),
        ("k=4096", "", lambda ids: np.ones(len(ids), bool), 4096),
        ("k=10 part=3", " and part = 3", lambda ids: part[ids] == 3, 10),
        ("k=100 n<50 tag='beta'", " and n < 50 and tag = 'beta'",
         lambda ids: (n[ids] < 50) & (tags[ids] == "beta"), 100),
    ]
    all_ids = np.arange(args.rows)
    for name, filters, keep, k in cases:
        times, recalls = [], []
        for qi in range(args.queries):
            q = rng.standard_normal(args.dims, dtype=np.float32)
            t0 = time.perf_counter()
            got = conn.execute(
                f"select rowid, distance from t where emb match ? and k = ?{filters}",
                (q.tobytes(), k),
            ).fetchall()
            times.append(time.perf_counter() - t0)
            mask = keep(all_ids)
            ids = all_ids[mask]
            d = np.sqrt(((data[mask] - q) ** 2).sum(axis=1, dtype=np.float64))
            order = np.lexsort((ids, d))[:k]
            want_ids = ids[order] + 1
            got_ids = np.array([r[0] for r in got])
            if args.index:
                recalls.append(len(set(got_ids) & set(want_ids)) / max(1, len(want_ids)))
                continue
            got_d = np.array([r[1] for r in got])
            ok = len(got) == len(want_ids) and np.allclose(got_d, d[order], rtol=1e-5, atol=1e-5)
            # Near-ties may swap within float32 rounding; compare ids where distances differ clearly.
            if ok:
                clear = np.concatenate([[True], np.diff(d[order]) > 1e-4])
                clear &= np.concatenate([np.diff(d[order]) > 1e-4, [True]])
                ok = bool(np.all(got_ids[clear] == want_ids[clear]))
            if not ok:
                failures += 1
                print(f"  MISMATCH {name} query {qi}")
        p50 = sorted(times)[len(times) // 2] * 1000
        extra = f", recall@{k} {np.mean(recalls):.3f}" if recalls else ", exact answers match numpy"
        print(f"  {name:24s} p50 {p50:8.2f} ms{extra}")

    for sql in ["select count(*) from t", "pragma integrity_check"]:
        print(f"  {sql}: {conn.execute(sql).fetchone()[0]}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (numpy copy of the vectors included: "
          f"{data.nbytes / 2**20:.0f} MiB)")
    conn.close()
    if tmp:
        tmp.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
