#!/usr/bin/env python3
"""Generate tests/python/fixtures/sqlite_vec_oracle.json from the real sqlite-vec.

Every case is a SQL statement run on a fresh in-memory connection with
sqlite-vec (pip package ``sqlite-vec``, expected version 0.1.9) loaded.
The recorded outcome is either

    {"sql": ..., "result": [[v, ...], ...], "typeof": [["blob", ...], ...]}

or

    {"sql": ..., "error": "exact error message"}

Value encoding (shared with test_sqlite_vec_compat.py):
  * NULL -> null, INTEGER -> int, TEXT -> str
  * REAL -> float, except non-finite: {"float": "nan" | "inf" | "-inf"}
  * BLOB -> {"hex": "<lowercase hex>"}
"typeof" holds SQLite's storage class for every cell ("null", "integer",
"real", "text", "blob"), row by row, same shape as "result".

Re-run with:  /work/pyenv-peers/bin/python tests/python/gen_sqlite_vec_oracle.py
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "sqlite_vec_oracle.json")


# ----------------------------------------------------------------------------
# value encoding
# ----------------------------------------------------------------------------
def encode_value(v):
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
    return v  # int / str


def storage_class(v):
    if v is None:
        return "null"
    if isinstance(v, bytes):
        return "blob"
    if isinstance(v, float):
        return "real"
    if isinstance(v, int):
        return "integer"
    return "text"


def run_case(conn, sql):
    try:
        rows = conn.execute(sql).fetchall()
    except sqlite3.Error as e:
        return {"sql": sql, "error": str(e)}
    return {
        "sql": sql,
        "result": [[encode_value(v) for v in row] for row in rows],
        "typeof": [[storage_class(v) for v in row] for row in rows],
    }


def connect_sqlite_vec():
    import sqlite_vec

    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    return conn


# ----------------------------------------------------------------------------
# helpers for building SQL literals
# ----------------------------------------------------------------------------
def q(s: str) -> str:
    """SQL text literal."""
    return "'" + s.replace("'", "''") + "'"


def xf32(*vals) -> str:
    """X'..' blob literal of little-endian float32 values."""
    return "X'" + struct.pack("<%df" % len(vals), *vals).hex() + "'"


def xi8(*vals) -> str:
    return "X'" + struct.pack("<%db" % len(vals), *vals).hex() + "'"


def xraw(h: str) -> str:
    return "X'" + h + "'"


# ----------------------------------------------------------------------------
# case list
# ----------------------------------------------------------------------------
def cases():
    C = []
    add = C.append

    # --- vec_version / vec_debug -------------------------------------------
    add("select vec_version()")
    add("select typeof(vec_version())")
    add("select vec_version(1)")
    add("select vec_debug()")  # contains build info; compared loosely by the diff test
    add("select typeof(vec_debug())")
    add("select vec_debug(1)")

    # Standard inputs used below
    F3 = "'[1,2,3]'"
    F3B = xf32(1, 2, 3)

    # --- vec_f32 ----------------------------------------------------------
    json_inputs = [
        "[]", "[1]", "[1,2,3]", "[1.5,-2.25,3e2]", " [1, 2, 3] ", "\n[1,\t2]\n",
        "[ 1 , 2 ]", "[1,", "[1", "[", "]", "", " ", "[1,2,]", "[,1]", "[1,,2]",
        "[1 2]", "[1]x", "[1] x", "[1],", "[[1]]", "[[1],[2]]", "[1,[2]]", "{}",
        "{\"a\":1}", "1", "1.5", "abc", "null", "[null]", "[true]", "[false]",
        "[\"1\"]", "['1']", "[1e3]", "[1E3]", "[1e+3]", "[1e-3]", "[-1e-3]", "[.5]",
        "[5.]", "[-.5]", "[+1]", "[-0]", "[-0.0]", "[0x10]", "[1_000]",
        "[nan]", "[NaN]", "[-nan]", "[inf]", "[-inf]", "[Infinity]", "[-Infinity]",
        "[infinity]", "[1e39]", "[-1e39]", "[1e308]", "[1e309]", "[1e-46]",
        "[3.4028235e38]", "[3.4028236e38]", "[1.17549435e-38]", "[1e-45]",
        "[123456789012345678901234567890]", "[0.1]", "[0.2]", "[1.0000001]",
        "[16777217]", "[1,2,3", "[1,2,3,", "[1,2,3]]", "[1,2,3][4]", "[1;2]",
        "[1 , 2 ,3 ]", "[\t1\t]", "[1a]", "[a1]", "[-]", "[1-2]", "[1e]",
        "[1.2.3]", "[--1]", "[\u00a01]", "[１]",
    ]
    for j in json_inputs:
        add("select vec_f32(%s)" % q(j))
    add("select vec_f32(%s)" % F3B)
    add("select vec_f32(X'')")
    add("select vec_f32(X'00')")
    add("select vec_f32(X'000000')")
    add("select vec_f32(X'0000000000')")
    add("select vec_f32(X'0000c07f')")  # NaN blob
    add("select vec_f32(X'0000807f')")  # +inf blob
    add("select vec_f32(NULL)")
    add("select vec_f32(1)")
    add("select vec_f32(1.5)")
    add("select vec_f32(0)")
    add("select vec_f32()")
    add("select vec_f32(%s, %s)" % (F3, F3))
    add("select vec_f32(vec_int8('[1,2,3]'))")
    add("select vec_f32(vec_bit(X'ff'))")
    add("select vec_type(vec_f32(%s))" % F3)
    add("select vec_type(vec_f32(%s))" % F3B)
    add("select typeof(vec_f32(%s))" % F3)
    add("select length(vec_f32(%s))" % F3)
    add("select vec_f32(cast('[1,2]' as blob))")

    # --- vec_int8 ---------------------------------------------------------
    int8_json = [
        "[]", "[1]", "[1,2,3]", "[-128,127]", "[128]", "[-129]", "[1.5]", "[-1.5]",
        "[1.9]", "[-1.9]", "[0.5]", "[127.9]", "[127.5]", "[-128.5]", "[-128.9]",
        "[1e2]", "[1e3]", "[nan]", "[inf]", "[-inf]", "[1,", "[1", "[[1]]",
        "[1]x", " [1, 2] ", "abc", "[true]", "[300]", "[255]", "[256]", "[-0.5]",
    ]
    for j in int8_json:
        add("select vec_int8(%s)" % q(j))
    add("select vec_int8(X'0102ff')")
    add("select vec_int8(X'')")
    add("select vec_int8(X'01')")
    add("select vec_int8(NULL)")
    add("select vec_int8(1)")
    add("select vec_int8(1.5)")
    add("select vec_int8()")
    add("select vec_int8('[1]', '[2]')")
    add("select vec_int8(vec_f32('[1,2,3,4]'))")
    add("select vec_int8(vec_bit(X'ff'))")
    add("select vec_type(vec_int8('[1,2,3]'))")
    add("select vec_type(vec_int8(X'010203'))")

    # --- vec_bit ----------------------------------------------------------
    add("select vec_bit(X'ff')")
    add("select vec_bit(X'f0e1')")
    add("select vec_bit(X'')")
    add("select vec_bit('[1,0,1,0,1,0,1,0]')")
    add("select vec_bit('[]')")
    add("select vec_bit('abc')")
    add("select vec_bit(NULL)")
    add("select vec_bit(1)")
    add("select vec_bit(1.5)")
    add("select vec_bit()")
    add("select vec_bit(X'ff', X'ff')")
    add("select vec_bit(vec_f32('[1]'))")
    add("select vec_bit(vec_int8('[1]'))")
    add("select vec_type(vec_bit(X'ff'))")
    add("select vec_length(vec_bit(X'ff'))")
    add("select vec_length(vec_bit(X'ff00'))")

    # --- vec_length -------------------------------------------------------
    for a in [F3, F3B, "'[]'", "X''", "X'00'", "X'0000000000'", "NULL", "1", "1.5",
              "'abc'", "'[1,'", "vec_int8('[1,2]')", "vec_bit(X'ffff')",
              "vec_f32('[1,2,3,4]')", "'[nan]'", "X'00000000'"]:
        add("select vec_length(%s)" % a)
    add("select vec_length()")
    add("select vec_length(%s, %s)" % (F3, F3))
    add("select typeof(vec_length(%s))" % F3)

    # --- vec_type ---------------------------------------------------------
    for a in [F3, F3B, "'[]'", "X''", "X'00'", "NULL", "1", "1.5", "'abc'",
              "vec_int8('[1,2]')", "vec_bit(X'ffff')", "vec_f32('[1]')",
              "vec_quantize_binary('[1,2,3,4,5,6,7,8]')",
              "vec_quantize_int8('[0.1,0.2]', 'unit')",
              "vec_normalize('[3,4]')", "vec_slice(vec_int8('[1,2,3]'), 1)",
              "vec_slice(vec_bit(X'ffff'), 0, 8)",
              "vec_add(vec_int8('[1]'), vec_int8('[2]'))",
              "vec_sub(vec_int8('[1]'), vec_int8('[2]'))",
              "vec_add('[1]', '[2]')"]:
        add("select vec_type(%s)" % a)
    add("select vec_type()")
    add("select vec_type(%s, %s)" % (F3, F3))

    # --- vec_to_json ------------------------------------------------------
    tj = ["[1,2,3]", "[]", "[0.1]", "[0.2]", "[0.3]", "[1.5]", "[-2.25]", "[1e10]",
          "[1e-10]", "[1e20]", "[1e-20]", "[123456789]", "[1234567]", "[12345678]",
          "[0.000001]", "[0.0000001]", "[3.14159265358979]", "[-0]", "[0]",
          "[1e38]", "[3.4028235e38]", "[1e-45]", "[1.17549435e-38]", "[nan]",
          "[inf]", "[-inf]", "[100]", "[1000000]", "[10000000]", "[0.5,0.25,0.125]",
          "[1.0000001]", "[2.5e-5]", "[999999.9]", "[1e39]"]
    for j in tj:
        add("select vec_to_json(%s)" % q(j))
    add("select vec_to_json(%s)" % F3B)
    add("select vec_to_json(X'')")
    add("select vec_to_json(X'00')")
    add("select vec_to_json(vec_int8('[1,-2,127,-128]'))")
    add("select vec_to_json(vec_int8('[]'))")
    add("select vec_to_json(vec_bit(X'ff'))")
    add("select vec_to_json(vec_bit(X'01'))")
    add("select vec_to_json(vec_bit(X'8001'))")
    add("select vec_to_json(vec_bit(X'a5'))")
    add("select vec_to_json(NULL)")
    add("select vec_to_json(1)")
    add("select vec_to_json(1.5)")
    add("select vec_to_json('abc')")
    add("select vec_to_json()")
    add("select vec_to_json('[1]', '[2]')")
    add("select typeof(vec_to_json('[1]'))")
    add("select vec_to_json(X'0000c07f')")
    add("select vec_to_json(X'0000807f000080ff')")
    add("select vec_to_json(X'01000000')")  # denormal
    add("select vec_to_json(vec_quantize_binary('[1,-1,1,-1,1,-1,1,-1]'))")
    add("select vec_to_json(vec_quantize_int8('[0.1,-0.5,1]', 'unit'))")
    add("select json_valid(vec_to_json('[1,2,3]'))")
    add("select vec_type(vec_to_json('[1,2,3]'))")

    # --- vec_add / vec_sub ------------------------------------------------
    for fn in ["vec_add", "vec_sub"]:
        for a, b in [
            (F3, "'[4,5,6]'"), (F3B, xf32(4, 5, 6)), (F3, xf32(4, 5, 6)),
            ("'[1]'", "'[1,2]'"), ("'[]'", "'[]'"), ("'[1]'", "'[]'"),
            ("vec_int8('[1,2]')", "vec_int8('[3,4]')"),
            ("vec_int8('[100]')", "vec_int8('[100]')"),
            ("vec_int8('[-100]')", "vec_int8('[100]')"),
            ("vec_int8('[-128]')", "vec_int8('[-128]')"),
            ("vec_int8('[127]')", "vec_int8('[-128]')"),
            ("vec_int8('[1,2]')", "'[3,4]'"),
            ("'[3,4]'", "vec_int8('[1,2]')"),
            ("vec_bit(X'ff')", "vec_bit(X'ff')"),
            ("vec_bit(X'ff')", "'[1,2,3,4,5,6,7,8]'"),
            ("'[1,2]'", "vec_bit(X'ff')"),
            ("NULL", F3), (F3, "NULL"), ("NULL", "NULL"),
            ("1", F3), (F3, "1"), ("1.5", F3), ("'abc'", F3), (F3, "'abc'"),
            ("X'00'", F3), (F3, "X'00'"),
            ("'[1e38]'", "'[1e38]'"), ("'[3e38]'", "'[3e38]'"), ("'[nan]'", "'[1]'"),
            ("'[inf]'", "'[inf]'"), ("'[0.1]'", "'[0.2]'"),
            ("vec_int8('[1,2]')", "vec_int8('[1,2,3]')"),
            ("'[1,'", "'[2]'"),
        ]:
            add("select %s(%s, %s)" % (fn, a, b))
        add("select %s('[1]')" % fn)
        add("select %s()" % fn)
        add("select %s('[1]', '[1]', '[1]')" % fn)
        add("select vec_type(%s('[1]', '[2]'))" % fn)
        add("select vec_to_json(%s('[1.5,2]', '[0.25,-4]'))" % fn)
        add("select vec_to_json(%s(vec_int8('[1,2]'), vec_int8('[3,-4]')))" % fn)

    # --- vec_normalize ----------------------------------------------------
    for a in ["'[3,4]'", xf32(3, 4), "'[0,0]'", "'[0]'", "'[]'", "'[1]'", "'[-2]'",
              "'[1,1,1,1]'", "'[1e-30,1e-30]'", "'[1e30,1e30]'", "'[1e38,1e38]'",
              "'[nan,1]'", "'[inf,1]'", "'[-0]'", "vec_int8('[3,4]')", "vec_bit(X'ff')",
              "NULL", "1", "1.5", "'abc'", "X'00'", "X''", "'[1,2,3]'",
              "'[0.1,0.2,0.3]'"]:
        add("select vec_normalize(%s)" % a)
    add("select vec_normalize()")
    add("select vec_normalize('[1]', '[1]')")
    add("select vec_type(vec_normalize('[3,4]'))")
    add("select vec_to_json(vec_normalize('[3,4]'))")
    add("select vec_to_json(vec_normalize('[0,0]'))")
    add("select vec_to_json(vec_normalize('[1,2,3]'))")

    # --- vec_slice --------------------------------------------------------
    V = "'[1,2,3,4,5]'"
    for s, e in [(0, 5), (0, 1), (1, 3), (4, 5), (0, 0), (2, 2), (5, 5), (3, 1),
                 (-1, 3), (0, -1), (-1, -1), (0, 6), (6, 7), (5, 6), (1, 100),
                 (0, 4), (1, 5)]:
        add("select vec_slice(%s, %d, %d)" % (V, s, e))
    for s in [0, 1, 4, 5, 6, -1]:
        add("select vec_slice(%s, %d)" % (V, s))
    add("select vec_slice(%s, 1.5, 3)" % V)
    add("select vec_slice(%s, '1', 3)" % V)
    add("select vec_slice(%s, 1, '3')" % V)
    add("select vec_slice(%s, 1, 3.9)" % V)
    add("select vec_slice(%s, NULL, 3)" % V)
    add("select vec_slice(%s, 1, NULL)" % V)
    add("select vec_slice(%s, 'abc', 3)" % V)
    add("select vec_slice(%s, X'01', 3)" % V)
    add("select vec_slice(NULL, 0, 1)")
    add("select vec_slice(%s, 0, 2)" % xf32(1, 2, 3))
    add("select vec_slice(vec_int8('[1,2,3,4]'), 1, 3)")
    add("select vec_slice(vec_int8('[1,2,3,4]'), 1)")
    add("select vec_slice(X'00', 0, 1)")
    add("select vec_slice('[1,', 0, 1)")
    add("select vec_slice(1, 0, 1)")
    add("select vec_slice()")
    add("select vec_slice(%s)" % V)
    add("select vec_slice(%s, 0, 1, 2)" % V)
    add("select vec_slice(%s, 9223372036854775807, 3)" % V)
    add("select vec_slice(%s, 0, 4294967297)" % V)
    add("select vec_slice(%s, 4294967296, 4294967297)" % V)
    add("select vec_type(vec_slice(%s, 0, 2))" % V)
    add("select vec_to_json(vec_slice(%s, 1, 3))" % V)
    BV = "vec_bit(X'f00f55aa')"  # 32 bits
    for s, e in [(0, 8), (8, 16), (0, 32), (8, 32), (0, 4), (4, 8), (1, 9), (0, 12),
                 (8, 8), (16, 8), (0, 40), (32, 40), (-8, 8), (24, 32)]:
        add("select vec_slice(%s, %d, %d)" % (BV, s, e))
    add("select vec_slice(%s, 8)" % BV)
    add("select vec_slice(%s, 4)" % BV)
    add("select vec_type(vec_slice(%s, 8, 16))" % BV)
    add("select vec_length(vec_slice(%s, 8, 24))" % BV)

    # --- vec_quantize_binary ----------------------------------------------
    for a in ["'[1,-1,1,-1,1,-1,1,-1]'", "'[0,0,0,0,0,0,0,0]'",
              "'[-0.0,0,0,0,0,0,0,0.000001]'", "'[1,2,3]'", "'[]'",
              "'[1,1,1,1,1,1,1,1,-1,-1,-1,-1,-1,-1,-1,-1]'",
              "'[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]'",
              "'[nan,nan,nan,nan,nan,nan,nan,nan]'",
              "'[-1,-1,-1,-1,-1,-1,-1,1]'",
              "vec_int8('[1,-1,1,-1,1,-1,1,-1]')", "vec_int8('[0,0,0,0,0,0,0,1]')",
              "vec_int8('[1,2,3]')", "vec_bit(X'ff')", "NULL", "1", "'abc'",
              xf32(1, -1, 1, -1, 1, -1, 1, -1), "X'00'", "X''"]:
        add("select vec_quantize_binary(%s)" % a)
    add("select vec_quantize_binary()")
    add("select vec_quantize_binary('[1,2,3,4,5,6,7,8]', 1)")
    add("select vec_type(vec_quantize_binary('[1,2,3,4,5,6,7,8]'))")
    add("select vec_length(vec_quantize_binary('[1,2,3,4,5,6,7,8]'))")

    # --- vec_quantize_int8 ------------------------------------------------
    for a in ["'[0.1,-0.5,1]'", "'[1,-1,0]'", "'[0.5]'", "'[2,-2]'", "'[0.999,-0.999]'",
              "'[0.0039]'", "'[0.004]'", "'[-0.004]'", "'[-1]'", "'[-0.996]'",
              "'[0.25,0.75,-0.25,-0.75]'", "'[]'", "'[nan]'", "'[inf]'", "'[-inf]'",
              "'[100]'", "'[-100]'", "vec_int8('[1]')", "vec_bit(X'ff')", "NULL",
              "1", "'abc'", "X'00'", xf32(0.5, -0.5)]:
        add("select vec_quantize_int8(%s, 'unit')" % a)
    for mode in ["'UNIT'", "'Unit'", "'unit '", "'unitx'", "'range'", "'binary'",
                 "''", "NULL", "1", "1.5", "X'756e6974'", "'[0,1]'",
                 "json_object('min', -1, 'max', 1)", "'{\"min\":-1,\"max\":1}'",
                 "'[-1,1]'"]:
        add("select vec_quantize_int8('[0.1,-0.5,1]', %s)" % mode)
    add("select vec_quantize_int8('[0.1,-0.5,1]')")
    add("select vec_quantize_int8()")
    add("select vec_quantize_int8('[0.1]', 'unit', 1)")
    add("select vec_quantize_int8('[0.1]', 'unit', '[1]')")
    add("select vec_type(vec_quantize_int8('[0.1,-0.5,1]', 'unit'))")
    add("select vec_to_json(vec_quantize_int8('[0.1,-0.5,1,-1,0.5]', 'unit'))")

    # --- distances --------------------------------------------------------
    dist_pairs = [
        (F3, "'[4,5,6]'"), (F3, F3), (F3B, xf32(4, 5, 6)), (F3, xf32(1, 2, 4)),
        ("'[1]'", "'[1,2]'"), ("'[]'", "'[]'"), ("'[0,0]'", "'[0,0]'"),
        ("'[0,0]'", "'[1,0]'"), ("'[1,0]'", "'[0,1]'"), ("'[1,0]'", "'[-1,0]'"),
        ("'[1,1]'", "'[2,2]'"), ("'[nan]'", "'[1]'"), ("'[inf]'", "'[1]'"),
        ("'[inf]'", "'[inf]'"), ("'[1e38,1e38]'", "'[-1e38,-1e38]'"),
        ("'[1e-30]'", "'[0]'"), ("'[0.1,0.2,0.3]'", "'[0.3,0.2,0.1]'"),
        ("vec_int8('[1,2,3]')", "vec_int8('[4,5,6]')"),
        ("vec_int8('[127]')", "vec_int8('[-128]')"),
        ("vec_int8('[0,0]')", "vec_int8('[0,0]')"),
        ("vec_int8('[1,0]')", "vec_int8('[0,1]')"),
        ("vec_int8('[1,2,3]')", F3), (F3, "vec_int8('[1,2,3]')"),
        ("vec_bit(X'ff')", "vec_bit(X'00')"), ("vec_bit(X'f0')", "vec_bit(X'0f')"),
        ("vec_bit(X'ffff')", "vec_bit(X'0100')"),
        ("vec_bit(X'ff')", "vec_bit(X'ffff')"), ("vec_bit(X'ff')", "X'00'"),
        ("vec_bit(X'ff')", "'[1,2]'"), ("vec_bit(X'ffff')", "vec_int8('[1,2]')"),
        ("NULL", F3), (F3, "NULL"), ("NULL", "NULL"), ("1", F3), (F3, "1"),
        ("1.5", F3), ("'abc'", F3), (F3, "'abc'"), ("X'00'", F3), (F3, "X'00'"),
        ("'[1,'", "'[2]'"), ("X'0000'", "X'0000'"),
    ]
    for fn in ["vec_distance_l2", "vec_distance_l1", "vec_distance_cosine",
               "vec_distance_hamming"]:
        for a, b in dist_pairs:
            add("select %s(%s, %s)" % (fn, a, b))
        add("select %s('[1]')" % fn)
        add("select %s()" % fn)
        add("select %s('[1]', '[1]', '[1]')" % fn)
        add("select typeof(%s('[1,2]', '[3,4]'))" % fn)
    # bigger hamming (exercise 64-bit chunks)
    add("select vec_distance_hamming(vec_bit(X'%s'), vec_bit(X'%s'))" % ("ff" * 16, "0f" * 16))
    add("select vec_distance_hamming(vec_bit(X'%s'), vec_bit(X'%s'))" % ("ab" * 13, "cd" * 13))

    # --- vec_each ---------------------------------------------------------
    for a in [F3, F3B, "'[]'", "'[1.5,-2]'", "vec_int8('[1,-2,3]')",
              "vec_bit(X'a5')", "vec_bit(X'0180')", "NULL", "1", "1.5", "'abc'",
              "X'00'", "X''", "'[1,'", "'[nan,inf]'", "vec_quantize_int8('[0.5]', 'unit')"]:
        add("select rowid, value from vec_each(%s)" % a)
        add("select * from vec_each(%s)" % a)
    add("select rowid, value, typeof(value) from vec_each('[1,2]')")
    add("select value from vec_each()")
    add("select value from vec_each('[1]', '[2]')")
    add("select vector from vec_each('[1,2]')")
    add("select rowid, value from vec_each('[1,2,3]') where rowid = 1")
    add("select rowid, value from vec_each('[1,2,3]') order by value desc")
    add("select count(*) from vec_each('[1,2,3,4,5]')")
    add("select v.value from json_each('[1,2]') j, vec_each('[10,20]') v")
    add("select e.rowid, e.value from (select '[1,2]' as v) t, vec_each(t.v) e")

    # --- subtype observation: plain blob vs subtyped in other functions ---
    add("select vec_type(X'0102')")  # a 2-byte blob, no subtype
    add("select vec_length(X'0102')")
    add("select vec_length(X'01020304')")
    add("select vec_type(X'01020304')")
    add("select vec_distance_l2(X'01020304', vec_int8(X'01020304'))")
    add("select vec_distance_hamming(X'ff', X'00')")
    add("select vec_distance_hamming(X'ffffffff', X'00000000')")
    add("select vec_type((select vec_int8('[1,2,3,4]')))")
    add("select vec_type(v) from (select vec_int8('[1,2,3,4]') as v)")
    add("select vec_type(cast(vec_int8('[1,2,3,4]') as blob))")
    add("select vec_type(vec_int8('[1,2,3,4]') || X'')")
    add("select vec_type(coalesce(vec_bit(X'ff'), 1))")


    # === round 2: extra edge cases ==========================================
    # strtod range handling and odd whitespace / bytes
    for j in ["[1e-400]", "[-1e-400]", "[1e-310]", "[-1e309]", "[4.9e-324]", "[2.2250738585072014e-308]",
              "[0e0]", "[0.0e-999]", "[1E-5]", "[ 1e2 ]", "[1.]", "[+.5e1]", "[0x1p3]", "[0X1A]",
              "[NAN]", "[nan(123)]", "[INF]", "[inFinity]", "[infinit]", "[1,nan,2]", "[1 ,]", "[,]",
              "[ ]", "[\t]", "[]]", "[ ] ", "[1]]]]", "[1,2,3] trailing", "[1, 2, 3 ]xyz", "  \n\t[1]",
              "\r[1]", "[\r1\r]", "[1\n,\n2]", "[1,,,,2]", "[1,,]", "[,,]", "[1 ,, 2]", "[1}", "[1)",
              "[1:2]", "[1\"]", "[\"a\"]", "[{}]", "[1e1e1]", "[1..2]", "[.]", "[-.]", "[+-1]", "[- 1]",
              "[00001]", "[-00.5]", "[0.1e1,0.2e1]"]:
        add("select vec_f32(%s)" % q(j))
        add("select vec_length(%s)" % q(j))
    add("select vec_f32(char(12)||'[1]')")       # form feed: not JSON whitespace
    add("select vec_f32(char(11)||'[1]')")       # vertical tab
    add("select vec_f32(char(13)||'[1]')")       # CR is whitespace
    add("select vec_f32('[1'||char(0)||',2]')")  # embedded NUL
    add("select vec_f32('[1,2]'||char(0))")
    add("select vec_f32(char(0)||'[1]')")
    add("select vec_f32('[1,' || char(12) || '2]')")
    add("select vec_f32(cast(X'5b315d' as text))")  # '[1]' via cast
    add("select vec_f32(X'5b315d00')")  # 4-byte blob that looks like text
    for j in ["[0x10]", "[007]", "[+5]", "[ -5 ]", "[-0]", "[1,2,]", "[1 2]", "[1,,2]", "[127,]",
              "[-128", "[1e0]", "[9223372036854775807]", "[9223372036854775808]",
              "[-9223372036854775809]", "[99999999999999999999]", "[1.0]", "[0.]", "[1,2]x",
              "[]", "[", "", " ", "[,1]", "[ ]"]:
        add("select vec_int8(%s)" % q(j))
    add("select vec_int8(char(13)||'[1]')")
    add("select vec_int8(char(12)||'[1]')")
    add("select vec_int8('[1'||char(0)||',2]')")

    # JSON subtype (74) inputs are read as float32 JSON
    for e in ["json_array(1,2)", "json('[1,2]')", "json(' [1.5, 2] ')", "json_array()",
              "json_array(1,'a')", "json_object('a',1)", "json_array(json_array(1))",
              "vec_to_json('[1,2]')", "vec_to_json(vec_int8('[1,2]'))",
              "vec_to_json(vec_bit(X'01'))"]:
        add("select vec_length(%s)" % e)
        add("select vec_type(%s)" % e)
        add("select vec_f32(%s)" % e)
    add("select vec_int8(json_array(1,2))")
    add("select vec_bit(json_array(1,2))")
    add("select vec_add(json_array(1,2), '[1,1]')")
    add("select vec_distance_l2(json_array(1,2), vec_f32('[1,1]'))")
    add("select vec_distance_l2(json_array(1,2), vec_int8('[1,1]'))")
    add("select rowid, value from vec_each(json_array(1,2))")
    add("select json_array(vec_to_json('[1]'))")
    add("select json_array(vec_to_json(vec_int8('[1,2]')))")
    add("select json_array(vec_f32('[1]'))")
    add("select json_valid(vec_to_json('[nan,inf]'))")
    add("select json_array(vec_to_json('[inf]'))")
    add("select json_array(vec_to_json('[nan]'))")
    add("select json_array(vec_version())")

    # vec_to_json formatting (SQLite printf %f)
    for j in ["[-0.0000001]", "[0.0000005]", "[0.0000015]", "[0.0000025]", "[1e16]", "[1e17]",
              "[123456.7]", "[0.0078125]", "[-0.0078125]", "[0.0234375]", "[0.5]", "[0.0000004]",
              "[2.0000005]", "[1.9999999]", "[9.9999999]", "[99999.99]", "[-1e-10]", "[-1]",
              "[16777216]", "[16777217]", "[1e7]", "[1e8]", "[1e9]", "[4294967296]",
              "[0.33333334]", "[0.6666667]", "[1.1]", "[2.2]", "[3.3]", "[1e-6]", "[1e-5]",
              "[5e-7]", "[-5e-7]", "[1e30]", "[-3.4028235e38]", "[0.03125,0.0625,0.09375]",
              "[1,-1,0.5,-0.5,0.25,-0.25]", "[0.015625]", "[0.0000009765625]"]:
        add("select vec_to_json(%s)" % q(j))
    add("select vec_to_json(X'0000c0ff')")  # negative NaN
    add("select vec_to_json(X'0100c07f')")  # NaN payload
    add("select vec_to_json(X'00008000')")  # smallest normal
    add("select vec_to_json(X'ffff7fff')")  # -FLT_MAX
    add("select vec_to_json(vec_bit(X'0123456789abcdef'))")
    add("select vec_to_json(vec_int8(X'00017f80ff'))")
    add("select length(vec_to_json(vec_bit(X'%s')))" % ("ff" * 64))

    # vec_each bit order (MSB-first!) vs vec_to_json (LSB-first)
    for h in ["01", "80", "0f", "f0", "c0", "03", "0102"]:
        add("select rowid, value from vec_each(vec_bit(X'%s'))" % h)
        add("select vec_to_json(vec_bit(X'%s'))" % h)
    add("select rowid, value from vec_each(vec_int8(X'7f80ff00'))")
    add("select rowid, value from vec_each(X'0000c07f0000807f000080ff00000080')")
    add("select typeof(value) from vec_each(vec_int8('[1]'))")
    add("select typeof(value) from vec_each(vec_bit(X'ff'))")
    add("select typeof(value) from vec_each('[1]')")
    add("select rowid, value from vec_each('[1,2,3]') where value > 1.5")
    add("select rowid, value from vec_each('[1,2,3]') limit 1 offset 1")
    add("select rowid, value, vector from vec_each('[1,2]')")
    add("select * from vec_each where vector = '[1,2]'")
    add("select value from vec_each where vector = vec_int8('[5,6]')")
    add("select value from vec_each('[1]') where vector = '[2]'")
    add("select sum(value) from vec_each(vec_f32('[1.5,2.5,3]'))")
    add("select count(*) from vec_each(vec_bit(X'ffffffff'))")
    add("select rowid, value from vec_each('[1,2,3]') where rowid >= 1")
    add("select value from vec_each(vec_bit(X''))")
    add("select value from vec_each(vec_int8(X''))")
    add("create table t(x)")  # DDL sanity
    add("select value from vec_each('[1,2]') e where e.rowid in (0, 1)")

    # vec_quantize_int8 sweep: formula ((x + 1) / (2/255)) - 128, converted to int8
    xs = [-2.0, -1.5, -1.01, -1.0, -0.999, -0.99, -0.75, -0.5, -0.4, -0.3, -0.25, -0.2, -0.1,
          -0.05, -0.01, -0.004, -0.0039, -0.002, 0.0, 0.001, 0.002, 0.0039, 0.004, 0.0079,
          0.008, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.99,
          0.996, 0.997, 0.998, 0.999, 1.0, 1.001, 1.003, 1.004, 1.01, 1.5, 2.0, 3.0, 10.0,
          1e10, -1e10, 3.4e38, -3.4e38]
    for x in xs:
        add("select vec_quantize_int8('[%r]', 'unit')" % x)
    for k in range(-128, 128, 1):
        # inputs landing exactly on each bucket boundary/center
        x = (k + 128) * (2.0 / 255) - 1.0
        add("select hex(vec_quantize_int8('[%r,%r]', 'unit'))" % (x, x + 1.0 / 255))
    add("select vec_quantize_int8('[-0.0]', 'unit')")
    add("select vec_quantize_int8(json_array(0.5, -0.5), 'unit')")
    add("select vec_quantize_int8(vec_f32('[0.5]'), 'unit')")
    add("select vec_quantize_int8('[0.5]', 'unit' || '')")
    add("select vec_quantize_int8('[0.5]', 'uNiT')")
    add("select vec_quantize_int8('[0.5]', cast('unit' as blob))")
    add("select vec_quantize_int8(NULL, 'bogus')")
    add("select vec_quantize_int8('[]', 'bogus')")
    add("select vec_quantize_int8('abc', NULL)")

    # vec_quantize_binary more
    add("select vec_quantize_binary('[%s]')" % ",".join(str((-1) ** i * (i + 1)) for i in range(64)))
    add("select vec_quantize_binary('[%s]')" % ",".join(["0.0"] * 7 + ["1e-45"]))
    add("select vec_quantize_binary('[%s]')" % ",".join(["-0.0"] * 8))
    add("select vec_quantize_binary('[%s]')" % ",".join(["inf", "-inf"] * 4))
    add("select vec_quantize_binary(json_array(1,1,1,1,0,0,0,0))")
    add("select vec_quantize_binary(vec_int8('[-128,127,0,1,-1,2,-2,3]'))")
    add("select vec_quantize_binary('[1,2,3,4,5,6,7,8,9]')")
    add("select vec_to_json(vec_quantize_binary('[1,2,3,4,5,6,7,8]'))")
    add("select rowid, value from vec_each(vec_quantize_binary('[1,-1,-1,-1,-1,-1,-1,-1]'))")

    # vec_slice more
    add("select vec_slice('[1,2,3]', '2abc', 3)")
    add("select vec_slice('[1,2,3]', ' 1', 3)")
    add("select vec_slice('[1,2,3]', 0, '3.7')")
    add("select vec_slice('[1,2,3]', 0.9999, 2)")
    add("select vec_slice('[1,2,3]', -0.5, 2)")
    add("select vec_slice('[1,2,3]', 0, 2147483648)")
    add("select vec_slice('[1,2,3]', 0, -2147483649)")
    add("select vec_slice('[1,2,3]', 2147483647, 2147483647)")
    add("select vec_slice('[1,2,3]', 4, 2)")
    add("select vec_slice('[1,2,3]', 4, 4)")
    add("select vec_slice('[1,2,3]', 3, 2)")
    add("select vec_slice('[1,2,3]', 1, 0)")
    add("select vec_slice('[1,2,3]', -1, 10)")
    add("select vec_slice('[1,2,3]', 10, -1)")
    add("select vec_slice('[1,2,3]', 1, 1e10)")
    add("select vec_slice('[1,2,3]', NULL, NULL)")
    add("select vec_slice('[1,2,3]', 1, X'')")
    add("select vec_slice(vec_bit(X'ffff'), 0, 16)")
    add("select vec_slice(vec_bit(X'ffff'), 16, 16)")
    add("select vec_slice(vec_bit(X'ffff'), 3, 3)")
    add("select vec_slice(vec_bit(X'ffff'), 3, 2)")
    add("select vec_slice(vec_bit(X'ffff'), 3, 20)")
    add("select vec_slice(vec_bit(X'ffff'), 17, 20)")
    add("select vec_slice(vec_bit(X'ffff'), 4, 12)")
    add("select vec_slice(vec_bit(X'ffff'), 8, 12)")
    add("select vec_slice(vec_int8('[1,2,3]'), 0, 3)")
    add("select vec_slice(vec_int8('[1,2,3]'), 2, 3)")
    add("select vec_slice(vec_int8('[1,2,3]'), 3, 4)")
    add("select vec_type(vec_slice(vec_int8('[1,2,3]'), 0, 2))")
    add("select vec_slice(json_array(1,2,3), 1, 2)")
    add("select vec_slice('[]', 0, 1)")
    add("select vec_slice('[1,2,3]', 'x', 'y')")

    # vec_add/sub extra
    add("select vec_add(vec_int8('[127,-128,100,-100]'), vec_int8('[1,-1,100,-100]'))")
    add("select vec_sub(vec_int8('[-128,127,-100]'), vec_int8('[1,-1,100]'))")
    add("select vec_add('[1,2]', json_array(3,4))")
    add("select vec_add(X'0000803f', X'00000040')")
    add("select vec_add(vec_bit(X'ff'), vec_bit(X'ffff'))")
    add("select vec_add(vec_bit(X'ff'), vec_int8('[1]'))")
    add("select vec_add(vec_int8('[1]'), vec_bit(X'ff'))")
    add("select vec_sub(vec_bit(X'ff'), vec_int8('[1,2,3,4,5,6,7,8]'))")
    add("select vec_add('[1]', X'')")
    add("select vec_add(X'', '[1]')")
    add("select vec_add(vec_bit(X''), '[1]')")
    add("select vec_add('[1]', vec_int8(X''))")
    add("select vec_add(vec_int8('[1]'), X'0000803f')")
    add("select vec_add(vec_bit(X'01'), vec_bit(X'01020304'))")
    add("select vec_add('[1e30]', '[-1e30]')")
    add("select vec_sub('[-0]', '[0]')")
    add("select vec_sub('[0]', '[0]')")
    add("select vec_add('[-0]', '[-0]')")

    # distances extra
    for fn in ["vec_distance_l2", "vec_distance_l1", "vec_distance_cosine"]:
        add("select %s(vec_int8('[%s]'), vec_int8('[%s]'))" % (fn, ",".join(["127"] * 100), ",".join(["-128"] * 100)))
        add("select %s(vec_int8('[%s]'), vec_int8('[%s]'))" % (fn, ",".join(str(i - 64) for i in range(128)), ",".join(str(63 - i) for i in range(128))))
        add("select %s('[1e20]', '[-1e20]')" % fn)
        add("select %s('[1e19,1e19]', '[0,0]')" % fn)
        add("select %s('[-0]', '[0]')" % fn)
        add("select %s('[1]', '[-0]')" % fn)
        add("select %s('[3,4]', '[0,0]')" % fn)
        add("select %s(vec_int8('[0]'), vec_int8('[1]'))" % fn)
        add("select %s(vec_int8('[-128]'), vec_int8('[-128]'))" % fn)
        add("select %s(json_array(1,2), '[3,4]')" % fn)
        add("select %s(vec_bit(X'ff'), vec_int8('[1]'))" % fn)
        add("select %s(vec_int8(X'ff'), vec_bit(X'ff'))" % fn)
        add("select %s(X'', '[1]')" % fn)
        add("select %s('[1]', X'')" % fn)
        add("select %s(vec_bit(X''), '[1]')" % fn)
        add("select %s('[1]', vec_bit(X''))" % fn)
        add("select %s('[1]', vec_int8('[]'))" % fn)
        add("select %s('abc', NULL)" % fn)
        add("select %s(NULL, 'abc')" % fn)
        add("select %s('[1,2]', '[1,2,3]')" % fn)
        add("select %s(vec_int8('[1,2]'), '[1,2,3]')" % fn)  # type checked before dims
    add("select vec_distance_cosine('[1,2,3]', '[-1,-2,-3]')")
    add("select vec_distance_cosine('[1,2,3]', '[2,4,6]')")
    add("select vec_distance_cosine('[0.1,0.2]', '[0.2,0.4]')")
    add("select vec_distance_cosine('[1e-20,1e-20]', '[1e-20,1e-20]')")
    add("select vec_distance_cosine('[1e20,1e20]', '[1e20,1e20]')")
    add("select vec_distance_cosine(vec_int8('[127,127]'), vec_int8('[127,127]'))")
    add("select vec_distance_cosine(vec_int8('[1,1]'), vec_int8('[2,2]'))")
    add("select vec_distance_cosine(vec_int8('[1,2,3]'), vec_int8('[-1,-2,-3]'))")
    add("select vec_distance_l1('[0.1,0.2,0.3,0.4]', '[0.4,0.3,0.2,0.1]')")
    add("select vec_distance_l1(vec_int8('[-128]'), vec_int8('[127]'))")
    add("select typeof(vec_distance_l1(vec_int8('[1]'), vec_int8('[2]')))")
    add("select typeof(vec_distance_l2(vec_int8('[1]'), vec_int8('[2]')))")
    add("select typeof(vec_distance_cosine(vec_int8('[1]'), vec_int8('[2]')))")
    add("select typeof(vec_distance_hamming(vec_bit(X'01'), vec_bit(X'02')))")
    add("select vec_distance_l2('[nan]', '[nan]')")
    add("select typeof(vec_distance_l2('[nan]', '[1]'))")
    add("select typeof(vec_distance_cosine('[0]', '[0]'))")
    add("select coalesce(vec_distance_cosine('[0]', '[0]'), 'was-null')")
    add("select vec_distance_cosine('[0]', '[0]') is null")
    add("select vec_distance_l2('[-inf]', '[inf]')")
    add("select vec_distance_l1('[-inf]', '[inf]')")
    for nbytes in [1, 2, 7, 8, 9, 16, 24]:
        a = "".join("%02x" % ((i * 37 + 11) & 255) for i in range(nbytes))
        b = "".join("%02x" % ((i * 91 + 5) & 255) for i in range(nbytes))
        add("select vec_distance_hamming(vec_bit(X'%s'), vec_bit(X'%s'))" % (a, b))
    add("select vec_distance_hamming(vec_bit(X'ff'), '[1]')")
    add("select vec_distance_hamming(vec_bit(X'ff'), NULL)")
    add("select vec_distance_hamming(vec_bit(X'ff'), vec_bit(X''))")
    add("select vec_distance_hamming(vec_bit(X'ff'), vec_int8('[1]'))")
    add("select vec_distance_hamming(vec_int8('[1]'), vec_bit(X'ff'))")

    # deterministic pseudo-random float vectors (exercise accumulation order/precision)
    import random
    rnd = random.Random(1234)
    for dim in [1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 257]:
        for rep in range(2):
            a = [rnd.uniform(-2, 2) for _ in range(dim)]
            b = [rnd.uniform(-2, 2) for _ in range(dim)]
            A = xf32(*a)
            B = xf32(*b)
            add("select vec_distance_l2(%s, %s)" % (A, B))
            add("select vec_distance_l1(%s, %s)" % (A, B))
            add("select vec_distance_cosine(%s, %s)" % (A, B))
            add("select vec_normalize(%s)" % A)
            add("select vec_add(%s, %s)" % (A, B))
            add("select vec_sub(%s, %s)" % (A, B))
            add("select vec_to_json(%s)" % A)
            add("select vec_quantize_int8(%s, 'unit')" % A)
            if dim % 8 == 0:
                add("select vec_quantize_binary(%s)" % A)
            ia = [rnd.randint(-128, 127) for _ in range(dim)]
            ib = [rnd.randint(-128, 127) for _ in range(dim)]
            IA = "vec_int8(%s)" % xi8(*ia)
            IB = "vec_int8(%s)" % xi8(*ib)
            add("select vec_distance_l2(%s, %s)" % (IA, IB))
            add("select vec_distance_l1(%s, %s)" % (IA, IB))
            add("select vec_distance_cosine(%s, %s)" % (IA, IB))
            add("select vec_to_json(%s)" % IA)
            # JSON text input with many digits
            add("select vec_f32(%s)" % q("[" + ",".join(repr(x) for x in a) + "]"))

    # subtype propagation / plain blobs
    add("select vec_type(vec_slice(vec_bit(X'ffff'), 8, 16))")
    add("select vec_type(vec_add(vec_f32('[1]'), '[1]'))")
    add("select vec_type(vec_normalize(vec_f32('[1]')))")
    add("select vec_type(vec_f32(vec_int8(X'01020304')))")
    add("select vec_type(vec_int8(vec_f32('[1]')))")
    add("select vec_type(vec_bit(vec_int8(X'01')))")
    add("select vec_type(vec_bit(X'01020304'))")
    add("select vec_type(X'01')")
    add("select vec_type(randomblob(8))")
    add("select vec_length(zeroblob(8))")
    add("select vec_length(zeroblob(0))")
    add("select vec_length(vec_int8(zeroblob(3)))")
    add("select vec_length(vec_bit(zeroblob(3)))")
    add("select vec_type(case when 1 then vec_int8('[1]') end)")
    add("select vec_type(iif(1, vec_bit(X'ff'), NULL))")
    add("select vec_type(max(vec_int8('[1]')))")
    add("select vec_type(nullif(vec_int8('[1]'), X'00'))")
    add("select vec_type(ifnull(vec_int8('[1]'), X'00'))")
    add("select vec_type(vec_int8('[1]') collate nocase)")
    add("select vec_type(+vec_int8('[1]'))")
    add("select vec_type(likely(vec_int8('[1]')))")
    add("select vec_type(x) from (select vec_bit(X'ff') as x union all select vec_int8('[1]'))")
    add("select vec_type(column1) from (values (vec_int8('[1]')))")
    add("with t(x) as (select vec_int8('[1,2]')) select vec_type(x) from t")
    add("with t(x) as materialized (select vec_int8('[1,2]')) select vec_type(x) from t")
    add("select vec_type(vec_to_json(vec_int8('[1,2]')))")
    add("select vec_to_json(vec_to_json(vec_int8('[1,2]')))")
    add("select vec_to_json(vec_to_json(vec_bit(X'03')))")
    add("select typeof(vec_to_json(vec_bit(X'03')))")


    # === round 3: systematic argument-type matrix =============================
    scalar_args = ["NULL", "0", "-1", "1.5", "''", "'abc'", "'[1]'", "'[1,2,3,4,5,6,7,8]'",
                   "X''", "X'00'", "X'0000803f'", "X'0000803f0000004000004040000080400000a0400000c0400000e04000000041'",
                   "vec_int8('[1]')", "vec_int8('[1,2,3,4,5,6,7,8]')", "vec_bit(X'01')",
                   "vec_bit(X'0102')", "json_array(1,2)", "vec_to_json('[1,2]')"]
    for fn in ["vec_f32", "vec_int8", "vec_bit", "vec_length", "vec_type", "vec_to_json",
               "vec_normalize", "vec_quantize_binary"]:
        for a in scalar_args:
            add("select %s(%s)" % (fn, a))
            add("select typeof(%s(%s))" % (fn, a))
    for a in scalar_args:
        add("select vec_quantize_int8(%s, 'unit')" % a)
        add("select vec_slice(%s, 0, 1)" % a)
        add("select vec_slice(%s, 0, 8)" % a)
        add("select rowid, value from vec_each(%s)" % a)
    pair_args = ["'[1,2]'", "X'0000803f00000040'", "json_array(1,2)", "vec_int8('[1,2]')",
                 "vec_int8(X'0102030405060708')", "vec_bit(X'01')", "vec_bit(X'0102')",
                 "'[1,2,3,4,5,6,7,8]'", "NULL", "1", "'x'", "X'00'"]
    for fn in ["vec_add", "vec_sub", "vec_distance_l2", "vec_distance_l1",
               "vec_distance_cosine", "vec_distance_hamming"]:
        for a in pair_args:
            for b in pair_args:
                add("select %s(%s, %s)" % (fn, a, b))


    # === round 4: %f rounding ties (exact binary values ending in 5 at the 7th decimal) ==
    for x in [59255.2578125, -97795.6328125, -45605.0078125, 127954.6953125, 0.0078125,
              0.0234375, 1.0000005, 0.0000025, 1024.0000005, 0.5000005,
              3.0517578125e-05, 1.52587890625e-05, 7.62939453125e-06, 100.0078125, -100.0078125,
              8388607.5, 8388608.5, 4194303.25, 16777215.0, 123456.7890625,
              1.2345678e16, 9.876543e17, 1.1e18, 4.4e19, 2.0 ** 60, 2.0 ** 70, 2.0 ** 100, 2.0 ** 127]:
        add("select vec_to_json(%s)" % xf32(x))

    # dedupe preserving order
    seen = set()
    out = []
    for s in C:
        if s is None:
            continue
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def main():
    import sqlite_vec  # noqa: F401

    conn0 = connect_sqlite_vec()
    version = conn0.execute("select vec_version()").fetchone()[0]
    if version != "v0.1.9":
        print("warning: sqlite-vec version is %s, expected v0.1.9" % version, file=sys.stderr)
    conn0.close()
    results = []
    for sql in cases():
        conn = connect_sqlite_vec()
        results.append(run_case(conn, sql))
        conn.close()
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
        f.write("\n")
    n_err = sum(1 for r in results if "error" in r)
    print("wrote %d cases (%d errors) to %s" % (len(results), n_err, OUT))


if __name__ == "__main__":
    main()
