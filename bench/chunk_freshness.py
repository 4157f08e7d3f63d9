"""What one commit by another connection costs the next exact KNN query (issue 16), at
100k x 384, and what the chunk versions cost a bulk insert.

Per build: the warm exact query's p50; the next query's p50 after another connection
commits one inserted, updated or deleted row; a 20k-row insert in one transaction. Wall and
CPU (time.process_time) medians, in ms.

    /work/main/.venv/bin/python bench/chunk_freshness.py --ext old/libvecsql.so --ext new/libvecsql.so
"""

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

from common import DATA, connect, timed, vm_rss_mb


def med(samples):
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))


def fill(c, vectors, start=0):
    c.execute("begin")
    c.executemany(
        "insert into t(rowid, v) values (?, ?)",
        ((start + i, v.tobytes()) for i, v in enumerate(vectors)),
    )
    c.execute("commit")


def run(ext, base, queries, rounds):
    out = {}
    with tempfile.TemporaryDirectory() as d:
        # Write path: 20k rows in one transaction into a new table, three times.
        bulk = []
        for i in range(3):
            c = connect(ext, f"{d}/bulk{i}.db")
            c.execute("create virtual table t using vec0(v float[384])")
            bulk.append(timed(lambda: fill(c, base[:20_000])))
            c.close()
        out["bulk 20k insert"] = med(bulk)
        path = f"{d}/t.db"
        a = connect(ext, path)
        a.execute("create virtual table t using vec0(v float[384])")
        fill(a, base)
        b = connect(ext, path)
        q = lambda i: a.execute(
            "select rowid, distance from t where v match ? and k = 10",
            (queries[i % len(queries)].tobytes(),),
        ).fetchall()
        for i in range(5):
            q(i)
        out["warm"] = med([timed(lambda: q(i)) for i in range(rounds)])
        # More connections of the process, kept open: each one's first query, and the
        # memory each adds (RSS, MB, in the first column).
        firsts, grown, others = [], [], []
        for i in range(3):
            rss = vm_rss_mb()
            c = connect(ext, path)
            others.append(c)
            firsts.append(timed(lambda: c.execute(
                "select rowid from t where v match ? and k = 10", (queries[i].tobytes(),)
            ).fetchall()))
            grown.append((vm_rss_mb() - rss, 0.0))
        for c in others:
            c.close()
        out["new connection's first query"] = med(firsts)
        out["RSS added per connection (MB, not ms)"] = med(grown)
        n = len(base)
        for what, sql in [
            ("after insert", lambda i: b.execute(
                "insert into t(rowid, v) values (?, ?)", (n + i, queries[i].tobytes()))),
            ("after update", lambda i: b.execute(
                "update t set v = ? where rowid = ?", (queries[i + 1].tobytes(), n + i))),
            ("after delete", lambda i: b.execute("delete from t where rowid = ?", (n + i,))),
        ]:
            samples = []
            for i in range(rounds):
                sql(i)
                samples.append(timed(lambda: q(i)))
            out[what] = med(samples)
        a.close()
        b.close()
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ext", action="append", required=True)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    base = np.load(f"{DATA}/minilm-pypi-dev-base.f16.npy")[: args.rows].astype("float32")
    queries = np.load(f"{DATA}/minilm-pypi-dev-queries.f16.npy")[:100].astype("float32")
    print(f"load average before: {os.getloadavg()}")
    results = {ext: run(ext, base, queries, args.rounds) for ext in args.ext}
    print("| measurement | " + " | ".join(args.ext) + " |")
    print("|---|" + "---|" * len(args.ext))
    for key in next(iter(results.values())):
        cells = [f"{results[e][key][0]:.2f} ({results[e][key][1]:.2f} cpu)" for e in args.ext]
        print(f"| {key} ms | " + " | ".join(cells) + " |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
