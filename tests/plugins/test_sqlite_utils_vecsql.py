"""sqlite-utils-vecsql (plugins/sqlite-utils-vecsql): vecsql in every sqlite-utils
connection, through the Python API (in process) and the CLI (a subprocess running the
installed `sqlite-utils` with every installed plugin), against numpy brute force."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import sqlite_utils
from conftest import brute_force, require_vecsql_package, swap_plugins
from sqlite_utils.plugins import ensure_plugins_loaded, pm

RNG = np.random.default_rng(7)
VECTORS = RNG.standard_normal((30, 8)).astype(np.float32)
QUERY = RNG.standard_normal(8).astype(np.float32)
SQLITE_UTILS = pathlib.Path(sys.executable).with_name("sqlite-utils")


@pytest.fixture(scope="module")
def plugin():
    require_vecsql_package()
    ensure_plugins_loaded()
    undo = swap_plugins(pm, "sqlite_utils_vecsql")
    yield
    undo()


def top(k, metric="l2"):
    d = brute_force(QUERY, VECTORS, metric)
    order = np.argsort(d, kind="stable")[:k]
    return [i + 1 for i in order], [float(d[i]) for i in order]


@pytest.fixture
def dbpath(plugin, tmp_path):
    path = tmp_path / "su.db"
    db = sqlite_utils.Database(str(path))
    db.execute("create virtual table items using vec0(embedding float[8], tag text, +body text)")
    db["items"].insert_all({"rowid": i + 1, "embedding": v.tobytes(), "tag": "ab"[i % 2],
                            "body": f"row {i + 1}"} for i, v in enumerate(VECTORS))
    db.conn.commit()
    db.close()
    return path


def test_python_api(dbpath):
    db = sqlite_utils.Database(str(dbpath))
    names = {r[0] for r in db.execute("select name from pragma_function_list")}
    assert {"vecsql_version", "vec_distance_l2", "vector_distance_cos"} <= names
    assert db["items"].count == 30 and db["items"].get(3)["body"] == "row 3"
    rows = list(db.query("select rowid, distance from items where embedding match :q and k = 5",
                         {"q": QUERY.tobytes()}))
    ids, dists = top(5)
    assert [r["rowid"] for r in rows] == ids
    assert [r["distance"] for r in rows] == pytest.approx(dists, rel=1e-5)
    # metadata filter, JSON query vector, and a vec_* function on a plain query
    rows = list(db.query("select rowid from items where embedding match :q and k = 3 and tag = 'b'",
                         {"q": json.dumps(QUERY.tolist())}))
    d = brute_force(QUERY, VECTORS)
    want = [i + 1 for i in np.argsort(d, kind="stable") if (i % 2) == 1][:3]
    assert [r["rowid"] for r in rows] == want
    n = db.execute("select vec_length(embedding) from items where rowid = 1").fetchone()[0]
    assert n == 8
    # a new vec0 table through the API
    db.execute("create virtual table more using vec0(e float[2] distance_metric=cosine)")
    db["more"].insert_all([{"rowid": 1, "e": "[1, 0]"}, {"rowid": 2, "e": "[0, 1]"}])
    assert [r["rowid"] for r in db.query(
        "select rowid from more where e match '[0.9, 0.1]' and k = 2")] == [1, 2]
    db.close()


def cli(*args):
    if not SQLITE_UTILS.exists():
        pytest.fail(f"{SQLITE_UTILS} missing: run scripts/setup.sh")
    r = subprocess.run([str(SQLITE_UTILS), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_cli_lists_plugin():
    names = {p["name"] for p in json.loads(cli("plugins"))}
    assert "sqlite-utils-vecsql" in names, f"plugin not installed ({names}): run scripts/setup.sh"


def test_cli_queries(dbpath):
    path = str(dbpath)
    # every installed plugin runs (sqlite-utils-sqlite-vec too); vecsql's hook runs last
    got = json.loads(cli("query", path, "select vecsql_version() is not null as v"))
    assert got == [{"v": 1}]
    got = json.loads(cli("query", path,
                         "select rowid, distance from items where embedding match :q and k = 4",
                         "-p", "q", json.dumps(QUERY.tolist())))
    ids, dists = top(4)
    assert [r["rowid"] for r in got] == ids
    assert [r["distance"] for r in got] == pytest.approx(dists, rel=1e-5)
    # -p values are text: rowid = '7'
    got = json.loads(cli("rows", path, "items", "--where", "rowid = :r", "-p", "r", "7",
                         "-c", "rowid", "-c", "body"))
    assert got == [{"rowid": 7, "body": "row 7"}]
    assert "items" in cli("tables", path)
