//! vecsql's process-wide settings, read and set from SQL.

use crate::error::{SqlError, SqlResult};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};
use crate::settings::{set_vector_cache_budget, vector_cache_budget};

/// `vecsql_cache_budget()`: the bytes of vector chunks a connection keeps in memory per table
/// between exact scans; `vecsql_cache_budget(bytes)` sets it for the process (0 turns the
/// cache off) and returns the new value.
pub fn vecsql_cache_budget(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    if let Some(arg) = args.first() {
        let bytes = match arg.value {
            SqlValue::Integer(n) if n >= 0 => n,
            _ => {
                return Err(SqlError::new(format!(
                    "vecsql_cache_budget: the budget must be a non-negative integer number of \
                     bytes, not {}",
                    arg.value.storage_class()
                )))
            }
        };
        set_vector_cache_budget(usize::try_from(bytes).unwrap_or(usize::MAX));
    }
    Ok(SqlOutput::Integer(
        i64::try_from(vector_cache_budget()).unwrap_or(i64::MAX),
    ))
}
