#!/usr/bin/env python3
"""vec0 in vecsql and in sqlite-vec 0.1.9, side by side, in one process and one run.

For float32 (`float[384]`), int8 (`vec_quantize_int8(?, 'unit')` into `int8[384]`) and bit
(`vec_quantize_binary(?)` into `bit[384]`) columns, each engine:

* bulk-inserts the base vectors in one transaction (`executemany`) -> rows/s;
* the database file's size after the commit (one file per engine and type, in a temp dir);
* answers the queries with `k = 10` (one warm-up pass, then a timed pass) -> p50/p99 latency;
* recall@10 against numpy's exact L2 neighbours of the float32 vectors (for int8 and bit the
  quantized search is compared with the float32 truth, as is).

Both engines run in this process on the stdlib sqlite3 module (SQLite 3.40 passes no LIMIT to
virtual tables, so queries say `k = ?`), with SQLite's default settings.

    .venv/bin/python bench/vec0_vs_sqlite_vec.py                 # full size, writes the results
    .venv/bin/python bench/vec0_vs_sqlite_vec.py --rows 5000     # quick run
    .venv/bin/python bench/vec0_vs_sqlite_vec.py --profile       # also time query phases

Data: `<repo>/../shared/data/minilm-pypi-dev-{base,queries}.f16.npy` (all-MiniLM-L6-v2
embeddings, float16, unit norm; `--data-dir` to change).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np
import sqlite_vec

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
DEFAULT_EXT = os.path.join(REPO, "target", "release", "libvecsql")
DEFAULT_OUT = os.path.join(REPO, "bench", "results", "vec0_vs_sqlite_vec.md")

TYPES = {
    # name: (column type, insert expression, query expression)
    "float32": ("float[384]", "?", "?"),
    "int8": ("int8[384]", "vec_quantize_int8(?, 'unit')", "vec_quantize_int8(?, 'unit')"),
    "bit": ("bit[384]", "vec_quantize_binary(?)", "vec_quantize_binary(?)"),
}
ENGINES = ["sqlite-vec", "vecsql"]


def connect(engine, path, ext):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    if engine == "sqlite-vec":
        sqlite_vec.load(c)
    else:
        c.load_extension(ext)
    c.enable_load_extension(False)
    return c


def exact_neighbours(base, queries, k):
    """Indices of the k nearest base vectors (L2; the same order as cosine on unit vectors)."""
    base_sq = (base.astype(np.float64) ** 2).sum(axis=1)
    out = []
    for start in range(0, len(queries), 50):
        q = queries[start:start + 50].astype(np.float64)
        d = base_sq[None, :] - 2 * q @ base.astype(np.float64).T
        idx = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, idx, axis=1).argsort(axis=1)
        out.append(np.take_along_axis(idx, order, axis=1))
    return np.vstack(out)


def percentile_ms(times, p):
    return float(np.percentile(np.array(times), p) * 1000)


def run_one(engine, kind, base, queries, truth, k, tmpdir, ext, profile):
    col, ins_expr, q_expr = TYPES[kind]
    path = os.path.join(tmpdir, f"{engine}-{kind}.db")
    c = connect(engine, path, ext)
    c.execute(f"create virtual table t using vec0(embedding {col})")
    blobs = [v.tobytes() for v in base]
    t0 = time.perf_counter()
    c.execute("begin")
    c.executemany(f"insert into t(rowid, embedding) values (?, {ins_expr})",
                  ((i + 1, b) for i, b in enumerate(blobs)))
    c.execute("commit")
    insert_s = time.perf_counter() - t0
    size = os.path.getsize(path)

    sql = f"select rowid, distance from t where embedding match {q_expr} and k = ?"
    qblobs = [q.tobytes() for q in queries]
    for qb in qblobs:  # warm-up pass
        c.execute(sql, (qb, k)).fetchall()
    times, hits = [], 0
    for qi, qb in enumerate(qblobs):
        t = time.perf_counter()
        rows = c.execute(sql, (qb, k)).fetchall()
        times.append(time.perf_counter() - t)
        got = {r[0] - 1 for r in rows}
        hits += len(got & set(truth[qi].tolist()))
    result = {
        "insert_rows_s": len(base) / insert_s,
        "insert_s": insert_s,
        "size_mb": size / 1e6,
        "p50_ms": percentile_ms(times, 50),
        "p99_ms": percentile_ms(times, 99),
        "recall": hits / (len(queries) * k),
    }
    if profile:
        result["profile"] = profile_phases(c, sql, qblobs, k, kind)
    c.close()
    return result


def profile_phases(c, sql, qblobs, k, kind):
    """Where a KNN query's time goes, measured from SQL (median ms of the first query):
    the same query with k = 1 (cost of keeping the top k), every vector chunk's bytes read
    through plain SQL (the I/O floor of a scan through SQLite's pager), the chunk bookkeeping
    rows, and the KNN again with the file memory-mapped and a page cache that holds it all
    (what is left is compute and per-chunk overhead)."""
    def timed(stmt, params, n=20):
        for _ in range(2):
            c.execute(stmt, params).fetchall()
        ts = []
        for i in range(n):
            t = time.perf_counter()
            c.execute(stmt, params).fetchall()
            ts.append(time.perf_counter() - t)
        return float(np.median(ts) * 1000)

    q = qblobs[0]
    out = {
        f"knn k={k}": timed(sql, (q, k)),
        "knn k=1": timed(sql, (q, 1)),
        "read every vector byte (SQL)": timed(
            "select sum(length(cast(vectors as blob))) from t_vector_chunks00", ()),
        "read chunk bookkeeping (SQL)": timed("select chunk_id, validity, rowids from t_chunks", ()),
    }
    if kind == "float32":
        out["vec_distance_l2 per row (SQL scan)"] = timed(
            "select min(vec_distance_l2(embedding, ?)) from t", (q,), n=3)
    c.execute("pragma mmap_size = 4000000000")
    c.execute("pragma cache_size = -4000000")
    out[f"knn k={k}, mmap + big cache"] = timed(sql, (q, k))
    out["read every vector byte, mmap + big cache"] = timed(
        "select sum(length(cast(vectors as blob))) from t_vector_chunks00", ())
    return out


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def ratio(a, b):
    return a / b if b else float("nan")


def report(results, info, args, versions, nrows, nqueries):
    lines = [
        "# vec0: vecsql vs sqlite-vec 0.1.9",
        "",
        f"{nrows:,} x 384 all-MiniLM-L6-v2 vectors (float16 on disk, unit norm), {nqueries} queries, "
        f"k = {args.k}; exact KNN (brute force) in both engines. One process, stdlib sqlite3, "
        "default SQLite settings, rollback journal.",
        "",
        "| column | engine | insert (rows/s) | size (MB) | KNN p50 (ms) | KNN p99 (ms) | recall@10 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for kind in TYPES:
        if kind not in results:
            continue
        col = TYPES[kind][0]
        for engine in ENGINES:
            r = results[kind][engine]
            lines.append(
                f"| {kind} `{col}` | {engine} | {r['insert_rows_s']:,.0f} | {r['size_mb']:.1f} | "
                f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['recall']:.3f} |")
        a, b = results[kind]["sqlite-vec"], results[kind]["vecsql"]
        lines.append(
            f"| {kind} | **vecsql / sqlite-vec** | **{ratio(b['insert_rows_s'], a['insert_rows_s']):.2f}x** | "
            f"**{ratio(b['size_mb'], a['size_mb']):.2f}x** | **{ratio(b['p50_ms'], a['p50_ms']):.2f}x** | "
            f"**{ratio(b['p99_ms'], a['p99_ms']):.2f}x** | |")
    lines.append("")
    lines.append("Ratios: insert rate and latency as vecsql divided by sqlite-vec (insert > 1 and "
                 "latency < 1 favour vecsql; size < 1 is smaller).")
    if "float32" in results:
        a, b = results["float32"]["sqlite-vec"], results["float32"]["vecsql"]
        lat = ratio(b["p50_ms"], a["p50_ms"])
        lines += [
            "",
            "## Targets",
            "",
            f"- exact float32 KNN p50 at most 1/4 of sqlite-vec's: "
            f"**{'met' if lat <= 0.25 else 'missed'}** ({lat:.2f}x)",
        ]
        for kind in results:
            ir = ratio(results[kind]["vecsql"]["insert_rows_s"], results[kind]["sqlite-vec"]["insert_rows_s"])
            lines.append(f"- {kind} insert rate at least sqlite-vec's: "
                         f"**{'met' if ir >= 1 else 'missed'}** ({ir:.2f}x)")
    profiles = [(kind, e, results[kind][e]["profile"]) for kind in results for e in ENGINES
                if "profile" in results[kind][e]]
    if profiles:
        names = []
        for _, _, p in profiles:
            names += [n for n in p if n not in names]
        lines += ["", "## Query phases (median ms of the first query; see profile_phases())", "",
                  "| column | engine | " + " | ".join(names) + " |",
                  "|---|---|" + "---:|" * len(names)]
        for kind, e, p in profiles:
            cells = [f"{p[n]:.2f}" if n in p else "" for n in names]
            lines.append(f"| {kind} | {e} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']} ({info['cores']} logical cores, shared with other work: "
        "timings are indicative)",
        f"- SQLite {info['sqlite']} (Python {info['python']} stdlib sqlite3)",
        f"- sqlite-vec {versions['sqlite-vec']}; vecsql {versions['vecsql']} at {info['commit']}",
        f"- vecsql kernels: {versions['vecsql_debug']}",
        f"- date: {info['date']}",
        f"- command: `{' '.join(['bench/vec0_vs_sqlite_vec.py'] + sys.argv[1:])}`",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=DEFAULT_DATA)
    ap.add_argument("--rows", type=int, default=None, help="base vectors to use (default: all)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--types", default=",".join(TYPES), help="comma-separated: float32,int8,bit")
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", DEFAULT_EXT),
                    help="vecsql extension without its suffix")
    ap.add_argument("--out", default=None,
                    help=f"Markdown output (default: {os.path.relpath(DEFAULT_OUT, REPO)} for full-size runs, none otherwise)")
    ap.add_argument("--profile", action="store_true", help="also time query phases")
    ap.add_argument("--tmpdir", default=None, help="where the databases go (default: a temp dir)")
    args = ap.parse_args()

    base = np.load(os.path.join(args.data_dir, "minilm-pypi-dev-base.f16.npy"))
    queries = np.load(os.path.join(args.data_dir, "minilm-pypi-dev-queries.f16.npy"))
    if args.rows:
        base = base[: args.rows]
    base = np.ascontiguousarray(base, dtype=np.float32)
    queries = np.ascontiguousarray(queries[: args.queries], dtype=np.float32)
    print(f"{len(base):,} base vectors, {len(queries)} queries; exact neighbours with numpy...", flush=True)
    truth = exact_neighbours(base, queries, args.k)

    probe_v, probe_s = connect("vecsql", ":memory:", args.ext), connect("sqlite-vec", ":memory:", args.ext)
    versions = {
        "vecsql": probe_v.execute("select vec_version()").fetchone()[0],
        "vecsql_debug": " ".join(probe_v.execute("select vec_debug()").fetchone()[0].split()),
        "sqlite-vec": probe_s.execute("select vec_version()").fetchone()[0],
    }
    probe_v.close()
    probe_s.close()

    results = {}
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        for kind in args.types.split(","):
            results[kind] = {}
            for engine in ENGINES:
                print(f"{kind:8s} {engine:10s} ...", end=" ", flush=True)
                r = run_one(engine, kind, base, queries, truth, args.k, tmp, args.ext, args.profile)
                results[kind][engine] = r
                print(f"insert {r['insert_rows_s']:,.0f} rows/s ({r['insert_s']:.1f}s), {r['size_mb']:.1f} MB, "
                      f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, recall@{args.k} {r['recall']:.3f}",
                      flush=True)
                os.remove(os.path.join(tmp, f"{engine}-{kind}.db"))

    md = report(results, machine_info(), args, versions, len(base), len(queries))
    print()
    print(md)
    out = args.out or (DEFAULT_OUT if args.rows is None else None)
    if out:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write(md)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
