//! Safe views of `sqlite3_value` arguments and owned results written to a `sqlite3_context`.

use std::ffi::{c_int, c_void};

use rusqlite::ffi::{self, sqlite3_context, sqlite3_value};

use super::call;
use crate::error::SqlError;

/// One SQL value, borrowed from SQLite for the duration of a callback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlValue<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// Text as SQLite stores it: UTF-8 by contract, but not validated.
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl SqlValue<'_> {
    /// SQLite's name for the storage class, as `typeof()` prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            SqlValue::Null => "null",
            SqlValue::Integer(_) => "integer",
            SqlValue::Real(_) => "real",
            SqlValue::Text(_) => "text",
            SqlValue::Blob(_) => "blob",
        }
    }
}

impl SqlValue<'_> {
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            SqlValue::Null => OwnedValue::Null,
            SqlValue::Integer(i) => OwnedValue::Integer(i),
            SqlValue::Real(f) => OwnedValue::Real(f),
            SqlValue::Text(t) => OwnedValue::Text(String::from_utf8_lossy(t).into_owned()),
            SqlValue::Blob(b) => OwnedValue::Blob(b.to_vec()),
        }
    }
}

/// An SQL value owned by Rust, e.g. read from a shadow table and kept past the next step.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl OwnedValue {
    pub fn as_value(&self) -> SqlValue<'_> {
        match self {
            OwnedValue::Null => SqlValue::Null,
            OwnedValue::Integer(i) => SqlValue::Integer(*i),
            OwnedValue::Real(f) => SqlValue::Real(*f),
            OwnedValue::Text(t) => SqlValue::Text(t.as_bytes()),
            OwnedValue::Blob(b) => SqlValue::Blob(b),
        }
    }

    /// The value as a function or column result.
    pub fn to_output(&self) -> SqlOutput {
        match self {
            OwnedValue::Null => SqlOutput::Null,
            OwnedValue::Integer(i) => SqlOutput::Integer(*i),
            OwnedValue::Real(f) => SqlOutput::Real(*f),
            OwnedValue::Text(t) => SqlOutput::Text(t.clone()),
            OwnedValue::Blob(b) => SqlOutput::blob(b.clone()),
        }
    }
}

/// A function argument: its value and the SQL subtype attached to it (0 when none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SqlArg<'a> {
    pub value: SqlValue<'a>,
    pub subtype: u32,
}

impl SqlValue<'_> {
    /// The storage class in upper case, as sqlite-vec names it in type errors.
    pub fn storage_class(&self) -> &'static str {
        match self {
            SqlValue::Null => "NULL",
            SqlValue::Integer(_) => "INTEGER",
            SqlValue::Real(_) => "FLOAT",
            SqlValue::Text(_) => "TEXT",
            SqlValue::Blob(_) => "BLOB",
        }
    }
}

impl<'a> SqlArg<'a> {
    pub fn plain(value: SqlValue<'a>) -> SqlArg<'a> {
        SqlArg { value, subtype: 0 }
    }

    /// Reads a value without its subtype (for virtual-table callbacks, where none is kept).
    ///
    /// # Safety
    /// `value` must be a valid `sqlite3_value` that outlives `'a` and is not read as another
    /// type while the borrow lives.
    pub unsafe fn from_raw_value(value: *mut sqlite3_value) -> SqlValue<'a> {
        // SAFETY: guaranteed by the caller; each accessor is called once, after the type is
        // known, so SQLite does not convert the value under the returned borrow.
        unsafe {
            match call!(value_type(value)) {
                ffi::SQLITE_INTEGER => SqlValue::Integer(call!(value_int64(value))),
                ffi::SQLITE_FLOAT => SqlValue::Real(call!(value_double(value))),
                ffi::SQLITE_TEXT => {
                    let ptr = call!(value_text(value));
                    let len = call!(value_bytes(value)) as usize;
                    SqlValue::Text(raw_slice(ptr, len))
                }
                ffi::SQLITE_BLOB => {
                    let ptr = call!(value_blob(value)) as *const u8;
                    let len = call!(value_bytes(value)) as usize;
                    SqlValue::Blob(raw_slice(ptr, len))
                }
                _ => SqlValue::Null,
            }
        }
    }

    /// # Safety
    /// As for [`SqlArg::from_raw_value`].
    pub unsafe fn from_raw(value: *mut sqlite3_value) -> SqlArg<'a> {
        // SAFETY: forwarded from the caller.
        unsafe {
            SqlArg {
                subtype: call!(value_subtype(value)),
                value: SqlArg::from_raw_value(value),
            }
        }
    }
}

/// # Safety
/// `ptr` must be null only when `len` is 0, else point at `len` readable bytes living for `'a`.
pub(crate) unsafe fn raw_slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// A function result owned by Rust until it is handed to SQLite.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlOutput {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    /// JSON text: carries SQLite's JSON subtype so `json_array(x)` nests it.
    Json(String),
    Blob {
        bytes: Vec<u8>,
        subtype: Option<u32>,
    },
    /// A Rust object passed through SQLite's pointer interface (an SQL NULL to others).
    Pointer(super::pointer::PointerValue),
}

/// SQLite's subtype for JSON text ('J').
pub const SUBTYPE_JSON: u32 = 74;

impl SqlOutput {
    pub fn blob(bytes: Vec<u8>) -> SqlOutput {
        SqlOutput::Blob {
            bytes,
            subtype: None,
        }
    }

    /// Sets this as the result of `ctx`.
    ///
    /// # Safety
    /// `ctx` must be the live context of the current function or column call.
    pub unsafe fn write_to(&self, ctx: *mut sqlite3_context) {
        // SAFETY: the context is live (caller); text and blob are copied by SQLite
        // (SQLITE_TRANSIENT) before these borrows end.
        unsafe {
            match self {
                SqlOutput::Null => call!(result_null(ctx)),
                SqlOutput::Integer(i) => call!(result_int64(ctx, *i)),
                SqlOutput::Real(f) => call!(result_double(ctx, *f)),
                SqlOutput::Text(s) | SqlOutput::Json(s) => {
                    call!(result_text(
                        ctx,
                        s.as_ptr().cast(),
                        s.len() as c_int,
                        ffi::SQLITE_TRANSIENT()
                    ));
                    if matches!(self, SqlOutput::Json(_)) {
                        call!(result_subtype(ctx, SUBTYPE_JSON));
                    }
                }
                SqlOutput::Blob { bytes, subtype } => {
                    call!(result_blob(
                        ctx,
                        bytes.as_ptr() as *const c_void,
                        bytes.len() as c_int,
                        ffi::SQLITE_TRANSIENT()
                    ));
                    if let Some(subtype) = subtype {
                        call!(result_subtype(ctx, *subtype));
                    }
                }
                SqlOutput::Pointer(p) => p.write_to(ctx),
            }
        }
    }
}

/// Reports `err` as the result of `ctx`.
///
/// # Safety
/// `ctx` must be the live context of the current function or column call.
pub unsafe fn write_error(ctx: *mut sqlite3_context, err: &SqlError) {
    // SAFETY: live context (caller); SQLite copies the message before returning.
    unsafe {
        call!(result_error(
            ctx,
            err.message.as_ptr().cast(),
            err.message.len() as c_int
        ));
        if err.code != ffi::SQLITE_ERROR {
            call!(result_error_code(ctx, err.code));
        }
    }
}
