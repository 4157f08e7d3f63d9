"""The installed `vecsql` package: loading into sqlite3 and apsw, the serialize helpers, numpy
arrays as parameters, and a vec0 workflow (bulk insert, filtered KNN, ANN when available)."""
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys

import pytest

import vecsql

np = pytest.importorskip("numpy")

REPO = pathlib.Path(__file__).resolve().parents[2]


def hnsw_available() -> bool:
    """Whether this build has the HNSW index: `indexed by hnsw()` accepted and reported by
    vec_index_status()."""
    conn = sqlite3.connect(":memory:")
    try:
        vecsql.load(conn, numpy_adapter=False)
        conn.execute("create virtual table t using vec0(e float[4] indexed by hnsw())")
        return "hnsw" in conn.execute("select vec_index_status('t')").fetchone()[0]
    except sqlite3.Error:
        return False
    finally:
        conn.close()


requires_hnsw = pytest.mark.skipif(
    not hnsw_available(),
    reason="this build has no HNSW index yet (`indexed by hnsw()` rejected or "
    "vec_index_status() missing); the test runs once the index lands",
)


def unit_vectors(n: int, dims: int, seed: int = 7) -> "np.ndarray":
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# --- loading ------------------------------------------------------------------------------


def test_loadable_path_is_the_shipped_library():
    path = vecsql.loadable_path()
    assert os.path.isfile(path)
    assert os.path.dirname(path) == os.path.dirname(vecsql.__file__)
    assert os.path.basename(path).startswith(("libvecsql.", "vecsql."))


def test_load_into_sqlite3(conn):
    assert conn.execute("select vec_version()").fetchone() == ("v0.1.9",)
    assert conn.execute("select vecsql_version()").fetchone()[0].startswith("v")
    # Extension loading is switched off again after load().
    with pytest.raises(sqlite3.OperationalError):
        conn.load_extension(vecsql.loadable_path())


def test_load_into_apsw():
    apsw = pytest.importorskip("apsw")
    conn = apsw.Connection(":memory:")
    vecsql.load(conn)
    assert conn.execute("select vec_version()").fetchall() == [("v0.1.9",)]
    # apsw binds C-contiguous float32 arrays as blobs by itself.
    v = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert conn.execute("select vec_to_json(?)", (v,)).fetchall() == [
        ("[1.000000,2.000000,3.000000]",)
    ]
    # float16 arrays need the helper with apsw (there is no adapter hook for buffers).
    h = np.array([0.5, 1.5], dtype=np.float16)
    assert conn.execute(
        "select vec_to_json(?)", (vecsql.serialize_float32(h),)
    ).fetchall() == [("[0.500000,1.500000]",)]


def test_the_sqlite3_shell_loads_the_shipped_file(tmp_path):
    shell = shutil.which("sqlite3")
    if shell is None:
        pytest.skip("no sqlite3 shell")
    out = subprocess.run(
        [shell, ":memory:", f".load {vecsql.loadable_path()}", "select vec_length('[1,2,3]')"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "3"


def test_load_refuses_what_is_not_a_connection():
    with pytest.raises(TypeError, match="sqlite3 or apsw connection"):
        vecsql.load(object())


def test_load_explains_a_sqlite3_without_extension_loading():
    class Connection:  # what sqlite3.Connection looks like when built without it
        pass

    Connection.__module__ = "sqlite3"
    with pytest.raises(RuntimeError, match="without extension loading"):
        vecsql.load(Connection())


# --- helpers --------------------------------------------------------------------------------


def test_serialize_float32_matches_vec_f32(conn):
    blob = vecsql.serialize_float32([1, 2.5, -3])
    assert blob == conn.execute("select vec_f32('[1, 2.5, -3]')").fetchone()[0]
    assert vecsql.serialize_float32(np.array([1, 2.5, -3], dtype=np.float64)) == blob
    assert vecsql.serialize_float32((x for x in [1, 2.5, -3])) == blob
    assert vecsql.deserialize_float32(blob) == [1.0, 2.5, -3.0]


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ([], ValueError, "empty"),
        ([1.0, float("nan")], ValueError, "element 1"),
        ([1.0, 1e39], ValueError, "float32"),
        ([1.0, "2"], TypeError, "element 1 is not a number"),
        ([[1.0], [2.0]], TypeError, "element 0"),
        ("[1, 2]", TypeError, "sequence of numbers"),
        (3.0, TypeError, "sequence of numbers"),
        (np.zeros((2, 2), dtype=np.float32), ValueError, "1-D"),
        (np.array([1.0, np.inf]), ValueError, "element 1"),
        (np.array(["a"]), TypeError, "dtype"),
    ],
)
def test_serialize_float32_rejects_bad_input(bad, error, message):
    with pytest.raises(error, match=message):
        vecsql.serialize_float32(bad)


def test_serialize_int8(conn):
    blob = vecsql.serialize_int8([1, -2, 127, -128])
    assert conn.execute("select vec_to_json(vec_int8(?))", (blob,)).fetchone() == (
        "[1,-2,127,-128]",
    )
    assert vecsql.serialize_int8(np.array([1, -2, 127, -128], dtype=np.int64)) == blob
    with pytest.raises(ValueError, match="outside -128..127"):
        vecsql.serialize_int8([1, 128])
    with pytest.raises(ValueError, match="outside -128..127"):
        vecsql.serialize_int8(np.array([-129, 0]))
    with pytest.raises(TypeError, match="not an integer"):
        vecsql.serialize_int8([1, 0.5])
    with pytest.raises(TypeError, match="integers"):
        vecsql.serialize_int8(np.array([0.5], dtype=np.float32))
    with pytest.raises(ValueError, match="multiple|4 bytes"):
        vecsql.deserialize_float32(b"abc")


# --- numpy arrays as parameters -------------------------------------------------------------


def test_numpy_arrays_as_parameters(conn):
    f32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    f16 = f32.astype(np.float16)
    i8 = np.array([1, -2, 3], dtype=np.int8)
    as_json = "select vec_to_json(?)"
    assert conn.execute(as_json, (f32,)).fetchone() == ("[0.500000,-1.000000,2.000000]",)
    # float16 is widened to float32, not bound as raw half-precision bytes.
    assert conn.execute(as_json, (f16,)).fetchone() == ("[0.500000,-1.000000,2.000000]",)
    assert conn.execute("select vec_to_json(vec_int8(?))", (i8,)).fetchone() == ("[1,-2,3]",)
    # Non-contiguous views are fine.
    strided = np.arange(6, dtype=np.float32)[::2]
    assert conn.execute(as_json, (strided,)).fetchone() == ("[0.000000,2.000000,4.000000]",)
    assert conn.execute(
        "select vec_distance_cosine(?, ?)", (f32, f16)
    ).fetchone()[0] == pytest.approx(0.0, abs=1e-6)


def test_float64_arrays_and_plain_lists_are_float32_vectors(conn):
    as_json = "select vec_to_json(?)"
    # numpy's default float dtype is narrowed to float32, as JSON text would be.
    assert conn.execute(as_json, (np.array([0.5, -1.0, 2.0]),)).fetchone() == (
        "[0.500000,-1.000000,2.000000]",
    )
    assert conn.execute(as_json, ([0.5, -1, 2],)).fetchone() == (
        "[0.500000,-1.000000,2.000000]",
    )
    conn.execute("create virtual table t using vec0(e float[3])")
    conn.executemany(
        "insert into t(rowid, e) values (?, ?)", [(1, [1.0, 0.0, 0.0]), (2, np.array([0.0, 1, 0]))]
    )
    assert conn.execute(
        "select rowid from t where e match ? and k = 1", ([0.1, 0.9, 0.0],)
    ).fetchall() == [(2,)]
    with pytest.raises(ValueError, match="not a finite float32"):
        conn.execute(as_json, (np.array([1.0, 1e300]),))
    with pytest.raises(ValueError, match="not a finite float32"):
        conn.execute(as_json, ([1.0, float("nan")],))
    with pytest.raises(TypeError, match="element 1 is not a number"):
        conn.execute(as_json, ([1.0, "x"],))
    with pytest.raises(ValueError, match="empty"):
        conn.execute(as_json, ([],))


def test_lists_without_the_adapter_are_sqlite3s_error():
    # sqlite3's adapters are process-wide: drop the one other tests registered, then restore.
    c = sqlite3.connect(":memory:")
    adapters = dict(sqlite3.adapters)
    sqlite3.adapters.pop((list, sqlite3.PrepareProtocol), None)
    try:
        vecsql.load(c, list_adapter=False)
        with pytest.raises(sqlite3.ProgrammingError):
            c.execute("select vec_length(?)", ([1.0, 2.0],))
    finally:
        sqlite3.adapters.clear()
        sqlite3.adapters.update(adapters)
        c.close()


def test_numpy_arrays_of_other_shapes_and_dtypes_are_errors(conn):
    # Integer arrays other than int8 could mean int8, bit or float vectors: refused.
    with pytest.raises(TypeError, match="dtype int64"):
        conn.execute("select vec_length(?)", (np.array([1, 2], dtype=np.int64),))
    with pytest.raises(TypeError, match="dtype uint8"):
        conn.execute("select vec_length(?)", (np.array([1, 2], dtype=np.uint8),))
    with pytest.raises(ValueError, match=r"1-D array, got shape \(2, 2\)"):
        conn.execute("select vec_length(?)", (np.zeros((2, 2), dtype=np.float32),))


# --- vec0 -----------------------------------------------------------------------------------


def make_docs(conn, vectors, index=""):
    conn.execute(
        "create virtual table docs using vec0(id integer primary key, "
        f"embedding float[{vectors.shape[1]}] distance_metric=cosine{index}, "
        "category text, +title text)"
    )
    categories = np.array(["a", "b", "c"])[np.arange(len(vectors)) % 3]
    conn.executemany(
        "insert into docs(id, embedding, category, title) values (?, ?, ?, ?)",
        ((i, v, str(c), f"doc {i}") for i, (v, c) in enumerate(zip(vectors, categories))),
    )
    conn.commit()
    return categories


def exact_cosine(vectors, query, candidates, k):
    scores = 1 - vectors[candidates] @ query / np.linalg.norm(query)
    return [int(candidates[i]) for i in np.argsort(scores, kind="stable")[:k]]


def test_vec0_bulk_insert_and_filtered_knn(conn):
    vectors = unit_vectors(1500, 64)
    categories = make_docs(conn, vectors)
    assert conn.execute("select count(*) from docs").fetchone() == (1500,)
    query = unit_vectors(1, 64, seed=99)[0]
    rows = conn.execute(
        "select id, distance, category, title from docs "
        "where embedding match ? and k = 10 and category = 'b' order by distance",
        (query,),
    ).fetchall()
    assert [r[2] for r in rows] == ["b"] * 10
    assert [r[3] for r in rows] == [f"doc {r[0]}" for r in rows]
    expected = exact_cosine(vectors, query, np.flatnonzero(categories == "b"), 10)
    assert [r[0] for r in rows] == expected
    distances = [r[1] for r in rows]
    assert distances == sorted(distances)
    # The same query as float16 finds the neighbours of its float16 rounding.
    q16 = query.astype(np.float16)
    rows16 = conn.execute(
        "select id from docs where embedding match ? and k = 10 and category = 'b'", (q16,)
    ).fetchall()
    assert [r[0] for r in rows16] == exact_cosine(
        vectors, q16.astype(np.float32), np.flatnonzero(categories == "b"), 10
    )


def test_vec0_int8_column_takes_int8_arrays(conn):
    conn.execute("create virtual table q using vec0(e int8[4])")
    data = np.array([[1, 2, 3, 4], [-5, 6, -7, 8], [100, 100, 100, 100]], dtype=np.int8)
    conn.executemany("insert into q(rowid, e) values (?, ?)", enumerate(data))
    rows = conn.execute(
        "select rowid from q where e match vec_int8(?) and k = 1", (data[1],)
    ).fetchall()
    assert rows == [(1,)]


def test_vec0_dimension_mismatch_is_a_clear_error(conn):
    conn.execute("create virtual table d using vec0(e float[4])")
    with pytest.raises(sqlite3.OperationalError, match="Expected 4 dimensions but received 3"):
        conn.execute("insert into d(e) values (?)", (np.ones(3, dtype=np.float32),))


@requires_hnsw
def test_ann_index_recall_and_status(conn):
    vectors = unit_vectors(3000, 32)
    make_docs(conn, vectors, index=" indexed by hnsw()")
    queries = unit_vectors(30, 32, seed=5)
    found = 0
    for q in queries:
        got = {
            r[0]
            for r in conn.execute(
                "select id from docs where embedding match ? and k = 10", (q,)
            ).fetchall()
        }
        found += len(got & set(exact_cosine(vectors, q, np.arange(len(vectors)), 10)))
    assert found / (10 * len(queries)) >= 0.9
    status = conn.execute("select vec_index_status('docs')").fetchone()[0]
    assert "hnsw" in status and "3000" in status


# --- the example ----------------------------------------------------------------------------


def test_the_python_example_runs(tmp_path):
    script = REPO / "examples" / "semantic_search.py"
    out = subprocess.run(
        [sys.executable, str(script), "web framework", "-k", "3", "--db", str(tmp_path / "d.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "web framework" in out.stdout.lower()
    assert "3 neighbours" in out.stdout


def readme_python_example():
    """The README's Python example (the first python block of its "## Python" section) and
    the output printed under it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    output = section.split("```text\n", 1)[1].split("```", 1)[0]
    install = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return install, code, output


def test_the_readme_python_example_runs_as_written():
    install, code, output = readme_python_example()
    # The install line brings numpy, which the example imports.
    assert "[numpy]" in install.split("#")[0]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == output
