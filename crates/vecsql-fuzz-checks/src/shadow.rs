//! Damaged files. A small real database (`t`: partition key, integer / float / boolean /
//! text metadata with values longer than 12 bytes, an auxiliary column; `ti`: a text primary
//! key and an HNSW index; `plain`: an ordinary table) is copied to a fresh file, the input
//! picks mutations of its shadow-table rows (blobs truncated, extended or bit-flipped, values
//! of another type, rows deleted or copied from another row, integers changed), and a fixed
//! set of reads and writes runs on it. Properties:
//! - nothing panics, and no statement fails with `SQLITE_INTERNAL` or any code but
//!   `SQLITE_CORRUPT_VTAB` (whose message names one of the table's shadow tables) or a
//!   constraint violation (a damaged key can collide);
//! - with no mutation applied every statement succeeds, and a vec0 table whose shadow tables
//!   were not touched answers every statement, as does `plain`;
//! - every row a KNN query returns is the row a point lookup of its key returns, column for
//!   column: damage is reported, never answered with another row's values.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use rusqlite::types::Value;
use rusqlite::Connection;

use super::choices::Choices;
use super::sql;

const CORRUPT_VTAB: i32 = rusqlite::ffi::SQLITE_CORRUPT | (1 << 8);

/// The shadow tables the input may damage.
const SHADOW_TABLES: &[&str] = &[
    "t_info",
    "t_chunks",
    "t_rowids",
    "t_vector_chunks00",
    "t_metadatachunks00",
    "t_metadatachunks01",
    "t_metadatachunks02",
    "t_metadatachunks03",
    "t_metadatatext03",
    "t_auxiliary",
    "t_free",
    "ti_info",
    "ti_chunks",
    "ti_rowids",
    "ti_vector_chunks00",
    "ti_hnsw00_nodes",
    "ti_hnsw00_meta",
];

const FIXTURE: &str = "
    pragma journal_mode = off;
    create virtual table t using vec0(user integer partition key, emb float[4], n integer,
        f float, b boolean, tag text, +note text, chunk_size = 8);
    create virtual table ti using vec0(id text primary key, emb float[4] indexed by hnsw(m = 4),
        chunk_size = 8);
    create table plain(x integer primary key, y text);
    insert into plain values (1, 'one'), (2, 'two');";

/// The fixture's file, built once per process.
fn template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = scratch_path("template");
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).expect("template file");
        vecsql::register(&conn).expect("vecsql registers");
        conn.execute_batch(FIXTURE).expect("fixture");
        for i in 1..=14i64 {
            let v = format!("[{},{},{},1]", i % 5, i % 3, i % 2);
            let tag = if i % 3 == 0 {
                format!("a tag longer than twelve bytes {i}")
            } else {
                format!("tag{i}")
            };
            conn.execute(
                "insert into t(rowid, user, emb, n, f, b, tag, note) \
                 values (?, ?, ?, ?, ?, ?, ?, ?)",
                rusqlite::params![i, i % 2, v, i, i as f64 / 4.0, i % 2, tag, format!("n{i}")],
            )
            .expect("fixture row");
            conn.execute(
                "insert into ti(id, emb) values (?, ?)",
                rusqlite::params![format!("k{i}"), v],
            )
            .expect("fixture row");
        }
        // A hole in the first chunk, so the free list and slot reuse are in play.
        conn.execute_batch("delete from t where rowid = 3; delete from ti where id = 'k4';")
            .expect("fixture delete");
        drop(conn);
        let bytes = std::fs::read(&path).expect("template bytes");
        let _ = std::fs::remove_file(&path);
        bytes
    })
}

fn scratch_path(what: &str) -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    // In memory where the system has a RAM file system: every input writes a fresh file.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!(
        "vecsql-fuzz-shadow-{}-{thread}-{what}.db",
        std::process::id()
    ))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Applies one mutation chosen by the input; returns the table it changed, if it did.
fn mutate(conn: &Connection, c: &mut Choices<'_>) -> Option<&'static str> {
    let table = SHADOW_TABLES[c.byte() as usize % SHADOW_TABLES.len()];
    let rowids: Vec<i64> = sql::query(
        conn,
        &format!("select rowid from {} order by rowid", quote(table)),
        [],
    )
    .ok()?
    .into_iter()
    .filter_map(|r| match r[0] {
        Value::Integer(i) => Some(i),
        _ => None,
    })
    .collect();
    let mut columns: Vec<String> = sql::query(
        conn,
        &format!(
            "select name from pragma_table_info({})",
            quote(table).replace('"', "'")
        ),
        [],
    )
    .ok()?
    .into_iter()
    .filter_map(|r| match &r[0] {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    })
    .collect();
    columns.push("_rowid_".into());
    let (row_pick, column_pick, action, arg) = (c.byte(), c.byte(), c.byte(), c.byte());
    if rowids.is_empty() {
        return None;
    }
    let rowid = rowids[row_pick as usize % rowids.len()];
    let column = quote(&columns[column_pick as usize % columns.len()]);
    let current: Value = sql::value(
        conn,
        &format!("select {column} from {} where _rowid_ = ?", quote(table)),
        [rowid],
    )
    .ok()?;
    let as_bytes = |v: &Value| -> Vec<u8> {
        match v {
            Value::Blob(b) => b.clone(),
            Value::Text(t) => t.as_bytes().to_vec(),
            Value::Integer(i) => i.to_le_bytes().to_vec(),
            Value::Real(f) => f.to_le_bytes().to_vec(),
            Value::Null => Vec::new(),
        }
    };
    let new = match action % 11 {
        0 => {
            let b = as_bytes(&current);
            Value::Blob(b[..arg as usize % (b.len() + 1)].to_vec())
        }
        1 => {
            let mut b = as_bytes(&current);
            b.extend(std::iter::repeat_n(arg, 1 + arg as usize % 16));
            Value::Blob(b)
        }
        2 => {
            let extra = c.byte() as usize;
            match current {
                Value::Integer(i) => Value::Integer(i ^ (1 << (arg % 64))),
                Value::Real(f) => Value::Real(f64::from_bits(f.to_bits() ^ (1 << (arg % 64)))),
                ref v => {
                    let mut b = as_bytes(v);
                    if b.is_empty() {
                        return None;
                    }
                    let at = (extra * 256 + arg as usize) % b.len();
                    b[at] ^= 1 << (arg % 8);
                    Value::Blob(b)
                }
            }
        }
        3 => Value::Null,
        4 => Value::Integer(arg as i8 as i64),
        5 => Value::Integer([i64::MAX, i64::MIN, 1 << 40, -1][arg as usize % 4]),
        6 => Value::Text("x".repeat(arg as usize % 20)),
        7 => Value::Real(arg as f64 + 0.5),
        8 => {
            let n = sql::execute(
                conn,
                &format!("delete from {} where _rowid_ = ?", quote(table)),
                [rowid],
            );
            return n.ok().filter(|&n| n > 0).map(|_| table);
        }
        9 => match current {
            Value::Integer(i) => Value::Integer(i.wrapping_add(arg as i8 as i64 | 1)),
            _ => Value::Integer(arg as i64),
        },
        _ => {
            // Another row's value of the same column.
            let other = rowids[arg as usize % rowids.len()];
            sql::value(
                conn,
                &format!("select {column} from {} where _rowid_ = ?", quote(table)),
                [other],
            )
            .ok()?
        }
    };
    let changed = sql::execute(
        conn,
        &format!("update {} set {column} = ? where _rowid_ = ?", quote(table)),
        rusqlite::params![new, rowid],
    );
    changed.ok().filter(|&n| n > 0).map(|_| table)
}

/// Which vec0 table a shadow table belongs to.
fn owner(shadow: &str) -> &'static str {
    if shadow.starts_with("ti_") {
        "ti"
    } else {
        "t"
    }
}

struct Run<'c> {
    conn: &'c Connection,
    /// The vec0 tables whose shadow tables were changed.
    damaged: HashSet<&'static str>,
}

impl Run<'_> {
    /// Runs `sql` on vec0 table `table`: its rows, or None after an acceptable error.
    fn run(
        &self,
        table: &str,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Option<Vec<Vec<Value>>> {
        let result = (|| {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let n = stmt.column_count();
            let rows =
                stmt.query_map(params, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
            rows.collect::<rusqlite::Result<Vec<Vec<Value>>>>()
        })();
        let err = match result {
            Ok(rows) => return Some(rows),
            Err(e) => e,
        };
        sql::assert_not_internal(sql, &err);
        let message = sql::message(&err);
        assert!(
            self.damaged.contains(table),
            "{sql}: fails on an undamaged table {table}: {message}"
        );
        match &err {
            rusqlite::Error::SqliteFailure(e, _) if e.extended_code == CORRUPT_VTAB => {
                let named = SHADOW_TABLES
                    .iter()
                    .any(|s| owner(s) == table && message.contains(s));
                assert!(
                    named,
                    "{sql}: corrupt error names no shadow table of {table}: {message}"
                );
            }
            rusqlite::Error::SqliteFailure(e, _)
                if e.code == rusqlite::ErrorCode::ConstraintViolation => {}
            // SQLite's own answer when AUTOINCREMENT finds the largest rowid used (a key the
            // input set to i64::MAX), as for an ordinary table.
            rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DiskFull => {}
            // A larger `VECSQL_FORMAT` is a newer vecsql's file, not damage.
            _ if message.contains("newer than this build reads") => {}
            other => panic!("{sql}: damage reported as {other:?}, not SQLITE_CORRUPT_VTAB"),
        }
        None
    }

    /// Runs `sql` in a savepoint rolled back afterwards, so that every statement sees the
    /// damage as the input left it.
    fn isolated(&self, table: &str, sql: &str) {
        self.conn.execute_batch("savepoint s").expect("savepoint");
        self.run(table, sql, &[]);
        // SQLITE_FULL rolls the whole transaction back, savepoint included.
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("rollback to s; release s")
                .expect("rollback");
        }
    }

    /// A KNN query, then each of its rows again by a point lookup of its key.
    fn knn_matches_lookup(&self, table: &str, knn: &str, lookup: &str) {
        let Some(rows) = self.run(table, knn, &[]) else {
            return;
        };
        for row in rows {
            let key = &row[0];
            let Some(found) = self.run(table, lookup, &[key]) else {
                continue;
            };
            let found: Vec<String> = found
                .iter()
                .flat_map(|r| r.iter().map(|v| format!("{v:?}")))
                .collect();
            let knn_row: Vec<String> = row[..row.len() - 1]
                .iter()
                .map(|v| format!("{v:?}"))
                .collect();
            assert_eq!(
                found, knn_row,
                "{knn}: row {key:?} is another row by {lookup}"
            );
        }
    }
}

pub fn shadow(data: &[u8]) {
    let template = template();
    let path = scratch_path("db");
    std::fs::write(&path, template).expect("scratch file");
    let conn = Connection::open(&path).expect("scratch database");
    vecsql::register(&conn).expect("vecsql registers");
    // No fsync: the file is thrown away after the input.
    conn.execute_batch("pragma journal_mode = memory; pragma synchronous = off")
        .expect("journal mode");
    let mut choices = Choices::new(data);
    let mut damaged = HashSet::new();
    for _ in 0..6 {
        if choices.done() {
            break;
        }
        if let Some(table) = mutate(&conn, &mut choices) {
            damaged.insert(owner(table));
        }
    }
    let run = Run {
        conn: &conn,
        damaged,
    };
    exercise(&run);
    drop(conn);
    let _ = std::fs::remove_file(&path);
}

fn exercise(run: &Run<'_>) {
    let t_columns = "rowid, user, n, f, b, tag, note, emb";
    run.knn_matches_lookup(
        "t",
        &format!("select {t_columns}, distance from t where emb match '[2,1,0,1]' and k = 20"),
        &format!("select {t_columns} from t where rowid = ?"),
    );
    run.knn_matches_lookup(
        "t",
        &format!(
            "select {t_columns}, distance from t where emb match '[2,1,0,1]' and k = 5 \
             and user = 1 and n > 2 and f < 10 and b = 1 and tag >= 'a'"
        ),
        &format!("select {t_columns} from t where rowid = ?"),
    );
    run.knn_matches_lookup(
        "ti",
        "select id, emb, distance from ti where emb match '[2,1,0,1]' and k = 5",
        "select id, emb from ti where id = ?",
    );
    run.knn_matches_lookup(
        "ti",
        "select id, emb, distance from ti where emb match '[2,1,0,1]' and k = 20 and exact = 1",
        "select id, emb from ti where id = ?",
    );
    for (table, sql) in [
        ("t", "select * from t"),
        ("t", "select * from t where rowid in (1, 6, 13)"),
        ("t", "select tag from t where tag like 'a tag%'"),
        ("ti", "select * from ti"),
        ("ti", "select * from ti where id in ('k2', 'k9')"),
        (
            "t",
            "insert into t(rowid, user, emb, n, f, b, tag, note) \
             values (100, 1, '[1,2,3,4]', 5, 0.5, 1, 'a new long tag for the row', 'x')",
        ),
        (
            "t",
            "update t set tag = 'another long tag value', n = 7 where rowid = 6",
        ),
        ("t", "update t set user = 0 where rowid = 7"),
        ("t", "update t set emb = '[0,0,1,1]' where rowid = 8"),
        ("t", "delete from t where rowid = 9"),
        ("t", "delete from t where rowid = 14"),
        ("t", "insert into t(t) values ('optimize')"),
        ("ti", "insert into ti(id, emb) values ('new', '[1,2,3,4]')"),
        ("ti", "update ti set emb = '[3,3,0,1]' where id = 'k5'"),
        ("ti", "update ti set id = 'renamed' where id = 'k6'"),
        ("ti", "delete from ti where id = 'k7'"),
        ("ti", "insert into ti(ti) values ('optimize')"),
        ("ti", "insert into ti(ti) values ('rebuild-index')"),
    ] {
        run.isolated(table, sql);
    }
    // The writes again, kept, then every read again on what they left.
    for (table, sql) in [
        ("t", "delete from t where rowid = 2"),
        (
            "t",
            "insert into t(rowid, user, emb, n, f, b, tag) values (101, 0, '[1,1,1,1]', 1, 1.0, 0, 's')",
        ),
        ("ti", "delete from ti where id = 'k2'"),
        ("ti", "insert into ti(id, emb) values ('late', '[2,2,2,2]')"),
        ("t", "select * from t"),
        ("ti", "select * from ti where emb match '[2,1,0,1]' and k = 3"),
    ] {
        run.run(table, sql, &[]);
    }
    // The ordinary table is untouched by anything above.
    run.conn
        .execute("insert into plain(y) values ('three')", [])
        .expect("plain insert");
    let count: i64 = run
        .conn
        .query_row("select count(*) from plain", [], |r| r.get(0))
        .expect("plain count");
    assert_eq!(count, 3);
}
