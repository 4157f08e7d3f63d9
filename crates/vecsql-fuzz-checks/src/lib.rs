//! The checks behind vecsql's fuzz targets: one function per target, over bytes. Each panics on
//! any broken property, which libFuzzer reports as a crash.
//!
//! A crate of its own, free of libFuzzer, so that two builds share it: the targets in `fuzz/`
//! (each one line calling its check; built by `scripts/fuzz.sh`) and `vecsql`'s
//! `tests/fuzz_regressions.rs` (a dev-dependency), which replays the saved seeds and crashes on
//! stable Rust in every `cargo test`, so a crash found once stays fixed.
//!
//! Besides "no panic", every check asserts properties that must hold for any input:
//! - [`json`]: parse / format / parse is the identity, errors point inside the input, the
//!   integer parser accepts a subset of the float parser, and the SQL functions agree with the
//!   Rust parser;
//! - [`blob`]: every decoder (sqlite-vec float32/int8/bit, libSQL's six types) round-trips
//!   through its encoder, every conversion and distance is total, and the SQL functions taking
//!   blobs never fail with an internal error;
//! - [`definition`]: accepted `vec0(...)` definitions respect the documented limits, and a
//!   table created from fuzzed text survives an insert, a scan, a KNN query and a drop;
//! - [`sql_diff`]: a vec0 table and an ordinary SQLite table given the same random statements
//!   (inserts, updates, deletes, savepoints, rollbacks) always hold the same rows, and every
//!   KNN query with filters returns exactly the brute-force answer;
//! - [`shadow`]: a real database whose shadow tables the input damages answers a fixed set of
//!   reads and writes with rows or `SQLITE_CORRUPT_VTAB` naming the damaged table (never a
//!   panic, `SQLITE_INTERNAL` or a plain error), KNN results are the rows point lookups give,
//!   and undamaged tables keep working.

mod blob;
mod choices;
mod definition;
mod json;
mod shadow;
mod sql;
mod sql_diff;

pub use blob::blob;
pub use definition::definition;
pub use json::json;
pub use shadow::shadow;
pub use sql_diff::{sql_diff, sql_diff_exact_ann};

/// libSQL's vector types, each checked by `json` and `blob`.
const LIBSQL_TYPES: [vecsql_core::ElementType; 6] = [
    vecsql_core::ElementType::Float32,
    vecsql_core::ElementType::Float64,
    vecsql_core::ElementType::Float16,
    vecsql_core::ElementType::BFloat16,
    vecsql_core::ElementType::Float8,
    vecsql_core::ElementType::Bit,
];

/// libSQL's SQL functions making a vector of each type.
const LIBSQL_CONSTRUCTORS: [&str; 6] = [
    "vector32",
    "vector64",
    "vector16",
    "vectorb16",
    "vector8",
    "vector1bit",
];

/// Bit patterns, so that NaN payloads and -0.0 compare exactly.
fn bits64(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}
