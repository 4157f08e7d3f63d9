//! vecsql: vector similarity search inside SQLite.
//!
//! Two ways in:
//! - as a Rust library, [`register`] adds every function and module to a
//!   [`rusqlite::Connection`] (SQLite linked into the same binary);
//! - as a loadable extension (`libvecsql.so`), SQLite calls [`sqlite3_vecsql_init`] (or
//!   [`sqlite3_vec_init`], so the file can stand in for sqlite-vec's `vec0.so`, or
//!   [`sqlite3_vector_init`]/[`sqlite3_vss_init`] for sqlite-vss's `vector0.so`/`vss0.so`).
//!
//! Both paths end in [`register_all`] over the same [`ffi`] layer, which owns
//! every raw pointer; the vector logic itself is in the `vecsql-core` crate.

pub mod error;
pub mod ffi;
pub mod functions;
pub mod libsql;
pub mod settings;
pub mod sql_vector;
pub mod vec0;
pub mod vss;

use std::ffi::{c_char, c_int};

use rusqlite::ffi::sqlite3;

pub use error::{SqlError, SqlResult};
use ffi::ApiRoutines;

/// vecsql's own version, reported by `vecsql_version()`.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// The sqlite-vec release whose SQL API vecsql implements, reported by `vec_version()`.
pub const SQLITE_VEC_API_VERSION: &str = "v0.1.9";

/// Registers every vecsql function and virtual-table module on `conn`.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    register_with(conn, register_all)
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

/// sqlite-vss's `vector0` entry point, so the library copied or linked to `vector0.so` loads
/// where sqlite-vss's did. Registers everything, like [`sqlite3_vecsql_init`] (loading it and
/// then `vss0`, in sqlite-vss's order, is harmless).
///
/// # Safety
/// Called by SQLite's extension loader with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_vector_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { extension_init(db, err_out, api) }
}

/// sqlite-vss's `vss0` entry point (see [`sqlite3_vector_init`]); unlike sqlite-vss it does
/// not need `vector0` loaded first.
///
/// # Safety
/// Called by SQLite's extension loader with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_vss_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { extension_init(db, err_out, api) }
}

/// sqlite-vec's second entry point in the same library: `vec_npy_file()` and `vec_npy_each`.
/// Load it with `.load vec0 sqlite3_vec_numpy_init` (or the loader's entry-point argument).
///
/// # Safety
/// Called by SQLite's extension loader with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_vec_numpy_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { init_with(db, err_out, api, functions::register_numpy) }
}

/// sqlite-vec's third entry point: `vec_static_blob_from_raw()`, `vec_static_blobs` and
/// `vec_static_blob_entries`, for querying float32 arrays in the host program's memory.
///
/// # Safety
/// Called by SQLite's extension loader with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_vec_static_blobs_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { init_with(db, err_out, api, functions::register_static_blobs) }
}

/// Registers the numpy functions (sqlite-vec's `sqlite3_vec_numpy_init`) on `conn`.
pub fn register_numpy(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    register_with(conn, functions::register_numpy)
}

/// Registers the static-blob functions (sqlite-vec's `sqlite3_vec_static_blobs_init`) on
/// `conn`.
pub fn register_static_blobs(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    register_with(conn, functions::register_static_blobs)
}

/// Registers everything vecsql offers on `db`: the scalar functions, `vec0` and its index
/// status, libSQL's index, and sqlite-vss's table.
///
/// # Safety
/// `db` must be an open connection used only from this thread during the call.
unsafe fn register_all(db: *mut sqlite3) -> SqlResult<()> {
    let conn = ffi::connection::Connection::from_raw(db);
    // A second load into the same connection (sqlite-vss's `vector0` then `vss0`, both this
    // library) registers nothing: SQLite refuses to replace a function while a statement
    // runs, which `SELECT load_extension(...)` is.
    if !already_registered(&conn) {
        // SAFETY (all calls below): forwarded from the caller.
        unsafe {
            functions::register(db)?;
            ffi::vtab::create_module::<vec0::table::Vec0Table>(db, "vec0", ())?;
            for n_args in [1, 2] {
                ffi::function::create_connection_scalar(
                    db,
                    "vec_index_status",
                    n_args,
                    vec0::index::status::vec_index_status,
                )?;
            }
            libsql::register(db)?;
            vss::register(db)?;
        }
    }
    // Best effort: a busy or read-only database keeps dropped indexes' tables until a later
    // load (they are never read).
    let _ = libsql::index::drop_dead_tables(&conn);
    Ok(())
}

/// Whether vecsql's functions are registered on this connection already (by this library:
/// the probe is a function only vecsql has).
fn already_registered(conn: &ffi::connection::Connection) -> bool {
    conn.prepare("SELECT vecsql_libsql_index_vector(NULL, NULL, NULL, NULL)")
        .is_ok()
}

type Registration = unsafe fn(*mut sqlite3) -> SqlResult<()>;

fn register_with(conn: &rusqlite::Connection, registration: Registration) -> rusqlite::Result<()> {
    ffi::set_api(&ApiRoutines::LINKED);
    // SAFETY: the handle is open for as long as `conn` is borrowed, and registration happens
    // on this thread before the borrow ends.
    unsafe { registration(conn.handle()) }.map_err(|e| {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(e.code), Some(e.message))
    })
}

unsafe fn extension_init(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
) -> c_int {
    // SAFETY: forwarded from SQLite.
    unsafe { init_with(db, err_out, api, register_all) }
}

unsafe fn init_with(
    db: *mut sqlite3,
    err_out: *mut *mut c_char,
    api: *const ApiRoutines,
    registration: Registration,
) -> c_int {
    if api.is_null() {
        // Linked statically without an API table: nothing we can call, not even malloc.
        return rusqlite::ffi::SQLITE_ERROR;
    }
    // SAFETY: `api` is the host's table; `libversion_number` and `malloc` are among its first
    // slots, present in every SQLite that can load extensions, so they are safe to read
    // before the version check. Later slots are only read once the version is known.
    let version = unsafe { (*api).libversion_number.map(|f| f()).unwrap_or(0) };
    if version < ffi::MIN_SQLITE_VERSION {
        let message = format!(
            "vecsql needs SQLite 3.38.0 or newer; this host is {}.{}.{}",
            version / 1_000_000,
            version / 1000 % 1000,
            version % 1000
        );
        // SAFETY: as above; SQLite frees *err_out with sqlite3_free.
        unsafe { report_init_error(&*api, err_out, &message) };
        return rusqlite::ffi::SQLITE_ERROR;
    }
    ffi::set_api(api);
    // SAFETY: SQLite hands us an open connection on this thread.
    match ffi::guard("extension init", || unsafe { registration(db) }) {
        Ok(()) => rusqlite::ffi::SQLITE_OK,
        Err(err) => {
            // SAFETY: the API table is the host's, checked above.
            unsafe { report_init_error(&*api, err_out, &err.message) };
            err.code
        }
    }
}

/// Stores `message` in `*err_out` using the host's allocator, as SQLite requires.
unsafe fn report_init_error(api: &ApiRoutines, err_out: *mut *mut c_char, message: &str) {
    if !err_out.is_null() {
        // SAFETY: SQLite gives a writable out-pointer.
        unsafe { *err_out = ffi::sqlite_string_in(api, message) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    unsafe extern "C" fn sqlite_3_37() -> c_int {
        3_037_002
    }

    #[test]
    fn an_older_host_gets_a_clear_error_instead_of_an_abort() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let old_host = ApiRoutines {
            libversion_number: Some(sqlite_3_37),
            ..ApiRoutines::LINKED
        };
        let mut message: *mut c_char = std::ptr::null_mut();
        // SAFETY: a real open connection, a table whose slots are all real functions except
        // the version, and a writable message pointer.
        let rc = unsafe { extension_init(conn.handle(), &mut message, &old_host) };
        assert_eq!(rc, rusqlite::ffi::SQLITE_ERROR);
        // SAFETY: extension_init stored a NUL-terminated string from sqlite3_malloc.
        let text = unsafe { CStr::from_ptr(message) }
            .to_str()
            .unwrap()
            .to_owned();
        // SAFETY: freeing what sqlite3_malloc returned.
        unsafe { rusqlite::ffi::sqlite3_free(message.cast()) };
        assert_eq!(
            text,
            "vecsql needs SQLite 3.38.0 or newer; this host is 3.37.2"
        );
    }

    #[test]
    fn sqlite_vss_entry_points_load_in_its_order() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut message: *mut c_char = std::ptr::null_mut();
        for init in [sqlite3_vector_init, sqlite3_vss_init] {
            // SAFETY: a real open connection, the linked SQLite's API table and a writable
            // message pointer.
            let rc = unsafe { init(conn.handle(), &mut message, &ApiRoutines::LINKED) };
            assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
        }
        conn.execute_batch(
            "create virtual table t using vss0(a(2));
             insert into t(rowid, a) values (1, '[1,2]'), (2, '[3,3]');",
        )
        .unwrap();
        let (id, version): (i64, String) = conn
            .query_row(
                "select rowid, vss_version() from t
                 where vss_search(a, vss_search_params('[3,3]', 1))",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((id, version.as_str()), (2, "v0.1.2"));
    }

    #[test]
    fn a_null_api_table_is_refused() {
        // SAFETY: a null table is rejected before anything is dereferenced.
        let rc =
            unsafe { extension_init(std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null()) };
        assert_eq!(rc, rusqlite::ffi::SQLITE_ERROR);
    }
}
