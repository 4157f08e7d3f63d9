"""Two processes share a vec0 table in WAL mode: a writer subprocess and this process reading.

The writer inserts, updates and deletes inside a transaction and reports each step on stdout;
it commits only when told to on stdin. While the transaction is open, the reader (full scans,
point lookups, KNN queries, the shadow tables) must see none of it; after the commit it must see
all of it. A read transaction keeps its snapshot across the writer's commit, and a writer killed
before committing leaves nothing behind.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

WRITER = textwrap.dedent(
    """
    import json, sqlite3, sys
    path, ext = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(path, isolation_level=None, timeout=10)
    db.enable_load_extension(True)
    db.load_extension(ext)
    def say(*words):
        print(*words, flush=True)
    say("ready")
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "begin":
            db.execute("begin immediate")
        elif op == "insert":
            for i in cmd["ids"]:
                db.execute(
                    "insert into t(rowid, e, tag, part) values (?, ?, ?, ?)",
                    (i, json.dumps([float(i), 1.0, -float(i) / 10]), "writer row %d" % i, i % 2),
                )
        elif op == "update":
            db.execute("update t set tag = ?, e = ? where rowid = ?",
                       (cmd["tag"], json.dumps([0.0, 0.0, 0.0]), cmd["id"]))
        elif op == "delete":
            db.execute("delete from t where rowid = ?", (cmd["id"],))
        elif op == "commit":
            db.execute("commit")
        elif op == "exit":
            break
        say("done", op)
    """
)

ROWS = 20  # rows the table starts with


class Writer:
    def __init__(self, path, ext_path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, path, ext_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.expect("ready")

    def expect(self, want):
        line = self.proc.stdout.readline().strip()
        if line != want:
            self.proc.kill()
            raise AssertionError(f"writer said {line!r}, expected {want!r}; stderr: {self.proc.stderr.read()}")

    def do(self, op, **kw):
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        self.expect(f"done {op}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"op": "exit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


@pytest.fixture
def shared_db(tmp_path, ext_path):
    path = str(tmp_path / "wal.db")
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    assert c.execute("pragma journal_mode = wal").fetchone() == ("wal",)
    c.execute("create virtual table t using vec0(e float[3], tag text, part integer partition key, chunk_size=8)")
    c.execute("begin")
    for i in range(1, ROWS + 1):
        c.execute("insert into t(rowid, e, tag, part) values (?, ?, ?, ?)",
                  (i, json.dumps([float(i), 1.0, -float(i) / 10]), f"row {i}", i % 2))
    c.execute("commit")
    c.close()
    return path


def reader(path, ext_path):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    return c


def snapshot(c):
    """Everything a reader can ask, as one comparable value."""
    return {
        "rows": c.execute("select rowid, vec_to_json(e), tag, part from t order by rowid").fetchall(),
        "count": c.execute("select count(*) from t").fetchone()[0],
        "knn": c.execute(
            "select rowid, distance from t where e match '[100, 1, -10]' and k = 5").fetchall(),
        "knn_part": c.execute(
            "select rowid, distance from t where e match '[0, 0, 0]' and k = 3 and part = 1").fetchall(),
        "point": c.execute("select rowid, tag from t where rowid in (5, 101, 150)").fetchall(),
        "chunks": c.execute("select count(*) from t_chunks").fetchone()[0],
    }


def test_reader_sees_rows_only_after_commit(shared_db, ext_path):
    r = reader(shared_db, ext_path)
    w = Writer(shared_db, ext_path)
    try:
        before = snapshot(r)
        assert before["count"] == ROWS
        w.do("begin")
        w.do("insert", ids=list(range(101, 151)))  # 50 rows: several new chunks
        w.do("update", id=5, tag="changed by the writer")
        w.do("delete", id=6)
        # The writer's transaction is open: nothing of it is visible.
        assert snapshot(r) == before
        w.do("commit")
        after = snapshot(r)
        assert after["count"] == ROWS + 50 - 1
        assert after["point"] == [(5, "changed by the writer"), (101, "writer row 101"), (150, "writer row 150")]
        assert 6 not in [row[0] for row in after["rows"]]
        # Nearest to [100, 1, -10]: the writer's [101, 1, -10.1].
        assert after["knn"][0] == (101, pytest.approx((1 + 0.01) ** 0.5, abs=1e-5))
        assert after["knn_part"][0][0] == 5  # now at the origin
        assert after["chunks"] > before["chunks"]
    finally:
        w.close()
        r.close()


def test_open_read_transaction_keeps_its_snapshot(shared_db, ext_path):
    r = reader(shared_db, ext_path)
    w = Writer(shared_db, ext_path)
    try:
        r.execute("begin")
        before = snapshot(r)
        w.do("begin")
        w.do("insert", ids=[201, 202, 203])
        w.do("delete", id=1)
        w.do("commit")
        assert snapshot(r) == before  # same read transaction: same snapshot
        r.execute("commit")
        after = snapshot(r)
        assert after["count"] == ROWS + 2
        assert [x[0] for x in after["rows"]][-3:] == [201, 202, 203]
    finally:
        w.close()
        r.close()


def test_writer_killed_before_commit_leaves_nothing(shared_db, ext_path):
    r = reader(shared_db, ext_path)
    w = Writer(shared_db, ext_path)
    try:
        before = snapshot(r)
        w.do("begin")
        w.do("insert", ids=list(range(301, 331)))
        w.do("delete", id=2)
        w.proc.kill()
        w.proc.wait(timeout=30)
        assert snapshot(r) == before
        # The reader can write now: the dead writer's lock and WAL frames are gone.
        r.execute("insert into t(rowid, e, tag, part) values (301, '[1, 1, 1]', 'reader row', 0)")
        assert r.execute("select count(*) from t").fetchone() == (ROWS + 1,)
        assert r.execute("pragma integrity_check").fetchone() == ("ok",)
    finally:
        w.close()
        r.close()


def test_many_small_commits_are_each_seen(shared_db, ext_path):
    r = reader(shared_db, ext_path)
    w = Writer(shared_db, ext_path)
    try:
        for n in range(12):
            rowid = 400 + n
            w.do("begin")
            w.do("insert", ids=[rowid])
            assert r.execute("select count(*) from t where rowid = ?", (rowid,)).fetchone() == (0,)
            assert rowid not in [x[0] for x in r.execute(
                "select rowid from t where e match ? and k = 1", (json.dumps([float(rowid), 1, -rowid / 10]),))]
            w.do("commit")
            assert r.execute("select rowid from t where e match ? and k = 1",
                             (json.dumps([float(rowid), 1, -rowid / 10]),)).fetchall() == [(rowid,)]
        assert r.execute("select count(*) from t").fetchone() == (ROWS + 12,)
    finally:
        w.close()
        r.close()

