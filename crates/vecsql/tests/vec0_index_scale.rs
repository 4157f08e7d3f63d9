//! The ANN index across connections (issue 16): its stored bytes depend only on the committed
//! statements, one in-memory copy is shared by the connections of a process, and that copy
//! stays exactly as fresh as the database file.

mod vec0_support;

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::index::{process_counters, Rng};
use vec0_support::*;

const DIMS: usize = 8;

/// One statement of a replayed workload.
#[derive(Clone)]
enum Stmt {
    Sql(String),
    Insert(i64, Vec<f32>),
    Update(i64, Vec<f32>),
    Delete(i64),
}

fn run(conn: &Connection, s: &Stmt) {
    match s {
        Stmt::Sql(sql) => exec(conn, sql),
        Stmt::Insert(rowid, v) => {
            conn.execute(
                "insert into t(rowid, emb) values (?, ?)",
                rusqlite::params![rowid, f32_blob(v)],
            )
            .unwrap();
        }
        Stmt::Update(rowid, v) => {
            conn.execute(
                "update t set emb = ? where rowid = ?",
                rusqlite::params![f32_blob(v), rowid],
            )
            .unwrap();
        }
        Stmt::Delete(rowid) => {
            conn.execute("delete from t where rowid = ?", [rowid])
                .unwrap();
        }
    }
}

/// Inserts, deletes, vector updates, a multi-row transaction, a knob change and a rebuild,
/// with many duplicate vectors (ties everywhere).
fn workload(column: &str) -> Vec<Stmt> {
    let mut rng = Rng::new(16);
    let mut out = vec![Stmt::Sql(format!(
        "create virtual table t using vec0(emb float[{DIMS}] {column}, chunk_size=64)"
    ))];
    let mut live: Vec<i64> = Vec::new();
    let vector = |rng: &mut Rng| {
        if rng.below(4) == 0 {
            // Duplicates: a handful of distinct vectors repeated.
            let mut r = Rng::new(rng.below(5));
            r.vector(DIMS)
        } else {
            rng.vector(DIMS)
        }
    };
    for i in 1..=240i64 {
        out.push(Stmt::Insert(i, vector(&mut rng)));
        live.push(i);
        if i % 5 == 0 {
            let victim = live.swap_remove(rng.below(live.len() as u64) as usize);
            out.push(Stmt::Delete(victim));
        }
        if i % 7 == 0 {
            let r = live[rng.below(live.len() as u64) as usize];
            out.push(Stmt::Update(r, vector(&mut rng)));
        }
        if i == 120 {
            let mut batch = String::from("begin;");
            for j in 0..20 {
                let v = rng.vector(DIMS);
                batch.push_str(&format!(
                    "insert into t(rowid, emb) values ({}, '{}');",
                    1000 + j,
                    serde_json_array(&v)
                ));
            }
            batch.push_str("delete from t where rowid between 1005 and 1009; commit;");
            out.push(Stmt::Sql(batch));
        }
        if i == 150 {
            out.push(Stmt::Sql(
                "insert into t(t) values ('search_list_size_insert=24')".into(),
            ));
        }
        if i == 200 {
            out.push(Stmt::Sql(
                "insert into t(t) values ('rebuild-index')".into(),
            ));
        }
    }
    out
}

fn serde_json_array(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    format!("[{}]", parts.join(","))
}

/// The index shadow tables, every row.
fn index_bytes(conn: &Connection) -> Vec<Vec<Vec<Value>>> {
    vec![
        rows(
            conn,
            "select rowid, links from t_hnsw00_nodes order by rowid",
        ),
        rows(conn, "select key, value from t_hnsw00_meta order by key"),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// One connection for everything.
    Long,
    /// A new connection for every statement.
    PerStatement,
    /// One connection, closed and reopened halfway (and again after every 50th statement),
    /// with a reader connection that queries between writes.
    Reopen,
    /// Two connections take turns, and the one that ran a statement is closed and reopened
    /// after it: the other catches up from the change log.
    Alternate,
}

fn replay(path: &Path, stmts: &[Stmt], mode: Mode) -> Vec<Vec<Vec<Value>>> {
    let mut conn = open(path);
    let mut other = open(path);
    let reader = open(path);
    for (i, s) in stmts.iter().enumerate() {
        match mode {
            Mode::Alternate => {
                std::mem::swap(&mut conn, &mut other);
                run(&conn, s);
                conn = open(path);
                continue;
            }
            Mode::Long => {}
            Mode::PerStatement => conn = open(path),
            Mode::Reopen => {
                if i == stmts.len() / 2 || i % 50 == 0 {
                    conn = open(path);
                }
                if i > 0 && i % 3 == 0 {
                    // Loads (and maybe shares) the committed graph in between.
                    let q = f32_blob(&[1.0; DIMS]);
                    reader
                        .prepare("select rowid from t where emb match ? and k = 3")
                        .unwrap()
                        .query_map([q], |r| r.get::<_, i64>(0))
                        .unwrap()
                        .for_each(drop);
                }
            }
        }
        run(&conn, s);
    }
    index_bytes(&conn)
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn stored_index_depends_only_on_the_statements() {
    same_bytes_every_way(
        "distance_metric=cosine indexed by hnsw(m=4, ef_construction=16)",
        &[Mode::PerStatement, Mode::Reopen, Mode::Alternate],
    );
}

#[test]
fn stored_index_depends_only_on_the_statements_quantized_l2() {
    same_bytes_every_way(
        "indexed by hnsw(m=6, ef_construction=20, quantizer=int8)",
        &[Mode::Reopen, Mode::Alternate],
    );
}

fn same_bytes_every_way(column: &str, modes: &[Mode]) {
    let dir = tempfile::tempdir().unwrap();
    let stmts = workload(column);
    let long = replay(&tmp(&dir, "long.db"), &stmts, Mode::Long);
    assert!(long[0].len() > 100, "{} nodes", long[0].len());
    for &mode in modes {
        let other = replay(&tmp(&dir, &format!("{mode:?}.db")), &stmts, mode);
        assert_eq!(long[1], other[1], "{mode:?}: meta rows differ");
        let differ = long[0]
            .iter()
            .zip(&other[0])
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            (long[0].len(), differ),
            (other[0].len(), 0),
            "{mode:?}: node rows differ from the long connection's"
        );
    }
}

fn nearest(conn: &Connection, q: &[f32], k: usize) -> Vec<i64> {
    ints_with(
        conn,
        "select rowid from t where emb match ? and k = ? order by distance",
        rusqlite::params![f32_blob(q), k as i64],
    )
}

fn filled(dir: &tempfile::TempDir, n: i64) -> (PathBuf, Connection) {
    let path = tmp(dir, "shared.db");
    let conn = open(&path);
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    exec(
        &conn,
        &format!("create virtual table t using vec0(emb float[{DIMS}] indexed by hnsw(m=8))"),
    );
    let mut rng = Rng::new(7);
    exec(&conn, "begin");
    for i in 1..=n {
        run(&conn, &Stmt::Insert(i, rng.vector(DIMS)));
    }
    exec(&conn, "commit");
    (path, conn)
}

#[test]
fn a_new_connection_uses_the_copy_another_connection_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let (path, a) = filled(&dir, 300);
    let q = [0.5; DIMS];
    let want = nearest(&a, &q, 5);
    let before = process_counters(&a);
    for _ in 0..3 {
        let b = open(&path);
        assert_eq!(nearest(&b, &q, 5), want);
    }
    let after = process_counters(&a);
    assert_eq!(after.0, before.0, "no connection loaded the index again");
    assert_eq!(
        after.2,
        before.2 + 3,
        "each new connection adopted the copy"
    );
}

#[test]
fn connections_see_each_others_commits_and_never_uncommitted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (path, a) = filled(&dir, 200);
    let b = open(&path);
    let q = [9.0; DIMS];
    let base = nearest(&b, &q, 3);
    assert!(!base.contains(&5000));

    // Uncommitted: a sees its row, b does not (before, during and after a's reads).
    exec(&a, "begin");
    run(&a, &Stmt::Insert(5000, q.to_vec()));
    assert_eq!(nearest(&b, &q, 3), base);
    assert_eq!(nearest(&a, &q, 1), [5000]);
    assert_eq!(nearest(&b, &q, 3), base);
    let c = open(&path);
    assert_eq!(
        nearest(&c, &q, 3),
        base,
        "a new connection sees only committed rows"
    );

    // Rolled back: nobody sees it, a included.
    exec(&a, "rollback");
    assert_eq!(nearest(&a, &q, 3), base);
    assert_eq!(nearest(&b, &q, 3), base);

    // A savepoint rolled back inside a transaction that then commits.
    exec(&a, "begin; savepoint s");
    run(&a, &Stmt::Insert(5001, q.to_vec()));
    exec(&a, "rollback to s");
    run(&a, &Stmt::Insert(5002, q.to_vec()));
    assert_eq!(nearest(&b, &q, 3), base);
    exec(&a, "commit");
    assert_eq!(nearest(&b, &q, 1), [5002]);
    assert_eq!(nearest(&c, &q, 1), [5002]);
    assert_eq!(nearest(&a, &q, 1), [5002]);

    // b writes, a and c see it; a delete, too.
    run(&b, &Stmt::Delete(5002));
    assert_eq!(nearest(&a, &q, 3), base);
    assert_eq!(nearest(&c, &q, 3), base);
}

#[test]
fn a_stale_copy_catches_up_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (path, a) = filled(&dir, 400);
    drop(a);
    let reader = open(&path);
    let q = [3.0; DIMS];
    nearest(&reader, &q, 5);
    let (loads, refreshes, _) = process_counters(&reader);
    // Another connection commits a few rows and goes away (as another process would).
    let w = open(&path);
    run(&w, &Stmt::Insert(9000, q.to_vec()));
    run(&w, &Stmt::Update(7, [2.9; DIMS].to_vec()));
    run(&w, &Stmt::Delete(9000));
    run(&w, &Stmt::Insert(9001, [3.1; DIMS].to_vec()));
    drop(w);
    // Meanwhile the process publishes another file's index (as a test running beside this one
    // does). That once dropped this index's counters, whose newest copy nobody held.
    let other = open(&tmp(&dir, "other.db"));
    exec(
        &other,
        &format!("create virtual table t using vec0(emb float[{DIMS}] indexed by hnsw())"),
    );
    run(&other, &Stmt::Insert(1, q.to_vec()));
    assert_eq!(nearest(&other, &q, 1), [1]);
    assert_eq!(nearest(&reader, &q, 2), [7, 9001]);
    let after = process_counters(&reader);
    assert_eq!(
        (after.0, after.1),
        (loads, refreshes + 1),
        "refreshed, not reloaded"
    );
    // The refreshed copy answers like a full load of the file.
    let got: Vec<Vec<i64>> = (0..20)
        .map(|i| nearest(&reader, &[i as f32 * 0.3 - 3.0; DIMS], 10))
        .collect();
    drop(reader);
    let fresh = open(&path);
    let want: Vec<Vec<i64>> = (0..20)
        .map(|i| nearest(&fresh, &[i as f32 * 0.3 - 3.0; DIMS], 10))
        .collect();
    assert_eq!(process_counters(&fresh).0, loads + 1);
    assert_eq!(got, want);
}

#[test]
fn a_table_declared_again_differently_does_not_share_the_old_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "redeclared.db");
    let a = open(&path);
    exec(
        &a,
        "create virtual table t using vec0(emb float[2] indexed by hnsw())",
    );
    assert!(nearest(&a, &[0.0; 2], 1).is_empty()); // a holds an empty copy at generation 0
    let b = open(&path);
    exec(
        &b,
        &format!(
            "drop table t; create virtual table t using vec0(emb float[{DIMS}] indexed by hnsw())"
        ),
    );
    assert!(nearest(&b, &[0.0; DIMS], 1).is_empty());
    run(&b, &Stmt::Insert(1, vec![1.0; DIMS]));
    assert_eq!(nearest(&b, &[0.0; DIMS], 1), [1]);
}

#[test]
fn connections_in_several_threads_share_one_copy_safely() {
    let dir = tempfile::tempdir().unwrap();
    let (path, a) = filled(&dir, 300);
    drop(a);
    let q = [0.25; DIMS];
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let c = open(&path);
                c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                for _ in 0..200 {
                    let got = nearest(&c, &q, 5);
                    assert_eq!(got.len(), 5);
                    assert!(got
                        .iter()
                        .all(|&r| (1..=300).contains(&r) || (10_000..10_080).contains(&r)));
                }
            })
        })
        .collect();
    let w = open(&path);
    w.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let mut rng = Rng::new(99);
    for i in 0..40i64 {
        exec(&w, "begin");
        run(&w, &Stmt::Insert(10_000 + 2 * i, rng.vector(DIMS)));
        run(&w, &Stmt::Insert(10_001 + 2 * i, rng.vector(DIMS)));
        if i % 4 == 0 {
            run(&w, &Stmt::Delete(1 + i));
        }
        exec(&w, "commit");
    }
    for r in readers {
        r.join().unwrap();
    }
    // Every connection ends with the same answers as a fresh load.
    let fresh_answers = nearest(&w, &q, 10);
    let c = open(&path);
    assert_eq!(nearest(&c, &q, 10), fresh_answers);
    assert_eq!(
        int(&c, "select count(*) from t_hnsw00_nodes"),
        300 + 80 - 10
    );
}

#[test]
fn a_commit_is_published_and_the_others_take_it_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let (path, a) = filled(&dir, 300);
    let b = open(&path);
    let q = [0.75; DIMS];
    nearest(&b, &q, 3);
    let before = process_counters(&a);
    for i in 0..5 {
        run(&a, &Stmt::Insert(20_000 + i, q.to_vec()));
        assert_eq!(nearest(&b, &q, 1).len(), 1);
        assert!(nearest(&b, &q, 6).contains(&(20_000 + i)));
    }
    let after = process_counters(&a);
    assert_eq!(
        (after.0, after.1, after.2),
        (before.0, before.1, before.2 + 5),
        "b adopted a's committed copy each time"
    );
}
