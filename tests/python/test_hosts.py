"""The built .so loaded into real SQLite hosts: the system sqlite3 shell, Python's sqlite3
module and apsw, under both of its entry-point names."""
import shutil
import sqlite3
import struct
import subprocess

import pytest


def sqlite3_shell(*commands: str) -> subprocess.CompletedProcess:
    exe = shutil.which("sqlite3")
    if exe is None:
        pytest.skip("sqlite3 shell not installed")
    return subprocess.run([exe, ":memory:", *commands], capture_output=True, text=True, timeout=60)


def test_sqlite3_shell_loads_the_extension(ext_path):
    out = sqlite3_shell(
        f".load {ext_path}",
        "select vec_to_json(vec_f32('[1,2.5]')), vec_type(vec_int8('[1]')), "
        "round(vec_distance_l2('[0,0]', '[3,4]'), 3);",
        # vec_each reads bits most significant first, as sqlite-vec's does.
        "select group_concat(value) from vec_each(vec_bit(x'05'));",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[1.000000,2.500000]|int8|5.0", "0,0,0,0,0,1,0,1"]


def test_sqlite3_shell_reports_sql_errors_without_crashing(ext_path):
    out = sqlite3_shell(f".load {ext_path}", "select vec_f32('[1,');", "select 'still alive';")
    assert "JSON parsing error at byte 3" in out.stderr
    # The shell stops at the first error in batch mode; what matters is a clean error exit.
    assert out.returncode == 1


def test_copied_as_vec0_it_loads_where_sqlite_vec_did(ext_path, tmp_path):
    # SQLite derives the entry point from the file name: vec0.so -> sqlite3_vec_init.
    shutil.copy(ext_path + ".so", tmp_path / "vec0.so")
    out = sqlite3_shell(f".load {tmp_path / 'vec0'}", "select vec_version() like 'v%';")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    c = sqlite3.connect(":memory:")
    c.enable_load_extension(True)
    c.load_extension(str(tmp_path / "vec0"))
    assert c.execute("select vec_length('[1,2,3]')").fetchone() == (3,)


def test_python_sqlite3_runs_functions_with_bound_blobs(conn):
    blob = struct.pack("<3f", 1.0, 2.0, 3.0)
    assert conn.execute("select vec_length(?)", (blob,)).fetchone() == (3,)
    (d,) = conn.execute("select vec_distance_cosine(?, '[1,2,3]')", (blob,)).fetchone()
    assert abs(d) < 1e-6
    assert conn.execute("select vec_f32('[1,2,3]') = ?", (blob,)).fetchone() == (1,)
    with pytest.raises(sqlite3.OperationalError, match="zero-length vectors are not supported"):
        conn.execute("select vec_f32(x'')").fetchone()


def test_apsw_loads_the_extension(ext_path):
    apsw = pytest.importorskip("apsw")
    c = apsw.Connection(":memory:")
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    rows = list(c.execute("select rowid, value from vec_each(vec_int8('[3,-4]'))"))
    assert rows == [(0, 3), (1, -4)]
    assert list(c.execute("select vector_extract(vector32('[1,2]'))")) == [("[1,2]",)]
    with pytest.raises(apsw.SQLError, match="Cannot add two bitvectors together"):
        list(c.execute("select vec_add(vec_bit(x'ff'), vec_bit(x'ff'))"))
    c.close()


def test_apsw_with_its_own_newer_sqlite_also_works(ext_path):
    # apsw wheels bundle a recent SQLite (3.45+), which checks SQLITE_RESULT_SUBTYPE flags.
    apsw = pytest.importorskip("apsw")
    c = apsw.Connection(":memory:")
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    (version,) = next(c.execute("select sqlite_version()"))
    (json,) = next(c.execute("select json_array(vec_to_json(vec_int8('[1,2]')))"))
    assert json == "[[1,2]]", version
