//! Why an `indexed by ...` clause or an index knob command was refused. The `Display` texts are
//! what users see (after sqlite-vec's `could not parse vector column '...'` prefix for clauses).

use std::fmt;

use super::{Quantizer, MAX_EF};

/// A refused `indexed by <kind>(...)` clause; `kind` is the index kind as written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexClauseError {
    /// A kind vecsql neither has nor maps onto HNSW.
    UnknownKind {
        kind: String,
    },
    UnknownParameter {
        kind: String,
        key: String,
        allowed: &'static str,
    },
    /// An integer parameter outside `min..=max` (or not an integer): `got` as written.
    OutOfRange {
        kind: String,
        key: String,
        min: usize,
        max: usize,
        got: String,
    },
    /// A quantizer other than none, int8 or binary: `got` as written.
    UnknownQuantizer {
        kind: String,
        key: String,
        got: String,
    },
    /// diskann's `search_list_size` together with one of its split forms.
    SearchListSizeCombined {
        kind: String,
    },
    NprobeAboveNlist {
        kind: String,
        nprobe: usize,
        nlist: usize,
    },
    OversampleWithoutQuantizer {
        kind: String,
    },
    QuantizerOnBitColumn {
        kind: String,
    },
    /// int8 and binary codes approximate l2, cosine and dot, not l1.
    QuantizerWithL1 {
        kind: String,
        quantizer: Quantizer,
    },
    /// ivf and rescore pack binary codes by whole bytes.
    BinaryNeedsWholeBytes {
        kind: String,
        dimensions: usize,
    },
}

impl fmt::Display for IndexClauseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexClauseError::UnknownKind { kind } => write!(
                f,
                "unknown index type '{kind}' in 'indexed by {kind}(...)': vecsql has hnsw (and \
                 accepts sqlite-vec's diskann, rescore and ivf spellings)"
            ),
            IndexClauseError::UnknownParameter { kind, key, allowed } => write!(
                f,
                "indexed by {kind}(): unknown parameter '{key}' (allowed: {allowed})"
            ),
            IndexClauseError::OutOfRange {
                kind,
                key,
                min,
                max,
                got,
            } => write!(
                f,
                "indexed by {kind}(): {key} must be an integer from {min} to {max}, got '{got}'"
            ),
            IndexClauseError::UnknownQuantizer { kind, key, got } => write!(
                f,
                "indexed by {kind}(): {key} must be none, int8 or binary, got '{got}'"
            ),
            IndexClauseError::SearchListSizeCombined { kind } => write!(
                f,
                "indexed by {kind}(): search_list_size cannot be combined with \
                 search_list_size_search or search_list_size_insert"
            ),
            IndexClauseError::NprobeAboveNlist {
                kind,
                nprobe,
                nlist,
            } => write!(
                f,
                "indexed by {kind}(): nprobe ({nprobe}) cannot exceed nlist ({nlist})"
            ),
            IndexClauseError::OversampleWithoutQuantizer { kind } => write!(
                f,
                "indexed by {kind}(): oversample > 1 needs quantizer=int8 or binary"
            ),
            IndexClauseError::QuantizerOnBitColumn { kind } => write!(
                f,
                "indexed by {kind}(): a bit column is already binary; drop the quantizer"
            ),
            IndexClauseError::QuantizerWithL1 { kind, quantizer } => write!(
                f,
                "indexed by {kind}(): the {} quantizer does not approximate l1 distances; use \
                 quantizer=none",
                quantizer.name()
            ),
            IndexClauseError::BinaryNeedsWholeBytes { kind, dimensions } => write!(
                f,
                "indexed by {kind}(): a binary quantizer needs dimensions divisible by 8, found \
                 {dimensions}"
            ),
        }
    }
}

impl std::error::Error for IndexClauseError {}

/// A knob command (`insert into t(t) values ('oversample=0')`) with a bad value; `name` is the
/// knob, lower-cased. The texts start with sqlite-vec 0.1.10's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KnobError {
    /// Not an integer, or below 1: `got` as written.
    NotPositive { name: String, got: String },
    /// Not an integer, or below 0 (for knobs where 0 means "always"): `got` as written.
    NotNonNegative { name: String, got: String },
    /// Above vecsql's bound, which sqlite-vec does not have.
    AboveMax { name: String, got: i64 },
}

impl fmt::Display for KnobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnobError::NotPositive { name, got } => write!(f, "{name} must be >= 1 (got '{got}')"),
            KnobError::NotNonNegative { name, got } => {
                write!(f, "{name} must be an integer >= 0 (got '{got}')")
            }
            KnobError::AboveMax { name, got } => write!(
                f,
                "{name} must be >= 1 and, in vecsql, at most {MAX_EF} (got {got})"
            ),
        }
    }
}

impl std::error::Error for KnobError {}
