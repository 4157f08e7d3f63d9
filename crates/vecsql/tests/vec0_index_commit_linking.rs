//! Rows a transaction writes are linked into the graph when it commits (`pending.rs`): what
//! the stored graph holds before and after, what queries inside the transaction see, and
//! what rollbacks leave.

mod vec0_support;

use rusqlite::{params, Connection};
use vec0_support::index::*;
use vec0_support::*;

fn insert(conn: &Connection, rowid: i64, v: &[f32]) {
    conn.execute(
        "insert into t(rowid, emb, cat, p) values (?, ?, ?, ?)",
        params![rowid, f32_blob(v), rowid % 10, rowid % 3],
    )
    .unwrap();
}

#[test]
fn a_transaction_links_its_rows_at_commit_and_its_queries_see_them_meanwhile() {
    let conn = db();
    let mut rng = Rng::new(61);
    let mut rows = tx_fixture(&conn, &mut rng, 150);
    let before = index_tables(&conn, "t", 0);
    exec(&conn, "begin");
    for i in 1001..=1100 {
        let v = rng.vector(4);
        insert(&conn, i, &v);
        rows.insert(i, v);
    }
    // Nothing linked yet: the stored graph is as it was.
    assert_eq!(index_tables(&conn, "t", 0), before);
    // Every new row is found by its own vector, at distance 0, by the walk.
    for i in 1001..=1100 {
        let got = walk_knn(&conn, "t", "emb", &blob(&rows[&i]), 1, "");
        assert_eq!(got.first().map(|g| g.1), Some(0.0), "row {i}");
    }
    // And a query covering the table returns every row once, in order.
    let all = walk_knn(&conn, "t", "emb", &blob(&rows[&1]), 1000, "");
    assert_ordered(&all, "all rows");
    assert_eq!(all.len(), rows.len());
    // Filters apply to them too.
    let filtered = walk_knn(&conn, "t", "emb", &blob(&rows[&1001]), 5, "and cat = 1");
    assert!(filtered.iter().all(|(r, _)| r % 10 == 1), "{filtered:?}");
    assert_eq!(filtered.first().map(|g| g.0), Some(1001));
    exec(&conn, "commit");
    assert_matches_oracle(&conn, &rows, &mut rng, "after commit");
}

#[test]
fn a_vector_updated_in_a_transaction_is_searched_with_its_new_value() {
    let conn = db();
    let mut rng = Rng::new(62);
    let mut rows = tx_fixture(&conn, &mut rng, 120);
    exec(&conn, "begin");
    let moved = vec![40.0, 40.0, 40.0, 40.0];
    conn.execute(
        "update t set emb = ? where rowid = 7",
        params![f32_blob(&moved)],
    )
    .unwrap();
    rows.insert(7, moved.clone());
    // The old node is unlinked at once; the row is scored with its new vector, once.
    let got = walk_knn(&conn, "t", "emb", &blob(&moved), 3, "");
    assert_eq!(got[0], (7, 0.0));
    let all = walk_knn(&conn, "t", "emb", &blob(&moved), 500, "");
    assert_ordered(&all, "all rows");
    assert_eq!(all.len(), rows.len());
    // A row inserted and deleted in the transaction is never linked.
    insert(&conn, 5000, &[1.0, 2.0, 3.0, 4.0]);
    exec(&conn, "delete from t where rowid = 5000");
    exec(&conn, "commit");
    assert_matches_oracle(&conn, &rows, &mut rng, "after commit");
}

/// A savepoint rolled back leaves no trace in the graph: not even a row relinked with the
/// vector it had all along (the stored bytes depend only on committed statements).
#[test]
fn a_rolled_back_savepoint_changes_no_stored_byte() {
    let conn = db();
    let mut rng = Rng::new(63);
    let rows = tx_fixture(&conn, &mut rng, 120);
    let before = index_tables(&conn, "t", 0);
    // Inside a transaction the table already takes part in.
    exec(&conn, "begin");
    insert(&conn, 2001, &rng.vector(4));
    exec(&conn, "delete from t where rowid = 2001");
    exec(&conn, "savepoint a");
    exec(
        &conn,
        "update t set emb = '[9,9,9,9]' where rowid between 10 and 20",
    );
    insert(&conn, 2002, &rng.vector(4));
    exec(&conn, "savepoint b");
    insert(&conn, 2003, &rng.vector(4));
    exec(&conn, "rollback to b");
    exec(&conn, "rollback to a");
    exec(&conn, "commit");
    assert_eq!(index_tables(&conn, "t", 0)[0], before[0]);
    // A savepoint outside any transaction: the table joins inside it.
    exec(&conn, "savepoint s");
    exec(
        &conn,
        "update t set emb = '[9,9,9,9]' where rowid between 30 and 40",
    );
    insert(&conn, 3001, &rng.vector(4));
    exec(&conn, "rollback to s");
    exec(&conn, "release s");
    assert_eq!(index_tables(&conn, "t", 0)[0], before[0]);
    assert_matches_oracle(&conn, &rows, &mut rng, "after the rollbacks");
}

#[test]
fn a_failed_statement_leaves_its_rows_unlinked() {
    let conn = db();
    let mut rng = Rng::new(64);
    let mut rows = tx_fixture(&conn, &mut rng, 100);
    exec(&conn, "begin");
    let v = rng.vector(4);
    insert(&conn, 3000, &v);
    rows.insert(3000, v);
    // Row 3001 is written, then the statement fails on the duplicate 3000.
    let e = error_with(
        &conn,
        "insert into t(rowid, emb, cat, p) values (3001, '[1,1,1,1]', 0, 0), (3000, '[2,2,2,2]', 0, 0)",
        [],
    );
    assert!(e.contains("UNIQUE") || e.contains("constraint"), "{e}");
    exec(&conn, "commit");
    assert_matches_oracle(&conn, &rows, &mut rng, "after commit");
}

/// Linking at commit writes node rows; the rowid the user's insert got must stay what
/// `last_insert_rowid()` reports.
#[test]
fn last_insert_rowid_survives_the_commit() {
    let conn = db();
    let mut rng = Rng::new(65);
    tx_fixture(&conn, &mut rng, 50);
    conn.execute(
        "insert into t(emb, cat, p) values (?, 0, 0)",
        params![f32_blob(&rng.vector(4))],
    )
    .unwrap();
    let id = conn.last_insert_rowid();
    assert_eq!(id, 51);
    assert_eq!(int(&conn, "select last_insert_rowid()"), 51);
    exec(&conn, "begin");
    insert(&conn, 77, &rng.vector(4));
    insert(&conn, 60, &rng.vector(4));
    exec(&conn, "commit");
    assert_eq!(conn.last_insert_rowid(), 60);
}

/// What a transaction stores depends only on its writes: queries in between (which see the
/// rows not linked yet) change no stored byte.
#[test]
fn queries_inside_a_transaction_do_not_change_what_it_stores() {
    let run = |query: bool| {
        let conn = db();
        let mut rng = Rng::new(66);
        let mut queries = Rng::new(67);
        tx_fixture(&conn, &mut rng, 80);
        exec(&conn, "begin");
        for i in 500..600 {
            insert(&conn, i, &rng.vector(4));
            if query && i % 7 == 0 {
                walk_knn(&conn, "t", "emb", &blob(&queries.vector(4)), 5, "");
            }
            if i % 13 == 0 {
                exec(&conn, &format!("delete from t where rowid = {}", i - 3));
            }
        }
        exec(&conn, "commit");
        index_tables(&conn, "t", 0)
    };
    assert!(run(false) == run(true));
}
