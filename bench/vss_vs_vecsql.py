#!/usr/bin/env python3
"""sqlite-vss 0.1.2 against vecsql's `vss0` with the same SQL and factory strings (issue 13).

For each factory string, the same `create virtual table t using vss0(v(384) factory="...")`,
the same inserts (raw float32 blobs, committed in batches: sqlite-vss rewrites its whole Faiss
index at every COMMIT and slows with the square of the rows of one transaction, so one
transaction of every row does not finish in minutes) and the same
`where vss_search(v, vss_search_params(?, 10))` queries run on sqlite-vss and on vecsql. IVF
factories get sqlite-vss's `operation='training'` insert of every row first (a no-op on
vecsql). vecsql's own `vec0` HNSW index on the same rows is the reference for the p50 target.

Each system and factory runs in its own child process, so `peak RSS` is that process's
maximum resident memory (numpy's copy of the vectors included, the same for all) and
`RSS growth` what building and querying added to the process after the vectors were loaded.
Recall@10 is against numpy's exact L2 neighbours (the vectors are unit length, so these are
also the cosine neighbours); ties with the 10th count.

Needs numpy, sqlite-vss==0.1.2 (Debian: apt-get install -y libgomp1 libblas3 liblapack3) and
the built extension:

    VECSQL_EXT=$PWD/target/release/libvecsql .venv-bench/bin/python bench/vss_vs_vecsql.py \\
        --rows 20000 --out bench/results/vss_vs_vecsql.md
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/work/shared/data"
FACTORIES = ["Flat,IDMap2", "HNSW32,IDMap2", "IVF256,Flat,IDMap2"]


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load_data(rows, queries):
    base = np.load(os.path.join(DATA, "minilm-pypi-dev-base.f16.npy"))[:rows].astype(np.float32)
    qs = np.load(os.path.join(DATA, "minilm-pypi-dev-queries.f16.npy"))[:queries].astype(np.float32)
    return base, qs


def truth(base, qs, k):
    d = ((qs[:, None, :] - base[None, :, :]) ** 2).sum(-1) if len(base) * len(qs) < 1 else None
    out_ids, out_kth = [], []
    for q in qs:
        dist = ((base - q) ** 2).sum(1)
        idx = np.argpartition(dist, k - 1)[:k]
        out_ids.append(set(idx.tolist()))
        out_kth.append(dist[idx].max())
    return out_ids, out_kth, d


def recall(base, qs, answers, ids, kth, k):
    hits = 0
    for qi, got in enumerate(answers):
        h = 0
        for g in got[:k]:
            if g in ids[qi] or ((base[g] - qs[qi]) ** 2).sum() <= kth[qi] + 1e-6:
                h += 1
        hits += min(h, k)
    return hits / (k * len(answers))


def connect(system, path, ext):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    if system == "sqlite-vss":
        import sqlite_vss
        sqlite_vss.load(c)
    else:
        c.load_extension(ext)
    return c


def one(args):
    """Runs one (system, factory) in this process and prints a JSON line."""
    base, qs = load_data(args.rows, args.queries)
    ids, kth, _ = truth(base, qs, args.k)
    path = os.path.join(args.tmpdir, f"{args.system}-{args.factory.replace(',', '_')}.db")
    for suffix in ("", "-wal", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    rss0 = rss_kb()
    c = connect(args.system, path, args.ext)
    blobs = [v.tobytes() for v in base]
    t0, cpu0 = time.perf_counter(), time.process_time()
    if args.factory == "vec0-hnsw":
        c.execute(f"create virtual table t using vec0(v float[{base.shape[1]}] distance_metric=l2 indexed by hnsw())")
        sql = "insert into t(rowid, v) values (?, ?)"
        knn = "select rowid, distance from t where v match ? and k = ? order by distance"
    else:
        c.execute(f'create virtual table t using vss0(v({base.shape[1]}) factory="{args.factory}")')
        if args.factory.startswith("IVF"):
            c.execute("begin")
            c.executemany("insert into t(operation, v) values ('training', ?)", [(b,) for b in blobs])
            c.execute("commit")
        sql = "insert into t(rowid, v) values (?, ?)"
        knn = "select rowid, distance from t where vss_search(v, vss_search_params(?, ?))"
    batch = args.batch if args.factory != "vec0-hnsw" else len(blobs)
    for start in range(0, len(blobs), batch):
        c.execute("begin")
        c.executemany(sql, [(i + 1, blobs[i]) for i in range(start, min(start + batch, len(blobs)))])
        c.execute("commit")
    build_s, build_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    size = os.path.getsize(path)
    stmt_args = [(q.tobytes(), args.k) for q in qs]
    for a in stmt_args[: min(20, len(stmt_args))]:  # warm-up
        c.execute(knn, a).fetchall()
    times, cpu_times, answers = [], [], []
    for a in stmt_args:
        s, sc = time.perf_counter(), time.process_time()
        rows = c.execute(knn, a).fetchall()
        times.append(time.perf_counter() - s)
        cpu_times.append(time.process_time() - sc)
        answers.append([r[0] - 1 for r in rows])
    sweep = []
    if args.factory == "vec0-hnsw":
        # The reference at several candidate-list sizes, to compare the vss0 factories with
        # vec0's index at equal recall as well as at its default.
        for ef in (32, 48, 64, 96, 128, 192):
            q_ef = knn.replace(" order by", f" and ef_search = {ef} order by")
            ts, got = [], []
            for a in stmt_args:
                s = time.perf_counter()
                rows = c.execute(q_ef, a).fetchall()
                ts.append(time.perf_counter() - s)
                got.append([r[0] - 1 for r in rows])
            sweep.append({"ef_search": ef, "p50_ms": float(np.median(ts) * 1000),
                          "recall": recall(base, qs, got, ids, kth, args.k)})
    r = {
        "sweep": sweep,
        "system": args.system, "factory": args.factory, "rows": len(base), "build_s": build_s,
        "build_cpu_s": build_cpu, "size_bytes": size,
        "p50_ms": float(np.median(times) * 1000), "p99_ms": float(np.percentile(times, 99) * 1000),
        "cpu_p50_ms": float(np.median(cpu_times) * 1000),
        "recall": recall(base, qs, answers, ids, kth, args.k),
        "rss_growth_mb": (rss_kb() - rss0) / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print("RESULT " + json.dumps(r), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=2000, help="rows per COMMIT for vss0 inserts")
    ap.add_argument("--factories", default=",".join(f'"{f}"' for f in FACTORIES),
                    help='semicolon-separated factory strings (default: %(default)s)')
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", os.path.join(REPO, "target/release/libvecsql")))
    ap.add_argument("--tmpdir", default="/tmp")
    ap.add_argument("--out", default=None)
    ap.add_argument("--system", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--factory", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.system:
        return one(args)
    factories = [f.strip().strip('"') for f in args.factories.split('";"')] if ";" in args.factories \
        else [f.strip('"') for f in args.factories.split('","')]
    runs = [("vecsql", "vec0-hnsw")] + [(s, f) for f in factories for s in ("sqlite-vss", "vecsql")]
    results = []
    for system, factory in runs:
        cmd = [sys.executable, os.path.abspath(__file__), "--system", system, "--factory", factory,
               "--rows", str(args.rows), "--queries", str(args.queries), "--k", str(args.k),
               "--batch", str(args.batch), "--ext", args.ext, "--tmpdir", args.tmpdir]
        print(f"== {system} {factory}", flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True)
        line = next((l for l in p.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            err = (p.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"   failed: {err}", flush=True)
            results.append({"system": system, "factory": factory, "error": err})
            continue
        r = json.loads(line[len("RESULT "):])
        print(f"   build {r['build_s']:.1f}s, p50 {r['p50_ms']:.3f} ms, recall {r['recall']:.3f}, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        results.append(r)
    report(results, args)


def equal_recall_p50(sweep, target):
    """vec0's p50 at `target` recall, linear between the two sweep points around it (None when
    the sweep does not reach it)."""
    pts = sorted((p["recall"], p["p50_ms"]) for p in sweep)
    for (r0, t0), (r1, t1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return t0 if r1 == r0 else t0 + (t1 - t0) * (target - r0) / (r1 - r0)
    return None


def report(results, args):
    load = open("/proc/loadavg").read().split()[:3]
    lines = [
        "# sqlite-vss 0.1.2 vs vecsql `vss0`, same SQL and factory strings",
        "",
        f"{args.rows:,} x 384 all-MiniLM-L6-v2 vectors (unit length, float32), {args.queries} queries, "
        f"k = {args.k}, metric L2 (sqlite-vss's default). Inserts are raw float32 blobs committed "
        f"every {args.batch:,} rows (sqlite-vss rewrites its whole index at each COMMIT); IVF "
        "factories are trained on every row first (`operation='training'`, a no-op on vecsql). "
        "Queries: `where vss_search(v, vss_search_params(?, 10))`, one call each from Python, "
        "after 20 warm-up queries. Each row ran in its own process: peak RSS is that process's "
        "maximum (numpy's vectors included, the same for all), RSS growth what the build and "
        "queries added. `vec0 hnsw` is vecsql's own table (`indexed by hnsw()`, one "
        "transaction), the reference for the p50 target.",
        "",
        "| system | factory | build (s) | build CPU (s) | file (MB) | p50 (ms) | p99 (ms) | CPU p50 (ms) | recall@10 | RSS growth (MB) | peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['system']} | `{r['factory']}` | failed: {r['error']} |||||||||")
            continue
        lines.append(
            f"| {r['system']} | `{r['factory']}` | {r['build_s']:.1f} | {r['build_cpu_s']:.1f} | "
            f"{r['size_bytes'] / 1e6:.1f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['cpu_p50_ms']:.3f} | "
            f"{r['recall']:.3f} | {r['rss_growth_mb']:.0f} | {r['peak_rss_mb']:.0f} |")
    ref_sweep = next((r.get("sweep") for r in results if r.get("factory") == "vec0-hnsw"), None)
    if ref_sweep:
        lines += ["", "vec0's index (`vec0 hnsw` above) over a sweep of `ef_search`, the reference for "
                  "comparisons at equal recall:", "", "| ef_search | p50 (ms) | recall@10 |", "|---:|---:|---:|"]
        lines += [f"| {p['ef_search']} | {p['p50_ms']:.3f} | {p['recall']:.3f} |" for p in ref_sweep]
    by = {(r["system"], r["factory"]): r for r in results if "error" not in r}
    lines += ["", "## Targets (issue 13)", ""]
    flat_v, flat_s = by.get(("vecsql", "Flat,IDMap2")), by.get(("sqlite-vss", "Flat,IDMap2"))
    if flat_v and flat_s:
        ok = flat_v["p50_ms"] <= flat_s["p50_ms"]
        lines.append(f"- exact (`Flat,IDMap2`) at least as fast as sqlite-vss: **{'met' if ok else 'missed'}** "
                     f"(p50 {flat_v['p50_ms']:.3f} ms vs {flat_s['p50_ms']:.3f} ms; CPU p50 "
                     f"{flat_v['cpu_p50_ms']:.3f} vs {flat_s['cpu_p50_ms']:.3f} ms)")
    ref = by.get(("vecsql", "vec0-hnsw"))
    for f in FACTORIES[1:]:
        v = by.get(("vecsql", f))
        if v and ref:
            ok = v["recall"] >= 0.95 and v["p50_ms"] <= 1.3 * ref["p50_ms"]
            lines.append(f"- `{f}`: recall >= 0.95 at p50 <= 1.3x vec0's index: **{'met' if ok else 'missed'}** "
                         f"(recall {v['recall']:.3f}, p50 {v['p50_ms']:.3f} ms = {v['p50_ms'] / ref['p50_ms']:.2f}x "
                         f"vec0's {ref['p50_ms']:.3f} ms; CPU p50 {v['cpu_p50_ms'] / ref['cpu_p50_ms']:.2f}x)")
            at = equal_recall_p50(ref.get("sweep") or [], v["recall"])
            if at is not None:
                lines.append(f"  - at equal recall: vec0's index needs {at:.3f} ms for recall {v['recall']:.3f} "
                             f"(interpolated over the sweep), so `{f}` runs at {v['p50_ms'] / at:.2f}x")
    vss_versions = "sqlite-vss 0.1.2"
    lines += [
        "",
        "## Machine",
        "",
        f"- {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores shared with "
        f"other work; load average at the end of the run: {' '.join(load)} (timings are indicative; "
        "CPU columns are steadier)",
        f"- SQLite {sqlite3.sqlite_version} (Python {platform.python_version()} stdlib sqlite3); {vss_versions}",
        f"- vecsql at {subprocess.run(['git', '-C', REPO, 'describe', '--always', '--dirty'], capture_output=True, text=True).stdout.strip()}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- command: `bench/vss_vs_vecsql.py --rows {args.rows} --queries {args.queries} --batch {args.batch}`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
