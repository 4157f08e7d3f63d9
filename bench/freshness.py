"""A writer process commits while a reader process queries (issue 16), at 100k x 384.

The writer inserts one row per commit every --interval seconds for --seconds; the reader, a
separate process with a warm connection, runs KNN queries back to back and records each
latency. Reported per build: the reader's p50, p90, p99 and max, how many queries it ran, and
how many rows the writer committed. Uses the database bench/connections.py builds (run that
first), and deletes the rows it added.

    /work/main/.venv/bin/python bench/freshness.py --ext old/libvecsql.so --ext new/libvecsql.so
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from common import DATA, connect


def reader(ext, path, seconds):
    qs = np.load(f"{DATA}/minilm-pypi-dev-queries.f16.npy")[:500].astype("float32")
    qs = [q.tobytes() for q in qs]
    c = connect(ext, path)
    for q in qs[:20]:
        c.execute("select rowid from t where embedding match ? and k = 10", (q,)).fetchall()
    print("ready", flush=True)
    sys.stdin.readline()
    lat = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        c.execute(
            "select rowid from t where embedding match ? and k = 10", (qs[i % len(qs)],)
        ).fetchall()
        lat.append((time.perf_counter() - t) * 1000)
        i += 1
    print(json.dumps(lat))


def writer(ext, path, seconds, interval):
    v = np.load(f"{DATA}/minilm-pypi-dev-queries.f16.npy")[500:].astype("float32")
    c = connect(ext, path)
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        c.execute(
            "insert into t(rowid, embedding) values (?, ?)",
            (4_000_000 + n, v[n % len(v)].tobytes()),
        )
        n += 1
        time.sleep(interval)
    print(json.dumps(n))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ext", action="append", required=True)
    p.add_argument("--db", default="/tmp/vecsql-bench-connections-100k.db")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--child")
    args = p.parse_args()
    if args.child == "reader":
        return reader(args.ext[0], args.db, args.seconds)
    if args.child == "writer":
        return writer(args.ext[0], args.db, args.seconds, args.interval)
    print(f"load average before: {os.getloadavg()}")
    print("| build | queries | rows committed | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for ext in args.ext:
        common = ["--ext", ext, "--db", args.db, "--seconds", str(args.seconds)]
        r = subprocess.Popen(
            [sys.executable, __file__, "--child", "reader", *common],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert r.stdout.readline().strip() == "ready"
        w = subprocess.Popen(
            [sys.executable, __file__, "--child", "writer", *common,
             "--interval", str(args.interval)],
            stdout=subprocess.PIPE, text=True,
        )
        r.stdin.write("go\n")
        r.stdin.flush()
        lat = json.loads(r.stdout.readline())
        rows = json.loads(w.stdout.readline())
        r.wait()
        w.wait()
        lat.sort()
        q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
        print(f"| {ext} | {len(lat)} | {rows} | {statistics.median(lat):.2f} | {q(0.9):.2f} "
              f"| {q(0.99):.2f} | {lat[-1]:.1f} |")
        c = connect(ext, args.db)
        c.execute("delete from t where rowid >= 4000000")
        c.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
