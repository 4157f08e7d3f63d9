//! The in-memory vector cache of KNN scans never serves stale vectors: not after this
//! connection's writes, rollbacks or savepoint rollbacks, nor after another connection commits.

use rusqlite::Connection;

fn open(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    vecsql::register(&conn).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

/// The nearest row to `[0, 0]` and its distance.
fn nearest(conn: &Connection) -> (i64, f64) {
    conn.query_row(
        "select rowid, distance from t where emb match '[0,0]' and k = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn setup() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = open(&dir.path().join("cache.db"));
    conn.execute_batch(
        "create virtual table t using vec0(emb float[2], chunk_size=8);
         insert into t(rowid, emb) values (1, '[5,5]'), (2, '[6,6]');",
    )
    .unwrap();
    (dir, conn)
}

#[test]
fn own_updates_are_seen_by_the_next_scan() {
    let (_dir, conn) = setup();
    assert_eq!(nearest(&conn).0, 1);
    conn.execute("update t set emb = '[0,1]' where rowid = 2", [])
        .unwrap();
    assert_eq!(nearest(&conn), (2, 1.0));
    conn.execute("delete from t where rowid = 2", []).unwrap();
    assert_eq!(nearest(&conn).0, 1);
}

#[test]
fn rollback_drops_vectors_read_inside_the_transaction() {
    let (_dir, conn) = setup();
    conn.execute_batch("begin; update t set emb = '[0,1]' where rowid = 2;")
        .unwrap();
    assert_eq!(nearest(&conn), (2, 1.0)); // read (and cached) inside the transaction
    conn.execute_batch("rollback").unwrap();
    assert_eq!(nearest(&conn).0, 1);
}

#[test]
fn rollback_to_a_savepoint_drops_vectors_read_after_it() {
    let (_dir, conn) = setup();
    conn.execute_batch("begin; savepoint s; update t set emb = '[0,1]' where rowid = 2;")
        .unwrap();
    assert_eq!(nearest(&conn), (2, 1.0));
    conn.execute_batch("rollback to s;").unwrap();
    assert_eq!(nearest(&conn).0, 1);
    conn.execute_batch("commit").unwrap();
    assert_eq!(nearest(&conn).0, 1);
}

#[test]
fn commits_by_another_connection_are_seen() {
    let (dir, a) = setup();
    assert_eq!(nearest(&a).0, 1); // fills a's cache
    let b = open(&dir.path().join("cache.db"));
    b.execute("update t set emb = '[0,2]' where rowid = 2", [])
        .unwrap();
    assert_eq!(nearest(&a), (2, 2.0));
    b.execute("insert into t(rowid, emb) values (3, '[0,0.5]')", [])
        .unwrap();
    assert_eq!(nearest(&a), (3, 0.5));
}

#[test]
fn a_failed_statement_leaves_no_stale_vectors() {
    let (_dir, conn) = setup();
    conn.execute_batch("begin").unwrap();
    // The second row fails (dimension mismatch) after the first was written and scanned
    // by nothing; the statement is undone as a whole.
    let err = conn
        .execute(
            "insert into t(rowid, emb) values (10, '[0,0.1]'), (11, '[1,2,3]')",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("Dimension mismatch"), "{err}");
    assert_eq!(nearest(&conn).0, 1);
    conn.execute_batch("commit").unwrap();
    assert_eq!(nearest(&conn).0, 1);
}

/// The vector column of a row whose chunk a scan left in the cache, as JSON.
fn stored(conn: &Connection, rowid: i64) -> String {
    conn.query_row(
        "select vec_to_json(emb) from t where rowid = ?",
        [rowid],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn vectors_read_back_from_the_cache_follow_every_write() {
    let (dir, conn) = setup();
    nearest(&conn); // the chunk is cached now
    let knn_with_vectors = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn
            .prepare("select vec_to_json(emb) from t where emb match '[0,0]' and k = 2")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        knn_with_vectors(&conn),
        ["[5.000000,5.000000]", "[6.000000,6.000000]"]
    );
    // Another connection's commit.
    let other = open(&dir.path().join("cache.db"));
    other
        .execute("update t set emb = '[7,7]' where rowid = 1", [])
        .unwrap();
    assert_eq!(stored(&conn, 1), "[7.000000,7.000000]");
    // This connection's own write, then a rolled-back one.
    conn.execute("update t set emb = '[1,1]' where rowid = 2", [])
        .unwrap();
    assert_eq!(
        knn_with_vectors(&conn),
        ["[1.000000,1.000000]", "[7.000000,7.000000]"]
    );
    conn.execute_batch("begin; update t set emb = '[9,9]' where rowid = 2;")
        .unwrap();
    assert_eq!(stored(&conn, 2), "[9.000000,9.000000]");
    conn.execute_batch("rollback").unwrap();
    assert_eq!(stored(&conn, 2), "[1.000000,1.000000]");
}
