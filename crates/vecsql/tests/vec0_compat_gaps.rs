//! vec0 behaviour found missing by running sqlite-vec's own test suite, and sqlite-vec
//! 0.1.10's additions that its pre-release users already write: the index knob commands
//! (`insert into t(t) values ('search_list_size=N')`, ...) and `indexed by ivf(...)`.

mod vec0_support;

use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::*;

fn params(conn: &Connection, table: &str) -> serde_json::Value {
    let status: serde_json::Value = serde_json::from_str(text(&one(
        conn,
        &format!("select vec_index_status('{table}')"),
    )))
    .unwrap();
    status[0]["params"].clone()
}

// ---------------------------------------------------------------------------------------------
// Index knob commands (sqlite-vec 0.1.10)

#[test]
fn knob_commands_set_the_index_parameters_for_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("knobs.db");
    let a = open(&path);
    let b = open(&path);
    exec(
        &a,
        "create virtual table t using vec0(emb float[4] indexed by hnsw(quantizer=int8));
         insert into t(rowid, emb) values (1, '[1,0,0,0]'), (2, '[0,1,0,0]'), (3, '[0,0,1,0]');",
    );
    let p = params(&b, "t");
    assert_eq!(
        (&p["ef_search"], &p["ef_construction"], &p["oversample"]),
        (&64.into(), &200.into(), &serde_json::Value::Null)
    );
    exec(&a, "insert into t(t) values ('search_list_size=40')");
    let p = params(&b, "t");
    assert_eq!(
        (&p["ef_search"], &p["ef_construction"]),
        (&40.into(), &100.into())
    );
    exec(&a, "insert into t(t) values ('search_list_size_search=7')");
    exec(
        &a,
        "insert into t(t) values ('search_list_size_insert=300')",
    );
    exec(&a, "insert into t(t) values ('oversample=4')");
    let p = params(&b, "t");
    assert_eq!(
        (&p["ef_search"], &p["ef_construction"], &p["oversample"]),
        (&7.into(), &300.into(), &4.into())
    );
    // The other connection's index uses them (a query and an insert still work there).
    exec(&b, "insert into t(rowid, emb) values (4, '[0,0,0,1]')");
    assert_eq!(
        ints(
            &b,
            "select rowid from t where emb match '[0,0,0,1]' and k = 1 and ef_search = 7"
        ),
        [4]
    );
    // They survive a rebuild and a reopen.
    exec(&b, "insert into t(t) values ('rebuild-index')");
    drop(a);
    let c = open(&path);
    let p = params(&c, "t");
    assert_eq!(
        (&p["ef_search"], &p["ef_construction"]),
        (&7.into(), &300.into())
    );
    // A rolled-back command leaves the old values.
    exec(
        &c,
        "begin; insert into t(t) values ('search_list_size_search=99'); rollback;",
    );
    assert_eq!(params(&c, "t")["ef_search"], 7);
}

#[test]
fn knob_commands_refuse_bad_values_with_sqlite_vec_texts() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[4] indexed by hnsw())",
    );
    for (command, expected) in [
        ("oversample=0", "oversample must be >= 1"),
        ("oversample=abc", "oversample must be >= 1"),
        ("search_list_size=0", "search_list_size must be >= 1"),
        (
            "search_list_size_search=-3",
            "search_list_size_search must be >= 1",
        ),
        (
            "search_list_size_insert=",
            "search_list_size_insert must be >= 1",
        ),
        ("search_list_size=100000", "search_list_size must be >= 1"),
        ("shrink", "unknown vec0 command: 'shrink'"),
    ] {
        let message = error(&conn, &format!("insert into t(t) values ('{command}')"));
        assert!(message.starts_with(expected), "{command}: {message}");
    }
    // A table without an index: oversample is accepted and ignored (as in sqlite-vec 0.1.10,
    // where it only concerns rescore columns); the list sizes are unknown commands.
    exec(&conn, "create virtual table f using vec0(emb float[4])");
    exec(&conn, "insert into f(f) values ('oversample=8')");
    let message = error(&conn, "insert into f(f) values ('search_list_size=8')");
    assert!(
        message.starts_with("unknown vec0 command: 'search_list_size=8'")
            && message.contains("no ANN index"),
        "{message}"
    );
}

#[test]
fn oversample_widens_the_candidate_list_of_a_quantized_walk() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[8] indexed by hnsw(quantizer=binary, ef_search=1))",
    );
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32 - 0.5
    };
    for i in 1..=400 {
        let v: Vec<f32> = (0..8).map(|_| next()).collect();
        conn.execute(
            "insert into t(rowid, emb) values (?, ?)",
            rusqlite::params![i, f32_blob(&v)],
        )
        .unwrap();
    }
    let q = f32_blob(&[0.1, -0.2, 0.3, 0.0, 0.2, -0.1, 0.05, 0.4]);
    let exact = ints_with(
        &conn,
        "select rowid from t where emb match ? and k = 10 and exact = 1",
        [&q],
    );
    let walk = |conn: &Connection| {
        ints_with(
            conn,
            "select rowid from t where emb match ? and k = 10 and ef_search = 1",
            [&q],
        )
    };
    let hits = |got: Vec<i64>| got.iter().filter(|r| exact.contains(r)).count();
    let before = hits(walk(&conn));
    exec(&conn, "insert into t(t) values ('oversample=40')");
    let after = hits(walk(&conn));
    assert!(
        after >= before && after >= 9,
        "recall {before} -> {after} of 10"
    );
}

// ---------------------------------------------------------------------------------------------
// indexed by ivf(...) (sqlite-vec 0.1.10) maps onto HNSW

#[test]
fn ivf_clauses_are_accepted_as_hnsw() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[8] indexed by ivf(nlist=16, nprobe=4, quantizer=int8, oversample=4));
         insert into t(rowid, emb) values (1, '[1,0,0,0,0,0,0,0]'), (2, '[0,1,0,0,0,0,0,0]');",
    );
    let p = params(&conn, "t");
    assert_eq!(
        (&p["quantizer"], &p["oversample"], &p["declared_as"]),
        (&"int8".into(), &4.into(), &"ivf".into())
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0,1,0,0,0,0,0,0]' and k = 1"
        ),
        [2]
    );
    exec(
        &conn,
        "create virtual table u using vec0(emb float[8] indexed by ivf())",
    );
    assert_eq!(params(&conn, "u")["quantizer"], "none");
    for def in [
        "emb float[8] indexed by ivf(nlist=abc)",
        "emb float[8] indexed by ivf(nlist=70000)",
        "emb float[8] indexed by ivf(nlist=4, nprobe=8)",
        "emb float[8] indexed by ivf(nprobe=0)",
        "emb float[8] indexed by ivf(quantizer=pq)",
        "emb float[8] indexed by ivf(oversample=4)",
        "emb float[8] indexed by ivf(colour=red)",
        "emb float[12] indexed by ivf(quantizer=binary)",
        "emb float[8] indexed by diskann(neighbor_quantizer=int8, search_list_size=8, search_list_size_insert=9)",
    ] {
        let message = error(&conn, &format!("create virtual table x using vec0({def})"));
        let expected = format!("vec0 constructor error: could not parse vector column '{def}'");
        assert!(message.starts_with(&expected), "{def}: {message}");
    }
}

// ---------------------------------------------------------------------------------------------
// Gaps found with sqlite-vec 0.1.9's test suite

#[test]
fn hidden_columns_take_no_values_on_insert() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t1 using vec0(aaa float[4]);
         create virtual table t2 using vec0(aaa float[4] indexed by hnsw());",
    );
    for (sql, column) in [
        (
            "insert into t1(rowid, aaa, distance) values (1, '[1,2,3,4]', 1)",
            "distance",
        ),
        (
            "insert into t1(rowid, aaa, k) values (1, '[1,2,3,4]', 1)",
            "k",
        ),
        (
            "insert into t2(rowid, aaa, ef_search) values (1, '[1,2,3,4]', 1)",
            "ef_search",
        ),
        (
            "insert into t2(rowid, aaa, exact) values (1, '[1,2,3,4]', 1)",
            "exact",
        ),
    ] {
        assert_eq!(
            error(&conn, sql),
            format!("A value was provided for the hidden \"{column}\" column.")
        );
    }
    assert_eq!(int(&conn, "select count(*) from t1"), 0);
    assert_eq!(int(&conn, "select count(*) from t2"), 0);
}

#[test]
fn null_vectors_get_sqlite_vec_texts() {
    let conn = db();
    exec(&conn, "create virtual table t1 using vec0(aaa float[4])");
    assert_eq!(
        error(&conn, "insert into t1(aaa) values (NULL)"),
        "Inserted vector for the \"aaa\" column is invalid: Input must have type BLOB (compact format) or TEXT (JSON), found NULL"
    );
    assert_eq!(
        error(&conn, "select rowid from t1 where aaa match NULL and k = 1"),
        "Query vector on the \"aaa\" column is invalid: Input must have type BLOB (compact format) or TEXT (JSON), found NULL"
    );
}

#[test]
fn auxiliary_column_types_are_enforced_after_affinity() {
    let conn = db();
    exec(
        &conn,
        "create virtual table x using vec0(+a integer, +t text, +f float, +b blob, +any, v float[1])",
    );
    let mismatch = |col: &str, ty: &str, got: &str| {
        format!("Auxiliary column type mismatch: The auxiliary column {col} has type {ty}, but {got} was provided.")
    };
    assert_eq!(
        error(&conn, "insert into x(a, v) values ('text', '[1]')"),
        mismatch("a", "INTEGER", "TEXT")
    );
    assert_eq!(
        error(&conn, "insert into x(a, v) values (1.5, '[1]')"),
        mismatch("a", "INTEGER", "FLOAT")
    );
    assert_eq!(
        error(&conn, "insert into x(t, v) values (x'00', '[1]')"),
        mismatch("t", "TEXT", "BLOB")
    );
    assert_eq!(
        error(&conn, "insert into x(b, v) values ('x', '[1]')"),
        mismatch("b", "BLOB", "TEXT")
    );
    assert_eq!(
        error(&conn, "insert into x(f, v) values ('x', '[1]')"),
        mismatch("f", "FLOAT", "TEXT")
    );
    // SQLITE_CONSTRAINT, as in sqlite-vec.
    let err = conn
        .execute("insert into x(a, v) values ('text', '[1]')", [])
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    );
    // What an ordinary table's affinity converts is stored converted; NULL is allowed.
    exec(
        &conn,
        "insert into x(rowid, a, t, f, b, any, v) values (1, '3', 4, 5, x'01', 'free', '[1]');
         insert into x(rowid, a, t, f, b, any, v) values (2, 6.0, 'x', 1.5, NULL, 7, '[2]');
         insert into x(rowid, v) values (3, '[3]');",
    );
    assert_eq!(
        rows(
            &conn,
            "select typeof(a), a, typeof(t), t, typeof(f), typeof(b), typeof(any) from x order by rowid"
        ),
        [
            vec![
                Value::Text("integer".into()),
                Value::Integer(3),
                Value::Text("text".into()),
                Value::Text("4".into()),
                Value::Text("real".into()),
                Value::Text("blob".into()),
                Value::Text("text".into()),
            ],
            vec![
                Value::Text("integer".into()),
                Value::Integer(6),
                Value::Text("text".into()),
                Value::Text("x".into()),
                Value::Text("real".into()),
                Value::Text("null".into()),
                Value::Text("integer".into()),
            ],
            vec![
                Value::Text("null".into()),
                Value::Null,
                Value::Text("null".into()),
                Value::Null,
                Value::Text("null".into()),
                Value::Text("null".into()),
                Value::Text("null".into()),
            ],
        ]
    );
    // UPDATE checks the same way.
    assert_eq!(
        error(&conn, "update x set a = 'text' where rowid = 1"),
        mismatch("a", "INTEGER", "TEXT")
    );
}

#[test]
fn keys_and_metadata_get_their_column_affinity() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(id integer primary key, v float[1], n integer, f float, b boolean, s text, p integer partition key);
         create virtual table r using vec0(v float[1]);
         create virtual table x using vec0(id text primary key, v float[1]);",
    );
    // better-sqlite3 binds every JS number as REAL.
    conn.execute(
        "insert into t(id, v, n, f, b, s, p) values (?, '[1]', ?, ?, ?, ?, ?)",
        rusqlite::params![1.0f64, 2.0f64, 3i64, 1.0f64, 4i64, 5.0f64],
    )
    .unwrap();
    exec(
        &conn,
        "insert into t(id, v, n, f, b, s, p) values ('2', '[2]', '12', '13.5', '0', 'x', '5')",
    );
    conn.execute(
        "insert into r(rowid, v) values (?, '[1]')",
        rusqlite::params![7.0f64],
    )
    .unwrap();
    exec(&conn, "insert into x(id, v) values (5, '[1]')");
    assert_eq!(
        rows(
            &conn,
            "select typeof(id), id, typeof(n), n, typeof(f), f, typeof(b), typeof(s), s, typeof(p), p from t order by id"
        ),
        [
            vec![
                Value::Text("integer".into()),
                Value::Integer(1),
                Value::Text("integer".into()),
                Value::Integer(2),
                Value::Text("real".into()),
                Value::Real(3.0),
                Value::Text("integer".into()),
                Value::Text("text".into()),
                Value::Text("4".into()),
                Value::Text("integer".into()),
                Value::Integer(5),
            ],
            vec![
                Value::Text("integer".into()),
                Value::Integer(2),
                Value::Text("integer".into()),
                Value::Integer(12),
                Value::Text("real".into()),
                Value::Real(13.5),
                Value::Text("integer".into()),
                Value::Text("text".into()),
                Value::Text("x".into()),
                Value::Text("integer".into()),
                Value::Integer(5),
            ],
        ]
    );
    assert_eq!(ints(&conn, "select rowid from r"), [7]);
    assert_eq!(
        rows(&conn, "select typeof(id), id from x"),
        [[Value::Text("text".into()), Value::Text("5".into())]]
    );
    // Non-whole reals and non-numeric text stay errors.
    assert_eq!(
        error(
            &conn,
            "insert into t(id, v, n, f, b, s, p) values (1.5, '[1]', 1, 1, 1, 's', 1)"
        ),
        "Only integers are allows for primary key values on t"
    );
    assert_eq!(
        error(&conn, "insert into r(rowid, v) values ('abc', '[1]')"),
        "Only integers are allows for primary key values on r"
    );
    assert_eq!(
        error(
            &conn,
            "insert into t(id, v, n, f, b, s, p) values (9, '[1]', 1.5, 1, 1, 's', 1)"
        ),
        "Expected integer for INTEGER metadata column n, received FLOAT"
    );
    assert_eq!(
        error(&conn, "insert into t(id, v, n, f, b, s, p) values (9, '[1]', 1, 1, 1, 's', 'x')"),
        "Parition key type mismatch: The partition key column p has type INTEGER, but TEXT was provided."
    );
    assert_eq!(
        error(&conn, "insert into x(id, v) values (x'01', '[1]')"),
        "The x virtual table was declared with a TEXT primary key, but a non-TEXT value was provided in an INSERT."
    );
}

#[test]
fn two_match_constraints_get_sqlite_vec_text() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(a float[1], b float[1])",
    );
    assert_eq!(
        error(
            &conn,
            "select rowid from t where a match '[1]' and b match '[1]' and k = 1"
        ),
        "only 1 MATCH operator is allowed in a single vec0 query"
    );
}
