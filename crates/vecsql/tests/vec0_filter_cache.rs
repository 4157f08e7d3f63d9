//! Filtered KNN keeps chunks' bookkeeping and metadata blobs in memory between queries (the
//! chunk cache), and an indexed walk tests its filter row by row from that cache. Neither may
//! ever answer from stale data: not after this connection's writes (including `optimize`,
//! which moves rows between chunks), rollbacks or savepoint rollbacks, nor after another
//! connection commits.

mod vec0_support;

use rusqlite::Connection;
use vec0_support::cache::open_shared as open;

/// Rows 1..=n at `[i, 0]`, `bucket = i % 4`, in chunks of 8.
fn setup(indexed: bool, n: i64) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = open(&dir.path().join("filter.db"));
    let index = if indexed { " indexed by hnsw()" } else { "" };
    conn.execute_batch(&format!(
        "create virtual table t using vec0(emb float[2]{index}, bucket integer, chunk_size=8)"
    ))
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    for i in 1..=n {
        tx.execute(
            "insert into t(rowid, emb, bucket) values (?1, ?2, ?3)",
            rusqlite::params![i, format!("[{i},0]"), i % 4],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    (dir, conn)
}

/// The rowids of the `k` nearest rows to `[0, 0]` with `bucket = b` (walking the index with
/// `ef_search` when given), nearest first.
fn nearest_in(conn: &Connection, b: i64, k: i64, ef_search: Option<i64>) -> Vec<i64> {
    let ef = ef_search.map_or(String::new(), |e| format!(" and ef_search = {e}"));
    let mut stmt = conn
        .prepare(&format!(
            "select rowid from t where emb match '[0,0]' and k = ?1 and bucket = ?2{ef} \
             order by distance"
        ))
        .unwrap();
    stmt.query_map(rusqlite::params![k, b], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every plan: exact table; index walked (ef_search) and index planned freely.
fn plans() -> [(bool, Option<i64>); 3] {
    [(false, None), (true, Some(16)), (true, None)]
}

#[test]
fn own_metadata_updates_inserts_and_deletes_are_seen() {
    for (indexed, ef) in plans() {
        let (_dir, conn) = setup(indexed, 40);
        assert_eq!(nearest_in(&conn, 1, 2, ef), vec![1, 5]);
        conn.execute("update t set bucket = 1 where rowid = 2", [])
            .unwrap();
        assert_eq!(nearest_in(&conn, 1, 2, ef), vec![1, 2], "indexed {indexed}");
        conn.execute("delete from t where rowid = 1", []).unwrap();
        assert_eq!(nearest_in(&conn, 1, 2, ef), vec![2, 5], "indexed {indexed}");
        conn.execute(
            "insert into t(rowid, emb, bucket) values (100, '[0.5,0]', 1)",
            [],
        )
        .unwrap();
        assert_eq!(
            nearest_in(&conn, 1, 2, ef),
            vec![100, 2],
            "indexed {indexed}"
        );
    }
}

#[test]
fn commits_by_another_connection_are_seen() {
    for (indexed, ef) in plans() {
        let (dir, conn) = setup(indexed, 40);
        let other = open(&dir.path().join("filter.db"));
        assert_eq!(nearest_in(&conn, 3, 1, ef), vec![3]);
        other
            .execute("update t set bucket = 3 where rowid = 2", [])
            .unwrap();
        assert_eq!(nearest_in(&conn, 3, 1, ef), vec![2], "indexed {indexed}");
        other.execute("delete from t where rowid = 2", []).unwrap();
        assert_eq!(nearest_in(&conn, 3, 1, ef), vec![3], "indexed {indexed}");
    }
}

#[test]
fn rollbacks_drop_what_was_read_inside_them() {
    for (indexed, ef) in plans() {
        let (_dir, conn) = setup(indexed, 40);
        conn.execute_batch("begin; update t set bucket = 2 where rowid = 1;")
            .unwrap();
        assert_eq!(nearest_in(&conn, 2, 1, ef), vec![1]); // read (and cached) inside
        conn.execute_batch("rollback").unwrap();
        assert_eq!(nearest_in(&conn, 2, 1, ef), vec![2], "indexed {indexed}");

        conn.execute_batch("begin; savepoint s; update t set bucket = 2 where rowid = 1;")
            .unwrap();
        assert_eq!(nearest_in(&conn, 2, 1, ef), vec![1]);
        conn.execute_batch("rollback to s; release s; commit")
            .unwrap();
        assert_eq!(nearest_in(&conn, 2, 1, ef), vec![2], "indexed {indexed}");
    }
}

#[test]
fn optimize_moving_rows_between_chunks_leaves_nothing_stale() {
    for (indexed, ef) in plans() {
        let (_dir, conn) = setup(indexed, 40);
        // Empty most of every chunk, read (and cache) the bookkeeping, then pack the rows.
        conn.execute("delete from t where rowid % 8 not in (0, 1)", [])
            .unwrap();
        let before = nearest_in(&conn, 1, 3, ef);
        assert_eq!(before, vec![1, 9, 17]);
        conn.execute("insert into t(t) values ('optimize')", [])
            .unwrap();
        assert_eq!(nearest_in(&conn, 1, 3, ef), before, "indexed {indexed}");
        conn.execute("update t set bucket = 0 where rowid = 9", [])
            .unwrap();
        assert_eq!(
            nearest_in(&conn, 1, 3, ef),
            vec![1, 17, 25],
            "indexed {indexed}"
        );
    }
}

/// Large enough that a filter keeping half the rows is walked, not scanned, without
/// `ef_search`: the row-by-row filter of the walk sees the other connection's commit.
#[test]
fn a_walk_tests_its_filter_against_committed_data() {
    let (dir, conn) = setup(true, 6000);
    let other = open(&dir.path().join("filter.db"));
    let half = |conn: &Connection| -> Vec<i64> {
        let mut stmt = conn
            .prepare(
                "select rowid from t where emb match '[0,0]' and k = 5 and bucket in (1, 3) \
                 order by distance",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(half(&conn), vec![1, 3, 5, 7, 9]);
    other
        .execute("update t set bucket = 0 where rowid in (3, 5)", [])
        .unwrap();
    assert_eq!(half(&conn), vec![1, 7, 9, 11, 13]);
}
