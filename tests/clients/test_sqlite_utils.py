"""sqlite-utils + sqlite-utils-sqlite-vec, on vecsql and on sqlite-vec 0.1.9.

Python API: `sqlite_utils.Database(path)` runs the plugin's prepare_connection hook, which
calls `sqlite_vec.load(conn)` (patched by `use_lib`). CLI: a subprocess running sqlite-utils'
own entry point (`sqlite_utils.cli:cli`, what the `sqlite-utils` script runs), once with the
plugin active (made to load the library under test by `_swap`, VECSQL_CLIENT_LIB) plus
`--load-extension`, and once with plugins off and only `--load-extension=<library>`, the
way to use vecsql from the CLI without a plugin. CLI `-p` values are bound as text.
"""
import json
import subprocess
import sys

import pytest
import sqlite_utils
from conftest import QUERIES, assert_distances, assert_loaded, corpus, embed, f32, knn

TEXTS = corpus(30, seed=31)


def tag(i):
    return "a" if i % 3 else "b"


@pytest.fixture
def db(use_lib, tmp_path):
    d = sqlite_utils.Database(str(tmp_path / "su.db"))
    assert_loaded(d.conn, use_lib)
    d.execute("create virtual table items using vec0(embedding float[64], tag text, +body text)")
    d["docs"].insert_all(({"id": i, "body": t} for i, t in enumerate(TEXTS, 1)), pk="id")
    # sqlite-utils' own insert into the vec0 table (explicit rowid)
    d["items"].insert_all(
        {"rowid": i, "embedding": f32(embed(t)), "tag": tag(i), "body": t}
        for i, t in enumerate(TEXTS, 1))
    d.conn.commit()
    yield d
    d.close()


def oracle(q, k, ids=None):
    ids = ids if ids is not None else list(range(1, len(TEXTS) + 1))
    return knn(embed(q), [embed(TEXTS[i - 1]) for i in ids], k, ids=ids)


def test_table_api(db):
    t = db["items"]
    assert t.exists() and t.count == len(TEXTS)
    assert "embedding" in t.columns_dict and t.pks == ["rowid"]
    assert t.get(4)["body"] == TEXTS[3]
    assert [r["rowid"] for r in t.rows_where("tag = ?", ["b"], select="rowid")] == [
        i for i in range(1, len(TEXTS) + 1) if tag(i) == "b"]
    t.update(5, {"tag": "z"})
    assert t.get(5)["tag"] == "z"
    t.delete(6)
    assert t.count == len(TEXTS) - 1
    with pytest.raises(sqlite_utils.db.NotFoundError):
        t.get(6)


def test_get_with_text_pk(db):
    """Primary keys that come from user input (URLs, CLI, forms) are often text."""
    assert db["items"].get("4")["body"] == TEXTS[3]


@pytest.mark.parametrize("k", [1, 4])
def test_knn_query(db, k):
    for q in QUERIES:
        rows = list(db.query("select rowid, distance from items where embedding match :q and k = :k",
                             {"q": f32(embed(q)), "k": k}))
        want = oracle(q, k)
        assert [r["rowid"] for r in rows] == [i for i, _ in want], q
        assert_distances([r["distance"] for r in rows], [d for _, d in want], q)


@pytest.mark.parametrize("join", ["docs d join items v on v.rowid = d.id",
                                  "docs d cross join items v on v.rowid = d.id",
                                  "items v join docs d on d.id = v.rowid"])
def test_knn_join(db, join):
    sql = (f"select d.id, d.body, v.distance from {join} where v.embedding match :q and k = 3"
           " order by v.distance")
    for q in QUERIES:
        rows = list(db.query(sql, {"q": json.dumps(embed(q))}))
        assert [(r["id"], r["body"]) for r in rows] == [(i, TEXTS[i - 1]) for i, _ in oracle(q, 3)], q


def test_knn_with_metadata_filter(db):
    sql = "select rowid from items where embedding match :q and k = 3 and tag = 'b'"
    ids = [i for i in range(1, len(TEXTS) + 1) if tag(i) == "b"]
    for q in QUERIES:
        assert [r["rowid"] for r in db.query(sql, {"q": f32(embed(q))})] == [
            i for i, _ in oracle(q, 3, ids)]


CLI = "import sys, _swap; sys._called_from_test = {nop}; from sqlite_utils.cli import cli; cli()"


def cli(sub_env, *args, plugins=True):
    code = CLI.format(nop=not plugins)  # sqlite-utils skips plugins when this flag is set
    r = subprocess.run([sys.executable, "-c", code, *args], env=sub_env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("plugins", [True, False], ids=["plugin", "load-extension-only"])
def test_cli(db, sub_env, lib, lib_path, plugins, tmp_path):
    path = str(tmp_path / "su.db")
    db.close()
    ext = f"--load-extension={lib_path}"
    got = cli(sub_env, "query", path, ext, plugins=plugins,
              *["select count(*) as n from pragma_function_list where name = 'vecsql_version'"])
    assert got == [{"n": 1 if lib == "vecsql" else 0}]
    q = QUERIES[2]
    want = [i for i, _ in oracle(q, 3)]
    got = cli(sub_env, "query", path, ext,
              "select rowid, distance from items where embedding match :q and k = 3",
              "-p", "q", json.dumps(embed(q)), plugins=plugins)
    assert [r["rowid"] for r in got] == want
    got = cli(sub_env, "query", path, ext,
              "select d.id from docs d join items v on v.rowid = d.id"
              " where v.embedding match :q and k = 3 order by v.distance",
              "-p", "q", json.dumps(embed(q)), plugins=plugins)
    assert [r["id"] for r in got] == want
    # -p values are text: rowid = '7'
    got = cli(sub_env, "rows", path, "items", ext, "--where", "rowid = :r", "-p", "r", "7",
              "-c", "rowid", "-c", "body", plugins=plugins)
    assert got == [{"rowid": 7, "body": TEXTS[6]}]


ROWID_CASES = {
    "rowid = one of the k": (" and rowid = :r", lambda top, r: {"r": top[1]}, lambda top, r: [top[1]]),
    "rowid = not one of the k": (" and rowid = :r", lambda top, r: {"r": r}, lambda top, r: []),
    "rowid > n": (" and rowid > 20", lambda top, r: {}, lambda top, r: [i for i in top if i > 20]),
}

# A deliberate difference (README, "Filters"): vecsql applies key ranges before choosing the k
# nearest, so `rowid > 20` gives the 3 nearest among rows 21 and up; sqlite-vec filters its 3.
VECSQL_ROWID_CASES = {
    "rowid > n": lambda q: [i for i, _ in oracle(q, 3, list(range(21, len(TEXTS) + 1)))],
}


@pytest.mark.parametrize("case", list(ROWID_CASES))
def test_knn_then_rowid_filter(db, use_lib, case):
    """sqlite-vec 0.1.9 semantics, which a drop-in must keep: the `k` nearest over the table,
    then a rowid `=`/`>` constraint filters those k rows afterwards (only `rowid IN (...)`
    is a KNN filter, below)."""
    where, extra, want = ROWID_CASES[case]
    q = QUERIES[0]
    top3 = [i for i, _ in oracle(q, 3)]
    outside = next(i for i in range(1, len(TEXTS) + 1) if i not in top3)
    sql = "select rowid from items where embedding match :q and k = 3" + where
    got = [r["rowid"] for r in db.query(sql, {"q": f32(embed(q)), **extra(top3, outside)})]
    if use_lib == "vecsql" and case in VECSQL_ROWID_CASES:
        assert got == VECSQL_ROWID_CASES[case](q)
        assert got != want(top3, outside), "the case no longer shows the difference"
    else:
        assert got == want(top3, outside)


@pytest.mark.parametrize("ids", ["2, 4, 6, 8, 10", "'2', '4', '6', '8', '10'"], ids=["int", "text"])
def test_knn_rowid_in_filter(db, ids):
    """`rowid IN (...)` is a KNN filter in sqlite-vec: the 3 nearest among those rows. Text
    ids (from a form or URL) are read as integers by sqlite-vec."""
    q = QUERIES[0]
    got = [r["rowid"] for r in db.query(
        f"select rowid from items where embedding match :q and k = 3 and rowid in ({ids})",
        {"q": f32(embed(q))})]
    assert got == [i for i, _ in oracle(q, 3, [2, 4, 6, 8, 10])]


def test_knn_correlated_subquery(db):
    """For each docs row, its distance if it is among the 3 nearest, else NULL."""
    q = QUERIES[0]
    top3 = {i: d for i, d in oracle(q, 3)}
    rows = list(db.query(
        "select d.id, (select distance from items v where v.embedding match :q and k = 3"
        " and v.rowid = d.id) as dist from docs d order by d.id", {"q": f32(embed(q))}))
    assert {r["id"]: r["dist"] for r in rows if r["dist"] is not None} == pytest.approx(top3)
