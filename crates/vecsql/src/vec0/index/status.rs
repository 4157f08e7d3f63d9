//! `vec_index_status(table)`: what the ANN indexes of a vec0 table hold, as JSON, read from
//! their shadow tables (so it answers from any connection, including while another one builds).

use serde_json::{json, Value};

use super::hnsw::{meta_suffix, nodes_suffix, process_status};
use crate::error::SqlResult;
use crate::ffi::connection::Connection;
use crate::ffi::{OwnedValue, SqlArg, SqlOutput, SqlValue};
use crate::vec0::error::{ArgumentError, Vec0Result};
use crate::vec0::layout::quote;
use crate::vec0::schema::MAX_VECTOR_COLUMNS;

fn scalar(conn: &Connection, sql: &str, params: &[SqlValue<'_>]) -> SqlResult<Option<OwnedValue>> {
    let rows = conn.prepare(sql)?.query(params)?;
    Ok(rows.into_iter().next().and_then(|r| r.into_iter().next()))
}

fn integer(v: Option<OwnedValue>) -> i64 {
    match v {
        Some(OwnedValue::Integer(i)) => i,
        Some(OwnedValue::Real(f)) => f as i64,
        _ => 0,
    }
}

fn table_exists(conn: &Connection, schema: &str, name: &str) -> SqlResult<bool> {
    Ok(scalar(
        conn,
        &format!(
            "SELECT 1 FROM {}.sqlite_master WHERE type = 'table' AND name = ?",
            quote(schema)
        ),
        &[SqlValue::Text(name.as_bytes())],
    )?
    .is_some())
}

/// Bytes the table's pages take on disk, when SQLite was built with `dbstat`.
fn table_bytes(conn: &Connection, schema: &str, name: &str) -> Option<i64> {
    scalar(
        conn,
        "SELECT sum(pgsize) FROM dbstat(?) WHERE name = ?",
        &[
            SqlValue::Text(schema.as_bytes()),
            SqlValue::Text(name.as_bytes()),
        ],
    )
    .ok()
    .map(integer)
}

/// The SQL function, registered by `lib.rs`.
pub fn vec_index_status(conn: &Connection, args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(status(conn, args)?)
}

fn status(conn: &Connection, args: &[SqlArg<'_>]) -> Vec0Result<SqlOutput> {
    let (schema, table) = match (args.first().map(|a| a.value), args.get(1).map(|a| a.value)) {
        (Some(SqlValue::Text(t)), None) => ("main".to_string(), t),
        (Some(SqlValue::Text(s)), Some(SqlValue::Text(t))) => {
            (String::from_utf8_lossy(s).into_owned(), t)
        }
        (first, _) => {
            let got = first.map_or("nothing", |v| v.storage_class());
            return Err(ArgumentError::new("a table name", "TEXT", got)
                .worded(
                    "vec_index_status(table) or vec_index_status(schema, table) takes table \
                     names as TEXT",
                )
                .into());
        }
    };
    let table = String::from_utf8_lossy(table).into_owned();
    let sql = scalar(
        conn,
        &format!(
            "SELECT sql FROM {}.sqlite_master WHERE type = 'table' AND name = ?",
            quote(&schema)
        ),
        &[SqlValue::Text(table.as_bytes())],
    )?;
    let is_vec0 =
        matches!(&sql, Some(OwnedValue::Text(s)) if s.to_ascii_lowercase().contains("using vec0"));
    if !is_vec0 {
        return Err(ArgumentError::new("a table name", "a vec0 table", &*table)
            .worded(format!(
                "vec_index_status: no vec0 table named \"{table}\" in schema \"{schema}\""
            ))
            .into());
    }
    let q = |suffix: &str| format!("{}.{}", quote(&schema), quote(&format!("{table}_{suffix}")));
    let rows = integer(scalar(
        conn,
        &format!(
            "SELECT count(*) FROM {} WHERE chunk_id IS NOT NULL",
            q("rowids")
        ),
        &[],
    )?);
    // The database file, which (with table and column) names this process's shared copies.
    let file = match scalar(
        conn,
        "SELECT file FROM pragma_database_list WHERE name = ?",
        &[SqlValue::Text(schema.as_bytes())],
    )? {
        Some(OwnedValue::Text(f)) => f,
        _ => String::new(),
    };
    let mut out = Vec::new();
    for i in 0..MAX_VECTOR_COLUMNS {
        let meta_name = format!("{table}_{}", meta_suffix(i));
        if !table_exists(conn, &schema, &meta_name)? {
            continue;
        }
        let nodes_name = format!("{table}_{}", nodes_suffix(i));
        let config: Value = match scalar(
            conn,
            &format!(
                "SELECT value FROM {} WHERE key = 'config'",
                q(&meta_suffix(i))
            ),
            &[],
        )? {
            Some(OwnedValue::Text(t)) => serde_json::from_str(&t).unwrap_or(Value::Null),
            // The emptied tables of an index removed by 'drop-index'.
            None => continue,
            _ => Value::Null,
        };
        let counts = conn
            .prepare(&format!(
                "SELECT count(*), coalesce(sum(length(links)), 0) FROM {}",
                q(&nodes_suffix(i))
            ))?
            .query(&[])?;
        let (indexed, payload) = match counts.first().map(|r| r.as_slice()) {
            Some([n, b]) => (integer(Some(n.clone())), integer(Some(b.clone()))),
            _ => (0, 0),
        };
        let generation = integer(scalar(
            conn,
            &format!(
                "SELECT value FROM {} WHERE key = 'generation'",
                q(&meta_suffix(i))
            ),
            &[],
        )?);
        let bytes = match (
            table_bytes(conn, &schema, &nodes_name),
            table_bytes(conn, &schema, &meta_name),
        ) {
            (Some(a), Some(b)) if a > 0 => a + b,
            _ => payload,
        };
        let state = if indexed == rows {
            "ready"
        } else {
            // Rows the graph lacks are linked on the table's next use (or 'rebuild-index').
            "incomplete"
        };
        out.push(json!({
            "column": config.get("column").cloned().unwrap_or(Value::Null),
            "kind": "hnsw",
            "params": config,
            "rows": rows,
            "indexed": indexed,
            "state": state,
            "generation": generation,
            "bytes": bytes,
            "link_bytes": payload,
            "bytes_per_vector": if indexed > 0 { bytes as f64 / indexed as f64 } else { 0.0 },
            "process": process_status(&file, &table, i),
        }));
    }
    Ok(SqlOutput::Text(Value::Array(out).to_string()))
}
