"""datasette 0.65 + datasette-sqlite-vec, on vecsql and on sqlite-vec 0.1.9.

datasette-sqlite-vec's prepare_connection hook calls `sqlite_vec.load(conn)`, which the
`use_lib` fixture points at the library under test, so datasette runs unchanged (the plugin
stays installed and active; its hook is what loads the library). Requests go through
datasette's in-process test client (`Datasette(...).client`), as datasette's own tests do.
Note datasette passes URL values (row ids, filters, ?param= values) to SQLite as text.
"""
import asyncio
import collections
import json
import urllib.parse

import pytest
from conftest import QUERIES, assert_distances, connect, corpus, embed, f32, knn
from datasette.app import Datasette

TEXTS = corpus(40, seed=23)
CATS = ["news", "blog", "paper", "news"]


def category(i):
    return CATS[i % len(CATS)]


@pytest.fixture
def dbfile(lib_path, tmp_path):
    path = tmp_path / "vec.db"
    c = connect(lib_path, str(path))
    c.execute("create table docs(id integer primary key, title text, category text)")
    c.execute("create virtual table items using vec0(embedding float[64], category text, +title text)")
    for i, t in enumerate(TEXTS, start=1):
        c.execute("insert into docs values (?, ?, ?)", (i, t, category(i)))
        c.execute("insert into items(rowid, embedding, category, title) values (?, ?, ?, ?)",
                  (i, f32(embed(t)), category(i), t))
    c.commit()
    c.close()
    return path


@pytest.fixture
def get(use_lib, dbfile):
    ds = Datasette(files=[str(dbfile)])

    def get(path, status=200):
        async def go():
            return await ds.client.get(path)

        r = asyncio.run(go())
        if r.status_code != status:
            try:
                err = r.json().get("error")
            except ValueError:
                err = r.text[:300]
            pytest.fail(f"{urllib.parse.unquote(path)[:160]}...: HTTP {r.status_code}: {err}")
        return r

    plugins = {p["name"] for p in get("/-/plugins.json").json()}
    assert "datasette-sqlite-vec" in plugins
    loaded = get("/vec.json?sql=" + urllib.parse.quote(
        "select count(*) from pragma_function_list where name = 'vecsql_version'") + "&_shape=array")
    assert list(loaded.json()[0].values()) == [1 if use_lib == "vecsql" else 0]
    return get


def sql_json(get, sql, **params):
    qs = urllib.parse.urlencode({"sql": sql, "_shape": "array", **params})
    return get(f"/vec.json?{qs}").json()


def test_table_page(get):
    rows = get("/vec/items.json?_shape=array&_size=max").json()
    assert [r["rowid"] for r in rows] == list(range(1, len(TEXTS) + 1))
    assert [r["title"] for r in rows] == TEXTS
    assert [r["category"] for r in rows] == [category(i) for i in range(1, len(TEXTS) + 1)]
    html = get("/vec/items").text
    assert TEXTS[0] in html and "40 rows" in html
    assert "items" in {t["name"] for t in get("/vec.json").json()["tables"]}


@pytest.mark.parametrize("rowid", [3, 40])
def test_row_page(get, rowid):
    data = get(f"/vec/items/{rowid}.json").json()
    rows = [dict(zip(data["columns"], r)) for r in data["rows"]]
    assert len(rows) == 1, f"/vec/items/{rowid}.json returned {rows}"
    assert rows[0]["rowid"] == rowid and rows[0]["title"] == TEXTS[rowid - 1]
    assert TEXTS[rowid - 1] in get(f"/vec/items/{rowid}").text


def test_missing_row_is_404(get):
    get("/vec/items/999.json", status=404)


def test_facets_and_filters(get):
    data = get("/vec/items.json?_facet=category").json()
    got = {f["value"]: f["count"] for f in data["facet_results"]["category"]["results"]}
    assert got == dict(collections.Counter(category(i) for i in range(1, len(TEXTS) + 1)))
    rows = get("/vec/items.json?_shape=array&category=blog").json()
    assert [r["rowid"] for r in rows] == [i for i in range(1, len(TEXTS) + 1) if category(i) == "blog"]
    # a filter on rowid arrives as text, like the row page
    rows = get("/vec/items.json?_shape=array&rowid=7").json()
    assert [r["rowid"] for r in rows] == [7]
    rows = get("/vec/items.json?_shape=array&rowid__gt=37").json()
    assert [r["rowid"] for r in rows] == [38, 39, 40]


def oracle(q, k, keep=lambda i: True):
    ids = [i for i in range(1, len(TEXTS) + 1) if keep(i)]
    return knn(embed(q), [embed(TEXTS[i - 1]) for i in ids], k, ids=ids)


KNN_JOIN = {
    "join": "select d.id, d.title, v.distance from docs d join items v on v.rowid = d.id"
            " where v.embedding match :q and k = {k} order by v.distance",
    "join, vec0 first": "select d.id, d.title, v.distance from items v join docs d on d.id = v.rowid"
            " where v.embedding match :q and k = {k} order by v.distance",
    "comma join": "select d.id, d.title, v.distance from docs d, items v"
            " where v.rowid = d.id and v.embedding match :q and k = {k} order by v.distance",
    # CROSS JOIN makes SQLite keep the written order: docs outside, the KNN inside
    "cross join": "select d.id, d.title, v.distance from docs d cross join items v"
            " on v.rowid = d.id where v.embedding match :q and k = {k} order by v.distance",
    "cte": "with knn as (select rowid, distance from items where embedding match :q and k = {k})"
            " select d.id, d.title, knn.distance from knn join docs d on d.id = knn.rowid"
            " order by knn.distance",
}


@pytest.mark.parametrize("shape", list(KNN_JOIN))
def test_knn_join_through_json_api(get, shape):
    for q in QUERIES:
        for k in (1, 5):
            rows = sql_json(get, KNN_JOIN[shape].format(k=k), q=json.dumps(embed(q)))
            want = oracle(q, k)
            assert [r["id"] for r in rows] == [i for i, _ in want], f"{shape} k={k} {q!r}"
            assert [r["title"] for r in rows] == [TEXTS[i - 1] for i, _ in want]
            assert_distances([r["distance"] for r in rows], [d for _, d in want], shape)


def test_knn_k_param_arrives_as_text(get):
    """A canned-query style `k = :k`: datasette binds ?k=5 as the text '5' (sqlite-vec reads
    it as the integer 5)."""
    sql = "select rowid, distance from items where embedding match :q and k = :k"
    for k in (1, 5):
        rows = sql_json(get, sql, q=json.dumps(embed(QUERIES[1])), k=str(k))
        assert [r["rowid"] for r in rows] == [i for i, _ in oracle(QUERIES[1], k)]


def test_knn_join_with_filter_on_base_table(get):
    """The KNN picks k among all rows; the filter on docs applies to those k afterwards."""
    sql = ("select d.id, v.distance from docs d join items v on v.rowid = d.id"
           " where v.embedding match :q and k = 10 and d.category = 'news' order by v.distance")
    for q in QUERIES:
        rows = sql_json(get, sql, q=json.dumps(embed(q)))
        want = [i for i, _ in oracle(q, 10) if category(i) == "news"]
        assert [r["id"] for r in rows] == want, q


def test_knn_with_metadata_and_rowid_filters(get):
    q = QUERIES[0]
    rows = sql_json(get, "select rowid, distance from items where embedding match :q and k = 4"
                    " and category = :c", q=json.dumps(embed(q)), c="paper")
    assert [r["rowid"] for r in rows] == [i for i, _ in oracle(q, 4, lambda i: category(i) == "paper")]
    rows = sql_json(get, "select rowid, distance from items where embedding match :q and k = 3"
                    " and rowid in (select id from docs where id % 3 = 0)", q=json.dumps(embed(q)))
    assert [r["rowid"] for r in rows] == [i for i, _ in oracle(q, 3, lambda i: i % 3 == 0)]
    # ids picked in a form arrive as text; sqlite-vec reads them as integers
    rows = sql_json(get, "select rowid, distance from items where embedding match :q and k = 2"
                    " and rowid in (:a, :b, :c)", q=json.dumps(embed(q)), a="4", b="9", c="30")
    assert [r["rowid"] for r in rows] == [i for i, _ in oracle(q, 2, lambda i: i in (4, 9, 30))]


def test_point_lookup_params_arrive_as_text(get):
    """?id=3 reaches SQLite as the text '3'; rowid = '3' must still find row 3."""
    rows = sql_json(get, "select rowid, title from items where rowid = :id", id="3")
    assert rows == [{"rowid": 3, "title": TEXTS[2]}]
    rows = sql_json(get, "select vec_to_json(embedding) as e from items where rowid = :id", id="5")
    assert len(rows) == 1 and json.loads(rows[0]["e"]) == pytest.approx(embed(TEXTS[4]), abs=1e-6)
