//! Every scalar function through a real SQLite connection (rusqlite, bundled SQLite), with
//! vecsql registered as a Rust library: results, NULL handling, subtypes and error messages.

use rusqlite::types::Value;
use rusqlite::Connection;

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    vecsql::register(&conn).unwrap();
    conn
}

fn one(conn: &Connection, sql: &str) -> Value {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn text(conn: &Connection, sql: &str) -> String {
    match one(conn, sql) {
        Value::Text(t) => t,
        other => panic!("{sql}: expected text, got {other:?}"),
    }
}

fn real(conn: &Connection, sql: &str) -> f64 {
    match one(conn, sql) {
        Value::Real(f) => f,
        other => panic!("{sql}: expected real, got {other:?}"),
    }
}

fn blob(conn: &Connection, sql: &str) -> Vec<u8> {
    match one(conn, sql) {
        Value::Blob(b) => b,
        other => panic!("{sql}: expected blob, got {other:?}"),
    }
}

fn error(conn: &Connection, sql: &str) -> String {
    match conn.query_row(sql, [], |r| r.get::<_, Value>(0)) {
        Ok(v) => panic!("{sql}: expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn f32_blob(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn version_and_debug_describe_the_build() {
    let conn = db();
    assert_eq!(
        text(&conn, "select vec_version()"),
        vecsql::SQLITE_VEC_API_VERSION
    );
    assert_eq!(text(&conn, "select vecsql_version()"), vecsql::VERSION);
    let debug = text(&conn, "select vec_debug()");
    assert!(
        debug.starts_with(&format!("Version: {}", vecsql::SQLITE_VEC_API_VERSION)),
        "{debug}"
    );
    assert!(debug.contains("Kernels: "), "{debug}");
}

#[test]
fn vec_f32_reads_json_and_blobs_and_tags_float32() {
    let conn = db();
    assert_eq!(
        blob(&conn, "select vec_f32('[1, 2.5, -3e-2]')"),
        f32_blob(&[1.0, 2.5, -0.03])
    );
    assert_eq!(blob(&conn, "select vec_f32(x'0000803f')"), f32_blob(&[1.0]));
    assert_eq!(text(&conn, "select vec_type(vec_f32('[1]'))"), "float32");
    assert_eq!(
        error(&conn, "select vec_f32(x'000000')"),
        "invalid float32 vector BLOB length. Must be divisible by 4, found 3"
    );
    assert_eq!(
        error(&conn, "select vec_f32(NULL)"),
        "Input must have type BLOB (compact format) or TEXT (JSON), found NULL"
    );
    assert_eq!(
        error(&conn, "select vec_f32(1.5)"),
        "Input must have type BLOB (compact format) or TEXT (JSON), found FLOAT"
    );
    assert_eq!(
        error(&conn, "select vec_f32('[]')"),
        "zero-length vectors are not supported."
    );
    assert_eq!(
        error(&conn, "select vec_f32('abc')"),
        "JSON array parsing error: Input does not start with '['"
    );
}

#[test]
fn malformed_json_is_an_error_with_its_byte_offset() {
    let conn = db();
    assert_eq!(
        error(&conn, "select vec_f32('[1, 2, x]')"),
        "JSON parsing error at byte 7: expected a number, found 'x'"
    );
    assert_eq!(
        error(&conn, "select vec_f32('[1,')"),
        "JSON parsing error at byte 3: expected a number, found end of input"
    );
    assert_eq!(
        error(&conn, "select vec_f32('[1] 2')"),
        "JSON parsing error at byte 4: unexpected '2' after the closing ']'"
    );
    assert_eq!(
        error(&conn, "select vec_f32('[1, nan]')"),
        "JSON parsing error at byte 4: nan is not a finite number"
    );
    assert_eq!(
        error(&conn, "select vec_f32('[1e39]')"),
        "JSON parsing error: element 0 (1000000000000000000000000000000000000000) is out of float32 range"
    );
}

#[test]
fn long_vectors_are_accepted_like_sqlite_vec() {
    let conn = db();
    let big = format!("[{}]", vec!["1"; 65537].join(","));
    assert_eq!(
        one(&conn, &format!("select vec_length(vec_f32('{big}'))")),
        Value::Integer(65537)
    );
    assert_eq!(
        one(&conn, "select vec_length(vec_bit(zeroblob(70000)))"),
        Value::Integer(560_000)
    );
}

#[test]
fn vec_int8_checks_range_and_integrality() {
    let conn = db();
    assert_eq!(
        blob(&conn, "select vec_int8('[-128, 0, 127]')"),
        vec![0x80, 0, 0x7f]
    );
    assert_eq!(text(&conn, "select vec_type(vec_int8(x'0102'))"), "int8");
    assert!(error(&conn, "select vec_int8('[128]')")
        .starts_with("JSON parsing error: value out of range for int8"));
    assert!(error(&conn, "select vec_int8('[1.5]')").starts_with("JSON parsing error"));
    assert_eq!(
        error(&conn, "select vec_int8(NULL)"),
        "Unknown type for int8 vector."
    );
}

#[test]
fn vec_bit_takes_blobs_only() {
    let conn = db();
    assert_eq!(text(&conn, "select vec_type(vec_bit(x'ff'))"), "bit");
    assert_eq!(
        one(&conn, "select vec_length(vec_bit(x'ff00'))"),
        Value::Integer(16)
    );
    assert_eq!(
        error(&conn, "select vec_bit('[1]')"),
        "Unknown type for bitvector."
    );
    assert_eq!(
        error(&conn, "select vec_bit(x'')"),
        "zero-length vectors are not supported."
    );
}

#[test]
fn subtypes_survive_between_functions_but_not_through_tables() {
    let conn = db();
    assert_eq!(
        text(&conn, "select vec_type(vec_int8('[1,2,3,4]'))"),
        "int8"
    );
    // A stored blob loses its subtype, exactly as in sqlite-vec.
    assert_eq!(
        text(
            &conn,
            "select vec_type(v) from (select vec_int8('[1,2,3,4]') as v)"
        ),
        "float32"
    );
    conn.execute_batch("create table t(v); insert into t values (vec_bit(x'ff'));")
        .unwrap();
    assert_eq!(
        error(&conn, "select vec_type(v) from t"),
        "invalid float32 vector BLOB length. Must be divisible by 4, found 1"
    );
    assert_eq!(text(&conn, "select vec_type(vec_bit(v)) from t"), "bit");
}

#[test]
fn vec_to_json_formats_like_sqlite_vec() {
    let conn = db();
    assert_eq!(
        text(&conn, "select vec_to_json('[1, 2.5]')"),
        "[1.000000,2.500000]"
    );
    assert_eq!(
        text(&conn, "select vec_to_json(vec_int8('[1,-2]'))"),
        "[1,-2]"
    );
    assert_eq!(
        text(&conn, "select vec_to_json(vec_bit(x'a5'))"),
        "[1,0,1,0,0,1,0,1]"
    );
    assert_eq!(
        text(&conn, "select vec_to_json(vec_normalize('[0,0]'))"),
        "[null,null]"
    );
    // The JSON subtype makes SQLite's json functions nest the array.
    assert_eq!(
        text(&conn, "select json_array(vec_to_json(vec_int8('[1,2]')))"),
        "[[1,2]]"
    );
}

#[test]
fn arithmetic_keeps_the_type_and_wraps_int8() {
    let conn = db();
    assert_eq!(
        text(&conn, "select vec_to_json(vec_add('[1.5,2]', '[0.25,-4]'))"),
        "[1.750000,-2.000000]"
    );
    assert_eq!(
        blob(&conn, "select vec_add(vec_int8('[127]'), vec_int8('[1]'))"),
        vec![0x80]
    );
    assert_eq!(
        blob(
            &conn,
            "select vec_sub(vec_int8('[-100]'), vec_int8('[100]'))"
        ),
        vec![0x38]
    );
    assert_eq!(
        text(
            &conn,
            "select vec_type(vec_sub(vec_int8('[1]'), vec_int8('[2]')))"
        ),
        "int8"
    );
    assert_eq!(
        error(&conn, "select vec_add(vec_bit(x'ff'), vec_bit(x'ff'))"),
        "Cannot add two bitvectors together."
    );
    assert_eq!(
        error(&conn, "select vec_add('[1]', '[1,2]')"),
        "Vector dimension mistmatch. First vector has 1 dimensions, while the second has 2 dimensions."
    );
    assert_eq!(
        error(&conn, "select vec_add('[1,2]', vec_int8('[1,2]'))"),
        "Vector type mistmatch. First vector has type float32, while the second has type int8."
    );
    assert_eq!(
        error(&conn, "select vec_add(NULL, '[1]')"),
        "Error reading 1st vector: Input must have type BLOB (compact format) or TEXT (JSON), found NULL"
    );
    assert_eq!(
        error(&conn, "select vec_sub('[1]', 'x')"),
        "Error reading 2nd vector: JSON array parsing error: Input does not start with '['"
    );
}

#[test]
fn normalize_and_slice() {
    let conn = db();
    assert_eq!(
        text(&conn, "select vec_to_json(vec_normalize('[3,4]'))"),
        "[0.600000,0.800000]"
    );
    assert_eq!(
        error(&conn, "select vec_normalize(vec_int8('[3,4]'))"),
        "only float32 vectors are supported when normalizing"
    );
    assert_eq!(
        text(&conn, "select vec_to_json(vec_slice('[1,2,3,4,5]', 1, 3))"),
        "[2.000000,3.000000]"
    );
    assert_eq!(
        blob(&conn, "select vec_slice(vec_bit(x'f00f55aa'), 8, 24)"),
        vec![0x0f, 0x55]
    );
    for (sql, msg) in [
        (
            "select vec_slice('[1,2,3]', -1, 2)",
            "slice 'start' index must be a postive number.",
        ),
        (
            "select vec_slice('[1,2,3]', 0, -1)",
            "slice 'end' index must be a postive number.",
        ),
        (
            "select vec_slice('[1,2,3]', 2, 1)",
            "slice 'start' index is greater than 'end' index",
        ),
        (
            "select vec_slice('[1,2,3]', 1, 1)",
            "slice 'start' index is equal to the 'end' index, vectors must have non-zero length",
        ),
        (
            "select vec_slice('[1,2,3]', 4, 5)",
            "slice 'start' index is greater than the number of dimensions",
        ),
        (
            "select vec_slice('[1,2,3]', 0, 4)",
            "slice 'end' index is greater than the number of dimensions",
        ),
        (
            "select vec_slice(vec_bit(x'ffff'), 4, 8)",
            "start index must be divisible by 8.",
        ),
        (
            "select vec_slice(vec_bit(x'ffff'), 0, 4)",
            "end index must be divisible by 8.",
        ),
    ] {
        assert_eq!(error(&conn, sql), msg, "{sql}");
    }
}

#[test]
fn quantizers() {
    let conn = db();
    assert_eq!(
        blob(&conn, "select vec_quantize_binary('[1,-1,1,-1,1,-1,1,-1]')"),
        vec![0x55]
    );
    assert_eq!(
        text(
            &conn,
            "select vec_type(vec_quantize_binary(vec_int8('[1,0,0,0,0,0,0,1]')))"
        ),
        "bit"
    );
    assert_eq!(
        error(&conn, "select vec_quantize_binary('[1,2,3]')"),
        "Binary quantization requires vectors with a length divisible by 8"
    );
    assert_eq!(
        error(&conn, "select vec_quantize_binary(vec_bit(x'ff'))"),
        "Can only binary quantize float or int8 vectors"
    );
    assert_eq!(
        text(
            &conn,
            "select vec_to_json(vec_quantize_int8('[0.1,-0.5,1]', 'unit'))"
        ),
        "[12,-64,126]"
    );
    assert_eq!(
        blob(&conn, "select vec_quantize_int8('[0.5]', 'UNIT')"),
        vec![63]
    );
    assert_eq!(
        error(&conn, "select vec_quantize_int8('[0.5]', 'units')"),
        "2nd argument to vec_quantize_int8() must be 'unit'."
    );
    assert_eq!(
        blob(&conn, "select vec_quantize_int8('[0, 10]', 0, 10)"),
        vec![0x80, 126]
    );
    assert!(error(&conn, "select vec_quantize_int8('[0]', 1, 1)").contains("min < max"));
}

#[test]
fn distances_per_type() {
    let conn = db();
    let l2 = real(&conn, "select vec_distance_l2('[1,2,3]', '[4,5,6]')");
    assert!((l2 - 27f64.sqrt()).abs() < 1e-5, "{l2}");
    assert_eq!(
        one(&conn, "select vec_distance_l1('[1,2]', '[4,-2]')"),
        Value::Real(7.0)
    );
    // sqlite-vec returns int8 L1 as an integer.
    assert_eq!(
        one(
            &conn,
            "select vec_distance_l1(vec_int8('[1,2,3]'), vec_int8('[4,5,6]'))"
        ),
        Value::Integer(9)
    );
    let cos = real(&conn, "select vec_distance_cosine('[1,2,3]', '[4,5,6]')");
    assert!((cos - 0.025368153802923787).abs() < 1e-6, "{cos}");
    assert_eq!(
        one(&conn, "select vec_distance_cosine('[0,0]', '[1,0]')"),
        Value::Null
    );
    assert_eq!(
        real(&conn, "select vec_distance_dot('[1,2,3]', '[4,5,6]')"),
        -32.0
    );
    assert_eq!(
        real(
            &conn,
            "select vec_distance_dot(vec_int8('[1,2]'), vec_int8('[3,4]'))"
        ),
        -11.0
    );
    assert_eq!(
        real(
            &conn,
            "select vec_distance_hamming(vec_bit(x'ffff'), vec_bit(x'0100'))"
        ),
        15.0
    );
    assert_eq!(
        error(&conn, "select vec_distance_hamming('[1]', '[2]')"),
        "Cannot calculate hamming distance between two float32 vectors."
    );
    assert_eq!(
        error(
            &conn,
            "select vec_distance_l2(vec_bit(x'ff'), vec_bit(x'00'))"
        ),
        "Cannot calculate L2 distance between two bitvectors."
    );
    assert_eq!(
        error(
            &conn,
            "select vec_distance_dot(vec_bit(x'ff'), vec_bit(x'00'))"
        ),
        "Cannot calculate dot distance between two bitvectors."
    );
}

#[test]
fn vec_each_yields_one_row_per_element() {
    let conn = db();
    let mut stmt = conn
        .prepare("select rowid, value from vec_each(?)")
        .unwrap();
    let rows: Vec<(i64, f64)> = stmt
        .query_map([f32_blob(&[1.5, -2.0])], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![(0, 1.5), (1, -2.0)]);
    let bits: Vec<i64> = conn
        .prepare("select value from vec_each(vec_bit(x'a5'))")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(bits, vec![1, 0, 1, 0, 0, 1, 0, 1]);
    assert_eq!(
        one(&conn, "select count(*) from vec_each(vec_int8('[1,2,3]'))"),
        Value::Integer(3)
    );
    assert!(error(&conn, "select value from vec_each('[]')").contains("zero-length"));
    assert!(error(&conn, "select value from vec_each()").contains("no query solution"));
    // Lateral use: one vec_each per row of an outer table.
    let n: i64 = conn
        .query_row(
            "select count(*) from (select '[1,2]' v union all select '[3,4,5]') t, vec_each(t.v)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 5);
}

#[test]
fn wrong_argument_counts_are_rejected_by_sqlite() {
    let conn = db();
    assert!(error(&conn, "select vec_f32()")
        .contains("wrong number of arguments to function vec_f32()"));
    assert!(error(&conn, "select vec_slice('[1]', 0)").contains("wrong number of arguments"));
}
