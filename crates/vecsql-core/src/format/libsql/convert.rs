//! Element conversions between libSQL's types, rounding as libSQL does.

use half::{bf16, f16};

use crate::vector::{BitVector, ElementType, Float8Vector, Vector};
use crate::VectorError;

use super::blob::*;

/// correctly, hence this copy of libSQL's rule.
pub fn f16_from_f32(x: f32) -> f16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = bits & 0x7f_ffff;
    let (half_exp, mut m) = if exp == 128 {
        // Inf stays Inf; every NaN becomes the canonical quiet NaN.
        (16, if mantissa != 0 { 1 << 22 } else { 0 })
    } else if exp > 15 {
        (16, 0)
    } else if exp >= -14 {
        (exp, mantissa)
    } else if exp >= -25 {
        (-15, (mantissa | 0x80_0000) >> (-exp - 14))
    } else {
        (-15, 0)
    };
    let low = m & 0x1fff;
    let odd = (m >> 13) & 1;
    if low > 0x1000 - odd {
        m += 0x2000;
    }
    let m = m >> 13;
    // A carry out of the mantissa bumps the exponent, which is how rounding reaches Inf or the
    // smallest normal.
    let e = (half_exp + 15 + (m >> 10) as i32) as u16;
    f16::from_bits(sign | (e << 10) | (m & 0x3ff) as u16)
}

/// binary16 → f32 as libSQL does it: exact, with every NaN widened to the quiet NaN `0x7FC00000`
/// (sign kept) rather than carrying its payload.
pub fn f16_to_f32(x: f16) -> f32 {
    if x.is_nan() {
        let sign = ((x.to_bits() & 0x8000) as u32) << 16;
        f32::from_bits(sign | 0x7fc0_0000)
    } else {
        x.to_f32()
    }
}

/// bfloat16 → f32 as libSQL does it: the bits shifted into place, so NaN payloads (signalling
/// ones included) survive unchanged, where `half::bf16::to_f32` quiets them.
pub fn bf16_to_f32(x: bf16) -> f32 {
    f32::from_bits((x.to_bits() as u32) << 16)
}

/// libSQL's f32 → bfloat16 conversion: the top 16 bits, truncated rather than rounded.
pub fn bf16_from_f32(x: f32) -> bf16 {
    bf16::from_bits((x.to_bits() >> 16) as u16)
}

/// Clip-and-round of a FLOAT8 quotient. NaN (an all-equal vector gives 0/0) falls through both
/// comparisons in libSQL and its integer conversion yields a code of 0 on the platforms libSQL
/// ships for.
pub(super) fn float8_code(q: f32) -> u8 {
    if q < 0.0 {
        0
    } else if q > 255.0 {
        255
    } else if q.is_nan() {
        0
    } else {
        (q as f64 + 0.5) as u8
    }
}

pub(super) fn float8_params(min: f32, max: f32) -> (f32, f32) {
    ((max - min) / 255.0, min)
}

/// FLOAT8 quantisation exactly as libSQL's `vector8()` does it for FLOAT32, FLOAT16, FLOATB16
/// and FLOAT1BIT sources (and text, which is parsed as FLOAT32). `Float8Vector::quantize`
/// differs for empty input (libSQL uses alpha = shift = 0) and in which zero's sign `shift`
/// takes when the minimum is ±0.
pub fn quantize_float8(values: &[f32]) -> Float8Vector {
    let (min, max) = match values.split_first() {
        None => (0.0, 0.0),
        Some((&first, rest)) => rest.iter().fold((first, first), |(lo, hi), &v| {
            // Comparisons written the way libSQL's MIN/MAX are, so ties (-0 vs 0) and NaN
            // resolve to the same operand.
            (if lo < v { lo } else { v }, if hi > v { hi } else { v })
        }),
    };
    let (alpha, shift) = float8_params(min, max);
    Float8Vector {
        codes: values
            .iter()
            .map(|&v| float8_code((v - shift) / alpha))
            .collect(),
        alpha,
        shift,
    }
}

/// FLOAT8 quantisation of a FLOAT64 source, where libSQL compares against the running f32
/// minimum/maximum in f64 and divides in f64 before narrowing the quotient.
pub fn quantize_float8_f64(values: &[f64]) -> Float8Vector {
    let (min, max) = match values.split_first() {
        None => (0.0f32, 0.0f32),
        Some((&first, rest)) => rest
            .iter()
            .fold((first as f32, first as f32), |(lo, hi), &v| {
                (
                    if (lo as f64) < v { lo } else { v as f32 },
                    if (hi as f64) > v { hi } else { v as f32 },
                )
            }),
    };
    let (alpha, shift) = float8_params(min, max);
    Float8Vector {
        codes: values
            .iter()
            .map(|&v| float8_code(((v - shift as f64) / alpha as f64) as f32))
            .collect(),
        alpha,
        shift,
    }
}

pub(super) fn bit_value(b: bool) -> f32 {
    if b {
        1.0
    } else {
        -1.0
    }
}

/// The elements as libSQL's conversion to FLOAT32 produces them; the common currency of
/// `vector_extract()` and of every conversion except the FLOAT64 ones.
pub fn to_f32_values(v: &Vector) -> Vec<f32> {
    match v {
        Vector::Float32(x) => x.clone(),
        Vector::Float64(x) => x.iter().map(|&e| e as f32).collect(),
        Vector::Float16(x) => x.iter().map(|&e| f16_to_f32(e)).collect(),
        Vector::BFloat16(x) => x.iter().map(|&e| bf16_to_f32(e)).collect(),
        Vector::Int8(x) => x.iter().map(|&e| e as f32).collect(),
        Vector::Float8(f8) => f8.dequantize(),
        Vector::Bit(bits) => bits.iter().map(bit_value).collect(),
    }
}

/// Converts `v` to `to` with libSQL's rules (see the module docs), as `vector32()`,
/// `vector64()`, `vector16()`, `vectorb16()`, `vector8()` and `vector1bit()` do for blobs.
pub fn convert(v: &Vector, to: ElementType) -> Result<Vector, VectorError> {
    if to == ElementType::Int8 {
        return Err(int8_unsupported());
    }
    if v.element_type() == to {
        return Ok(v.clone());
    }
    Ok(match (v, to) {
        (Vector::Float64(x), ElementType::Float8) => Vector::Float8(quantize_float8_f64(x)),
        (Vector::Float64(x), ElementType::Bit) => {
            Vector::Bit(BitVector::from_bools(x.iter().map(|&e| e > 0.0)))
        }
        (_, ElementType::Float64) => {
            Vector::Float64(to_f32_values(v).into_iter().map(f64::from).collect())
        }
        (_, _) => {
            let values = to_f32_values(v);
            match to {
                ElementType::Float32 => Vector::Float32(values),
                ElementType::Float16 => {
                    Vector::Float16(values.into_iter().map(f16_from_f32).collect())
                }
                ElementType::BFloat16 => {
                    Vector::BFloat16(values.into_iter().map(bf16_from_f32).collect())
                }
                ElementType::Float8 => Vector::Float8(quantize_float8(&values)),
                ElementType::Bit => {
                    Vector::Bit(BitVector::from_bools(values.into_iter().map(|e| e > 0.0)))
                }
                ElementType::Float64 | ElementType::Int8 => unreachable!("handled above"),
            }
        }
    })
}
