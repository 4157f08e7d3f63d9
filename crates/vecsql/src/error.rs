//! The one error type that crosses into SQLite: a result code and a message. Lower layers keep
//! their own error enums and convert here (vec0's, with its codes, is `vec0::error::Vec0Error`).

use std::ffi::c_int;
use std::fmt;

use rusqlite::ffi;
use vecsql_core::VectorError;

#[derive(Debug, Clone, PartialEq)]
pub struct SqlError {
    pub code: c_int,
    pub message: String,
}

impl SqlError {
    /// An ordinary SQL error (`SQLITE_ERROR`) with a message for the user.
    pub fn new(message: impl Into<String>) -> SqlError {
        SqlError {
            code: ffi::SQLITE_ERROR,
            message: message.into(),
        }
    }

    pub fn with_code(code: c_int, message: impl Into<String>) -> SqlError {
        SqlError {
            code,
            message: message.into(),
        }
    }

    /// A bug in vecsql (a caught panic); reported as `SQLITE_INTERNAL`.
    pub fn internal(message: impl Into<String>) -> SqlError {
        SqlError::with_code(ffi::SQLITE_INTERNAL, message)
    }

    /// Prefixes the message with where it happened, e.g. the function name.
    pub fn context(mut self, prefix: &str) -> SqlError {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

impl From<VectorError> for SqlError {
    fn from(e: VectorError) -> SqlError {
        SqlError::new(e.to_string())
    }
}

pub type SqlResult<T> = Result<T, SqlError>;
