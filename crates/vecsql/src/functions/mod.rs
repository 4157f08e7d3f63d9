//! The SQL surface: every scalar function and table-valued function vecsql registers, grouped
//! by origin (sqlite-vec's `vec_*`, libSQL's `vector*`). Function bodies are plain Rust over
//! [`crate::ffi::SqlArg`]; registration is the only place that touches the connection.

pub mod libsql;
pub mod numpy;
pub mod settings;
pub mod sqlite_vec;
pub mod static_blobs;
pub mod vec_each;

use rusqlite::ffi::sqlite3;

use crate::error::SqlResult;
use crate::ffi::function::{create_scalar, FunctionFlags, ScalarImpl};
use crate::ffi::vtab::create_module;

/// Flags for functions that read vector subtypes and return typed vectors.
const VECTOR_FN: FunctionFlags = FunctionFlags {
    deterministic: true,
    reads_subtype: true,
    sets_subtype: true,
    direct_only: false,
};

/// name, argument count, flags, body.
const SCALARS: &[(&str, i32, FunctionFlags, ScalarImpl)] = &[
    (
        "vec_version",
        0,
        FunctionFlags::PURE,
        sqlite_vec::vec_version,
    ),
    ("vec_debug", 0, FunctionFlags::PURE, sqlite_vec::vec_debug),
    (
        "vecsql_version",
        0,
        FunctionFlags::PURE,
        sqlite_vec::vecsql_version,
    ),
    (
        "vecsql_cache_budget",
        0,
        FunctionFlags::SETTING,
        settings::vecsql_cache_budget,
    ),
    (
        "vecsql_cache_budget",
        1,
        FunctionFlags::SETTING,
        settings::vecsql_cache_budget,
    ),
    ("vec_f32", 1, VECTOR_FN, sqlite_vec::vec_f32),
    ("vec_int8", 1, VECTOR_FN, sqlite_vec::vec_int8),
    ("vec_bit", 1, VECTOR_FN, sqlite_vec::vec_bit),
    ("vec_length", 1, VECTOR_FN, sqlite_vec::vec_length),
    ("vec_type", 1, VECTOR_FN, sqlite_vec::vec_type),
    ("vec_to_json", 1, VECTOR_FN, sqlite_vec::vec_to_json),
    ("vec_add", 2, VECTOR_FN, sqlite_vec::vec_add),
    ("vec_sub", 2, VECTOR_FN, sqlite_vec::vec_sub),
    ("vec_normalize", 1, VECTOR_FN, sqlite_vec::vec_normalize),
    ("vec_slice", 3, VECTOR_FN, sqlite_vec::vec_slice),
    (
        "vec_quantize_binary",
        1,
        VECTOR_FN,
        sqlite_vec::vec_quantize_binary,
    ),
    (
        "vec_quantize_int8",
        2,
        VECTOR_FN,
        sqlite_vec::vec_quantize_int8,
    ),
    (
        "vec_quantize_int8",
        3,
        VECTOR_FN,
        sqlite_vec::vec_quantize_int8,
    ),
    ("vec_distance_l2", 2, VECTOR_FN, sqlite_vec::vec_distance_l2),
    ("vec_distance_l1", 2, VECTOR_FN, sqlite_vec::vec_distance_l1),
    (
        "vec_distance_cosine",
        2,
        VECTOR_FN,
        sqlite_vec::vec_distance_cosine,
    ),
    (
        "vec_distance_dot",
        2,
        VECTOR_FN,
        sqlite_vec::vec_distance_dot,
    ),
    (
        "vec_distance_hamming",
        2,
        VECTOR_FN,
        sqlite_vec::vec_distance_hamming,
    ),
    ("vector", 1, FunctionFlags::PURE, libsql::vector),
    ("vector32", 1, FunctionFlags::PURE, libsql::vector32),
    ("vector64", 1, FunctionFlags::PURE, libsql::vector64),
    ("vector16", 1, FunctionFlags::PURE, libsql::vector16),
    ("vectorb16", 1, FunctionFlags::PURE, libsql::vectorb16),
    ("vector8", 1, FunctionFlags::PURE, libsql::vector8),
    ("vector1bit", 1, FunctionFlags::PURE, libsql::vector1bit),
    (
        "vector_extract",
        1,
        FunctionFlags::PURE,
        libsql::vector_extract,
    ),
    (
        "vector_distance_cos",
        2,
        FunctionFlags::PURE,
        libsql::vector_distance_cos,
    ),
    (
        "vector_distance_l2",
        2,
        FunctionFlags::PURE,
        libsql::vector_distance_l2,
    ),
];

/// Registers the scalar functions and `vec_each` on `db`.
///
/// # Safety
/// `db` must be an open connection used only from this thread during the call.
pub unsafe fn register(db: *mut sqlite3) -> SqlResult<()> {
    for &(name, n_args, flags, body) in SCALARS {
        // SAFETY: forwarded from the caller.
        unsafe { create_scalar(db, name, n_args, flags, body)? };
    }
    // SAFETY: forwarded from the caller.
    unsafe { create_module::<vec_each::VecEach>(db, "vec_each", ()) }
}

/// What sqlite-vec's `sqlite3_vec_numpy_init` registers: `vec_npy_file()` and `vec_npy_each`.
///
/// # Safety
/// As for [`register`].
pub unsafe fn register_numpy(db: *mut sqlite3) -> SqlResult<()> {
    // Not deterministic: the file behind a path can change between calls.
    let flags = FunctionFlags {
        deterministic: false,
        reads_subtype: false,
        sets_subtype: true,
        direct_only: false,
    };
    // SAFETY: forwarded from the caller.
    unsafe { create_scalar(db, "vec_npy_file", 1, flags, numpy::vec_npy_file)? };
    // SAFETY: forwarded from the caller.
    unsafe { create_module::<numpy::VecNpyEach>(db, "vec_npy_each", ()) }
}

/// What sqlite-vec's `sqlite3_vec_static_blobs_init` registers: `vec_static_blob_from_raw()`,
/// `vec_static_blobs` and `vec_static_blob_entries`, sharing one registry per call.
///
/// # Safety
/// As for [`register`].
pub unsafe fn register_static_blobs(db: *mut sqlite3) -> SqlResult<()> {
    let registry = static_blobs::SharedRegistry::default();
    // SAFETY: forwarded from the caller.
    unsafe {
        create_scalar(
            db,
            "vec_static_blob_from_raw",
            4,
            VECTOR_FN,
            static_blobs::vec_static_blob_from_raw,
        )?;
        create_module::<static_blobs::VecStaticBlobs>(db, "vec_static_blobs", registry.clone())?;
        create_module::<static_blobs::VecStaticBlobEntries>(db, "vec_static_blob_entries", registry)
    }
}
