//! Errors raised while parsing, decoding or combining vectors. Messages name what was expected
//! and what was found, because they reach SQL users verbatim; the texts of the libSQL and
//! sqlite-vec variants are those extensions' own (the compatibility tests compare them), and
//! the fields carry the same facts for callers that match on them.

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
    /// A sqlite-vec float32 blob whose length is not a multiple of 4.
    #[error("invalid float32 vector BLOB length. Must be divisible by 4, found {found}")]
    Float32BlobLength { found: usize },
    /// Packed bits whose byte count does not match `dims`.
    #[error("bit vector of {dims} dimensions needs {} bytes, found {found}", dims.div_ceil(8))]
    BitBlobLength { dims: usize, found: usize },
    /// A value that is not an integer in -128..=127 converted to int8.
    #[error("element {index} is {value}, not an integer between -128 and 127")]
    Int8OutOfRange { index: usize, value: f64 },
    /// Sign quantization of `dims` elements, not a multiple of 8 (sqlite-vec's message).
    #[error("Binary quantization requires vectors with a length divisible by 8")]
    BinaryQuantizeLength { dims: usize },
    #[error("int8 quantization range must have min < max, got [{min}, {max}]")]
    Int8QuantizeRange { min: f32, max: f32 },
    /// A libSQL blob whose length does not fit its type: `rule` says what the length of the
    /// part it applies to (`type_name`'s body) must be, `length` is that part's length.
    #[error("vector: {type_name} vector blob length must be {rule}: length={length}")]
    LibsqlBlobLength {
        type_name: &'static str,
        rule: &'static str,
        length: usize,
    },
    /// A libSQL FLOAT1BIT blob whose trailing count says more bits are unused than it holds.
    #[error("vector: float1bit vector blob says {unused} of its {capacity} bits are unused")]
    LibsqlBitsUnused { unused: usize, capacity: usize },
    /// A libSQL FLOAT8 blob too short for its padding, alpha and shift.
    #[error(
        "vector: float8 vector blob of {length} bytes is too short for {padding} padding bytes, alpha and shift"
    )]
    LibsqlFloat8TooShort { length: usize, padding: usize },
    /// A libSQL FLOAT8 blob whose data bytes do not match its dimensions and padding.
    #[error(
        "vector: float8 vector blob of {dims} dimensions needs {expected} data bytes, found {found} (padding byte says {padding})"
    )]
    LibsqlFloat8Length {
        dims: usize,
        expected: usize,
        found: usize,
        padding: usize,
    },
    /// A libSQL blob of more than `max` dimensions.
    #[error("vector: max size exceeded: {found} > {max}")]
    LibsqlBlobTooLarge { found: usize, max: usize },
    /// A libSQL blob whose trailing type byte names no type.
    #[error("vector: unexpected binary type: {code}")]
    LibsqlUnknownType { code: u8 },
    /// libSQL's vector text grammar (`[1, 2.5e3]`), broken as `reason` says.
    #[error(transparent)]
    LibsqlText(#[from] LibsqlTextError),
    /// `vector_distance_*` of two libSQL types (their type codes).
    #[error("vector_distance: vectors must have the same type: {a} != {b}")]
    LibsqlTypeMismatch { a: u8, b: u8 },
    /// `vector_distance_*` of two lengths.
    #[error("vector_distance: vectors must have the same length: {a} != {b}")]
    LibsqlLengthMismatch { a: usize, b: usize },
    #[error("vector_distance: l2 distance is not supported for float1bit vectors")]
    LibsqlBitL2,
    /// An int8 vector where a libSQL type is needed.
    #[error("libSQL has no int8 vector type; convert to float8 (vector8) or float32 first")]
    LibsqlNoInt8,
}

/// libSQL's vector text (`vector('[1, 2]')`) that does not parse, with libSQL's messages.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LibsqlTextError {
    #[error("vector: must start with '['")]
    MissingOpen,
    #[error("vector: must end with ']'")]
    MissingClose,
    #[error("vector: non-space symbols after closing ']' are forbidden")]
    TrailingSymbols,
    /// A number of more than `max` characters (`token` is where it was cut).
    #[error("vector: float string length exceeded {max} characters: '{token}'")]
    NumberTooLong { token: String, max: usize },
    /// Element `position` (from 0) is not a number.
    #[error("vector: invalid float at position {position}: '{token}'")]
    InvalidNumber { position: usize, token: String },
    #[error("vector: max size exceeded {max}")]
    TooManyDimensions { max: usize },
}
