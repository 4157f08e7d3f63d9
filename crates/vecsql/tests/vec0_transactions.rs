//! vec0 changes under SQLite's transactions: rollbacks, savepoints and statement rollbacks
//! restore the table (and every shadow table) exactly, and other connections see only what
//! was committed.

mod vec0_support;

use rusqlite::Connection;
use vec0_support::*;

fn create(conn: &Connection) {
    exec(
        conn,
        "create virtual table t using vec0(
            emb float[2], n integer, tag text, p integer partition key, +note, chunk_size=8)",
    );
}

/// Inserts rows `from..=to` (tags over 12 bytes on odd rows, two partitions).
fn fill(conn: &Connection, from: i64, to: i64) {
    for i in from..=to {
        let tag = if i % 2 == 1 {
            format!("row {i} has a long tag")
        } else {
            format!("r{i}")
        };
        conn.execute(
            "insert into t(rowid, emb, n, tag, p, note) values (?, ?, ?, ?, ?, ?)",
            rusqlite::params![
                i,
                f32_blob(&[i as f32, -(i as f32)]),
                i % 5,
                tag,
                i % 2,
                format!("note {i}")
            ],
        )
        .unwrap();
    }
}

/// A mix of every kind of change: new chunks, emptied chunks, partition moves, key changes.
fn churn(conn: &Connection) {
    fill(conn, 100, 120);
    exec(
        conn,
        "delete from t where rowid between 1 and 9;
         update t set p = 1 - p where rowid % 3 = 0;
         update t set emb = '[0.5, 0.5]', tag = 'now a rather long tag' where rowid % 4 = 0;
         update t set rowid = rowid + 1000 where rowid between 30 and 33;
         insert or replace into t(rowid, emb, n, tag, p, note) values (40, '[4, 4]', 4, 'x', 0, x'00');",
    );
}

#[test]
fn rollback_restores_the_table_exactly() {
    let conn = db();
    create(&conn);
    fill(&conn, 1, 50);
    let before = dump(&conn, "t");
    exec(&conn, "begin");
    churn(&conn);
    assert_ne!(dump(&conn, "t"), before);
    // The transaction sees its own changes, in KNN queries too.
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0.5, 0.5]' and k = 1"
        ),
        [12]
    );
    exec(&conn, "rollback");
    assert_eq!(dump(&conn, "t"), before);
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[1, -1]' and k = 2"
        ),
        [1, 2]
    );
}

#[test]
fn savepoints_roll_back_and_release_like_ordinary_tables() {
    let conn = db();
    create(&conn);
    fill(&conn, 1, 30);
    exec(&conn, "begin; savepoint outer_sp;");
    fill(&conn, 31, 40);
    let after_outer = dump(&conn, "t");
    exec(&conn, "savepoint inner_sp");
    churn(&conn);
    exec(&conn, "rollback to inner_sp");
    assert_eq!(dump(&conn, "t"), after_outer);
    churn(&conn);
    let churned = dump(&conn, "t");
    exec(&conn, "release inner_sp");
    assert_eq!(dump(&conn, "t"), churned);
    exec(&conn, "rollback to outer_sp; release outer_sp; commit;");
    let fresh = db();
    create(&fresh);
    fill(&fresh, 1, 30);
    assert_eq!(dump(&conn, "t"), dump(&fresh, "t"));
    // And a released savepoint's changes survive the commit.
    exec(
        &conn,
        "savepoint s; delete from t where rowid < 10; release s;",
    );
    exec(&fresh, "delete from t where rowid < 10");
    assert_eq!(dump(&conn, "t"), dump(&fresh, "t"));
}

#[test]
fn a_failing_row_undoes_its_whole_statement_and_nothing_else() {
    let conn = db();
    create(&conn);
    fill(&conn, 1, 20);
    exec(&conn, "begin");
    fill(&conn, 21, 22);
    let before = dump(&conn, "t");
    // Rows 23..=30 fill a new chunk, then row 31's vector is wrong.
    let message = error(
        &conn,
        "insert into t(rowid, emb, n, tag, p) values
            (23, '[1, 1]', 1, 'a long tag number 23', 0), (24, '[1, 1]', 1, 'b', 0),
            (25, '[1, 1]', 1, 'c', 1), (26, '[1, 1]', 1, 'd', 0), (27, '[1, 1]', 1, 'e', 0),
            (28, '[1, 1]', 1, 'f', 0), (29, '[1, 1]', 1, 'g', 0), (30, '[1, 1]', 1, 'h', 0),
            (31, '[1, 1, 1]', 1, 'i', 0), (32, '[1, 1]', 1, 'j', 0)",
    );
    assert!(message.starts_with("Dimension mismatch"), "{message}");
    assert_eq!(dump(&conn, "t"), before);
    // A duplicate key at the end of INSERT ... SELECT.
    let message = error(
        &conn,
        "with recursive s(x) as (select 40 union all select x + 1 from s where x < 60)
         insert into t(rowid, emb, n, tag, p) select x, '[2, 2]', 2, 'a long tag from select', x % 2
            from s union all select 5, '[2, 2]', 2, 't', 0",
    );
    assert_eq!(message, "UNIQUE constraint failed on t primary key");
    assert_eq!(dump(&conn, "t"), before);
    // A multi-row UPDATE that fails on its fifth row, after partition moves and new chunks.
    let message = error(
        &conn,
        "update t set p = 1 - p, tag = 'changed into a long tag',
            emb = case when rowid = 5 then '[1]' else '[3, 3]' end",
    );
    assert!(message.contains("Dimension mismatch"), "{message}");
    assert_eq!(dump(&conn, "t"), before);
    exec(&conn, "commit");
    assert_eq!(dump(&conn, "t"), before);
    // The same in autocommit mode.
    let message = error(
        &conn,
        "insert into t(rowid, emb, n, tag, p) values (50, '[1, 1]', 1, 'a', 0), (51, '[1, 1]', NULL, 'b', 0)",
    );
    assert_eq!(
        message,
        "Expected integer for INTEGER metadata column n, received NULL"
    );
    assert_eq!(dump(&conn, "t"), before);
    // INSERT OR IGNORE skips only the duplicate; OR FAIL keeps the rows before the failure.
    exec(
        &conn,
        "insert or ignore into t(rowid, emb, n, tag, p) values (60, '[1, 1]', 1, 'a', 0), (5, '[9, 9]', 9, 'z', 1), (61, '[1, 1]', 1, 'b', 0)",
    );
    assert_eq!(
        ints(&conn, "select rowid from t where rowid in (5, 60, 61)"),
        [5, 60, 61]
    );
    assert_eq!(ints(&conn, "select n from t where rowid = 5"), [0]);
    let message = error(
        &conn,
        "insert or fail into t(rowid, emb, n, tag, p) values (62, '[1, 1]', 1, 'a', 0), (5, '[9, 9]', 9, 'z', 1), (63, '[1, 1]', 1, 'b', 0)",
    );
    assert_eq!(message, "UNIQUE constraint failed on t primary key");
    assert_eq!(
        ints(&conn, "select rowid from t where rowid > 59"),
        [60, 61, 62]
    );
}

#[test]
fn wal_connections_see_each_others_commits_and_not_uncommitted_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vec0.db");
    let a = open(&path);
    exec(&a, "pragma journal_mode = wal");
    create(&a);
    fill(&a, 1, 10);
    let b = open(&path);
    let knn = "select rowid from t where emb match '[100, -100]' and k = 3";
    assert_eq!(ints(&b, knn), [10, 9, 8]);
    assert_eq!(int(&b, "select count(*) from t"), 10);

    exec(&a, "begin");
    fill(&a, 100, 101);
    exec(
        &a,
        "delete from t where rowid = 10; update t set n = 42 where rowid = 9",
    );
    assert_eq!(ints(&a, knn), [100, 101, 9]);
    // b reads the last committed state while a's transaction is open.
    assert_eq!(ints(&b, knn), [10, 9, 8]);
    assert_eq!(ints(&b, "select n from t where rowid = 9"), [4]);
    assert_eq!(int(&b, "select count(*) from t"), 10);
    exec(&a, "commit");
    assert_eq!(ints(&b, knn), [100, 101, 9]);
    assert_eq!(ints(&b, "select n from t where rowid = 9"), [42]);
    assert_eq!(int(&b, "select count(*) from t"), 11);

    // And the other way round, including a rolled-back transaction of b's.
    exec(&b, "begin; delete from t where rowid > 50; rollback;");
    exec(
        &b,
        "insert into t(rowid, emb, n, tag, p) values (200, '[100.5, -100.5]', 1, 'b', 0)",
    );
    assert_eq!(ints(&a, knn), [100, 200, 101]);
    assert_eq!(dump(&a, "t"), dump(&b, "t"));

    // A reader holding a snapshot keeps seeing it while the writer commits.
    exec(&b, "begin");
    assert_eq!(int(&b, "select count(*) from t"), 12);
    exec(&a, "delete from t where rowid < 5");
    assert_eq!(int(&b, "select count(*) from t"), 12);
    assert_eq!(
        ints(&b, "select rowid from t where emb match '[0, 0]' and k = 1"),
        [1]
    );
    exec(&b, "commit");
    assert_eq!(
        ints(&b, "select rowid from t where emb match '[0, 0]' and k = 1"),
        [5]
    );
}

#[test]
fn a_table_created_on_one_connection_is_usable_from_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vec0.db");
    let a = open(&path);
    let b = open(&path);
    create(&a);
    fill(&a, 1, 3);
    assert_eq!(
        ints(
            &b,
            "select rowid from t where emb match '[3, -3]' and k = 1"
        ),
        [3]
    );
    fill(&b, 4, 4);
    exec(&b, "drop table t");
    assert_eq!(error(&a, "select * from t"), "no such table: t");
    assert!(shadow_tables(&a, "t").is_empty());
}
