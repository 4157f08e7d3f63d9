//! The blob layout: type bytes, encoding and decoding with length checks.

use half::{bf16, f16};

use crate::vector::{BitVector, ElementType, Float8Vector, Vector, MAX_DIMENSIONS};
use crate::VectorError;

/// Type bytes libSQL appends to non-FLOAT32 blobs.
pub const TYPE_FLOAT32: u8 = 1;
pub const TYPE_FLOAT64: u8 = 2;
pub const TYPE_FLOAT1BIT: u8 = 3;
pub const TYPE_FLOAT8: u8 = 4;
pub const TYPE_FLOAT16: u8 = 5;
pub const TYPE_FLOATB16: u8 = 6;

/// The numeric code libSQL uses for `ty` in blobs and in its error messages.
pub fn type_code(ty: ElementType) -> Option<u8> {
    match ty {
        ElementType::Float32 => Some(TYPE_FLOAT32),
        ElementType::Float64 => Some(TYPE_FLOAT64),
        ElementType::Bit => Some(TYPE_FLOAT1BIT),
        ElementType::Float8 => Some(TYPE_FLOAT8),
        ElementType::Float16 => Some(TYPE_FLOAT16),
        ElementType::BFloat16 => Some(TYPE_FLOATB16),
        ElementType::Int8 => None,
    }
}

pub fn type_from_code(code: u8) -> Option<ElementType> {
    match code {
        TYPE_FLOAT32 => Some(ElementType::Float32),
        TYPE_FLOAT64 => Some(ElementType::Float64),
        TYPE_FLOAT1BIT => Some(ElementType::Bit),
        TYPE_FLOAT8 => Some(ElementType::Float8),
        TYPE_FLOAT16 => Some(ElementType::Float16),
        TYPE_FLOATB16 => Some(ElementType::BFloat16),
        _ => None,
    }
}

pub(super) fn int8_unsupported() -> VectorError {
    VectorError::LibsqlNoInt8
}

/// A body (or, for `rule`s that say so, a whole blob) of `length` bytes that `type_name`
/// refuses.
fn length_error(type_name: &'static str, rule: &'static str, length: usize) -> VectorError {
    VectorError::LibsqlBlobLength {
        type_name,
        rule,
        length,
    }
}

/// FLOAT8 codes are followed by padding up to a multiple of four so that alpha and shift are
/// 4-byte aligned inside the blob.
pub(super) fn float8_padding(dims: usize) -> usize {
    (4 - dims % 4) % 4
}

/// libSQL's blob for `v`. Int8 has no libSQL encoding.
pub fn encode(v: &Vector) -> Result<Vec<u8>, VectorError> {
    let mut out;
    match v {
        Vector::Float32(values) => {
            out = Vec::with_capacity(values.len() * 4);
            for x in values {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Vector::Float64(values) => {
            out = Vec::with_capacity(values.len() * 8 + 1);
            for x in values {
                out.extend_from_slice(&x.to_le_bytes());
            }
            out.push(TYPE_FLOAT64);
        }
        Vector::Float16(values) => {
            out = Vec::with_capacity(values.len() * 2 + 1);
            for x in values {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            out.push(TYPE_FLOAT16);
        }
        Vector::BFloat16(values) => {
            out = Vec::with_capacity(values.len() * 2 + 1);
            for x in values {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            out.push(TYPE_FLOATB16);
        }
        Vector::Float8(f8) => {
            let dims = f8.codes.len();
            let pad = float8_padding(dims);
            out = Vec::with_capacity(dims + pad + 11);
            out.extend_from_slice(&f8.codes);
            out.resize(dims + pad, 0);
            out.extend_from_slice(&f8.alpha.to_le_bytes());
            out.extend_from_slice(&f8.shift.to_le_bytes());
            out.extend_from_slice(&[0, pad as u8, TYPE_FLOAT8]);
        }
        Vector::Bit(bits) => {
            let data = bits.bytes();
            // The body (everything before the type byte) must have even length so that the whole
            // blob is odd and cannot be mistaken for FLOAT32.
            let body_len = (data.len() + 1).next_multiple_of(2);
            out = Vec::with_capacity(body_len + 1);
            out.extend_from_slice(data);
            out.resize(body_len - 1, 0);
            out.push((8 * body_len - bits.dims()) as u8);
            out.push(TYPE_FLOAT1BIT);
        }
        Vector::Int8(_) => return Err(int8_unsupported()),
    }
    Ok(out)
}

pub(super) fn check_blob_dims(dims: usize) -> Result<(), VectorError> {
    if dims > MAX_DIMENSIONS {
        Err(VectorError::LibsqlBlobTooLarge {
            found: dims,
            max: MAX_DIMENSIONS,
        })
    } else {
        Ok(())
    }
}

pub(super) fn f32_at(bytes: &[u8], offset: usize) -> f32 {
    f32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

/// Reads a libSQL blob, telling the type apart the way libSQL does (odd length: trailing type
/// byte; even length: FLOAT32). Zero-dimension vectors are returned as such, since libSQL
/// produces them (`vector('[]')`); callers that refuse them do so themselves.
pub fn decode(blob: &[u8]) -> Result<Vector, VectorError> {
    if blob.len() & 1 == 0 {
        if blob.len() & 3 != 0 {
            return Err(length_error("float32", "divisible by 4", blob.len()));
        }
        return decode_float32(blob);
    }
    let (&code, body) = blob.split_last().expect("odd length is never zero");
    match code {
        TYPE_FLOAT32 => {
            if body.len() & 3 != 0 {
                return Err(length_error(
                    "float32",
                    "divisible by 4 (excluding optional 'type'-byte)",
                    body.len(),
                ));
            }
            decode_float32(body)
        }
        TYPE_FLOAT64 => {
            if body.len() & 7 != 0 {
                return Err(length_error(
                    "float64",
                    "divisible by 8 (excluding 'type'-byte)",
                    body.len(),
                ));
            }
            check_blob_dims(body.len() / 8)?;
            Ok(Vector::Float64(
                body.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ))
        }
        TYPE_FLOAT16 | TYPE_FLOATB16 => {
            if body.len() & 1 != 0 {
                let name = if code == TYPE_FLOAT16 {
                    "float16"
                } else {
                    "floatb16"
                };
                return Err(length_error(
                    name,
                    "divisible by 2 (excluding 'type'-byte)",
                    body.len(),
                ));
            }
            check_blob_dims(body.len() / 2)?;
            let bits = body
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            Ok(if code == TYPE_FLOAT16 {
                Vector::Float16(bits.map(f16::from_bits).collect())
            } else {
                Vector::BFloat16(bits.map(bf16::from_bits).collect())
            })
        }
        TYPE_FLOAT1BIT => decode_bits(body),
        TYPE_FLOAT8 => decode_float8(body),
        code => Err(VectorError::LibsqlUnknownType { code }),
    }
}

fn decode_float32(data: &[u8]) -> Result<Vector, VectorError> {
    check_blob_dims(data.len() / 4)?;
    Ok(Vector::Float32(
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect(),
    ))
}

fn decode_bits(body: &[u8]) -> Result<Vector, VectorError> {
    if body.is_empty() || body.len() & 1 != 0 {
        return Err(length_error(
            "float1bit",
            "divisible by 2 and not be empty (excluding 'type'-byte)",
            body.len(),
        ));
    }
    let unused = body[body.len() - 1] as usize;
    let capacity = 8 * body.len();
    if unused > capacity {
        return Err(VectorError::LibsqlBitsUnused { unused, capacity });
    }
    let dims = capacity - unused;
    check_blob_dims(dims)?;
    // libSQL reads the bits from the start of the body wherever the count says they end, so a
    // hand-made blob whose count is below 8 has its count byte read as data; do the same.
    BitVector::new(body[..dims.div_ceil(8)].to_vec(), dims).map(Vector::Bit)
}

fn decode_float8(body: &[u8]) -> Result<Vector, VectorError> {
    if body.len() < 2 || body.len() & 1 != 0 {
        return Err(length_error(
            "float8",
            "divisible by 2 and has at least 2 bytes (excluding 'type'-byte)",
            body.len(),
        ));
    }
    let pad = body[body.len() - 1] as usize;
    let data_len = body.len() - 2;
    let Some(dims) = data_len.checked_sub(8 + pad) else {
        return Err(VectorError::LibsqlFloat8TooShort {
            length: body.len() + 1,
            padding: pad,
        });
    };
    check_blob_dims(dims)?;
    let codes_len = dims + float8_padding(dims);
    if codes_len + 8 != data_len {
        return Err(VectorError::LibsqlFloat8Length {
            dims,
            expected: codes_len + 8,
            found: data_len,
            padding: pad,
        });
    }
    Ok(Vector::Float8(Float8Vector {
        codes: body[..dims].to_vec(),
        alpha: f32_at(body, codes_len),
        shift: f32_at(body, codes_len + 4),
    }))
}
