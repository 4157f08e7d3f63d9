//! SQLite helpers shared by the checks: a connection with vecsql registered, and statement
//! runners that turn every error into a message but fail the check on internal errors (a
//! caught panic inside vecsql is still a bug, whatever the SQL was).

use std::cell::RefCell;

use rusqlite::types::Value;
use rusqlite::{Connection, Params};

pub fn connection() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    vecsql::register(&conn).expect("vecsql registers");
    conn
}

thread_local! {
    static SHARED: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's connection, opened on first use: checks that only call functions
/// need no fresh database, and opening one per input would dominate their run time.
pub fn with_shared_connection<R>(f: impl FnOnce(&Connection) -> R) -> R {
    SHARED.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(connection))
    })
}

/// Fails the check when `err` is vecsql reporting a bug in itself rather than a bad input.
pub fn assert_not_internal(sql: &str, err: &rusqlite::Error) {
    if let rusqlite::Error::SqliteFailure(code, message) = err {
        let message = message.as_deref().unwrap_or("");
        assert!(
            code.code != rusqlite::ErrorCode::InternalMalfunction
                && !message.contains("internal error"),
            "{sql}: internal error: {message}"
        );
    }
}

/// The message of `err`, as a user would see it.
pub fn message(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    }
}

/// Every row of `sql` (all columns), or the error message.
pub fn query<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Vec<Vec<Value>>, String> {
    let result = (|| {
        let mut stmt = conn.prepare_cached(sql)?;
        let n = stmt.column_count();
        let rows = stmt.query_map(params, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
        rows.collect::<rusqlite::Result<Vec<Vec<Value>>>>()
    })();
    result.map_err(|e| {
        assert_not_internal(sql, &e);
        message(&e)
    })
}

/// The single value of a one-row, one-column query, or the error message.
pub fn value<P: Params>(conn: &Connection, sql: &str, params: P) -> Result<Value, String> {
    let rows = query(conn, sql, params)?;
    assert_eq!(rows.len(), 1, "{sql}: one row");
    Ok(rows.into_iter().next().unwrap().into_iter().next().unwrap())
}

/// Runs a statement that returns no rows, or gives the error message.
pub fn execute<P: Params>(conn: &Connection, sql: &str, params: P) -> Result<usize, String> {
    let result = conn.prepare_cached(sql).and_then(|mut s| s.execute(params));
    result.map_err(|e| {
        assert_not_internal(sql, &e);
        message(&e)
    })
}
