//! A process without a copy of a large index answers its first queries by walking the graph in
//! the file (issue 16): the same rows and distances as a loaded copy, no load meanwhile, a load
//! after at most `COLD_QUERIES` walks, and damage met on the way reported as a load reports it.

mod vec0_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::Value;
use rusqlite::{ffi, Connection};
use vec0_support::index::{process_counters, Rng};
use vec0_support::*;

const DIMS: usize = 8;
const CORRUPT_VTAB: i32 = ffi::SQLITE_CORRUPT | (1 << 8);
/// `COLD_QUERIES` in `index/cold.rs`: the most walks before a load.
const COLD_QUERIES: usize = 8;

/// A file with `n` indexed rows (bucket = rowid % 10), walked cold by new connections when
/// `cold_min` is 0 (the knob is stored with the table, so every connection sees it).
fn filled(dir: &tempfile::TempDir, n: i64, cold_min: u64) -> PathBuf {
    let path = dir.path().join("cold.db");
    let conn = open(&path);
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    exec(
        &conn,
        &format!(
            "create virtual table t using vec0(emb float[{DIMS}] distance_metric=cosine \
             indexed by hnsw(m=6, ef_construction=24), bucket integer, chunk_size=64)"
        ),
    );
    let mut rng = Rng::new(11);
    exec(&conn, "begin");
    for i in 1..=n {
        conn.execute(
            "insert into t(rowid, emb, bucket) values (?, ?, ?)",
            rusqlite::params![i, f32_blob(&rng.vector(DIMS)), i % 10],
        )
        .unwrap();
    }
    exec(&conn, "commit");
    exec(
        &conn,
        &format!("insert into t(t) values ('cold_walk_min_nodes={cold_min}')"),
    );
    path
}

/// The queries (walks, as `ef_search` asks): plain, with a pre-filter on the metadata column,
/// with a rowid list; each as SQL and its query vector.
fn statements(queries: &[Vec<f32>]) -> Vec<(String, Vec<u8>)> {
    let listed: Vec<String> = (1..400).step_by(7).map(|r| r.to_string()).collect();
    let mut out = Vec::new();
    for q in queries {
        let q = f32_blob(q);
        out.push((
            "select rowid, distance from t where emb match ? and k = 10 and ef_search = 32".into(),
            q.clone(),
        ));
        out.push((
            "select rowid, distance from t where emb match ? and k = 5 and ef_search = 32 \
             and bucket in (2, 3)"
                .into(),
            q.clone(),
        ));
        out.push((
            format!(
                "select rowid, distance from t where emb match ? and k = 3 and ef_search = 32 \
                 and rowid in ({})",
                listed.join(",")
            ),
            q,
        ));
    }
    out
}

fn fresh(path: &Path) -> Connection {
    let conn = open(path);
    // Every shared copy of the file's index must be gone: this is a new process for it.
    conn
}

#[test]
fn cold_walks_answer_like_a_loaded_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled(&dir, 900, 0);
    let mut rng = Rng::new(5);
    let queries: Vec<Vec<f32>> = (0..4).map(|_| rng.vector(DIMS)).collect();

    // Each query as the first of a new connection: always a walk, never a load.
    let before = process_counters(&fresh(&path));
    let walked: Vec<Vec<Vec<Value>>> = statements(&queries)
        .iter()
        .map(|(sql, q)| {
            let cold = fresh(&path);
            let got = rows_with(&cold, sql, [q]);
            assert_eq!(
                process_counters(&cold),
                before,
                "no copy was loaded for the walk"
            );
            got
        })
        .collect();
    assert_eq!(walked.len(), 12);
    assert!(walked.iter().all(|r| !r.is_empty()));

    // A connection walks at most COLD_QUERIES times, then loads a copy, which answers alike.
    let conn = fresh(&path);
    for q in queries.iter().cycle().take(COLD_QUERIES + 1) {
        nearest(&conn, q);
    }
    assert_eq!(
        process_counters(&conn).0,
        before.0 + 1,
        "loaded after the walks"
    );
    let loaded: Vec<Vec<Vec<Value>>> = statements(&queries)
        .iter()
        .map(|(sql, q)| rows_with(&conn, sql, [q]))
        .collect();
    assert_eq!(walked, loaded);
}

#[test]
fn a_walk_sees_the_connections_snapshot_and_later_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled(&dir, 600, 0);
    let q = vec![0.5f32; DIMS];
    let cold = fresh(&path);
    let first = nearest(&cold, &q);
    // Another connection adds the query vector itself, then goes away.
    let w = open(&path);
    w.execute(
        "insert into t(rowid, emb, bucket) values (5000, ?, 0)",
        [f32_blob(&q)],
    )
    .unwrap();
    drop(w);
    let second = nearest(&cold, &q);
    assert_eq!(second[0], 5000);
    assert_eq!(&second[1..], &first[..first.len() - 1]);
}

#[test]
fn small_graphs_are_loaded_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // The default threshold (16,384 nodes) is far above 300.
    let path = filled(&dir, 300, 16_384);
    let conn = fresh(&path);
    let before = process_counters(&conn);
    nearest(&conn, &[0.1; DIMS]);
    assert_eq!(process_counters(&conn).0, before.0 + 1);
}

#[test]
fn damage_met_by_a_walk_is_reported_like_a_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled(&dir, 600, 0);
    {
        let conn = open(&path);
        // A neighbour of many nodes loses its row.
        let victim = int(
            &conn,
            "select rowid from t_hnsw00_nodes order by length(links) desc limit 1",
        );
        exec(
            &conn,
            &format!("delete from t_hnsw00_nodes where rowid = {victim}"),
        );
    }
    let conn = fresh(&path);
    let mut seen = 0;
    for i in 0..8 {
        let q = [i as f32 * 0.25 - 1.0; DIMS];
        match try_rows(
            &conn,
            "select rowid from t where emb match ? and k = 10 and ef_search = 32",
            [f32_blob(&q)],
        ) {
            Err(rusqlite::Error::SqliteFailure(e, message)) => {
                let message = message.unwrap_or_default();
                assert_eq!(e.extended_code, CORRUPT_VTAB, "{message}");
                assert!(message.contains("t_hnsw00_nodes"), "{message}");
                assert!(message.contains("rebuild-index"), "{message}");
                seen += 1;
            }
            Err(e) => panic!("{e}"),
            Ok(_) => {}
        }
    }
    assert!(seen > 0, "no walk met the missing row");
    // A damaged header is reported before any walk.
    exec(
        &conn,
        "update t_hnsw00_meta set value = x'00' where key = 'header'",
    );
    let conn = fresh(&path);
    match try_rows(
        &conn,
        "select rowid from t where emb match ? and k = 1 and ef_search = 8",
        [f32_blob(&[0.0; DIMS])],
    ) {
        Err(rusqlite::Error::SqliteFailure(e, message)) => {
            assert_eq!(e.extended_code, CORRUPT_VTAB, "{message:?}")
        }
        other => panic!("expected SQLITE_CORRUPT_VTAB, got {other:?}"),
    }
}

/// The `mmap_size` pragmas `conn` prepares from now on (`None`: a read), refused when `refuse`.
fn watch_mmap_pragmas(conn: &mut Connection, refuse: bool) -> Arc<Mutex<Vec<Option<String>>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| match ctx.action {
        AuthAction::Pragma {
            pragma_name: "mmap_size",
            pragma_value,
        } => {
            log.lock().unwrap().push(pragma_value.map(str::to_owned));
            if refuse {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        _ => Authorization::Allow,
    }))
    .unwrap();
    seen
}

fn mmap_size(conn: &Connection) -> i64 {
    conn.query_row("pragma mmap_size", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_walk_maps_the_file_only_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled(&dir, 600, 0);
    let q = vec![0.25f32; DIMS];

    // No map of its own: the walk maps the file and puts the setting back.
    let mut conn = fresh(&path);
    assert_eq!(mmap_size(&conn), 0);
    let seen = watch_mmap_pragmas(&mut conn, false);
    let before = process_counters(&conn);
    let walked = nearest(&conn, &q);
    assert_eq!(process_counters(&conn), before, "still a walk, not a load");
    assert_eq!(
        *seen.lock().unwrap(),
        [None, Some((1i64 << 40).to_string()), Some("0".into())]
    );
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)
        .unwrap();
    assert_eq!(mmap_size(&conn), 0);

    // A map the application set is left as it is.
    let mut own = fresh(&path);
    exec(&own, "pragma mmap_size = 1048576");
    let seen = watch_mmap_pragmas(&mut own, false);
    assert_eq!(nearest(&own, &q), walked);
    assert_eq!(*seen.lock().unwrap(), [None]);
    own.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)
        .unwrap();
    assert_eq!(mmap_size(&own), 1_048_576);

    // A table in an attached file: that schema is mapped, and put back.
    let mut attached = Connection::open_in_memory().unwrap();
    vecsql::register(&attached).unwrap();
    attached
        .execute("attach database ? as other", [path.to_str().unwrap()])
        .unwrap();
    let seen = watch_mmap_pragmas(&mut attached, false);
    let listed = ints_with(
        &attached,
        "select rowid from other.t where emb match ? and k = 10 and ef_search = 32",
        [f32_blob(&q)],
    );
    assert_eq!(listed, walked);
    assert_eq!(seen.lock().unwrap().len(), 3);
    attached
        .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)
        .unwrap();
    let other: i64 = attached
        .query_row("pragma other.mmap_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(other, 0);

    // Where the pragma is refused, the walk reads without a map, to the same rows.
    let mut refused = fresh(&path);
    let seen = watch_mmap_pragmas(&mut refused, true);
    assert_eq!(nearest(&refused, &q), walked);
    assert_eq!(*seen.lock().unwrap(), [None]);
}

fn nearest(conn: &Connection, q: &[f32]) -> Vec<i64> {
    ints_with(
        conn,
        "select rowid from t where emb match ? and k = 10 and ef_search = 32",
        [f32_blob(q)],
    )
}
