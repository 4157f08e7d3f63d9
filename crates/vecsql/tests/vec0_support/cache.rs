//! Set-ups of the cache tests (`vec0_cache`, `vec0_cache_budget`, `vec0_filter_cache`): files
//! shared by several connections, and KNN that counts the chunks it read.

use rusqlite::Connection;
use vecsql::vec0::storage::vector_chunk_reads;

/// A connection on the file at `path` with vecsql registered, in WAL mode, waiting for the
/// other connections' locks.
pub fn open_shared(path: &std::path::Path) -> Connection {
    let conn = super::open(path);
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

/// Ten full chunks of eight rows: row `r` (1..=80) is `[r, 0]`, in chunk `(r - 1) / 8 + 1`;
/// two connections on the file.
pub fn ten_chunks() -> (tempfile::TempDir, Connection, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("versions.db");
    let a = open_shared(&path);
    a.execute_batch("create virtual table t using vec0(emb float[2], chunk_size=8);")
        .unwrap();
    let tx = a.unchecked_transaction().unwrap();
    for r in 1..=80 {
        tx.execute(
            "insert into t(rowid, emb) values (?1, json_array(?1, 0))",
            [r],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let b = open_shared(&path);
    (dir, a, b)
}

/// The nearest row to `[x, y]`, its distance, and how many chunks the query read.
pub fn nearest_to(conn: &Connection, x: f64, y: f64) -> ((i64, f64), u64) {
    let before = vector_chunk_reads();
    let found = conn
        .query_row(
            "select rowid, distance from t where emb match json_array(?, ?) and k = 1",
            [x, y],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (found, vector_chunk_reads() - before)
}
