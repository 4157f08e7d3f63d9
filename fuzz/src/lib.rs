//! The checks behind vecsql's fuzz targets, as plain functions over bytes.
//!
//! Each `fuzz_targets/<name>.rs` is one line calling [`checks::<name>`](checks). The same
//! module is compiled into `crates/vecsql/tests/fuzz_regressions.rs`, which replays the seed
//! and regression inputs on stable Rust in the normal test run, so a crash found here stays
//! fixed. Checks panic on any broken property; libFuzzer reports a panic as a crash.

pub mod checks;
