"""vec0 files shared with sqlite-vec 0.1.9: each must read and write the other's tables.

* `tests/fixtures/sqlite_vec_0_1_9.db` was written by the real sqlite-vec
  (`tests/fixtures/make_sqlite_vec_db.py`): vecsql reads every row and column as sqlite-vec
  does, answers KNN queries the same way, and reading leaves the file untouched.
* vecsql then inserts, updates (vectors, metadata, auxiliary values, partition keys) and
  deletes rows in a copy; sqlite-vec reads the result, writes more, and vecsql reads that
  again. After every step both engines must show exactly what a Python model of the table
  holds, and `PRAGMA integrity_check` must be ok.
* The reverse: a file created by vecsql is read and written by sqlite-vec.

Each table is described by a `Table` (its columns in declared order), which also builds the
SQL and the expected stored bytes of every value written here.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
from dataclasses import dataclass

import pytest

from test_vec0_compat import (
    assert_same_neighbours,
    open_sqlite_vec,
    open_vecsql,
    same_rows,
    sort_key,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "sqlite_vec_0_1_9.db")


# ---------------------------------------------------------------------------------------------
# Table descriptions and the Python model
# ---------------------------------------------------------------------------------------------


@dataclass
class Column:
    name: str
    kind: str  # float | int8 | bit | integer | real | text | boolean | any (aux) | partition
    dims: int = 0
    value_type: str = ""  # for partition keys and auxiliary columns: integer | text | real | blob


@dataclass
class Table:
    name: str
    key: str  # "rowid" or the primary key column
    text_key: bool
    columns: list[Column]  # declared order, key excluded

    def vectors(self):
        return [c for c in self.columns if c.kind in ("float", "int8", "bit")]

    def random_value(self, rng: random.Random, col: Column):
        """(sql expression, parameter, stored value as `select *` returns it)."""
        if col.kind == "float":
            v = [round(rng.uniform(-1, 1), 4) for _ in range(col.dims)]
            blob = struct.pack(f"<{col.dims}f", *v)
            return ("?", json.dumps(v), blob) if rng.random() < 0.5 else ("?", blob, blob)
        if col.kind == "int8":
            v = [rng.randint(-128, 127) for _ in range(col.dims)]
            return "vec_int8(?)", json.dumps(v), struct.pack(f"{col.dims}b", *v)
        if col.kind == "bit":
            b = bytes(rng.getrandbits(8) for _ in range(col.dims // 8))
            return "vec_bit(?)", b, b
        if col.kind == "integer":
            v = rng.choice([0, 1, -3, 2020, 2**50])
        elif col.kind == "real":
            v = rng.choice([0.0, -1.5, 0.125, 1e20])
        elif col.kind == "text":
            v = rng.choice(["", "a", "twelve bytes", "thirteen bytes", "a long text value " * rng.randint(1, 4)])
        elif col.kind == "boolean":
            v = rng.randint(0, 1)
        elif col.kind == "partition":
            v = rng.choice([0, 1, 2, 5]) if col.value_type == "integer" else rng.choice(
                ["news", "blog", "a much longer partition value", "new partition"])
        else:  # auxiliary
            v = None if rng.random() < 0.2 else {
                "integer": rng.randint(-10**6, 10**6),
                "real": rng.choice([0.5, -2.0, 1e-5]),
                "text": rng.choice(["", "aux text", "caf\u00e9"]),
                "blob": bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 6))),
            }[col.value_type]
        return "?", v, v


DOCS = Table("docs", "id", False, [
    Column("embedding", "float", 8),
    Column("category", "partition", value_type="text"),
    Column("qemb", "int8", 8),
    Column("bemb", "bit", 16),
    Column("year", "integer"),
    Column("score", "real"),
    Column("title", "text"),
    Column("published", "boolean"),
    Column("body", "aux", value_type="text"),
    Column("views", "aux", value_type="integer"),
    Column("weight", "aux", value_type="real"),
    Column("raw", "aux", value_type="blob"),
])
NOTES = Table("notes", "note_id", True, [
    Column("emb", "float", 4),
    Column("shard", "partition", value_type="integer"),
    Column("tag", "text"),
])
PLAIN = Table("plain", "rowid", False, [
    Column("e", "float", 3),
    Column("q", "int8", 4),
    Column("b", "bit", 8),
])
TABLES = [DOCS, NOTES, PLAIN]

# The same definitions as make_sqlite_vec_db.py, for files vecsql creates.
DDL = {
    "docs": "create virtual table docs using vec0(id integer primary key, "
    "embedding float[8] distance_metric=cosine, category text partition key, qemb int8[8], "
    "bemb bit[16], year integer, score float, title text, published boolean, +body text, "
    "+views integer, +weight float, +raw blob, chunk_size=8)",
    "notes": "create virtual table notes using vec0(note_id text primary key, emb float[4], "
    "shard integer partition key, tag text, chunk_size=8)",
    "plain": "create virtual table plain using vec0(e float[3], q int8[4] distance_metric=l1, "
    "b bit[8], chunk_size=8)",
}


NEW_KEYS = itertools.count(10_000)


class Model:
    """What every table should hold: {table: {key: row tuple as `select key, *` returns}}."""

    def __init__(self, conn):
        self.rows = {t.name: {r[0]: r for r in read_all(conn, t)} for t in TABLES}

    def new_key(self, t: Table):
        n = next(NEW_KEYS)
        return f"new-note-{n}" if t.text_key else n

    def insert(self, conns, t: Table, rng, key=None):
        key = self.new_key(t) if key is None else key
        exprs, params, stored = [], [], []
        for c in t.columns:
            e, p, s = t.random_value(rng, c)
            exprs.append(e)
            params.append(p)
            stored.append(s)
        names = ", ".join([t.key] + [c.name for c in t.columns])
        sql = f"insert into {t.name}({names}) values (?, {', '.join(exprs)})"
        for conn in conns:
            conn.execute(sql, [key] + params)
        self.rows[t.name][key] = (key, *stored)
        return key

    def update(self, conns, t: Table, rng, key, columns):
        row = list(self.rows[t.name][key])
        sets, params = [], []
        for c in columns:
            e, p, s = t.random_value(rng, c)
            sets.append(f"{c.name} = {e}")
            params.append(p)
            row[1 + t.columns.index(c)] = s
        for conn in conns:
            conn.execute(f"update {t.name} set {', '.join(sets)} where {t.key} = ?", params + [key])
        self.rows[t.name][key] = tuple(row)

    def delete(self, conns, t: Table, key):
        for conn in conns:
            conn.execute(f"delete from {t.name} where {t.key} = ?", [key])
        del self.rows[t.name][key]

    def expected(self, t: Table):
        return sorted(self.rows[t.name].values(), key=sort_key)


def read_all(conn, t: Table):
    # `select *` starts with the key: vec0 declares a `rowid` column when there is no key.
    return sorted(conn.execute(f"select * from {t.name}").fetchall(), key=sort_key)


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def integrity_ok(conn):
    assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]


# ---------------------------------------------------------------------------------------------
# Checks shared by the tests
# ---------------------------------------------------------------------------------------------


def check_reads(model: Model, path, ext_path, label):
    """Both engines, each on its own connection, read exactly what the model holds."""
    for opener in (open_sqlite_vec, lambda p: open_vecsql(ext_path, p)):
        conn = opener(path)
        try:
            integrity_ok(conn)
            for t in TABLES:
                got = read_all(conn, t)
                want = model.expected(t)
                assert same_rows(got, want), f"{label}: {t.name} read by {opener}:\n  got  {got}\n  want {want}"
                assert conn.execute(f"select count(*) from {t.name}").fetchone() == (len(want),)
                # Point lookups go through the key index instead of a scan.
                for row in want[:: max(1, len(want) // 7)]:
                    q = f"select * from {t.name} where {t.key} = ?"
                    assert conn.execute(q, [row[0]]).fetchall() == [row], (label, t.name, row[0])
        finally:
            conn.close()


def knn_queries(t: Table, rng: random.Random):
    """(sql, params, k) KNN queries over every vector column, with and without filters."""
    out = []
    key = "rowid" if t.key == "rowid" else t.key
    for col in t.vectors():
        for _ in range(4):
            expr, param, _ = t.random_value(rng, col)
            for k in (1, 5, 17, 200):
                filters, fparams = [], []
                for c in t.columns:
                    if c.kind == "partition" and rng.random() < 0.4:
                        _, v, _ = t.random_value(rng, c)
                        filters.append(f"{c.name} = ?")
                        fparams.append(v)
                    elif c.kind in ("integer", "boolean") and rng.random() < 0.3:
                        _, v, _ = t.random_value(rng, c)
                        filters.append(f"{c.name} {rng.choice(['=', '!=', '>=', '<'] if c.kind == 'integer' else ['=', '!='])} ?")
                        fparams.append(v)
                    elif c.kind == "real" and rng.random() < 0.3:
                        filters.append(f"{c.name} > ?")
                        fparams.append(0.0)
                    elif c.kind == "text" and rng.random() < 0.3:
                        _, v, _ = t.random_value(rng, c)
                        filters.append(f"{c.name} {rng.choice(['=', '!='])} ?")
                        fparams.append(v)
                extra = [c.name for c in t.columns if c.kind not in ("float", "int8", "bit")][:3]
                where = " and ".join([f"{col.name} match {expr}", "k = ?", *filters])
                sql = f"select {', '.join([key, 'distance', *extra])} from {t.name} where {where}"
                out.append((sql, [param, k, *fparams], k))
    return out


def check_knn(path, ext_path, seed, label):
    """Random KNN queries answer the same in both engines."""
    vec, ours = open_sqlite_vec(path), open_vecsql(ext_path, path)
    try:
        rng = random.Random(seed)
        for t in TABLES:
            for sql, params, k in knn_queries(t, rng):
                a = vec.execute(sql, params).fetchall()
                b = ours.execute(sql, params).fetchall()
                full = lambda: vec.execute(sql, [params[0], 4096, *params[2:]]).fetchall()  # noqa: E731
                assert_same_neighbours(a, b, k, full, f"{label}: {sql} {params!r}")
    finally:
        vec.close()
        ours.close()


def write_round(model: Model, conn, rng: random.Random, vecsql: bool):
    """Inserts, updates and deletes in every table, in one transaction."""
    conn.execute("begin")
    for t in TABLES:
        for _ in range(rng.randint(10, 20)):
            model.insert([conn], t, rng)
        keys = list(model.rows[t.name])
        for key in rng.sample(keys, min(8, len(keys))):
            cols = [c for c in t.columns if c.kind != "partition"]
            if not vecsql:
                # sqlite-vec 0.1.9 cannot update int8/bit vectors.
                cols = [c for c in cols if c.kind not in ("int8", "bit")]
            elif rng.random() < 0.3:
                cols = cols + [c for c in t.columns if c.kind == "partition"]
            if cols:
                model.update([conn], t, rng, key, rng.sample(cols, rng.randint(1, len(cols))))
        for key in rng.sample(list(model.rows[t.name]), 6):
            model.delete([conn], t, key)
    conn.execute("commit")


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def fixture_copy(tmp_path):
    if not os.path.exists(FIXTURE):
        pytest.skip(f"{FIXTURE} missing: run tests/fixtures/make_sqlite_vec_db.py")
    dst = tmp_path / "shared.db"
    shutil.copy(FIXTURE, dst)
    return str(dst)


def test_fixture_was_written_by_sqlite_vec_0_1_9(fixture_copy):
    assert os.path.getsize(FIXTURE) < 200 * 1024
    conn = sqlite3.connect(fixture_copy)
    for t in TABLES:
        info = dict(conn.execute(f"select key, value from {t.name}_info"))
        assert info["CREATE_VERSION"] == "v0.1.9", info
    names = {r[0] for r in conn.execute("select name from sqlite_master")}
    assert "docs_metadatatext02" in names and not any(n.endswith("_free") for n in names)
    conn.close()


def test_vecsql_reads_a_sqlite_vec_file_like_sqlite_vec(fixture_copy, ext_path):
    before = md5(fixture_copy)
    vec = open_sqlite_vec(fixture_copy)
    model = Model(vec)
    vec.close()
    assert len(model.rows["docs"]) == 52 and len(model.rows["notes"]) == 26 and len(model.rows["plain"]) == 19
    check_reads(model, fixture_copy, ext_path, "sqlite-vec's file")
    check_knn(fixture_copy, ext_path, 1, "sqlite-vec's file")
    # Typed reads of the stored vectors and long text, beyond `select *`.
    vec, ours = open_sqlite_vec(fixture_copy), open_vecsql(ext_path, fixture_copy)
    for sql in [
        "select id, vec_to_json(embedding), vec_to_json(qemb), vec_to_json(bemb), length(title) from docs",
        "select note_id, vec_to_json(emb), shard, tag from notes",
        "select rowid, vec_to_json(e), vec_to_json(q), vec_to_json(b) from plain",
    ]:
        a, b = (sorted(c.execute(sql).fetchall(), key=sort_key) for c in (vec, ours))
        assert a == b, sql
    vec.close()
    ours.close()
    assert md5(fixture_copy) == before, "reading the file with vecsql changed it"


def test_vecsql_writes_sqlite_vec_reads_and_back(fixture_copy, ext_path):
    vec = open_sqlite_vec(fixture_copy)
    model = Model(vec)
    vec.close()
    rng = random.Random(42)
    for round_ in range(2):
        ours = open_vecsql(ext_path, fixture_copy)
        write_round(model, ours, rng, vecsql=True)
        integrity_ok(ours)
        ours.close()
        check_reads(model, fixture_copy, ext_path, f"after vecsql's writes (round {round_})")
        check_knn(fixture_copy, ext_path, 10 + round_, f"after vecsql's writes (round {round_})")

        vec = open_sqlite_vec(fixture_copy)
        write_round(model, vec, rng, vecsql=False)
        vec.close()
        check_reads(model, fixture_copy, ext_path, f"after sqlite-vec's writes (round {round_})")
        check_knn(fixture_copy, ext_path, 20 + round_, f"after sqlite-vec's writes (round {round_})")


@pytest.mark.parametrize("creator", ["sqlite-vec", "vecsql"])
def test_emptying_and_refilling_every_chunk(tmp_path, ext_path, creator):
    """vecsql deletes every row (so every chunk goes, the highest included), then refills."""
    path = str(tmp_path / "t.db")
    if creator == "sqlite-vec":
        shutil.copy(FIXTURE, path)
    else:
        ours = open_vecsql(ext_path, path)
        for ddl in DDL.values():
            ours.execute(ddl)
        model = Model(ours)
        rng = random.Random(4)
        for t in TABLES:
            for _ in range(40):
                model.insert([ours], t, rng)
        ours.close()
    vec = open_sqlite_vec(path)
    model = Model(vec)
    vec.close()
    rng = random.Random(5)
    ours = open_vecsql(ext_path, path)
    for t in TABLES:
        model.insert([ours], t, rng)
        for key in list(model.rows[t.name]):
            model.delete([ours], t, key)
        assert ours.execute(f"select count(*) from {t.name}_chunks").fetchone() == (0,)
        for _ in range(20):
            model.insert([ours], t, rng)
    ours.close()
    check_reads(model, path, ext_path, "after emptying and refilling")
    check_knn(path, ext_path, 3, "after emptying and refilling")


def test_vecsql_adds_a_chunk_after_the_last_one_was_dropped(tmp_path, ext_path):
    """sqlite-vec declares its chunk tables `rowid PRIMARY KEY`, where `rowid` is an ordinary
    column: a new chunk must set `_rowid_` too (as sqlite-vec does), or once the highest chunk
    was deleted the next chunk's real rowid differs from its chunk_id and sqlite3_blob_open
    fails with 'no such rowid'."""
    path = str(tmp_path / "t.db")
    vec = open_sqlite_vec(path)
    vec.execute("create virtual table t using vec0(e float[1], n integer, chunk_size=8)")
    for i in range(1, 17):
        vec.execute("insert into t(rowid, e, n) values (?, ?, ?)", (i, f"[{i}]", i))
    for i in range(9, 17):  # empties chunk 2, which sqlite-vec deletes
        vec.execute("delete from t where rowid = ?", (i,))
    vec.close()
    ours = open_vecsql(ext_path, path)
    for i in range(17, 30):
        ours.execute("insert into t(rowid, e, n) values (?, ?, ?)", (i, f"[{i}]", i))
    assert ours.execute("select count(*) from t").fetchone() == (21,)
    ours.close()


def test_a_vecsql_file_is_read_and_written_by_sqlite_vec(tmp_path, ext_path):
    path = str(tmp_path / "ours.db")
    ours = open_vecsql(ext_path, path)
    for ddl in DDL.values():
        ours.execute(ddl)
    model = Model(ours)
    rng = random.Random(99)
    ours.execute("begin")
    for t in TABLES:
        for _ in range(45):
            model.insert([ours], t, rng)
        for key in rng.sample(list(model.rows[t.name]), 10):
            model.delete([ours], t, key)
    ours.execute("commit")
    write_round(model, ours, rng, vecsql=True)
    ours.close()
    check_reads(model, path, ext_path, "vecsql's file")
    check_knn(path, ext_path, 7, "vecsql's file")

    vec = open_sqlite_vec(path)
    write_round(model, vec, rng, vecsql=False)
    vec.close()
    check_reads(model, path, ext_path, "vecsql's file after sqlite-vec's writes")
    check_knn(path, ext_path, 8, "vecsql's file after sqlite-vec's writes")

    ours = open_vecsql(ext_path, path)
    write_round(model, ours, rng, vecsql=True)
    ours.close()
    check_reads(model, path, ext_path, "vecsql's file, written by both")


def test_table_dropped_by_sqlite_vec_can_be_created_again(tmp_path, ext_path):
    """sqlite-vec's DROP TABLE does not know vecsql's {t}_free table and leaves it behind;
    creating the table again in vecsql must still work."""
    path = str(tmp_path / "drop.db")
    ours = open_vecsql(ext_path, path)
    ours.execute("create virtual table t using vec0(e float[1], chunk_size=8)")
    ours.execute("insert into t(rowid, e) values (1, '[1]')")
    ours.close()
    vec = open_sqlite_vec(path)
    vec.execute("drop table t")
    vec.close()
    ours = open_vecsql(ext_path, path)
    ours.execute("create virtual table t using vec0(e float[1], chunk_size=8)")
    ours.execute("insert into t(rowid, e) values (2, '[2]')")
    assert ours.execute("select rowid from t").fetchall() == [(2,)]
    ours.close()


def test_vecsql_deletes_from_a_sqlite_vec_table_before_inserting(tmp_path, ext_path):
    """A DELETE is the first write: vecsql's {t}_free table does not exist yet."""
    path = str(tmp_path / "t.db")
    vec = open_sqlite_vec(path)
    vec.execute("create virtual table t using vec0(e float[1], chunk_size=8)")
    vec.execute("insert into t(rowid, e) values (1, '[1]'), (2, '[2]')")
    vec.close()
    ours = open_vecsql(ext_path, path)
    ours.execute("delete from t where rowid = 1")
    assert ours.execute("select rowid from t").fetchall() == [(2,)]
    ours.close()


def test_long_text_of_a_deleted_row_does_not_break_sqlite_vec_filters(tmp_path, ext_path):
    """sqlite-vec's filters read every slot of a chunk, free or not, and fail with 'Could not
    filter metadata fields' on a stale long-text length whose overflow row is gone; vecsql
    must zero a freed text slot as sqlite-vec does."""
    path = str(tmp_path / "t.db")
    ours = open_vecsql(ext_path, path)
    ours.execute("create virtual table t using vec0(e float[1], m text, chunk_size=8)")
    ours.execute("insert into t(rowid, e, m) values (1, '[1]', 'a long text value here'), (2, '[2]', 'b')")
    ours.execute("delete from t where rowid = 1")
    ours.close()
    vec = open_sqlite_vec(path)
    q = "select rowid from t where e match '[0]' and k = 3 and m = 'a long text value HERE'"
    assert vec.execute(q).fetchall() == []
    vec.close()


def test_deleted_slots_hold_the_same_bytes_as_sqlite_vecs(tmp_path, ext_path):
    """Both engines zero a deleted row's slot in every chunk blob (vectors, rowid, validity,
    every metadata kind), so after the same deletes the chunks that stay are byte-identical."""

    def chunk_blobs(conn):
        conn.executescript(
            """create virtual table t using vec0(e float[2], q int8[2], n integer, f float,
                   b boolean, s text, chunk_size=8);
               insert into t(rowid, e, q, n, f, b, s) values
                 (1, '[1, 1]', vec_int8('[1, 1]'), 1, 1.5, 1, 'a long text value here'),
                 (2, '[2, 2]', vec_int8('[2, 2]'), 2, 2.5, 1, 'another long text value'),
                 (3, '[3, 3]', vec_int8('[3, 3]'), 3, 3.5, 1, 'short'),
                 (4, '[4, 4]', vec_int8('[4, 4]'), 4, 4.5, 1, 'short too');
               delete from t where rowid in (2, 3);"""
        )
        cols = [("t_chunks", "validity"), ("t_chunks", "rowids")]
        cols += [(f"t_vector_chunks0{i}", "vectors") for i in range(2)]
        cols += [(f"t_metadatachunks0{i}", "data") for i in range(4)]
        out = {f"{t}.{c}": conn.execute(f"select {c} from {t}").fetchone()[0].hex() for t, c in cols}
        out["t_metadatatext03"] = conn.execute("select rowid from t_metadatatext03").fetchall()
        conn.close()
        return out

    ours = chunk_blobs(open_vecsql(ext_path, str(tmp_path / "ours.db")))
    theirs = chunk_blobs(open_sqlite_vec(str(tmp_path / "theirs.db")))
    assert ours == theirs


def _cached_reader_sees(ours, writer, statements, ext_path, path):
    """`ours` (vecsql) keeps the table's chunks cached while `writer` commits each statement;
    after each, ours' exact KNN must match a brute force over the rows a new connection (with
    no cache) reads."""
    rng = random.Random(7)
    for sql in statements:
        q = [rng.uniform(-10, 10), rng.uniform(-10, 10)]
        ours.execute("select rowid from t where e match ? and k = 3", (json.dumps(q),)).fetchall()
        writer.execute(sql)
        for probe in ([0.0, 0.0], [40.0, 40.0], q):
            got = ours.execute(
                "select rowid, distance from t where e match ? and k = 3", (json.dumps(probe),)
            ).fetchall()
            fresh = open_vecsql(ext_path, path)
            rows = fresh.execute("select rowid, vec_to_json(e) from t").fetchall()
            fresh.close()
            brute = sorted(
                (sum((a - b) ** 2 for a, b in zip(json.loads(v), probe)) ** 0.5, r)
                for r, v in rows
            )[:3]
            assert [r for r, _ in got] == [r for _, r in brute], (sql, probe, got, brute)
            for (_, d), (bd, _) in zip(got, brute):
                assert abs(d - bd) < 1e-4, (sql, probe, got, brute)


@pytest.mark.parametrize("creator", ["sqlite-vec", "vecsql"])
def test_a_cached_vecsql_reader_follows_sqlite_vec_commits(tmp_path, ext_path, creator):
    """A vecsql connection that caches chunks while sqlite-vec writes the same file: the file
    has no `{t}_chunk_versions` (sqlite-vec created it, so every commit drops the cache), or
    has one (vecsql created it, and sqlite-vec's inserts and deletes change chunks' validity
    bitmaps without moving their versions, which drops the cache too). 36 rows: sqlite-vec
    appends to the last chunk, which is half full and cached."""
    path = str(tmp_path / "mixed.db")
    first = open_sqlite_vec(path) if creator == "sqlite-vec" else open_vecsql(ext_path, path)
    first.execute("pragma journal_mode=wal")
    first.execute("create virtual table t using vec0(e float[2], chunk_size=8)")
    first.executemany(
        "insert into t(rowid, e) values (?, ?)",
        [(i, json.dumps([float(i), float(i % 5)])) for i in range(1, 37)],
    )
    first.close()
    ours, vec = open_vecsql(ext_path, path), open_sqlite_vec(path)
    statements = [
        "insert into t(rowid, e) values (100, '[40, 40]')",
        "delete from t where rowid = 100",
        "delete from t where rowid = 12",
        "insert into t(rowid, e) values (101, '[0.5, 0.5]')",
    ]
    if creator == "sqlite-vec":
        # An UPDATE rewrites the vector in place; only the missing table can reveal it.
        statements.append("update t set e = '[39, 39]' where rowid = 3")
    _cached_reader_sees(ours, vec, statements, ext_path, path)
    ours.close()
    vec.close()


def test_a_cached_reader_follows_another_process(tmp_path, ext_path):
    """Commits by a vecsql writer in another process, seen by a connection with a warm cache."""
    path = str(tmp_path / "two.db")
    ours = open_vecsql(ext_path, path)
    ours.execute("pragma journal_mode=wal")
    ours.execute("create virtual table t using vec0(e float[2], chunk_size=8)")
    ours.executemany(
        "insert into t(rowid, e) values (?, ?)",
        [(i, json.dumps([float(i), 0.0])) for i in range(1, 41)],
    )
    writer = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.enable_load_extension(True); c.load_extension(sys.argv[2])\n"
        "c.execute(sys.argv[3])\n"
    )
    statements = [
        "update t set e = '[0, 0]' where rowid = 30",
        "delete from t where rowid = 30",
        "insert into t(rowid, e) values (200, '[40, 40]')",
        "begin; update t set e = '[1, 1]' where rowid = 9; update t set e = '[2, 2]' "
        "where rowid = 25; commit;",
    ]

    class Process:
        def execute(self, sql):
            if sql.startswith("begin"):
                script = writer.replace("c.execute(", "c.executescript(")
            else:
                script = writer
            subprocess.run([sys.executable, "-c", script, path, ext_path, sql], check=True)

    _cached_reader_sees(ours, Process(), statements, ext_path, path)
    ours.close()
