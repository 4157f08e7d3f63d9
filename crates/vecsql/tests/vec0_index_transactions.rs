//! The index under transactions (rollback, savepoints, failed statements) and other
//! connections (commits seen, uncommitted and rolled-back state never served from a cache).

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
// Transactions

#[test]
fn rollback_of_inserts_updates_and_deletes() {
    let conn = db();
    let mut rng = Rng::new(41);
    let rows = tx_fixture(&conn, &mut rng, 200);
    // The cache is warm.
    assert_matches_oracle(&conn, &rows, &mut rng, "before");
    let tables = index_tables(&conn, "t", 0);
    exec(&conn, "begin");
    for i in 1001..=1040 {
        conn.execute(
            "insert into t(rowid, emb, cat, p) values (?, ?, 1, 1)",
            params![i, f32_blob(&rng.vector(4))],
        )
        .unwrap();
    }
    exec(
        &conn,
        "update t set emb = '[50, 50, 50, 50]' where rowid between 1 and 20;
         update t set p = 9 where rowid between 21 and 40;
         delete from t where rowid between 41 and 80;
         insert into t(t) values ('optimize');",
    );
    // Inside the transaction the changes are visible.
    let got = walk_knn(&conn, "t", "emb", &blob(&[50.0; 4]), 20, "");
    assert_eq!(
        got.iter().map(|g| g.0).collect::<HashSet<_>>(),
        (1..=20).collect::<HashSet<_>>()
    );
    exec(&conn, "rollback");
    assert_eq!(index_tables(&conn, "t", 0), tables, "index tables restored");
    assert_matches_oracle(&conn, &rows, &mut rng, "after rollback");
    // Writes after the rollback start from the committed graph.
    let mut rows = rows;
    let v = rng.vector(4);
    conn.execute(
        "insert into t(rowid, emb, cat, p) values (2000, ?, 0, 0)",
        [f32_blob(&v)],
    )
    .unwrap();
    rows.insert(2000, v);
    assert_matches_oracle(&conn, &rows, &mut rng, "insert after rollback");
}

#[test]
fn savepoints_roll_back_to_their_state() {
    let conn = db();
    let mut rng = Rng::new(43);
    let mut rows = tx_fixture(&conn, &mut rng, 150);
    assert_matches_oracle(&conn, &rows, &mut rng, "before");
    exec(&conn, "begin");
    // Kept: rows 1001..=1010 and the deletion of 1..=10.
    for i in 1001..=1010 {
        let v = rng.vector(4);
        conn.execute(
            "insert into t(rowid, emb, cat, p) values (?, ?, 0, 0)",
            params![i, f32_blob(&v)],
        )
        .unwrap();
        rows.insert(i, v);
    }
    exec(&conn, "delete from t where rowid <= 10");
    rows.retain(|r, _| *r > 10);
    exec(&conn, "savepoint a");
    let tables_a = index_tables(&conn, "t", 0);
    for i in 2001..=2030 {
        conn.execute(
            "insert into t(rowid, emb, cat, p) values (?, ?, 0, 0)",
            params![i, f32_blob(&rng.vector(4))],
        )
        .unwrap();
    }
    exec(&conn, "delete from t where rowid between 11 and 40; update t set emb = '[9,9,9,9]' where rowid between 41 and 50");
    exec(&conn, "savepoint b");
    exec(&conn, "update t set p = 5 where rowid between 51 and 70");
    exec(&conn, "rollback to b");
    // Back at b: the partition moves are undone, the rest of a..b is there.
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[9,9,9,9]' and k = 10 and p = 5"
        ),
        Vec::<i64>::new()
    );
    assert_eq!(
        ints(
            &conn,
            "select count(*) from t where rowid between 2001 and 2030"
        ),
        [30]
    );
    exec(&conn, "rollback to a");
    assert_eq!(
        index_tables(&conn, "t", 0),
        tables_a,
        "index tables at savepoint a"
    );
    assert_matches_oracle(
        &conn,
        &rows,
        &mut rng,
        "inside the transaction, after rollback to a",
    );
    // A savepoint rolled back to and then written again.
    let v = rng.vector(4);
    conn.execute(
        "insert into t(rowid, emb, cat, p) values (3000, ?, 0, 0)",
        [f32_blob(&v)],
    )
    .unwrap();
    rows.insert(3000, v);
    exec(&conn, "release a");
    exec(&conn, "commit");
    assert_matches_oracle(&conn, &rows, &mut rng, "after commit");
    // A savepoint as the outermost transaction.
    exec(&conn, "savepoint outer_sp");
    exec(&conn, "delete from t where rowid > 1000");
    exec(&conn, "rollback to outer_sp");
    exec(&conn, "release outer_sp");
    assert_matches_oracle(&conn, &rows, &mut rng, "after an outer savepoint");
}

#[test]
fn a_failing_statement_in_a_transaction_leaves_no_trace_in_the_index() {
    let conn = db();
    let mut rng = Rng::new(47);
    let mut rows = tx_fixture(&conn, &mut rng, 120);
    assert_matches_oracle(&conn, &rows, &mut rng, "before");
    let v = |rng: &mut Rng| f32_blob(&rng.vector(4));
    exec(&conn, "begin");
    let kept = rng.vector(4);
    conn.execute(
        "insert into t(rowid, emb, cat, p) values (500, ?, 0, 0)",
        [f32_blob(&kept)],
    )
    .unwrap();
    rows.insert(500, kept);
    let tables = index_tables(&conn, "t", 0);
    // A UNIQUE conflict on the third row of a multi-row insert (rowid 5 exists).
    let e = conn
        .execute(
            "insert into t(rowid, emb, cat, p) values (601, ?1, 0, 0), (602, ?2, 0, 1), (5, ?3, 0, 2), (603, ?4, 0, 0)",
            params![v(&mut rng), v(&mut rng), v(&mut rng), v(&mut rng)],
        )
        .unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    assert_eq!(
        index_tables(&conn, "t", 0),
        tables,
        "after a UNIQUE conflict"
    );
    assert_matches_oracle(&conn, &rows, &mut rng, "after a UNIQUE conflict");
    // A bad vector on the third row.
    let e = conn
        .execute(
            "insert into t(rowid, emb, cat, p) values (701, ?1, 0, 0), (702, ?2, 0, 0), (703, '[1, 2]', 0, 0)",
            params![v(&mut rng), v(&mut rng)],
        )
        .unwrap_err();
    assert!(e.to_string().contains("Dimension mismatch"), "{e}");
    assert_eq!(index_tables(&conn, "t", 0), tables, "after a bad vector");
    // An error raised outside vec0 (integer overflow in abs()) on the third row: vec0 has
    // already linked the first two and must learn from SQLite that they are undone.
    exec(&conn, "create temp table src(id integer, v blob)");
    for i in 801..=804 {
        conn.execute("insert into src values (?, ?)", params![i, v(&mut rng)])
            .unwrap();
    }
    let e = conn
        .execute(
            "insert into t(rowid, emb, cat, p)
             select id, v, case when id = 803 then abs(-9223372036854775807 - 1) else 0 end, 0
             from src order by id",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");
    assert_eq!(
        index_tables(&conn, "t", 0),
        tables,
        "after an error outside vec0"
    );
    assert_matches_oracle(&conn, &rows, &mut rng, "after an error outside vec0");
    // Updates and deletes that fail half way.
    let e = conn
        .execute(
            "update t set emb = case when rowid = 30 then '[1]' else '[7,7,7,7]' end where rowid between 20 and 40",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("Dimension mismatch"), "{e}");
    assert_eq!(
        index_tables(&conn, "t", 0),
        tables,
        "after failed updates and deletes"
    );
    exec(&conn, "commit");
    assert_matches_oracle(&conn, &rows, &mut rng, "after commit");
    // The same failures in autocommit mode.
    let tables = index_tables(&conn, "t", 0);
    let e = conn
        .execute(
            "insert into t(rowid, emb, cat, p) values (901, ?1, 0, 0), (902, ?2, 0, 1), (6, ?3, 0, 2)",
            params![v(&mut rng), v(&mut rng), v(&mut rng)],
        )
        .unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    exec(&conn, "delete from src; insert into src values (911, randomblob(16)), (912, randomblob(16)), (913, randomblob(16))");
    let e = conn
        .execute(
            "insert into t(rowid, emb, cat, p)
             select id, v, case when id = 913 then abs(-9223372036854775807 - 1) else 0 end, 0
             from src order by id",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");
    assert_eq!(index_tables(&conn, "t", 0), tables, "autocommit failures");
    assert_matches_oracle(&conn, &rows, &mut rng, "after autocommit failures");
}

// ---------------------------------------------------------------------------------------------
// Other connections

fn wal_pair(path: &std::path::Path) -> (Connection, Connection) {
    let w = open(path);
    assert_eq!(
        one(&w, "pragma journal_mode = wal"),
        Value::Text("wal".into())
    );
    let r = open(path);
    for c in [&w, &r] {
        exec(c, "pragma synchronous = off");
    }
    (w, r)
}

#[test]
fn a_table_dropped_and_recreated_elsewhere_is_not_served_from_the_old_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recreate.db");
    let (w, r) = wal_pair(&path);
    let mut rng = Rng::new(149);
    let old = tx_fixture(&w, &mut rng, 50);
    assert_matches_oracle(&r, &old, &mut rng, "reader, old table");
    // The same definition and the same number of writes: the change counter is back where
    // the reader's copy was.
    exec(&w, "drop table t");
    let new = tx_fixture(&w, &mut rng, 50);
    assert_ne!(old, new);
    assert_matches_oracle(&r, &new, &mut rng, "reader, recreated table");
}

#[test]
fn another_connection_sees_committed_changes_not_cached_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let (w, r) = wal_pair(&path);
    let mut rng = Rng::new(53);
    let mut rows = tx_fixture(&w, &mut rng, 200);
    // The reader builds its cache.
    assert_matches_oracle(&r, &rows, &mut rng, "reader, start");
    // Inserts.
    exec(&w, "begin");
    let mut fresh = Rows::new();
    for i in 1001..=1030 {
        let v = rng.vector(4);
        w.execute(
            "insert into t(rowid, emb, cat, p) values (?, ?, 0, 0)",
            params![i, f32_blob(&v)],
        )
        .unwrap();
        fresh.insert(i, v);
    }
    // Uncommitted: the reader does not see them.
    for v in fresh.values() {
        let got = walk_knn(&r, "t", "emb", &blob(v), 1, "");
        assert_ne!(got[0].1, 0.0, "an uncommitted row is visible to the reader");
    }
    assert_matches_oracle(&r, &rows, &mut rng, "reader, writer's transaction open");
    exec(&w, "commit");
    rows.extend(fresh);
    assert_matches_oracle(&r, &rows, &mut rng, "reader, after inserts");
    // Deletes, vector updates, partition moves, optimize.
    exec(&w, "delete from t where rowid between 1 and 60");
    rows.retain(|r, _| *r > 60);
    assert_matches_oracle(&r, &rows, &mut rng, "reader, after deletes");
    let moved = [50.0f32, -50.0, 50.0, -50.0];
    w.execute(
        "update t set emb = ? where rowid between 61 and 65",
        [f32_blob(&moved)],
    )
    .unwrap();
    for i in 61..=65 {
        rows.insert(i, moved.to_vec());
    }
    let got = walk_knn(&r, "t", "emb", &blob(&moved), 5, "");
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [61, 62, 63, 64, 65]
    );
    exec(
        &w,
        "update t set p = 8 where rowid between 66 and 90; insert into t(t) values ('optimize')",
    );
    assert_matches_oracle(&r, &rows, &mut rng, "reader, after moves and optimize");
    let got = walk_knn(&r, "t", "emb", &blob(&rows[&70]), 1, "and p = 8");
    assert_eq!(got, [(70, 0.0)]);
    // The reader writes too, and the first connection sees that.
    let v = rng.vector(4);
    r.execute(
        "insert into t(rowid, emb, cat, p) values (5000, ?, 0, 0)",
        [f32_blob(&v)],
    )
    .unwrap();
    rows.insert(5000, v);
    assert_matches_oracle(&w, &rows, &mut rng, "writer, after the reader's insert");
}

#[test]
fn a_rolled_back_write_never_leaves_a_stale_cache_behind_another_connections_commit() {
    // The copy in memory is validated by a change counter. A connection that rolls back its
    // own writes must not keep a copy whose counter the next commit of another connection
    // happens to reach again.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.db");
    let (a, b) = wal_pair(&path);
    let mut rng = Rng::new(59);
    let mut rows = tx_fixture(&a, &mut rng, 100);
    assert_matches_oracle(&a, &rows, &mut rng, "a, start");
    assert_matches_oracle(&b, &rows, &mut rng, "b, start");
    let ghost = [40.0f32, 40.0, 40.0, 40.0];
    for (case, undo) in [
        ("rollback", "rollback"),
        ("rollback to", "rollback to s; release s; commit"),
    ] {
        // a: one write, undone.
        exec(&a, "begin; savepoint s");
        a.execute(
            "insert into t(rowid, emb, cat, p) values (777, ?, 0, 0)",
            [f32_blob(&ghost)],
        )
        .unwrap();
        assert_eq!(walk_knn(&a, "t", "emb", &blob(&ghost), 1, ""), [(777, 0.0)]);
        exec(&a, undo);
        // b: one write, committed (the counter moves by as much as a's undone write did).
        let id = 10_000 + rows.len() as i64;
        let v = rng.vector(4);
        b.execute(
            "insert into t(rowid, emb, cat, p) values (?, ?, 0, 0)",
            params![id, f32_blob(&v)],
        )
        .unwrap();
        rows.insert(id, v);
        let got = walk_knn(&a, "t", "emb", &blob(&ghost), 1, "");
        assert_ne!(
            got[0].0, 777,
            "{case}: the undone row is served from a stale copy"
        );
        assert_matches_oracle(&a, &rows, &mut rng, case);
    }
    // A statement that fails half way inside a's transaction, then b commits.
    exec(&a, "begin");
    let e = a
        .execute(
            "insert into t(rowid, emb, cat, p) values (778, ?1, 0, 0), (1, ?1, 0, 0)",
            [f32_blob(&ghost)],
        )
        .unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    exec(&a, "commit");
    let v = rng.vector(4);
    b.execute(
        "insert into t(rowid, emb, cat, p) values (20000, ?, 0, 0)",
        [f32_blob(&v)],
    )
    .unwrap();
    rows.insert(20000, v);
    let got = walk_knn(&a, "t", "emb", &blob(&ghost), 1, "");
    assert_ne!(got[0].0, 778, "failed statement: stale copy");
    assert_matches_oracle(&a, &rows, &mut rng, "failed statement");
}
