"""Differential test: vecsql vs the real sqlite-vec (0.1.9).

Two connections are opened, one with sqlite-vec loaded and one with vecsql's
loadable extension (path from $VECSQL_EXT, default <repo>/target/release/libvecsql,
given without the ".so" suffix as sqlite3_load_extension expects). Every case
of tests/python/fixtures/sqlite_vec_oracle.json is run on both and the outcomes
must match: same values (floats within 1e-6 relative), same storage classes,
same error messages.

The oracle JSON is the frozen record of sqlite-vec's behaviour; the test also
checks that the live sqlite-vec still reproduces it (catches a changed peer).

Run:  /work/pyenv-peers/bin/python -m pytest tests/python/test_sqlite_vec_compat.py -q
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import struct

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORACLE_PATH = os.path.join(REPO_ROOT, "tests", "python", "fixtures", "sqlite_vec_oracle.json")

sqlite_vec = pytest.importorskip("sqlite_vec")

VECSQL_EXT = os.environ.get("VECSQL_EXT", os.path.join(REPO_ROOT, "target", "release", "libvecsql"))
if not os.path.isabs(VECSQL_EXT):
    VECSQL_EXT = os.path.join(REPO_ROOT, VECSQL_EXT)
_ext_file = VECSQL_EXT if VECSQL_EXT.endswith(".so") else VECSQL_EXT + ".so"
if not os.path.exists(_ext_file):
    pytest.skip("vecsql extension not built: %s" % _ext_file, allow_module_level=True)
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    pytest.skip("this python's sqlite3 cannot load extensions", allow_module_level=True)

# ---------------------------------------------------------------------------
# Deliberate differences: sqlite-vec silently accepts these, vecsql rejects
# them. For these SQL strings we only assert that vecsql raises an error.
# (Only cases where sqlite-vec *succeeds* need to be listed; where both error
# the messages must still match.)
# ---------------------------------------------------------------------------
_MALFORMED = "sqlite-vec's strtod loop accepts malformed JSON; vecsql rejects it"
_NONFINITE = "sqlite-vec accepts NaN/Inf tokens in JSON text; vecsql rejects them"
_OVERFLOW = "JSON number overflows f32; sqlite-vec stores +-Inf, vecsql rejects it"


VECSQL_EXTENSIONS = {
    "select vec_version()": "vecsql reports its own version after sqlite-vec's API level",
    "select json_array(vec_version())": "same",
}

DELIBERATE_DIFFERENCES = {
    # Both reject these malformed arrays, with messages from different checks.
    "select vec_f32('[')": "both reject",
    "select vec_f32('[ ]')": "both reject",
    "select vec_length('[ ]')": "both reject",
    "select vec_f32('[\t]')": "both reject",
    "select vec_length('[\t]')": "both reject",
    "select vec_f32('[]]')": "both reject",
    "select vec_length('[]]')": "both reject",
    "select vec_f32('[ ] ')": "both reject",
    "select vec_length('[ ] ')": "both reject",
    "select vec_int8('[')": "both reject",
    "select vec_int8('[ ]')": "both reject",
    "select value from vec_each('[1]') where vector = '[2]'": "both reject two vector arguments",
    # vecsql has a 3-argument (min, max) form; these fail there on the bounds instead.
    "select vec_quantize_int8('[0.1]', 'unit', 1)": "3-argument form exists in vecsql",
    "select vec_quantize_int8('[0.1]', 'unit', '[1]')": "3-argument form exists in vecsql",
    # --- malformed JSON text accepted by sqlite-vec (unterminated, trailing garbage, bad commas, non-JSON number syntax)
    "select vec_f32('[1,')": _MALFORMED,
    "select vec_f32('[1')": _MALFORMED,
    "select vec_f32('[1,2,]')": _MALFORMED,
    "select vec_f32('[1,,2]')": _MALFORMED,
    "select vec_f32('[1 2]')": _MALFORMED,
    "select vec_f32('[1]x')": _MALFORMED,
    "select vec_f32('[1] x')": _MALFORMED,
    "select vec_f32('[1],')": _MALFORMED,
    "select vec_f32('[.5]')": _MALFORMED,
    "select vec_f32('[5.]')": _MALFORMED,
    "select vec_f32('[-.5]')": _MALFORMED,
    "select vec_f32('[+1]')": _MALFORMED,
    "select vec_f32('[0x10]')": _MALFORMED,
    "select vec_f32('[1,2,3')": _MALFORMED,
    "select vec_f32('[1,2,3,')": _MALFORMED,
    "select vec_f32('[1,2,3]]')": _MALFORMED,
    "select vec_f32('[1,2,3][4]')": _MALFORMED,
    "select vec_f32('[1-2]')": _MALFORMED,
    "select vec_f32('[1.2.3]')": _MALFORMED,
    "select vec_int8('[1,')": _MALFORMED,
    "select vec_int8('[1')": _MALFORMED,
    "select vec_int8('[1]x')": _MALFORMED,
    "select vec_length('[1,')": _MALFORMED,
    "select vec_add('[1,', '[2]')": _MALFORMED,
    "select vec_sub('[1,', '[2]')": _MALFORMED,
    "select vec_slice('[1,', 0, 1)": _MALFORMED,
    "select vec_distance_l2('[1,', '[2]')": _MALFORMED,
    "select vec_distance_l1('[1,', '[2]')": _MALFORMED,
    "select vec_distance_cosine('[1,', '[2]')": _MALFORMED,
    "select rowid, value from vec_each('[1,')": _MALFORMED,
    "select * from vec_each('[1,')": _MALFORMED,
    "select vec_f32('[1.]')": _MALFORMED,
    "select vec_length('[1.]')": _MALFORMED,
    "select vec_f32('[+.5e1]')": _MALFORMED,
    "select vec_length('[+.5e1]')": _MALFORMED,
    "select vec_f32('[0x1p3]')": _MALFORMED,
    "select vec_length('[0x1p3]')": _MALFORMED,
    "select vec_f32('[0X1A]')": _MALFORMED,
    "select vec_length('[0X1A]')": _MALFORMED,
    "select vec_f32('[1 ,]')": _MALFORMED,
    "select vec_length('[1 ,]')": _MALFORMED,
    "select vec_f32('[1]]]]')": _MALFORMED,
    "select vec_length('[1]]]]')": _MALFORMED,
    "select vec_f32('[1,2,3] trailing')": _MALFORMED,
    "select vec_length('[1,2,3] trailing')": _MALFORMED,
    "select vec_f32('[1, 2, 3 ]xyz')": _MALFORMED,
    "select vec_length('[1, 2, 3 ]xyz')": _MALFORMED,
    "select vec_f32('[1,,,,2]')": _MALFORMED,
    "select vec_length('[1,,,,2]')": _MALFORMED,
    "select vec_f32('[1,,]')": _MALFORMED,
    "select vec_length('[1,,]')": _MALFORMED,
    "select vec_f32('[1 ,, 2]')": _MALFORMED,
    "select vec_length('[1 ,, 2]')": _MALFORMED,
    "select vec_f32('[1..2]')": _MALFORMED,
    "select vec_length('[1..2]')": _MALFORMED,
    "select vec_f32('[00001]')": _MALFORMED,
    "select vec_length('[00001]')": _MALFORMED,
    "select vec_f32('[-00.5]')": _MALFORMED,
    "select vec_length('[-00.5]')": _MALFORMED,
    "select vec_f32('[1,' || char(12) || '2]')": _MALFORMED,
    "select vec_int8('[007]')": _MALFORMED,
    "select vec_int8('[+5]')": _MALFORMED,
    "select vec_int8('[1,2,]')": _MALFORMED,
    "select vec_int8('[1 2]')": _MALFORMED,
    "select vec_int8('[1,,2]')": _MALFORMED,
    "select vec_int8('[127,]')": _MALFORMED,
    "select vec_int8('[-128')": _MALFORMED,
    "select vec_int8('[1,2]x')": _MALFORMED,
    "select vec_f32('[1,2]'||char(0))": _MALFORMED,  # trailing NUL after ']'
    # both reject, but sqlite-vec's error comes from a later check (hamming on float32)
    "select vec_distance_hamming('[1,', '[2]')": _MALFORMED,
    # --- nan / inf tokens in JSON text
    "select vec_distance_hamming('[nan]', '[1]')": _NONFINITE,
    "select vec_distance_hamming('[inf]', '[1]')": _NONFINITE,
    "select vec_distance_hamming('[inf]', '[inf]')": _NONFINITE,
    "select vec_f32('[nan]')": _NONFINITE,
    "select vec_f32('[NaN]')": _NONFINITE,
    "select vec_f32('[-nan]')": _NONFINITE,
    "select vec_f32('[inf]')": _NONFINITE,
    "select vec_f32('[-inf]')": _NONFINITE,
    "select vec_f32('[Infinity]')": _NONFINITE,
    "select vec_f32('[-Infinity]')": _NONFINITE,
    "select vec_f32('[infinity]')": _NONFINITE,
    "select vec_length('[nan]')": _NONFINITE,
    "select vec_to_json('[nan]')": _NONFINITE,
    "select vec_to_json('[inf]')": _NONFINITE,
    "select vec_to_json('[-inf]')": _NONFINITE,
    "select vec_add('[nan]', '[1]')": _NONFINITE,
    "select vec_add('[inf]', '[inf]')": _NONFINITE,
    "select vec_sub('[nan]', '[1]')": _NONFINITE,
    "select vec_sub('[inf]', '[inf]')": _NONFINITE,
    "select vec_normalize('[nan,1]')": _NONFINITE,
    "select vec_normalize('[inf,1]')": _NONFINITE,
    "select vec_quantize_binary('[nan,nan,nan,nan,nan,nan,nan,nan]')": _NONFINITE,
    "select vec_quantize_int8('[nan]', 'unit')": _NONFINITE,
    "select vec_quantize_int8('[inf]', 'unit')": _NONFINITE,
    "select vec_quantize_int8('[-inf]', 'unit')": _NONFINITE,
    "select vec_distance_l2('[nan]', '[1]')": _NONFINITE,
    "select vec_distance_l2('[inf]', '[1]')": _NONFINITE,
    "select vec_distance_l2('[inf]', '[inf]')": _NONFINITE,
    "select vec_distance_l1('[nan]', '[1]')": _NONFINITE,
    "select vec_distance_l1('[inf]', '[1]')": _NONFINITE,
    "select vec_distance_l1('[inf]', '[inf]')": _NONFINITE,
    "select vec_distance_cosine('[nan]', '[1]')": _NONFINITE,
    "select vec_distance_cosine('[inf]', '[1]')": _NONFINITE,
    "select vec_distance_cosine('[inf]', '[inf]')": _NONFINITE,
    "select rowid, value from vec_each('[nan,inf]')": _NONFINITE,
    "select * from vec_each('[nan,inf]')": _NONFINITE,
    "select vec_f32('[NAN]')": _NONFINITE,
    "select vec_length('[NAN]')": _NONFINITE,
    "select vec_f32('[nan(123)]')": _NONFINITE,
    "select vec_length('[nan(123)]')": _NONFINITE,
    "select vec_f32('[INF]')": _NONFINITE,
    "select vec_length('[INF]')": _NONFINITE,
    "select vec_f32('[inFinity]')": _NONFINITE,
    "select vec_length('[inFinity]')": _NONFINITE,
    "select vec_f32('[1,nan,2]')": _NONFINITE,
    "select vec_length('[1,nan,2]')": _NONFINITE,
    "select json_valid(vec_to_json('[nan,inf]'))": _NONFINITE,
    "select json_array(vec_to_json('[inf]'))": _NONFINITE,
    "select json_array(vec_to_json('[nan]'))": _NONFINITE,
    "select vec_quantize_binary('[inf,-inf,inf,-inf,inf,-inf,inf,-inf]')": _NONFINITE,
    "select vec_distance_l2('[nan]', '[nan]')": _NONFINITE,
    "select typeof(vec_distance_l2('[nan]', '[1]'))": _NONFINITE,
    "select vec_distance_l2('[-inf]', '[inf]')": _NONFINITE,
    "select vec_distance_l1('[-inf]', '[inf]')": _NONFINITE,
    # --- finite JSON numbers outside the f32 range (sqlite-vec silently stores +-Inf)
    "select vec_f32('[1e39]')": _OVERFLOW,
    "select vec_f32('[-1e39]')": _OVERFLOW,
    "select vec_f32('[1e308]')": _OVERFLOW,
    "select vec_f32('[3.4028236e38]')": _OVERFLOW,
    "select vec_to_json('[1e39]')": _OVERFLOW,
}


# Cases whose exact value is build-specific: compare type (and a prefix) only.
LOOSE_CASES = {
    "select vec_debug()": "build date/commit differ; only 'Version: ' prefix and type compared",
}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _connect_sqlite_vec():
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    return conn


def _connect_vecsql():
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    conn.load_extension(VECSQL_EXT)
    conn.enable_load_extension(False)
    return conn


def _encode(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    if isinstance(v, float):
        if math.isnan(v):
            return {"float": "nan"}
        if math.isinf(v):
            return {"float": "inf" if v > 0 else "-inf"}
        return v
    return v


def _storage(v):
    if v is None:
        return "null"
    if isinstance(v, bytes):
        return "blob"
    if isinstance(v, float):
        return "real"
    if isinstance(v, int):
        return "integer"
    return "text"


def run(conn, sql):
    try:
        rows = conn.execute(sql).fetchall()
    except sqlite3.Error as e:
        return {"error": str(e)}
    return {
        "result": [[_encode(v) for v in row] for row in rows],
        "typeof": [[_storage(v) for v in row] for row in rows],
    }


def _floats_close(a, b, rel=1e-6):
    # The absolute bound covers cosine distances near 0, where 1 - dot/norms cancels and
    # float32 accumulation order (SIMD lanes vs one loop) shows in the last bits.
    if a == b:
        return True
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)


def _f32_blob_close(ha, hb):
    """Blobs that look like f32 arrays may differ in the last ulp (e.g. normalize)."""
    a, b = bytes.fromhex(ha), bytes.fromhex(hb)
    if len(a) != len(b) or len(a) % 4:
        return False
    fa = struct.unpack("<%df" % (len(a) // 4), a)
    fb = struct.unpack("<%df" % (len(b) // 4), b)
    for x, y in zip(fa, fb):
        if math.isnan(x) and math.isnan(y):
            continue
        if not _floats_close(x, y):
            return False
    return True


def values_equal(expected, actual, allow_f32_blob_tolerance=False):
    if isinstance(expected, float) and isinstance(actual, float):
        return _floats_close(expected, actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        if "hex" in expected and "hex" in actual:
            if expected["hex"] == actual["hex"]:
                return True
            return allow_f32_blob_tolerance and _f32_blob_close(expected["hex"], actual["hex"])
        return expected == actual
    return expected == actual and type(expected) is type(actual)


# sqlite-vec's vec_each reports every bad argument as this bare message; vecsql says what is wrong.
_BARE_ERRORS = ("SQL logic error",)


def outcome_equal(expected, actual, allow_f32_blob_tolerance=False):
    if "error" in expected or "error" in actual:
        if "error" not in expected or "error" not in actual:
            return False
        # vecsql may add detail after sqlite-vec's message (e.g. the byte offset of a JSON
        # error), but must keep sqlite-vec's words first so code matching on them still works.
        return actual["error"].startswith(expected["error"]) or expected["error"] in _BARE_ERRORS
    if expected["typeof"] != actual["typeof"]:
        return False
    if len(expected["result"]) != len(actual["result"]):
        return False
    for er, ar in zip(expected["result"], actual["result"]):
        if len(er) != len(ar):
            return False
        for e, a in zip(er, ar):
            if not values_equal(e, a, allow_f32_blob_tolerance):
                return False
    return True


# blob results computed with float arithmetic (tolerate last-ulp differences)
_ARITH_FUNCS = ("vec_normalize(",)


def _load_oracle():
    with open(ORACLE_PATH, encoding="utf-8") as f:
        return json.load(f)


ORACLE = _load_oracle()


@pytest.fixture(scope="module")
def peer():
    c = _connect_sqlite_vec()
    yield c
    c.close()


@pytest.fixture(scope="module")
def vecsql():
    c = _connect_vecsql()
    yield c
    c.close()


def _fresh(conn_factory):
    return conn_factory()


def _case_id(case):
    s = case["sql"]
    return s if len(s) <= 120 else s[:117] + "..."


# ---------------------------------------------------------------------------
# oracle-driven differential test
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", ORACLE, ids=[_case_id(c) for c in ORACLE])
def test_oracle_case(case):
    sql = case["sql"]
    expected = {k: case[k] for k in ("result", "typeof", "error") if k in case}

    # DDL-ish statements need a fresh connection each time
    peer_conn = _connect_sqlite_vec()
    vec_conn = _connect_vecsql()
    try:
        live_peer = run(peer_conn, sql)
        actual = run(vec_conn, sql)
    finally:
        peer_conn.close()
        vec_conn.close()

    # the frozen oracle must still describe the live peer
    if sql not in LOOSE_CASES:
        assert outcome_equal(expected, live_peer), (
            "sqlite-vec no longer matches the oracle for %r: oracle=%r live=%r" % (sql, expected, live_peer)
        )

    if sql in DELIBERATE_DIFFERENCES:
        # vecsql is stricter: it rejects these, or (for forms it also accepts) agrees.
        assert "error" in actual or outcome_equal(expected, actual), (
            "vecsql should reject %r (%s) but returned %r" % (sql, DELIBERATE_DIFFERENCES[sql], actual))
        return

    if sql in VECSQL_EXTENSIONS:
        # vecsql defines something sqlite-vec does not (a wider signature, its own version):
        # it must succeed with a result of the same SQL type.
        assert "error" not in actual, actual
        if "typeof" in expected:
            assert actual["typeof"] == expected["typeof"]
        return

    if sql in LOOSE_CASES:
        assert "error" not in actual, actual
        assert actual["typeof"] == expected["typeof"]
        assert str(actual["result"][0][0]).startswith("Version: ")
        return

    tol = any(f in sql for f in _ARITH_FUNCS)
    assert outcome_equal(expected, actual, allow_f32_blob_tolerance=tol), (
        "mismatch for %r\n  sqlite-vec: %r\n  vecsql:     %r" % (sql, expected, actual)
    )


# ---------------------------------------------------------------------------
# property-based differential test
# ---------------------------------------------------------------------------
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_f32 = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def vector_pair(draw):
    dim = draw(st.integers(min_value=1, max_value=64))
    a = draw(st.lists(_f32, min_size=dim, max_size=dim))
    b = draw(st.lists(_f32, min_size=dim, max_size=dim))
    return a, b


def _blob(vals):
    return struct.pack("<%df" % len(vals), *vals)


def _json(vals):
    return "[" + ",".join(repr(float(v)) for v in vals) + "]"


def _compare(peer_conn, vec_conn, sql, params, tol_blob=False):
    def one(conn):
        try:
            rows = conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            return {"error": str(e)}
        return {"result": [[_encode(v) for v in r] for r in rows],
                "typeof": [[_storage(v) for v in r] for r in rows]}

    e, a = one(peer_conn), one(vec_conn)
    if outcome_equal(e, a, allow_f32_blob_tolerance=tol_blob):
        return None
    return "mismatch for %s %r\n  sqlite-vec: %r\n  vecsql:     %r" % (sql, params, e, a)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vector_pair())
def test_random_vectors_agree(peer, vecsql, pair):
    a, b = pair
    A, B = _blob(a), _blob(b)
    JA = _json(a)
    dim = len(a)
    checks = [
        ("select vec_f32(?)", (A,), False),
        ("select vec_f32(?)", (JA,), False),
        ("select vec_length(?)", (JA,), False),
        ("select vec_to_json(?)", (A,), False),
        ("select vec_to_json(vec_f32(?))", (JA,), False),
        ("select vec_distance_l2(?, ?)", (A, B), False),
        ("select vec_distance_l1(?, ?)", (A, B), False),
        ("select vec_distance_cosine(?, ?)", (A, B), False),
        ("select vec_distance_l2(?, ?)", (JA, B), False),
        ("select vec_add(?, ?)", (A, B), False),
        ("select vec_sub(?, ?)", (A, B), False),
        ("select vec_normalize(?)", (A,), True),
        ("select vec_quantize_int8(?, 'unit')", (A,), False),
        ("select vec_quantize_binary(?)", (A,), False),
        ("select vec_slice(?, 0, ?)", (A, dim), False),
        ("select vec_slice(?, ?, ?)", (A, dim // 2, dim), False),
        ("select vec_slice(?, 1, ?)", (A, dim), False),
        ("select rowid, value from vec_each(?)", (A,), False),
    ]
    # int8 / bit flavours derived from the same data
    ia = bytes(int(x) & 0xFF for x in a)
    ib = bytes(int(x) & 0xFF for x in b)
    checks += [
        ("select vec_distance_l2(vec_int8(?), vec_int8(?))", (ia, ib), False),
        ("select vec_distance_l1(vec_int8(?), vec_int8(?))", (ia, ib), False),
        ("select vec_distance_cosine(vec_int8(?), vec_int8(?))", (ia, ib), False),
        ("select vec_add(vec_int8(?), vec_int8(?))", (ia, ib), False),
        ("select vec_to_json(vec_int8(?))", (ia,), False),
        ("select vec_distance_hamming(vec_bit(?), vec_bit(?))", (ia, ib), False),
        ("select vec_to_json(vec_bit(?))", (ia,), False),
        ("select rowid, value from vec_each(vec_bit(?))", (ia,), False),
        ("select vec_quantize_binary(vec_int8(?))", (ia,), False),
    ]
    problems = [p for p in (_compare(peer, vecsql, sql, params, tol) for sql, params, tol in checks) if p]
    assert not problems, "\n".join(problems)
