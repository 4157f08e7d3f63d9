//! `indexed by` clauses and KNN query options that are refused, and the messages that say why.

mod vec0_support;

#[allow(unused_imports)]
use std::collections::{BTreeMap, HashSet};

#[allow(unused_imports)]
use rusqlite::config::DbConfig;
#[allow(unused_imports)]
use rusqlite::types::Value;
#[allow(unused_imports)]
use rusqlite::{params, Connection};
use vec0_support::index::*;
use vec0_support::*;

// ---------------------------------------------------------------------------------------------
// Errors

fn create_error(columns: &str) -> String {
    let conn = db();
    error(
        &conn,
        &format!("create virtual table t using vec0({columns})"),
    )
}

#[test]
fn bad_index_clauses_are_refused_naming_the_problem() {
    let cases: &[(&str, &[&str])] = &[
        (
            "emb float[4] indexed by annoy()",
            &["unknown index type 'annoy'", "hnsw"],
        ),
        (
            "emb float[4] indexed by hnsw(efs=10)",
            &["unknown parameter 'efs'", "emb"],
        ),
        (
            "emb float[4] indexed by hnsw(m=1)",
            &["m must be an integer from 4", "got '1'"],
        ),
        (
            "emb float[4] indexed by hnsw(m=1000)",
            &["m must be an integer", "got '1000'"],
        ),
        (
            "emb float[4] indexed by hnsw(m=abc)",
            &["m must be", "got 'abc'"],
        ),
        ("emb float[4] indexed by hnsw(m=-4)", &["m must be", "-4"]),
        (
            "emb float[4] indexed by hnsw(ef_search=0)",
            &["ef_search must be an integer from 1"],
        ),
        (
            "emb float[4] indexed by hnsw(ef_search=5000)",
            &["ef_search", "5000"],
        ),
        (
            "emb float[4] indexed by hnsw(ef_construction=0)",
            &["ef_construction", "got '0'"],
        ),
        (
            "emb float[4] indexed by hnsw(quantizer=pq)",
            &["quantizer must be none, int8 or binary", "pq"],
        ),
        (
            "emb bit[64] indexed by hnsw(quantizer=int8)",
            &["bit column", "quantizer"],
        ),
        (
            "emb bit[64] indexed by hnsw(quantizer=binary)",
            &["bit column"],
        ),
        (
            "emb float[4] distance_metric=l1 indexed by hnsw(quantizer=binary)",
            &["l1"],
        ),
        (
            "emb float[4] indexed by diskann(n_neighbors=2)",
            &["n_neighbors", "got '2'"],
        ),
        (
            "emb float[4] indexed by diskann(search_list=10)",
            &["unknown parameter 'search_list'"],
        ),
        (
            "emb float[4] indexed by rescore(quantizer=pq)",
            &["quantizer", "pq"],
        ),
        (
            "emb float[4] indexed by rescore(oversample=0)",
            &["oversample", "got '0'"],
        ),
        (
            "emb float[4] indexed by hnsw(), ef_search integer",
            &["ef_search", "hidden", "rename"],
        ),
        (
            "emb float[4] indexed by hnsw(), exact integer",
            &["exact", "hidden", "rename"],
        ),
        (
            "emb float[4] indexed by hnsw(), Exact text",
            &["Exact", "hidden"],
        ),
        (
            "emb float[4] indexed by hnsw(), ef_search integer partition key",
            &["ef_search", "hidden"],
        ),
        (
            "emb float[4] indexed by hnsw(), +exact",
            &["exact", "hidden"],
        ),
        (
            "exact integer primary key, emb float[4] indexed by hnsw()",
            &["exact", "hidden"],
        ),
        (
            "emb float[4] indexed by hnsw(), ef_search float[4]",
            &["ef_search", "hidden"],
        ),
        (
            "emb float[4] indexed by hnsw() indexed by hnsw()",
            &["indexed by"],
        ),
        ("emb float[4] indexed by hnsw(m=8, m=9)", &["m"]),
    ];
    for (columns, wanted) in cases {
        let message = create_error(columns);
        for w in *wanted {
            assert!(
                message.contains(w),
                "create vec0({columns}): message {message:?} should mention {w:?}"
            );
        }
    }
    // Without an index the names are ordinary column names.
    let conn = db();
    create(&conn, "t", "emb float[4], ef_search integer, exact integer");
    exec(
        &conn,
        "insert into t(rowid, emb, ef_search, exact) values (1, '[1,2,3,4]', 7, 8)",
    );
    assert_eq!(
        rows(&conn, "select ef_search, exact from t"),
        [[Value::Integer(7), Value::Integer(8)]]
    );
}

#[test]
fn query_options_are_validated() {
    let conn = db();
    create(
        &conn,
        "t",
        "a float[2], emb float[2] indexed by hnsw(), cat integer",
    );
    exec(
        &conn,
        "insert into t(rowid, a, emb, cat) values (1, '[1, 1]', '[1, 0]', 1), (2, '[2, 2]', '[0, 1]', 2)",
    );
    let q = "select rowid from t where emb match '[1, 0]' and k = 2";
    for (extra, wanted) in [
        (
            "and ef_search = 0",
            "ef_search must be from 1 to 4096, got 0",
        ),
        (
            "and ef_search = 4097",
            "ef_search must be from 1 to 4096, got 4097",
        ),
        ("and ef_search = -5", "ef_search must be from 1 to 4096"),
        ("and ef_search = 'x'", "ef_search must be an integer"),
        ("and ef_search = 2.5", "ef_search must be an integer"),
        ("and ef_search = null", "ef_search must be an integer"),
        ("and ef_search > 10", "only 'ef_search = ?' is supported"),
        ("and exact > 0", "only 'exact = ?' is supported"),
        ("and exact = 'yes'", "exact must be an integer"),
        (
            "and ef_search = 10 and ef_search = 20",
            "only one 'ef_search = ?'",
        ),
    ] {
        let message = error(&conn, &format!("{q} {extra}"));
        assert!(
            message.contains(wanted),
            "{extra}: {message:?}, wanted {wanted:?}"
        );
    }
    // Within range: fine, on both ends.
    for ef in [1, 4096] {
        assert_eq!(
            ints(&conn, &format!("{q} and ef_search = {ef}")),
            [1, 2],
            "ef_search = {ef}"
        );
    }
    // ef_search on the unindexed column of the same table.
    let message = error(
        &conn,
        "select rowid from t where a match '[1, 1]' and k = 1 and ef_search = 10",
    );
    assert!(
        message.contains("ef_search applies to indexed vector columns")
            && message.contains("\"a\""),
        "{message}"
    );
    // exact = 1 on the unindexed column is harmless.
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where a match '[1, 1]' and k = 1 and exact = 1"
        ),
        [1]
    );
    // A table without any index has no such hidden columns.
    create(&conn, "u", "emb float[2]");
    exec(&conn, "insert into u(rowid, emb) values (1, '[1, 0]')");
    let message = error(
        &conn,
        "select rowid from u where emb match '[1, 0]' and k = 1 and ef_search = 10",
    );
    assert!(message.contains("ef_search"), "{message}");
    // The hidden columns read as NULL and are not in select *.
    assert_eq!(
        rows(&conn, "select ef_search, exact from t where rowid = 1"),
        [[Value::Null, Value::Null]]
    );
    let n = conn.prepare("select * from t").unwrap().column_count();
    assert_eq!(
        n, 4,
        "select * shows rowid, a, emb, cat (not ef_search, exact)"
    );
}
