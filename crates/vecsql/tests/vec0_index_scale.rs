//! The ANN index across connections (issue 16): its stored bytes depend only on the committed
//! statements, one in-memory copy is shared by the connections of a process, and that copy
//! stays exactly as fresh as the database file.

#[path = "vec0_support/index.rs"]
mod index_support;
mod vec0_support;

use std::path::{Path, PathBuf};

use index_support::Rng;
use rusqlite::types::Value;
use rusqlite::Connection;
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
fn workload() -> Vec<Stmt> {
    let mut rng = Rng::new(16);
    let mut out = vec![Stmt::Sql(format!(
        "create virtual table t using vec0(emb float[{DIMS}] distance_metric=cosine \
         indexed by hnsw(m=4, ef_construction=16), chunk_size=64)"
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
}

fn replay(path: &Path, stmts: &[Stmt], mode: Mode) -> Vec<Vec<Vec<Value>>> {
    let mut conn = open(path);
    let reader = open(path);
    for (i, s) in stmts.iter().enumerate() {
        match mode {
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
    let dir = tempfile::tempdir().unwrap();
    let stmts = workload();
    let long = replay(&tmp(&dir, "long.db"), &stmts, Mode::Long);
    assert!(long[0].len() > 100, "{} nodes", long[0].len());
    for mode in [Mode::PerStatement, Mode::Reopen] {
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
