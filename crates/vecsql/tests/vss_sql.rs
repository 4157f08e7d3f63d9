//! sqlite-vss's SQL surface answered by vecsql: the vector0 and vss functions with
//! sqlite-vss's results and error texts, and the `vss0` table (searches, writes, UPDATE,
//! transactions, filters), expected values taken from sqlite-vss 0.1.2.

mod vec0_support;

use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::*;

fn real(conn: &Connection, sql: &str) -> f64 {
    match one(conn, sql) {
        Value::Real(f) => f,
        other => panic!("{sql}: expected a real, got {other:?}"),
    }
}

fn text(conn: &Connection, sql: &str) -> String {
    match one(conn, sql) {
        Value::Text(t) => t,
        other => panic!("{sql}: expected text, got {other:?}"),
    }
}

#[test]
fn vector0_functions_match_sqlite_vss() {
    let conn = db();
    assert_eq!(text(&conn, "select vector_version()"), "v0.1.2");
    assert_eq!(
        text(&conn, "select vector_debug(vector_from_json('[1, 2.5]'))"),
        "size: 2 [1.000000, 2.500000]"
    );
    assert_eq!(
        text(&conn, "select vector_to_json(vector_from_json('[1,0.25]'))"),
        "[1.0,0.25]"
    );
    // Pointer values are NULL to everything but vector functions.
    assert_eq!(one(&conn, "select vector_from_json('[1]')"), Value::Null);
    assert_eq!(
        int(&conn, "select vector_length(vector_from_json('[1,2,3]'))"),
        3
    );
    assert_eq!(
        real(
            &conn,
            "select vector_value_at(vector_from_json('[1,2,3]'), 1)"
        ),
        2.0
    );
    assert_eq!(
        one(&conn, "select vector_to_blob(vector_from_json('[1]'))"),
        Value::Blob(vec![0x76, 0x01, 0, 0, 0x80, 0x3f])
    );
    assert_eq!(
        one(
            &conn,
            "select vector_to_raw(vector_from_blob(x'76010000803f'))"
        ),
        Value::Blob(vec![0, 0, 0x80, 0x3f])
    );
    assert_eq!(
        text(&conn, "select vector_to_json(vector_from_raw(x'0000803f'))"),
        "[1.0]"
    );
    // Blobs with the header, raw blobs and JSON are vectors everywhere.
    assert_eq!(
        text(&conn, "select vector_to_json(x'76010000803f')"),
        "[1.0]"
    );
    assert_eq!(text(&conn, "select vector_to_json('[2]')"), "[2.0]");
    for (sql, message) in [
        (
            "select vector_value_at(vector_from_json('[1,2]'), 5)",
            "5 out of range: vector::_M_range_check: __n (which is 5) >= this->size() \
             (which is 2)",
        ),
        ("select vector_debug(1)", "Value not a vector"),
        (
            "select vector_from_json('[1, \"a\"]')",
            "input not valid json, or contains non-float data",
        ),
        (
            "select vector_from_blob(x'01')",
            "Vector blob size less than header length",
        ),
        (
            "select vector_from_blob(x'0101')",
            "Blob not well-formatted vector blob",
        ),
        ("select vector_from_blob(x'7602')", "Blob type not right"),
        (
            "select vector_from_raw(x'010203')",
            "Invalid raw blob length, blob must be divisible by 4",
        ),
    ] {
        assert_eq!(error(&conn, sql), message, "{sql}");
    }
    let fvecs = "x'020000000000803f000000400100000000004040'";
    assert_eq!(
        rows(
            &conn,
            &format!(
                "select rowid, dimensions, vector_to_json(vector) from vector_fvecs_each({fvecs})"
            )
        ),
        vec![
            vec![
                Value::Integer(1),
                Value::Integer(2),
                Value::Text("[1.0,2.0]".into())
            ],
            vec![
                Value::Integer(2),
                Value::Integer(1),
                Value::Text("[3.0]".into())
            ],
        ]
    );
}

#[test]
fn vss_functions_match_sqlite_vss() {
    let conn = db();
    assert_eq!(text(&conn, "select vss_version()"), "v0.1.2");
    assert!(text(&conn, "select vss_debug()").starts_with("version: v0.1.2\n"));
    assert_eq!(
        real(&conn, "select vss_distance_l2('[1,2]', '[3,5]')"),
        13.0
    );
    assert_eq!(real(&conn, "select vss_distance_l1('[1,2]', '[3,5]')"), 5.0);
    assert_eq!(
        real(&conn, "select vss_distance_linf('[1,2]', '[3,5]')"),
        3.0
    );
    assert_eq!(
        real(&conn, "select vss_inner_product('[1,2]', '[3,5]')"),
        13.0
    );
    assert!(
        (real(&conn, "select vss_cosine_similarity('[1,0]', '[1,1]')") - 0.70710677).abs() < 1e-7
    );
    assert_eq!(
        text(
            &conn,
            "select vector_to_json(vss_fvec_add('[1,2]', '[3,5]'))"
        ),
        "[4.0,7.0]"
    );
    assert_eq!(
        text(
            &conn,
            "select vector_to_json(vss_fvec_sub('[1,2]', '[3,5]'))"
        ),
        "[-2.0,-3.0]"
    );
    assert!(int(&conn, "select vss_memory_usage()") >= 0);
    for (sql, message) in [
        ("select vss_distance_l2(1, '[1]')", "LHS is not a vector"),
        ("select vss_distance_l2('[1]', 1)", "RHS is not a vector"),
        (
            "select vss_inner_product('[1]', '[1,2]')",
            "LHS and RHS are not vectors of the same size",
        ),
        (
            "select vss_cosine_similarity('[0,0]', '[1,2]')",
            "One or both vectors are zero-vectors",
        ),
        (
            "select vss_search_params(1, 2)",
            "1st argument is not a vector",
        ),
    ] {
        assert_eq!(error(&conn, sql), message, "{sql}");
    }
}

fn table(conn: &Connection) {
    exec(
        conn,
        r#"create virtual table t using vss0(
             a(2),
             b(3) factory="HNSW16,IDMap2" metric_type=INNER_PRODUCT
           );
           insert into t(rowid, a, b) values
             (1, '[1,0]', '[1,0,0]'), (2, '[0,1]', '[0,1,0]'), (3, '[1,1]', '[1,1,1]'),
             (4, '[3,3]', '[0,0,2]');"#,
    );
}

/// Distances to 6 significant digits: squared L2 comes from vec0's float32 distance, within
/// about 1e-7 (relative) of Faiss's float32 sum.
fn significant(d: f64) -> f64 {
    if d == 0.0 || !d.is_finite() {
        return d;
    }
    let scale = 10f64.powi(6 - d.abs().log10().ceil() as i32);
    (d * scale).round() / scale
}

fn hits(conn: &Connection, sql: &str) -> Vec<(i64, f64)> {
    rows(conn, sql)
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Integer(i), Value::Real(d)) => (*i, significant(*d)),
            other => panic!("{sql}: {other:?}"),
        })
        .collect()
}

#[test]
fn searches_answer_in_sqlite_vss_units_and_order() {
    let conn = db();
    table(&conn);
    // Squared L2, ascending.
    assert_eq!(
        hits(
            &conn,
            "select rowid, distance from t where vss_search(a, vss_search_params('[1,0]', 3))"
        ),
        vec![(1, 0.0), (3, 1.0), (2, 2.0)]
    );
    assert_eq!(
        hits(
            &conn,
            "select rowid, distance from t where vss_search(a, '[1,0]') limit 2"
        ),
        vec![(1, 0.0), (3, 1.0)]
    );
    // Inner product, largest first.
    assert_eq!(
        hits(
            &conn,
            "select rowid, distance from t where vss_search(b, vss_search_params('[0,0,1]', 2))"
        ),
        vec![(4, 2.0), (3, 1.0)]
    );
    // Range search: squared L2 below the radius.
    let mut got = hits(
        &conn,
        "select rowid, distance from t \
         where vss_range_search(a, vss_range_search_params('[1,0]', 1.5))",
    );
    got.sort_by_key(|h| h.0);
    assert_eq!(got, vec![(1, 0.0), (3, 1.0)]);
    // Vector columns read back as raw float32 blobs.
    assert_eq!(
        one(&conn, "select a from t where rowid = 1"),
        Value::Blob(vec![0, 0, 0x80, 0x3f, 0, 0, 0, 0])
    );
    // A join on rowid, as sqlite-vss's README does.
    exec(
        &conn,
        "create table docs(id integer primary key, body text);
         insert into docs values (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four');",
    );
    assert_eq!(
        rows(
            &conn,
            "with hits as (select rowid, distance from t
                           where vss_search(a, vss_search_params('[0,1]', 2)))
             select docs.body from hits join docs on docs.id = hits.rowid order by distance"
        ),
        vec![
            vec![Value::Text("two".into())],
            vec![Value::Text("three".into())]
        ]
    );
    for (sql, message) in [
        (
            "select rowid from t where vss_search(a, '[1,0]')",
            "LIMIT required on vss_search() queries",
        ),
        (
            "select rowid from t where vss_search(a, 7) limit 1",
            "2nd argument to vss_search() must be a vector",
        ),
        (
            "select rowid from t where vss_search(a, vss_search_params('[1,0,0]', 1))",
            "Input query size doesn't match index dimensions: 3 != 2",
        ),
        (
            "select rowid from t where vss_search(a, vss_search_params('[1,0]', 0))",
            "Limit must be greater than 0, got 0",
        ),
    ] {
        assert_eq!(error(&conn, sql), message, "{sql}");
    }
}

#[test]
fn writes_are_transactional_and_update_works() {
    let conn = db();
    table(&conn);
    exec(&conn, "begin");
    exec(&conn, "insert into t(rowid, a) values (10, '[1,0.1]')");
    // Visible to searches inside its own transaction (sqlite-vss: only after COMMIT).
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where vss_search(a, vss_search_params('[1,0.1]', 1))"
        ),
        vec![10]
    );
    exec(&conn, "rollback");
    assert_eq!(ints(&conn, "select rowid from t"), vec![1, 2, 3, 4]);
    // UPDATE (refused by sqlite-vss): a new vector, and a new rowid keeping the other column.
    exec(&conn, "update t set a = '[9,9]' where rowid = 1");
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where vss_search(a, vss_search_params('[9,9]', 1))"
        ),
        vec![1]
    );
    exec(&conn, "update t set rowid = 7 where rowid = 2");
    assert_eq!(ints(&conn, "select rowid from t"), vec![1, 3, 4, 7]);
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where vss_search(b, vss_search_params('[0,2,-1]', 1))"
        ),
        vec![7]
    );
    exec(&conn, "delete from t where rowid = 7");
    assert_eq!(ints(&conn, "select rowid from t"), vec![1, 3, 4]);
    assert_eq!(
        int(&conn, "select count(*) from t_vecsql_b where rowid = 7"),
        0
    );
    // Training rows are accepted and not stored; rows without a rowid get one.
    exec(
        &conn,
        "insert into t(operation, a) values ('training', '[5,5]')",
    );
    exec(&conn, "insert into t(a) values ('[6,6]')");
    assert_eq!(ints(&conn, "select rowid from t"), vec![1, 3, 4, 5]);
    assert!(error(&conn, "insert into t(a) values ('not a vector')").contains("not a vector"));
    // Filters combine with the search (applied to its k results, as in SQL).
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where vss_search(a, vss_search_params('[0,0]', 2)) and rowid > 3"
        ),
        vec![4]
    );
    exec(&conn, "drop table t");
    assert_eq!(
        int(
            &conn,
            "select count(*) from sqlite_master where name like 't_%'"
        ),
        0
    );
}

#[test]
fn factories_and_metrics_map_onto_vec0() {
    let conn = db();
    exec(
        &conn,
        r#"create virtual table f using vss0(
             x(4) factory="IVF4096,Flat,IDMap2",
             y(4) factory="IVF256,PQ2",
             z(4) factory="Flat" metric_type=L1)"#,
    );
    let sql: Vec<String> = rows(
        &conn,
        "select sql from sqlite_master where name in ('f_vecsql_x', 'f_vecsql_y', 'f_vecsql_z') \
         order by name",
    )
    .into_iter()
    .map(|r| match &r[0] {
        Value::Text(t) => t.clone(),
        _ => panic!(),
    })
    .collect();
    assert!(
        sql[0].contains("distance_metric=l2 indexed by hnsw()"),
        "{sql:?}"
    );
    assert!(
        sql[1].contains("indexed by hnsw(quantizer=int8)"),
        "{sql:?}"
    );
    assert!(
        sql[2].contains("distance_metric=l1") && !sql[2].contains("hnsw"),
        "{sql:?}"
    );
    assert_eq!(
        error(
            &conn,
            "create virtual table g using vss0(x(4) metric_type=Lp)"
        ),
        "unknown metric type: Lp"
    );
    assert!(error(
        &conn,
        r#"create virtual table g using vss0(x(4) factory="invalid")"#
    )
    .contains("could not parse index string invalid"));
    assert_eq!(
        error(&conn, "create virtual table g using vss0(x)"),
        "Error parsing constructor"
    );
}

#[test]
fn metrics_without_a_vec0_kernel_are_exact_scans_with_faiss_formulas() {
    // Expected values from sqlite-vss 0.1.2's own test suite (test_vss0_metric_type).
    let conn = db();
    conn.execute_batch(
        r#"create virtual table m using vss0(linf(2) metric_type=Linf,
             canberra(2) factory="HNSW8" metric_type=Canberra, braycurtis(2) metric_type=BrayCurtis,
             js(2) metric_type=JensenShannon);
           insert into m(rowid, linf, canberra, braycurtis, js)
             values (1, '[4,1]', '[4,1]', '[4,1]', '[0.8,0.2]'), (2, '[0,0]', '[0,0]', '[0,0]', '[0,1]');"#,
    )
    .unwrap();
    let search = |col: &str, q: &str| {
        hits(
            &conn,
            &format!("select rowid, distance from m where vss_search({col}, vss_search_params('{q}', 2))"),
        )
    };
    assert_eq!(search("linf", "[1,1]"), [(2, 1.0), (1, 3.0)]);
    // Faiss divides 0 by 0 for coordinates that are 0 in both: vecsql counts them as 0.
    assert_eq!(search("canberra", "[0,0]"), [(2, 0.0), (1, 2.0)]);
    assert_eq!(search("braycurtis", "[0,0]"), [(2, 0.0), (1, 1.0)]);
    let js = search("js", "[0.33333333, 0.66666667]");
    assert_eq!(js[0].0, 1);
    assert!((js[0].1 - 0.115_773_5).abs() < 1e-6, "{js:?}");
    assert!(js[1].1.is_finite(), "{js:?}");
    assert_eq!(
        hits(
            &conn,
            "select rowid, distance from m where vss_range_search(linf, vss_range_search_params('[0,0]', 2))"
        ),
        [(2, 0.0)]
    );
}
