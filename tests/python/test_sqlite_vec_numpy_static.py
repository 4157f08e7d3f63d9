"""sqlite-vec's numpy and static-blob entry points (`sqlite3_vec_numpy_init`,
`sqlite3_vec_static_blobs_init`), run against vecsql and against sqlite-vec 0.1.9: the same
statements must give the same rows, or errors with the same message."""
from __future__ import annotations

import io
import os
import sqlite3

import pathlib

import pytest

np = pytest.importorskip("numpy")
sqlite_vec = pytest.importorskip("sqlite_vec")

# As conftest.extension_path(); not imported from it, since python/tests has a conftest too.
VECSQL = os.environ.get(
    "VECSQL_EXT",
    str(pathlib.Path(__file__).resolve().parents[2] / "target" / "release" / "libvecsql"),
)
if not os.path.exists(VECSQL + ".so"):
    pytest.skip("vecsql extension not built", allow_module_level=True)
SQLITE_VEC = sqlite_vec.loadable_path()


def connect(path, entrypoint):
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(path)
    db.execute("select load_extension(?, ?)", [path, entrypoint])
    db.enable_load_extension(False)
    return db


def both(entrypoint):
    return {"sqlite-vec": connect(SQLITE_VEC, entrypoint), "vecsql": connect(VECSQL, entrypoint)}


def outcome(db, sql, params=()):
    try:
        return ("rows", db.execute(sql, params).fetchall())
    except sqlite3.Error as e:
        return ("error", str(e))


def same(dbs, sql, params=()):
    results = {name: outcome(db, sql, params) for name, db in dbs.items()}
    if results["sqlite-vec"] == ("error", "SQL logic error"):
        # sqlite-vec fails without a message here; vecsql says why.
        assert results["vecsql"][0] == "error", sql
        return results["vecsql"]
    assert results["vecsql"] == results["sqlite-vec"], sql
    return results["vecsql"]


def to_npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


GOOD = to_npy(np.array([[1.1, 2.2, 3.3, 4.4], [9.9, 8.8, 7.7, 6.6]], dtype=np.float32))
HEADER_END = GOOD.index(b"\n") + 1

NPY_INPUTS = {
    "2d": GOOD,
    "1d": to_npy(np.array([1.5, 2.5], dtype=np.float32)),
    "empty": to_npy(np.array([], dtype=np.float32)),
    "many": to_npy(np.arange(3000 * 3, dtype=np.float32).reshape(3000, 3)),
    "too-short": b"\x93NUMPY",
    "empty-blob": b"",
    "bad-magic": b"\x93NUMPX" + GOOD[6:],
    "header-too-long": GOOD[:10],
    "truncated-data": GOOD[:-1],
    "extra-data": GOOD + b"\x00\x00\x00\x00",
    "f8": to_npy(np.array([[1.0, 2.0]], dtype=np.float64)),
    "i8": to_npy(np.array([[1, 2]], dtype=np.int8)),
    "fortran": GOOD.replace(b"False", b"True "),
    "3d": to_npy(np.zeros((2, 2, 2), dtype=np.float32)),
    "no-brace": GOOD[:10] + b"(" + GOOD[11:],
    "unknown-key": GOOD.replace(b"'descr'", b"'dexxx'"),
    "no-comma": GOOD.replace(b"'<f4',", b"'<f4' "),
    "shape-not-tuple": GOOD.replace(b"(2, 4)", b" 2, 4 "),
}


@pytest.mark.parametrize("name", sorted(NPY_INPUTS))
def test_vec_npy_each_blob(name):
    dbs = both("sqlite3_vec_numpy_init")
    same(dbs, "select rowid, vector from vec_npy_each(?)", [NPY_INPUTS[name]])


@pytest.mark.parametrize("name", sorted(NPY_INPUTS))
def test_vec_npy_each_file(name, tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(NPY_INPUTS[name])
    dbs = both("sqlite3_vec_numpy_init")
    same(dbs, "select rowid, vector from vec_npy_each(vec_npy_file(?))", [str(path)])


@pytest.mark.parametrize(
    "sql",
    [
        "select * from vec_npy_each(vec_npy_file('/nonexistent/x.npy'))",
        "select typeof(vec_npy_file('x'))",
        "select * from vec_npy_each(null)",
        "select vec_length(vector), vec_to_json(vector) from vec_npy_each(?)",
        "select count(*), sum(vec_length(vector)) from vec_npy_each(?)",
    ],
)
def test_vec_npy_each_sql(sql):
    dbs = both("sqlite3_vec_numpy_init")
    same(dbs, sql, [GOOD] if "?" in sql else [])


def test_vec_npy_each_without_input():
    # sqlite-vec 0.1.9 reads an uninitialised flag here (and aborts in this build): vecsql only.
    db = connect(VECSQL, "sqlite3_vec_numpy_init")
    assert outcome(db, "select * from vec_npy_each") == ("error", "input argument is required")


def register(db, name, arr):
    db.execute(
        "insert into temp.vec_static_blobs(name, data) "
        "select ?, vec_static_blob_from_raw(?, ?, ?, ?)",
        [name, arr.__array_interface__["data"][0], "<f4", arr.shape[1], arr.shape[0]],
    )
    db.execute(f'create virtual table "{name}" using vec_static_blob_entries({name})')


def test_static_blobs():
    rng = np.random.default_rng(7)
    arrays = {
        "a": rng.random((200, 8), dtype=np.float32),
        "b": np.array([[0.1, 0.1], [0.2, 0.2], [0.1, 0.1], [0.3, 0.3]], dtype=np.float32),
    }
    dbs = both("sqlite3_vec_static_blobs_init")
    for db in dbs.values():
        for name, arr in arrays.items():
            register(db, name, arr)
    same(dbs, "select rowid, *, dimensions, count from vec_static_blobs")
    same(dbs, "select rowid, vector from a")
    same(dbs, "select rowid, vec_to_json(vector) from b")
    query = rng.random(8, dtype=np.float32).tobytes()
    for k in [0, 1, 5, 200, 500]:
        same(dbs, "select rowid, vector, distance from a where vector match ? and k = ? order by distance", [query, k])
        same(dbs, "select rowid from a where vector match ? order by distance limit ?", [query, k])
    # Ties: rows 0 and 2 are equal.
    same(dbs, "select rowid from b where vector match ? and k = 4 order by distance", [np.array([0.1, 0.1], dtype=np.float32).tobytes()])
    same(dbs, "select rowid from b where vector match '[0.1, 0.1]' and k = 4 order by distance desc")
    same(dbs, "select rowid from b where vector match '[0.1, 0.1]' and k = 4")
    same(dbs, "select rowid from b where vector match '[0.1, 0.1]' and k = 2 order by vector")
    # Errors sqlite-vec reports without a message (vecsql says why).
    same(dbs, "select rowid from b where vector match '[0.1, 0.1, 0.1]' and k = 1 order by distance")
    same(dbs, "select rowid from b where vector match vec_int8('[1, 1]') and k = 1 order by distance")
    same(dbs, "select rowid from b where vector match '[0.1, 0.1]' and k = -1 order by distance")
    same(dbs, "delete from vec_static_blobs")
    same(dbs, "update vec_static_blobs set name = 'x'")
