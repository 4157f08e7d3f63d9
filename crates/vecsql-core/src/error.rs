//! Errors raised while parsing, decoding or combining vectors. Messages name what was expected
//! and what was found, because they reach SQL users verbatim.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum VectorError {
    /// Malformed JSON text; `offset` is the byte offset of the first offending byte.
    #[error("invalid JSON array at byte {offset}: {reason}")]
    Json { offset: usize, reason: String },
    #[error("zero-length vectors are not supported.")]
    Empty,
    #[error("vector has {found} dimensions, more than the maximum of {max}")]
    TooManyDimensions { found: usize, max: usize },
    #[error("{0}")]
    BlobLength(String),
    #[error("{0}")]
    InvalidElement(String),
    #[error("dimension mismatch: {0} vs {1}")]
    DimensionMismatch(usize, usize),
    #[error("vector type mismatch: {0} vs {1}")]
    TypeMismatch(&'static str, &'static str),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Format(String),
}
