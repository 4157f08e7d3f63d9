"""Metadata-filtered KNN at a million rows (issue 16): 913k x 384 cosine, `bucket integer`.

The table is `vec0(emb float[384] distance_metric=cosine, bucket integer)` with an `hnsw()`
index, `bucket` a seeded permutation of the rows mod 1000 (uncorrelated with the vectors), and
the queries add `and bucket < S` for 50%, 10%, 1% and 0.1% passing, at the default
`ef_search`. Each build given with --ext runs in a process of its own on the same file (open,
12 warm-up queries, then the timed ones); recall@10 is against numpy's exact search over the
matching rows. Every returned row is checked against the filter.

The vectors come from ../shared/data/pkgs-900k/make_vectors.py (see bench/scale.py). The first
run builds the database (an insert of every row, then `create-index`: about 7 minutes on two
cores) and keeps it for later runs.

    .venv/bin/python bench/filtered_scale.py --ext old/libvecsql.so --ext new/libvecsql.so \\
        --out bench/results/filtered_913k.md
"""

import argparse
import datetime
import os
import subprocess
import sys
import time

import numpy as np

from common import connect

BUCKETS = 1000
SELECTIVITIES = [None, 500, 100, 10, 1]  # `bucket < S`; None = unfiltered


def buckets(n):
    return np.random.default_rng(0).permutation(n) % BUCKETS


def build(ext, db, base):
    c = connect(ext, db)
    c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine, bucket integer)")
    b = buckets(len(base)).tolist()
    start = time.perf_counter()
    c.execute("begin")
    c.executemany(
        "insert into t(rowid, emb, bucket) values (?, ?, ?)",
        ((i + 1, base[i].astype(np.float32).tobytes(), b[i]) for i in range(len(base))),
    )
    c.execute("commit")
    inserted = time.perf_counter() - start
    c.execute("insert into t(t) values ('create-index emb hnsw()')")
    print(f"built {db}: insert {inserted:.0f} s, index {time.perf_counter() - start - inserted:.0f} s", flush=True)


def measure(ext, db, data, queries):
    """One build's run, in this process: prints one line per selectivity."""
    base = np.load(os.path.join(data, "pkgs-base.f16.npy"))
    b = buckets(len(base))
    q = np.load(os.path.join(data, "pkgs-dev-queries.f16.npy"))[:queries].astype(np.float32)
    unit = base.astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    sims = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ unit.T
    del unit
    c = connect(ext, db)
    start = time.perf_counter()
    for v in q[:12]:
        c.execute("select rowid from t where emb match ? and k = 10", (v.tobytes(),)).fetchall()
    print(f"open {time.perf_counter() - start:.2f}", flush=True)
    for s in SELECTIVITIES:
        sql = "select rowid from t where emb match ? and k = 10" + (f" and bucket < {s}" if s else "")
        passing = np.ones(len(b), bool) if s is None else b < s
        times, recalls = [], []
        for i in range(queries):
            scores = np.where(passing, sims[i], -np.inf)
            truth = set((np.argpartition(-scores, 10)[:10] + 1).tolist())
            t = time.perf_counter()
            got = [r[0] for r in c.execute(sql, (q[i].tobytes(),))]
            times.append((time.perf_counter() - t) * 1000)
            assert len(got) == 10 and all(passing[g - 1] for g in got), (s, got)
            recalls.append(len(truth & set(got)) / 10)
        print(f"row {s} {np.median(times):.3f} {np.percentile(times, 99):.3f} {np.mean(recalls):.3f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ext", action="append", required=True, help="a vecsql build (repeat to compare)")
    p.add_argument("--data", default="/tmp/pkgs-900k", help="where make_vectors.py wrote")
    p.add_argument("--db", default="/tmp/vecsql-filtered-913k.db", help="kept between runs")
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--out", default=None, help="Markdown output")
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.measure:
        return measure(a.ext[0], a.db, a.data, a.queries)
    if not os.path.exists(a.db):
        build(a.ext[0], a.db, np.load(os.path.join(a.data, "pkgs-base.f16.npy")))
    results = {}
    for ext in a.ext:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", "--ext", ext, "--db", a.db, "--data", a.data,
             "--queries", str(a.queries)],
            check=True, capture_output=True, text=True,
        ).stdout
        print(ext, out, flush=True)
        results[ext] = {
            (None if w[1] == "None" else int(w[1])): tuple(float(x) for x in w[2:])
            for w in (line.split() for line in out.splitlines() if line.startswith("row "))
        }
    lines = [
        "# Metadata-filtered KNN at 913k rows",
        "",
        f"`bench/filtered_scale.py`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{a.queries} queries, k = 10, default `ef_search`, load average "
        f"{os.getloadavg()[0]:.1f} at the end. Each build in a process of its own on the same file.",
        "",
        "| build | passing | p50 (ms) | p99 (ms) | p50 / unfiltered | recall@10 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for ext, rows in results.items():
        unfiltered = rows[None][0]
        for s, (p50, p99, recall) in rows.items():
            share = "none" if s is None else f"{s * 100 / BUCKETS:g}%"
            lines.append(f"| `{ext}` | {share} | {p50:.2f} | {p99:.2f} | {p50 / unfiltered:.1f}x | {recall:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
