"""Differential tests of the `vec0` virtual table: vecsql against the real sqlite-vec 0.1.9.

Two connections, one with each extension, run the same statements and must agree:

* `test_random_workload`: a seeded random workload per seed (table definitions with float32,
  int8 and bit vector columns, metadata of every type, partition keys, auxiliary columns, the
  three kinds of key, chunk_size 8/16; inserts, updates, deletes, KNN queries with random
  metadata/partition/distance/key filters and k, point lookups, full scans, and statements
  that both must reject). Rows and distances must match (1e-5), KNN ties may come in any order.
  Every rejected statement runs inside a savepoint that is rolled back afterwards, because a
  failed INSERT can leave sqlite-vec's shadow tables half-written; vecsql must be unchanged by
  a failed statement even before that rollback.
* `test_case`: one explicit statement per case on fresh tables. Errors must carry the same
  message, or vecsql's must start with sqlite-vec's (vecsql keeps sqlite-vec's text as a
  prefix where it adds detail). Cases where vecsql differs on purpose are listed, with the
  reason, in `DELIBERATE_DIFFERENCES` (the test checks they still differ, so the list cannot
  go stale); cases that are vecsql bugs are in `KNOWN_BUGS` and run as strict xfails.

SQLite 3.40 (Debian 12's stdlib sqlite3) does not pass LIMIT to virtual tables, so KNN uses
`AND k = ?`; `test_limit_form_under_apsw` covers `LIMIT n` with apsw's newer SQLite.

More seeds: VEC0_COMPAT_SEEDS=100 .venv/bin/python -m pytest tests/python/test_vec0_compat.py
"""
from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import struct
from dataclasses import dataclass, field

import pytest

sqlite_vec = pytest.importorskip("sqlite_vec")

TOL = 1e-5
SEEDS = list(range(int(os.environ.get("VEC0_COMPAT_SEEDS", "6"))))


# ---------------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------------


def open_sqlite_vec(path=":memory:") -> sqlite3.Connection:
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    sqlite_vec.load(c)
    c.enable_load_extension(False)
    return c


def open_vecsql(ext_path, path=":memory:") -> sqlite3.Connection:
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    c.enable_load_extension(False)
    return c


@dataclass
class Outcome:
    rows: list | None = None
    error: str | None = None
    error_type: str | None = None
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        if self.ok:
            return f"rows={self.rows!r}"
        return f"{self.error_type}: {self.error}"


def run(conn, sql, params=()) -> Outcome:
    try:
        return Outcome(rows=conn.execute(sql, params).fetchall())
    except sqlite3.Error as e:
        return Outcome(
            error=str(e), error_type=type(e).__name__, error_code=getattr(e, "sqlite_errorcode", None)
        )


def same_value(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        if type(a) is not type(b):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)
    return type(a) is type(b) and a == b


def same_row(a, b) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))


def same_rows(a, b) -> bool:
    return len(a) == len(b) and all(same_row(x, y) for x, y in zip(a, b))


def sort_key(row):
    return tuple((type(v).__name__, v) for v in row)


def assert_same_neighbours(a, b, k, full, context=""):
    """KNN rows (key, distance, ...) of sqlite-vec (`a`) and vecsql (`b`) agree: the same
    distances (within TOL) and the same rows, where rows at equal distance may come in any
    order and the group cut by k may hold any of the tied rows (`full()`: sqlite-vec's rows
    for the same query without the cut)."""
    ctx = lambda: f"\n  sqlite-vec: {a}\n  vecsql:     {b}\n{context}"  # noqa: E731
    assert len(a) == len(b), "different numbers of neighbours: " + ctx()
    for x, y in zip(a, b):
        assert same_value(x[1], y[1]), "distances differ: " + ctx()
    i = 0
    while i < len(a):
        j = i + 1
        while j < len(a) and same_value(a[j][1], a[i][1]):
            j += 1
        ga, gb = sorted(a[i:j], key=sort_key), sorted(b[i:j], key=sort_key)
        if j == len(a) and len(a) == k and not same_rows(ga, gb):
            tied = [r for r in full() if same_value(r[1], a[i][1])]
            for row in gb:
                assert any(same_row(row, t) for t in tied), "a tied row is not a neighbour: " + ctx()
        else:
            assert same_rows(ga, gb), "neighbours differ: " + ctx()
        i = j


def same_message(vec_msg: str, ours: str) -> bool:
    """Equal, or vecsql keeps sqlite-vec's message as a prefix and adds detail."""
    return ours == vec_msg or ours.startswith(vec_msg)


# ---------------------------------------------------------------------------------------------
# Random table definitions and values
# ---------------------------------------------------------------------------------------------

TEXT_VALUES = [
    "",
    "a",
    "b",
    "apple",
    "banana",
    "twelve bytes",  # exactly the 12 bytes stored inline
    "thirteen byte",  # one byte longer: full text in {t}_metadatatextNN
    "twelve bytesA",
    "twelve bytes and a long tail",
    "twelve bytes and a long tail!",
    "twelve bytes and another one",
    "caf\u00e9",
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
]
INT_VALUES = [-5, -1, 0, 1, 2, 3, 4, 7, 100, 2**62, -(2**62)]
FLOAT_VALUES = [-1.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.75, 1e10, -3.0e-5]
INT_PARTITIONS = [0, 1, 2, -7]
TEXT_PARTITIONS = ["a", "b", "c", "long partition value"]


@dataclass
class VectorCol:
    name: str
    element: str  # float | int8 | bit
    dims: int
    metric: str | None  # None: default (l2, hamming for bit)

    def ddl(self) -> str:
        s = f"{self.name} {self.element}[{self.dims}]"
        if self.metric:
            s += f" distance_metric={self.metric}"
        return s


@dataclass
class Schema:
    key: str  # rowid | int | text
    vectors: list[VectorCol]
    metadata: list[tuple[str, str]]  # (name, integer|float|text|boolean)
    partitions: list[tuple[str, str]]  # (name, integer|text)
    aux: list[tuple[str, str]]  # (name, integer|float|text|blob)
    chunk_size: int
    order: list[str] = field(default_factory=list)  # declaration order of non-key columns

    @property
    def key_name(self) -> str:
        return "rowid" if self.key == "rowid" else "id"

    def ddl(self, table="t") -> str:
        parts = []
        if self.key == "int":
            parts.append("id integer primary key")
        elif self.key == "text":
            parts.append("id text primary key")
        decl = {v.name: v.ddl() for v in self.vectors}
        decl.update({n: f"{n} {t}" for n, t in self.metadata})
        decl.update({n: f"{n} {t} partition key" for n, t in self.partitions})
        decl.update({n: f"+{n} {t}" for n, t in self.aux})
        parts += [decl[n] for n in self.order]
        parts.append(f"chunk_size={self.chunk_size}")
        return f"create virtual table {table} using vec0({', '.join(parts)})"



def random_schema(rng: random.Random) -> Schema:
    vectors = []
    for i in range(rng.randint(1, 3)):
        element = rng.choice(["float", "float", "int8", "bit"])
        if element == "float":
            vectors.append(
                VectorCol(f"v{i}", "float", rng.randint(2, 8), rng.choice([None, "l2", "cosine", "l1"]))
            )
        elif element == "int8":
            vectors.append(
                VectorCol(f"v{i}", "int8", rng.randint(2, 8), rng.choice([None, "l2", "cosine", "l1"]))
            )
        else:
            vectors.append(VectorCol(f"v{i}", "bit", 8 * rng.randint(1, 4), None))
    metadata = [
        (f"m{i}", rng.choice(["integer", "float", "text", "boolean"])) for i in range(rng.randint(0, 4))
    ]
    partitions = [(f"p{i}", rng.choice(["integer", "text"])) for i in range(rng.choice([0, 0, 1, 2]))]
    aux = [(f"a{i}", rng.choice(["integer", "float", "text", "blob"])) for i in range(rng.randint(0, 3))]
    schema = Schema(
        key=rng.choice(["rowid", "int", "text"]),
        vectors=vectors,
        metadata=metadata,
        partitions=partitions,
        aux=aux,
        chunk_size=rng.choice([8, 16]),
    )
    schema.order = [v.name for v in vectors] + [n for n, _ in metadata + partitions + aux]
    rng.shuffle(schema.order)
    return schema


def random_vector(rng: random.Random, col: VectorCol, existing: list | None = None):
    """(sql expression, parameter) for a vector of `col`'s type."""
    if existing and rng.random() < 0.1:
        return rng.choice(existing)  # duplicates make distance ties
    if col.element == "float":
        while True:
            v = [round(rng.gauss(0, 1), 3) for _ in range(col.dims)]
            if any(v):  # a zero vector has no cosine distance
                break
        if rng.random() < 0.3:
            return "?", struct.pack(f"<{col.dims}f", *v)
        return "?", json.dumps(v)
    if col.element == "int8":
        while True:
            v = [rng.randint(-128, 127) for _ in range(col.dims)]
            if any(v):
                break
        return "vec_int8(?)", json.dumps(v)
    return "vec_bit(?)", bytes(rng.getrandbits(8) for _ in range(col.dims // 8))


def random_metadata(rng, kind):
    if kind == "integer":
        return rng.choice(INT_VALUES)
    if kind == "float":
        return rng.choice(FLOAT_VALUES)
    if kind == "text":
        return rng.choice(TEXT_VALUES)
    return rng.randint(0, 1)


def random_partition(rng, kind):
    return rng.choice(INT_PARTITIONS if kind == "integer" else TEXT_PARTITIONS)


def random_aux(rng, kind):
    if rng.random() < 0.15:
        return None
    if kind == "integer":
        return rng.randint(-1000, 1000)
    if kind == "float":
        return rng.choice([0.5, -2.25, 1e-300, 3.0])
    if kind == "text":
        return rng.choice(["", "x", "payload text", "caf\u00e9"])
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 5)))


class text_check:
    """A range condition on a text metadata value, compared as SQLite's BINARY collation does."""

    OPS = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }

    def __init__(self, column, op, value, op2=None, value2=None):
        self.column = column
        self.conds = [(op, value.encode())] + ([(op2, value2.encode())] if op2 else [])

    def __call__(self, v):
        return all(self.OPS[op](v.encode(), x) for op, x in self.conds)


# ---------------------------------------------------------------------------------------------
# The two engines side by side
# ---------------------------------------------------------------------------------------------


class Pair:
    def __init__(self, ext_path, schema: Schema):
        self.schema = schema
        self.vec = open_sqlite_vec()
        self.ours = open_vecsql(ext_path)
        self.log: list[str] = []
        for c in (self.vec, self.ours):
            c.execute(schema.ddl())

    def close(self):
        self.vec.close()
        self.ours.close()

    def context(self) -> str:
        return "\n".join([self.schema.ddl(), *self.log[-25:]])

    def both(self, sql, params=()) -> tuple[Outcome, Outcome]:
        self.log.append(f"{sql}  -- {params!r}")
        return run(self.vec, sql, params), run(self.ours, sql, params)

    def ok(self, sql, params=()) -> tuple[list, list]:
        a, b = self.both(sql, params)
        assert a.ok and b.ok, f"{sql}\n  sqlite-vec: {a}\n  vecsql:     {b}\n{self.context()}"
        return a.rows, b.rows

    def same(self, sql, params=(), unordered=False):
        a, b = self.ok(sql, params)
        if unordered:
            a, b = sorted(a, key=sort_key), sorted(b, key=sort_key)
        assert same_rows(a, b), f"{sql} {params!r}\n  sqlite-vec: {a}\n  vecsql:     {b}\n{self.context()}"
        return a

    def shadow_dump(self, conn):
        names = [
            r[0]
            for r in conn.execute(
                "select name from sqlite_master where type='table' and name like 't\\_%' escape '\\' "
                "order by name"
            )
        ]
        names.append("sqlite_sequence")
        return {n: conn.execute(f'select * from "{n}" order by 1').fetchall() for n in names}

    def rejected(self, sql, params=(), message_differs: str | None = None):
        """Both must reject `sql`; vecsql must be left unchanged; then both roll back."""
        for c in (self.vec, self.ours):
            c.execute("savepoint err")
        before = self.shadow_dump(self.ours)
        a, b = self.both(sql, params)
        after = self.shadow_dump(self.ours)
        for c in (self.vec, self.ours):
            c.execute("rollback to err")
            c.execute("release err")
        ctx = f"{sql} {params!r}\n  sqlite-vec: {a}\n  vecsql:     {b}\n{self.context()}"
        assert not a.ok, "sqlite-vec accepted a statement the workload expects it to reject: " + ctx
        assert not b.ok, "vecsql accepted a statement sqlite-vec rejects: " + ctx
        if message_differs is None:
            assert same_message(a.error, b.error), "error messages differ: " + ctx
        assert before == after, "a failed statement changed vecsql's shadow tables: " + ctx


# ---------------------------------------------------------------------------------------------
# The random workload
# ---------------------------------------------------------------------------------------------


class Workload:
    def __init__(self, pair: Pair, rng: random.Random):
        self.p = pair
        self.s = pair.schema
        self.rng = rng
        self.keys: list = []  # live keys
        self.next_text_key = 0
        self.vectors: dict[str, list] = {v.name: [] for v in self.s.vectors}

    # -- helpers -----------------------------------------------------------------------------

    def new_key(self):
        if self.s.key == "text":
            self.next_text_key += 1
            return f"key-{self.next_text_key:03d}"
        while True:
            k = self.rng.randint(-3, 200)
            if k not in self.keys:
                return k

    def row_values(self):
        """{column: (expression, parameter)} for every non-key column."""
        vals = {}
        for v in self.s.vectors:
            vals[v.name] = random_vector(self.rng, v, self.vectors[v.name])
        for n, t in self.s.metadata:
            vals[n] = ("?", random_metadata(self.rng, t))
        for n, t in self.s.partitions:
            vals[n] = ("?", random_partition(self.rng, t))
        for n, t in self.s.aux:
            vals[n] = ("?", random_aux(self.rng, t))
        return vals

    def insert_sql(self, key, vals):
        cols, exprs, params = [], [], []
        if key is not None:
            cols.append(self.s.key_name)
            exprs.append("?")
            params.append(key)
        for name, (expr, param) in vals.items():
            cols.append(name)
            exprs.append(expr)
            params.append(param)
        return f"insert into t({', '.join(cols)}) values ({', '.join(exprs)})", params

    # -- operations --------------------------------------------------------------------------

    def insert(self):
        vals = self.row_values()
        key = None if self.s.key != "text" and self.rng.random() < 0.3 else self.new_key()
        sql, params = self.insert_sql(key, vals)
        self.p.ok(sql, params)
        if key is None:
            (a,), (b,) = self.p.ok("select last_insert_rowid()")
            assert a == b, f"auto-assigned rowids differ: {a} vs {b}\n{self.p.context()}"
            key = a[0]
        self.keys.append(key)
        for v in self.s.vectors:
            self.vectors[v.name].append(vals[v.name])

    def update(self):
        if not self.keys:
            return
        key = self.rng.choice(self.keys)
        vals = self.row_values()
        # sqlite-vec 0.1.9 cannot update int8/bit vectors, partition keys or primary keys.
        candidates = [v.name for v in self.s.vectors if v.element == "float"]
        candidates += [n for n, _ in self.s.metadata + self.s.aux]
        if not candidates:
            return
        chosen = self.rng.sample(candidates, self.rng.randint(1, len(candidates)))
        sets = ", ".join(f"{n} = {vals[n][0]}" for n in chosen)
        params = [vals[n][1] for n in chosen]
        self.p.ok(f"update t set {sets} where {self.s.key_name} = ?", params + [key])

    def delete(self):
        r = self.rng.random()
        if r < 0.7 and self.keys:
            key = self.rng.choice(self.keys)
            self.p.ok(f"delete from t where {self.s.key_name} = ?", [key])
            self.keys.remove(key)
        elif r < 0.85:
            self.p.ok(f"delete from t where {self.s.key_name} = ?", [self.new_key()])
        elif self.s.metadata:
            name, kind = self.rng.choice(self.s.metadata)
            value = random_metadata(self.rng, kind)
            self.p.ok(f"delete from t where {name} = ?", [value])
            self.keys = self.all_keys()

    def all_keys(self):
        a, b = self.p.ok(f"select {self.s.key_name} from t")
        assert sorted(a, key=sort_key) == sorted(b, key=sort_key), self.p.context()
        return [r[0] for r in a]

    def filters(self):
        """Random KNN filters both engines support identically: (sql, params, check) triples,
        where `check` is a Python predicate on the column's value for text range filters."""
        rng, out = self.rng, []
        for name, kind in self.s.metadata:
            if rng.random() > 0.35:
                continue
            if kind == "boolean":
                out.append((f"{name} {rng.choice(['=', '!='])} ?", [rng.randint(0, 1)], None))
                continue
            ops = ["=", "!=", "<", "<=", ">", ">="]
            if kind in ("integer", "text"):
                ops += ["in", "between"]
            elif kind == "float":
                ops += ["between"]
            op = rng.choice(ops)
            if op == "in":
                values = [random_metadata(rng, kind) for _ in range(rng.randint(1, 3))]
                out.append((f"{name} in ({', '.join('?' * len(values))})", values, None))
            elif op == "between":
                lo, hi = sorted([random_metadata(rng, kind), random_metadata(rng, kind)])
                check = text_check(name, ">=", lo, "<=", hi) if kind == "text" else None
                out.append((f"{name} between ? and ?", [lo, hi], check))
            else:
                value = random_metadata(rng, kind)
                check = text_check(name, op, value) if kind == "text" and op not in ("=", "!=") else None
                out.append((f"{name} {op} ?", [value], check))
        for name, kind in self.s.partitions:
            if rng.random() < 0.5:
                op = rng.choice(["=", "=", "!=", "<", "<=", ">", ">="])
                out.append((f"{name} {op} ?", [random_partition(rng, kind)], None))
        if len(self.keys) >= 2 and rng.random() < 0.15:
            # sqlite-vec pushes only IN lists on the key into KNN (SQLite turns a one-element
            # list into '='), and for text keys only lists of existing keys.
            chosen = rng.sample(self.keys, min(len(self.keys), rng.randint(2, 6)))
            if self.s.key != "text" and rng.random() < 0.5:
                chosen.append(self.new_key())
            out.append((f"{self.s.key_name} in ({', '.join('?' * len(chosen))})", chosen, None))
        return out

    def knn(self):
        rng = self.rng
        col = rng.choice(self.s.vectors)
        qexpr, qparam = random_vector(rng, col, self.vectors[col.name])
        k = rng.choice([0, 1, 2, 3, 5, 10, rng.randint(1, 60)])
        filters = self.filters()
        if rng.random() < 0.15:
            # A distance bound around the median distance.
            dists = [r[0] for r in self.p.vec.execute(
                f"select distance from t where {col.name} match {qexpr} and k = 4096", [qparam])]
            if len(dists) >= 2:
                # Halfway between two neighbours: a bound equal to a distance would make the
                # answer depend on the last bit of the float32 sum.
                m = len(dists) // 2
                bound = (dists[m - 1] + dists[m]) / 2
                if dists[m] - dists[m - 1] > 1e-4:
                    op = rng.choice(["<", "<=", ">", ">="])
                    filters.append((f"distance {op} ?", [bound], None))
        cols = [self.s.key_name, "distance"] + rng.sample(self.s.order, rng.randint(0, len(self.s.order)))
        order = " order by distance" if rng.random() < 0.3 else ""

        def query(filters, k, extra_cols=()):
            where = [f"{col.name} match {qexpr}", "k = ?"] + [f[0] for f in filters]
            params = [qparam, k] + [p for f in filters for p in f[1]]
            sql = f"select {', '.join(cols + list(extra_cols))} from t where {' and '.join(where)}{order}"
            return sql, params

        sql, params = query(filters, k)
        a, b = self.p.both(sql, params)
        if any(f[2] for f in filters) and b.ok:
            # sqlite-vec 0.1.9 gets ranges on text metadata wrong (a stored long text that is
            # a prefix of the bound compares equal to it; a stored value of exactly 12 bytes
            # fails the query): ask it without those filters and apply them here.
            a = Outcome(rows=self.without_text_ranges(query, filters, k))

        def full():
            """Every neighbour, for ties cut by k."""
            rows = self.without_text_ranges(query, filters, 4096)
            return rows

        assert a.ok and b.ok, f"{sql}\n  sqlite-vec: {a}\n  vecsql:     {b}\n{self.p.context()}"
        assert_same_neighbours(a.rows, b.rows, k, full, f"{sql} {params!r}\n{self.p.context()}")

    def without_text_ranges(self, query, filters, k):
        kept = [f for f in filters if f[2] is None]
        checks = [f[2] for f in filters if f[2] is not None]
        extra = [c.column for c in checks]
        sql, params = query(kept, 4096, extra)
        rows = self.p.vec.execute(sql, params).fetchall()
        width = len(rows[0]) - len(extra) if rows else 0
        out = []
        for r in rows:
            values = r[width:]
            if all(c(v) for c, v in zip(checks, values)):
                out.append(r[:width])
        return out[:k]

    def point(self):
        if not self.keys:
            return
        if self.rng.random() < 0.5 or self.s.key == "text":
            key = self.rng.choice(self.keys + [self.new_key()])
            self.p.same(f"select * from t where {self.s.key_name} = ?", [key])
        else:
            keys = self.rng.sample(self.keys, min(3, len(self.keys)))
            marks = ", ".join("?" * len(keys))
            self.p.same(f"select * from t where {self.s.key_name} in ({marks})", keys, unordered=True)

    def scan(self):
        key = self.s.key_name
        self.p.same(f"select {key}, * from t", unordered=True)
        self.p.same("select count(*) from t")
        if self.s.metadata:
            name, kind = self.rng.choice(self.s.metadata)
            self.p.same(f"select {key} from t where {name} = ?", [random_metadata(self.rng, kind)], unordered=True)

    def error(self):
        """A statement both engines reject; the kinds where messages agree."""
        rng, s = self.rng, self.s
        kind = rng.choice(["dims_insert", "dims_query", "type_query", "meta_type", "dup_key",
                           "k_negative", "k_too_large", "no_k", "meta_update_type"])
        col = rng.choice(s.vectors)
        if kind == "dims_insert":
            vals = self.row_values()
            bad = VectorCol(col.name, col.element, col.dims + (8 if col.element == "bit" else 1), None)
            vals[col.name] = random_vector(rng, bad)
            self.p.rejected(*self.insert_sql(self.new_key() if s.key == "text" else None, vals))
        elif kind == "dims_query":
            bad = VectorCol(col.name, col.element, col.dims + (8 if col.element == "bit" else 1), None)
            e, p = random_vector(rng, bad)
            self.p.rejected(f"select {s.key_name} from t where {col.name} match {e} and k = 3", [p])
        elif kind == "type_query":
            expr = {"float": "vec_int8(?)", "int8": "vec_f32(?)", "bit": "vec_f32(?)"}[col.element]
            arg = json.dumps([1] * col.dims)
            self.p.rejected(f"select {s.key_name} from t where {col.name} match {expr} and k = 3", [arg])
        elif kind == "meta_type" and s.metadata:
            vals = self.row_values()
            name, t = rng.choice(s.metadata)
            vals[name] = ("?", {"integer": "text", "float": "text", "text": b"\x07", "boolean": 2}[t])
            self.p.rejected(*self.insert_sql(self.new_key() if s.key == "text" else None, vals))
        elif kind == "meta_update_type" and s.metadata and self.keys:
            name, t = rng.choice(s.metadata)
            bad = {"integer": 1.5, "float": "text", "text": b"\x03", "boolean": None}[t]
            self.p.rejected(f"update t set {name} = ? where {s.key_name} = ?", [bad, rng.choice(self.keys)])
        elif kind == "dup_key" and self.keys:
            # vecsql reports SQLITE_CONSTRAINT, sqlite-vec SQLITE_ERROR: only the text is compared.
            self.p.rejected(*self.insert_sql(rng.choice(self.keys), self.row_values()))
        elif kind in ("k_negative", "k_too_large", "no_k"):
            e, p = random_vector(rng, col)
            kc = {"k_negative": " and k = -1", "k_too_large": " and k = 4097", "no_k": ""}[kind]
            self.p.rejected(f"select {s.key_name} from t where {col.name} match {e}{kc}", [p])

    def step(self):
        r = self.rng.random()
        if r < 0.40:
            self.insert()
        elif r < 0.52:
            self.update()
        elif r < 0.62:
            self.delete()
        elif r < 0.85:
            self.knn()
        elif r < 0.90:
            self.point()
        elif r < 0.95:
            self.scan()
        else:
            self.error()


@pytest.mark.parametrize("seed", SEEDS)
def test_random_workload(ext_path, seed):
    rng = random.Random(seed)
    for _ in range(3):
        pair = Pair(ext_path, random_schema(rng))
        try:
            w = Workload(pair, rng)
            for _ in range(rng.randint(20, 40)):
                w.insert()
            for _ in range(150):
                w.step()
            w.scan()
            # Delete everything, then refill: empty chunks and reused space.
            for key in list(w.keys):
                pair.ok(f"delete from t where {pair.schema.key_name} = ?", [key])
            w.keys = []
            w.scan()
            for _ in range(12):
                w.insert()
            for _ in range(5):
                w.knn()
            w.scan()
        finally:
            pair.close()


# ---------------------------------------------------------------------------------------------
# Explicit cases
# ---------------------------------------------------------------------------------------------

T_INT = (
    "create virtual table t using vec0(id integer primary key, p integer partition key, "
    "e float[2], q int8[2], b bit[16], n integer, f float, s text, bo boolean, "
    "+at text, +ai integer, +af float, +ab blob, chunk_size=8)"
)
T_TEXT = "create virtual table t using vec0(id text primary key, tp text partition key, e float[2], n integer, chunk_size=8)"
T_ROWID = "create virtual table t using vec0(e float[2], q int8[2], b bit[16], chunk_size=8)"


def _int_rows():
    rows = []
    for i in range(1, 7):
        rows.append(
            f"insert into t(id, p, e, q, b, n, f, s, bo, at, ai, af, ab) values ({i}, {i % 2}, "
            f"'[{i}, {i % 3}]', vec_int8('[{i}, -{i}]'), vec_bit(x'{i:02x}{i:02x}'), {i}, {i}.5, "
            f"'s{i}{'-long-text-value' if i % 2 else ''}', {i % 2}, 'x{i}', {i}, {i}.25, x'0{i}')"
        )
    return rows


SETUPS = {
    "none": [],
    "int": [T_INT, *_int_rows()],
    "text": [T_TEXT] + [
        f"insert into t(id, tp, e, n) values ('k{i}', '{'ab'[i % 2]}', '[{i}, 1]', {i})" for i in range(1, 6)
    ],
    "text12": [
        "create virtual table t using vec0(e float[1], m text, chunk_size=8)",
        "insert into t(rowid, e, m) values (1, '[1]', 'twelve bytes'), (2, '[2]', 'b'), "
        "(3, '[3]', 'twelve bytes and more')",
    ],
    "prefix": [
        "create virtual table t using vec0(e float[1], m text, chunk_size=8)",
        "insert into t(rowid, e, m) values (1, '[1]', 'twelve bytes and more'), (2, '[2]', 'abc'), "
        "(3, '[3]', 'twelve bytes and zzz')",
    ],
    "rowid": [T_ROWID] + [
        f"insert into t(rowid, e, q, b) values ({i}, '[{i}, 0]', vec_int8('[{i}, 0]'), vec_bit(x'{i:02x}00'))"
        for i in range(1, 6)
    ],
}

Q = "select id, distance from t where e match '[0, 0]'"
QR = "select rowid, distance from t where e match '[0, 0]'"
INS = "insert into t(id, p, e, q, b, n, f, s, bo, at, ai, af, ab) values "
GOOD = "(50, 1, '[1, 1]', vec_int8('[1, 1]'), vec_bit(x'0101'), 1, 1.5, 's', 1, 'x', 1, 1.5, x'00')"


def _ins(**over):
    cols = ["id", "p", "e", "q", "b", "n", "f", "s", "bo", "at", "ai", "af", "ab"]
    vals = dict(zip(cols, ["50", "1", "'[1, 1]'", "vec_int8('[1, 1]')", "vec_bit(x'0101')", "1", "1.5",
                           "'s'", "1", "'x'", "1", "1.5", "x'00'"]))
    vals.update(over)
    return f"insert into t({', '.join(cols)}) values ({', '.join(vals[c] for c in cols)})"


# (name, setup, statement)
CASES = [
    # --- definitions (the full list of messages is in docs/vec0-definition.md) ------------
    ("create_all_kinds", "none", T_INT),
    ("create_no_vector", "none", "create virtual table t using vec0(n text, chunk_size=8)"),
    ("create_chunk_size_7", "none", "create virtual table t using vec0(e float[4], chunk_size=7)"),
    ("create_chunk_size_large", "none", "create virtual table t using vec0(e float[4], chunk_size=4104)"),
    ("create_dims_too_large", "none", "create virtual table t using vec0(e float[8193])"),
    ("create_dims_zero", "none", "create virtual table t using vec0(e float[0])"),
    ("create_two_keys", "none", "create virtual table t using vec0(a integer primary key, b text primary key, e float[4])"),
    ("create_duplicate_column", "none", "create virtual table t using vec0(a float[1], A float[1])"),
    ("create_column_k", "none", "create virtual table t using vec0(k float[4])"),
    ("create_metric_on_bit", "none", "create virtual table t using vec0(e bit[8] distance_metric=l2)"),
    ("create_float64_prefix", "none", "create virtual table t using vec0(e float64[4])"),
    ("create_metric_prefix", "none", "create virtual table t using vec0(e float[4] distance=cos)"),
    ("create_bad_aux_type", "none", "create virtual table t using vec0(e float[4], +payload boolean)"),
    # --- KNN queries ------------------------------------------------------------------------
    ("knn_plain", "int", f"{Q} and k = 3"),
    ("knn_k0", "int", f"{Q} and k = 0"),
    ("knn_k_max", "int", f"{Q} and k = 4096"),
    ("knn_k_negative", "int", f"{Q} and k = -1"),
    ("knn_k_too_large", "int", f"{Q} and k = 4097"),
    ("knn_no_k", "int", Q),
    ("knn_k_text", "int", f"{Q} and k = '2'"),
    ("knn_k_float", "int", f"{Q} and k = 2.5"),
    ("knn_k_null", "int", f"{Q} and k = null"),
    ("knn_order_by_distance", "int", f"{Q} and k = 3 order by distance"),
    ("knn_order_by_distance_desc", "int", f"{Q} and k = 3 order by distance desc"),
    ("knn_hidden_k_column", "int", "select id, k from t where e match '[0, 0]' and k = 2"),
    ("knn_query_dims", "int", "select id from t where e match '[0, 0, 0]' and k = 2"),
    ("knn_query_type_int8_on_float", "int", "select id from t where e match vec_int8('[0, 0]') and k = 2"),
    ("knn_query_type_float_on_int8", "int", "select id from t where q match vec_f32('[0, 0]') and k = 2"),
    ("knn_query_json_on_int8", "int", "select id from t where q match '[0, 0]' and k = 2"),
    ("knn_query_blob_on_bit", "int", "select id from t where b match x'0000' and k = 2"),
    ("knn_query_bit_dims", "int", "select id from t where b match vec_bit(x'00') and k = 2"),
    ("knn_query_bad_json", "int", "select id from t where e match 'abc' and k = 2"),
    ("knn_query_bad_blob", "int", "select id from t where e match x'000000' and k = 2"),
    ("knn_query_null", "int", "select id from t where e match null and k = 2"),
    ("knn_int8", "int", "select id, distance from t where q match vec_int8('[1, 1]') and k = 4"),
    ("knn_bit", "int", "select id, distance from t where b match vec_bit(x'0f0f') and k = 6"),
    ("knn_meta_int_ops", "int", f"{Q} and k = 6 and n >= 2 and n != 4 and n < 6"),
    ("knn_meta_int_in", "int", f"{Q} and k = 6 and n in (1, 3, 5)"),
    ("knn_meta_float", "int", f"{Q} and k = 6 and f > 2.5"),
    ("knn_meta_float_eq", "int", f"{Q} and k = 6 and f = 3.5"),
    ("knn_meta_float_in", "int", f"{Q} and k = 6 and f in (1.5, 3.5)"),
    ("knn_meta_text_long", "int", f"{Q} and k = 6 and s = 's3-long-text-value'"),
    ("knn_meta_text_range", "int", f"{Q} and k = 6 and s > 's2' and s <= 's5-long-text-value'"),
    ("knn_meta_text_in", "int", f"{Q} and k = 6 and s in ('s2', 's5-long-text-value')"),
    ("knn_meta_bool_eq", "int", f"{Q} and k = 6 and bo = 1"),
    ("knn_meta_bool_ne", "int", f"{Q} and k = 6 and bo != 1"),
    ("knn_meta_bool_lt", "int", f"{Q} and k = 6 and bo < 1"),
    ("knn_meta_like", "int", f"{Q} and k = 6 and s like 's%'"),
    ("knn_meta_is_null", "int", f"{Q} and k = 6 and s is null"),
    ("knn_meta_int_vs_text", "int", f"{Q} and k = 6 and n = 'abc'"),
    ("knn_meta_text_vs_int", "int", f"{Q} and k = 6 and s = 3"),
    ("knn_meta_int_vs_null", "int", f"{Q} and k = 6 and n = null"),
    ("knn_meta_int_vs_float", "int", f"{Q} and k = 6 and n = 2.0"),
    ("knn_aux_filter", "int", f"{Q} and k = 6 and at = 'x1'"),
    ("knn_partition_eq", "int", f"{Q} and k = 6 and p = 1"),
    ("knn_partition_gt", "int", f"{Q} and k = 6 and p > 0"),
    ("knn_partition_in", "int", f"{Q} and k = 3 and p in (0, 1)"),
    ("knn_key_eq", "int", f"{Q} and k = 3 and id = 4"),
    ("knn_key_in", "int", f"{Q} and k = 3 and id in (2, 5, 99)"),
    ("knn_key_range", "int", f"{Q} and k = 3 and id > 2"),
    ("knn_distance_lt", "int", f"{Q} and k = 6 and distance < 3"),
    ("knn_distance_between", "int", f"{Q} and k = 6 and distance between 2 and 5"),
    ("knn_two_match", "int", "select id from t where e match '[0, 0]' and q match vec_int8('[0, 0]') and k = 2"),
    ("knn_text_key_eq", "text", "select id, distance from t where e match '[0, 0]' and k = 3 and id = 'k5'"),
    ("knn_text_key_in", "text", "select id, distance from t where e match '[0, 0]' and k = 3 and id in ('k2', 'nope')"),
    ("knn_text_partition_ne", "text", "select id, distance from t where e match '[0, 0]' and k = 9 and tp != 'a'"),
    ("knn_text12_eq", "text12", "select rowid from t where e match '[0]' and k = 5 and m = 'twelve bytes'"),
    ("knn_text12_range", "text12", "select rowid from t where e match '[0]' and k = 5 and m > 'a'"),
    ("knn_text_prefix_ge", "prefix", "select rowid from t where e match '[0]' and k = 5 and m >= 'twelve bytes and more!'"),
    ("knn_text_prefix_lt", "prefix", "select rowid from t where e match '[0]' and k = 5 and m < 'twelve bytes and more!'"),
    ("knn_text_long_range", "prefix", "select rowid from t where e match '[0]' and k = 5 and m > 'twelve bytes and a'"),
    ("knn_rowid_in", "rowid", f"{QR} and k = 3 and rowid in (4, 2)"),
    # --- reads ------------------------------------------------------------------------------
    ("point_int", "int", "select * from t where id = 3"),
    ("point_int_in", "int", "select * from t where id in (3, 1, 77)"),
    ("point_text", "text", "select * from t where id = 'k3'"),
    ("point_rowid", "rowid", "select rowid, * from t where rowid = 2"),
    ("rowid_of_pk_table", "int", "select rowid, id from t where rowid = 2"),
    ("count", "int", "select count(*) from t"),
    ("vector_types", "int", "select vec_type(e), vec_type(q), vec_type(b), typeof(e) from t where id = 1"),
    # --- inserts ----------------------------------------------------------------------------
    ("insert_ok", "int", INS + GOOD),
    ("insert_dup_key", "int", _ins(id="1")),
    ("insert_or_replace", "int", _ins(id="1").replace("insert", "insert or replace", 1)),
    ("insert_or_ignore", "int", _ins(id="1").replace("insert", "insert or ignore", 1)),
    ("insert_text_into_int_key", "int", _ins(id="'7'")),
    ("insert_float_into_int_key", "int", _ins(id="7.0")),
    ("insert_null_key_autoincrement", "int", _ins(id="null")),
    ("insert_int_into_text_key", "text", "insert into t(id, tp, e, n) values (5, 'a', '[1, 1]', 1)"),
    ("insert_null_text_key", "text", "insert into t(id, tp, e, n) values (null, 'a', '[1, 1]', 1)"),
    ("insert_dup_text_key", "text", "insert into t(id, tp, e, n) values ('k1', 'a', '[1, 1]', 1)"),
    ("insert_dims", "int", _ins(e="'[1, 1, 1]'")),
    ("insert_bit_dims", "int", _ins(b="vec_bit(x'01')")),
    ("insert_int8_into_float", "int", _ins(e="vec_int8('[1, 1]')")),
    ("insert_float_into_int8", "int", _ins(q="vec_f32('[1, 1]')")),
    ("insert_json_into_int8", "int", _ins(q="'[1, 1]'")),
    ("insert_json_fraction_into_int8", "int", _ins(q="'[1.5, 1]'")),
    ("insert_raw_blob_int8", "int", _ins(q="x'0101'")),
    ("insert_raw_blob_bit", "int", _ins(b="x'0101'")),
    ("insert_bad_blob_float", "int", _ins(e="x'0000803f00'")),
    ("insert_bad_json", "int", _ins(e="'abc'")),
    ("insert_null_vector", "int", _ins(e="null")),
    ("insert_float_blob", "int", _ins(e="x'0000803f0000803f'")),
    ("insert_meta_int_text", "int", _ins(n="'x'")),
    ("insert_meta_int_null", "int", _ins(n="null")),
    ("insert_meta_int_float", "int", _ins(n="1.5")),
    ("insert_meta_float_text", "int", _ins(f="'x'")),
    ("insert_meta_float_int", "int", _ins(f="2")),
    ("insert_meta_text_int", "int", _ins(s="3")),
    ("insert_meta_text_null", "int", _ins(s="null")),
    ("insert_meta_bool_2", "int", _ins(bo="2")),
    ("insert_meta_bool_float", "int", _ins(bo="1.0")),
    ("insert_meta_bool_text", "int", _ins(bo="'1'")),
    ("insert_meta_extremes", "int", _ins(n="9223372036854775807", f="1e308")),
    ("insert_partition_text", "int", _ins(p="'1'")),
    ("insert_partition_null", "int", _ins(p="null")),
    ("insert_aux_null", "int", _ins(at="null", ai="null", af="null", ab="null")),
    ("insert_aux_text_int", "int", _ins(at="3")),
    ("insert_aux_int_float", "int", _ins(ai="1.5")),
    ("insert_aux_int_text", "int", _ins(ai="'1'")),
    ("insert_aux_float_int", "int", _ins(af="1")),
    ("insert_aux_blob_text", "int", _ins(ab="'x'")),
    ("insert_aux_text_blob", "int", _ins(at="x'00'")),
    ("insert_rowid_explicit", "rowid", "insert into t(rowid, e, q, b) values (-3, '[1, 1]', vec_int8('[1, 1]'), vec_bit(x'0000'))"),
    ("insert_rowid_auto", "rowid", "insert into t(e, q, b) values ('[1, 1]', vec_int8('[1, 1]'), vec_bit(x'0000'))"),
    ("insert_hidden_distance", "rowid", "insert into t(rowid, e, q, b, distance) values (9, '[1, 1]', vec_int8('[1, 1]'), vec_bit(x'0000'), 1)"),
    ("insert_hidden_k", "rowid", "insert into t(rowid, e, q, b, k) values (9, '[1, 1]', vec_int8('[1, 1]'), vec_bit(x'0000'), 1)"),
    ("insert_aux_int_word", "int", _ins(ai="'text'")),
    ("insert_meta_int_whole_real", "int", _ins(n="7.0")),
    ("insert_meta_int_text_digits", "int", _ins(n="'7'")),
    ("insert_rowid_text", "rowid", "insert into t(rowid, e, q, b) values ('9', '[1, 1]', vec_int8('[1, 1]'), vec_bit(x'0000'))"),
    # --- updates ----------------------------------------------------------------------------
    ("update_meta", "int", "update t set n = 100, s = 'a rather long text value', bo = 0 where id = 2"),
    ("update_meta_type", "int", "update t set n = 'x' where id = 2"),
    ("update_meta_null", "int", "update t set n = null where id = 2"),
    ("update_bool_2", "int", "update t set bo = 2 where id = 2"),
    ("update_float_vector", "int", "update t set e = '[9, 9]' where id = 2"),
    ("update_float_vector_dims", "int", "update t set e = '[9, 9, 9]' where id = 2"),
    ("update_float_vector_bad_blob", "int", "update t set e = x'000000' where id = 2"),
    ("update_int8_vector", "int", "update t set q = vec_int8('[3, 4]') where id = 2"),
    ("update_bit_vector", "int", "update t set b = vec_bit(x'ffff') where id = 2"),
    ("update_aux", "int", "update t set at = 'new', ab = x'ff' where id = 2"),
    ("update_bit_into_float", "int", "update t set e = vec_bit(x'AABBCCDD') where id = 2"),
    ("update_aux_type", "int", "update t set ai = 'text' where id = 2"),
    ("update_partition", "int", "update t set p = 5 where id = 2"),
    ("update_int_key", "int", "update t set id = 60 where id = 2"),
    ("update_text_key", "text", "update t set id = 'z' where id = 'k1'"),
    ("update_rowid", "rowid", "update t set rowid = 60 where rowid = 2"),
    ("update_where_meta", "int", "update t set f = 0.5 where n > 3"),
    # --- deletes ----------------------------------------------------------------------------
    ("delete_key", "int", "delete from t where id = 3"),
    ("delete_missing", "int", "delete from t where id = 999"),
    ("delete_where_meta", "int", "delete from t where s > 's3'"),
    ("delete_text_key", "text", "delete from t where id = 'k2'"),
    ("delete_all", "int", "delete from t"),
]

# Cases whose outcome differs from sqlite-vec 0.1.9 on purpose, with the reason. The test
# checks that each still differs.
DELIBERATE_DIFFERENCES = {
    # definitions: docs/vec0-definition.md, "Deliberate differences"
    "create_float64_prefix": "sqlite-vec reads any word starting with 'float' as float32; vecsql wants the type spelled in full",
    "create_metric_prefix": "sqlite-vec takes 'distance=cos' for distance_metric=cosine; vecsql wants keywords spelled in full",
    "create_bad_aux_type": "sqlite-vec's message for a bad auxiliary type is 'chunk_size must be a non-zero positive integer'",
    # vecsql accepts what sqlite-vec rejects
    "knn_order_by_distance_desc": "vecsql sorts KNN results by distance descending; sqlite-vec refuses DESC",
    "knn_meta_bool_lt": "vecsql allows every comparison on boolean metadata; sqlite-vec only = and !=",
    "knn_meta_float_in": "vecsql allows IN on float metadata; sqlite-vec only on integer and text",
    "knn_query_json_on_int8": "vecsql reads JSON text as int8 for an int8 column; sqlite-vec reads it as float32 and refuses it",
    "knn_query_blob_on_bit": "a plain blob of the column's exact size is taken as the column's type (bound raw buffers)",
    "insert_or_replace": "vecsql implements INSERT OR REPLACE; sqlite-vec reports a UNIQUE failure",
    "insert_or_ignore": "vecsql implements INSERT OR IGNORE; sqlite-vec reports a UNIQUE failure",
    "insert_json_into_int8": "JSON text for an int8 column is read as int8 (see knn_query_json_on_int8)",
    "insert_json_fraction_into_int8": "JSON for an int8 column must hold integers: vecsql names the bad number, sqlite-vec says float32",
    "insert_raw_blob_int8": "a plain blob of the column's exact size is taken as the column's type",
    "insert_raw_blob_bit": "a plain blob of the column's exact size is taken as the column's type",
    "insert_meta_float_int": "an integer for a FLOAT metadata column is stored as a float, as SQLite's REAL affinity does",
    "update_int8_vector": "sqlite-vec 0.1.9 validates updated int8 vectors as float32 and refuses them (its bug)",
    "update_bit_vector": "sqlite-vec 0.1.9 validates updated bit vectors as float32 and refuses them (its bug)",
    "update_partition": "vecsql moves the row to the new partition's chunk; sqlite-vec refuses partition key updates",
    "update_text_key": "vecsql updates text primary keys; sqlite-vec refuses",
    "update_rowid": "vecsql changes the rowid; sqlite-vec silently leaves it unchanged",
    # vecsql rejects what sqlite-vec accepts
    "knn_k_float": "k must be an integer; sqlite-vec truncates 2.5 to 2",
    "knn_k_null": "k must be an integer; sqlite-vec reads NULL as k = 0",
    "insert_partition_null": "partition keys cannot be NULL in vecsql; sqlite-vec stores NULL",
    "update_bit_into_float": "sqlite-vec 0.1.9 loses the bit subtype on UPDATE and reports a 1-dimension float32; vecsql names the type mismatch (see update_bit_vector)",
    "update_aux_type": "vecsql checks auxiliary types on UPDATE as on INSERT; sqlite-vec 0.1.9 only on INSERT",
    # vecsql converts values by the column's affinity, as an ordinary table does (README,
    # "Differences from sqlite-vec"); sqlite-vec refuses any other storage class
    "insert_text_into_int_key": "INTEGER key affinity: '7' is stored as the key 7",
    "insert_float_into_int_key": "INTEGER key affinity: 7.0 is stored as the key 7 (better-sqlite3 binds numbers as REAL)",
    "insert_rowid_text": "INTEGER key affinity: '9' is stored as the rowid 9",
    "insert_int_into_text_key": "TEXT key affinity: 5 is stored as the key '5'",
    "insert_partition_text": "INTEGER partition key affinity: '1' is stored as 1",
    "insert_meta_int_whole_real": "INTEGER affinity: 7.0 is stored as 7 (better-sqlite3 binds numbers as REAL)",
    "insert_meta_int_text_digits": "INTEGER affinity: '7' is stored as 7",
    "insert_meta_text_int": "TEXT affinity: 3 is stored as '3'",
    "insert_meta_bool_float": "NUMERIC affinity of boolean: 1.0 is stored as 1",
    "insert_meta_bool_text": "NUMERIC affinity of boolean: '1' is stored as 1",
    "insert_aux_text_int": "TEXT affinity: 3 is stored as '3'",
    "insert_aux_int_text": "INTEGER affinity: '1' is stored as 1",
    "insert_aux_float_int": "FLOAT affinity: 1 is stored as 1.0",
    # both answer, differently
    "knn_hidden_k_column": "vecsql returns the query's k in the hidden k column; sqlite-vec returns NULL",
    "knn_key_range": "vecsql applies key ranges before choosing the k nearest; sqlite-vec lets SQLite filter its k rows afterwards (fewer than k rows)",
    "knn_partition_in": "vecsql returns k rows over all listed partitions; sqlite-vec returns k rows per IN value (more than k)",
    "knn_text_key_in": "sqlite-vec 0.1.9 returns no rows for IN on a text primary key when a listed key does not exist (its bug)",
    "knn_text12_range": "sqlite-vec 0.1.9 fails range filters on text metadata when a stored value is exactly 12 bytes ('Could not filter metadata fields'; its bug)",
    "knn_text_prefix_ge": "sqlite-vec 0.1.9 compares a stored long text that is a prefix of the bound as equal to it (its bug); vecsql compares as SQLite does",
    "knn_text_prefix_lt": "sqlite-vec 0.1.9 compares a stored long text that is a prefix of the bound as equal to it (its bug); vecsql compares as SQLite does",
    "update_int_key": "vecsql changes the primary key; sqlite-vec silently leaves it unchanged",
    "update_where_meta": "sqlite-vec 0.1.9 refuses a multi-row UPDATE of a table with a partition key ('UPDATE on partition key columns are not supported yet.') even when the key is not set (its bug)",
    # both reject, with different messages
    "insert_int8_into_float": "sqlite-vec's message has an empty column name and type ('for the \"\" column ... of type ,')",
    "insert_float_into_int8": "sqlite-vec names the wrong column (the bit column after the bad int8 one)",
}

# vecsql bugs: strict xfails, so fixing one turns the suite red until the entry is removed.
KNOWN_BUGS = {
}

# Errors both raise with the same text but a different exception class.
ERROR_CLASS_DIFFERENCES = {
    "insert_dup_key": "vecsql reports UNIQUE failures as SQLITE_CONSTRAINT (IntegrityError); sqlite-vec as SQLITE_ERROR",
    "insert_dup_text_key": "same",
}


def _case_params():
    out = []
    for name, setup, sql in CASES:
        marks = []
        if name in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(reason=KNOWN_BUGS[name], strict=True))
        out.append(pytest.param(name, setup, sql, id=name, marks=marks))
    return out


def _state(conn):
    return sorted(conn.execute("select * from t").fetchall(), key=sort_key)


@pytest.mark.parametrize("name,setup,sql", _case_params())
def test_case(ext_path, name, setup, sql):
    vec, ours = open_sqlite_vec(), open_vecsql(ext_path)
    try:
        for c in (vec, ours):
            for s in SETUPS[setup]:
                c.execute(s)
        a, b = run(vec, sql), run(ours, sql)
        # What the table holds afterwards is part of the outcome (for writes).
        sa = _state(vec) if a.ok else None
        sb = _state(ours) if b.ok else None
        same = (
            a.ok == b.ok
            and (not a.ok or (same_rows(sorted(a.rows, key=sort_key), sorted(b.rows, key=sort_key))
                              and same_rows(sa, sb)))
            and (a.ok or same_message(a.error, b.error))
        )
        detail = f"\n  sqlite-vec: {a}\n  vecsql:     {b}"
        if same and not a.ok and name not in ERROR_CLASS_DIFFERENCES:
            assert a.error_type == b.error_type, f"same message, different error class{detail}"
        if name in DELIBERATE_DIFFERENCES:
            assert not same, f"listed as a deliberate difference but both agree now: remove it{detail}"
            return
        assert same, f"{sql}{detail}\n  table after: sqlite-vec {sa}\n               vecsql     {sb}"
    finally:
        vec.close()
        ours.close()


def test_failed_insert_leaves_vecsql_consistent(ext_path):
    """sqlite-vec 0.1.9 writes the rowid before checking metadata, so a failed INSERT leaves a
    dangling row (a later insert of the key fails, and full scans error). vecsql must not."""
    ours = open_vecsql(ext_path)
    ours.execute("create virtual table t using vec0(id integer primary key, e float[2], n integer, s text)")
    with pytest.raises(sqlite3.OperationalError):
        ours.execute("insert into t(id, e, n, s) values (1, '[1, 1]', 'x', 's')")
    with pytest.raises(sqlite3.OperationalError):
        ours.execute("insert into t(id, e, n, s) values (1, '[1, 1]', 1, x'02')")
    ours.execute("insert into t(id, e, n, s) values (1, '[1, 1]', 1, 'a text longer than twelve bytes')")
    assert ours.execute("select id, n, s from t").fetchall() == [(1, 1, "a text longer than twelve bytes")]
    assert ours.execute("select count(*) from t_rowids").fetchone() == (1,)
    ours.close()


def test_limit_form_under_apsw(ext_path):
    """`LIMIT n` instead of `k = n` (needs SQLite 3.41+, which apsw bundles)."""
    apsw = pytest.importorskip("apsw")
    conns = []
    for load in (sqlite_vec.loadable_path(), ext_path):
        c = apsw.Connection(":memory:")
        c.enable_load_extension(True)
        c.load_extension(load)
        c.execute("create virtual table t using vec0(e float[3], n integer, chunk_size=8)")
        rng = random.Random(7)
        for i in range(1, 40):
            c.execute("insert into t(rowid, e, n) values (?, ?, ?)",
                      (i, json.dumps([rng.gauss(0, 1) for _ in range(3)]), i % 4))
        conns.append(c)
    queries = [
        ("select rowid, distance from t where e match ? order by distance limit 5", ["[0.1, 0.2, 0.3]"]),
        ("select rowid, distance from t where e match ? and n = 2 order by distance limit 4", ["[1, 0, 0]"]),
        ("select rowid, distance from t where e match ? limit 3", ["[0, 1, 0]"]),
    ]
    for sql, params in queries:
        a, b = (list(c.execute(sql, params)) for c in conns)
        assert same_rows(a, b), (sql, a, b)
    for c in conns:
        c.close()


# ---------------------------------------------------------------------------------------------
# SQLite failing underneath: an authorizer denying a shadow-table statement, or a damaged
# shadow table. vecsql's message must start with sqlite-vec's (vecsql appends SQLite's reason
# where sqlite-vec drops it), with the same exception class.
# ---------------------------------------------------------------------------------------------

T1 = [
    "create virtual table t1 using vec0(aaa float[4], chunk_size=8)",
    "insert into t1(aaa) values ('[1,1,1,1]'), ('[2,1,1,1]'), ('[3,1,1,1]'), ('[4,1,1,1]'), "
    "('[5,1,1,1]'), ('[6,1,1,1]')",
]
CREATE_T1 = "create virtual table t1 using vec0(aaa float[4], chunk_size=8)"
CREATE_ALL = ("create virtual table t1 using vec0(aaa float[4], m integer, s text, +x text, "
              "chunk_size=8)")


def _deny(op, table, column=None):
    return ("deny", getattr(sqlite3, op), table, column)


# (name, steps): every step but the last must succeed on both; the last is compared.
# A step is SQL text or `_deny(...)` (an authorizer answering SQLITE_DENY to that one action).
SHADOW_FAILURES = [
    ("create_info_denied", [_deny("SQLITE_CREATE_TABLE", "t1_info"), CREATE_T1]),
    ("create_chunks_denied", [_deny("SQLITE_CREATE_TABLE", "t1_chunks"), CREATE_T1]),
    ("create_rowids_denied", [_deny("SQLITE_CREATE_TABLE", "t1_rowids"), CREATE_T1]),
    ("create_vector_chunks_denied", [_deny("SQLITE_CREATE_TABLE", "t1_vector_chunks00"), CREATE_T1]),
    ("create_metadatatext_denied", [_deny("SQLITE_CREATE_TABLE", "t1_metadatatext01"), CREATE_ALL]),
    ("create_auxiliary_denied", [_deny("SQLITE_CREATE_TABLE", "t1_auxiliary"), CREATE_ALL]),
    ("knn_chunks_denied", T1 + [_deny("SQLITE_READ", "t1_chunks", "chunk_id"),
                                "select rowid from t1 where aaa match '[1,1,1,1]' and k = 5"]),
    ("knn_chunks_denied_empty", [CREATE_T1, _deny("SQLITE_READ", "t1_chunks", "chunk_id"),
                                 "select rowid from t1 where aaa match '[1,1,1,1]' and k = 5"]),
    # sqlite-vec prepares its statement for an explicit rowid afresh on every insert
    ("insert_rowid_denied", T1 + ["insert into t1 values (10, '[1,1,1,1]')",
                                  _deny("SQLITE_INSERT", "t1_rowids"),
                                  "insert into t1 values (11, '[2,2,2,2]')"]),
    ("insert_auto_rowid_denied", T1 + [_deny("SQLITE_INSERT", "t1_rowids"),
                                       "insert into t1(aaa) values ('[2,2,2,2]')"]),
    ("insert_auto_rowid_denied_first", [_deny("SQLITE_INSERT", "t1_rowids"), CREATE_T1,
                                        "insert into t1(aaa) values ('[2,2,2,2]')"]),
    ("insert_text_key_denied", [
        "create virtual table t using vec0(id text primary key, aaa float[4])",
        "insert into t(id, aaa) values ('a', '[1,2,3,4]')",
        _deny("SQLITE_INSERT", "t_rowids"),
        "insert into t(id, aaa) values ('b', '[2,2,2,2]')"]),
    ("insert_chunks_read_denied", T1 + [_deny("SQLITE_READ", "t1_chunks", "chunk_id"),
                                        "insert into t1 values (999, '[2,2,2,2]')"]),
    ("insert_position_denied_first", [_deny("SQLITE_UPDATE", "t1_rowids", "chunk_id"), CREATE_T1,
                                      "insert into t1(aaa) values (X'AABBCCDD')"]),
    ("insert_validity_dropped", T1 + ["alter table t1_chunks drop column validity",
                                      "insert into t1 values (9999, '[2,2,2,2]')"]),
    ("insert_validity_size", T1 + ["update t1_chunks set validity = zeroblob(101)",
                                   "insert into t1 values (9999, '[2,2,2,2]')"]),
    ("insert_vectors_size", T1 + ["update t1_vector_chunks00 set vectors = zeroblob(101)",
                                  "insert into t1 values (9999, '[2,2,2,2]')"]),
    ("insert_rowids_dropped", T1 + ["alter table t1_chunks drop column rowids",
                                    "insert into t1 values (9999, '[2,2,2,2]')"]),
    ("insert_rowids_size", T1 + ["update t1_chunks set rowids = zeroblob(101)",
                                 "insert into t1 values (9999, '[2,2,2,2]')"]),
    ("delete_validity_dropped", T1 + ["alter table t1_chunks drop column validity",
                                      "delete from t1 where rowid = 1"]),
    ("delete_validity_bit_unset", T1 + ["update t1_chunks set validity = zeroblob(1)",
                                        "delete from t1 where rowid = 1"]),
    ("delete_validity_empty", T1 + ["update t1_chunks set validity = zeroblob(0)",
                                    "delete from t1 where rowid = 1"]),
    ("knn_validity_size", T1 + ["update t1_chunks set validity = zeroblob(100)",
                                "select rowid from t1 where aaa match '[1,1,1,1]' and k = 2"]),
    ("knn_rowids_size", T1 + ["update t1_chunks set rowids = zeroblob(100)",
                              "select rowid from t1 where aaa match '[1,1,1,1]' and k = 2"]),
    ("knn_vectors_size", T1 + ["update t1_vector_chunks00 set vectors = zeroblob(100)",
                               "select rowid from t1 where aaa match '[1,1,1,1]' and k = 2"]),
    ("read_metadata_text_denied", [
        "create virtual table v using vec0(vector float[1], t text)",
        "insert into v(vector, t) values ('[1]', 'aaaaaaaaaaaax')",
        _deny("SQLITE_READ", "v_metadatatext00", "data"),
        "select * from v"]),
]


def _run_steps(conn, steps):
    for i, step in enumerate(steps):
        if isinstance(step, tuple):
            _, op, table, column = step

            def auth(action, p1, p2, p3, p4, op=op, table=table, column=column):
                return sqlite3.SQLITE_DENY if (action, p1, p2) == (op, table, column) else sqlite3.SQLITE_OK

            conn.set_authorizer(auth)
        elif i == len(steps) - 1:
            return run(conn, step)
        else:
            conn.execute(step)


CORRUPT_WORDED_DIFFERENTLY = {"delete_validity_bit_unset", "delete_validity_empty"}


@pytest.mark.parametrize("name,steps", [pytest.param(n, s, id=n) for n, s in SHADOW_FAILURES])
def test_shadow_failure(ext_path, name, steps):
    vec, ours = open_sqlite_vec(), open_vecsql(ext_path)
    try:
        a, b = _run_steps(vec, steps), _run_steps(ours, steps)
        detail = f"\n  sqlite-vec: {a}\n  vecsql:     {b}"
        assert not a.ok, f"sqlite-vec accepted it{detail}"
        if name in CORRUPT_WORDED_DIFFERENTLY:
            # vecsql checks a row's slot before any delete work and reports the damage in its
            # own words (naming both shadow tables), as SQLITE_CORRUPT_VTAB.
            assert not b.ok and b.error_code == 267, f"not SQLITE_CORRUPT_VTAB{detail}"
            return
        assert not b.ok and same_message(a.error, b.error), detail
        if "_denied" in name or b.error_type != "DatabaseError":
            assert a.error_type == b.error_type, f"same message, different error class{detail}"
        else:
            # A damaged shadow table: vecsql reports SQLITE_CORRUPT_VTAB (Python's
            # DatabaseError), with sqlite-vec's words; sqlite-vec says SQLITE_ERROR.
            assert b.error_code == 267, f"not SQLITE_CORRUPT_VTAB{detail}"
    finally:
        vec.close()
        ours.close()
