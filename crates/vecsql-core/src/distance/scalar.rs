//! Reference kernels: the plainest possible loops, one accumulator, element by element.
//!
//! These are the oracle the SIMD variants are tested against and the "naive" baseline the
//! benchmark compares with. They are deliberately not tuned; the portable fallback that runs in
//! production on CPUs without a SIMD variant lives in `portable.rs`.
//!
//! Floating-point inputs accumulate in `f32` (like sqlite-vec's scalar loops); `i8` inputs
//! accumulate exactly in `i64`; the `f64` functions accumulate in `f64`. Lengths are expected to
//! be equal; in release builds the shorter length wins.

use half::{bf16, f16};

use super::cosine_from_sums;

macro_rules! float_family {
    ($t:ty, $to_f32:expr, $l2sq:ident, $l2:ident, $dot:ident, $l1:ident, $cos:ident) => {
        /// Squared Euclidean distance, `sum((a[i] - b[i])^2)`.
        pub fn $l2sq(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len());
            let conv = $to_f32;
            let mut sum = 0.0f32;
            for (&x, &y) in a.iter().zip(b) {
                let d = conv(x) - conv(y);
                sum += d * d;
            }
            sum
        }

        /// Euclidean distance, the square root of the squared one.
        pub fn $l2(a: &[$t], b: &[$t]) -> f32 {
            $l2sq(a, b).sqrt()
        }

        /// Inner product `sum(a[i] * b[i])`.
        pub fn $dot(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len());
            let conv = $to_f32;
            let mut sum = 0.0f32;
            for (&x, &y) in a.iter().zip(b) {
                sum += conv(x) * conv(y);
            }
            sum
        }

        /// Manhattan distance `sum(|a[i] - b[i]|)`.
        pub fn $l1(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len());
            let conv = $to_f32;
            let mut sum = 0.0f32;
            for (&x, &y) in a.iter().zip(b) {
                sum += (conv(x) - conv(y)).abs();
            }
            sum
        }

        /// Cosine distance `1 - a.b / (|a| |b|)`; NaN when either norm is zero.
        pub fn $cos(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len());
            let conv = $to_f32;
            let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
            for (&x, &y) in a.iter().zip(b) {
                let (x, y) = (conv(x), conv(y));
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            cosine_from_sums(dot as f64, na as f64, nb as f64)
        }
    };
}

float_family!(
    f32,
    |x: f32| x,
    l2_squared_f32,
    l2_f32,
    dot_f32,
    l1_f32,
    cosine_f32
);
float_family!(
    f16,
    f16::to_f32,
    l2_squared_f16,
    l2_f16,
    dot_f16,
    l1_f16,
    cosine_f16
);
float_family!(
    bf16,
    bf16::to_f32,
    l2_squared_bf16,
    l2_bf16,
    dot_bf16,
    l1_bf16,
    cosine_bf16
);

/// Squared Euclidean distance of two `i8` vectors, summed exactly, rounded once to `f32`.
pub fn l2_squared_i8(a: &[i8], b: &[i8]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0i64;
    for (&x, &y) in a.iter().zip(b) {
        let d = x as i64 - y as i64;
        sum += d * d;
    }
    sum as f32
}

/// Euclidean distance of two `i8` vectors.
pub fn l2_i8(a: &[i8], b: &[i8]) -> f32 {
    l2_squared_i8(a, b).sqrt()
}

/// Inner product of two `i8` vectors, summed exactly.
pub fn dot_i8(a: &[i8], b: &[i8]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0i64;
    for (&x, &y) in a.iter().zip(b) {
        sum += x as i64 * y as i64;
    }
    sum as f32
}

/// Manhattan distance of two `i8` vectors, summed exactly.
pub fn l1_i8(a: &[i8], b: &[i8]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0i64;
    for (&x, &y) in a.iter().zip(b) {
        sum += (x as i64 - y as i64).abs();
    }
    sum as f32
}

/// Cosine distance of two `i8` vectors; the three sums are exact.
pub fn cosine_i8(a: &[i8], b: &[i8]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let (mut dot, mut na, mut nb) = (0i64, 0i64, 0i64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as i64, y as i64);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    cosine_from_sums(dot as f64, na as f64, nb as f64)
}

/// Number of differing bits between two packed bit vectors.
pub fn hamming_bits(a: &[u8], b: &[u8]) -> u32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0u32;
    for (&x, &y) in a.iter().zip(b) {
        sum += (x ^ y).count_ones();
    }
    sum
}

/// Squared Euclidean distance of two `f64` vectors.
pub fn l2_squared_f64(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        let d = x - y;
        sum += d * d;
    }
    sum
}

/// Euclidean distance of two `f64` vectors.
pub fn l2_f64(a: &[f64], b: &[f64]) -> f64 {
    l2_squared_f64(a, b).sqrt()
}

/// Inner product of two `f64` vectors.
pub fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

/// Manhattan distance of two `f64` vectors.
pub fn l1_f64(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        sum += (x - y).abs();
    }
    sum
}

/// Cosine distance of two `f64` vectors; NaN when either norm is zero.
pub fn cosine_f64(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    1.0 - dot / (na.sqrt() * nb.sqrt())
}
