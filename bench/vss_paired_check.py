"""vss0's ANN factories beside vec0's own index, queried from one process.

`bench/vss_vs_vecsql.py` runs each system in its own process, one after another; on a shared
machine the load changes between them. This check reopens the databases it left behind (run it
first, e.g. with --rows 100000) and times each system's queries in blocks, several rounds in
alternating order, so that every system meets the same load. (Interleaving systems query by
query favours whichever runs second on the same query: its part of the graph is then in the
CPU cache.) Pin it to one core:

    taskset -c 1 .venv/bin/python bench/vss_paired_check.py --tmpdir /tmp
"""

import argparse
import os
import sqlite3
import time

import numpy as np

DATA = "/work/shared/data"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEC0_KNN = "select rowid, distance from t where v match ? and k = 10{extra} order by distance"
VSS_KNN = "select rowid, distance from t where vss_search(v, vss_search_params(?, 10))"


def connect(path, ext):
    c = sqlite3.connect(path)
    c.enable_load_extension(True)
    c.load_extension(ext)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tmpdir", default="/tmp", help="where bench/vss_vs_vecsql.py left its databases")
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", os.path.join(REPO, "target/release/libvecsql")))
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--ef", default="64,96", help="vec0 ef_search values to time beside its default")
    args = ap.parse_args()

    qs = np.load(os.path.join(DATA, "minilm-pypi-dev-queries.f16.npy"))[: args.queries].astype(np.float32)
    blobs = [q.tobytes() for q in qs]
    vec0_db = os.path.join(args.tmpdir, "vecsql-vec0-hnsw.db")
    systems = [("vec0 hnsw(), default ef_search", vec0_db, VEC0_KNN.format(extra=""))]
    systems += [(f"vec0 hnsw(), ef_search {ef}", vec0_db, VEC0_KNN.format(extra=f" and ef_search = {ef}"))
                for ef in args.ef.split(",")]
    for factory in ("IVF256,Flat,IDMap2", "HNSW32,IDMap2"):
        path = os.path.join(args.tmpdir, f"vecsql-{factory.replace(',', '_')}.db")
        if os.path.exists(path):
            systems.append((f"vss0 {factory}", path, VSS_KNN))
    conns = [(name, connect(path, args.ext), sql) for name, path, sql in systems]
    for _, c, sql in conns:  # warm-up: load each index copy
        for b in blobs[:20]:
            c.execute(sql, (b,)).fetchall()
    times = {name: [] for name, _, _ in conns}
    for r in range(args.rounds):
        for name, c, sql in conns if r % 2 == 0 else conns[::-1]:
            for b in blobs:
                start = time.perf_counter()
                c.execute(sql, (b,)).fetchall()
                times[name].append(time.perf_counter() - start)
    load = open("/proc/loadavg").read().split()[:3]
    print(f"load average {' '.join(load)}; p50 over {args.rounds} rounds of {len(blobs)} queries")
    for name, t in times.items():
        print(f"{name}: p50 {np.median(t) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
