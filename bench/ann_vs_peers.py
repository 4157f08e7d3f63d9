#!/usr/bin/env python3
"""ANN search: vecsql's vec0 index against its peers, in one process and one run.

Systems (all on one thread, all answering k = 10 cosine KNN one query at a time from Python):

1. vecsql exact       vec0 `emb float[384] distance_metric=cosine`, `where emb match ? and k = 10`
2. vecsql hnsw        the same column `indexed by hnsw(...)`, rows bulk-inserted in one
                      transaction, queries with `and ef_search = E` over a sweep of E; also
                      `hnsw(quantizer=int8)` (--quantizers). Skipped with the error if the
                      table cannot be created, or if neither the knob nor vec_index_status()
                      exists (the syntax parses but no index is behind it).
3. sqlite-vec 0.1.9   exact vec0 (brute force)
3b. vecsql libSQL API  the same SQL as libSQL DiskANN (F32_BLOB table, libsql_vector_idx index,
                      vector_top_k) on stock SQLite with vecsql: the index is vec0's HNSW;
4. libSQL DiskANN     `pip install libsql`: `F32_BLOB(384)` column,
                      `create index ... on t(libsql_vector_idx(emb, 'metric=cosine'))`, queries
                      through `vector_top_k(...)` joined back to the table
5. hnswlib, usearch   in memory, M / connectivity 16, ef_construction / expansion_add 200,
                      the same ef sweep (`set_ef`, `expansion_search`): the ceiling

For each: build (bulk insert or index build) wall and CPU time, database / index size (and
index bytes per vector), p50 / p99 latency and median per-query CPU time of a timed pass after a
warm-up pass, queries per second of that pass, and recall@10 against numpy's exact cosine neighbours (a result also counts when its true
distance ties the 10th neighbour's). Then a filtered-KNN section: every vec0 row has a metadata
column `bucket integer` (0..999, a seeded permutation, uncorrelated with the vectors) and the
queries add `and bucket < S` for selectivities 50%, 10%, 1% and 0.1%.

Everything runs in this process (stdlib sqlite3 for vecsql and sqlite-vec, the libsql module
for libSQL), pinned to one CPU (so vecsql's exact scan, which would otherwise split large scans
over up to 4 threads, runs on one), with OMP/MKL/OpenBLAS limited to one thread.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/ann_vs_peers.py                      # everything, writes the results
    .venv/bin/python bench/ann_vs_peers.py --rows 10000 --skip libsql,sqlite-vec   # quick
    .venv/bin/python bench/ann_vs_peers.py --only vecsql-hnsw,hnswlib --hnsw-params "m=16, ef_construction=200"
    .venv/bin/python bench/ann_vs_peers.py --libsql-rows 20000  # libSQL on the first 20k rows only
    .venv/bin/python bench/ann_vs_peers.py --libsql-rows 20000 --libsql-db /work/targets/bench/libsql-20k.db
                              # keep libSQL's database (1.8 GB at 20k rows) and reuse it, with the
                              # build time measured when it was made, in later runs: libSQL's
                              # build is the slow part (about 10 ms of CPU per row; at 100k rows
                              # more than 30 minutes on a busy 2-core machine)

Systems for --only / --skip: vecsql-exact, vecsql-hnsw, sqlite-vec, libsql, hnswlib, usearch,
filtered. Results go to bench/results/ann_vs_peers.md and ann_recall_vs_qps.png for complete runs
(no --rows, --only or --skip), or where --out / --plot say.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import copy  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
DEFAULT_EXT = os.path.join(REPO, "target", "release", "libvecsql")
DEFAULT_OUT = os.path.join(REPO, "bench", "results", "ann_vs_peers.md")
DEFAULT_PLOT = os.path.join(REPO, "bench", "results", "ann_recall_vs_qps.png")
SYSTEMS = ["vecsql-exact", "vecsql-hnsw", "vecsql-libsql", "sqlite-vec", "libsql", "hnswlib", "usearch",
           "filtered"]
SELECTIVITIES = [0.5, 0.1, 0.01, 0.001]
BUCKETS = 1000  # bucket in 0..999; `bucket < S * 1000` keeps a fraction S of the rows
TARGET_RECALL = 0.95


# ----------------------------------------------------------------------------- helpers

def log(msg="", end="\n"):
    print(msg, end=end, flush=True)


def normalise(x):
    x = x.astype(np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class Truth:
    """Exact cosine neighbours of the queries among the base rows (optionally only those a mask
    keeps), and the tie-aware recall of an answer."""

    def __init__(self, base_n, queries_n, k, mask=None):
        self.k = k
        self.base_n, self.queries_n = base_n, queries_n
        ids, dists = [], []
        cand = np.arange(len(base_n)) if mask is None else np.flatnonzero(mask)
        sub = base_n[cand]
        for start in range(0, len(queries_n), 50):
            d = 1.0 - queries_n[start:start + 50] @ sub.T
            kk = min(k, len(cand))
            idx = np.argpartition(d, kk - 1, axis=1)[:, :kk]
            order = np.take_along_axis(d, idx, axis=1).argsort(axis=1)
            idx = np.take_along_axis(idx, order, axis=1)
            ids.append(cand[idx])
            dists.append(np.take_along_axis(d, idx, axis=1))
        self.ids = np.vstack(ids)
        self.dists = np.vstack(dists)
        self.mask = mask

    def recall(self, answers):
        """answers: one list of 0-based base indices per query. A returned row counts if it is
        one of the true k or its true distance is within 1e-6 of the k-th (ties); rows that
        break the filter never count."""
        hits, total = 0, 0
        for qi, got in enumerate(answers):
            truth = set(self.ids[qi].tolist())
            kth = self.dists[qi, -1]
            q = self.queries_n[qi]
            seen = set()
            h = 0
            for g in got:
                if g in seen or g < 0 or g >= len(self.base_n):
                    continue
                seen.add(g)
                if self.mask is not None and not self.mask[g]:
                    continue
                if g in truth or 1.0 - float(self.base_n[g] @ q) <= kth + 1e-6:
                    h += 1
            hits += min(h, len(truth))
            total += len(truth)
        return hits / total if total else float("nan")


def time_queries(fn, qs, warmup=True):
    """Run fn(q) for every query (a warm-up pass first), return (answers, per-query seconds,
    wall seconds of the timed pass); per-query CPU seconds of this process go to CPU_TIMES."""
    if warmup:
        for q in qs:
            fn(q)
    answers, times = [], []
    CPU_TIMES.clear()
    t_all = time.perf_counter()
    for q in qs:
        c = time.process_time()
        t = time.perf_counter()
        answers.append(fn(q))
        times.append(time.perf_counter() - t)
        CPU_TIMES.append(time.process_time() - c)
    wall = time.perf_counter() - t_all
    return answers, times, wall


CPU_TIMES = []


def point(label, answers, times, wall, truth, **extra):
    p = {
        "label": label,
        "p50_ms": float(np.percentile(times, 50) * 1000),
        "p99_ms": float(np.percentile(times, 99) * 1000),
        "cpu_p50_ms": float(np.percentile(CPU_TIMES, 50) * 1000) if len(CPU_TIMES) == len(times) else None,
        "qps": len(times) / wall if wall else float("nan"),
        "recall": truth.recall(answers),
    }
    p.update(extra)
    return p


def fmt_point(p):
    return (f"{p['label']}: p50 {p['p50_ms']:.3f} ms, p99 {p['p99_ms']:.3f} ms, "
            f"{p['qps']:,.0f} q/s, recall@10 {p['recall']:.3f}")


def file_size(path):
    total = 0
    for suffix in ("", "-wal", "-journal", "-shm"):
        if os.path.exists(path + suffix):
            total += os.path.getsize(path + suffix)
    return total


@contextlib.contextmanager
def phase(name):
    log(f"== {name}")
    t = time.perf_counter()
    yield
    log(f"   ({name}: {time.perf_counter() - t:.1f}s)")


def connect_sqlite(path, ext=None, sqlite_vec=False):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    if sqlite_vec:
        import sqlite_vec as sv
        sv.load(c)
    else:
        c.load_extension(ext)
    c.enable_load_extension(False)
    return c


def bulk_insert_vec0(c, base, buckets):
    rows = ((i + 1, base[i].tobytes(), buckets[i]) for i in range(len(base)))
    t0, c0 = time.perf_counter(), time.process_time()
    c.execute("begin")
    c.executemany("insert into t(rowid, emb, bucket) values (?, ?, ?)", rows)
    c.execute("commit")
    return time.perf_counter() - t0, time.process_time() - c0


def vec0_knn(c, extra_sql="", extra_params=()):
    sql = f"select rowid, distance from t where emb match ? and k = ?{extra_sql}"

    def fn(qb, k=10):
        return [r[0] - 1 for r in c.execute(sql, (qb, k) + tuple(extra_params)).fetchall()]
    return fn, sql


# ----------------------------------------------------------------------------- systems

def run_vec0_exact(name, ctx, sqlite_vec):
    path = os.path.join(ctx.tmp, f"{name}.db")
    c = connect_sqlite(path, ctx.ext, sqlite_vec=sqlite_vec)
    c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine, bucket integer)")
    build_s, build_cpu_s = bulk_insert_vec0(c, ctx.base, ctx.buckets)
    size = file_size(path)
    fn, sql = vec0_knn(c)
    answers, times, wall = time_queries(lambda q: fn(q, ctx.k), ctx.qblobs)
    p = point("exact", answers, times, wall, ctx.truth)
    log(f"   insert {build_s:.1f}s, {size / 1e6:.1f} MB; {fmt_point(p)}")
    r = {"system": name, "rows": len(ctx.base), "build_s": build_s, "build_cpu_s": build_cpu_s,
         "size_bytes": size, "points": [p], "kind": "exact", "sql": sql}
    if name == "vecsql exact":
        ctx.vecsql_exact_conn = c  # kept for the filtered section
        ctx.vecsql_exact_size = size
    else:
        c.close()
    return r


def run_vecsql_hnsw_subset(ctx, n):
    """vecsql's index on the first n rows only, beside a peer measured on those rows."""
    sub = copy.copy(ctx)
    sub.base, sub.buckets = ctx.base[:n], ctx.buckets[:n]
    sub.truth = ctx.libsql_truth or Truth(ctx.base_n[:n], ctx.queries_n, ctx.k)
    sub.vecsql_exact_size = None
    r = run_vecsql_hnsw(sub, None, keep=False, file_tag=f"-first{n}")
    r["system"] = f"vecsql hnsw, first {n:,} rows"
    r["subset"] = True
    return r


def run_vecsql_hnsw(ctx, quantizer=None, keep=True, file_tag=""):
    params = ctx.args.hnsw_params.strip()
    if quantizer:
        params = f"{params}, quantizer={quantizer}" if params else f"quantizer={quantizer}"
    name = "vecsql hnsw" + (f" {quantizer}" if quantizer else "")
    decl = f"emb float[384] distance_metric=cosine indexed by hnsw({params})"
    tag = "hnsw" + (f"-{quantizer}" if quantizer else "") + file_tag
    path = os.path.join(ctx.tmp, f"vecsql-{tag}.db")
    c = connect_sqlite(path, ctx.ext)
    try:
        c.execute(f"create virtual table t using vec0({decl}, bucket integer)")
    except sqlite3.Error as e:
        log(f"   skipped: create virtual table t using vec0({decl}, ...): {e}")
        c.close()
        return {"system": name, "skipped": f"`{decl}`: {e}"}
    try:
        build_s, build_cpu_s = bulk_insert_vec0(c, ctx.base, ctx.buckets)
    except sqlite3.Error as e:
        log(f"   skipped: bulk insert failed: {e}")
        c.close()
        return {"system": name, "skipped": f"bulk insert into `{decl}`: {e}"}
    size = file_size(path)
    status = None
    try:
        status = c.execute("select vec_index_status('t')").fetchone()[0]
    except sqlite3.Error:
        pass
    log(f"   `{decl}`: insert {build_s:.1f}s, {size / 1e6:.1f} MB"
        + (f"; vec_index_status: {status}" if status else ""))
    r = {"system": name, "rows": len(ctx.base), "build_s": build_s, "build_cpu_s": build_cpu_s,
         "size_bytes": size, "points": [], "kind": "sweep", "decl": decl, "index_status": status}
    if ctx.vecsql_exact_size:
        r["index_bytes_per_vec"] = (size - ctx.vecsql_exact_size) / len(ctx.base)

    # Cold-ish start: close, reopen, first query (the OS page cache is warm).
    c.close()
    t = time.perf_counter()
    c = connect_sqlite(path, ctx.ext)
    c.execute("select rowid from t where emb match ? and k = ?", (ctx.qblobs[0], ctx.k)).fetchall()
    r["reopen_first_query_ms"] = (time.perf_counter() - t) * 1000
    log(f"   reopen + first query: {r['reopen_first_query_ms']:.1f} ms")

    # The table default (no knob), then the ef_search sweep.
    fn, sql = vec0_knn(c)
    answers, times, wall = time_queries(lambda q: fn(q, ctx.k), ctx.qblobs)
    p = point("default", answers, times, wall, ctx.truth)
    log(f"   {fmt_point(p)}")
    r["default_point"] = p
    knob = ctx.args.knob
    for ef in ctx.efs:
        fn, sql = vec0_knn(c, f" and {knob} = ?", (ef,))
        try:
            answers, times, wall = time_queries(lambda q: fn(q, ctx.k), ctx.qblobs)
        except sqlite3.Error as e:
            log(f"   {knob} = {ef}: {e}")
            r.setdefault("errors", []).append(f"`and {knob} = {ef}`: {e}")
            if knob in str(e) or not r["points"]:
                break
            continue
        p = point(f"{knob}={ef}", answers, times, wall, ctx.truth, ef=ef)
        log(f"   {fmt_point(p)}")
        r["points"].append(p)
    r["sql"] = sql
    if not r["points"]:
        if status is None:
            # The declaration parses but nothing answers to the knob or vec_index_status: this
            # build has no index behind the syntax, and its numbers would be exact search.
            why = (f"`{decl}` is accepted but `and {knob} = ?` fails ({r['errors'][0].split(': ', 1)[1]}) "
                   "and there is no vec_index_status(): no index in this build (its queries are exact: "
                   f"default p50 {p['p50_ms']:.3f} ms, recall {p['recall']:.3f}; "
                   f"{(r.get('index_bytes_per_vec') or 0):,.0f} extra bytes/vector)")
            log(f"   skipped: {why}")
            c.close()
            return {"system": name, "skipped": why}
        r["points"] = [r["default_point"]]
    if quantizer is None and keep:
        ctx.vecsql_hnsw_conn = c
        ctx.vecsql_hnsw_result = r
    else:
        c.close()
    return r


def run_vecsql_libsql_api(ctx):
    """libSQL's API on stock SQLite with vecsql: an F32_BLOB table filled first, then
    `CREATE INDEX ... libsql_vector_idx(...)`; build = CREATE INDEX + the first vector_top_k
    (vecsql fills the index's hidden vec0 HNSW table there), then vector_top_k with vecsql's
    optional fourth argument (search_l, vec0's ef_search) swept."""
    name = "vecsql libSQL API"
    path = os.path.join(ctx.tmp, "vecsql-libsql-api.db")
    c = connect_sqlite(path, ctx.ext)
    c.execute("create table t (id integer primary key, emb F32_BLOB(384))")
    t0 = time.perf_counter()
    c.execute("begin")
    c.executemany("insert into t(id, emb) values (?, ?)",
                  ((i + 1, ctx.base[i].tobytes()) for i in range(len(ctx.base))))
    c.execute("commit")
    insert_s = time.perf_counter() - t0
    plain = file_size(path)
    opts = ctx.args.libsql_options
    index_sql = f"create index t_idx on t(libsql_vector_idx(emb, '{opts}'))"
    t0, c0 = time.perf_counter(), time.process_time()
    c.execute(index_sql)
    c.execute("select id from vector_top_k('t_idx', ?, ?)", (ctx.qblobs[0], ctx.k)).fetchall()
    build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    size = file_size(path)
    log(f"   insert {insert_s:.1f}s; `{index_sql}` + first search {build_s:.1f}s, "
        f"{(size - plain) / len(ctx.base):,.0f} index bytes/vector")
    r = {"system": name, "rows": len(ctx.base), "build_s": build_s, "build_cpu_s": build_cpu_s,
         "size_bytes": size, "plain_size_bytes": plain,
         "index_bytes_per_vec": (size - plain) / len(ctx.base), "points": [], "kind": "sweep",
         "index_sql": index_sql}
    sql = "select id from vector_top_k('t_idx', ?, ?)"
    answers, times, wall = time_queries(
        lambda q: [x[0] - 1 for x in c.execute(sql, (q, ctx.k)).fetchall()], ctx.qblobs)
    p = point("default", answers, times, wall, ctx.truth)
    r["default_point"] = p
    log(f"   {fmt_point(p)}")
    sql = "select id from vector_top_k('t_idx', ?, ?, ?)"
    for ef in ctx.efs:
        answers, times, wall = time_queries(
            lambda q: [x[0] - 1 for x in c.execute(sql, (q, ctx.k, ef)).fetchall()], ctx.qblobs)
        p = point(f"search_l={ef}", answers, times, wall, ctx.truth, ef=ef)
        log(f"   {fmt_point(p)}")
        r["points"].append(p)
    r["sql"] = sql
    c.close()
    return r


def libsql_meta_path(db):
    return db + ".json"


def run_libsql(ctx):
    import libsql
    n = min(ctx.args.libsql_rows or len(ctx.base), len(ctx.base))
    base = ctx.base[:n]
    truth = ctx.truth if n == len(ctx.base) else Truth(ctx.base_n[:n], ctx.queries_n, ctx.k)
    ctx.libsql_truth = truth if n < len(ctx.base) else None
    opts = ctx.args.libsql_options
    name = "libSQL DiskANN"
    keep = ctx.args.libsql_db
    path = keep or os.path.join(ctx.tmp, "libsql.db")
    meta = None
    reused = None
    if keep and os.path.exists(keep) and os.path.exists(libsql_meta_path(keep)):
        with open(libsql_meta_path(keep)) as f:
            meta = json.load(f)
        if meta.get("rows") != n or meta.get("options") != opts or not meta.get("complete"):
            log(f"   {keep} holds a different or unfinished build ({meta}); rebuilding")
            meta = None
    if meta is None:
        for suffix in ("", "-wal", "-journal", "-shm", ".json"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        # The same rows without the index, for the index's share of the file.
        plain = os.path.join(ctx.tmp, "libsql-plain.db")
        c = libsql.connect(plain, isolation_level=None)
        c.execute("create table t(id integer primary key, emb F32_BLOB(384))")
        c.execute("begin")
        c.executemany("insert into t(id, emb) values (?, vector32(?))",
                      [(i + 1, base[i].tobytes()) for i in range(n)])
        c.execute("commit")
        c.close()
        plain_size = file_size(plain)
        os.remove(plain)

        c = libsql.connect(path, isolation_level=None)
        c.execute("create table t(id integer primary key, emb F32_BLOB(384))")
        index_sql = f"create index t_idx on t(libsql_vector_idx(emb, '{opts}'))"
        c.execute(index_sql)
        log(f"   {index_sql}; inserting {n:,} rows in one transaction ...")
        t0, c0 = time.perf_counter(), time.process_time()
        c.execute("begin")
        step = 1000
        for start in range(0, n, step):
            c.executemany("insert into t(id, emb) values (?, vector32(?))",
                          [(i + 1, base[i].tobytes()) for i in range(start, min(n, start + step))])
            done = min(n, start + step)
            if done % 10000 == 0 or done == n:
                el = time.perf_counter() - t0
                log(f"   libSQL: {done:,} rows in {el:.0f}s ({done / el:,.0f} rows/s)")
        c.execute("commit")
        build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        size = file_size(path)
        c.close()
        meta = {"rows": n, "options": opts, "build_s": build_s, "build_cpu_s": build_cpu_s, "size_bytes": size,
                "plain_size_bytes": plain_size, "index_sql": index_sql, "complete": True,
                "measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
        if keep:
            with open(libsql_meta_path(keep), "w") as f:
                json.dump(meta, f, indent=1)
    else:
        reused = keep
        log(f"   reusing {keep}: built {meta['measured']} in {meta['build_s']:.0f}s")

    c = libsql.connect(path, isolation_level=None)
    sql = ("select t.id, vector_distance_cos(t.emb, vector32(?)) from vector_top_k('t_idx', vector32(?), ?) v "
           "join t on t.id = v.id")

    def fn(qb):
        return [row[0] - 1 for row in c.execute(sql, (qb, qb, ctx.k)).fetchall()]
    answers, times, wall = time_queries(fn, ctx.qblobs)
    p = point(f"'{opts}'", answers, times, wall, truth)
    r = {"system": name, "rows": n, "build_s": meta["build_s"], "build_cpu_s": meta.get("build_cpu_s"),
         "size_bytes": meta["size_bytes"],
         "index_bytes_per_vec": (meta["size_bytes"] - meta["plain_size_bytes"]) / n,
         "plain_size_bytes": meta["plain_size_bytes"], "points": [p], "kind": "single", "sql": sql,
         "index_sql": meta["index_sql"], "reused": reused, "measured": meta["measured"]}
    if n < len(ctx.base):
        r["extrapolated_build_s"] = meta["build_s"] * len(ctx.base) / n
    log(f"   build {meta['build_s']:.1f}s ({n / meta['build_s']:,.0f} rows/s), {meta['size_bytes'] / 1e6:.1f} MB "
        f"({r['index_bytes_per_vec']:,.0f} index bytes/vector, table alone {meta['plain_size_bytes'] / 1e6:.1f} MB); "
        f"{fmt_point(p)}")
    c.close()
    return r


def run_hnswlib(ctx):
    import hnswlib
    n = len(ctx.base)
    idx = hnswlib.Index(space="cosine", dim=ctx.base.shape[1])
    idx.set_num_threads(1)
    t0, c0 = time.perf_counter(), time.process_time()
    idx.init_index(max_elements=n, M=ctx.args.m, ef_construction=ctx.args.ef_construction, random_seed=100)
    idx.add_items(ctx.base, np.arange(n), num_threads=1)
    build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    path = os.path.join(ctx.tmp, "hnswlib.bin")
    idx.save_index(path)
    size = os.path.getsize(path)
    os.remove(path)
    log(f"   build {build_s:.1f}s ({n / build_s:,.0f} rows/s), saved index {size / 1e6:.1f} MB")
    r = {"system": "hnswlib", "rows": n, "build_s": build_s, "build_cpu_s": build_cpu_s, "size_bytes": size,
         "index_bytes_per_vec": size / n - 4 * ctx.base.shape[1], "points": [], "kind": "sweep"}
    qs = [q.reshape(1, -1) for q in ctx.queries]
    for ef in ctx.efs:
        idx.set_ef(max(ef, ctx.k))
        answers, times, wall = time_queries(
            lambda q: idx.knn_query(q, k=ctx.k, num_threads=1)[0][0].tolist(), qs)
        p = point(f"ef={ef}", answers, times, wall, ctx.truth, ef=ef)
        log(f"   {fmt_point(p)}")
        r["points"].append(p)
    return r


def run_usearch(ctx):
    from usearch.index import Index
    n = len(ctx.base)
    idx = Index(ndim=ctx.base.shape[1], metric="cos", dtype="f32", connectivity=ctx.args.m,
                expansion_add=ctx.args.ef_construction, expansion_search=64)
    t0, c0 = time.perf_counter(), time.process_time()
    idx.add(np.arange(n, dtype=np.uint64), ctx.base, threads=1)
    build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    path = os.path.join(ctx.tmp, "usearch.bin")
    idx.save(path)
    size = os.path.getsize(path)
    os.remove(path)
    log(f"   build {build_s:.1f}s ({n / build_s:,.0f} rows/s), saved index {size / 1e6:.1f} MB")
    r = {"system": "usearch", "rows": n, "build_s": build_s, "build_cpu_s": build_cpu_s, "size_bytes": size,
         "index_bytes_per_vec": size / n - 4 * ctx.base.shape[1], "points": [], "kind": "sweep"}
    for ef in ctx.efs:
        idx.expansion_search = max(ef, ctx.k)
        answers, times, wall = time_queries(
            lambda q: idx.search(q, ctx.k, threads=1).keys.tolist(), ctx.queries)
        p = point(f"ef={ef}", answers, times, wall, ctx.truth, ef=ef)
        log(f"   {fmt_point(p)}")
        r["points"].append(p)
    return r


def run_filtered(ctx):
    """KNN with `and bucket < S`: vecsql exact (must be exact) and vecsql hnsw (default knob and
    the ef_search that first reached the target recall unfiltered)."""
    out = []
    engines = []
    if ctx.vecsql_exact_conn is not None:
        engines.append(("vecsql exact", ctx.vecsql_exact_conn, [None]))
    if ctx.vecsql_hnsw_conn is not None:
        efs = [None]
        best = cheapest_at(ctx.vecsql_hnsw_result, TARGET_RECALL)
        if best and best.get("ef"):
            efs.append(best["ef"])
        engines.append(("vecsql hnsw", ctx.vecsql_hnsw_conn, efs))
    if not engines:
        log("   skipped: neither vecsql table was built")
        return out
    for sel in SELECTIVITIES:
        limit = int(round(sel * BUCKETS))
        mask = ctx.buckets_np < limit
        truth = Truth(ctx.base_n, ctx.queries_n, ctx.k, mask=mask)
        for name, c, efs in engines:
            for ef in efs:
                extra, params = " and bucket < ?", (limit,)
                if ef is not None:
                    extra, params = extra + f" and {ctx.args.knob} = ?", (limit, ef)
                fn, sql = vec0_knn(c, extra, params)
                label = f"{name}" + (f" {ctx.args.knob}={ef}" if ef else "")
                try:
                    answers, times, wall = time_queries(lambda q: fn(q, ctx.k), ctx.qblobs)
                except sqlite3.Error as e:
                    log(f"   {sel:.1%} {label}: skipped: {e}")
                    out.append({"selectivity": sel, "rows": int(mask.sum()), "engine": label, "skipped": str(e)})
                    continue
                short = sum(1 for a in answers if len(a) < min(ctx.k, int(mask.sum())))
                p = point(label, answers, times, wall, truth)
                p.update({"selectivity": sel, "rows": int(mask.sum()), "engine": label, "short_answers": short,
                          "sql": sql})
                log(f"   {sel:6.1%} ({int(mask.sum()):,} rows) {fmt_point(p)}"
                    + (f", {short} short answers" if short else ""))
                out.append(p)
    return out


# ----------------------------------------------------------------------------- report

def cheapest_at(r, recall):
    """The sweep point with the lowest p50 among those reaching `recall`."""
    if not r or r.get("skipped"):
        return None
    ok = [p for p in r["points"] if p["recall"] >= recall]
    return min(ok, key=lambda p: p["p50_ms"]) if ok else None


def p50_at_recall(r, recall, key="p50_ms"):
    """p50 of a sweep at a given recall, interpolated between the sweep's points (log latency
    linear in recall); None outside the measured range."""
    pts = sorted((p for p in r["points"] if p.get(key)), key=lambda p: p["recall"])
    for a, b in zip(pts, pts[1:]):
        if a["recall"] <= recall <= b["recall"]:
            if b["recall"] == a["recall"]:
                return min(a[key], b[key])
            t = (recall - a["recall"]) / (b["recall"] - a["recall"])
            return float(np.exp(np.log(a[key]) * (1 - t) + np.log(b[key]) * t))
    if pts and pts[-1]["recall"] == recall:
        return pts[-1][key]
    return None


def machine_info(versions):
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
        **versions,
    }


def ratio(a, b):
    return a / b if a is not None and b else float("nan")


def report(results, filtered, info, args, nrows, nqueries, pinned):
    by = {r["system"]: r for r in results}
    lines = [
        "# ANN: vecsql vs sqlite-vec, libSQL DiskANN, hnswlib and usearch",
        "",
        f"{nrows:,} x 384 all-MiniLM-L6-v2 vectors (float16 on disk, unit norm, used as float32), "
        f"{nqueries} queries, k = {args.k}, cosine. One process, one thread"
        + (f" (pinned to CPU {pinned})" if pinned is not None else "")
        + "; every query is one call from Python (its overhead is in every number). Latency and "
        "queries/s come from a timed pass after a warm-up pass; recall@10 is against numpy's exact "
        "cosine neighbours (ties with the 10th count). Build = bulk insert of every row in one "
        "transaction (vec0, libSQL: index declared first) or the in-memory index build (hnswlib, "
        "usearch). Size = database file after commit, or the saved index; index bytes/vector = "
        "(file with the index - the same rows without it) / rows, for hnswlib/usearch the saved "
        "index minus 1,536 bytes of float32 vector per row. Build CPU = this process's CPU time "
        "(user + system) during the build, CPU p50 the median of each query's CPU time: on a shared "
        "machine they are steadier than wall times, which include waiting for a core. "
        "Queries/s = queries / wall time of the timed pass (stalls from other work on the machine "
        "weigh on it; the plot uses 1 / p50 instead).",
        "",
        "| system | setting | rows | build (s) | build CPU (s) | size (MB) | index B/vector | p50 (ms) | p99 (ms) | CPU p50 (ms) | queries/s | recall@10 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    skipped = []
    for r in results:
        if r.get("skipped"):
            skipped.append(f"- {r['system']}: skipped: {r['skipped']}")
            continue
        bpv = r.get("index_bytes_per_vec")
        cpu = r.get("build_cpu_s")
        head = [r["system"], f"{r['rows']:,}", f"{r['build_s']:.1f}", "" if cpu is None else f"{cpu:.1f}",
                f"{r['size_bytes'] / 1e6:.1f}", "" if bpv is None else f"{bpv:,.0f}"]
        pts = list(r["points"])
        if r.get("default_point") and r["default_point"] not in pts:
            pts.append(dict(r["default_point"], label="default (no ef_search)"))
        for i, p in enumerate(pts):
            h = head if i == 0 else [""] * 6
            cpu_p50 = "" if p.get("cpu_p50_ms") is None else f"{p['cpu_p50_ms']:.3f}"
            cells = [h[0], p["label"], h[1], h[2], h[3], h[4], h[5], f"{p['p50_ms']:.3f}", f"{p['p99_ms']:.3f}", cpu_p50,
                     f"{p['qps']:,.0f}", f"{p['recall']:.3f}"]
            lines.append("| " + " | ".join(cells) + " |")
    lines += [""] + skipped + ([""] if skipped else [])

    # Ratios and targets.
    lines += ["## Targets (issue 5)", ""]
    hn = by.get("hnswlib")
    vh = by.get("vecsql hnsw")
    lib = by.get("libSQL DiskANN")
    have_v = vh is not None and not vh.get("skipped")
    hn_best = cheapest_at(hn, TARGET_RECALL) if hn else None
    if hn_best:
        lines.append(f"- hnswlib reference: build {hn['build_s']:.1f}s; cheapest point with recall >= "
                     f"{TARGET_RECALL}: {hn_best['label']}, p50 {hn_best['p50_ms']:.3f} ms, recall "
                     f"{hn_best['recall']:.3f}. Targets for vecsql: p50 <= {2 * hn_best['p50_ms']:.3f} ms at that "
                     f"recall, build <= {1.5 * hn['build_s']:.1f}s.")
    if have_v:
        v_best = cheapest_at(vh, TARGET_RECALL)
        if v_best is None:
            lines.append(f"- recall >= {TARGET_RECALL} within 2x hnswlib's p50: **missed** (no ef_search "
                         f"reached {TARGET_RECALL}; best {max(p['recall'] for p in vh['points']):.3f})")
        elif hn:
            h_at = p50_at_recall(hn, v_best["recall"])
            ref = h_at if h_at is not None else (hn_best["p50_ms"] if hn_best else None)
            rr = ratio(v_best["p50_ms"], ref)
            lines.append(
                f"- recall >= {TARGET_RECALL} at p50 <= 2x hnswlib's at the same recall: "
                f"**{'met' if rr <= 2 else 'missed'}** ({rr:.2f}x: vecsql {v_best['label']} p50 "
                f"{v_best['p50_ms']:.3f} ms at recall {v_best['recall']:.3f}; hnswlib "
                + (f"{h_at:.3f} ms interpolated at that recall" if h_at is not None else
                   f"{ref:.3f} ms at its cheapest point >= {TARGET_RECALL}")
                + (f"; by per-query CPU time {ratio(v_best.get('cpu_p50_ms'), h_cpu):.2f}x"
                   if (h_cpu := p50_at_recall(hn, v_best["recall"], "cpu_p50_ms")) and v_best.get("cpu_p50_ms") else "")
                + ")")
        if lib and not lib.get("skipped"):
            lp = lib["points"][0]
            sub = next((r for r in results if r.get("subset") and not r.get("skipped")
                        and r.get("rows") == lib["rows"]), None)
            cmp_sets = [(vh, f"{nrows:,} rows")]
            if sub:
                cmp_sets.insert(0, (sub, f"the same {sub['rows']:,} rows"))
            for vr, what in cmp_sets:
                vb = cheapest_at(vr, lp["recall"])
                where = (f"libSQL p50 {lp['p50_ms']:.3f} ms at recall {lp['recall']:.3f}"
                         + (f" on {lib['rows']:,} rows" if lib["rows"] != nrows else ""))
                if vb:
                    sp = ratio(lp["p50_ms"], vb["p50_ms"])
                    lines.append(
                        f"- >= 10x faster than libSQL at equal or better recall (vecsql on {what}): "
                        f"**{'met' if sp >= 10 else 'missed'}** ({sp:.1f}x: {where}; vecsql {vb['label']} "
                        f"p50 {vb['p50_ms']:.3f} ms at recall {vb['recall']:.3f})")
                else:
                    top = max(vr["points"], key=lambda p: p["recall"])
                    lines.append(
                        f"- >= 10x faster than libSQL at equal or better recall (vecsql on {what}): "
                        f"**missed** (no vecsql point reaches libSQL's recall: {where}; vecsql's best, "
                        f"{top['label']}, p50 {top['p50_ms']:.3f} ms at recall {top['recall']:.3f}, "
                        f"{ratio(lp['p50_ms'], top['p50_ms']):.1f}x faster)")
        if hn:
            br = ratio(vh["build_s"], hn["build_s"])
            bc = ratio(vh.get("build_cpu_s"), hn.get("build_cpu_s"))
            line = (f"- build <= 1.5x hnswlib's: **{'met' if br <= 1.5 else 'missed'}** ({br:.2f}x: "
                    f"{vh['build_s']:.1f}s vs {hn['build_s']:.1f}s wall; CPU time {bc:.2f}x")
            ve = by.get("vecsql exact")
            if ve and not ve.get("skipped"):
                line += (f"; of which {ve['build_s']:.1f}s is what the same insert costs without an index, "
                         f"so the index adds {vh['build_s'] - ve['build_s']:.1f}s = "
                         f"{ratio(vh['build_s'] - ve['build_s'], hn['build_s']):.2f}x hnswlib")
            lines.append(line + ")")
        bpv = vh.get("index_bytes_per_vec")
        line = "- index storage per vector: "
        line += f"vecsql {bpv:,.0f} B" if bpv is not None else "vecsql unknown (no exact table to compare)"
        if lib and not lib.get("skipped"):
            line += f", libSQL {lib['index_bytes_per_vec']:,.0f} B (default settings '{args.libsql_options}')"
        if hn:
            line += f", hnswlib {hn['index_bytes_per_vec']:,.0f} B (graph + labels, in memory)"
        lines.append(line)
        if vh.get("reopen_first_query_ms") is not None:
            lines.append(f"- reopen + first query: {vh['reopen_first_query_ms']:.1f} ms (OS page cache warm)")
        if vh.get("index_status"):
            lines.append(f"- `vec_index_status('t')`: `{vh['index_status']}`")
    else:
        lines.append("- vecsql's index was not measured" + (f" ({vh['skipped']})" if vh else "") + ".")
    if lib and not lib.get("skipped") and hn:
        lines.append(f"- libSQL build vs hnswlib: {ratio(lib.get('extrapolated_build_s', lib['build_s']), hn['build_s']):.0f}x"
                     + (" (libSQL extrapolated linearly to the full row count)" if lib["rows"] != nrows else ""))
    lines.append("")

    if lib and not lib.get("skipped"):
        lines += ["## libSQL", "",
                  f"- index: `{lib['index_sql']}` declared on `create table t(id integer primary key, "
                  "emb F32_BLOB(384))` before the rows are inserted (`insert into t(id, emb) values (?, "
                  "vector32(?))`, one transaction)",
                  f"- query: `{lib['sql']}` (k = {args.k})",
                  f"- database {lib['size_bytes'] / 1e6:.1f} MB with the index, {lib['plain_size_bytes'] / 1e6:.1f} MB "
                  f"without it ({ratio(lib['size_bytes'], lib['plain_size_bytes']):.1f}x); "
                  f"{lib['index_bytes_per_vec']:,.0f} index bytes per vector",
                  f"- build measured {lib['measured']}: {lib['build_s']:.0f}s for {lib['rows']:,} rows "
                  f"({lib['rows'] / lib['build_s']:,.0f} rows/s)"
                  + (f", in an earlier run of this script whose database this run reused (`--libsql-db "
                     f"{lib['reused']}`); latency and recall were measured in this run" if lib.get("reused") else "")]
        if lib["rows"] != nrows:
            lines.append(f"- **measured on the first {lib['rows']:,} rows only** (its own exact ground truth); "
                         f"linear extrapolation to {nrows:,} rows: {lib['extrapolated_build_s']:,.0f}s (a lower "
                         "bound: each insert searches a larger graph). Recall and latency on fewer rows flatter it.")
        lines.append("")

    if filtered:
        lines += ["## Filtered KNN (`and bucket < S`)", "",
                  "`bucket` is a vec0 metadata column holding a seeded permutation of the rows mod 1000 "
                  "(uncorrelated with the vectors); recall@10 is against numpy's exact search over the "
                  "matching rows. Target: recall >= 0.95 at every selectivity, and min(k, matching rows) "
                  "rows, all matching.", "",
                  "| selectivity | matching rows | engine | p50 (ms) | p99 (ms) | recall@10 | short answers |",
                  "|---:|---:|---|---:|---:|---:|---:|"]
        for p in filtered:
            if p.get("skipped"):
                lines.append(f"| {p['selectivity']:.1%} | {p['rows']:,} | {p['engine']} | skipped: {p['skipped']} | | | |")
            else:
                lines.append(f"| {p['selectivity']:.1%} | {p['rows']:,} | {p['engine']} | {p['p50_ms']:.3f} | "
                             f"{p['p99_ms']:.3f} | {p['recall']:.3f} | {p['short_answers']} |")
        vf = [p for p in filtered if not p.get("skipped") and p["engine"] == "vecsql hnsw"]
        if vf:
            worst = min(p["recall"] for p in vf)
            lines += ["", f"- filtered recall >= 0.95 at 50%, 10%, 1%, 0.1% (default knob): "
                          f"**{'met' if worst >= 0.95 else 'missed'}** (lowest {worst:.3f})"]
        lines.append("")

    lines += [
        "## Plot",
        "",
        f"![recall vs queries/s]({os.path.basename(args.plot or DEFAULT_PLOT)})",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']} ({info['cores']} logical cores, shared with other work: timings are indicative)",
        f"- SQLite {info['sqlite']} (Python {info['python']} stdlib sqlite3) for vecsql and sqlite-vec; "
        f"libSQL {info.get('libsql', '?')} (Python libsql {info.get('libsql_py', '?')})",
        f"- vecsql {info.get('vecsql', '?')} at {info['commit']} ({info.get('vecsql_debug', '')}); "
        f"sqlite-vec {info.get('sqlite-vec', '?')}; hnswlib {info.get('hnswlib', '?')}; "
        f"usearch {info.get('usearch', '?')}; numpy {np.__version__}",
        f"- graph parameters: vecsql `hnsw({args.hnsw_params})`, hnswlib M={args.m} ef_construction="
        f"{args.ef_construction}, usearch connectivity={args.m} expansion_add={args.ef_construction}, "
        f"libSQL '{args.libsql_options}'",
        f"- date: {info['date']}",
        f"- command: `{' '.join(['bench/ann_vs_peers.py'] + sys.argv[1:])}`",
        "",
    ]
    return "\n".join(lines)


def plot(results, path, nrows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5.5))
    markers = {"sweep": "o-", "exact": "s", "single": "D"}
    for r in results:
        if r.get("skipped") or not r.get("points"):
            continue
        xs = [1000.0 / p["p50_ms"] for p in r["points"]]
        ys = [p["recall"] for p in r["points"]]
        label = r["system"] + (f" ({r['rows']:,} rows)" if r["rows"] != nrows and not r.get("subset") else "")
        ax.plot(xs, ys, "o--" if r.get("subset") else markers.get(r["kind"], "o"), label=label, markersize=6)
        if r["system"] == "vecsql hnsw":
            for p in r["points"]:
                if p.get("ef") is not None:
                    ax.annotate(str(p["ef"]), (1000.0 / p["p50_ms"], p["recall"]), fontsize=7,
                                xytext=(3, -9), textcoords="offset points")
    ax.axhline(TARGET_RECALL, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("queries per second = 1 / p50 latency (one thread, log scale)")
    ax.set_ylabel("recall@10")
    ax.set_title(f"{nrows:,} x 384 MiniLM, k=10, cosine (labels: vecsql ef_search)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- main

class Ctx:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory with minilm-pypi-dev-{base,queries}.f16.npy")
    ap.add_argument("--rows", type=int, default=None, help="base vectors to use (default: all, 100,000)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--ef", default="10,16,32,64,128,256,512", help="ef / ef_search sweep")
    ap.add_argument("--hnsw-params", default="", help="inside vecsql's hnsw(...), e.g. 'm=16, ef_construction=200'")
    ap.add_argument("--knob", default="ef_search", help="vecsql's per-query search-width constraint")
    ap.add_argument("--quantizers", default="int8", help="vecsql hnsw(quantizer=...) variants, comma-separated ('' for none)")
    ap.add_argument("--m", type=int, default=16, help="hnswlib M / usearch connectivity")
    ap.add_argument("--ef-construction", type=int, default=200, help="hnswlib ef_construction / usearch expansion_add")
    ap.add_argument("--libsql-rows", type=int, default=None, help="build libSQL's index on the first N rows only")
    ap.add_argument("--libsql-options", default="metric=cosine", help="libsql_vector_idx settings")
    ap.add_argument("--libsql-db", default=None,
                    help="keep libSQL's database here and reuse it (with its recorded build time) when it "
                         "already holds the same rows and options")
    ap.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(SYSTEMS)}")
    ap.add_argument("--skip", default="", help="comma-separated systems to leave out")
    ap.add_argument("--ext", default=os.environ.get("VECSQL_EXT", DEFAULT_EXT), help="vecsql extension (no suffix needed)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    ap.add_argument("--out", default=None, help="Markdown output (default: bench/results/ann_vs_peers.md for full-size runs)")
    ap.add_argument("--plot", default=None, help="PNG output (default: bench/results/ann_recall_vs_qps.png for full-size runs)")
    ap.add_argument("--json", default=None, help="also write every measurement here as JSON")
    ap.add_argument("--tmpdir", default=None, help="where the databases go (default: a temp dir)")
    args = ap.parse_args()

    chosen = set(args.only.split(",")) if args.only else set(SYSTEMS)
    chosen -= set(s for s in args.skip.split(",") if s)
    unknown = chosen - set(SYSTEMS)
    if unknown:
        ap.error(f"unknown systems {sorted(unknown)}; choose from {SYSTEMS}")

    pinned = None
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        pinned = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {pinned})

    base = np.load(os.path.join(args.data, "minilm-pypi-dev-base.f16.npy"))
    queries = np.load(os.path.join(args.data, "minilm-pypi-dev-queries.f16.npy"))
    if args.rows:
        base = base[: args.rows]
    ctx = Ctx()
    ctx.args = args
    ctx.k = args.k
    ctx.efs = [int(e) for e in args.ef.split(",") if e.strip()]
    ctx.base = np.ascontiguousarray(base, dtype=np.float32)
    ctx.queries = np.ascontiguousarray(queries[: args.queries], dtype=np.float32)
    ctx.qblobs = [q.tobytes() for q in ctx.queries]
    ctx.base_n = normalise(ctx.base)
    ctx.queries_n = normalise(ctx.queries)
    n = len(ctx.base)
    rng = np.random.default_rng(20251123)
    ctx.buckets_np = rng.permutation(n) % BUCKETS
    ctx.buckets = ctx.buckets_np.tolist()
    ctx.vecsql_exact_conn = ctx.vecsql_hnsw_conn = None
    ctx.vecsql_exact_size = None
    ctx.vecsql_hnsw_result = None
    ctx.libsql_truth = None
    log(f"{n:,} base vectors, {len(ctx.queries)} queries, k = {ctx.k}; pinned to CPU {pinned}; "
        "exact neighbours with numpy ...")
    ctx.truth = Truth(ctx.base_n, ctx.queries_n, ctx.k)

    versions = {}
    results, filtered = [], []
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        ctx.tmp = tmp
        # A private copy of the extension: a rebuild during the run cannot pull it away.
        src = args.ext if os.path.exists(args.ext) else args.ext + ".so"
        needs_vecsql = chosen & {"vecsql-exact", "vecsql-hnsw", "vecsql-libsql", "filtered"}
        if needs_vecsql:
            ctx.ext = os.path.join(tmp, "libvecsql.so")
            shutil.copy(src, ctx.ext)
            c = connect_sqlite(":memory:", ctx.ext)
            versions["vecsql"] = c.execute("select vec_version()").fetchone()[0]
            versions["vecsql_debug"] = " ".join(c.execute("select vec_debug()").fetchone()[0].split())
            c.close()
        try:
            import sqlite_vec
            c = connect_sqlite(":memory:", sqlite_vec=True)
            versions["sqlite-vec"] = c.execute("select vec_version()").fetchone()[0]
            c.close()
        except Exception:  # noqa: BLE001
            pass
        for mod, key in (("hnswlib", "hnswlib"), ("usearch", "usearch")):
            try:
                m = __import__(mod)
                versions[key] = getattr(m, "__version__", None) or _dist_version(mod)
            except ImportError:
                pass
        try:
            import libsql
            versions["libsql_py"] = _dist_version("libsql")
            lc = libsql.connect(":memory:")
            versions["libsql"] = lc.execute("select sqlite_version()").fetchone()[0]
            lc.close()
        except Exception:  # noqa: BLE001
            pass

        def attempt(name, fn, *a):
            with phase(name):
                try:
                    r = fn(*a)
                except Exception as e:  # noqa: BLE001
                    traceback.print_exc()
                    log(f"   skipped: {type(e).__name__}: {e}")
                    r = {"system": name, "skipped": f"{type(e).__name__}: {e}"}
            if r is not None:
                results.append(r)

        if "vecsql-exact" in chosen or "filtered" in chosen:
            attempt("vecsql exact", run_vec0_exact, "vecsql exact", ctx, False)
        if "vecsql-hnsw" in chosen:
            attempt("vecsql hnsw", run_vecsql_hnsw, ctx, None)
            for qz in [q.strip() for q in args.quantizers.split(",") if q.strip()]:
                attempt(f"vecsql hnsw {qz}", run_vecsql_hnsw, ctx, qz)
        if "vecsql-libsql" in chosen:
            attempt("vecsql libSQL API", run_vecsql_libsql_api, ctx)
        if "sqlite-vec" in chosen:
            attempt("sqlite-vec", run_vec0_exact, "sqlite-vec", ctx, True)
        if "hnswlib" in chosen:
            attempt("hnswlib", run_hnswlib, ctx)
        if "usearch" in chosen:
            attempt("usearch", run_usearch, ctx)
        if "libsql" in chosen:
            attempt("libSQL DiskANN", run_libsql, ctx)
            lib_rows = results[-1].get("rows", n)
            if lib_rows < n and "vecsql-hnsw" in chosen:
                attempt(f"vecsql hnsw on libSQL's {lib_rows:,} rows", run_vecsql_hnsw_subset, ctx, lib_rows)
        if "filtered" in chosen:
            with phase("filtered KNN"):
                filtered = run_filtered(ctx)
        for c in (ctx.vecsql_exact_conn, ctx.vecsql_hnsw_conn):
            if c is not None:
                c.close()

    if "vecsql-exact" not in chosen:
        results = [r for r in results if r["system"] != "vecsql exact"]
    info = machine_info(versions)
    md = report(results, filtered, info, args, n, len(ctx.queries), pinned)
    log()
    log(md)
    # The committed results are only rewritten by a complete run (or where --out/--plot say).
    complete = args.rows is None and args.queries == 200 and args.k == 10 and not args.only and not args.skip
    out = args.out or (DEFAULT_OUT if complete else None)
    plot_path = args.plot or (DEFAULT_PLOT if complete else None)
    if not complete and not (args.out or args.plot):
        log("(a partial run: results not written; give --out/--plot to keep them)")
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            f.write(md)
        log(f"wrote {out}")
    if plot_path:
        plot(results, plot_path, n)
        log(f"wrote {plot_path}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "filtered": filtered, "info": info}, f, indent=1, default=str)
        log(f"wrote {args.json}")


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    main()
