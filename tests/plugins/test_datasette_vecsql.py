"""datasette-vecsql (plugins/datasette-vecsql) in Datasette 0.65's in-process test client:
vecsql loaded into every connection, the "Nearest rows" panel on vec0 row pages and the
JSON route, both against numpy brute force, and vector cells rendered as summaries."""
from __future__ import annotations

import asyncio
import html
import re
import sqlite3
import urllib.parse

import numpy as np
import pytest
from conftest import nearest, require_vecsql_package, swap_plugins

from datasette.app import Datasette
from datasette.plugins import pm

RNG = np.random.default_rng(20240615)
ITEMS = RNG.standard_normal((40, 16)).astype(np.float32)
MULTI_A = RNG.standard_normal((20, 8)).astype(np.float32)
MULTI_B = RNG.standard_normal((20, 4)).astype(np.float32)
QUANT = RNG.integers(-128, 128, (20, 8), dtype=np.int64).astype(np.int8)
BITS = RNG.integers(0, 256, (20, 2), dtype=np.int64).astype(np.uint8)
NAMED = RNG.standard_normal((10, 4)).astype(np.float32)
NAMED_IDS = [f"doc-{i}" for i in range(1, 10)] + ["a/b c,d"]
CATS = ["news", "blog", "paper"]


@pytest.fixture(scope="module")
def dbfile(tmp_path_factory):
    require_vecsql_package()
    import vecsql

    path = tmp_path_factory.mktemp("dsv") / "vec.db"
    c = sqlite3.connect(path)
    vecsql.load(c)
    c.execute("create virtual table items using vec0(embedding float[16], category text,"
              " +title text)")
    c.executemany("insert into items(rowid, embedding, category, title) values (?, ?, ?, ?)",
                  [(i + 1, v.tobytes(), CATS[i % 3], f"item {i + 1}") for i, v in enumerate(ITEMS)])
    c.execute("create virtual table multi using vec0(a float[8] distance_metric=cosine,"
              " b float[4])")
    c.executemany("insert into multi(rowid, a, b) values (?, ?, ?)",
                  [(i + 1, a.tobytes(), b.tobytes()) for i, (a, b) in enumerate(zip(MULTI_A, MULTI_B))])
    c.execute("create virtual table quant using vec0(q int8[8], b bit[16])")
    c.executemany("insert into quant(rowid, q, b) values (?, vec_int8(?), vec_bit(?))",
                  [(i + 1, q.tobytes(), b.tobytes()) for i, (q, b) in enumerate(zip(QUANT, BITS))])
    c.execute("create virtual table named using vec0(id text primary key, e float[4])")
    c.executemany("insert into named(id, e) values (?, ?)",
                  [(pk, v.tobytes()) for pk, v in zip(NAMED_IDS, NAMED)])
    c.execute("create table lib(id integer primary key, v F32_BLOB(4), w FLOAT64(2), raw blob,"
              " note text)")
    c.execute("insert into lib values (1, vector32('[0.5, -1.25, 2, 3]'), vector64('[1.5, 2]'),"
              " x'00010203', 'plain')")
    c.commit()
    c.close()
    return path


@pytest.fixture(scope="module")
def plugin():
    undo = swap_plugins(pm, "datasette_vecsql")
    yield
    undo()


def client(dbfile, **kwargs):
    ds = Datasette(files=[str(dbfile)], **kwargs)

    def get(path, status=200):
        async def go():
            return await ds.client.get(path)

        r = asyncio.run(go())
        assert r.status_code == status, f"{path}: HTTP {r.status_code}: {r.text[:500]}"
        return r

    return get


@pytest.fixture(scope="module")
def get(plugin, dbfile):
    return client(dbfile)


def sql(get, query, **params):
    qs = urllib.parse.urlencode({"sql": query, "_shape": "array", **params})
    return get(f"/vec.json?{qs}").json()


def panel(page: str):
    """The neighbours listed in a row page's panel: [(pk text, url, label, distance)]."""
    m = re.search(r'<section class="vecsql-neighbours".*?</section>', page, re.S)
    assert m, "no Nearest rows panel on the page"
    rows = re.findall(r'<tr><td>\d+</td><td><a href="([^"]+)">([^<]*)</a></td>'
                      r'(?:<td>([^<]*)</td>)?<td class="vecsql-distance">([^<]+)</td></tr>',
                      m.group(0))
    return [(html.unescape(pk), html.unescape(url), html.unescape(label), float(d))
            for url, pk, label, d in rows]


def assert_neighbours(got_ids, got_dists, want, what):
    assert list(got_ids) == [i for i, _ in want], what
    assert np.allclose(got_dists, [d for _, d in want], rtol=1e-4, atol=1e-5), what


def test_vecsql_loaded_in_every_connection(get):
    names = {p["name"] for p in get("/-/plugins.json").json()}
    assert names & {"datasette-vecsql", "datasette_vecsql"}, names
    rows = sql(get, "select vecsql_version() as v, vec_length(vec_f32('[1,2,3]')) as n")
    assert rows[0]["v"] and rows[0]["n"] == 3
    # sqlite-vec's plugin is set aside here: vecsql is the only vector library
    assert sql(get, "select count(*) as n from pragma_function_list where name = 'vecsql_version'") == [{"n": 1}]


def test_table_page_renders_vectors(get):
    page = get("/vec/items").text
    assert "40 rows" in page
    assert page.count('class="vecsql-vector"') == 40
    first = ", ".join(f"{x:.4g}" for x in ITEMS[0][:4])
    assert f'<span class="vecsql-type">float32[16]</span> <span class="vecsql-values">[{first}, …]</span>' in page
    assert "&lt;Binary" not in page
    # the JSON API keeps the data as data (blobs stay base64, as Datasette makes them)
    rows = get("/vec/items.json?_shape=array&_size=3").json()
    assert [r["title"] for r in rows] == ["item 1", "item 2", "item 3"]


@pytest.mark.parametrize("rowid", [1, 17, 40])
def test_row_page_panel_is_brute_force(get, rowid):
    page = get(f"/vec/items/{rowid}").text
    assert "Nearest rows" in page and "l2 distance" in page
    got = panel(page)
    want = nearest(rowid - 1, ITEMS, 10)
    assert_neighbours([int(pk) for pk, *_ in got], [d for *_, d in got], want, f"row {rowid}")
    assert [url for _, url, _, _ in got] == [f"/vec/items/{i}" for i, _ in want]
    assert [label for _, _, label, _ in got] == [f"item {i}" for i, _ in want]  # +title
    # the links lead to the rows
    assert "item {}".format(want[0][0]) in get(got[0][1]).text


def test_row_page_k_and_column(get):
    got = panel(get("/vec/items/5?_vecsql_k=3").text)
    assert [int(pk) for pk, *_ in got] == [i for i, _ in nearest(4, ITEMS, 3)]
    page = get("/vec/multi/7").text
    assert "cosine distance" in page and "by b</a>" in page
    got = panel(page)
    assert_neighbours([int(p) for p, *_ in got], [d for *_, d in got],
                      nearest(6, MULTI_A, 10, "cosine"), "multi.a cosine")
    got = panel(get("/vec/multi/7?_vecsql_column=b").text)
    assert_neighbours([int(p) for p, *_ in got], [d for *_, d in got],
                      nearest(6, MULTI_B, 10), "multi.b l2")


def test_row_page_of_ordinary_table_has_no_panel(get):
    page = get("/vec/lib/1").text
    assert "vecsql-neighbours" not in page and "Nearest rows" not in page


def test_json_route(get):
    data = get("/-/vecsql/neighbours/vec/items/12.json?k=5").json()
    assert data["ok"] and data["table"] == "items" and data["column"] == "embedding"
    assert (data["metric"], data["element_type"], data["dimensions"], data["k"]) == ("l2", "float32", 16, 5)
    assert data["row"] == 12 and data["primary_key"] == "rowid" and data["label_column"] == "title"
    want = nearest(11, ITEMS, 5)
    assert_neighbours([n["pk"] for n in data["neighbours"]], [n["distance"] for n in data["neighbours"]],
                      want, "json")
    assert [n["label"] for n in data["neighbours"]] == [f"item {i}" for i, _ in want]
    assert data["neighbours"][0]["url"] == f"http://localhost/vec/items/{want[0][0]}"
    # default k and the other column
    assert len(get("/-/vecsql/neighbours/vec/items/12.json").json()["neighbours"]) == 10
    data = get("/-/vecsql/neighbours/vec/multi/3.json?column=b&k=4").json()
    assert data["metric"] == "l2"
    assert [n["pk"] for n in data["neighbours"]] == [i for i, _ in nearest(2, MULTI_B, 4)]
    # the panel links to the same data
    assert 'href="/-/vecsql/neighbours/vec/items/12.json"' in get("/vec/items/12").text


def test_json_route_errors(get):
    assert get("/-/vecsql/neighbours/vec/items/999.json", status=404).json()["ok"] is False
    assert "not a vec0 table" in get("/-/vecsql/neighbours/vec/lib/1.json", status=400).json()["error"]
    assert "k must be" in get("/-/vecsql/neighbours/vec/items/1.json?k=0", status=400).json()["error"]
    assert "no vector column" in get("/-/vecsql/neighbours/vec/items/1.json?column=title",
                                     status=400).json()["error"]
    get("/-/vecsql/neighbours/vec/nosuch/1.json", status=404)
    get("/-/vecsql/neighbours/nosuchdb/items/1.json", status=404)


def test_json_route_checks_permissions(plugin, dbfile):
    get = client(dbfile, metadata={"databases": {"vec": {"tables": {"items": {"allow": {"id": "root"}}}}}})
    get("/vec/items/1", status=403)
    get("/-/vecsql/neighbours/vec/items/1.json", status=403)


def test_text_primary_key(get):
    """A vec0 table with a text primary key: row URLs and neighbours use it (tilde-encoded)."""
    page = get("/vec/named/doc-3").text
    got = panel(page)
    want = nearest(2, NAMED, 9, ids=NAMED_IDS)
    assert_neighbours([pk for pk, *_ in got], [d for *_, d in got], want, "named")
    weird = next(url for pk, url, _, _ in got if pk == "a/b c,d")
    assert weird == "/vec/named/a~2Fb+c~2Cd"  # Datasette's tilde encoding
    assert "doc-3" in get(weird).text
    data = get("/-/vecsql/neighbours/vec/named/a~2Fb+c~2Cd.json?k=3").json()
    assert data["row"] == "a/b c,d"
    assert [n["pk"] for n in data["neighbours"]] == [i for i, _ in nearest(9, NAMED, 3, ids=NAMED_IDS)]


def test_int8_and_bit_columns(get):
    page = get("/vec/quant").text
    q0 = ", ".join(str(x) for x in QUANT[0][:4])
    assert f"int8[8]</span> <span class=\"vecsql-values\">[{q0}, …]" in page
    bits0 = "".join(f"{b:08b}"[::-1] for b in BITS[0])[:8]
    assert f"bit[16]</span> <span class=\"vecsql-values\">[{bits0}…]" in page
    # neighbours by int8 (l2) and by bit (hamming)
    data = get("/-/vecsql/neighbours/vec/quant/4.json?k=5").json()
    d = np.sqrt(((QUANT.astype(np.float64) - QUANT[3].astype(np.float64)) ** 2).sum(axis=1))
    assert [n["distance"] for n in data["neighbours"]] == pytest.approx(sorted(np.delete(d, 3))[:5], rel=1e-5)
    data = get("/-/vecsql/neighbours/vec/quant/4.json?k=19&column=b").json()
    assert data["metric"] == "hamming"
    ham = np.unpackbits(BITS ^ BITS[3], axis=1).sum(axis=1)
    got = {n["pk"]: n["distance"] for n in data["neighbours"]}
    assert got == {i + 1: float(ham[i]) for i in range(20) if i != 3}


def test_libsql_columns_of_ordinary_tables(get):
    page = get("/vec/lib").text
    assert '<span class="vecsql-type">float32[4]</span> <span class="vecsql-values">[0.5, -1.25, 2, 3]</span>' in page
    assert '<span class="vecsql-type">float64[2]</span> <span class="vecsql-values">[1.5, 2]</span>' in page
    # an ordinary BLOB column keeps Datasette's own rendering
    assert "&lt;Binary:&nbsp;4&nbsp;bytes&gt;" in page
    page = get("/vec/lib/1").text
    assert "float32[4]" in page and "vecsql-neighbours" not in page
