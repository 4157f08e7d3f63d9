//! Linking many rows at once ('rebuild-index', 'create-index', index tables emptied under a
//! filled table): the batch build on several threads stores the same bytes for every thread
//! count and connection history, and finds neighbours like a row-by-row build.

mod vec0_support;

use std::path::Path;

use rusqlite::Connection;
use vec0_support::index::*;
use vec0_support::*;
use vecsql::vec0::index::hnsw::{set_build_threads, BATCH_BUILD_ROWS};

const DIMS: usize = 8;
const CLAUSE: &str = "hnsw(m=6, ef_construction=24)";

/// Enough rows that a load links them in batches.
fn rows() -> Rows {
    let mut rng = Rng::new(211);
    gaussian_rows(&mut rng, BATCH_BUILD_ROWS as i64 + 700, DIMS)
}

/// A table filled without an index, then given one by 'create-index' (linked in batches).
fn indexed_after_filling(conn: &Connection, rows: &Rows) {
    create(conn, "t", &format!("emb float[{DIMS}]"));
    fill(conn, "t", rows);
    exec(
        conn,
        &format!("insert into t(t) values ('create-index emb {CLAUSE}')"),
    );
}

fn nodes(conn: &Connection) -> Vec<Vec<rusqlite::types::Value>> {
    index_tables(conn, "t", 0).swap_remove(0)
}

#[test]
fn batch_builds_store_the_same_bytes_for_any_thread_count() {
    let rows = rows();
    let mut built = Vec::new();
    for threads in [1, 2, 3] {
        set_build_threads(threads);
        let conn = db();
        indexed_after_filling(&conn, &rows);
        let added = index_tables(&conn, "t", 0);
        exec(&conn, "insert into t(t) values ('rebuild-index')");
        let rebuilt = index_tables(&conn, "t", 0);
        assert_eq!(added[0], rebuilt[0], "{threads} threads: rebuild-index");
        assert_eq!(node_rowids(&conn, "t"), table_rowids(&conn, "t"));
        built.push((threads, added, rebuilt));
    }
    set_build_threads(0);
    let (_, added, rebuilt) = &built[0];
    for (threads, a, r) in &built[1..] {
        assert!(
            a == added,
            "create-index on {threads} threads stored other bytes"
        );
        assert!(
            r == rebuilt,
            "rebuild-index on {threads} threads stored other bytes"
        );
    }

    // The batches really ran (a row-by-row build links differently), and find neighbours as
    // well as it does.
    let conn = db();
    create(
        &conn,
        "t",
        &format!("emb float[{DIMS}] indexed by {CLAUSE}"),
    );
    // A transaction links its rows at the commit, in one batch build: the same graph as
    // rebuild-index, which links in rowid order too.
    fill(&conn, "t", &rows);
    assert!(
        nodes(&conn) == rebuilt[0],
        "a bulk insert in one transaction stores what rebuild-index stores"
    );
    // One transaction per row: linked one by one.
    let conn = db();
    create(
        &conn,
        "t",
        &format!("emb float[{DIMS}] indexed by {CLAUSE}"),
    );
    for (rowid, v) in &rows {
        conn.execute(
            "insert into t(rowid, emb) values (?, ?)",
            rusqlite::params![rowid, f32_blob(v)],
        )
        .unwrap();
    }
    let one_by_one = nodes(&conn);
    let mut rng = Rng::new(212);
    let qs = queries(&mut rng, 100, DIMS);
    let recall_one_by_one = oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
    exec(&conn, "insert into t(t) values ('rebuild-index')");
    assert!(
        nodes(&conn) == rebuilt[0],
        "a declared index rebuilds the same graph"
    );
    assert!(
        nodes(&conn) != one_by_one,
        "rebuild-index linked row by row"
    );
    let recall_batched = oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
    eprintln!("recall@10: batched {recall_batched:.4}, row by row {recall_one_by_one:.4}");
    assert!(recall_batched >= recall_one_by_one - 0.01);
    assert!(recall_batched >= 0.95, "{recall_batched}");
}

/// Empties the index tables under the rows (as a damaged or foreign writer might), so the next
/// load links every row again.
fn empty_index_tables(conn: &Connection) {
    exec(
        conn,
        "delete from t_hnsw00_nodes; delete from t_hnsw00_meta where key = 'header';
         update t_hnsw00_meta set value = value + 1 where key = 'generation'",
    );
}

#[test]
fn a_reader_links_missing_rows_into_the_graph_the_writer_stores() {
    let rows = rows();
    let extra = vec![0.25f32; DIMS];
    let insert = |conn: &Connection| {
        conn.execute(
            "insert into t(rowid, emb) values (100000, ?)",
            [f32_blob(&extra)],
        )
        .unwrap();
    };
    let q = blob(&[0.1; DIMS]);
    let build = |path: &Path| {
        let conn = open(path);
        exec(&conn, "pragma synchronous = off");
        indexed_after_filling(&conn, &rows);
        // A connection of its own: the one that added the index has no `ef_search` column.
        let answer = walk_knn(&open(path), "t", "emb", &q, 10, "");
        empty_index_tables(&conn);
        (conn, answer)
    };
    let dir = tempfile::tempdir().unwrap();

    // A reader links the rows in memory (2 threads) and answers from them as from the graph
    // 'create-index' stored; its next write stores that graph.
    let path = dir.path().join("reader.db");
    let (writer, stored_answer) = build(&path);
    set_build_threads(2);
    let reader = open(&path);
    assert_eq!(walk_knn(&reader, "t", "emb", &q, 10, ""), stored_answer);
    insert(&reader);
    let via_reader = nodes(&reader);
    drop(writer);

    // A writer that never read links them (1 thread) while it inserts.
    set_build_threads(1);
    let path = dir.path().join("writer.db");
    let (writer, _) = build(&path);
    insert(&writer);
    set_build_threads(0);
    assert!(
        nodes(&writer) == via_reader,
        "the stored graph depends on who linked the rows"
    );
    assert_eq!(node_rowids(&writer, "t"), table_rowids(&writer, "t"));
}

/// While a transaction's commit links many rows, other connections of the process see the
/// build's progress in `vec_index_status`, and no build once it is over.
#[test]
fn a_long_build_shows_its_progress_to_other_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("progress.db");
    let conn = open(&path);
    exec(&conn, "pragma journal_mode = wal");
    create(
        &conn,
        "t",
        &format!("emb float[{DIMS}] indexed by {CLAUSE}"),
    );
    let rows = rows();
    let status = |c: &Connection| -> serde_json::Value {
        let text: String = c
            .query_row("select vec_index_status('t')", [], |r| r.get(0))
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()[0]["process"]["build"].clone()
    };
    let watcher = open(&path);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watching = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let build = status(&watcher);
                if !build.is_null() {
                    seen.push(build);
                }
                // Polls, not a spin: under valgrind, which runs one thread at a time, a
                // spinning watcher took the build's turns and the test minutes.
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            (seen, status(&watcher))
        })
    };
    fill(&conn, "t", &rows);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (seen, after) = watching.join().unwrap();
    assert!(
        !seen.is_empty(),
        "no build seen while the commit linked the rows"
    );
    for b in &seen {
        assert_eq!(b["rows"], rows.len(), "{b}");
        assert!(b["linked"].as_u64().unwrap() <= rows.len() as u64, "{b}");
    }
    assert!(
        after.is_null(),
        "a build still shown after the commit: {after}"
    );
    assert_eq!(node_rowids(&conn, "t"), table_rowids(&conn, "t"));
}
