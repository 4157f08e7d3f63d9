//! libSQL's vector index on stock SQLite: `CREATE INDEX ... (libsql_vector_idx(col, ...))` and
//! the `vector_top_k(index, query, k)` table function, served by vec0's HNSW index through a
//! hidden vec0 table per index (see [`index`] for how it is kept equal to the table without
//! any hook from SQLite). libSQL's scalar vector functions are in [`crate::functions::libsql`].

pub mod functions;
pub mod index;
pub mod index_sql;
pub mod settings;
pub mod vector_top_k;

use rusqlite::ffi::sqlite3;

use crate::error::SqlResult;
use crate::ffi::function::{create_scalar, FunctionFlags};
use crate::ffi::vtab::create_module;

/// Registers `libsql_vector_idx`, `vecsql_libsql_index_vector` and `vector_top_k`.
///
/// # Safety
/// `db` must be an open connection used only from this thread during the call.
pub unsafe fn register(db: *mut sqlite3) -> SqlResult<()> {
    for n_args in 1..=functions::MAX_ARGS {
        // SAFETY: forwarded from the caller.
        unsafe {
            create_scalar(
                db,
                "libsql_vector_idx",
                n_args,
                FunctionFlags::PURE,
                functions::libsql_vector_idx,
            )?
        };
    }
    // SAFETY: forwarded from the caller.
    unsafe {
        create_scalar(
            db,
            "vecsql_libsql_index_vector",
            4,
            FunctionFlags::PURE,
            functions::vecsql_libsql_index_vector,
        )?;
        create_module::<vector_top_k::VectorTopK>(db, "vector_top_k", ())
    }
}
