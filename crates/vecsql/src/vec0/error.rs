//! What can go wrong in a vec0 table, by layer, and the one place ([`Vec0Error::code`]) that
//! picks the SQLite result code for each kind. Code inside `vec0/` returns [`Vec0Result`]; the
//! virtual table callbacks convert to [`SqlError`] at the FFI boundary with `?`.
//!
//! The messages are what users see and many are compared with sqlite-vec's, so variants that
//! carry sqlite-vec's sentence keep it verbatim next to the structured fields.

use std::ffi::c_int;
use std::fmt;

use rusqlite::ffi;

use super::index::{IndexClauseError, KnobError};
use super::schema::SchemaError;
use crate::error::SqlError;
use vecsql_core::VectorError;

pub type Vec0Result<T> = Result<T, Vec0Error>;

/// A vec0 failure, by what went wrong rather than by SQLite code.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Vec0Error {
    /// `CREATE VIRTUAL TABLE ... USING vec0(...)` refused (`SQLITE_ERROR`).
    Definition(DefinitionError),
    /// A query vec0 cannot run as written: the shape of its constraints (`SQLITE_ERROR`).
    Plan(String),
    /// xBestIndex's answer that a combination of constraints cannot be used, so that SQLite
    /// tries another plan (`SQLITE_CONSTRAINT`, which SQLite does not show to users).
    Unusable(&'static str),
    /// A value of the wrong type, size or range for a column, a constraint or a command
    /// (`SQLITE_ERROR`).
    Argument(ArgumentError),
    /// A row that breaks a declared constraint: a duplicate key, an auxiliary value of another
    /// type than declared (`SQLITE_CONSTRAINT`).
    Constraint(String),
    /// Damaged shadow data (`SQLITE_CORRUPT_VTAB`: unlike `SQLITE_CORRUPT`, SQLite does not
    /// take the whole database for corrupt, so its other tables stay usable).
    Corrupt {
        /// The damaged shadow table, by its full name (`t_chunks`).
        shadow: String,
        /// The whole message; it names `shadow` and says what is wrong.
        message: String,
    },
    /// A statement or blob handle SQLite refused (an authorizer's denial, a missing shadow
    /// column: see [`reword`]), with sqlite-vec's words for the step in front of SQLite's.
    /// sqlite-vec reports most of these as `SQLITE_ERROR` (`as_error`); the others keep
    /// SQLite's code.
    Statement {
        context: String,
        source: SqlError,
        as_error: bool,
    },
    /// SQLite's own failure, passed through with its code and message (a full disk, a busy
    /// database, an interrupt, a constraint of a shadow table).
    Sqlite(SqlError),
    /// A bug in vecsql: a state its own code should never produce (`SQLITE_INTERNAL`).
    Internal(String),
}

impl Vec0Error {
    /// [`Vec0Error::Corrupt`] in vecsql's words: `shadow` (a full name) and what is wrong.
    pub fn damaged(shadow: &str, what: impl fmt::Display) -> Vec0Error {
        Vec0Error::Corrupt {
            shadow: shadow.to_string(),
            message: format!("vec0 shadow table {shadow} is damaged: {what}"),
        }
    }

    /// [`Vec0Error::Corrupt`] with a whole sentence (sqlite-vec's, or one naming an index);
    /// `message` must name `shadow` or the table it belongs to.
    pub fn corrupt(shadow: &str, message: impl Into<String>) -> Vec0Error {
        Vec0Error::Corrupt {
            shadow: shadow.to_string(),
            message: message.into(),
        }
    }

    pub fn plan(message: impl Into<String>) -> Vec0Error {
        Vec0Error::Plan(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Vec0Error {
        Vec0Error::Internal(message.into())
    }

    pub fn is_corrupt(&self) -> bool {
        matches!(self, Vec0Error::Corrupt { .. })
    }
}

/// `e` with sqlite-vec's wording for the failed step (`context`) in front when SQLite failed
/// while preparing it (see [`prepare_class`]), as `SQLITE_ERROR` when `as_error` (as
/// sqlite-vec reports it) or else with SQLite's code; other failures pass through unchanged.
pub fn reword(e: impl Into<Vec0Error>, context: &str, as_error: bool) -> Vec0Error {
    match e.into() {
        Vec0Error::Sqlite(source) if prepare_class(&source) => Vec0Error::Statement {
            context: context.to_string(),
            source,
            as_error,
        },
        other => other,
    }
}

/// Whether SQLite failed while preparing (or re-preparing) a statement: an authorizer's denial
/// (`SQLITE_AUTH`) or a schema problem such as a missing shadow column (`SQLITE_ERROR`). Only
/// these get sqlite-vec's wording as a prefix; a full disk, a busy database or an interrupt
/// keep SQLite's message unchanged.
fn prepare_class(e: &SqlError) -> bool {
    matches!(e.code & 0xff, ffi::SQLITE_AUTH | ffi::SQLITE_ERROR)
}

impl fmt::Display for Vec0Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Vec0Error::Definition(e) => e.fmt(f),
            Vec0Error::Plan(m) | Vec0Error::Constraint(m) | Vec0Error::Internal(m) => {
                f.write_str(m)
            }
            Vec0Error::Unusable(m) => f.write_str(m),
            Vec0Error::Argument(e) => e.fmt(f),
            Vec0Error::Corrupt { message, .. } => f.write_str(message),
            Vec0Error::Statement {
                context, source, ..
            } => write!(f, "{context}: {}", source.message),
            Vec0Error::Sqlite(e) => f.write_str(&e.message),
        }
    }
}

impl std::error::Error for Vec0Error {}

impl Vec0Error {
    /// The SQLite result code this error is reported with: the one mapping from vec0's errors
    /// to SQLite's codes.
    pub fn code(&self) -> c_int {
        match self {
            Vec0Error::Definition(_) | Vec0Error::Plan(_) | Vec0Error::Argument(_) => {
                ffi::SQLITE_ERROR
            }
            Vec0Error::Unusable(_) | Vec0Error::Constraint(_) => ffi::SQLITE_CONSTRAINT,
            Vec0Error::Corrupt { .. } => ffi::SQLITE_CORRUPT_VTAB,
            Vec0Error::Statement {
                source, as_error, ..
            } => {
                if *as_error {
                    ffi::SQLITE_ERROR
                } else {
                    source.code
                }
            }
            Vec0Error::Sqlite(source) => source.code,
            Vec0Error::Internal(_) => ffi::SQLITE_INTERNAL,
        }
    }
}

impl From<Vec0Error> for SqlError {
    fn from(e: Vec0Error) -> SqlError {
        match e {
            Vec0Error::Sqlite(source) => source,
            other => SqlError::with_code(other.code(), other.to_string()),
        }
    }
}

/// SQLite's failures (and those of shared code that answers in SQLite's terms, such as the
/// SQL-value-to-vector rules) pass through unchanged.
impl From<SqlError> for Vec0Error {
    fn from(e: SqlError) -> Vec0Error {
        Vec0Error::Sqlite(e)
    }
}

impl From<VectorError> for Vec0Error {
    fn from(e: VectorError) -> Vec0Error {
        Vec0Error::Sqlite(SqlError::from(e))
    }
}

impl From<DefinitionError> for Vec0Error {
    fn from(e: DefinitionError) -> Vec0Error {
        Vec0Error::Definition(e)
    }
}

impl From<ArgumentError> for Vec0Error {
    fn from(e: ArgumentError) -> Vec0Error {
        Vec0Error::Argument(e)
    }
}

/// Why a table definition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The `vec0(...)` text itself.
    Schema(SchemaError),
    /// A bad `indexed by` clause, reported as sqlite-vec 0.1.10 reports any bad vector column;
    /// `argument` is the column's argument as written.
    IndexClause {
        argument: String,
        reason: IndexClauseError,
    },
    /// A bad `indexed by` clause found while laying out the table (`IndexClause` is checked
    /// first, with the argument's text; this one names the column).
    IndexOnColumn {
        column: String,
        reason: IndexClauseError,
    },
    /// A column named like a hidden query option of indexed tables.
    ReservedByIndex {
        column: String,
        reserved: &'static str,
    },
    /// A table written by a newer vecsql, in a format this build cannot read.
    NewerFormat { table: String, found: i64 },
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefinitionError::Schema(e) => e.fmt(f),
            DefinitionError::IndexClause { argument, reason } => write!(
                f,
                "vec0 constructor error: could not parse vector column '{argument}': {reason}"
            ),
            DefinitionError::IndexOnColumn { column, reason } => {
                write!(f, "vector column \"{column}\": {reason}")
            }
            DefinitionError::ReservedByIndex { column, reserved } => write!(
                f,
                "column \"{column}\": '{reserved}' is a hidden query option of tables with an ANN \
                 index; rename the column"
            ),
            DefinitionError::NewerFormat { table, found } => write!(
                f,
                "vec0 table {table} uses vecsql format {found}, newer than this build reads ({}); \
                 upgrade vecsql",
                super::shadow::FORMAT_VERSION
            ),
        }
    }
}

impl std::error::Error for DefinitionError {}

impl From<SchemaError> for DefinitionError {
    fn from(e: SchemaError) -> DefinitionError {
        DefinitionError::Schema(e)
    }
}

/// A value that is not what it was given for: `what` it was for (`k`, `ef_search`, a column, a
/// command), what was `expected` and what it `got`. The message is `{what} must be {expected},
/// got {got}`, or sqlite-vec's sentence for the case where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    pub what: String,
    pub expected: String,
    pub got: String,
    sentence: Option<String>,
}

impl ArgumentError {
    /// `{what} must be {expected}, got {got}`.
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> ArgumentError {
        ArgumentError {
            what: what.into(),
            expected: expected.into(),
            got: got.into(),
            sentence: None,
        }
    }

    /// The same, told to the user as `sentence` (sqlite-vec's words, or a message that says
    /// more than expected-and-got).
    pub fn worded(self, sentence: impl Into<String>) -> ArgumentError {
        ArgumentError {
            sentence: Some(sentence.into()),
            ..self
        }
    }
}

impl fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sentence {
            Some(s) => f.write_str(s),
            None => write!(
                f,
                "{} must be {}, got {}",
                self.what, self.expected, self.got
            ),
        }
    }
}

impl std::error::Error for ArgumentError {}

impl From<KnobError> for ArgumentError {
    fn from(e: KnobError) -> ArgumentError {
        let (name, expected, got) = match &e {
            KnobError::NotPositive { name, got } => {
                (name, "an integer >= 1".to_string(), got.clone())
            }
            KnobError::NotNonNegative { name, got } => {
                (name, "an integer >= 0".to_string(), got.clone())
            }
            KnobError::AboveMax { name, got } => (
                name,
                format!("at most {}", super::index::MAX_EF),
                got.to_string(),
            ),
        };
        ArgumentError::new(name.clone(), expected, got).worded(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_its_code_with_its_message() {
        let code = |e: Vec0Error| SqlError::from(e).code;
        assert_eq!(code(Vec0Error::plan("p")), ffi::SQLITE_ERROR);
        assert_eq!(code(Vec0Error::Unusable("u")), ffi::SQLITE_CONSTRAINT);
        assert_eq!(
            code(Vec0Error::Constraint("c".into())),
            ffi::SQLITE_CONSTRAINT
        );
        assert_eq!(code(Vec0Error::internal("i")), ffi::SQLITE_INTERNAL);
        let damaged = SqlError::from(Vec0Error::damaged("t_chunks", "slot 3 is free"));
        assert_eq!(damaged.code, ffi::SQLITE_CORRUPT_VTAB);
        assert_eq!(
            damaged.message,
            "vec0 shadow table t_chunks is damaged: slot 3 is free"
        );
        let arg = ArgumentError::new("k", "an integer", "TEXT");
        assert_eq!(arg.to_string(), "k must be an integer, got TEXT");
        assert_eq!(code(arg.into()), ffi::SQLITE_ERROR);
    }

    #[test]
    fn sqlite_failures_pass_through_or_get_sqlite_vec_words() {
        let full = SqlError::with_code(ffi::SQLITE_FULL, "database or disk is full");
        let e = reword(full.clone(), "could not open", true);
        assert_eq!(SqlError::from(e), full);
        let auth = SqlError::with_code(ffi::SQLITE_AUTH, "not authorized");
        let e = reword(auth.clone(), "Error preparing stmt", false);
        assert_eq!(
            SqlError::from(e),
            SqlError::with_code(ffi::SQLITE_AUTH, "Error preparing stmt: not authorized")
        );
        let e = reword(auth, "Error preparing stmt", true);
        assert_eq!(SqlError::from(e).code, ffi::SQLITE_ERROR);
    }
}
