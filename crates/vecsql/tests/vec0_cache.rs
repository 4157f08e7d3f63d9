//! The in-memory vector cache of KNN scans never serves stale vectors: not after this
//! connection's writes, rollbacks or savepoint rollbacks, nor after another connection commits.

mod vec0_support;

use rusqlite::Connection;
use vec0_support::cache::{nearest_to, open_shared as open, ten_chunks};

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

// --- Chunk versions: another connection's commit costs the chunks it touched -------------

#[test]
fn a_commit_elsewhere_rereads_only_the_chunks_it_touched() {
    let (_dir, a, b) = ten_chunks();
    // (A schema change makes SQLite connect the table afresh, with an empty cache.)
    b.execute_batch("create table other(x)").unwrap();
    assert_eq!(nearest_to(&a, 20.0, 0.0), ((20, 0.0), 10));
    assert_eq!(nearest_to(&a, 20.0, 0.0), ((20, 0.0), 0));
    // An update in chunk 3 (rows 17..=24).
    b.execute("update t set emb = '[20, 5]' where rowid = 20", [])
        .unwrap();
    assert_eq!(nearest_to(&a, 20.0, 5.0), ((20, 0.0), 1));
    assert_eq!(nearest_to(&a, 20.0, 0.0), ((19, 1.0), 0));
    // A delete in chunk 5, then an insert into the slot it freed.
    b.execute("delete from t where rowid = 35", []).unwrap();
    assert_eq!(nearest_to(&a, 35.0, 0.0), ((34, 1.0), 1));
    b.execute("insert into t(rowid, emb) values (500, '[35, 0.5]')", [])
        .unwrap();
    assert_eq!(nearest_to(&a, 35.0, 0.0), ((500, 0.5), 1));
    // Several rows of two chunks in one transaction.
    b.execute_batch(
        "begin; update t set emb = '[1, 9]' where rowid = 1;
         update t set emb = '[2, 9]' where rowid = 2;
         update t set emb = '[80, 9]' where rowid = 80; commit;",
    )
    .unwrap();
    assert_eq!(nearest_to(&a, 1.0, 9.0), ((1, 0.0), 2));
    assert_eq!(nearest_to(&a, 80.0, 9.0), ((80, 0.0), 0));
    // A commit to another table of the file costs nothing.
    b.execute("insert into other values (1)", []).unwrap();
    assert_eq!(nearest_to(&a, 80.0, 9.0), ((80, 0.0), 0));
}

#[test]
fn a_rolled_back_write_elsewhere_costs_nothing() {
    let (_dir, a, b) = ten_chunks();
    nearest_to(&a, 0.0, 0.0);
    b.execute_batch("begin; update t set emb = '[0, 0]' where rowid = 40; rollback;")
        .unwrap();
    assert_eq!(nearest_to(&a, 0.0, 0.0), ((1, 1.0), 0));
}

/// A savepoint rolled back after moving a chunk's version on undoes the move: the next
/// write to that chunk in the same transaction must move it again, or another connection
/// keeps its copy of the chunk from before the transaction.
#[test]
fn a_write_after_a_rolled_back_savepoint_moves_the_version_again() {
    let (_dir, a, b) = ten_chunks();
    assert_eq!(nearest_to(&b, 12.0, 3.0), ((12, 3.0), 10));
    a.execute_batch(
        "begin; savepoint s; update t set emb = '[12, 7]' where rowid = 12; rollback to s;
         update t set emb = '[12, 3]' where rowid = 12; commit;",
    )
    .unwrap();
    assert_eq!(nearest_to(&b, 12.0, 3.0), ((12, 0.0), 1));
}

#[test]
fn a_failed_statement_elsewhere_does_not_hide_a_later_write() {
    let (_dir, a, b) = ten_chunks();
    nearest_to(&b, 0.0, 0.0);
    a.execute_batch("begin").unwrap();
    let err = a
        .execute(
            "update t set emb = (case when rowid = 3 then '[3, 1]' else '[1,2,3]' end) \
             where rowid in (3, 4)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("Dimension mismatch"), "{err}");
    a.execute("update t set emb = '[3, 4]' where rowid = 3", [])
        .unwrap();
    a.execute_batch("commit").unwrap();
    assert_eq!(nearest_to(&b, 3.0, 4.0), ((3, 0.0), 1));
}

/// A file without `{t}_chunk_versions` (sqlite-vec's, or an older vecsql's): readers re-read
/// everything after any commit, so a writer that keeps no versions is seen, even rewriting a
/// vector in place; the first vecsql writer creates the table.
#[test]
fn a_file_without_versions_falls_back_to_rereading_everything() {
    let (dir, a, b) = ten_chunks();
    drop((a, b));
    let path = dir.path().join("versions.db");
    open(&path)
        .execute_batch("drop table t_chunk_versions")
        .unwrap();
    let (a, b) = (open(&path), open(&path));
    assert_eq!(nearest_to(&a, 7.0, 1.0), ((7, 1.0), 10));
    // Row 7 is slot 6 of chunk 1: rewritten in place, as sqlite-vec's UPDATE does.
    let mut blob: Vec<u8> = b
        .query_row(
            "select vectors from t_vector_chunks00 where rowid = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    blob[6 * 8 + 4..6 * 8 + 8].copy_from_slice(&1f32.to_le_bytes());
    b.execute(
        "update t_vector_chunks00 set vectors = ? where rowid = 1",
        [&blob],
    )
    .unwrap();
    assert_eq!(nearest_to(&a, 7.0, 1.0), ((7, 0.0), 10));
    b.execute("update t set emb = '[7, 2]' where rowid = 7", [])
        .unwrap();
    assert_eq!(nearest_to(&a, 7.0, 1.0).0, (7, 1.0));
    b.execute("update t set emb = '[7, 1]' where rowid = 7", [])
        .unwrap();
    assert_eq!(nearest_to(&a, 7.0, 1.0), ((7, 0.0), 1));
}

/// A writer that keeps no versions (sqlite-vec, an older vecsql) inserts into a slot of a
/// cached chunk: the chunk's validity bitmap changed under an unchanged version, so the
/// reader trusts no entry any more.
#[test]
fn a_writer_without_versions_is_caught_by_the_validity_bitmap() {
    let (_dir, a, b) = ten_chunks();
    b.execute("delete from t where rowid = 20", []).unwrap();
    assert_eq!(nearest_to(&a, 100.0, 100.0).0 .0, 80);
    // The insert reuses the free slot in chunk 3; the version goes back to what `a` saw.
    b.execute_batch(
        "begin; insert into t(rowid, emb) values (999, '[100, 100]');
         update t_chunk_versions set version = version - 1 where chunk_id = 3; commit;",
    )
    .unwrap();
    assert_eq!(nearest_to(&a, 100.0, 100.0), ((999, 0.0), 10));
}

#[test]
fn versions_follow_the_table_through_rename_and_drop() {
    let (_dir, a, b) = ten_chunks();
    nearest_to(&a, 0.0, 0.0);
    b.execute_batch("alter table t rename to u").unwrap();
    let tables = |conn: &Connection| -> Vec<String> {
        let mut s = conn
            .prepare("select name from sqlite_master where name like '%chunk_versions'")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(tables(&b), ["u_chunk_versions"]);
    b.execute("update u set emb = '[0, 0]' where rowid = 9", [])
        .unwrap();
    let found: i64 = a
        .query_row(
            "select rowid from u where emb match '[0,0]' and k = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 9);
    b.execute_batch("drop table u").unwrap();
    assert!(tables(&b).is_empty());
}

// --- One copy per process: connections share the chunks they read ------------------------

use vecsql::vec0::storage::vector_chunk_adoptions;

/// [`nearest_to`], also saying how many chunks the query took from other connections.
fn nearest_shared(conn: &Connection, x: f64, y: f64) -> ((i64, f64), u64, u64) {
    let before = vector_chunk_adoptions();
    let (found, reads) = nearest_to(conn, x, y);
    (found, reads, vector_chunk_adoptions() - before)
}

#[test]
fn a_new_connection_takes_the_chunks_another_one_read() {
    let (dir, a, _b) = ten_chunks();
    assert_eq!(nearest_shared(&a, 30.0, 0.0), ((30, 0.0), 10, 0));
    let c = open(&dir.path().join("versions.db"));
    assert_eq!(nearest_shared(&c, 31.0, 0.0), ((31, 0.0), 0, 10));
}

#[test]
fn uncommitted_chunks_are_neither_offered_nor_taken() {
    let (dir, a, b) = ten_chunks();
    let path = dir.path().join("versions.db");
    assert_eq!(nearest_shared(&b, 20.0, 5.0).1, 10);
    a.execute_batch("begin; update t set emb = '[20, 5]' where rowid = 20;")
        .unwrap();
    // `a` reads its own change (and nine committed chunks from `b`).
    assert_eq!(nearest_shared(&a, 20.0, 5.0), ((20, 0.0), 1, 9));
    let c = open(&path);
    assert_eq!(nearest_shared(&c, 20.0, 5.0), ((20, 5.0), 0, 10));
    a.execute_batch("commit").unwrap();
    // Committed now: offered by `a`, and taken by the others.
    assert_eq!(nearest_shared(&b, 20.0, 5.0), ((20, 0.0), 0, 1));
    assert_eq!(nearest_shared(&open(&path), 20.0, 5.0), ((20, 0.0), 0, 10));
    // A rolled-back change is never offered.
    a.execute_batch("begin; update t set emb = '[40, 5]' where rowid = 40;")
        .unwrap();
    assert_eq!(nearest_shared(&a, 40.0, 5.0), ((40, 0.0), 1, 0));
    a.execute_batch("rollback").unwrap();
    assert_eq!(nearest_shared(&open(&path), 40.0, 5.0), ((40, 5.0), 0, 10));
    assert_eq!(nearest_shared(&a, 40.0, 5.0), ((40, 5.0), 0, 10));
}

/// A table dropped and created again starts its chunk ids and versions over: copies of the
/// old one, still held by a connection that has not run a statement since, must not be taken.
#[test]
fn chunks_of_a_dropped_table_are_not_taken_by_its_successor() {
    let (dir, a, b) = ten_chunks();
    assert_eq!(nearest_shared(&a, 1.0, 0.0).1, 10);
    b.execute_batch("drop table t; create virtual table t using vec0(emb float[2], chunk_size=8);")
        .unwrap();
    let tx = b.unchecked_transaction().unwrap();
    for r in 1..=80 {
        tx.execute(
            "insert into t(rowid, emb) values (?1, json_array(?1, 100))",
            [r],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let c = open(&dir.path().join("versions.db"));
    assert_eq!(nearest_shared(&c, 1.0, 0.0), ((1, 100.0), 10, 0));
    assert_eq!(nearest_shared(&a, 1.0, 0.0), ((1, 100.0), 0, 10));
}
