"""Semantic search over 5,000 PyPI package descriptions with the vecsql Python package.

Usage: python examples/semantic_search.py "web framework" [-k 10] [--db FILE]

Needs the package (`pip install ./python`) and numpy, and a Python whose sqlite3 module can
load extensions (Debian's /usr/bin/python3, or the repository's .venv made by scripts/setup.sh).
Nothing is embedded here: the shipped all-MiniLM-L6-v2 vectors of data/ go into a vec0 table
(in memory unless --db is given), the query text picks a stored description (substring,
case-insensitive), and its vector is the query of a KNN search. The README's Python section
walks through the same steps.
"""
import argparse
import pathlib
import sqlite3
import sys
import time

import numpy as np

import vecsql

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query", help="text of a package description to match (substring)")
    parser.add_argument("-k", type=int, default=10, help="number of neighbours")
    parser.add_argument("--db", default=":memory:", help="database file (default: in memory)")
    args = parser.parse_args()

    conn = sqlite3.connect(args.db)
    vecsql.load(conn)  # also lets numpy arrays be bound as vectors

    vectors = np.load(DATA / "pypi-5k.f16.npy")  # (5000, 384) float16, unit length
    texts = (DATA / "pypi-5k.txt").read_text(encoding="utf-8").splitlines()
    if conn.execute("select count(*) from sqlite_master where name = 'packages'").fetchone()[0] == 0:
        started = time.perf_counter()
        conn.execute(
            "create virtual table packages using vec0("
            "id integer primary key, embedding float[384] distance_metric=cosine, +text text)"
        )
        conn.executemany(
            "insert into packages(id, embedding, text) values (?, ?, ?)",
            zip(range(len(texts)), vectors, texts),  # float16 rows are widened to float32
        )
        conn.commit()
        print(f"loaded {len(texts)} vectors in {time.perf_counter() - started:.2f} s")

    needle = args.query.lower()
    matches = [i for i, t in enumerate(texts) if needle in t.lower()]
    if not matches:
        print(f"no stored description contains {args.query!r}", file=sys.stderr)
        return 1
    query_id = min(matches, key=lambda i: (len(texts[i]), i))
    print(f"query: #{query_id} {texts[query_id]}\n")

    started = time.perf_counter()
    hits = conn.execute(
        "select id, distance, text from packages "
        "where embedding match ? and k = ? and id != ? order by distance",
        (vectors[query_id], args.k, query_id),
    ).fetchall()
    elapsed_ms = (time.perf_counter() - started) * 1000
    for rank, (pid, dist, text) in enumerate(hits, 1):
        print(f"{rank:>3}. {dist:.4f}  #{pid:<5} {text[:100]}")
    print(f"\n{len(hits)} neighbours of {len(texts)} packages in {elapsed_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
