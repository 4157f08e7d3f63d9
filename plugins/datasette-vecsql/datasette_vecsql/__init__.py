"""Datasette plugin: vecsql in every connection, and vectors made explorable.

- ``prepare_connection``: loads vecsql (the ``vecsql`` Python package) into every connection,
  so vec0 tables, ``vec_*`` and libSQL's ``vector_*`` functions work in tables, rows and SQL.
- Row pages of vec0 tables get a "Nearest rows" panel: the ``k`` (default 10) rows of the
  same table nearest to this row, by the row's own vector (the first vector column, or
  ``?_vecsql_column=``), with distances and links. ``?_vecsql_k=`` changes ``k``.
- ``/-/vecsql/neighbours/<database>/<table>/<pk>.json`` returns the same neighbours as JSON
  (``?k=``, ``?column=``); path parts are tilde-encoded like Datasette's own row URLs.
- ``render_cell``: vector BLOBs (vec0 vector columns, and columns of ordinary tables declared
  with a libSQL vector type such as ``F32_BLOB(3)`` / ``FLOAT32(3)``) show as a summary,
  ``float32[64] [0.12, -0.03, 0.41, 0.07, …]``, instead of ``<Binary: 256 bytes>``.

Configuration (metadata ``plugins: datasette-vecsql:``, per instance, database or table):
``k`` (default 10), ``preview`` (how many values a cell shows, default 4).
"""
from __future__ import annotations

import dataclasses
import re
import struct
import time
import urllib.parse
import weakref
from typing import Any, Optional

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils import escape_sqlite, tilde_decode, tilde_encode, urlsafe_components
from datasette.utils.asgi import Forbidden, NotFound, Response
from markupsafe import Markup, escape

__version__ = "0.1.0"

PLUGIN = "datasette-vecsql"
DEFAULT_K = 10
MAX_K = 1000
DEFAULT_PREVIEW = 4
CACHE_SECONDS = 2.0


# --- what the vector columns of a table are ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VectorColumn:
    name: str
    element: str  # float32, int8, bit (vec0); float64, float16, bfloat16, float8, float1bit (libSQL)
    dimensions: int
    metric: str  # l2, cosine, l1, hamming (vec0); "" for ordinary tables


@dataclasses.dataclass(frozen=True)
class TableVectors:
    kind: str  # "vec0" or "table"
    columns: dict  # name -> VectorColumn, in declaration order
    label_column: Optional[str] = None  # a text column of a vec0 table, for the panel

    @property
    def first(self) -> Optional[VectorColumn]:
        return next(iter(self.columns.values()), None)


_IDENT = r'"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*'
_VEC0_VECTOR = re.compile(
    rf"^\s*({_IDENT})\s+(float32|float|f32|int8|i8|bit)\s*\[\s*(\d+)\s*\](.*)$", re.I | re.S
)
_VEC0_TEXT = re.compile(rf"^\s*\+?\s*({_IDENT})\s+text\b", re.I)
_METRIC = re.compile(r"\bdistance_metric\s*=\s*['\"]?(\w+)", re.I)
_USING_VEC0 = re.compile(r"\busing\s+vec0\s*\(", re.I)
# libSQL's vector column types, with their element types
_LIBSQL_TYPE = re.compile(
    r"^\s*(F32_BLOB|FLOAT32|F64_BLOB|FLOAT64|F16_BLOB|FLOAT16|FB16_BLOB|FLOATB16|F8_BLOB|FLOAT8"
    r"|F1BIT_BLOB|FLOAT1BIT)\s*\(\s*(\d+)\s*\)\s*$",
    re.I,
)
_LIBSQL_ELEMENT = {
    "F32_BLOB": "float32", "FLOAT32": "float32", "F64_BLOB": "float64", "FLOAT64": "float64",
    "F16_BLOB": "float16", "FLOAT16": "float16", "FB16_BLOB": "bfloat16", "FLOATB16": "bfloat16",
    "F8_BLOB": "float8", "FLOAT8": "float8", "F1BIT_BLOB": "float1bit", "FLOAT1BIT": "float1bit",
}


def _unquote(ident: str) -> str:
    if ident[0] == '"':
        return ident[1:-1].replace('""', '"')
    if ident[0] in "`[":
        return ident[1:-1]
    return ident


def _split_args(body: str) -> list:
    """vec0's arguments, split at top-level commas (not inside quotes or brackets)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(body):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_vec0(sql: str) -> Optional[TableVectors]:
    """The vector columns declared in a ``create virtual table ... using vec0(...)``."""
    m = _USING_VEC0.search(sql or "")
    if not m:
        return None
    body = sql[m.end():]
    body = body[: body.rfind(")")] if ")" in body else body
    columns, texts = {}, []
    for arg in _split_args(body):
        v = _VEC0_VECTOR.match(arg)
        if v:
            element = {"float": "float32", "f32": "float32", "i8": "int8"}.get(
                v.group(2).lower(), v.group(2).lower()
            )
            metric = _METRIC.search(v.group(4))
            if element == "bit":
                default = "hamming"
            else:
                default = "l2"
            name = _unquote(v.group(1))
            columns[name] = VectorColumn(
                name, element, int(v.group(3)), metric.group(1).lower() if metric else default
            )
            continue
        t = _VEC0_TEXT.match(arg)
        if t and "primary key" not in arg.lower():
            texts.append(_unquote(t.group(1)))
    # the label: a text column named like one (as Datasette guesses), else the first
    label = next((t for t in texts if t.lower() in ("title", "name", "label")), None)
    return TableVectors("vec0", columns, label or next(iter(texts), None))


def vectors_of_ordinary_table(table_info: list) -> Optional[TableVectors]:
    """Columns of an ordinary table declared with a libSQL vector type (``F32_BLOB(3)``)."""
    columns = {}
    for _cid, name, declared, *_ in table_info:
        m = _LIBSQL_TYPE.match(declared or "")
        if m:
            columns[name] = VectorColumn(name, _LIBSQL_ELEMENT[m.group(1).upper()], int(m.group(2)), "")
    return TableVectors("table", columns) if columns else None


# Per Datasette instance: (database, table) -> (time, TableVectors or None). render_cell has
# no request to hang a cache on, and a page renders all its cells within a moment, so a short
# time-to-live keeps it to one schema lookup per table and page.
_cache: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


async def table_vectors(datasette, database: str, table: str, fresh: bool = False):
    """The vector columns of ``table`` (a TableVectors), or None when it has none."""
    cache = _cache.setdefault(datasette, {})
    key = (database, table)
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and not fresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    db = datasette.get_database(database)
    row = (
        await db.execute(
            "select sql from sqlite_master where type = 'table' and name = ?", [table]
        )
    ).first()
    result = None
    if row is not None:
        sql = row[0] or ""
        if _USING_VEC0.search(sql) and sql.lstrip().lower().startswith("create virtual"):
            result = parse_vec0(sql)
        else:
            info = (await db.execute(f"pragma table_info({escape_sqlite(table)})")).rows
            result = vectors_of_ordinary_table([tuple(r) for r in info])
    if result is not None and not result.columns:
        result = None
    cache[key] = (now, result)
    return result


# --- cell rendering -------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def summarize(value: bytes, column: VectorColumn, preview: int = DEFAULT_PREVIEW):
    """(element type, dimensions, first values as text) of a vector blob, or None when the
    blob does not fit the column's declared type."""
    n, element = len(value), column.element
    first: list = []
    if element == "float32":
        if n % 4 or (column.dimensions and n // 4 != column.dimensions):
            return None
        dims = n // 4
        first = [_fmt(x) for x in struct.unpack_from(f"<{min(dims, preview)}f", value)]
    elif element == "int8":
        if column.dimensions and n != column.dimensions:
            return None
        dims = n
        first = [str(x) for x in struct.unpack_from(f"<{min(dims, preview)}b", value)]
    elif element == "bit":  # bits, least significant first (as vec_to_json lists them)
        if column.dimensions and n * 8 != column.dimensions:
            return None
        dims = n * 8
        bits = "".join(f"{b:08b}"[::-1] for b in value[: preview * 2 // 8 + 1])
        first = [bits[: preview * 2]]
    elif element == "float64":
        dims = column.dimensions
        if n < 8 * dims:
            return None
        first = [_fmt(x) for x in struct.unpack_from(f"<{min(dims, preview)}d", value)]
    elif element == "float16":
        dims = column.dimensions
        if n < 2 * dims:
            return None
        first = [_fmt(x) for x in struct.unpack_from(f"<{min(dims, preview)}e", value)]
    elif element == "bfloat16":
        dims = column.dimensions
        if n < 2 * dims:
            return None
        halves = struct.unpack_from(f"<{min(dims, preview)}H", value)
        first = [_fmt(struct.unpack("<f", struct.pack("<I", h << 16))[0]) for h in halves]
    else:  # float8, float1bit: quantized formats; the type and size say enough
        dims = column.dimensions
    if element == "bit":
        values = first[0] + ("…" if dims > len(first[0]) else "") if first else ""
    else:
        values = ", ".join(first) + (", …" if first and len(first) < dims else "")
    return element, dims, values


def _plugin_config(datasette, database=None, table=None) -> dict:
    return datasette.plugin_config(PLUGIN, database=database, table=table) or {}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if not isinstance(value, (bytes, bytearray)) or not table or not database:
        return None

    async def render():
        vectors = await table_vectors(datasette, database, table)
        if vectors is None or column not in vectors.columns:
            return None
        col = vectors.columns[column]
        preview = int(_plugin_config(datasette, database, table).get("preview", DEFAULT_PREVIEW))
        summary = summarize(bytes(value), col, preview)
        if summary is None:
            return None
        element, dims, values = summary
        title = f"{element} vector, {dims} dimensions, {len(value)} bytes"
        if col.metric:
            title += f", {col.metric} distance"
        body = f'<span class="vecsql-type">{escape(element)}[{dims}]</span>'
        if values:
            body += f' <span class="vecsql-values">[{escape(values)}]</span>'
        return Markup(f'<span class="vecsql-vector" title="{escape(title)}">{body}</span>')

    return render


# --- nearest rows ---------------------------------------------------------------------------


def _clamp_k(k) -> int:
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise ValueError(f"k must be an integer, not {k!r}")
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, not {k}")
    return k


async def neighbours(datasette, database: str, table: str, pk_values: list, k: int = DEFAULT_K,
                     column: Optional[str] = None) -> Optional[dict]:
    """The k rows of vec0 table ``table`` nearest to the row ``pk_values`` (its primary key
    values as in a row URL), by that row's own vector in ``column`` (default: the table's
    first vector column). None when ``table`` is not a vec0 table with a vector column.
    Raises NotFound for a missing row and ValueError for a bad column or k."""
    vectors = await table_vectors(datasette, database, table, fresh=True)
    if vectors is None or vectors.kind != "vec0" or vectors.first is None:
        return None
    if column is None:
        col = vectors.first
    elif column in vectors.columns:
        col = vectors.columns[column]
    else:
        raise ValueError(f"{table} has no vector column {column!r}")
    k = _clamp_k(k)
    db = datasette.get_database(database)
    pks = await db.primary_keys(table)
    key = pks[0] if pks else "rowid"
    if len(pk_values) != 1:
        raise NotFound("Record not found")
    pk = pk_values[0]
    if key == "rowid" and isinstance(pk, str) and re.fullmatch(r"-?\d+", pk):
        pk = int(pk)
    t, c, kq = escape_sqlite(table), escape_sqlite(col.name), escape_sqlite(key)
    row = (await db.execute(f"select {kq}, {c} from {t} where {kq} = :pk", {"pk": pk})).first()
    if row is None:
        raise NotFound("Record not found")
    pk, vector = row[0], row[1]
    result = {
        "database": database,
        "table": table,
        "primary_key": key,
        "row": pk,
        "column": col.name,
        "element_type": col.element,
        "dimensions": col.dimensions,
        "metric": col.metric,
        "k": k,
        "label_column": vectors.label_column,
        "neighbours": [],
    }
    if vector is None:
        return result
    wrap = {"int8": "vec_int8(:v)", "bit": "vec_bit(:v)"}.get(col.element, ":v")
    label = f", {escape_sqlite(vectors.label_column)}" if vectors.label_column else ""
    sql = (f"select {kq}, distance{label} from {t} where {c} match {wrap} and k = :k"
           " order by distance")
    rows = (await db.execute(sql, {"v": vector, "k": min(k + 1, MAX_K + 1)})).rows
    for r in rows:
        if r[0] == pk:
            continue  # the row itself (any other row at distance 0 is kept)
        item = {
            "pk": r[0],
            "distance": r[1],
            "url": datasette.urls.row(database, table, tilde_encode(str(r[0]))),
        }
        if vectors.label_column:
            item["label"] = r[2]
        result["neighbours"].append(item)
    result["neighbours"] = result["neighbours"][:k]
    return result


async def _check_visible(datasette, request, database, table):
    visible, _ = await datasette.check_visibility(
        request.actor,
        permissions=[("view-table", (database, table)), ("view-database", database), "view-instance"],
    )
    if not visible:
        raise Forbidden("You do not have permission to view this table")


async def neighbours_json(datasette, request):
    database_route = tilde_decode(request.url_vars["database"])
    table = tilde_decode(request.url_vars["table"])
    try:
        db = datasette.get_database(route=database_route)
    except KeyError:
        raise NotFound("Database not found")
    await _check_visible(datasette, request, db.name, table)
    if not await db.table_exists(table):
        raise NotFound(f"Table not found: {table}")
    pk_values = urlsafe_components(request.url_vars["pks"])
    config = _plugin_config(datasette, db.name, table)
    try:
        data = await neighbours(datasette, db.name, table, pk_values,
                                request.args.get("k") or config.get("k", DEFAULT_K),
                                request.args.get("column"))
    except ValueError as e:
        return Response.json({"ok": False, "error": str(e)}, status=400)
    except QueryInterrupted:
        return Response.json({"ok": False, "error": "the query ran past Datasette's time limit"
                              " (sql_time_limit_ms)"}, status=504)
    if data is None:
        return Response.json(
            {"ok": False, "error": f"{table} is not a vec0 table with a vector column"},
            status=400)
    for item in data["neighbours"]:
        item["url"] = datasette.absolute_url(request, item["url"])
    return Response.json({"ok": True, **data}, default=repr)


@hookimpl
def register_routes():
    return [
        (r"^/-/vecsql/neighbours/(?P<database>[^/]+)/(?P<table>[^/]+)/(?P<pks>[^/]+)\.json$",
         neighbours_json),
    ]


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name != "row" or not table or request is None or "pks" not in request.url_vars:
        return {}

    async def inner():
        config = _plugin_config(datasette, database, table)
        try:
            data = await neighbours(
                datasette, database, table, urlsafe_components(request.url_vars["pks"]),
                request.args.get("_vecsql_k") or config.get("k", DEFAULT_K),
                request.args.get("_vecsql_column"))
        except (ValueError, NotFound) as e:
            return {"vecsql_neighbours": None, "vecsql_error": str(e)}
        except Exception as e:  # a failing panel must not take the row page down
            return {"vecsql_neighbours": None, "vecsql_error": f"{type(e).__name__}: {e}"}
        if data is None:
            return {"vecsql_neighbours": None}
        db = datasette.get_database(database)
        vectors = await table_vectors(datasette, database, table)
        query = "" if data["column"] == vectors.first.name else "?" + urllib.parse.urlencode(
            {"column": data["column"]})
        data["json_url"] = datasette.urls.path("/-/vecsql/neighbours/{}/{}/{}.json{}".format(
            tilde_encode(db.route), tilde_encode(table), request.url_vars["pks"], query))
        data["other_columns"] = [c for c in vectors.columns if c != data["column"]]
        return {"vecsql_neighbours": data}

    return inner


@hookimpl(trylast=True)
def prepare_connection(conn):
    # Imported here: a missing vecsql package then fails with a clear error when a
    # connection opens, instead of stopping Datasette from loading its plugins.
    import vecsql

    vecsql.load(conn)
