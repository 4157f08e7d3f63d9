"""Semantic search over 5,000 PyPI package descriptions with vecsql loaded into SQLite.

Usage: python examples/semantic_search.py "web framework" [-k 10]

The first run builds target/demo.db from data/ (texts + all-MiniLM-L6-v2 embeddings) as a vec0
table. The query text is matched to a stored description (substring, case-insensitive); its
embedding is the query vector of a KNN query on the vec0 table.
"""
import argparse
import os
import pathlib
import sqlite3
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
EXT = os.environ.get("VECSQL_EXT", str(REPO / "target" / "release" / "libvecsql"))
DB = REPO / "target" / "demo.db"


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(DB)
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    conn.enable_load_extension(False)
    return conn


def build(conn: sqlite3.Connection) -> None:
    vectors = np.load(REPO / "data" / "pypi-5k.f16.npy").astype("<f4")
    texts = (REPO / "data" / "pypi-5k.txt").read_text(encoding="utf-8").splitlines()
    conn.execute(
        "create virtual table packages using vec0("
        "id integer primary key, embedding float[384] distance_metric=cosine, +description text)"
    )
    conn.executemany(
        "insert into packages(id, embedding, description) values (?, ?, ?)",
        ((i, v.tobytes(), t) for i, (t, v) in enumerate(zip(texts, vectors))),
    )
    conn.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query", help="text of a package description to match (substring)")
    parser.add_argument("-k", type=int, default=10, help="number of neighbours")
    args = parser.parse_args()

    fresh = not DB.exists()
    conn = connect()
    if fresh:
        started = time.perf_counter()
        build(conn)
        print(f"built {DB.relative_to(REPO)} in {time.perf_counter() - started:.2f}s")

    row = conn.execute(
        "select id, description, embedding from packages where description like '%' || ? || '%' "
        "order by length(description) limit 1",
        (args.query,),
    ).fetchone()
    if row is None:
        print(f"no stored description contains {args.query!r}", file=sys.stderr)
        return 1
    query_id, description, embedding = row
    print(f"query: #{query_id} {description}\n")

    started = time.perf_counter()
    hits = conn.execute(
        "select id, distance, description from packages "
        "where embedding match ? and k = ? and id != ? order by distance",
        (embedding, args.k, query_id),
    ).fetchall()
    elapsed_ms = (time.perf_counter() - started) * 1000
    for rank, (pid, dist, text) in enumerate(hits, 1):
        print(f"{rank:>3}. {dist:.4f}  #{pid:<5} {text[:100]}")
    print(f"\n{len(hits)} neighbours of {conn.execute('select count(*) from packages').fetchone()[0]} "
          f"packages in {elapsed_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
