#!/usr/bin/env python3
"""Numbers for docs/tuning.md that the other benchmarks do not give: the element types of an
exact (unindexed) vec0 column, chunk_size, rescoring a bit column by its float vectors, and
`oversample` on a quantized HNSW index.

Data: the shared all-MiniLM-L6-v2 set (`<repo>/../shared/data/minilm-pypi-dev-*.f16.npy`,
unit norm, used as float32), cosine distance, k = 10, recall@10 against numpy's exact cosine
neighbours of the float32 vectors. Every query is one call from Python (its overhead is in
every number); p50 is the median wall time of a timed pass after a warm-up pass. One
process, stdlib sqlite3, default SQLite settings.

    .venv/bin/python bench/tuning.py                      # everything, writes bench/results/tuning.md
    .venv/bin/python bench/tuning.py --parts rescore      # one part (types,chunks,rescore,oversample)
    .venv/bin/python bench/tuning.py --rows 20000         # fewer exact-scan rows
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
if not os.path.isdir(DEFAULT_DATA):
    DEFAULT_DATA = "/work/shared/data"
DEFAULT_EXT = os.path.join(REPO, "target", "release", "libvecsql")
DEFAULT_OUT = os.path.join(REPO, "bench", "results", "tuning.md")

# name: (column type, insert expression, query expression)
TYPES = {
    "float32": ("float[384]", "?", "?"),
    "float16": ("float16[384]", "?", "?"),
    "bfloat16": ("bfloat16[384]", "?", "?"),
    "int8": ("int8[384]", "vec_quantize_int8(?, 'unit')", "vec_quantize_int8(?, 'unit')"),
    "bit": ("bit[384]", "vec_quantize_binary(?)", "vec_quantize_binary(?)"),
}

# The SQL of docs/tuning.md's bit rescoring example (tests/python/test_tuning_guide.py runs
# the one in the guide itself).
RESCORE_SQL = """
select rowid, vec_distance_cosine(embedding_f32, :q) as distance
  from (select rowid, embedding_f32 from docs
         where embedding match vec_quantize_binary(:q) and k = :candidates)
 order by distance limit :k
"""


def log(msg=""):
    print(msg, flush=True)


def connect(path, ext):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(ext)
    c.enable_load_extension(False)
    return c


def size_of(path):
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def exact_truth(base, queries, k):
    b = base / np.linalg.norm(base, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    scores = q @ b.T
    return [set(np.argsort(-s, kind="stable")[:k].tolist()) for s in scores]


def recall(answers, truth):
    return sum(len(set(a) & t) for a, t in zip(answers, truth)) / sum(len(t) for t in truth)


def timed(fn, qblobs):
    for q in qblobs:  # warm-up pass
        fn(q)
    answers, times, cpu = [], [], []
    for q in qblobs:
        t, c = time.perf_counter(), time.process_time()
        answers.append(fn(q))
        cpu.append(time.process_time() - c)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    # CPU time of this process (every thread) per query: on a shared machine steadier than
    # wall time, which includes waiting for a core.
    return answers, float(np.percentile(ms, 50)), float(np.median(cpu) * 1000)


def insert(c, decl, expr, base, extra_cols="", extra=None):
    c.execute(f"create virtual table docs using vec0({decl})")
    cols = "rowid, embedding" + extra_cols
    marks = "?, " + expr + (", ?" if extra_cols else "")
    rows = (
        (i, v.tobytes(), v.tobytes()) if extra else (i, v.tobytes()) for i, v in enumerate(base)
    )
    t = time.perf_counter()
    c.execute("begin")
    c.executemany(f"insert into docs({cols}) values ({marks})", rows)
    c.execute("commit")
    return time.perf_counter() - t


def part_types(args, ctx):
    out = []
    for name, (col, ins, qexpr) in TYPES.items():
        metric = "" if name == "bit" else " distance_metric=cosine"
        path = os.path.join(ctx["tmp"], f"types-{name}.db")
        c = connect(path, ctx["ext"])
        secs = insert(c, f"embedding {col}{metric}", ins, ctx["base"])
        size = size_of(path)

        def fn(q, c=c, qexpr=qexpr):
            return [r[0] for r in c.execute(
                f"select rowid from docs where embedding match {qexpr} and k = ?", (q, args.k))]

        answers, p50, cpu = timed(fn, ctx["qblobs"])
        row = dict(type=name, column=f"{col}{metric}", rows_per_s=len(ctx["base"]) / secs,
                   size_mb=size / 1e6, bytes_per_row=size / len(ctx["base"]), p50=p50, cpu=cpu,
                   recall=recall(answers, ctx["truth"]))
        log(f"  {row}")
        out.append(row)
        c.close()
    return out


def part_chunks(args, ctx):
    out = []
    for chunk in args.chunk_sizes:
        path = os.path.join(ctx["tmp"], f"chunk-{chunk}.db")
        c = connect(path, ctx["ext"])
        secs = insert(c, f"embedding float[384] distance_metric=cosine, chunk_size={chunk}", "?",
                      ctx["base"])
        size = size_of(path)

        def fn(q, c=c):
            return [r[0] for r in c.execute(
                "select rowid from docs where embedding match ? and k = ?", (q, args.k))]

        _, p50, cpu = timed(fn, ctx["qblobs"])
        # A point read of one row (its vector), through the rowid.
        ids = np.random.default_rng(1).integers(0, len(ctx["base"]), 200).tolist()
        t = time.perf_counter()
        for i in ids:
            c.execute("select embedding from docs where rowid = ?", (i,)).fetchone()
        point_ms = (time.perf_counter() - t) * 1000 / len(ids)
        row = dict(chunk_size=chunk, rows_per_s=len(ctx["base"]) / secs, size_mb=size / 1e6,
                   p50=p50, cpu=cpu, point_ms=point_ms)
        log(f"  {row}")
        out.append(row)
        c.close()
    return out


def part_rescore(args, ctx):
    path = os.path.join(ctx["tmp"], "rescore.db")
    c = connect(path, ctx["ext"])
    secs = insert(c, "embedding bit[384], +embedding_f32 blob", "vec_quantize_binary(?)",
                  ctx["base"], extra_cols=", embedding_f32", extra=True)
    size = size_of(path)
    out = []

    def plain(q):
        return [r[0] for r in c.execute(
            "select rowid from docs where embedding match vec_quantize_binary(?) and k = ?",
            (q, args.k))]

    answers, p50, cpu = timed(plain, ctx["qblobs"])
    out.append(dict(candidates=args.k, how="bit KNN only", p50=p50, cpu=cpu,
                    recall=recall(answers, ctx["truth"])))
    log(f"  {out[-1]}")
    for factor in args.rescore:
        n = args.k * factor

        def rescored(q, n=n):
            return [r[0] for r in c.execute(RESCORE_SQL, {"q": q, "candidates": n, "k": args.k})]

        answers, p50, cpu = timed(rescored, ctx["qblobs"])
        out.append(dict(candidates=n, how=f"bit KNN k = {n}, re-ranked by float32", p50=p50,
                        cpu=cpu, recall=recall(answers, ctx["truth"])))
        log(f"  {out[-1]}")
    c.close()
    return dict(rows=out, size_mb=size / 1e6, rows_per_s=len(ctx["base"]) / secs)


def part_oversample(args, ctx):
    n = min(args.index_rows, len(ctx["base_all"]))
    base = ctx["base_all"][:n]
    truth = exact_truth(base, ctx["queries"], args.k)
    out = []
    for quantizer in ("binary", "int8"):
        path = os.path.join(ctx["tmp"], f"oversample-{quantizer}.db")
        c = connect(path, ctx["ext"])
        secs = insert(
            c, f"embedding float[384] distance_metric=cosine indexed by hnsw(quantizer={quantizer})",
            "?", base)
        for ef in args.oversample_ef:
            for over in args.oversample:
                c.execute("insert into docs(docs) values (?)", (f"oversample={over}",))

                def fn(q, c=c, ef=ef):
                    return [r[0] for r in c.execute(
                        "select rowid from docs where embedding match ? and k = ? and ef_search = ?",
                        (q, args.k, ef))]

                answers, p50, cpu = timed(fn, ctx["qblobs"])
                row = dict(quantizer=quantizer, rows=n, build_s=secs, ef_search=ef,
                           oversample=over, p50=p50, cpu=cpu, recall=recall(answers, truth))
                log(f"  {row}")
                out.append(row)
        c.close()
    return out


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = "?"
    return cpu, os.cpu_count(), " ".join(load), rev


def report(args, ctx, res, load_before):
    n = len(ctx["base"])
    lines = [
        "# Tuning numbers (bench/tuning.py)",
        "",
        f"{n:,} x 384 all-MiniLM-L6-v2 vectors for the exact scans (the shared set, unit norm), "
        f"{len(ctx['qblobs'])} queries, k = {args.k}, cosine; recall@{args.k} against numpy's exact "
        "neighbours of the float32 vectors. p50: median wall time of one query from Python, after a "
        "warm-up pass; CPU: median CPU time of this process (all threads) per query, steadier than "
        "wall time on a shared machine. Insert: every row in one transaction (`executemany`). Size: the database "
        "file after commit.",
        "",
    ]
    if "types" in res:
        lines += [
            "## Element types (exact scan, no index)",
            "",
            "| column | insert rows/s | size (MB) | bytes/row | p50 (ms) | CPU p50 (ms) | recall@10 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in res["types"]:
            lines.append(f"| `{r['column']}` | {r['rows_per_s']:,.0f} | {r['size_mb']:.1f} | "
                         f"{r['bytes_per_row']:,.0f} | {r['p50']:.2f} | {r['cpu']:.2f} | {r['recall']:.3f} |")
        lines.append("")
    if "chunks" in res:
        lines += [
            "## chunk_size (`float[384] distance_metric=cosine`, exact scan)",
            "",
            "| chunk_size | insert rows/s | size (MB) | KNN p50 (ms) | KNN CPU p50 (ms) | point read (ms) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in res["chunks"]:
            lines.append(f"| {r['chunk_size']} | {r['rows_per_s']:,.0f} | {r['size_mb']:.1f} | "
                         f"{r['p50']:.2f} | {r['cpu']:.2f} | {r['point_ms']:.3f} |")
        lines.append("")
    if "rescore" in res:
        rr = res["rescore"]
        lines += [
            "## Rescoring a bit column by its float32 vectors",
            "",
            f"`vec0(embedding bit[384], +embedding_f32 blob)`: {rr['size_mb']:.1f} MB, insert "
            f"{rr['rows_per_s']:,.0f} rows/s. Query: the bit KNN with k = candidates, then "
            "`vec_distance_cosine(embedding_f32, :q)` on those rows, the best 10 kept:",
            "",
            "```sql" + RESCORE_SQL + "```",
            "",
            "| candidates | query | p50 (ms) | CPU p50 (ms) | recall@10 |",
            "|---:|---|---:|---:|---:|",
        ]
        for r in rr["rows"]:
            lines.append(f"| {r['candidates']} | {r['how']} | {r['p50']:.2f} | {r['cpu']:.2f} | {r['recall']:.3f} |")
        lines.append("")
    if "oversample" in res:
        rows = res["oversample"]
        lines += [
            f"## oversample on a quantized HNSW index (first {rows[0]['rows']:,} rows)",
            "",
            "`float[384] distance_metric=cosine indexed by hnsw(quantizer=Q)`, then "
            "`insert into docs(docs) values ('oversample=N')` between passes; queries with "
            "`ef_search = E`. Recall against the exact neighbours among those rows.",
            "",
            "| quantizer | build (s) | ef_search | oversample | p50 (ms) | CPU p50 (ms) | recall@10 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(f"| {r['quantizer']} | {r['build_s']:.1f} | {r['ef_search']} | {r['oversample']} | "
                         f"{r['p50']:.3f} | {r['cpu']:.3f} | {r['recall']:.3f} |")
        lines.append("")
    cpu, cores, load_after, rev = machine()
    lines += [
        "## Machine",
        "",
        f"- CPU: {cpu} ({cores} logical cores, shared with other work: timings are indicative)",
        f"- load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        f"- SQLite {sqlite3.sqlite_version} (Python {platform.python_version()} stdlib sqlite3)",
        f"- vecsql at {rev}: {ctx['debug']}",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- command: `bench/tuning.py {' '.join(sys.argv[1:])}`",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--rows", type=int, default=None, help="rows for the exact scans (default all)")
    ap.add_argument("--index-rows", type=int, default=20000, help="rows for the oversample index")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--parts", default="types,chunks,rescore,oversample")
    ap.add_argument("--chunk-sizes", default="64,256,1024,4096")
    ap.add_argument("--rescore", default="2,4,10,20", help="candidates = k x these")
    ap.add_argument("--oversample", default="1,2,4,8,16")
    ap.add_argument("--oversample-ef", default="10")
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", DEFAULT_EXT))
    ap.add_argument("--out", default=None)
    ap.add_argument("--tmpdir", default=None)
    args = ap.parse_args()
    args.chunk_sizes = [int(x) for x in args.chunk_sizes.split(",")]
    args.rescore = [int(x) for x in args.rescore.split(",")]
    args.oversample = [int(x) for x in args.oversample.split(",")]
    args.oversample_ef = [int(x) for x in args.oversample_ef.split(",")]
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])

    base_all = np.load(os.path.join(args.data, "minilm-pypi-dev-base.f16.npy")).astype(np.float32)
    queries = np.load(os.path.join(args.data, "minilm-pypi-dev-queries.f16.npy")).astype(np.float32)
    queries = np.ascontiguousarray(queries[: args.queries])
    base = np.ascontiguousarray(base_all[: args.rows] if args.rows else base_all)
    ctx = dict(base_all=base_all, base=base, queries=queries,
               qblobs=[q.tobytes() for q in queries])
    log(f"{len(base):,} rows, {len(queries)} queries; exact neighbours with numpy ...")
    ctx["truth"] = exact_truth(base, queries, args.k)
    res = {}
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        ctx["tmp"] = tmp
        src = args.ext if os.path.exists(args.ext) else args.ext + ".so"
        ctx["ext"] = os.path.join(tmp, "libvecsql.so")  # a rebuild cannot pull it away
        shutil.copy(src, ctx["ext"])
        c = connect(":memory:", ctx["ext"])
        ctx["debug"] = " ".join(c.execute("select vec_debug()").fetchone()[0].split())
        c.close()
        for p in parts:
            log(f"== {p}")
            res[p] = globals()[f"part_{p}"](args, ctx)
    md = report(args, ctx, res, load_before)
    log()
    log(md)
    out = args.out or (DEFAULT_OUT if set(parts) == {"types", "chunks", "rescore", "oversample"}
                       and args.rows is None else None)
    if out:
        with open(out, "w") as f:
            f.write(md)
        log(f"written to {out}")


if __name__ == "__main__":
    main()
