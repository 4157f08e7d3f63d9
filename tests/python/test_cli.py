"""The `vecsql` command-line tool, run as a real binary on temporary files: import from every
reader format, malformed input, search, sql, info and bench (with the HNSW index when the
build has one).

The binary is $VECSQL_CLI, else target/release/vecsql (cargo build --release -p vecsql-cli).
"""
import json
import os
import pathlib
import struct
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CLI = os.environ.get("VECSQL_CLI", str(REPO / "target" / "release" / "vecsql"))
DATA = REPO / "data"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CLI),
    reason=f"{CLI} not built (cargo build --release -p vecsql-cli)",
)


def run(*args, check=True):
    """Runs the CLI; returns the completed process (stdout/stderr as text)."""
    out = subprocess.run(
        [CLI, *map(str, args)], capture_output=True, text=True, timeout=300
    )
    if check and out.returncode != 0:
        raise AssertionError(f"vecsql {args} failed ({out.returncode}): {out.stderr}")
    return out


def sql_json(db, sql):
    """Rows of `vecsql sql --json` as dicts."""
    out = run("sql", db, sql, "--json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def hnsw_available() -> bool:
    if not os.path.exists(CLI):
        return False
    out = run(
        "sql",
        ":memory:",
        "create virtual table t using vec0(e float[4] indexed by hnsw()); "
        "select vec_index_status('t') as s",
        "--json",
        check=False,
    )
    return out.returncode == 0 and "hnsw" in out.stdout


requires_hnsw = pytest.mark.skipif(
    not hnsw_available(),
    reason="this build has no HNSW index yet (`indexed by hnsw()` rejected or "
    "vec_index_status() missing); the test runs once the index lands",
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The shipped 5,000 PyPI vectors and texts imported with the CLI."""
    db = tmp_path_factory.mktemp("cli") / "demo.db"
    out = run(
        "import", db, "packages",
        "--vectors", DATA / "pypi-5k.f16.npy",
        "--texts", DATA / "pypi-5k.txt",
        "--metric", "cosine",
    )
    assert "imported 5,000 vectors of 384 dimensions into packages" in out.stdout
    return db


# --- import -----------------------------------------------------------------------------------


def test_import_creates_the_table_with_ids_and_texts(demo_db):
    info = json.loads(run("info", demo_db, "--json").stdout)
    [table] = info["tables"]
    assert table["name"] == "packages" and table["rows"] == 5000
    columns = {c["name"]: (c["role"], c["type"]) for c in table["columns"]}
    assert columns == {
        "id": ("primary key", "integer"),
        "embedding": ("vector", "float[384] cosine"),
        "text": ("auxiliary", "text"),
    }
    texts = (DATA / "pypi-5k.txt").read_text(encoding="utf-8").splitlines()
    rows = sql_json(demo_db, "select id, text from packages where id in (0, 4999) order by id")
    assert rows == [{"id": 0, "text": texts[0]}, {"id": 4999, "text": texts[4999]}]
    # The stored vectors are the file's float16 values.
    vectors = np.load(DATA / "pypi-5k.f16.npy").astype(np.float32)
    [row] = sql_json(demo_db, "select vec_to_json(embedding) as v from packages where id = 17")
    np.testing.assert_allclose(json.loads(row["v"]), vectors[17], atol=1e-6)


SMALL = np.array(
    [[0.5, -1.0, 2.0, 0.25], [1.0, 2.0, 3.0, 4.0], [-0.125, 0.0, 8.0, -3.5]], dtype=np.float32
)


def write_formats(directory: pathlib.Path) -> dict:
    """SMALL in every format the importer reads."""
    files = {}
    np.save(directory / "v32.npy", SMALL)
    files["v32.npy"] = SMALL
    np.save(directory / "v16.npy", SMALL.astype(np.float16))
    files["v16.npy"] = SMALL
    with open(directory / "v.fvecs", "wb") as f:
        for v in SMALL:
            f.write(struct.pack("<i", len(v)) + v.astype("<f4").tobytes())
    files["v.fvecs"] = SMALL
    as_bytes = np.array([[0, 255, 7, 1], [3, 2, 1, 0], [9, 9, 9, 9]], dtype=np.uint8)
    with open(directory / "v.bvecs", "wb") as f:
        for v in as_bytes:
            f.write(struct.pack("<i", len(v)) + v.tobytes())
    files["v.bvecs"] = as_bytes.astype(np.float32)
    (directory / "v.jsonl").write_text(
        "".join(json.dumps({"vector": v.tolist()}) + "\n" for v in SMALL)
    )
    files["v.jsonl"] = SMALL
    (directory / "v.csv").write_text(
        "v0,v1,v2,v3\n" + "".join(",".join(map(str, v.tolist())) + "\n" for v in SMALL)
    )
    files["v.csv"] = SMALL
    (directory / "v.tsv").write_text("".join("\t".join(map(str, v.tolist())) + "\n" for v in SMALL))
    files["v.tsv"] = SMALL
    return files


def test_import_reads_every_format(tmp_path):
    db = tmp_path / "formats.db"
    for i, (name, expected) in enumerate(write_formats(tmp_path).items()):
        table = f"t{i}"
        out = run("import", db, table, "--vectors", tmp_path / name, "--quiet")
        assert f"imported 3 vectors of 4 dimensions into {table}" in out.stdout, name
        rows = sql_json(db, f"select id, vec_to_json(embedding) as v from {table} order by id")
        assert [r["id"] for r in rows] == [0, 1, 2], name
        np.testing.assert_allclose([json.loads(r["v"]) for r in rows], expected, err_msg=name)


def test_jsonl_and_csv_carry_ids_and_texts(tmp_path):
    db = tmp_path / "x.db"
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(
        '{"id": 10, "vector": [1, 0], "text": "ten"}\n{"id": 20, "vector": [0, 1], "text": "twenty"}\n'
    )
    run("import", db, "docs", "--vectors", jsonl)
    assert sql_json(db, "select id, text from docs order by id") == [
        {"id": 10, "text": "ten"},
        {"id": 20, "text": "twenty"},
    ]
    csv = tmp_path / "more.csv"
    csv.write_text('id,text,vector\n30,"thirty, with a comma","[1, 1]"\n')
    run("import", db, "docs", "--vectors", csv, "--append")
    assert sql_json(db, "select text from docs where id = 30") == [{"text": "thirty, with a comma"}]


def test_a_malformed_line_stops_the_import_and_keeps_committed_batches(tmp_path):
    lines = [json.dumps([float(i), 1.0]) for i in range(25)]
    lines[17] = "[17.0, oops]"  # line 18
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "x.db"
    out = run("import", db, "docs", "--vectors", path, "--batch", "5", check=False)
    assert out.returncode == 1
    assert "line 18: invalid JSON" in out.stderr
    assert "15 rows committed" in out.stderr
    # Batches 1-3 (rows 0-14) are in the table; the batch with the bad line was rolled back.
    assert sql_json(db, "select count(*) as n, max(id) as top from docs") == [{"n": 15, "top": 14}]
    assert run("sql", db, "pragma integrity_check", "--json").stdout.strip() == (
        '{"integrity_check":"ok"}'
    )


def test_malformed_csv_and_dimension_changes_report_their_line(tmp_path):
    db = tmp_path / "x.db"
    csv = tmp_path / "bad.csv"
    csv.write_text("1,2,3\n4,5,6\n7,x,9\n")
    out = run("import", db, "a", "--vectors", csv, check=False)
    assert out.returncode == 1
    assert 'line 3: field 2 is not a number: "x"' in out.stderr
    jsonl = tmp_path / "dims.jsonl"
    jsonl.write_text("[1, 2]\n[1, 2, 3]\n")
    out = run("import", db, "b", "--vectors", jsonl, check=False)
    assert "line 2: 3 dimensions, but the first vector has 2" in out.stderr
    fvecs = tmp_path / "cut.fvecs"
    fvecs.write_bytes(struct.pack("<i2f", 2, 1.0, 2.0) + struct.pack("<if", 2, 1.0))
    out = run("import", db, "c", "--vectors", fvecs, check=False)
    assert "vector 2: the file ends in the middle of this vector" in out.stderr
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([[1.0, np.nan]], dtype=np.float32))
    out = run("import", db, "d", "--vectors", nan, check=False)
    assert "vector 1: element 1 is NaN" in out.stderr


def test_import_appends_and_checks_an_existing_table(tmp_path):
    db = tmp_path / "x.db"
    path = tmp_path / "v.jsonl"
    path.write_text("[1, 0]\n[0, 1]\n")
    run("import", db, "docs", "--vectors", path)
    run("import", db, "docs", "--vectors", path, "--append")
    assert [r["id"] for r in sql_json(db, "select id from docs order by id")] == [0, 1, 2, 3]
    wrong = tmp_path / "w.jsonl"
    wrong.write_text("[1, 0, 0]\n")
    out = run("import", db, "docs", "--vectors", wrong, "--append", check=False)
    assert out.returncode == 1 and "has 2 dimensions" in out.stderr
    out = run("import", db, "docs", "--vectors", path, "--metric", "cosine", check=False)
    assert "already uses distance_metric=l2" in out.stderr
    out = run("import", db, "docs", "--vectors", path, "--append", "--first-id", "0", check=False)
    assert "UNIQUE constraint failed" in out.stderr and "line 1" in out.stderr


def test_a_texts_file_with_too_few_lines_is_an_error(tmp_path):
    db = tmp_path / "x.db"
    vectors = tmp_path / "v.jsonl"
    vectors.write_text("[1, 0]\n[0, 1]\n[1, 1]\n")
    texts = tmp_path / "t.txt"
    texts.write_text("one\ntwo\n")
    out = run("import", db, "docs", "--vectors", vectors, "--texts", texts, check=False)
    assert out.returncode == 1
    assert "vector 3 has no text" in out.stderr


# --- search -----------------------------------------------------------------------------------


def test_search_by_text_prints_a_table_of_neighbours(demo_db):
    out = run("search", demo_db, "packages", "--text", "web framework", "-k", "5").stdout
    lines = out.splitlines()
    assert lines[0].startswith("query: id ") and "web framework" in lines[0].lower()
    assert "distance" in out and "text" in out
    assert out.rstrip().endswith("ms") and "5 neighbours of 5,000 rows" in out
    assert sum("framework" in line.lower() for line in lines[1:]) >= 2


def test_search_json_by_row_leaves_the_row_out_and_sorts_by_distance(demo_db):
    out = run("search", demo_db, "packages", "--row", "42", "-k", "7", "--json").stdout
    hits = [json.loads(line) for line in out.splitlines()]
    assert len(hits) == 7
    assert 42 not in [h["id"] for h in hits]
    assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)
    assert set(hits[0]) == {"id", "distance", "text"}
    # The same neighbours from the vector itself (where row 42 comes first, at distance 0).
    [row] = sql_json(demo_db, "select vec_to_json(embedding) as v from packages where id = 42")
    out = run("search", demo_db, "packages", "--vector", row["v"], "-k", "8", "--json").stdout
    by_vector = [json.loads(line)["id"] for line in out.splitlines()]
    assert by_vector[0] == 42
    assert by_vector[1:] == [h["id"] for h in hits]


def test_search_with_a_where_filter(tmp_path):
    db = tmp_path / "f.db"
    run(
        "sql",
        db,
        "create virtual table items using vec0(embedding float[2], category text, +name text);"
        "insert into items(rowid, embedding, category, name) values "
        "(1, '[0, 0]', 'a', 'origin'), (2, '[1, 0]', 'b', 'east'), (3, '[0, 2]', 'b', 'north'),"
        "(4, '[5, 5]', 'a', 'far');",
    )
    out = run(
        "search", db, "items", "--vector", "[0, 0]", "-k", "5", "--where", "category = 'b'", "--json"
    ).stdout
    hits = [json.loads(line) for line in out.splitlines()]
    assert [(h["rowid"], h["category"], h["name"]) for h in hits] == [
        (2, "b", "east"),
        (3, "b", "north"),
    ]
    assert [h["distance"] for h in hits] == [1.0, 2.0]


def test_search_errors_are_clear(demo_db, tmp_path):
    out = run("search", demo_db, "nope", "--row", "1", check=False)
    assert out.returncode == 1 and 'no vec0 table named "nope"; vec0 tables here: packages' in out.stderr
    out = run("search", tmp_path / "missing.db", "t", "--row", "1", check=False)
    assert "no such database file" in out.stderr
    assert not (tmp_path / "missing.db").exists()
    out = run("search", demo_db, "packages", "--vector", "[1, 2]", check=False)
    assert "Expected 384 dimensions but received 2" in out.stderr
    out = run("search", demo_db, "packages", "--text", "no package says zqxjv", check=False)
    assert "no row of packages has a text containing" in out.stderr
    out = run("search", demo_db, "packages", check=False)
    assert out.returncode == 2 and "--row" in out.stderr


# --- sql, info, bench -------------------------------------------------------------------------


def test_sql_runs_statements_and_prints_rows(tmp_path):
    db = tmp_path / "s.db"
    out = run(
        "sql",
        db,
        "create table t(a, b); insert into t values (1, 'x'), (2.5, null);"
        "select a, b, vec_length('[1,2,3]') as n from t order by a",
    ).stdout
    assert "2 rows" in out
    assert "│ 2.5 " in out.replace("┆", "│") or " 2.5 " in out
    assert "NULL" in out
    rows = sql_json(db, "select a, b from t order by a")
    assert rows == [{"a": 1, "b": "x"}, {"a": 2.5, "b": None}]
    out = run("sql", db, "select nope from t", check=False)
    assert out.returncode == 1 and "no such column: nope" in out.stderr


def test_info_lists_tables_columns_and_sizes(demo_db):
    out = run("info", demo_db).stdout
    assert "packages" in out and "5,000" in out and "float[384] cosine" in out
    info = json.loads(run("info", demo_db, "--json").stdout)
    table = info["tables"][0]
    assert info["bytes"] > 5000 * 384 * 4
    assert table["bytes"] >= 5000 * 384 * 4 and table["chunk_size"] == 1024
    vector = next(c for c in table["columns"] if c["role"] == "vector")
    assert vector["index"] is None  # no ANN index on this table


def test_bench_exact_table_has_full_recall(demo_db):
    report = json.loads(
        run("bench", demo_db, "packages", "--queries", DATA / "queries-100.f16.npy", "-n", "20", "--json").stdout
    )
    assert report["queries"] == 20 and report["k"] == 10 and report["rows"] == 5000
    assert report["knn"]["recall"] == 1.0
    assert report["index"] == "none" and report["exact_scan"] is None
    for method in ("knn", "exact"):
        s = report[method]
        assert 0 < s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"]
    out = run("bench", demo_db, "packages", "-n", "10", "-k", "5").stdout
    assert "recall@5" in out and "vec0 KNN (exact scan)" in out and "exact (brute force" in out


@requires_hnsw
def test_hnsw_index_import_info_and_bench(tmp_path):
    db = tmp_path / "ann.db"
    run(
        "import", db, "packages",
        "--vectors", DATA / "pypi-5k.f16.npy", "--texts", DATA / "pypi-5k.txt",
        "--metric", "cosine", "--index", "hnsw", "--quiet",
    )
    info = json.loads(run("info", db, "--json").stdout)
    vector = next(c for c in info["tables"][0]["columns"] if c["role"] == "vector")
    assert vector["index"]["kind"] == "hnsw"
    assert vector["index"]["indexed"] == 5000
    report = json.loads(
        run("bench", db, "packages", "--queries", DATA / "queries-100.f16.npy", "--json").stdout
    )
    assert report["index"].startswith("hnsw")
    assert report["knn"]["recall"] >= 0.9
    assert report["exact_scan"]["recall"] == 1.0  # the same query with `exact = 1`
    out = run("bench", db, "packages", "-n", "10", "--ef-search", "200").stdout
    assert "vec0 KNN (hnsw index, ef_search = 200)" in out and "vec0 KNN (exact = 1)" in out
    hits = run("search", db, "packages", "--text", "web framework", "-k", "3", "--json").stdout
    assert len(hits.splitlines()) == 3


def test_index_option_on_an_existing_plain_table_is_refused(demo_db, tmp_path):
    path = tmp_path / "v.npy"
    np.save(path, np.zeros((1, 384), dtype=np.float32) + 0.1)
    out = run("import", demo_db, "packages", "--vectors", path, "--index", "hnsw", check=False)
    assert out.returncode == 1 and "exists without an index" in out.stderr
    assert f"vecsql index {demo_db} packages" in out.stderr


@requires_hnsw
def test_index_command_adds_and_drops_an_index_on_an_existing_table(tmp_path):
    db = tmp_path / "later.db"
    run(
        "import", db, "packages", "--vectors", DATA / "pypi-5k.f16.npy",
        "--metric", "cosine", "--quiet",
    )
    exact = sql_json(db, "select id from packages where embedding match "
                         "(select embedding from packages where id = 7) and k = 5")
    out = run("index", db, "packages", "--m", "12", "--show-sql")
    assert "'create-index embedding hnsw(m=12)'" in out.stdout
    assert "indexed packages.embedding (5000 rows)" in out.stderr
    info = json.loads(run("info", db, "--json").stdout)
    vector = next(c for c in info["tables"][0]["columns"] if c["role"] == "vector")
    assert vector["index"]["indexed"] == 5000 and "m=12," in vector["index"]["params"]
    # A later process walks the new index (ef_search is declared) and agrees with the scan.
    walked = sql_json(db, "select id from packages where embedding match "
                          "(select embedding from packages where id = 7) and k = 5 "
                          "and ef_search = 200")
    assert walked == exact
    again = run("index", db, "packages", check=False)
    assert again.returncode == 1 and "already has an index" in again.stderr
    run("index", db, "packages", "--drop")
    info = json.loads(run("info", db, "--json").stdout)
    vector = next(c for c in info["tables"][0]["columns"] if c["role"] == "vector")
    assert vector["index"] is None
    missing = run("index", db, "packages", "--column", "nope", check=False)
    assert missing.returncode == 1 and "no vector column" in missing.stderr


# --- issue 17: --where is a pre-filter, CSV headers, import modes, messages -------------------

QUERY = "[0.5, 0.5, 0.5, 0.5]"
FILTERS = [
    "id < 10 or id > 2990",  # OR: never handed to vec0
    "lower(tag) = 'x'",  # an expression on a metadata column
    "id + 0 > 2900",  # an expression on the key
    "tag = 'y' and year between 2003 and 2005",  # plain metadata constraints
    "note = 'keep'",  # an auxiliary column
    "(tag = 'z' or note = 'keep') and year > 2010",
    "id in (3, 5, 7) or year = 2024",
]


def make_filter_table(db, index=""):
    """3,000 rows with metadata (tag, year) and an auxiliary column (note)."""
    run(
        "sql",
        db,
        "create virtual table items using vec0(id integer primary key, "
        f"embedding float[4]{index}, tag text, year integer, +note text);"
        "with recursive n(i) as (select 0 union all select i + 1 from n where i < 2999) "
        "insert into items(id, embedding, tag, year, note) select i, "
        "json_array((i * 37 % 101) / 101.0, (i * 53 % 103) / 103.0, (i * 71 % 107) / 107.0, "
        "(i * 89 % 109) / 109.0), "
        "case i % 4 when 0 then 'X' when 1 then 'x' when 2 then 'y' else 'z' end, "
        "2000 + i % 25, case when i % 97 = 0 then 'keep' else 'other' end from n",
    )


def exact_ids(db, where, k=10, vector=QUERY, exclude=None):
    """The oracle: a brute-force scan that SQLite filters row by row."""
    skip = f" and id != {exclude}" if exclude is not None else ""
    rows = sql_json(
        db,
        f"select id from items where ({where}){skip} "
        f"order by vec_distance_l2(embedding, '{vector}'), id limit {k}",
    )
    return [r["id"] for r in rows]


def search_ids(db, *args):
    out = run("search", db, "items", *args, "--json").stdout
    return [json.loads(line)["id"] for line in out.splitlines()]


@pytest.fixture(scope="module")
def filter_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("filter") / "f.db"
    make_filter_table(db)
    return db


@pytest.mark.parametrize("where", FILTERS)
def test_where_is_applied_before_the_top_k(filter_db, where):
    expected = exact_ids(filter_db, where)
    assert len(expected) == 10, where
    assert search_ids(filter_db, "--vector", QUERY, "--where", where) == expected
    # From a row: the row itself is left out, and still k rows come back.
    [row] = sql_json(filter_db, "select vec_to_json(embedding) as v from items where id = 1")
    assert search_ids(filter_db, "--row", "1", "--where", where, "-k", "5") == exact_ids(
        filter_db, where, k=5, vector=row["v"], exclude=1
    )


def test_where_with_fewer_matches_than_k_returns_them_all(filter_db):
    assert sorted(search_ids(filter_db, "--vector", QUERY, "--where", "id in (4, 8) or id = 2999")) == [
        4, 8, 2999
    ]
    assert search_ids(filter_db, "--vector", QUERY, "--where", "id < 0") == []


def test_where_on_vec0_knobs_points_to_the_options(filter_db):
    for where in ("ef_search = 50", "exact = 1", "k = 3", "distance < 0.5"):
        out = run("search", filter_db, "items", "--vector", QUERY, "--where", where, check=False)
        assert out.returncode == 1, where
        assert "--where filters rows" in out.stderr, where


def test_search_max_distance(filter_db):
    hits = [
        json.loads(line)
        for line in run(
            "search", filter_db, "items", "--vector", QUERY, "--max-distance", "0.2", "-k", "100",
            "--json",
        ).stdout.splitlines()
    ]
    assert hits and all(h["distance"] <= 0.2 for h in hits)


@requires_hnsw
def test_where_pre_filters_an_indexed_table(tmp_path):
    db = tmp_path / "ann.db"
    make_filter_table(db, " indexed by hnsw()")
    for where in FILTERS:
        expected = exact_ids(db, where)
        assert search_ids(db, "--vector", QUERY, "--where", where, "--exact") == expected, where
        got = search_ids(db, "--vector", QUERY, "--where", where, "--ef-search", "200")
        assert len(got) == 10, where
        assert len(set(got) & set(expected)) >= 9, where
        allowed = {r["id"] for r in sql_json(db, f"select id from items where {where}")}
        assert set(got) <= allowed, where


def test_ef_search_without_an_index_is_a_clear_error(filter_db):
    out = run("search", filter_db, "items", "--vector", QUERY, "--ef-search", "50", check=False)
    assert out.returncode == 1
    assert "items has no ANN index" in out.stderr and "select" not in out.stderr.lower()
    out = run("bench", filter_db, "items", "-n", "5", "--ef-search", "50", check=False)
    assert out.returncode == 1
    assert "items has no ANN index" in out.stderr and "select" not in out.stderr.lower()


def test_one_neighbour_is_singular(filter_db):
    out = run("search", filter_db, "items", "--vector", QUERY, "-k", "1").stdout
    assert "1 neighbour of 3,000 rows" in out


def test_search_text_without_a_match_lists_close_ones(demo_db):
    out = run("search", demo_db, "packages", "--text", "web frameworkzz", check=False)
    assert out.returncode == 1
    assert 'no row of packages has a text containing "web frameworkzz"' in out.stderr
    assert "closest" in out.stderr and "framework" in out.stderr.split("closest", 1)[1].lower()
    help_text = " ".join(run("search", "--help").stdout.split()).lower()
    assert "text contains substring" in help_text and "by that row's vector" in help_text


def test_a_headerless_csv_with_a_blank_first_cell_is_an_error(tmp_path):
    db = tmp_path / "x.db"
    csv = tmp_path / "v.csv"
    csv.write_text("0.1,,0.3\n0.4,0.5,0.6\n")
    out = run("import", db, "t", "--vectors", csv, check=False)
    assert out.returncode == 1
    assert "line 1: field 2 is empty" in out.stderr and "--header" in out.stderr
    assert not db.exists()
    csv.write_text("0.1,0.2,x,0.4\n0.5,0.6,0.7,0.8\n")
    out = run("import", db, "t", "--vectors", csv, check=False)
    assert out.returncode == 1
    assert 'line 1: field 3 is not a number: "x"' in out.stderr
    assert not db.exists()


def test_csv_header_options(tmp_path):
    db = tmp_path / "x.db"
    csv = tmp_path / "v.csv"
    csv.write_text("0,1,2\n0.1,0.2,0.3\n0.4,0.5,0.6\n")
    run("import", db, "t", "--vectors", csv, "--header")
    assert sql_json(db, "select count(*) as n from t") == [{"n": 2}]
    csv.write_text("v0,v1\n1,2\n")
    out = run("import", db, "u", "--vectors", csv, "--no-header", check=False)
    assert out.returncode == 1 and 'line 1: field 1 is not a number: "v0"' in out.stderr
    run("import", db, "u", "--vectors", csv)  # an unambiguous header
    assert sql_json(db, "select id, vec_to_json(embedding) as v from u") == [{"id": 0, "v": "[1.000000,2.000000]"}]


def test_import_into_a_non_empty_table_needs_a_mode(tmp_path):
    db = tmp_path / "x.db"
    path = tmp_path / "v.jsonl"
    path.write_text("[1, 0]\n[0, 1]\n")
    run("import", db, "docs", "--vectors", path)
    out = run("import", db, "docs", "--vectors", path, check=False)
    assert out.returncode == 1
    assert "docs already has 2 rows" in out.stderr
    for option in ("--append", "--replace", "--resume"):
        assert option in out.stderr
    assert sql_json(db, "select count(*) as n from docs") == [{"n": 2}]
    run("import", db, "docs", "--vectors", path, "--replace")
    assert [r["id"] for r in sql_json(db, "select id from docs order by id")] == [0, 1]
    out = run("import", db, "docs", "--vectors", path, "--append", "--replace", check=False)
    assert out.returncode == 2


def test_a_failed_import_can_be_resumed_without_duplicates(tmp_path):
    db = tmp_path / "x.db"
    first = tmp_path / "first.jsonl"
    first.write_text("[100, 1]\n[101, 1]\n")
    run("import", db, "docs", "--vectors", first)
    lines = [json.dumps([float(i), 1.0]) for i in range(25)]
    good = "\n".join(lines) + "\n"
    lines[17] = "[17.0, oops]"
    path = tmp_path / "more.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = run("import", db, "docs", "--vectors", path, "--batch", "5", "--append", check=False)
    assert out.returncode == 1 and "15 rows committed" in out.stderr
    assert "--resume --first-id 2" in out.stderr
    path.write_text(good)
    out = run("import", db, "docs", "--vectors", path, "--resume", "--first-id", "2")
    assert "skipped 15" in out.stdout
    rows = sql_json(db, "select id, vec_to_json(embedding) as v from docs order by id")
    assert [r["id"] for r in rows] == list(range(27))
    assert [json.loads(r["v"])[0] for r in rows] == [100.0, 101.0] + [float(i) for i in range(25)]
    # Resuming a finished import adds nothing.
    out = run("import", db, "docs", "--vectors", path, "--resume", "--first-id", "2")
    assert "imported 0 vectors" in out.stdout and "skipped 25" in out.stdout


def test_a_failed_import_leaves_no_empty_database_or_table(tmp_path):
    db = tmp_path / "x.db"
    path = tmp_path / "bad.jsonl"
    path.write_text("[1, 2]\n[3, 4]\n[5, oops]\n")
    out = run("import", db, "docs", "--vectors", path, check=False)
    assert out.returncode == 1 and "line 3" in out.stderr
    assert not db.exists()
    run("sql", db, "create table keep(x)")
    out = run("import", db, "docs", "--vectors", path, check=False)
    assert out.returncode == 1
    assert sql_json(db, "select name from sqlite_master where name like 'docs%'") == []


def test_where_goes_to_vec0_directly_when_it_takes_every_term(filter_db):
    def knn_sql(where):
        return run(
            "search", filter_db, "items", "--vector", QUERY, "--where", where, "--show-sql"
        ).stderr
    # Metadata comparisons: vec0's own filters, no subquery.
    for where in ("tag = 'y' and year between 2003 and 2005", "tag in ('x', 'y') and year > 2010"):
        assert "and (" + where + ")" in knn_sql(where) and " in (select" not in knn_sql(where)
    # Anything SQLite would apply after the top k: the keys that match.
    for where in ("id < 10 or id > 2990", "lower(tag) = 'x'", "note = 'keep'", "id = 5"):
        assert 'and "id" in (select "id" from "items" where ' + where + ")" in knn_sql(where)


def test_import_type_offset_and_limit(tmp_path):
    db = tmp_path / "x.db"
    files = write_formats(tmp_path)
    run("import", db, "t", "--vectors", tmp_path / "v32.npy", "--type", "float16", "--offset", "1", "--limit", "1")
    info = json.loads(run("info", db, "--json").stdout)
    vector = next(c for c in info["tables"][0]["columns"] if c["role"] == "vector")
    assert vector["type"].startswith("float16[4]")
    assert sql_json(db, "select id, length(embedding) as n from t") == [{"id": 0, "n": 8}]
    out = run("search", db, "t", "--vector", json.dumps(files["v32.npy"][1].tolist()), "--json")
    assert [json.loads(line) for line in out.stdout.splitlines()] == [{"id": 0, "distance": 0.0}]
    out = run("import", db, "t", "--vectors", tmp_path / "v32.npy", "--append", "--type", "bfloat16", check=False)
    assert out.returncode == 1 and "--type only apply to a new table" in out.stderr
    run("import", db, "t", "--vectors", tmp_path / "v32.npy", "--append", "--offset", "2")
    assert [r["id"] for r in sql_json(db, "select id from t order by id")] == [0, 1]


@requires_hnsw
def test_import_index_parameters(tmp_path):
    db = tmp_path / "x.db"
    write_formats(tmp_path)
    run(
        "import", db, "t", "--vectors", tmp_path / "v32.npy", "--index", "hnsw",
        "--m", "8", "--ef-construction", "40", "--quantizer", "int8",
    )
    [row] = sql_json(db, "select sql from sqlite_master where name = 't'")
    assert "indexed by hnsw(m=8, ef_construction=40, quantizer=int8)" in row["sql"]
    out = run("import", db, "u", "--vectors", tmp_path / "v32.npy", "--m", "8", check=False)
    assert out.returncode == 2 and "--index" in out.stderr


# --- import: metadata, partition-key and auxiliary columns; int8 and bit vectors -------------


COLUMNS_CSV = (
    "id,v0,v1,genre,year,score,fresh,user_id,title\n"
    "1,0.1,0.2,rock,2001,0.5,true,7,First\n"
    "2,0.3,0.4,jazz,2010,1.5,false,8,\n"
    "3,0.5,0.6,rock,2020,2.5,1,7,Third\n"
)
COLUMN_ARGS = (
    "--metadata", "genre:text,year:integer", "--metadata", "score:float",
    "--metadata", "fresh:boolean", "--partition", "user_id:integer", "--aux", "title",
)


def columns_jsonl():
    """COLUMNS_CSV as JSON lines (title missing on row 2: NULL)."""
    rows = [
        {"id": 1, "vector": [0.1, 0.2], "genre": "rock", "year": 2001, "score": 0.5, "fresh": True, "user_id": 7, "title": "First"},
        {"id": 2, "vector": [0.3, 0.4], "genre": "jazz", "year": 2010, "score": 1.5, "fresh": False, "user_id": 8},
        {"id": 3, "vector": [0.5, 0.6], "genre": "rock", "year": 2020, "score": 2.5, "fresh": 1, "user_id": 7, "title": "Third"},
    ]
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_import_fills_metadata_partition_and_auxiliary_columns(tmp_path, fmt):
    path = tmp_path / f"rows.{fmt}"
    path.write_text(COLUMNS_CSV if fmt == "csv" else columns_jsonl())
    db = tmp_path / "x.db"
    run("import", db, "t", "--vectors", path, *COLUMN_ARGS, "--quiet")
    [row] = sql_json(db, "select sql from sqlite_master where name = 't'")
    assert (
        "vec0(id integer primary key, user_id integer partition key, genre text, year integer, "
        "score float, fresh boolean, embedding float[2] distance_metric=l2, +title text)"
    ) in row["sql"]
    rows = sql_json(db, "select id, user_id, genre, year, score, fresh, title from t order by id")
    assert rows == [
        {"id": 1, "user_id": 7, "genre": "rock", "year": 2001, "score": 0.5, "fresh": 1, "title": "First"},
        {"id": 2, "user_id": 8, "genre": "jazz", "year": 2010, "score": 1.5, "fresh": 0,
         "title": "" if fmt == "csv" else None},
        {"id": 3, "user_id": 7, "genre": "rock", "year": 2020, "score": 2.5, "fresh": 1, "title": "Third"},
    ]
    # The columns are vec0's own: the filters reach it as KNN constraints.
    out = run("search", db, "t", "--vector", "[0.1, 0.2]", "--where", "user_id = 7 and year > 2005 and fresh = 1", "--json")
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == [3]
    # An existing table's types are its own; a column it has that the import leaves out is named.
    run("import", db, "t", "--vectors", path, "--metadata", "genre,year,score,fresh", "--partition",
        "user_id", "--aux", "title", "--replace", "--quiet")
    out = run("import", db, "t", "--vectors", path, "--metadata", "genre,year", "--append", check=False)
    assert out.returncode == 1 and "does not fill" in out.stderr and "user_id, score, fresh" in out.stderr
    out = run("import", db, "t", "--vectors", path, "--metadata", "year:text", "--append", check=False)
    assert "t.year is integer, not text as --metadata year says" in out.stderr


def test_import_text_partition_keys_and_typed_auxiliary_columns(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [
        {"vector": [1, 0], "user": "ann", "n": 3, "raw": 1.5},
        {"vector": [0, 1], "user": "bob", "n": None, "raw": "x"},
        {"vector": [1, 1], "user": "ann", "raw": [1, 2]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = tmp_path / "x.db"
    run("import", db, "t", "--vectors", path, "--partition", "user:text", "--aux", "n:integer,raw:any", "--quiet")
    [row] = sql_json(db, "select sql from sqlite_master where name = 't'")
    assert "user text partition key" in row["sql"] and "+n integer, +raw)" in row["sql"]
    assert sql_json(db, "select id, user, n, raw, typeof(raw) as ty from t order by id") == [
        {"id": 0, "user": "ann", "n": 3, "raw": 1.5, "ty": "real"},
        {"id": 1, "user": "bob", "n": None, "raw": "x", "ty": "text"},
        {"id": 2, "user": "ann", "n": None, "raw": "[1,2]", "ty": "text"},
    ]
    out = run("search", db, "t", "--vector", "[0, 1]", "--where", "user = 'ann'", "--json")
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == [2, 0]


@pytest.mark.parametrize(
    "fmt, row, message",
    [
        ("csv", "4,0.7,0.8,pop,20x1,1,true,7,T", 'line 5: "year" must be an integer, found "20x1"'),
        ("csv", "4,0.7,0.8,pop,2001,1,maybe,7,T", 'line 5: "fresh" must be a boolean (true, false, 1 or 0), found "maybe"'),
        ("csv", "4,0.7,0.8,pop,2001,high,true,7,T", 'line 5: "score" must be a number, found "high"'),
        ("csv", "4,0.7,0.8,pop,2001,1,true,,T", 'line 5: "user_id" is empty'),
        ("jsonl", {"id": 4, "vector": [0.7, 0.8], "genre": 5, "year": 1, "score": 1, "fresh": 1, "user_id": 7}, 'line 4: "genre" must be text, found 5'),
        ("jsonl", {"id": 4, "vector": [0.7, 0.8], "genre": "pop", "score": 1, "fresh": 1, "user_id": 7}, 'line 4: no "year" field'),
    ],
)
def test_a_column_type_error_names_line_and_column_and_leaves_no_file(tmp_path, fmt, row, message):
    path = tmp_path / f"rows.{fmt}"
    if fmt == "csv":
        path.write_text(COLUMNS_CSV + row + "\n")
    else:
        path.write_text(columns_jsonl() + json.dumps(row) + "\n")
    db = tmp_path / "x.db"
    out = run("import", db, "t", "--vectors", path, *COLUMN_ARGS, check=False)
    assert out.returncode == 1
    assert message in out.stderr and "nothing was imported" in out.stderr
    assert not db.exists()


def test_column_arguments_are_checked_before_anything_is_written(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(COLUMNS_CSV)
    db = tmp_path / "x.db"
    for args, message in [
        (("--metadata", "year"), "--metadata year needs a type for the new table: year:TYPE"),
        (("--partition", "user_id:float"), '"float" is not a type --partition takes; use integer, text'),
        (("--aux", "text"), "the column text is filled already"),
        (("--metadata", "rating:integer"), "has no column rating"),
    ]:
        out = run("import", db, "t", "--vectors", path, *args, check=False)
        assert out.returncode != 0 and message in out.stderr, (args, out.stderr)
        assert not db.exists()
    np.save(tmp_path / "v.npy", SMALL)
    out = run("import", db, "t", "--vectors", tmp_path / "v.npy", "--aux", "title", check=False)
    assert "a .npy file has no field names, so the columns title cannot be filled" in out.stderr


def imported_vectors(db, table, path, *args):
    """Imports `path` into a new `table` with `args`; its vectors as JSON text, by id."""
    run("import", db, table, "--vectors", path, *args, "--quiet")
    rows = sql_json(db, f"select vec_to_json(embedding) as v from {table} order by id")
    return [r["v"] for r in rows]


def test_import_int8_takes_integers_or_a_declared_quantization(tmp_path):
    db = tmp_path / "x.db"
    exact = tmp_path / "exact.jsonl"
    exact.write_text("[1, -128, 127, 0]\n[2, 3, 4, 5]\n")
    assert imported_vectors(db, "e", exact, "--type", "int8") == ["[1,-128,127,0]", "[2,3,4,5]"]
    assert sql_json(db, "select distinct vec_type(embedding) as t from e") == [{"t": "int8"}]
    floats = tmp_path / "floats.jsonl"
    floats.write_text("[0.25, -0.5, 1, 0]\n[0.9, 0.1, -1, 0.3]\n")
    out = run("import", db, "f", "--vectors", floats, "--type", "int8", check=False)
    assert out.returncode == 1
    assert "line 1: element 0 is 0.25, not an integer in -128..127" in out.stderr and "--quantize unit" in out.stderr
    # --quantize gives exactly what vec_quantize_int8 gives.
    for table, quantize, sql in [("u", "unit", "'unit'"), ("r", "-2:2", "-2, 2")]:
        stored = imported_vectors(db, table, floats, "--type", "int8", "--quantize", quantize)
        expected = [
            sql_json(db, f"select vec_to_json(vec_quantize_int8(vec_f32('{line}'), {sql})) as v")[0]["v"]
            for line in floats.read_text().splitlines()
        ]
        assert stored == expected
    out = run("import", db, "s", "--vectors", floats, "--type", "int8", "--quantize", "sign", check=False)
    assert "--quantize sign is for bit columns" in out.stderr


def test_import_bit_takes_zeros_and_ones_or_signs(tmp_path):
    db = tmp_path / "x.db"
    bits = tmp_path / "bits.csv"
    bits.write_text("1,0,0,1,1,1,0,0\n0,0,0,0,0,0,0,1\n")
    assert imported_vectors(db, "b", bits, "--type", "bit") == ["[1,0,0,1,1,1,0,0]", "[0,0,0,0,0,0,0,1]"]
    [row] = sql_json(db, "select sql from sqlite_master where name = 'b'")
    assert "embedding bit[8])" in row["sql"]  # hamming, bit's only metric, by default
    signs = tmp_path / "signs.jsonl"
    line = "[0.5, -0.5, 1, 0, -0.0, 0.2, 0.1, -3]"
    signs.write_text(line + "\n")
    out = run("import", db, "s", "--vectors", signs, "--type", "bit", check=False)
    assert "line 1: element 0 is 0.5, not 0 or 1" in out.stderr and "--quantize sign" in out.stderr
    assert imported_vectors(db, "s", signs, "--type", "bit", "--quantize", "sign") == [
        sql_json(db, f"select vec_to_json(vec_quantize_binary(vec_f32('{line}'))) as v")[0]["v"]]
    four = tmp_path / "four.jsonl"
    four.write_text("[1, 0, 1, 0]\n")
    out = run("import", db, "f", "--vectors", four, "--type", "bit", check=False)
    assert "a bit column holds a multiple of 8 dimensions" in out.stderr
    # Resuming compares the stored bits.
    out = run("import", db, "s", "--vectors", signs, "--resume", "--quantize", "sign")
    assert "skipped 1 already present" in out.stdout


def test_search_vector_on_int8_and_bit_columns(tmp_path):
    db = tmp_path / "x.db"
    ints = tmp_path / "ints.jsonl"
    ints.write_text("[1, -128, 127, 0]\n[2, 3, 4, 5]\n")
    run("import", db, "i", "--vectors", ints, "--type", "int8", "--quiet")
    out = run("search", db, "i", "--vector", "[2, 3, 4, 6]", "--json")
    assert [json.loads(line) for line in out.stdout.splitlines()][0] == {"id": 1, "distance": 1.0}
    out = run("search", db, "i", "--vector", "[2.5, 3, 4, 6]", check=False)
    assert out.returncode == 1 and "--vector: element 0 is 2.5, not an integer" in out.stderr
    bits = tmp_path / "bits.jsonl"
    bits.write_text("[1, 0, 0, 1, 1, 1, 0, 0]\n[0, 0, 0, 0, 0, 0, 0, 1]\n")
    run("import", db, "b", "--vectors", bits, "--type", "bit", "--quiet")
    out = run("search", db, "b", "--vector", "[0, 0, 0, 0, 0, 0, 1, 1]", "--json")
    assert [json.loads(line) for line in out.stdout.splitlines()] == [
        {"id": 1, "distance": 1.0}, {"id": 0, "distance": 6.0}]
