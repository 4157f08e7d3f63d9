"""The HNSW index across connections and processes (issue 16), at 100k x 384 (cosine, hnsw()).

Measures, for one or more builds of the extension (each `--ext PATH`, compared in the same run):

- open: a new process opens the file and runs its first KNN query, then 19 more;
- second connection: in a process whose first connection is warm, a second connection's first
  query, and the resident memory each extra connection adds (4 connections);
- freshness: a warm reader's next query after another process commits one row (and the one
  after), plus the writer's own commit time.

The database is built once (with the first --ext) at --db and reused. Run with the project's
venv python (the default python cannot load extensions):

    /work/main/.venv/bin/python bench/connections.py --ext old.so --ext new.so
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from common import DATA, connect, query_vectors, vm_rss_mb


def knn(c, q):
    t = time.perf_counter()
    c.execute(
        "select rowid, distance from t where embedding match ? and k = 10", (q,)
    ).fetchall()
    return (time.perf_counter() - t) * 1000


def build(ext, path, rows):
    base = np.load(f"{DATA}/minilm-pypi-dev-base.f16.npy")[:rows].astype("float32")
    c = connect(ext, path)
    c.execute(
        "create virtual table t using vec0(embedding float[384] distance_metric=cosine "
        "indexed by hnsw())"
    )
    t = time.perf_counter()
    c.execute("begin")
    for i, v in enumerate(base):
        c.execute("insert into t(rowid, embedding) values (?, ?)", (i + 1, v.tobytes()))
    c.execute("commit")
    print(f"built {rows} rows in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    c.close()


# ---- measurements, each in its own process ----------------------------------------------


def m_open(ext, path):
    qs = query_vectors(20)
    t = time.perf_counter()
    c = connect(ext, path)
    knn(c, qs[0])
    first = (time.perf_counter() - t) * 1000  # open + first query
    rest = [knn(c, q) for q in qs[1:]]
    warm = [knn(c, q) for q in query_vectors(300)[100:]]
    return {
        "warm_p50_200_ms": statistics.median(warm),
        "open_first_ms": first,
        "q2_10_median_ms": statistics.median(rest[:9]),
        "q11_20_median_ms": statistics.median(rest[9:]),
        "rss_mb": vm_rss_mb(),
    }


def m_second(ext, path):
    qs = query_vectors(20)
    a = connect(ext, path)
    for q in qs:
        knn(a, q)
    r0 = vm_rss_mb()
    t = time.perf_counter()
    b = connect(ext, path)
    knn(b, qs[0])
    b_first = (time.perf_counter() - t) * 1000
    r1 = vm_rss_mb()
    more = [connect(ext, path) for _ in range(2)]
    for c in more:
        knn(c, qs[1])
    r2 = vm_rss_mb()
    # A write by one connection while the others use the same copy (it is copied first), and
    # the others' next query (they take the committed copy).
    v = np.load(f"{DATA}/minilm-pypi-dev-queries.f16.npy")[998].astype("float32").tobytes()
    writes, nexts = [], []
    for r in range(3):
        t = time.perf_counter()
        b.execute("insert into t(rowid, embedding) values (?, ?)", (3_000_000 + r, v))
        writes.append((time.perf_counter() - t) * 1000)
        nexts.append(knn(a, qs[r]))
    b.execute("delete from t where rowid >= 3000000")
    return {
        "write_while_shared_ms": statistics.median(writes),
        "others_next_query_ms": statistics.median(nexts),
        "second_conn_first_ms": b_first,
        "warm_ms": statistics.median([knn(a, q) for q in qs]),
        "rss_one_conn_mb": r0,
        "rss_added_by_second_mb": r1 - r0,
        "rss_added_by_3rd_and_4th_mb": r2 - r1,
    }


def m_fresh(ext, path, rounds=3):
    qs = query_vectors(20)
    a = connect(ext, path)
    for q in qs:
        knn(a, q)
    out = []
    for r in range(rounds):
        rowid = 2_000_000 + r
        w = subprocess.run(
            [sys.executable, __file__, "--child", "write", "--ext", ext, "--db", path,
             "--rowid", str(rowid)],
            capture_output=True, text=True, check=True,
        )
        commit_ms = json.loads(w.stdout)["commit_ms"]
        nxt = knn(a, qs[r])
        after = knn(a, qs[r + 1])
        out.append((commit_ms, nxt, after))
    # Tidy up: the rows go again (another write, not measured).
    a.execute("delete from t where rowid >= 2000000")
    return {
        "writer_commit_ms": statistics.median(o[0] for o in out),
        "next_query_ms": statistics.median(o[1] for o in out),
        "query_after_ms": statistics.median(o[2] for o in out),
        "warm_ms": statistics.median([knn(a, q) for q in qs]),
    }


def m_write(ext, path, rowid):
    c = connect(ext, path)
    v = np.load(f"{DATA}/minilm-pypi-dev-queries.f16.npy")[999].astype("float32")
    t = time.perf_counter()
    c.execute("insert into t(rowid, embedding) values (?, ?)", (rowid, v.tobytes()))
    return {"commit_ms": (time.perf_counter() - t) * 1000}


def child(args):
    f = {"open": m_open, "second": m_second, "fresh": m_fresh}
    if args.child == "write":
        res = m_write(args.ext[0], args.db, args.rowid)
    else:
        res = f[args.child](args.ext[0], args.db)
    print(json.dumps(res))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ext", action="append", required=True)
    p.add_argument("--db", default="/tmp/vecsql-bench-connections-100k.db")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child")
    p.add_argument("--rowid", type=int)
    args = p.parse_args()
    if args.child:
        return child(args)
    if not os.path.exists(args.db):
        build(args.ext[0], args.db, args.rows)
    print(f"load average before: {os.getloadavg()}")
    results = {}
    for rep in range(args.repeat):
        for ext in args.ext:
            for what in ["open", "second", "fresh"]:
                r = subprocess.run(
                    [sys.executable, __file__, "--child", what, "--ext", ext, "--db", args.db],
                    capture_output=True, text=True,
                )
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    continue
                for k, v in json.loads(r.stdout).items():
                    results.setdefault((ext, what, k), []).append(v)
    print(f"load average after: {os.getloadavg()}")
    print(f"| measure | " + " | ".join(args.ext) + " |")
    print("|---|" + "---|" * len(args.ext))
    keys = sorted({(w, k) for (_, w, k) in results}, key=lambda x: ["open", "second", "fresh"].index(x[0]))
    for w, k in keys:
        cells = []
        for ext in args.ext:
            v = results.get((ext, w, k), [])
            cells.append(f"{statistics.median(v):.1f}" if v else "-")
        print(f"| {w}: {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
