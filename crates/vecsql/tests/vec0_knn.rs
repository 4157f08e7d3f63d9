//! KNN queries on vec0 through SQLite: both query forms, the hidden columns, ordering and
//! ties, k limits, every metric, and every filter kind checked against the same data in an
//! ordinary table queried with `ORDER BY vec_distance_*(...)` (SQLite's own filter semantics).

mod vec0_support;

use rusqlite::types::Value;
use rusqlite::{params, Connection};
use vec0_support::*;

const TAGS: [&str; 9] = [
    "",
    "a",
    "b",
    "abc",
    "exactly12byt",
    "thirteen byte",
    "a longer text with overflow 1",
    "a longer text with overflow 2",
    "zzz",
];

/// A deterministic small-integer vector, so many rows tie on distance.
fn vector(seed: u64, dims: usize) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..dims)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 7) as f32 - 3.0
        })
        .collect()
}

/// `t` (vec0) and `r` (an ordinary table) with the same 100 rows less every tenth.
fn fixture() -> Connection {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(
            emb float[4], n integer, f float, b boolean, tag text, p integer partition key,
            +note text, chunk_size = 8);
         create table r(emb blob, n integer, f float, b integer, tag text, p integer, note text);",
    );
    for i in 1..=100i64 {
        let emb = f32_blob(&vector(i as u64, 4));
        let values = params![
            i,
            emb,
            i % 7 - 3,
            (i % 5) as f64 * 0.5 - 1.0,
            i % 2,
            TAGS[(i % 9) as usize],
            i % 4,
            format!("note {i}")
        ];
        conn.execute(
            "insert into t(rowid, emb, n, f, b, tag, p, note) values (?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        .unwrap();
        conn.execute(
            "insert into r(rowid, emb, n, f, b, tag, p, note) values (?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        .unwrap();
    }
    exec(
        &conn,
        "delete from t where rowid % 10 = 0; delete from r where rowid % 10 = 0;",
    );
    conn
}

fn knn(conn: &Connection, sql: &str, query: &[f32], k: i64) -> Vec<(i64, f64)> {
    rows_with(conn, sql, params![f32_blob(query), k])
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Integer(id), Value::Real(d)) => (*id, *d),
            other => panic!("{sql}: {other:?}"),
        })
        .collect()
}

/// The nearest `k` rows of `r` passing `filter`, by (distance, rowid).
fn reference(conn: &Connection, filter: &str, query: &[f32], k: i64) -> Vec<(i64, f64)> {
    knn(
        conn,
        &format!(
            "select rowid, vec_distance_l2(emb, ?1) as d from r where {filter} order by d, rowid limit ?2"
        ),
        query,
        k,
    )
}

#[test]
fn both_query_forms_return_the_k_nearest_in_distance_order() {
    let conn = fixture();
    let q = [0.5, -1.0, 2.0, 0.0];
    let expected = reference(&conn, "1", &q, 7);
    assert_eq!(expected.len(), 7);
    for sql in [
        "select rowid, distance from t where emb match ?1 and k = ?2",
        "select rowid, distance from t where emb match ?1 and k = ?2 order by distance",
        "select rowid, distance from t where emb match ?1 limit ?2",
        "select rowid, distance from t where emb match ?1 order by distance limit ?2",
        "select rowid, distance from t where k = ?2 and emb match ?1",
    ] {
        assert_eq!(knn(&conn, sql, &q, 7), expected, "{sql}");
    }
    // LIMIT with OFFSET: the k nearest after skipping some.
    let all = reference(&conn, "1", &q, 12);
    assert_eq!(
        knn(
            &conn,
            "select rowid, distance from t where emb match ?1 limit ?2 offset 5",
            &q,
            7
        ),
        all[5..12]
    );
    // The hidden columns: distance is only set in KNN queries; k echoes the query's k.
    assert_eq!(
        rows_with(
            &conn,
            "select k from t where emb match ?1 and k = 3",
            [f32_blob(&q)]
        ),
        [
            [Value::Integer(3)],
            [Value::Integer(3)],
            [Value::Integer(3)]
        ]
    );
    assert_eq!(
        rows(&conn, "select distinct distance, k from t"),
        [[Value::Null, Value::Null]]
    );
}

#[test]
fn ties_are_broken_by_rowid_and_k_bounds_the_row_count() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[2], chunk_size=8)",
    );
    // Rowids inserted out of order, spread over chunks, all at the same distance.
    for id in [17, 3, 40, 9, 1, 25, 33, 8, 12, 2, 60, 5] {
        exec(
            &conn,
            &format!("insert into t(rowid, emb) values ({id}, '[1, 1]')"),
        );
    }
    exec(
        &conn,
        "insert into t(rowid, emb) values (100, '[0.5, 0.5]')",
    );
    let got = knn(
        &conn,
        "select rowid, distance from t where emb match ?1 and k = ?2",
        &[0.0, 0.0],
        6,
    );
    let ids: Vec<i64> = got.iter().map(|r| r.0).collect();
    assert_eq!(ids, [100, 1, 2, 3, 5, 8]);
    assert!((got[1].1 - 2f64.sqrt()).abs() < 1e-6);
    let sql = "select rowid, distance from t where emb match ?1 and k = ?2";
    assert_eq!(
        knn(&conn, sql, &[0.0, 0.0], 100).len(),
        13,
        "k past the table size"
    );
    assert_eq!(knn(&conn, sql, &[0.0, 0.0], 0), []);
    assert_eq!(knn(&conn, sql, &[0.0, 0.0], 4096).len(), 13);
    assert_eq!(
        error_with(&conn, sql, params![f32_blob(&[0.0, 0.0]), 4097]),
        "k value in knn query too large, provided 4097 and the limit is 4096"
    );
    assert_eq!(
        error_with(&conn, sql, params![f32_blob(&[0.0, 0.0]), -1]),
        "k value in knn queries must be greater than or equal to 0."
    );
    assert_eq!(
        error(&conn, "select rowid from t where emb match '[0, 0]'"),
        "A LIMIT or 'k = ?' constraint is required on vec0 knn queries."
    );
    assert_eq!(
        error(
            &conn,
            "select rowid from t where emb match '[0, 0]' and k = 'x'"
        ),
        "k must be an integer, got TEXT"
    );
    // An empty table answers with no rows.
    exec(&conn, "create virtual table e using vec0(emb float[2])");
    assert_eq!(
        ints(
            &conn,
            "select rowid from e where emb match '[0, 0]' and k = 5"
        ),
        [] as [i64; 0]
    );
}

#[test]
fn every_metric_ranks_by_its_own_distance() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(
            l2 float[3], cos float[3] distance_metric=cosine, l1 float[3] distance_metric=l1,
            dot float[3] distance_metric=dot, i8 int8[3] distance_metric=l1, h bit[16],
            chunk_size=8);
         create table r(v blob, i blob, h blob);",
    );
    for i in 1..=30u64 {
        let v = vector(i, 3);
        let i8: Vec<u8> = v.iter().map(|x| (*x as i8) as u8).collect();
        let h = vec![(i * 37 % 256) as u8, (i * 11 % 256) as u8];
        conn.execute(
            "insert into t(rowid, l2, cos, l1, dot, i8, h) values (?1, ?2, ?2, ?2, ?2, vec_int8(?3), vec_bit(?4))",
            params![i as i64, f32_blob(&v), i8, h],
        )
        .unwrap();
        conn.execute(
            "insert into r(rowid, v, i, h) values (?1, ?2, vec_int8(?3), vec_bit(?4))",
            params![i as i64, f32_blob(&v), i8, h],
        )
        .unwrap();
    }
    let q = [1.0f32, -2.0, 0.5];
    let q8 = vec_i8(&[1, -2, 1]);
    let checks: [(&str, &str, Vec<u8>); 6] = [
        ("l2", "vec_distance_l2(v, ?1)", f32_blob(&q)),
        ("cos", "vec_distance_cosine(v, ?1)", f32_blob(&q)),
        ("l1", "vec_distance_l1(v, ?1)", f32_blob(&q)),
        ("dot", "vec_distance_dot(v, ?1)", f32_blob(&q)),
        (
            "i8",
            "vec_distance_l1(vec_int8(i), vec_int8(?1))",
            q8.clone(),
        ),
        (
            "h",
            "vec_distance_hamming(vec_bit(h), vec_bit(?1))",
            vec![0b1010_1010, 0x0f],
        ),
    ];
    for (column, distance, query) in checks {
        let query_sql = match column {
            "i8" => "vec_int8(?1)",
            "h" => "vec_bit(?1)",
            _ => "?1",
        };
        let got = rows_with(
            &conn,
            &format!("select rowid, distance from t where {column} match {query_sql} and k = 10"),
            [&query],
        );
        let expected = rows_with(
            &conn,
            &format!("select rowid, {distance} as d from r order by d, rowid limit 10"),
            [&query],
        );
        assert_eq!(got.len(), 10, "{column}");
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g[0], e[0], "{column}: {got:?}\n{expected:?}");
            assert!(
                (number(&g[1]) - number(&e[1])).abs() < 1e-5,
                "{column}: {got:?}\n{expected:?}"
            );
        }
    }
    // Dot distances are the negated inner product (smallest = most similar).
    let top = rows(
        &conn,
        "select rowid, distance, vec_to_json(dot) from t where dot match '[1, 0, 0]' and k = 1",
    );
    let json = text(&top[0][2]);
    let first: f64 = json
        .trim_start_matches('[')
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(real(&top[0][1]), -first);
    assert_eq!(first, 3.0, "the largest first component in the data");
}

/// float32 L1 is sqlite-vec's: |a - b| summed in order in double, which vec0 rounds to a
/// float32 distance and `vec_distance_l1` returns as is. A sum in float32 (as the SIMD kernels
/// do for the other metrics) loses the ones added to 2^24 and answers a different number.
#[test]
fn float32_l1_sums_in_double_in_vec0_and_in_vec_distance_l1() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(v float[1024] distance_metric=l1, chunk_size=8)",
    );
    let mut v = vec![1.0f32; 1024];
    v[0] = 16_777_216.0; // 2^24: from here on float32 holds even integers only
    conn.execute(
        "insert into t(rowid, v) values (1, ?1)",
        params![f32_blob(&v)],
    )
    .unwrap();
    let zeros = f32_blob(&[0.0; 1024]);
    let knn = rows_with(
        &conn,
        "select distance from t where v match ?1 and k = 1",
        [&zeros],
    );
    let function = rows_with(&conn, "select vec_distance_l1(v, ?1) from t", [&zeros]);
    // 2^24 + 1023, exactly, and that number rounded to float32 (the even neighbour).
    assert_eq!(real(&function[0][0]), 16_778_239.0);
    assert_eq!(real(&knn[0][0]), 16_778_240.0);
    assert_eq!(real(&knn[0][0]), real(&function[0][0]) as f32 as f64);
}

fn vec_i8(v: &[i8]) -> Vec<u8> {
    v.iter().map(|x| *x as u8).collect()
}

#[test]
fn a_zero_dot_product_passes_distance_bounds_at_zero_and_ties_by_rowid() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[2] distance_metric=dot, chunk_size=8);
         insert into t(rowid, emb) values (1, '[1, 0]'), (2, '[-1, 0]'), (3, '[0, 1]'), (4, '[0, -1]');",
    );
    // Orthogonal to every row: products are +0.0 or -0.0, which are the same number.
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0, 0]' and k = 4"
        ),
        [1, 2, 3, 4]
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0, 0]' and k = 4 and distance >= 0"
        ),
        [1, 2, 3, 4]
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0, 0]' and k = 4 and distance <= 0"
        ),
        [1, 2, 3, 4]
    );
}

#[test]
fn metadata_partition_and_key_filters_match_sqlite_semantics() {
    let conn = fixture();
    let filters = [
        "n = 2",
        "n != 2",
        "n < 0",
        "n <= 0",
        "n > 1",
        "n >= 1",
        "n between -1 and 1",
        "n in (1, 3, -2)",
        "n > 0.5",
        "n = 2.0",
        "f = 0.5",
        "f != 0.5",
        "f < 0",
        "f <= 0",
        "f > 0.5",
        "f >= 0.5",
        "f between -0.5 and 0.5",
        "f in (0.0, 1.0)",
        "f > 0",
        "f = 1",
        "b = 1",
        "b = 0",
        "b != 1",
        "b = true",
        "b in (0, 1)",
        "b > 0",
        "tag = 'a'",
        "tag = ''",
        "tag = 'a longer text with overflow 1'",
        "tag != 'a'",
        "tag != 'a longer text with overflow 2'",
        "tag < 'abc'",
        "tag <= 'abc'",
        "tag > 'exactly12byt'",
        "tag >= 'a longer text with overflow 2'",
        "tag > 'a longer text with overflow 1'",
        "tag < 'a longer text with overflow 2'",
        "tag between 'a' and 'b'",
        "tag in ('', 'zzz', 'thirteen byte', 'a longer text with overflow 2')",
        "p = 2",
        "p in (1, 3)",
        "p > 1",
        "p between 1 and 2",
        "p != 0",
        "p < 1",
        "rowid in (1, 2, 3, 50, 51, 99, 1000)",
        "rowid > 50",
        "rowid between 10 and 30",
        "rowid != 1",
        "n > 0 and b = 1",
        "n >= 0 and tag > 'a' and p in (0, 2)",
        "f < 1 and tag in ('a', 'b') and rowid > 20",
        "n = 2 and b = 0 and p = 1 and f >= 0",
        "n in (0, 1) and n != 1",
        "n > 100",
        "p = 2 and p = 3",
        "tag >= 'a' and tag <= 'a longer text with overflow 2' and f between -1 and 0",
    ];
    let queries = [
        [0.0, 0.0, 0.0, 0.0],
        [3.0, -3.0, 1.0, 2.0],
        [-1.5, 0.5, 2.5, -2.0],
    ];
    for filter in filters {
        for q in &queries {
            for k in [1, 5, 20, 200] {
                let expected = reference(&conn, filter, q, k);
                let got = knn(
                    &conn,
                    &format!(
                        "select rowid, distance from t where emb match ?1 and k = ?2 and {filter}"
                    ),
                    q,
                    k,
                );
                assert_eq!(got, expected, "{filter}, k = {k}, q = {q:?}");
                let limit = knn(
                    &conn,
                    &format!(
                        "select rowid, distance from t where emb match ?1 and {filter} limit ?2"
                    ),
                    q,
                    k,
                );
                assert_eq!(limit, expected, "LIMIT form: {filter}, k = {k}, q = {q:?}");
            }
        }
    }
}

#[test]
fn key_equality_filters_the_k_nearest_and_in_lists_narrow_the_candidates() {
    // `rowid = x` is how SQLite hands a KNN a join value, so it is checked on the k nearest
    // rows (as sqlite-vec does); `rowid IN (...)` restricts the search before the top k.
    let conn = fixture();
    let q = [0.0, 0.0, 0.0, 0.0];
    let top = reference(&conn, "1", &q, 5);
    let far = reference(&conn, "1", &q, 60)[50];
    let sql = |filter: &str| {
        format!("select rowid, distance from t where emb match ?1 and k = ?2 and {filter}")
    };
    assert_eq!(
        knn(&conn, &sql(&format!("rowid = {}", top[2].0)), &q, 5),
        vec![top[2]]
    );
    assert_eq!(
        knn(&conn, &sql(&format!("rowid = {}", far.0)), &q, 5),
        vec![]
    );
    assert_eq!(
        knn(&conn, &sql(&format!("rowid in ({}, -7)", far.0)), &q, 5),
        vec![far]
    );
}

#[test]
fn filters_in_bound_parameters_and_every_row_returned_passes_them() {
    let conn = fixture();
    let q = f32_blob(&[1.0, 1.0, 1.0, 1.0]);
    let got = rows_with(
        &conn,
        "select rowid, n, f, b, tag, p from t where emb match ?1 and k = ?2
            and n >= ?3 and f < ?4 and b = ?5 and tag != ?6 and p in (?7, ?8)",
        params![q, 10, -1, 0.75, 1, "a", 1, 3],
    );
    assert_eq!(got.len(), 10);
    for row in &got {
        let [_, Value::Integer(n), Value::Real(f), Value::Integer(b), Value::Text(tag), Value::Integer(p)] =
            row.as_slice()
        else {
            panic!("{row:?}")
        };
        assert!(
            *n >= -1 && *f < 0.75 && *b == 1 && tag != "a" && (*p == 1 || *p == 3),
            "{row:?}"
        );
    }
}

#[test]
fn text_primary_keys_filter_inside_knn() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(id text primary key, emb float[1], chunk_size=8);
         create table r(id text primary key, emb blob);",
    );
    let keys = [
        "a",
        "b",
        "c",
        "d",
        "a key longer than twelve",
        "e",
        "f",
        "g",
        "h",
        "i",
        "j",
    ];
    for (i, key) in keys.iter().enumerate() {
        for table in ["t", "r"] {
            conn.execute(
                &format!("insert into {table}(id, emb) values (?, ?)"),
                params![key, f32_blob(&[i as f32])],
            )
            .unwrap();
        }
    }
    for filter in [
        "id in ('c', 'a', 'a key longer than twelve', 'missing')",
        "id = 'e'",
        "id > 'c'",
        "id between 'b' and 'f'",
        "id != 'a'",
        "id < 'b'",
    ] {
        let got = rows(
            &conn,
            &format!("select id from t where emb match '[3.2]' and k = 4 and {filter}"),
        );
        let expected = rows(
            &conn,
            &format!(
                "select id from r where {filter} order by vec_distance_l2(emb, '[3.2]'), rowid limit 4"
            ),
        );
        assert_eq!(got, expected, "{filter}");
    }
}

#[test]
fn distance_bounds_page_through_the_results() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[1], n integer, chunk_size=8)",
    );
    for i in 1..=40 {
        exec(
            &conn,
            &format!(
                "insert into t(rowid, emb, n) values ({i}, '[{}]', {})",
                i * i,
                i % 3
            ),
        );
    }
    let mut seen = Vec::new();
    let mut last = -1.0f64;
    loop {
        let page: Vec<(i64, f64)> = rows_with(
            &conn,
            "select rowid, distance from t where emb match '[0]' and k = 5 and n != 0 and distance > ?1",
            [last],
        )
        .into_iter()
        .map(|r| (match r[0] { Value::Integer(i) => i, _ => panic!() }, real(&r[1])))
        .collect();
        if page.is_empty() {
            break;
        }
        assert!(page.len() == 5 || seen.len() + page.len() == 27, "{page:?}");
        last = page.last().unwrap().1;
        seen.extend(page.into_iter().map(|r| r.0));
    }
    let expected: Vec<i64> = (1..=40).filter(|i| i % 3 != 0).collect();
    assert_eq!(seen, expected);
    let range = |sql: &str| ints(&conn, sql);
    assert_eq!(range("select rowid from t where emb match '[0]' and k = 40 and distance >= 25 and distance < 81"), [5, 6, 7, 8]);
    assert_eq!(range("select rowid from t where emb match '[0]' and k = 40 and distance > 25 and distance <= 81"), [6, 7, 8, 9]);
    assert_eq!(
        range("select rowid from t where emb match '[0]' and k = 2 and distance >= 1e9"),
        [] as [i64; 0]
    );
}

#[test]
fn unsupported_constraints_inside_knn_are_refused_with_a_clear_message() {
    let conn = fixture();
    let cases = [
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and tag like 'a%'",
            "An illegal WHERE constraint was provided on a vec0 metadata column in a KNN query. Only one of EQUALS, GREATER_THAN, LESS_THAN_OR_EQUAL, LESS_THAN, GREATER_THAN_OR_EQUAL, NOT_EQUALS is allowed. (LIKE on metadata column \"tag\"; vecsql also takes BETWEEN and IN)",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and tag glob 'a*'",
            "An illegal WHERE constraint was provided on a vec0 metadata column in a KNN query.",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and n is null",
            "An illegal WHERE constraint was provided on a vec0 metadata column in a KNN query.",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and n is not null",
            "An illegal WHERE constraint was provided on a vec0 metadata column in a KNN query.",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and note = 'note 1'",
            "An illegal WHERE constraint was provided on a vec0 auxiliary column in a KNN query. (\"note\": filter in an outer query",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and note > 'a' limit 3",
            "An illegal WHERE constraint was provided on a vec0 auxiliary column in a KNN query. (\"note\": filter in an outer query",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and distance = 1",
            "vec0 KNN query: only <, <=, > and >= are supported on distance, not Eq",
        ),
        (
            "select rowid from t where emb match '[0,0,0,0]' and k = 3 and emb match '[1,1,1,1]'",
            "only 1 MATCH operator is allowed in a single vec0 query",
        ),
        (
            "select rowid from t where emb match '[0,0,0]' and k = 3",
            "Dimension mismatch for query vector for the \"emb\" column. Expected 4 dimensions but received 3.",
        ),
        (
            "select rowid from t where emb match 'abc' and k = 3",
            "Query vector on the \"emb\" column is invalid: JSON array parsing error: Input does not start with '['",
        ),
        (
            "select rowid from t where emb match vec_int8('[1,2,3,4]') and k = 3",
            "Query vector for the \"emb\" column is expected to be of type float32, but a int8 vector was provided.",
        ),
    ];
    for (sql, expected) in cases {
        let message = error(&conn, sql);
        assert!(
            message.contains(expected),
            "{sql}:\n  got      {message}\n  expected {expected}"
        );
    }
}

#[test]
fn knn_runs_once_per_outer_row_in_a_join() {
    let conn = fixture();
    exec(
        &conn,
        "create table queries(id integer primary key, v blob);
         insert into queries values (1, vec_f32('[0,0,0,0]')), (2, vec_f32('[3,3,3,3]'));",
    );
    let got = rows(
        &conn,
        "select q.id, t.rowid from queries q, t where t.emb match q.v and t.k = 3 order by q.id, t.distance, t.rowid",
    );
    for (id, q) in [(1, [0.0; 4]), (2, [3.0; 4])] {
        let expected: Vec<i64> = reference(&conn, "1", &q, 3)
            .into_iter()
            .map(|r| r.0)
            .collect();
        let ids: Vec<i64> = got
            .iter()
            .filter(|r| r[0] == Value::Integer(id))
            .map(|r| match r[1] {
                Value::Integer(i) => i,
                _ => panic!(),
            })
            .collect();
        assert_eq!(ids, expected, "query {id}");
    }
    // A subquery as the query vector, and columns of the found rows.
    assert_eq!(
        rows(&conn, "select rowid, note from t where emb match (select v from queries where id = 2) and k = 1"),
        rows(&conn, &format!(
            "select rowid, note from t where rowid = {}",
            reference(&conn, "1", &[3.0; 4], 1)[0].0
        ))
    );
}

#[test]
fn two_partition_keys_filter_together_and_rows_move_when_either_changes() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(
            region text partition key, emb float[2], year integer partition key, chunk_size=8);
         create table r(region text, emb blob, year integer);",
    );
    let regions = ["eu", "us", "asia"];
    for i in 1..=90i64 {
        let values = params![
            i,
            regions[(i % 3) as usize],
            f32_blob(&vector(i as u64, 2)),
            2020 + i % 4
        ];
        for table in ["t", "r"] {
            conn.execute(
                &format!("insert into {table}(rowid, region, emb, year) values (?, ?, ?, ?)"),
                values,
            )
            .unwrap();
        }
    }
    let moves = "update {} set year = 2030 where rowid % 7 = 0;
                 update {} set region = 'eu' where rowid % 5 = 0;
                 update {} set region = 'us', year = 2020 where rowid % 11 = 0;";
    exec(&conn, &moves.replace("{}", "t"));
    exec(&conn, &moves.replace("{}", "r"));
    for filter in [
        "region = 'eu'",
        "region = 'eu' and year = 2021",
        "region in ('us', 'asia') and year >= 2022",
        "region > 'asia' and year between 2021 and 2030",
        "year = 2030",
        "region != 'us' and year != 2020",
        "region = 'mars'",
    ] {
        for k in [3, 40] {
            let got = ints(
                &conn,
                &format!("select rowid from t where emb match '[1, -1]' and k = {k} and {filter}"),
            );
            let expected = ints(
                &conn,
                &format!(
                    "select rowid from r where {filter}
                        order by vec_distance_l2(emb, '[1, -1]'), rowid limit {k}"
                ),
            );
            assert_eq!(got, expected, "{filter}, k = {k}");
        }
    }
    // Every chunk holds rows of one (region, year) pair only.
    assert_eq!(
        int(
            &conn,
            "select count(*) from t_rowids r join t_chunks c using (chunk_id) join t using (rowid)"
        ),
        90
    );
    assert_eq!(
        int(
            &conn,
            "select count(*) from t_rowids r join t_chunks c using (chunk_id)
                join t using (rowid) where c.partition00 != t.region or c.partition01 != t.year"
        ),
        0
    );
}

/// Integer filters on a table whose chunks hold 72 rows (a whole word of 64 slots and a part
/// word), with deleted rows and the extreme values, against the same rows in an ordinary table:
/// the scan decides these conditions 64 slots at a time.
#[test]
fn integer_filters_over_whole_and_part_words_of_slots_match_sqlite() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[2], n integer, chunk_size = 72);
         create table r(emb blob, n integer);",
    );
    let values = [
        i64::MIN,
        i64::MIN + 1,
        -3,
        -1,
        0,
        1,
        2,
        3,
        i64::MAX - 1,
        i64::MAX,
    ];
    for i in 1..=300i64 {
        let emb = f32_blob(&vector(i as u64, 2));
        let n = values[(i * 7 % values.len() as i64) as usize];
        for table in ["t", "r"] {
            conn.execute(
                &format!("insert into {table}(rowid, emb, n) values (?, ?, ?)"),
                params![i, emb, n],
            )
            .unwrap();
        }
    }
    exec(
        &conn,
        "delete from t where rowid % 7 = 3 or rowid between 140 and 150;
         delete from r where rowid % 7 = 3 or rowid between 140 and 150;",
    );
    let q = f32_blob(&[0.5, -0.5]);
    let mut checked = 0;
    for op in ["=", "!=", "<", "<=", ">", ">="] {
        for &x in &values {
            let got = ints_with(
                &conn,
                &format!(
                    "select rowid from t where emb match ?1 and k = 1000 and n {op} ?2 order by rowid"
                ),
                params![q, x],
            );
            let want = ints_with(
                &conn,
                &format!("select rowid from r where n {op} ?1 order by rowid"),
                params![x],
            );
            assert_eq!(got, want, "n {op} {x}");
            checked += want.len();
        }
    }
    let got = ints_with(
        &conn,
        "select rowid from t where emb match ?1 and k = 1000 and n in (?2, ?3, 2) order by rowid",
        params![q, i64::MIN, i64::MAX],
    );
    let want = ints(
        &conn,
        &format!(
            "select rowid from r where n in ({}, {}, 2) order by rowid",
            i64::MIN,
            i64::MAX
        ),
    );
    assert_eq!(got, want);
    assert!(checked > 1000 && !want.is_empty(), "{checked}");
}
