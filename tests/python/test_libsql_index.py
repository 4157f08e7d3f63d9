"""libSQL's vector index on stock SQLite with vecsql loaded, against the real libSQL.

`CREATE INDEX ... (libsql_vector_idx(col, ...))` and `vector_top_k(index, query, k)` run in
Python's stdlib sqlite3 with vecsql loaded; where libSQL's answer is well defined (exact
results on small tables, error cases), the `libsql` package (libSQL's own engine) gives the
expected answer. Also: a database file written by libSQL opens and searches with vecsql, and
two processes (one writes, one searches) see each other's commits.

Run: /work/main/.venv/bin/python -m pytest tests/python/test_libsql_index.py -q
"""
from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import textwrap

import pytest

MOVIES = """
CREATE TABLE movies (title TEXT, year INT, embedding F32_BLOB(4));
INSERT INTO movies VALUES
  ('Napoleon', 2023, vector32('[0.800, 0.579, 0.481, 0.229]')),
  ('Black Hawk Down', 2001, vector32('[0.406, 0.027, 0.378, 0.056]')),
  ('Gladiator', 2000, vector32('[0.698, 0.140, 0.073, 0.125]')),
  ('Blade Runner', 1982, vector32('[0.379, 0.637, 0.011, 0.647]'));
CREATE INDEX movies_idx ON movies (libsql_vector_idx(embedding));
CREATE INDEX movies_idx2 ON movies (libsql_vector_idx(embedding, 'metric=l2', 'compress_neighbors=float8'));
CREATE INDEX recent_idx ON movies (libsql_vector_idx(embedding)) WHERE year >= 2000;
"""

QUERIES = [
    "SELECT title, year FROM vector_top_k('movies_idx', vector32('[0.064, 0.777, 0.661, 0.687]'), 3) "
    "JOIN movies ON movies.rowid = id WHERE year >= 2020",
    "SELECT title FROM vector_top_k('movies_idx', vector32('[0.064, 0.777, 0.661, 0.687]'), 4) "
    "JOIN movies ON movies.rowid = id",
    "SELECT title FROM vector_top_k('movies_idx2', vector32('[0.064, 0.777, 0.661, 0.687]'), 4) "
    "JOIN movies ON movies.rowid = id",
    "SELECT id FROM vector_top_k('movies_idx', '[0.8, 0.5, 0.4, 0.2]', 2)",
]


def libsql_conn(path=":memory:"):
    libsql = pytest.importorskip("libsql")
    return libsql.connect(path)


def vecsql_conn(ext_path, path=":memory:"):
    c = sqlite3.connect(path)
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    return c


def test_movies_walkthrough_matches_libsql(ext_path):
    ours, theirs = vecsql_conn(ext_path), libsql_conn()
    ours.executescript(MOVIES)
    theirs.executescript(MOVIES)
    for q in QUERIES:
        assert ours.execute(q).fetchall() == theirs.execute(q).fetchall(), q
    # Partial index: libSQL's own answer here is what the partial index must give.
    q = ("SELECT title FROM vector_top_k('recent_idx', vector32('[0.064, 0.777, 0.661, 0.687]'), 4) "
         "JOIN movies ON movies.rowid = id")
    assert [r[0] for r in ours.execute(q)] == ["Napoleon", "Black Hawk Down", "Gladiator"]
    ours.execute("REINDEX movies_idx")
    ours.execute("DROP INDEX movies_idx")
    with pytest.raises(sqlite3.OperationalError, match="no such index"):
        ours.execute(QUERIES[0]).fetchall()


@pytest.mark.parametrize(
    "definition",
    [
        "libsql_vector_idx(embedding, 'metric=foo')",
        "libsql_vector_idx(embedding, 'foo=1')",
        "libsql_vector_idx(embedding, 'metric')",
        "libsql_vector_idx(embedding, 'max_neighbors=0')",
        "libsql_vector_idx(embedding, 'compress_neighbors=int8')",
        "libsql_vector_idx(embedding, 1)",
    ],
)
def test_bad_settings_fail_like_libsql(ext_path, definition):
    ours, theirs = vecsql_conn(ext_path), libsql_conn()
    for c in (ours, theirs):
        c.executescript(MOVIES.split("CREATE INDEX")[0])
    sql = f"CREATE INDEX bad ON movies ({definition})"
    with pytest.raises(Exception) as theirs_err:
        theirs.execute(sql)
    with pytest.raises(sqlite3.OperationalError) as ours_err:
        ours.execute(sql)
    # Same opening words as libSQL's message ("vector index: ...").
    assert str(ours_err.value).split(":")[0] == str(theirs_err.value).split(":")[0]


def test_no_argument_and_k_zero_are_errors_not_crashes(ext_path):
    # libSQL crashes on both; vecsql reports errors.
    c = vecsql_conn(ext_path)
    c.executescript(MOVIES)
    with pytest.raises(sqlite3.OperationalError, match="wrong number of arguments"):
        c.execute("CREATE INDEX e ON movies (libsql_vector_idx())")
    with pytest.raises(sqlite3.OperationalError, match="positive integer"):
        c.execute("SELECT * FROM vector_top_k('movies_idx', vector32('[1,2,3,4]'), 0)").fetchall()


def test_random_writes_match_libsql_exact_search(ext_path):
    """After inserts, updates and deletes (including duplicates), vector_top_k gives the
    exact nearest rows on a small table, as libSQL's exact ORDER BY does."""
    rng = random.Random(7)
    ours, theirs = vecsql_conn(ext_path), libsql_conn()
    ddl = ("CREATE TABLE t (v F32_BLOB(3)); "
           "CREATE INDEX t_idx ON t (libsql_vector_idx(v, 'metric=l2'));")
    ours.executescript(ddl)
    theirs.executescript(ddl)
    vec = lambda: "[" + ",".join(str(rng.randint(-4, 4)) for _ in range(3)) + "]"
    for step in range(300):
        r = rng.randint(1, 40)
        op = rng.random()
        if op < 0.5:
            sql, args = "INSERT OR IGNORE INTO t(rowid, v) VALUES (?, vector32(?))", (r, vec())
        elif op < 0.75:
            sql, args = "UPDATE t SET v = vector32(?) WHERE rowid = ?", (vec(), r)
        else:
            sql, args = "DELETE FROM t WHERE rowid = ?", (r,)
        for c in (ours, theirs):
            c.execute(sql, args)
        if step % 25 == 24:
            q = vec()
            exact = "SELECT rowid, vector_distance_l2(v, vector32(?)) FROM t ORDER BY 2, 1 LIMIT 5"
            want = [round(d, 4) for _, d in theirs.execute(exact, (q,)).fetchall()]
            got = ours.execute(
                "SELECT vector_distance_l2(v, vector32(?)) FROM vector_top_k('t_idx', vector32(?), 5) "
                "JOIN t ON t.rowid = id", (q, q)).fetchall()
            assert [round(d, 4) for (d,) in got] == want


def test_database_file_written_by_libsql(ext_path, tmp_path):
    path = str(tmp_path / "libsql.db")
    theirs = libsql_conn(path)
    theirs.executescript(MOVIES)
    theirs.commit()
    want = theirs.execute(QUERIES[1]).fetchall()
    theirs.close()
    ours = vecsql_conn(ext_path, path)
    assert ours.execute(QUERIES[1]).fetchall() == want
    ours.execute("INSERT INTO movies VALUES ('New', 2024, vector32('[0.064, 0.777, 0.661, 0.687]'))")
    assert ours.execute(QUERIES[1]).fetchall()[0] == ("New",)
    ours.commit()


WRITER = textwrap.dedent(
    """
    import sqlite3, sys
    c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    c.enable_load_extension(True); c.load_extension(sys.argv[2])
    for i in range(200):
        c.execute("INSERT INTO t(rowid, v) VALUES (?, vector32(?))", (1000 + i, f"[{i}, 0]"))
        if i % 2:
            c.execute("DELETE FROM t WHERE rowid = ?", (1000 + i - 1,))
    print("done")
    """
)


def test_two_processes_one_writes_one_searches(ext_path, tmp_path):
    path = str(tmp_path / "two.db")
    c = vecsql_conn(ext_path, path)
    c.isolation_level = None
    c.execute("PRAGMA journal_mode=WAL")
    c.executescript("CREATE TABLE t (v F32_BLOB(2)); CREATE INDEX t_idx ON t (libsql_vector_idx(v, 'metric=l2'));")
    c.execute("INSERT INTO t(rowid, v) VALUES (1, vector32('[0, 0]'))")
    assert c.execute("SELECT id FROM vector_top_k('t_idx', vector32('[0,0]'), 1)").fetchall() == [(1,)]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, path, ext_path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while writer.poll() is None:
        # Every search is a consistent snapshot: exactly the rows of the table.
        c.execute("BEGIN")
        got = sorted(r[0] for r in c.execute("SELECT id FROM vector_top_k('t_idx', vector32('[0,0]'), 4096)"))
        want = sorted(r[0] for r in c.execute("SELECT rowid FROM t"))
        c.execute("COMMIT")
        assert got == want
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    got = sorted(r[0] for r in c.execute("SELECT id FROM vector_top_k('t_idx', vector32('[0,0]'), 4096)"))
    assert got == sorted(r[0] for r in c.execute("SELECT rowid FROM t"))
    assert len(got) == 101
