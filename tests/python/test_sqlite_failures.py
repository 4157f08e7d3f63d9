"""SQLite failures pass through vec0 as clear errors and leave the table usable.

- A full database (`PRAGMA max_page_count` just above the current size): SQLITE_FULL reaches
  the caller as "database or disk is full" at whatever point inside vec0's write it happens
  (row index, new chunk, vector blob, metadata text, auxiliary row), the failed statement
  leaves no trace, and after more room is given the table takes writes again.
- A read-only database (`mode=ro`, and `PRAGMA query_only`): reads and KNN work, every write
  is refused with "attempt to write a readonly database", and nothing changes.
- An interrupted statement (`sqlite3_interrupt`, via `Connection.interrupt()` from another
  thread): a long run of KNN queries and a long INSERT ... SELECT both stop with
  "interrupted"; the insert is rolled back (with its enclosing transaction, as SQLite
  documents) and the same connection then answers correctly.

After every failure the table is compared row by row with what it must hold, `PRAGMA
integrity_check` must say `ok`, and KNN must match brute force.
"""
from __future__ import annotations

import random
import sqlite3
import struct
import threading

import pytest

DIMS = 16


def vec(seed: int):
    rng = random.Random(seed)
    return tuple(float(rng.randint(-4, 4)) for _ in range(DIMS))


def blob(v) -> bytes:
    return struct.pack(f"<{len(v)}f", *v)


def l2(a, b) -> float:
    d2 = sum((x - y) * (x - y) for x, y in zip(a, b))
    return struct.unpack("<f", struct.pack("<f", d2 ** 0.5))[0]


def open_db(path, ext_path, **kw):
    conn = sqlite3.connect(path, isolation_level=None, **kw)
    conn.enable_load_extension(True)
    conn.load_extension(ext_path)
    conn.enable_load_extension(False)
    # Durability is not under test here; skipping fsync keeps the tests fast.
    conn.execute("pragma synchronous = off")
    return conn


TABLE = (
    f"create virtual table v using vec0(id integer primary key, emb float[{DIMS}], "
    "part integer partition key, tag text, +note text, chunk_size=8)"
)


def contents(conn) -> dict:
    return {
        i: (struct.unpack(f"<{DIMS}f", e), part, tag, note)
        for i, e, part, tag, note in conn.execute("select id, emb, part, tag, note from v")
    }


def check(conn, model: dict, what: str):
    """The table holds exactly `model`, passes integrity_check, and KNN is exact."""
    assert conn.execute("pragma integrity_check").fetchall() == [("ok",)], what
    got = contents(conn)
    assert sorted(got) == sorted(model), f"{what}: ids differ"
    for i in model:
        assert got[i] == model[i], f"{what}: row {i}"
    q = vec(-1)
    for k in (1, 7, len(model) + 1):
        rows = conn.execute(
            "select id, distance from v where emb match ? and k = ? order by distance", (blob(q), k)
        ).fetchall()
        want = sorted(l2(q, r[0]) for r in model.values())[:k]
        assert [d for _, d in rows] == want, f"{what}: KNN k={k}"
        assert all(l2(q, model[i][0]) == d for i, d in rows), f"{what}: KNN rows"


def row(i: int, rng: random.Random):
    # Long text metadata (stored apart past 12 bytes) and long auxiliary notes use pages fast.
    tag = rng.choice(["a", "b", "a tag much longer than twelve bytes " * rng.randint(1, 20)])
    note = rng.choice([None, "note " * rng.randint(1, 400)])
    return vec(i), rng.randint(0, 3), tag, note


# ---------------------------------------------------------------------------------------------
# Full database.
# ---------------------------------------------------------------------------------------------


def test_full_database_fails_each_write_cleanly_and_the_table_recovers(tmp_path, ext_path):
    conn = open_db(str(tmp_path / "full.db"), ext_path)
    conn.execute(TABLE)
    rng = random.Random(5)
    model: dict = {}
    fulls = 0
    next_id = 1
    for step in range(300):
        # Just enough room for some writes and not others, at changing points inside vec0.
        (pages,) = conn.execute("pragma page_count").fetchone()
        conn.execute(f"pragma max_page_count = {pages + rng.randint(0, 1)}")
        op = rng.random()
        if op < 0.55 or not model:
            i, next_id = next_id, next_id + 1
            r = row(i, rng)
            sql, params, after = (
                "insert into v(id, emb, part, tag, note) values (?, ?, ?, ?, ?)",
                (i, blob(r[0]), r[1], r[2], r[3]),
                {**model, i: r},
            )
        elif op < 0.85:
            i = rng.choice(sorted(model))
            r = row(rng.randint(1, 10**6), rng)
            sql, params = "update v set emb = ?, part = ?, tag = ?, note = ? where id = ?", (
                blob(r[0]), r[1], r[2], r[3], i)
            after = {**model, i: r}
        else:
            i = rng.choice(sorted(model))
            sql, params = "delete from v where id = ?", (i,)
            after = {k: v for k, v in model.items() if k != i}
        failed = False
        try:
            conn.execute(sql, params)
            model = after
        except sqlite3.OperationalError as e:
            assert str(e) == "database or disk is full", f"step {step}: {sql}: {e}"
            assert e.sqlite_errorname == "SQLITE_FULL"
            fulls += 1
            failed = True
        if failed or step % 10 == 0:
            conn.execute("pragma max_page_count = 1000000")
            check(conn, model, f"step {step} after {sql}")
    assert fulls >= 30, f"only {fulls} writes hit the limit"
    # With room again, everything works, including the writes that failed.
    conn.execute("pragma max_page_count = 1000000")
    check(conn, model, "end")
    conn.execute("insert into v(id, emb, part, tag, note) values (?, ?, 0, 'x', 'y')",
                 (next_id, blob(vec(next_id))))
    model[next_id] = (vec(next_id), 0, "x", "y")
    conn.execute("insert into v(v) values ('optimize')")
    check(conn, model, "after optimize")
    print(f"\nfull disk: {fulls} writes refused in 300, {len(model)} rows checked at the end")


def test_full_database_inside_a_transaction(tmp_path, ext_path):
    conn = open_db(str(tmp_path / "full_txn.db"), ext_path)
    conn.execute(TABLE)
    rng = random.Random(9)
    model = {}
    for i in range(1, 21):
        r = row(i, rng)
        conn.execute("insert into v(id, emb, part, tag, note) values (?, ?, ?, ?, ?)",
                     (i, blob(r[0]), r[1], r[2], r[3]))
        model[i] = r
    (pages,) = conn.execute("pragma page_count").fetchone()
    conn.execute(f"pragma max_page_count = {pages + 8}")
    conn.execute("begin")
    pending = dict(model)
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        for i in range(21, 10_000):
            r = row(i, rng)
            conn.execute("insert into v(id, emb, part, tag, note) values (?, ?, ?, ?, ?)",
                         (i, blob(r[0]), r[1], r[2], r[3]))
            pending[i] = r
    # SQLite may have rolled the whole transaction back; if not, the failed statement alone
    # is undone and the rest can still be committed.
    if conn.in_transaction:
        conn.execute("commit")
        model = pending
    conn.execute("pragma max_page_count = 1000000")
    check(conn, model, "after the failed transaction")


# ---------------------------------------------------------------------------------------------
# Read-only database.
# ---------------------------------------------------------------------------------------------

WRITES = [
    "insert into v(id, emb, part, tag, note) values (100, vec_f32(?1), 0, 'x', 'y')",
    "update v set tag = 'changed' where id = 1",
    "update v set emb = vec_f32(?1) where id = 2",
    "delete from v where id = 3",
    "insert into v(v) values ('optimize')",
    "drop table v",
]


def make_table(path, ext_path) -> dict:
    conn = open_db(path, ext_path)
    conn.execute(TABLE)
    rng = random.Random(3)
    model = {}
    for i in range(1, 41):
        r = row(i, rng)
        conn.execute("insert into v(id, emb, part, tag, note) values (?, ?, ?, ?, ?)",
                     (i, blob(r[0]), r[1], r[2], r[3]))
        model[i] = r
    conn.close()
    return model


@pytest.mark.parametrize("how", ["mode=ro", "query_only"])
def test_read_only_database_reads_and_refuses_writes(tmp_path, ext_path, how):
    path = str(tmp_path / "ro.db")
    model = make_table(path, ext_path)
    if how == "mode=ro":
        conn = open_db(f"file:{path}?mode=ro", ext_path, uri=True)
    else:
        conn = open_db(path, ext_path)
        conn.execute("pragma query_only = 1")
    check(conn, model, "read-only, before writes")
    for sql in WRITES:
        params = (str(list(vec(7))),) if "?1" in sql else ()
        with pytest.raises(sqlite3.OperationalError) as info:
            conn.execute(sql, params)
        assert "attempt to write a readonly database" in str(info.value), (sql, info.value)
        check(conn, model, f"read-only, after {sql}")
    if how == "query_only":
        conn.execute("pragma query_only = 0")
        conn.execute(WRITES[0], (str(list(vec(7))),))
        model[100] = (vec(7), 0, "x", "y")
        check(conn, model, "writable again")


# ---------------------------------------------------------------------------------------------
# Interrupted statements.
# ---------------------------------------------------------------------------------------------


def interrupt_after(conn, seconds):
    timer = threading.Timer(seconds, conn.interrupt)
    timer.start()
    return timer


def big_table(tmp_path, ext_path):
    conn = open_db(str(tmp_path / "interrupt.db"), ext_path, check_same_thread=False)
    conn.execute(TABLE)
    model = {}
    conn.execute("begin")
    for i in range(1, 1001):
        model[i] = (vec(i), i % 4, "t", None)
        conn.execute("insert into v(id, emb, part, tag) values (?, ?, ?, 't')",
                     (i, blob(vec(i)), i % 4))
    conn.execute("commit")
    return conn, model


# Runs one KNN query per row of a counter that would take minutes to finish; `k` depends on
# the counter, so SQLite cannot evaluate the subquery once and reuse it.
ENDLESS_KNN = """
with recursive c(i) as (select 1 union all select i + 1 from c where i < 100000000)
select sum((select count(*) from v where emb match ?1 and k = 1 + c.i % 5)) from c
"""

ENDLESS_INSERT = """
with recursive c(i) as (select 1 union all select i + 1 from c where i < 100000000)
insert into v(id, emb, part, tag) select 5000 + i, ?1, i % 4, 'new' from c
"""


def test_interrupted_knn_queries_stop_cleanly(tmp_path, ext_path):
    conn, model = big_table(tmp_path, ext_path)
    for delay in (0.05, 0.2):
        timer = interrupt_after(conn, delay)
        with pytest.raises(sqlite3.OperationalError, match="^interrupted$"):
            conn.execute(ENDLESS_KNN, (blob(vec(0)),)).fetchall()
        timer.join()
        check(conn, model, f"after interrupting KNN at {delay} s")


@pytest.mark.parametrize("in_transaction", [False, True], ids=["autocommit", "explicit"])
def test_interrupted_insert_is_rolled_back(tmp_path, ext_path, in_transaction):
    conn, model = big_table(tmp_path, ext_path)
    if in_transaction:
        conn.execute("begin")
        conn.execute("delete from v where id <= 10")
    timer = interrupt_after(conn, 0.2)
    with pytest.raises(sqlite3.OperationalError, match="^interrupted$"):
        conn.execute(ENDLESS_INSERT, (blob(vec(0)),))
    timer.join()
    # An interrupted write inside an explicit transaction rolls the whole transaction back.
    assert not conn.in_transaction
    check(conn, model, "after the interrupted insert")
    conn.execute("insert into v(id, emb, part, tag) values (5001, ?, 1, 'after')", (blob(vec(1)),))
    model[5001] = (vec(1), 1, "after", None)
    check(conn, model, "a write after the interrupt")
