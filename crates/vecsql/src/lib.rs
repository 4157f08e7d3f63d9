//! vecsql: vector similarity search inside SQLite.
//!
//! Two ways in:
//! - as a Rust library, [`register`] adds every function and module to a
//!   [`rusqlite::Connection`] (SQLite linked into the same binary);
//! - as a loadable extension (`libvecsql.so`), SQLite calls [`sqlite3_vecsql_init`] (or
//!   [`sqlite3_vec_init`], so the file can stand in for sqlite-vec's `vec0.so`).
//!
//! Both paths end in [`functions::register_all`] over the same [`ffi`] layer, which owns
//! every raw pointer; the vector logic itself is in the `vecsql-core` crate.

pub mod error;
pub mod ffi;
pub mod functions;

use std::ffi::{c_char, c_int};

use rusqlite::ffi::sqlite3;

pub use error::{SqlError, SqlResult};
use ffi::ApiRoutines;

/// The version reported by `vec_version()`.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// Registers every vecsql function and virtual-table module on `conn`.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    ffi::set_api(&ApiRoutines::LINKED);
    // SAFETY: the handle is open for as long as `conn` is borrowed, and registration happens
    // on this thread before the borrow ends.
    let db = unsafe { conn.handle() };
    // SAFETY: as above.
    unsafe { functions::register_all(db) }.map_err(|e| {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(e.code), Some(e.message))
    })
}

/// Entry point SQLite derives from the file name `libvecsql.so`.
///
/// # Safety
/// Called by SQLite's extension loader with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_vecsql_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { extension_init(db, err_out, api) }
}

/// sqlite-vec's entry point name, so `vecsql` copied to `vec0.so` loads where sqlite-vec did.
///
/// # Safety
/// Called by SQLite's extension loader with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_vec_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { extension_init(db, err_out, api) }
}

unsafe fn extension_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    if api.is_null() {
        // Linked statically without an API table: nothing we can call, not even malloc.
        return rusqlite::ffi::SQLITE_ERROR;
    }
    // SAFETY: `api` is the host's table; `libversion_number` is one of its first slots, present
    // in every SQLite that can load extensions, so it is safe to read before the version check.
    let version = unsafe { (*api).libversion_number.map(|f| f()).unwrap_or(0) };
    ffi::set_api(api);
    let result = ffi::guard("extension init", || {
        if version < ffi::MIN_SQLITE_VERSION {
            return Err(SqlError::new(format!(
                "vecsql needs SQLite 3.38.0 or newer; this host is {}.{}.{}",
                version / 1_000_000,
                version / 1000 % 1000,
                version % 1000
            )));
        }
        // SAFETY: SQLite hands us an open connection on this thread.
        unsafe { functions::register_all(db) }
    });
    match result {
        Ok(()) => rusqlite::ffi::SQLITE_OK,
        Err(err) => {
            if !err_out.is_null() {
                // SAFETY: SQLite frees *err_out with sqlite3_free.
                unsafe { *err_out = ffi::sqlite_string(&err.message) };
            }
            err.code
        }
    }
}
