#!/usr/bin/env python3
"""vec0's HNSW walk against hnswlib with their queries interleaved, for ratios near 1.

`scale.py` times each system in its own process, one after the other: on a shared 2-core VM
the machine's speed drifts by a few percent between the two, as much as the difference being
measured. Here one process holds both indexes and alternates them query by query, so drift
falls on both alike. Both answer the same queries at each `ef`; recall@10 is against numpy's
exact cosine search; the ratio at equal recall interpolates hnswlib's p50 linearly in recall.

The vec0 table comes from `scale.py --keep-db` (table `t`, column `emb`, rowid = row + 1).
hnswlib's index (M=16, ef_construction=200, as in scale.py) is built on --threads threads and
saved beside it the first time, then loaded. Run with a Python that has hnswlib and can load
extensions (Debian's python3 venv with `pip install hnswlib numpy`).
"""

import argparse
import os
import sqlite3
import statistics
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K = 10


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a database from scale.py --keep-db")
    p.add_argument("--data", default="/tmp/pkgs-900k",
                   help="where make_vectors.py wrote (as for scale.py)")
    p.add_argument("--ext", default=os.path.join(REPO, "target", "release", "libvecsql"))
    p.add_argument("--hnswlib-index", help="default: <db>.hnswlib")
    p.add_argument("--threads", type=int, default=2, help="hnswlib build threads")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--passes", type=int, default=2, help="timed passes over the queries")
    p.add_argument("--efs", default="96,128,192,256")
    return p.parse_args()


def main():
    import hnswlib

    args = parse_args()
    base_path = os.path.join(args.data, "pkgs-base.f16.npy")
    queries = np.load(os.path.join(args.data, "pkgs-dev-queries.f16.npy"))[:args.queries]
    queries = queries.astype(np.float32)
    index_path = args.hnswlib_index or args.db + ".hnswlib"

    base = np.load(base_path, mmap_mode="r")
    idx = hnswlib.Index(space="cosine", dim=base.shape[1])
    if os.path.exists(index_path):
        idx.load_index(index_path, max_elements=len(base))
    else:
        vectors = np.asarray(base, dtype=np.float32)
        idx.init_index(max_elements=len(vectors), M=16, ef_construction=200, random_seed=100)
        t = time.perf_counter()
        idx.add_items(vectors, np.arange(1, len(vectors) + 1), num_threads=args.threads)
        print(f"hnswlib built in {time.perf_counter() - t:.0f} s on {args.threads} threads")
        idx.save_index(index_path)
        del vectors
    idx.set_num_threads(1)

    # Ground truth: exact cosine over the normalised base, in blocks (1.4 GB at 913k).
    qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    best = np.full((len(qn), K), -np.inf, dtype=np.float32)
    ids = np.zeros((len(qn), K), dtype=np.int64)
    for start in range(0, len(base), 100_000):
        block = np.asarray(base[start:start + 100_000], dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        sims = qn @ block.T
        top = np.argpartition(-sims, K - 1, axis=1)[:, :K]
        both = np.concatenate([best, np.take_along_axis(sims, top, axis=1)], axis=1)
        both_ids = np.concatenate([ids, top + start + 1], axis=1)
        keep = np.argpartition(-both, K - 1, axis=1)[:, :K]
        best = np.take_along_axis(both, keep, axis=1)
        ids = np.take_along_axis(both_ids, keep, axis=1)
    truth = [set(row) for row in ids.tolist()]

    conn = sqlite3.connect(args.db)
    conn.enable_load_extension(True)
    conn.load_extension(args.ext)
    blobs = [q.tobytes() for q in queries]
    # Past the process's walks in the file: the copy is loaded and warm.
    for b in blobs[:30]:
        conn.execute("select rowid from t where emb match ? and k = 10", (b,)).fetchall()

    def recall(answers):
        return statistics.mean(len(set(a) & t) / K for a, t in zip(answers, truth))

    rows = []
    for ef in (int(x) for x in args.efs.split(",")):
        sql = f"select rowid from t where emb match ? and k = {K} and ef_search = {ef}"
        idx.set_ef(ef)
        for q, b in zip(queries[:50], blobs[:50]):
            idx.knn_query(q, k=K, num_threads=1)
            conn.execute(sql, (b,)).fetchall()
        times = {"vecsql": [], "hnswlib": []}
        answers = {"vecsql": [], "hnswlib": []}
        for p in range(args.passes):
            for q, b in zip(queries, blobs):
                t = time.perf_counter()
                labels, _ = idx.knn_query(q, k=K, num_threads=1)
                times["hnswlib"].append(time.perf_counter() - t)
                t = time.perf_counter()
                got = conn.execute(sql, (b,)).fetchall()
                times["vecsql"].append(time.perf_counter() - t)
                if p == 0:
                    answers["hnswlib"].append(labels[0].tolist())
                    answers["vecsql"].append([r[0] for r in got])
        rows.append({s: (statistics.median(times[s]) * 1e3, recall(answers[s])) for s in times} | {"ef": ef})

    print(f"{len(base):,} rows, {len(queries)} queries x {args.passes} passes, k = {K}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| ef | vecsql p50 ms | recall | hnswlib p50 ms | recall | ratio at equal ef | ratio at vecsql's recall |")
    print("|---|---|---|---|---|---|---|")
    hn = sorted((r["hnswlib"][1], r["hnswlib"][0]) for r in rows)
    for r in rows:
        (v_ms, v_rec), (h_ms, h_rec) = r["vecsql"], r["hnswlib"]
        at = float(np.interp(v_rec, [x for x, _ in hn], [y for _, y in hn]))
        inside = hn[0][0] <= v_rec <= hn[-1][0]
        print(f"| {r['ef']} | {v_ms:.3f} | {v_rec:.4f} | {h_ms:.3f} | {h_rec:.4f} | {v_ms / h_ms:.2f} | "
              + (f"{v_ms / at:.2f} |" if inside else "- |"))


if __name__ == "__main__":
    main()
