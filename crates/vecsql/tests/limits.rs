//! Limits, through a real SQLite connection: k at and past its bounds (very large, zero,
//! negative, not an integer), vectors of 8,192 dimensions in every vec0 element type (and
//! 65,536 in the scalar functions), and a table with every column kind at its maximum at once
//! (16 vector, 4 partition key, 16 metadata, 16 auxiliary columns).
//!
//! Each behaviour was checked against sqlite-vec 0.1.9 (the wheel in the peers' venv); where
//! vecsql differs the test says so. The million-row run is `bench/limits_1m.py`, not a test.

mod vec0_support;

use rusqlite::types::Value;
use rusqlite::{params, Connection};
use vec0_support::*;

/// A deterministic vector of small integers, so distances are exact and ties are common.
fn vector(seed: u64, dims: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..dims)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 9) as f32 - 4.0
        })
        .collect()
}

fn l2(a: &[f32], b: &[f32]) -> f64 {
    let d2: f32 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    d2.sqrt() as f64
}

/// (rowid, distance) of a KNN query with `?1` = query blob and `?2` = k or limit.
fn knn(conn: &Connection, sql: &str, query: &[f32], k: i64) -> Vec<(i64, f64)> {
    rows_with(conn, sql, params![f32_blob(query), k])
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Integer(i), Value::Real(d)) => (*i, *d),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// `n` rows of 4-dimensional vectors in table `t` (chunks of 64).
fn table_of(n: u64) -> Connection {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[4], chunk_size=64)",
    );
    conn.execute_batch("begin").unwrap();
    {
        let mut stmt = conn
            .prepare("insert into t(rowid, emb) values (?1, ?2)")
            .unwrap();
        for i in 1..=n {
            stmt.execute(params![i as i64, f32_blob(&vector(i, 4))])
                .unwrap();
        }
    }
    conn.execute_batch("commit").unwrap();
    conn
}

/// The k nearest rows by brute force, ties by rowid.
fn oracle(n: u64, query: &[f32], k: usize) -> Vec<(i64, f64)> {
    let mut all: Vec<(i64, f64)> = (1..=n)
        .map(|i| (i as i64, l2(&vector(i, 4), query)))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

#[test]
fn k_up_to_4096_returns_the_exact_nearest_and_larger_k_is_refused_as_in_sqlite_vec() {
    let n = 5000;
    let conn = table_of(n);
    let q = vector(0, 4);
    let by_k = "select rowid, distance from t where emb match ?1 and k = ?2";
    let by_limit = "select rowid, distance from t where emb match ?1 order by distance limit ?2";
    for k in [1, 10, 1000, 4095, 4096] {
        let want = oracle(n, &q, k as usize);
        assert_eq!(knn(&conn, by_k, &q, k), want, "k = {k}");
        assert_eq!(knn(&conn, by_limit, &q, k), want, "limit {k}");
    }
    // sqlite-vec's limit and message, for every k above it, including ones that do not fit
    // in 32 bits.
    for k in [4097, 1 << 31, i64::MAX] {
        assert_eq!(
            error_with(&conn, by_k, params![f32_blob(&q), k]),
            format!("k value in knn query too large, provided {k} and the limit is 4096")
        );
        assert_eq!(
            error_with(&conn, by_limit, params![f32_blob(&q), k]),
            format!("k value in knn query too large, provided {k} and the limit is 4096"),
            "LIMIT {k}"
        );
    }
    // k and LIMIT together: the smaller wins (sqlite-vec refuses the query: "Only LIMIT or
    // 'k =?' can be provided, not both"); OFFSET skips rows of the k nearest.
    let both = "select rowid, distance from t where emb match ?1 and k = 50 \
                order by distance limit ?2";
    assert_eq!(knn(&conn, both, &q, 7), oracle(n, &q, 7));
    let offset = "select rowid, distance from t where emb match ?1 and k = ?2 \
                  order by distance limit 10 offset 5";
    assert_eq!(knn(&conn, offset, &q, 4096), oracle(n, &q, 15)[5..]);
}

#[test]
fn k_past_the_row_count_returns_every_row() {
    let conn = table_of(30);
    let q = vector(7, 4);
    let sql = "select rowid, distance from t where emb match ?1 and k = ?2";
    assert_eq!(knn(&conn, sql, &q, 4096), oracle(30, &q, 30));
}

#[test]
fn zero_and_negative_k() {
    let conn = table_of(20);
    let q = f32_blob(&vector(1, 4));
    let by_k = "select rowid from t where emb match ?1 and k = ?2";
    // As sqlite-vec: k = 0 is an empty answer, negative k an error.
    assert_eq!(ints_with(&conn, by_k, params![q, 0]), [] as [i64; 0]);
    for k in [-1, i64::MIN] {
        assert_eq!(
            error_with(&conn, by_k, params![q, k]),
            "k value in knn queries must be greater than or equal to 0."
        );
    }
    // LIMIT is k by another name (SQLite 3.41+ passes it to the table): 0 is an empty answer,
    // and a negative LIMIT, "no limit" in plain SQL, is refused like a negative k, as
    // sqlite-vec does.
    let by_limit = "select rowid from t where emb match ?1 order by distance limit ?2";
    assert_eq!(ints_with(&conn, by_limit, params![q, 0]), [] as [i64; 0]);
    assert_eq!(
        error_with(&conn, by_limit, params![q, -1]),
        "k value in knn queries must be greater than or equal to 0."
    );
    // No k at all.
    assert_eq!(
        error(&conn, "select rowid from t where emb match '[1,2,3,4]'"),
        "A LIMIT or 'k = ?' constraint is required on vec0 knn queries."
    );
}

#[test]
fn k_must_be_an_integer() {
    // sqlite-vec 0.1.9 converts k like sqlite3_value_int64 does (2.5 is 2, NULL is 0, 'x' is
    // 0), silently answering a different question; vecsql takes what an INTEGER column would
    // hold as an integer ('3', ' 3 ', 3.0: Datasette binds URL parameters as text) and refuses
    // the rest.
    let conn = table_of(20);
    let sql = "select rowid from t where emb match ?1 and k = ?2";
    let q = f32_blob(&vector(1, 4));
    for (k, class) in [
        (Value::Text("x".into()), "TEXT"),
        (Value::Text("2.5".into()), "FLOAT"),
        (Value::Real(2.5), "FLOAT"),
        (Value::Null, "NULL"),
        (Value::Blob(vec![3]), "BLOB"),
    ] {
        assert_eq!(
            error_with(&conn, sql, params![q, k]),
            format!("k must be an integer, got {class}")
        );
    }
    for k in [
        Value::Text("3".into()),
        Value::Text(" 3 ".into()),
        Value::Real(3.0),
    ] {
        assert_eq!(ints_with(&conn, sql, params![q, k]).len(), 3);
    }
}

#[test]
fn vec0_columns_of_8192_dimensions_in_every_element_type() {
    let conn = db();
    let dims = 8192;
    exec(
        &conn,
        "create virtual table f using vec0(emb float[8192]);
         create virtual table i using vec0(emb int8[8192] distance_metric=l1, chunk_size=8);
         create virtual table b using vec0(emb bit[8192], chunk_size=8);
         create virtual table h using vec0(emb float16[8192], chunk_size=8);
         create virtual table g using vec0(emb bfloat16[8192] distance_metric=cosine, chunk_size=8);",
    );
    // float32: sqlite-vec's default chunk of 1024 vectors is one 32 MiB blob; same here.
    let rows: Vec<Vec<f32>> = (1..=20).map(|i| vector(i, dims)).collect();
    for (i, v) in rows.iter().enumerate() {
        conn.execute(
            "insert into f(rowid, emb) values (?1, ?2)",
            params![i as i64 + 1, f32_blob(v)],
        )
        .unwrap();
    }
    assert_eq!(
        int(&conn, "select length(vectors) from f_vector_chunks00"),
        33_554_432
    );
    let q = vector(0, dims);
    let got = knn(
        &conn,
        "select rowid, distance from f where emb match ?1 and k = ?2",
        &q,
        5,
    );
    let mut want: Vec<(i64, f64)> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 + 1, l2(v, &q)))
        .collect();
    want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    want.truncate(5);
    assert_eq!(got, want);
    assert_eq!(
        rows_with(&conn, "select emb from f where rowid = 3", []),
        vec![vec![Value::Blob(f32_blob(&rows[2]))]]
    );

    // int8 with L1: integer sums, exact for any length.
    let i8s: Vec<Vec<i8>> = (1..=20)
        .map(|i| vector(i, dims).iter().map(|&x| x as i8 * 31).collect())
        .collect();
    for (i, v) in i8s.iter().enumerate() {
        let bytes: Vec<u8> = v.iter().map(|&x| x as u8).collect();
        conn.execute(
            "insert into i(rowid, emb) values (?1, vec_int8(?2))",
            params![i as i64 + 1, bytes],
        )
        .unwrap();
    }
    let qi: Vec<i8> = vector(0, dims).iter().map(|&x| x as i8 * 31).collect();
    let qbytes: Vec<u8> = qi.iter().map(|&x| x as u8).collect();
    let got = rows_with(
        &conn,
        "select rowid, distance from i where emb match vec_int8(?1) and k = 3",
        [&qbytes],
    );
    let mut want: Vec<(i64, f64)> = i8s
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let d: i64 = v
                .iter()
                .zip(&qi)
                .map(|(&a, &b)| (a as i64 - b as i64).abs())
                .sum();
            (i as i64 + 1, d as f64)
        })
        .collect();
    want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let got: Vec<(i64, f64)> = got.iter().map(|r| (int_of(&r[0]), number(&r[1]))).collect();
    assert_eq!(got, want[..3]);

    // bit: 1024 bytes, Hamming distance.
    for i in 1..=10u8 {
        conn.execute(
            "insert into b(rowid, emb) values (?1, vec_bit(?2))",
            params![i, vec![i; dims / 8]],
        )
        .unwrap();
    }
    let got = rows_with(
        &conn,
        "select rowid, distance from b where emb match vec_bit(?1) and k = 2",
        [vec![0u8; dims / 8]],
    );
    // Byte values 1, 2, 4, 8 have one bit set: 1024 differing bits each; rowid breaks ties.
    let got: Vec<(i64, f64)> = got.iter().map(|r| (int_of(&r[0]), number(&r[1]))).collect();
    assert_eq!(got, [(1, 1024.0), (2, 1024.0)]);

    // float16 and bfloat16 columns take float32 input and answer KNN queries.
    for table in ["h", "g"] {
        for i in 1..=5 {
            conn.execute(
                &format!("insert into {table}(rowid, emb) values (?1, ?2)"),
                params![i, f32_blob(&vector(i as u64, dims))],
            )
            .unwrap();
        }
        let got = knn(
            &conn,
            &format!("select rowid, distance from {table} where emb match ?1 and k = ?2"),
            &vector(2, dims),
            1,
        );
        assert_eq!(got[0].0, 2, "{table}: a vector is nearest to itself");
        assert!(got[0].1.abs() < 1e-6, "{table}: {got:?}");
    }

    // One more dimension is refused when the table is created (sqlite-vec's message, plus the
    // column name), one less when a row is written.
    assert_eq!(
        error(&conn, "create virtual table x using vec0(emb float[8193])"),
        "vec0 constructor error: Dimension on vector column too large, provided 8193, \
         maximum 8192 (column \"emb\")"
    );
    assert_eq!(
        error_with(
            &conn,
            "insert into f(rowid, emb) values (100, ?1)",
            [f32_blob(&vector(1, dims - 1))]
        ),
        "Dimension mismatch for inserted vector for the \"emb\" column. Expected 8192 \
         dimensions but received 8191."
    );
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        other => panic!("expected an integer, got {other:?}"),
    }
}

#[test]
fn sqlite_vec_functions_have_no_dimension_cap_but_libsql_functions_keep_65536() {
    // sqlite-vec's vec_* functions take vectors of any length (its own suite uses 1,000,000
    // int8 elements); libSQL's vector* functions stop at 65,536.
    let conn = db();
    let big = f32_blob(&vec![0.5; 200_000]);
    assert_eq!(
        conn.query_row("select vec_length(vec_f32(?1))", [&big], |r| r
            .get::<_, i64>(0))
            .unwrap(),
        200_000
    );
    let d: f64 = conn
        .query_row("select vec_distance_l2(?1, ?1)", [&big], |r| r.get(0))
        .unwrap();
    assert_eq!(d, 0.0);
    let (lo, hi) = (vec![0x80u8; 1_000_000], vec![0x7fu8; 1_000_000]);
    let l1: i64 = conn
        .query_row(
            "select vec_distance_l1(vec_int8(?1), vec_int8(?2))",
            [&lo, &hi],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(l1, 255 * 1_000_000);
    let json = format!("[{}]", vec!["1"; 70000].join(","));
    assert_eq!(
        conn.query_row("select vec_length(vec_f32(?1))", [&json], |r| r
            .get::<_, i64>(0))
            .unwrap(),
        70000
    );
    assert_eq!(
        error_with(&conn, "select vector_extract(vector32(?1))", [&json]),
        "vector: max size exceeded 65536"
    );
}

/// Every column kind at its maximum: 16 vector, 4 partition key, 16 metadata (four of each
/// type), 16 auxiliary columns, plus an integer primary key.
fn widest_definition() -> String {
    let mut args = vec!["id integer primary key".to_string()];
    args.extend((0..16).map(|i| format!("v{i} float[2]")));
    args.extend((0..4).map(|i| format!("p{i} integer partition key")));
    for i in 0..16 {
        let ty = ["integer", "float", "text", "boolean"][i % 4];
        args.push(format!("m{i} {ty}"));
    }
    args.extend((0..16).map(|i| format!("+a{i} text")));
    args.push("chunk_size=8".into());
    args.join(", ")
}

fn metadata_value(row: i64, i: usize) -> Value {
    match i % 4 {
        0 => Value::Integer((row + i as i64) % 3),
        1 => Value::Real(((row * 7 + i as i64) % 4) as f64 * 0.5),
        2 => Value::Text(
            ["a", "b", "a long text value past twelve bytes"][(row as usize + i) % 3].into(),
        ),
        _ => Value::Integer((row + i as i64) % 2),
    }
}

#[test]
fn sixteen_metadata_sixteen_auxiliary_four_partition_and_sixteen_vector_columns_at_once() {
    let conn = db();
    exec(
        &conn,
        &format!("create virtual table w using vec0({})", widest_definition()),
    );
    // A plain table with the same rows, queried with vec_distance_l2, is the oracle.
    let mut plain = vec!["id integer primary key".to_string()];
    plain.extend((0..16).map(|i| format!("v{i} blob")));
    plain.extend((0..4).map(|i| format!("p{i} integer")));
    plain.extend((0..16).map(|i| format!("m{i}")));
    plain.extend((0..16).map(|i| format!("a{i} text")));
    exec(&conn, &format!("create table r({})", plain.join(", ")));

    let mut names = vec!["id".to_string()];
    names.extend((0..16).map(|i| format!("v{i}")));
    names.extend((0..4).map(|i| format!("p{i}")));
    names.extend((0..16).map(|i| format!("m{i}")));
    names.extend((0..16).map(|i| format!("a{i}")));
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    for table in ["w", "r"] {
        let sql = format!(
            "insert into {table}({}) values ({})",
            names.join(", "),
            placeholders.join(", ")
        );
        for row in 1..=120i64 {
            let mut values = vec![Value::Integer(row)];
            values
                .extend((0..16).map(|i| Value::Blob(f32_blob(&vector((row * 16 + i) as u64, 2)))));
            values.extend((0..4).map(|i| Value::Integer((row + i) % 2)));
            values.extend((0..16).map(|i| metadata_value(row, i)));
            values.extend((0..16).map(|i| Value::Text(format!("aux {i} of row {row}"))));
            conn.execute(&sql, rusqlite::params_from_iter(values))
                .unwrap();
        }
    }
    // Every column reads back as written.
    let all = names.join(", ");
    assert_eq!(
        rows(&conn, &format!("select {all} from w order by id")),
        rows(&conn, &format!("select {all} from r order by id"))
    );

    let q = f32_blob(&[0.5, -1.0]);
    let compare = |vcol: usize, filters: &str, k: i64| {
        let got = rows_with(
            &conn,
            &format!(
                "select id, distance from w where v{vcol} match ?1 and k = ?2{filters} \
                 order by distance"
            ),
            params![q, k],
        );
        let want = rows_with(
            &conn,
            &format!(
                "select id, vec_distance_l2(v{vcol}, ?1) as d from r where 1{filters} \
                 order by d, id limit ?2"
            ),
            params![q, k],
        );
        assert_eq!(got.len(), want.len(), "v{vcol}{filters}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g[0], w[0], "v{vcol}{filters}");
            assert_eq!(number(&g[1]), number(&w[1]), "v{vcol}{filters}");
        }
    };
    // Each vector column, each partition key, each metadata column, on its own.
    for v in 0..16 {
        compare(v, "", 10);
    }
    for p in 0..4 {
        compare(p, &format!(" and p{p} = 1"), 10);
    }
    let filter = |i: usize| match metadata_value(3, i) {
        Value::Integer(x) => format!(" and m{i} = {x}"),
        Value::Real(x) => format!(" and m{i} >= {x}"),
        Value::Text(t) => format!(" and m{i} = '{t}'"),
        _ => unreachable!(),
    };
    for m in 0..16 {
        compare(m, &filter(m), 10);
    }
    // Many filters at once: 4 partition keys and 10 metadata columns with `k`, 15 constraints
    // besides MATCH, is SQLite's most (below).
    let many: String = (0..4)
        .map(|p| format!(" and p{p} = {}", (3 + p) % 2))
        .chain((0..10).map(filter))
        .collect();
    compare(15, &many, 50);
    assert!(
        !rows_with(
            &conn,
            &format!("select id from w where v15 match ?1 and k = 50{many}"),
            [&q]
        )
        .is_empty(),
        "row 3 matches every filter"
    );

    // SQLite puts MATCH after every other constraint in xBestIndex, and lets a virtual
    // table consume (omit) only the first 16: with 16 or more other constraints the MATCH
    // is left for SQLite to evaluate, which it cannot. sqlite-vec 0.1.9 fails the same way,
    // with the same message.
    let sixteen: String = (0..16).map(filter).collect();
    assert_eq!(
        error_with(
            &conn,
            &format!("select id from w where v0 match ?1 and k = 5{sixteen}"),
            [&q]
        ),
        "unable to use function MATCH in the requested context"
    );
    // Outside KNN, all 16 metadata filters (evaluated by SQLite) work together.
    assert_eq!(
        ints(
            &conn,
            &format!("select id from w where 1{sixteen} order by id")
        ),
        ints(
            &conn,
            &format!("select id from r where 1{sixteen} order by id")
        )
    );

    // Updates of every auxiliary and metadata column, then a delete, keep both in step.
    for table in ["w", "r"] {
        for i in 0..16 {
            exec(
                &conn,
                &format!("update {table} set a{i} = 'changed {i}', m{i} = m{i} where id % 5 = 0"),
            );
        }
        exec(&conn, &format!("delete from {table} where id % 7 = 0"));
    }
    assert_eq!(
        rows(&conn, &format!("select {all} from w order by id")),
        rows(&conn, &format!("select {all} from r order by id"))
    );

    // One column more of any kind is refused with sqlite-vec's message.
    let base = widest_definition();
    for (extra, message) in [
        (
            "v16 float[2]",
            "Too many provided vector columns, maximum 16",
        ),
        (
            "p4 integer partition key",
            "More than 4 partition key columns were provided",
        ),
        ("m16 integer", "More than 16 metadata columns were provided"),
        ("+a16 text", "More than 16 auxiliary columns were provided"),
    ] {
        let err = error(
            &conn,
            &format!("create virtual table x using vec0({base}, {extra})"),
        );
        assert!(
            err.starts_with(&format!("vec0 constructor error: {message}")),
            "{extra}: {err}"
        );
    }
}
