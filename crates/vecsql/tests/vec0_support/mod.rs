//! Helpers shared by the `vec0_*` test files: connections with vecsql registered, row
//! collection, error capture and dumps of a vec0 table with all of its shadow tables.
#![allow(dead_code)]

pub mod cache;
pub mod index;
pub mod oracle;

use rusqlite::types::Value;
use rusqlite::{Connection, Params};

/// An in-memory connection with vecsql registered.
pub fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    vecsql::register(&conn).unwrap();
    conn
}

/// A connection on the file at `path`, with vecsql registered.
pub fn open(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    vecsql::register(&conn).unwrap();
    conn
}

pub fn exec(conn: &Connection, sql: &str) {
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Every row of `sql`, every column as a [`Value`].
pub fn rows_with<P: Params>(conn: &Connection, sql: &str, params: P) -> Vec<Vec<Value>> {
    try_rows(conn, sql, params).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    rows_with(conn, sql, [])
}

pub fn try_rows<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    let rows = stmt.query_map(params, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
    rows.collect()
}

/// The first column of every row, as integers.
pub fn ints(conn: &Connection, sql: &str) -> Vec<i64> {
    ints_with(conn, sql, [])
}

pub fn ints_with<P: Params>(conn: &Connection, sql: &str, params: P) -> Vec<i64> {
    rows_with(conn, sql, params)
        .into_iter()
        .map(|r| match &r[0] {
            Value::Integer(i) => *i,
            other => panic!("{sql}: expected an integer, got {other:?}"),
        })
        .collect()
}

pub fn one(conn: &Connection, sql: &str) -> Value {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub fn int(conn: &Connection, sql: &str) -> i64 {
    match one(conn, sql) {
        Value::Integer(i) => i,
        other => panic!("{sql}: expected an integer, got {other:?}"),
    }
}

/// The message of the error `sql` fails with, whether at prepare, step or execute time.
pub fn error(conn: &Connection, sql: &str) -> String {
    error_with(conn, sql, [])
}

pub fn error_with<P: Params>(conn: &Connection, sql: &str, params: P) -> String {
    let result = (|| -> rusqlite::Result<Vec<Vec<Value>>> {
        let mut stmt = conn.prepare(sql)?;
        if stmt.column_count() == 0 {
            stmt.execute(params)?;
            return Ok(Vec::new());
        }
        let n = stmt.column_count();
        let rows = stmt.query_map(params, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
        rows.collect()
    })();
    match result {
        Ok(v) => panic!("{sql}: expected an error, got {v:?}"),
        Err(rusqlite::Error::SqliteFailure(_, Some(m))) => m,
        Err(e) => e.to_string(),
    }
}

pub fn f32_blob(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn text(v: &Value) -> &str {
    match v {
        Value::Text(t) => t,
        other => panic!("expected text, got {other:?}"),
    }
}

pub fn real(v: &Value) -> f64 {
    match v {
        Value::Real(f) => *f,
        other => panic!("expected a real, got {other:?}"),
    }
}

/// Names of the ordinary tables whose name starts with `table_`, sorted.
pub fn shadow_tables(conn: &Connection, table: &str) -> Vec<String> {
    rows_with(
        conn,
        "select name from sqlite_master where type = 'table' and name like ?1 || '\\_%' escape '\\'
            and sql not like 'create virtual%' order by name",
        [table],
    )
    .into_iter()
    .map(|r| text(&r[0]).to_string())
    .collect()
}

/// Everything a vec0 table holds: `select *` in key order, then every shadow table's rows in
/// rowid order. Two dumps are equal only when the table is unchanged down to the bytes,
/// except for `VECSQL_CACHE_ID` in `{t}_info`, drawn at random for each table (so that dumps
/// of two tables filled alike are equal too).
pub fn dump(conn: &Connection, table: &str) -> Vec<(String, Vec<Vec<Value>>)> {
    let mut out = vec![(
        table.to_string(),
        rows(conn, &format!("select * from \"{table}\" order by 1")),
    )];
    for shadow in shadow_tables(conn, table) {
        let mut rows = rows(
            conn,
            &format!("select rowid, * from \"{shadow}\" order by rowid"),
        );
        for row in &mut rows {
            if row.get(1) == Some(&Value::Text("VECSQL_CACHE_ID".into())) {
                row[2] = Value::Null;
            }
        }
        out.push((shadow, rows));
    }
    out
}

/// A number of either storage class, as f64.
pub fn number(v: &Value) -> f64 {
    match v {
        Value::Real(f) => *f,
        Value::Integer(i) => *i as f64,
        other => panic!("expected a number, got {other:?}"),
    }
}
