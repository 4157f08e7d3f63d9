//! Indexes added to or dropped from a filled table (`'create-index <column> [hnsw(...)]'`,
//! `'drop-index <column>'`), without copying the table.
//!
//! The statement SQLite stored in `sqlite_master` cannot change, so `{t}_info` holds one row
//! `index:<column>` per changed column: the `indexed by` clause in force, or '' for none. A
//! connection applies those rows over the declaration when it connects. The command creates the
//! index tables (or, for a drop, a schema change SQLite can make inside a running statement),
//! so every other connection sees a new schema version and connects again before its next
//! statement; the connection that ran the command changes its own table in place.

use super::IndexConfig;
use crate::ffi::connection::Connection;
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::layout::Layout;
use crate::vec0::schema::{parse_definition, vector_type_name};

/// The `{t}_info` key of vector column `name`'s stored index.
pub fn info_key(name: &str) -> String {
    format!("index:{}", name.to_ascii_lowercase())
}

/// Applies the stored index changes to `layout` (when an existing table connects).
pub fn apply_stored(conn: &Connection, layout: &mut Layout) -> Vec0Result<()> {
    let rows = conn
        .prepare(&format!(
            "SELECT key, value FROM {} WHERE key LIKE 'index:%'",
            layout.qualified("info")
        ))?
        .query(&[])?;
    for row in rows {
        let damaged = |what: &str| Vec0Error::damaged(&layout.shadow("info"), what);
        let (Some(OwnedValue::Text(key)), Some(OwnedValue::Text(clause))) =
            (row.first(), row.get(1))
        else {
            return Err(damaged("an index row is not text"));
        };
        let name = &key["index:".len()..];
        let Some(i) = layout
            .vectors
            .iter()
            .position(|v| v.name.eq_ignore_ascii_case(name))
        else {
            return Err(damaged(&format!("row {key:?} names no vector column")));
        };
        layout.vectors[i].index = if clause.is_empty() {
            None
        } else {
            Some(
                parse_clause(layout, i, clause)
                    .map_err(|e| damaged(&format!("row {key:?}: {e}")))?,
            )
        };
    }
    layout.declare_query_options();
    Ok(())
}

/// The index `clause` (what follows `indexed by`) gives vector column `i`, checked as a CREATE
/// checks it.
pub fn parse_clause(layout: &Layout, i: usize, clause: &str) -> Result<IndexConfig, String> {
    let v = &layout.vectors[i];
    let element = vector_type_name(v.element);
    let column = format!(
        "{} {element}[{}] distance_metric={} indexed by {clause}",
        v.name,
        v.dims,
        v.metric.name()
    );
    let def = parse_definition(std::slice::from_ref(&column)).map_err(|e| e.to_string())?;
    let one = Layout::new(&layout.schema, &layout.table, &def).map_err(|e| e.to_string())?;
    one.vectors
        .into_iter()
        .next()
        .and_then(|v| v.index)
        .ok_or_else(|| format!("'{clause}' is not an index"))
}

/// Stores vector column `name`'s index clause ('' for none).
pub fn store(conn: &Connection, layout: &Layout, name: &str, clause: &str) -> Vec0Result<()> {
    let key = info_key(name);
    Ok(conn
        .prepare(&format!(
            "INSERT OR REPLACE INTO {}(key, value) VALUES (?, ?)",
            layout.qualified("info")
        ))?
        .execute(&[
            SqlValue::Text(key.as_bytes()),
            SqlValue::Text(clause.as_bytes()),
        ])?)
}

/// Makes every other connection read the schema again (and so connect to the table again)
/// before its next statement. A view is created and dropped: unlike `DROP TABLE`, dropping a
/// view frees no pages, so SQLite allows it while the command's own statement runs.
pub fn announce(conn: &Connection, layout: &Layout) -> Vec0Result<()> {
    let view = layout.qualified("index_changed");
    Ok(conn.execute_batch(&format!(
        "CREATE VIEW {view} AS SELECT 1; DROP VIEW {view};"
    ))?)
}
