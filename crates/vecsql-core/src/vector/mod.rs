//! Vectors as values: the element types vecsql understands (sqlite-vec's float32/int8/bit and
//! libSQL's FLOAT64/32/16/B16/8/1BIT), an owned [`Vector`] holding one of them, and conversions
//! between element types. Byte layouts live in [`crate::format`]; text in [`json`].

pub mod json;

use half::{bf16, f16};

use crate::VectorError;

/// The most dimensions a vector may have in any SQL function. It matches libSQL's limit so that
/// every vector libSQL accepts is accepted here; vec0 columns have their own, smaller limit.
pub const MAX_DIMENSIONS: usize = 65536;

/// SQL subtypes that sqlite-vec attaches to vector blobs; `vec_type()` and the type checks of
/// the two-argument functions read them back.
pub const SUBTYPE_FLOAT32: u32 = 223;
pub const SUBTYPE_BIT: u32 = 224;
pub const SUBTYPE_INT8: u32 = 225;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int8,
    /// libSQL's FLOAT8: one byte per element, dequantised as `code * alpha + shift`.
    Float8,
    /// One bit per element, packed eight to a byte, least significant bit first.
    Bit,
}

impl ElementType {
    /// The name `vec_type()` reports; sqlite-vec's names for its three types.
    pub fn name(self) -> &'static str {
        match self {
            ElementType::Float32 => "float32",
            ElementType::Float64 => "float64",
            ElementType::Float16 => "float16",
            ElementType::BFloat16 => "bfloat16",
            ElementType::Int8 => "int8",
            ElementType::Float8 => "float8",
            ElementType::Bit => "bit",
        }
    }

    /// Bytes `dims` elements take packed back to back with no header: sqlite-vec's blobs and
    /// vec0's chunks (libSQL adds a type byte, and FLOAT8 its scale, after them).
    pub fn packed_bytes(self, dims: usize) -> usize {
        match self {
            ElementType::Float64 => dims * 8,
            ElementType::Float32 => dims * 4,
            ElementType::Float16 | ElementType::BFloat16 => dims * 2,
            ElementType::Int8 | ElementType::Float8 => dims,
            ElementType::Bit => dims.div_ceil(8),
        }
    }

    /// The subtype sqlite-vec sets on blobs of this type, where it has one.
    pub fn sqlite_vec_subtype(self) -> Option<u32> {
        match self {
            ElementType::Float32 => Some(SUBTYPE_FLOAT32),
            ElementType::Int8 => Some(SUBTYPE_INT8),
            ElementType::Bit => Some(SUBTYPE_BIT),
            _ => None,
        }
    }
}

/// A packed bit vector. Bits past `dims` in the last byte are zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitVector {
    bytes: Vec<u8>,
    dims: usize,
}

impl BitVector {
    /// Wraps packed bytes holding `dims` bits; stray bits past `dims` are cleared so that
    /// equality and Hamming distance only see real elements.
    pub fn new(mut bytes: Vec<u8>, dims: usize) -> Result<BitVector, VectorError> {
        if bytes.len() != dims.div_ceil(8) {
            return Err(VectorError::BitBlobLength {
                dims,
                found: bytes.len(),
            });
        }
        if !dims.is_multiple_of(8) {
            if let Some(last) = bytes.last_mut() {
                *last &= (1u8 << (dims % 8)) - 1;
            }
        }
        Ok(BitVector { bytes, dims })
    }

    pub fn from_bools(bits: impl IntoIterator<Item = bool>) -> BitVector {
        let mut bytes = Vec::new();
        let mut dims = 0;
        for bit in bits {
            if dims % 8 == 0 {
                bytes.push(0);
            }
            if bit {
                bytes[dims / 8] |= 1 << (dims % 8);
            }
            dims += 1;
        }
        BitVector { bytes, dims }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn get(&self, i: usize) -> bool {
        (self.bytes[i / 8] >> (i % 8)) & 1 == 1
    }

    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.dims).map(|i| self.get(i))
    }
}

/// libSQL's FLOAT8: linear 8-bit quantisation with a per-vector scale and offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Float8Vector {
    pub codes: Vec<u8>,
    pub alpha: f32,
    pub shift: f32,
}

impl Float8Vector {
    /// Quantises `values` onto 256 evenly spaced levels between their minimum and maximum.
    pub fn quantize(values: &[f32]) -> Float8Vector {
        let (min, max) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let alpha = (max - min) / 255.0;
        let codes = values
            .iter()
            .map(|&v| {
                if alpha == 0.0 {
                    0
                } else {
                    ((v - min) / alpha).round().clamp(0.0, 255.0) as u8
                }
            })
            .collect();
        Float8Vector {
            codes,
            alpha,
            shift: min,
        }
    }

    pub fn dequantize(&self) -> Vec<f32> {
        self.codes
            .iter()
            .map(|&c| c as f32 * self.alpha + self.shift)
            .collect()
    }
}

/// An owned vector of one element type.
#[derive(Debug, Clone, PartialEq)]
pub enum Vector {
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    Float16(Vec<f16>),
    BFloat16(Vec<bf16>),
    Int8(Vec<i8>),
    Float8(Float8Vector),
    Bit(BitVector),
}

impl Vector {
    pub fn element_type(&self) -> ElementType {
        match self {
            Vector::Float32(_) => ElementType::Float32,
            Vector::Float64(_) => ElementType::Float64,
            Vector::Float16(_) => ElementType::Float16,
            Vector::BFloat16(_) => ElementType::BFloat16,
            Vector::Int8(_) => ElementType::Int8,
            Vector::Float8(_) => ElementType::Float8,
            Vector::Bit(_) => ElementType::Bit,
        }
    }

    pub fn dimensions(&self) -> usize {
        match self {
            Vector::Float32(v) => v.len(),
            Vector::Float64(v) => v.len(),
            Vector::Float16(v) => v.len(),
            Vector::BFloat16(v) => v.len(),
            Vector::Int8(v) => v.len(),
            Vector::Float8(v) => v.codes.len(),
            Vector::Bit(v) => v.dims(),
        }
    }

    /// The elements as f64, the widest type: what text output and cross-type conversion use.
    /// Bits read as 1.0 and -1.0, the values libSQL's FLOAT1BIT stands for.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Vector::Float32(v) => v.iter().map(|&x| x as f64).collect(),
            Vector::Float64(v) => v.clone(),
            Vector::Float16(v) => v.iter().map(|x| x.to_f64()).collect(),
            Vector::BFloat16(v) => v.iter().map(|x| x.to_f64()).collect(),
            Vector::Int8(v) => v.iter().map(|&x| x as f64).collect(),
            Vector::Float8(v) => v.dequantize().into_iter().map(|x| x as f64).collect(),
            Vector::Bit(v) => v.iter().map(|b| if b { 1.0 } else { -1.0 }).collect(),
        }
    }

    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            Vector::Float32(v) => v.clone(),
            Vector::Float8(v) => v.dequantize(),
            other => other.to_f64().into_iter().map(|x| x as f32).collect(),
        }
    }

    /// Converts real values into a vector of `ty`, the way libSQL's `vectorNN()` functions
    /// convert: floats round to the nearest representable value, FLOAT8 quantises per vector,
    /// bits are set for positive values. Int8 rounds and refuses values outside -128..=127.
    pub fn from_f64(ty: ElementType, values: &[f64]) -> Result<Vector, VectorError> {
        Ok(match ty {
            ElementType::Float32 => Vector::Float32(values.iter().map(|&x| x as f32).collect()),
            ElementType::Float64 => Vector::Float64(values.to_vec()),
            ElementType::Float16 => {
                Vector::Float16(values.iter().map(|&x| f16::from_f64(x)).collect())
            }
            ElementType::BFloat16 => {
                Vector::BFloat16(values.iter().map(|&x| bf16::from_f64(x)).collect())
            }
            ElementType::Int8 => Vector::Int8(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        if x.fract() != 0.0 || !(-128.0..=127.0).contains(&x) {
                            Err(VectorError::Int8OutOfRange { index: i, value: x })
                        } else {
                            Ok(x as i8)
                        }
                    })
                    .collect::<Result<_, _>>()?,
            ),
            ElementType::Float8 => {
                let f: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                Vector::Float8(Float8Vector::quantize(&f))
            }
            ElementType::Bit => Vector::Bit(BitVector::from_bools(values.iter().map(|&x| x > 0.0))),
        })
    }

    /// Checks the dimension count against [`MAX_DIMENSIONS`] and refuses empty vectors.
    pub fn check_dimensions(dims: usize) -> Result<(), VectorError> {
        if dims == 0 {
            Err(VectorError::Empty)
        } else if dims > MAX_DIMENSIONS {
            Err(VectorError::TooManyDimensions {
                found: dims,
                max: MAX_DIMENSIONS,
            })
        } else {
            Ok(())
        }
    }
}
