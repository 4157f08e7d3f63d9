//! The scalar functions behind libSQL vector indexes:
//!
//! - `libsql_vector_idx(col, 'key=value', ...)`, the index expression itself. SQLite evaluates
//!   it for every row written to the table (and every row at CREATE INDEX / REINDEX) and stores
//!   its result in the index b-tree. It checks the settings and the value's type and returns
//!   NULL, so the b-tree SQLite keeps for the index holds only (NULL, rowid) pairs; the search
//!   structure is the hidden vec0 table (see [`super::index`]). It is registered for 1 to
//!   [`MAX_ARGS`] arguments only, so `libsql_vector_idx()` is an error when CREATE INDEX is
//!   prepared (libSQL crashes on it).
//! - `vecsql_libsql_index_vector(value, index, type, dims)`, used by the hidden table's
//!   triggers and build: checks a row's vector against the column type and returns it as
//!   float32, with errors that name the index.

use super::index::index_vector;
use super::index_sql::LibsqlType;
use super::settings::Settings;
use crate::error::{SqlError, SqlResult};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};

/// The most arguments `libsql_vector_idx` is registered for (the column and the settings).
pub const MAX_ARGS: i32 = 16;

pub fn libsql_vector_idx(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let mut settings = Vec::with_capacity(args.len().saturating_sub(1));
    for a in &args[1..] {
        match a.value {
            SqlValue::Text(t) => settings.push(String::from_utf8_lossy(t).into_owned()),
            _ => {
                return Err(SqlError::new(
                    "vector index: all arguments after first must be strings",
                ))
            }
        }
    }
    Settings::parse(&settings)?;
    match args.first().map(|a| a.value) {
        Some(SqlValue::Null | SqlValue::Text(_) | SqlValue::Blob(_)) => Ok(SqlOutput::Null),
        Some(other) => Err(SqlError::new(format!(
            "vector index(insert): unexpected value type: got {}, expected TEXT or BLOB",
            other.storage_class()
        ))),
        None => Err(SqlError::new(
            "vector index: libsql_vector_idx needs the vector column as its first argument",
        )),
    }
}

pub fn vecsql_libsql_index_vector(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let name = match args[1].value {
        SqlValue::Text(t) => String::from_utf8_lossy(t).into_owned(),
        _ => return Err(SqlError::new("vecsql_libsql_index_vector: bad index name")),
    };
    let ty = match args[2].value {
        SqlValue::Text(t) => std::str::from_utf8(t).ok().and_then(LibsqlType::from_name),
        _ => None,
    }
    .ok_or_else(|| SqlError::new("vecsql_libsql_index_vector: bad vector type"))?;
    let dims = match args[3].value {
        SqlValue::Integer(d) if d > 0 => d as usize,
        _ => return Err(SqlError::new("vecsql_libsql_index_vector: bad dimensions")),
    };
    Ok(SqlOutput::blob(index_vector(
        "insert",
        &name,
        ty,
        dims,
        args[0].value,
    )?))
}
