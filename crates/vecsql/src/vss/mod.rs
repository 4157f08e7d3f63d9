//! sqlite-vss compatibility: its `vector0` functions, its `vss_*` functions and its `vss0`
//! virtual table, answered by vecsql (no Faiss). A `vss0` column is a hidden `vec0` table
//! (exact, or with vec0's HNSW index for approximate factory strings); see `table.rs`.
//! Tables written by sqlite-vss are converted from their Faiss streams on first use.

pub mod factory;
pub mod faiss;
pub mod functions;
pub mod fvecs_each;
pub mod table;
pub mod vectors;

use rusqlite::ffi::sqlite3;

use crate::error::SqlResult;
use crate::ffi::function::{create_pointer_scalar, FunctionFlags, PointerScalarImpl};
use crate::ffi::vtab::create_module;

/// Functions whose results depend only on their arguments.
const PURE: FunctionFlags = FunctionFlags::PURE;
/// Functions that return pointer values or read process state: never constant-folded.
const VOLATILE: FunctionFlags = FunctionFlags {
    deterministic: false,
    reads_subtype: false,
    sets_subtype: false,
    direct_only: false,
};
const JSON_OUT: FunctionFlags = FunctionFlags {
    deterministic: true,
    reads_subtype: false,
    sets_subtype: true,
    direct_only: false,
};

/// sqlite-vss's `vector0` extension (`sqlite3_vector_init`).
const VECTOR_FUNCTIONS: &[(&str, i32, FunctionFlags, PointerScalarImpl)] = &[
    ("vector0", 1, VOLATILE, functions::vector0),
    ("vector_version", 0, PURE, functions::vector_version),
    ("vector_debug", 1, VOLATILE, functions::vector_debug),
    ("vector_length", 1, VOLATILE, functions::vector_length),
    ("vector_value_at", 2, VOLATILE, functions::vector_value_at),
    ("vector_from_json", 1, VOLATILE, functions::vector_from_json),
    ("vector_to_json", 1, JSON_OUT, functions::vector_to_json),
    ("vector_from_blob", 1, VOLATILE, functions::vector_from_blob),
    ("vector_to_blob", 1, VOLATILE, functions::vector_to_blob),
    ("vector_from_raw", 1, VOLATILE, functions::vector_from_raw),
    ("vector_to_raw", 1, VOLATILE, functions::vector_to_raw),
];

/// sqlite-vss's `vss0` extension (`sqlite3_vss_init`).
const VSS_FUNCTIONS: &[(&str, i32, FunctionFlags, PointerScalarImpl)] = &[
    ("vss_version", 0, PURE, functions::vss_version),
    ("vss_debug", 0, PURE, functions::vss_debug),
    ("vss_distance_l1", 2, VOLATILE, functions::vss_distance_l1),
    ("vss_distance_l2", 2, VOLATILE, functions::vss_distance_l2),
    (
        "vss_distance_linf",
        2,
        VOLATILE,
        functions::vss_distance_linf,
    ),
    (
        "vss_inner_product",
        2,
        VOLATILE,
        functions::vss_inner_product,
    ),
    (
        "vss_cosine_similarity",
        2,
        VOLATILE,
        functions::vss_cosine_similarity,
    ),
    ("vss_fvec_add", 2, VOLATILE, functions::vss_fvec_add),
    ("vss_fvec_sub", 2, VOLATILE, functions::vss_fvec_sub),
    ("vss_memory_usage", 0, VOLATILE, functions::vss_memory_usage),
    (
        "vss_search_params",
        2,
        VOLATILE,
        functions::vss_search_params,
    ),
    (
        "vss_range_search_params",
        2,
        VOLATILE,
        functions::vss_range_search_params,
    ),
    ("vss_search", 2, VOLATILE, functions::vss_search_placeholder),
    (
        "vss_range_search",
        2,
        VOLATILE,
        functions::vss_search_placeholder,
    ),
];

/// Registers sqlite-vss's whole SQL surface on `db`.
///
/// # Safety
/// `db` must be an open connection used only from this thread during the call.
pub unsafe fn register(db: *mut sqlite3) -> SqlResult<()> {
    for &(name, n_args, flags, body) in VECTOR_FUNCTIONS.iter().chain(VSS_FUNCTIONS) {
        // SAFETY: forwarded from the caller.
        unsafe { create_pointer_scalar(db, name, n_args, flags, body)? };
    }
    // SAFETY: forwarded from the caller.
    unsafe {
        create_module::<fvecs_each::FvecsEach>(db, "vector_fvecs_each", ())?;
        create_module::<table::VssTable>(db, "vss0", ())
    }
}
