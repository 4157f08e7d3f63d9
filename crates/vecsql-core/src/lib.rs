//! The pure core of vecsql: vector element types and their byte formats, distance kernels,
//! quantizers and (later) indexes. Nothing here knows about SQLite; the `vecsql` crate adapts
//! these pieces to SQL functions and virtual tables.
#![deny(unsafe_code)]

pub mod distance;
pub mod error;
pub mod format;
pub mod hnsw;
pub mod quantize;
pub mod topk;
pub mod vector;

pub use error::VectorError;
pub use vector::{BitVector, ElementType, Float8Vector, Vector, MAX_DIMENSIONS};
