"""Two SQLite libraries in one process, both loading the same vecsql `.so`: Python's `sqlite3`
module (the system SQLite) and apsw (which bundles its own). Each connection must call back
into the SQLite that owns it; with one process-wide API table the second load broke the first
(`no such table: pragma_table_info` on `create virtual table ... using vec0`).

Runs in a subprocess so the order of loads is fixed (sqlite3 first, then apsw, then sqlite3
again) whatever other tests in this process loaded before.
"""
import subprocess
import sys
import textwrap

import pytest

apsw = pytest.importorskip("apsw")

SCRIPT = textwrap.dedent(
    """
    import sqlite3, struct, sys
    import apsw

    ext = sys.argv[1]
    assert apsw.sqlitelibversion() != sqlite3.sqlite_version or True

    def blob(v):
        return struct.pack("%df" % len(v), *v)

    a = sqlite3.connect(":memory:", isolation_level=None)
    a.enable_load_extension(True)
    a.load_extension(ext)
    b = apsw.Connection(":memory:")
    b.enable_load_extension(True)
    b.load_extension(ext)

    ddl = ("create virtual table v using vec0(emb float[3], tag text, +note text, "
           "chunk_size=8)")
    ddl_index = "create virtual table w using vec0(emb float[3] indexed by hnsw(m=4))"
    for c in (a, b):
        c.execute(ddl)
        c.execute(ddl_index)
    rows = {}
    for i in range(1, 61):
        vec = [float(i % 7), float(i % 5), float(i % 3)]
        rows[i] = vec
        conn = a if i % 2 else b
        other = b if i % 2 else a
        for c in (conn, other):   # interleaved: each statement alternates the library
            c.execute("insert into v(rowid, emb, tag, note) values (?, ?, ?, ?)",
                      (i, blob(vec), "t%d" % (i % 3), "n%d" % i))
            c.execute("insert into w(rowid, emb) values (?, ?)", (i, blob(vec)))
        if i % 10 == 0:
            for c in (a, b):
                c.execute("delete from v where rowid = ?", (i - 5,))
                c.execute("delete from w where rowid = ?", (i - 5,))
            rows.pop(i - 5)

    q = blob([1.0, 2.0, 0.0])
    def knn(c, table, extra=""):
        return [tuple(r) for r in c.execute(
            "select rowid, round(distance, 5) from %s where emb match ? and k = 7%s" % (table, extra), (q,))]
    def oracle(pred=lambda i: True):
        d = sorted((sum((x - y) ** 2 for x, y in zip(v, [1.0, 2.0, 0.0])) ** 0.5, i)
                   for i, v in rows.items() if pred(i))
        return [(i, round(x, 5)) for x, i in d[:7]]

    for c in (a, b, a):
        assert knn(c, "v") == oracle(), (knn(c, "v"), oracle())
        assert knn(c, "w", " and exact = 1") == oracle()
        assert knn(c, "v", " and tag = 't1'") == oracle(lambda i: i % 3 == 1)
        got = {r[0] for r in knn(c, "w")}
        assert len(got & {i for i, _ in oracle()}) >= 5
        assert [r[0] for r in c.execute("select vec_length(vec_f32('[1,2]'))")] == [2]
        assert [tuple(r) for r in c.execute(
            "select count(*) from v_rowids")] == [(len(rows),)]
    # a function and a table of one library used inside a statement of the other's: neither
    # may reach the other's SQLite.
    a.execute("select vec_distance_l2(?, ?)", (q, q)).fetchall()
    list(b.execute("select vec_distance_l2(?, ?)", (q, q)))
    a.close(); b.close()
    print("ok")
    """
)


def test_sqlite3_and_apsw_in_one_process(ext_path, tmp_path):
    script = tmp_path / "two.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), ext_path], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.strip() == "ok"
