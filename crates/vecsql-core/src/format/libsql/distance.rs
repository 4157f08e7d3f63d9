//! `vector_distance_cos` and `vector_distance_l2`, with libSQL's precision and errors.

use crate::vector::{BitVector, Float8Vector, Vector};
use crate::VectorError;

use super::blob::*;
use super::convert::*;

fn check_pair(a: &Vector, b: &Vector) -> Result<(), VectorError> {
    let (ta, tb) = (a.element_type(), b.element_type());
    let (Some(ca), Some(cb)) = (type_code(ta), type_code(tb)) else {
        return Err(int8_unsupported());
    };
    if ca != cb {
        return Err(VectorError::LibsqlTypeMismatch { a: ca, b: cb });
    }
    if a.dimensions() != b.dimensions() {
        return Err(VectorError::LibsqlLengthMismatch {
            a: a.dimensions(),
            b: b.dimensions(),
        });
    }
    Ok(())
}

fn cos_f32(pairs: impl Iterator<Item = (f32, f32)>) -> f32 {
    let (mut dot, mut n1, mut n2) = (0f32, 0f32, 0f32);
    for (x, y) in pairs {
        dot += x * y;
        n1 += x * x;
        n2 += y * y;
    }
    (1.0 - dot as f64 / ((n1 * n2) as f64).sqrt()) as f32
}

fn l2_f32(pairs: impl Iterator<Item = (f32, f32)>) -> f32 {
    let mut sum = 0f32;
    for (x, y) in pairs {
        let d = x - y;
        sum += d * d;
    }
    (sum as f64).sqrt() as f32
}

fn float8_cos(a: &Float8Vector, b: &Float8Vector) -> f32 {
    let (mut sum1, mut sum2, mut sumsq1, mut sumsq2, mut doti) = (0u32, 0u32, 0u32, 0u32, 0u32);
    for (&x, &y) in a.codes.iter().zip(&b.codes) {
        let (x, y) = (x as u32, y as u32);
        sum1 = sum1.wrapping_add(x);
        sum2 = sum2.wrapping_add(y);
        sumsq1 = sumsq1.wrapping_add(x * x);
        sumsq2 = sumsq2.wrapping_add(y * y);
        doti = doti.wrapping_add(x * y);
    }
    let n = a.codes.len() as i32 as f32;
    let (a1, s1, a2, s2) = (a.alpha, a.shift, b.alpha, b.shift);
    let dot = a1 * a2 * doti as f32 + a1 * s2 * sum1 as f32 + a2 * s1 * sum2 as f32 + s1 * s2 * n;
    let norm1 = a1 * a1 * sumsq1 as f32 + 2.0 * a1 * s1 * sum1 as f32 + s1 * s1 * n;
    let norm2 = a2 * a2 * sumsq2 as f32 + 2.0 * a2 * s2 * sum2 as f32 + s2 * s2 * n;
    (1.0 - dot as f64 / ((norm1 * norm2) as f64).sqrt()) as f32
}

fn hamming(a: &BitVector, b: &BitVector) -> u32 {
    a.bytes()
        .iter()
        .zip(b.bytes())
        .map(|(x, y)| (x ^ y).count_ones())
        .sum()
}

fn dequantized(f8: &Float8Vector) -> impl Iterator<Item = f32> + '_ {
    f8.codes
        .iter()
        .map(move |&c| f8.alpha * c as f32 + f8.shift)
}

/// `vector_distance_cos(a, b)` with libSQL's arithmetic. FLOAT1BIT gives the Hamming distance.
/// A zero vector gives NaN, which SQLite turns into NULL.
pub fn distance_cos(a: &Vector, b: &Vector) -> Result<f64, VectorError> {
    check_pair(a, b)?;
    let d = match (a, b) {
        (Vector::Float32(x), Vector::Float32(y)) => {
            cos_f32(x.iter().copied().zip(y.iter().copied()))
        }
        (Vector::Float64(x), Vector::Float64(y)) => {
            let (mut dot, mut n1, mut n2) = (0f64, 0f64, 0f64);
            for (&p, &q) in x.iter().zip(y) {
                dot += p * q;
                n1 += p * p;
                n2 += q * q;
            }
            (1.0 - dot / (n1 * n2).sqrt()) as f32
        }
        (Vector::Float16(x), Vector::Float16(y)) => cos_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (f16_to_f32(p), f16_to_f32(q))),
        ),
        (Vector::BFloat16(x), Vector::BFloat16(y)) => cos_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (bf16_to_f32(p), bf16_to_f32(q))),
        ),
        (Vector::Float8(x), Vector::Float8(y)) => float8_cos(x, y),
        (Vector::Bit(x), Vector::Bit(y)) => hamming(x, y) as f32,
        _ => unreachable!("check_pair ensures equal libSQL types"),
    };
    Ok(d as f64)
}

/// `vector_distance_l2(a, b)` with libSQL's arithmetic; FLOAT1BIT is refused as in libSQL.
pub fn distance_l2(a: &Vector, b: &Vector) -> Result<f64, VectorError> {
    check_pair(a, b)?;
    let d = match (a, b) {
        (Vector::Float32(x), Vector::Float32(y)) => {
            l2_f32(x.iter().copied().zip(y.iter().copied()))
        }
        (Vector::Float64(x), Vector::Float64(y)) => {
            let mut sum = 0f64;
            for (&p, &q) in x.iter().zip(y) {
                let d = p - q;
                sum += d * d;
            }
            sum.sqrt() as f32
        }
        (Vector::Float16(x), Vector::Float16(y)) => l2_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (f16_to_f32(p), f16_to_f32(q))),
        ),
        (Vector::BFloat16(x), Vector::BFloat16(y)) => l2_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (bf16_to_f32(p), bf16_to_f32(q))),
        ),
        (Vector::Float8(x), Vector::Float8(y)) => l2_f32(dequantized(x).zip(dequantized(y))),
        (Vector::Bit(_), Vector::Bit(_)) => return Err(VectorError::LibsqlBitL2),
        _ => unreachable!("check_pair ensures equal libSQL types"),
    };
    Ok(d as f64)
}
