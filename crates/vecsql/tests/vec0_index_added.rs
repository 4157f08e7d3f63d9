//! An index added to or dropped from a filled table (`'create-index'`, `'drop-index'`, issue
//! 16): built from the rows in place, the same graph a declared index gets, seen by every
//! connection (those opened before included), kept across reopens, and refused cleanly.

mod vec0_support;

use std::path::Path;

use rusqlite::Connection;
use vec0_support::index::Rng;
use vec0_support::*;

const DIMS: usize = 8;
const ROWS: i64 = 700;

/// A table of ROWS rows, `indexed` (an `indexed by` clause) or not.
fn filled(path: &Path, indexed: &str) -> Connection {
    let conn = open(path);
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    exec(
        &conn,
        &format!(
            "create virtual table t using vec0(emb float[{DIMS}] {indexed}, bucket integer, \
             chunk_size=64)"
        ),
    );
    let mut rng = Rng::new(3);
    exec(&conn, "begin");
    for i in 1..=ROWS {
        conn.execute(
            "insert into t(rowid, emb, bucket) values (?, ?, ?)",
            rusqlite::params![i, f32_blob(&rng.vector(DIMS)), i % 10],
        )
        .unwrap();
    }
    exec(&conn, "commit");
    conn
}

fn index_rows(conn: &Connection) -> Vec<Vec<rusqlite::types::Value>> {
    rows(
        conn,
        "select rowid, links from t_hnsw00_nodes order by rowid",
    )
}

fn status(conn: &Connection, what: &str) -> i64 {
    int(
        conn,
        &format!("select coalesce(json_extract(vec_index_status('t'), '$[0].{what}'), -1)"),
    )
}

fn walk(conn: &Connection, q: &[f32]) -> Vec<i64> {
    ints_with(
        conn,
        "select rowid from t where emb match ? and k = 5 and ef_search = 40",
        [f32_blob(q)],
    )
}

#[test]
fn an_added_index_is_the_graph_a_declared_one_gets() {
    let dir = tempfile::tempdir().unwrap();
    let clause = "hnsw(m=6, ef_construction=32)";
    let declared = filled(
        &dir.path().join("declared.db"),
        &format!("indexed by {clause}"),
    );
    let added = filled(&dir.path().join("added.db"), "");
    exec(
        &added,
        &format!("insert into t(t) values ('create-index emb {clause}')"),
    );
    assert_eq!(status(&added, "indexed"), ROWS);
    assert_eq!(index_rows(&added), index_rows(&declared));
    // A new connection declares the hidden ef_search (the one that ran the command does once
    // it connects again).
    let added = open(&dir.path().join("added.db"));
    let mut rng = Rng::new(9);
    for _ in 0..10 {
        let q = rng.vector(DIMS);
        assert_eq!(walk(&added, &q), walk(&declared, &q));
    }
}

#[test]
fn every_connection_follows_the_index_commands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let a = filled(&path, "");
    let b = open(&path);
    assert_eq!(status(&b, "indexed"), -1);

    exec(&a, "insert into t(t) values ('create-index emb')");
    // b, opened before, sees the index and keeps it up to date.
    assert_eq!(status(&b, "indexed"), ROWS);
    exec(
        &b,
        "insert into t(rowid, emb, bucket) values (5000, '[9,9,9,9,9,9,9,9]', 1)",
    );
    assert_eq!(status(&a, "indexed"), ROWS + 1);
    // a, which ran the command, walks with the default ef_search until it connects again.
    assert_eq!(
        ints(
            &a,
            "select rowid from t where emb match '[9,9,9,9,9,9,9,9]' and k = 1"
        ),
        [5000]
    );
    assert_eq!(walk(&b, &[9.0; DIMS])[0], 5000);
    let generation = status(&a, "generation");

    // A reopened connection has it too.
    let c = open(&path);
    assert_eq!(walk(&c, &[9.0; DIMS])[0], 5000);

    exec(&b, "insert into t(t) values ('drop-index emb')");
    for conn in [&a, &b, &c] {
        assert_eq!(status(conn, "indexed"), -1);
        // Connections that declared ef_search say the column has no index; those that
        // connected after the drop do not declare it.
        let e = error(
            conn,
            "select rowid from t where emb match '[1,2,3,4,5,6,7,8]' and k = 1 and ef_search = 9",
        );
        assert!(
            e.contains("has no index") || e.contains("no such column: ef_search"),
            "{e}"
        );
        // Exact answers, and writes no longer touch the index tables.
        assert_eq!(
            ints(
                conn,
                "select rowid from t where emb match '[9,9,9,9,9,9,9,9]' and k = 1"
            ),
            [5000]
        );
    }
    exec(
        &a,
        "insert into t(rowid, emb, bucket) values (5001, '[8,8,8,8,8,8,8,8]', 1)",
    );
    assert_eq!(int(&a, "select count(*) from t_hnsw00_nodes"), 0);

    // Created again: built from every row, its generation past the dropped one's.
    exec(&c, "insert into t(t) values ('create-index emb hnsw(m=4)')");
    assert_eq!(status(&a, "indexed"), ROWS + 2);
    assert!(status(&a, "generation") > generation);
    assert_eq!(walk(&a, &[8.0; DIMS])[0], 5001);
    drop((a, b, c));
    let d = open(&path);
    assert_eq!(
        int(
            &d,
            "select json_extract(vec_index_status('t'), '$[0].params.m')"
        ),
        4
    );
}

#[test]
fn index_commands_refuse_clearly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let conn = filled(&path, "");
    let cases = [
        (
            "create-index nope",
            "has no vector column named \"nope\" (its vector columns: emb)",
        ),
        (
            "create-index bucket",
            "has no vector column named \"bucket\"",
        ),
        ("create-index emb hnsw(m=1)", "create-index: "),
        ("create-index emb ivy()", "create-index: "),
        ("drop-index emb", "vector column \"emb\" of t has no index"),
    ];
    for (command, message) in cases {
        let e = error(&conn, &format!("insert into t(t) values ('{command}')"));
        assert!(e.contains(message), "{command}: {e}");
    }
    exec(&conn, "begin");
    let e = error(&conn, "insert into t(t) values ('create-index emb')");
    assert!(e.contains("outside an explicit transaction"), "{e}");
    exec(&conn, "rollback");
    assert_eq!(status(&conn, "indexed"), -1);
    assert_eq!(
        int(
            &conn,
            "select count(*) from t_info where key like 'index:%'"
        ),
        0
    );
    assert_eq!(
        int(
            &conn,
            "select count(*) from sqlite_master where name like 't_hnsw%'"
        ),
        0
    );
    exec(&conn, "insert into t(t) values ('create-index emb')");
    let e = error(&conn, "insert into t(t) values ('create-index EMB')");
    assert!(e.contains("already has an index"), "{e}");

    let other = open(&dir.path().join("exact.db"));
    exec(
        &other,
        "create virtual table t using vec0(emb float[2], exact integer)",
    );
    let e = error(&other, "insert into t(t) values ('create-index emb')");
    assert!(e.contains("has a column named exact"), "{e}");
}

#[test]
fn dropped_index_tables_go_with_the_table_and_follow_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let conn = filled(&path, "indexed by hnsw()");
    exec(&conn, "insert into t(t) values ('drop-index emb')");
    exec(&conn, "alter table t rename to u");
    assert_eq!(
        ints(
            &conn,
            "select count(*) from sqlite_master where name like 'u_hnsw%' and type = 'table'"
        ),
        [2]
    );
    exec(&conn, "drop table u");
    assert_eq!(
        ints(
            &conn,
            "select count(*) from sqlite_master where name like 'u%' or name like 't%'"
        ),
        [0]
    );
}
