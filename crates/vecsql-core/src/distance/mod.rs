//! Distance kernels: L2, inner product, L1 and cosine over `f32`, `f16`, `bf16` and `i8`
//! vectors, Hamming distance over packed bits, and scalar `f64` versions.
//!
//! ESSAY-PLACEHOLDER

mod dispatch;
mod portable;
pub mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use half::{bf16, f16};

pub use dispatch::{kernel_backend, kernels, variants};

/// The four metrics for one element type. Every function takes two slices of equal length
/// (in release builds the longer one is cut to the shorter) and returns an `f32`.
#[derive(Debug)]
pub struct Family<T> {
    pub l2_squared: fn(&[T], &[T]) -> f32,
    pub dot: fn(&[T], &[T]) -> f32,
    pub l1: fn(&[T], &[T]) -> f32,
    pub cosine: fn(&[T], &[T]) -> f32,
}

impl<T> Clone for Family<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Family<T> {}

/// One complete set of kernels, as built for one instruction set. See [`variants`].
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    /// What [`kernel_backend`] reports when this set is selected.
    pub name: &'static str,
    pub f32: Family<f32>,
    pub f16: Family<f16>,
    pub bf16: Family<bf16>,
    pub i8: Family<i8>,
    pub hamming_bits: fn(&[u8], &[u8]) -> u32,
}

/// `i8` kernels sum in `i32` lanes over blocks of this many elements and in `i64` across blocks:
/// one lane then holds at most 16384 squared differences of at most 255^2, about 1.07e9 < 2^31,
/// so every `i8` result is exact for any length (it is rounded once, to `f32`, at the end).
pub(crate) const I8_BLOCK: usize = 16384;

/// `1 - dot / (sqrt(na) * sqrt(nb))`, in `f64` so that the only rounding left is that of the
/// sums. A zero norm gives `0 / 0` = NaN, as in sqlite-vec.
#[inline]
pub(crate) fn cosine_from_sums(dot: f64, na: f64, nb: f64) -> f32 {
    (1.0 - dot / (na.sqrt() * nb.sqrt())) as f32
}

macro_rules! public_family {
    ($t:ty, $fam:ident, $name:literal, $l2sq:ident, $l2:ident, $dot:ident, $l1:ident, $cos:ident) => {
        #[doc = concat!("Squared Euclidean distance of two ", $name, " vectors.")]
        #[inline]
        pub fn $l2sq(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
            (kernels().$fam.l2_squared)(a, b)
        }

        #[doc = concat!("Euclidean distance of two ", $name, " vectors.")]
        #[inline]
        pub fn $l2(a: &[$t], b: &[$t]) -> f32 {
            $l2sq(a, b).sqrt()
        }

        #[doc = concat!("Inner product of two ", $name, " vectors (not negated).")]
        #[inline]
        pub fn $dot(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
            (kernels().$fam.dot)(a, b)
        }

        #[doc = concat!("Manhattan distance of two ", $name, " vectors.")]
        #[inline]
        pub fn $l1(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
            (kernels().$fam.l1)(a, b)
        }

        #[doc = concat!("Cosine distance `1 - a.b / (|a| |b|)` of two ", $name, " vectors; ")]
        #[doc = "NaN when either norm is zero, as in sqlite-vec."]
        #[inline]
        pub fn $cos(a: &[$t], b: &[$t]) -> f32 {
            debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
            (kernels().$fam.cosine)(a, b)
        }
    };
}

public_family!(
    f32,
    f32,
    "`f32`",
    l2_squared_f32,
    l2_f32,
    dot_f32,
    l1_f32,
    cosine_f32
);
public_family!(
    f16,
    f16,
    "`f16`",
    l2_squared_f16,
    l2_f16,
    dot_f16,
    l1_f16,
    cosine_f16
);
public_family!(
    bf16,
    bf16,
    "`bf16`",
    l2_squared_bf16,
    l2_bf16,
    dot_bf16,
    l1_bf16,
    cosine_bf16
);
public_family!(
    i8,
    i8,
    "`i8` (summed exactly)",
    l2_squared_i8,
    l2_i8,
    dot_i8,
    l1_i8,
    cosine_i8
);

/// Number of differing bits between two packed bit vectors: `popcount(a ^ b)`.
#[inline]
pub fn hamming_bits(a: &[u8], b: &[u8]) -> u32 {
    debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
    (kernels().hamming_bits)(a, b)
}

/// Partial sums for the `f64` functions: enough to keep the summation error small and to let
/// the compiler vectorise; `f64` vectors are rare enough that no SIMD variant is kept for them.
const F64_LANES: usize = 8;

#[inline(always)]
fn sum_f64<const K: usize>(a: &[f64], b: &[f64], term: impl Fn(f64, f64) -> [f64; K]) -> [f64; K] {
    debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
    let (ca, cb) = (a.chunks_exact(F64_LANES), b.chunks_exact(F64_LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    let mut acc = [[0.0f64; F64_LANES]; K];
    for (x, y) in ca.zip(cb) {
        for lane in 0..F64_LANES {
            let t = term(x[lane], y[lane]);
            for (sums, t) in acc.iter_mut().zip(t) {
                sums[lane] += t;
            }
        }
    }
    for (lane, (&x, &y)) in ta.iter().zip(tb).enumerate() {
        let t = term(x, y);
        for (sums, t) in acc.iter_mut().zip(t) {
            sums[lane] += t;
        }
    }
    acc.map(|sums| sums.iter().sum())
}

/// Squared Euclidean distance of two `f64` vectors.
pub fn l2_squared_f64(a: &[f64], b: &[f64]) -> f64 {
    let [s] = sum_f64(a, b, |x, y| [(x - y) * (x - y)]);
    s
}

/// Euclidean distance of two `f64` vectors.
pub fn l2_f64(a: &[f64], b: &[f64]) -> f64 {
    l2_squared_f64(a, b).sqrt()
}

/// Inner product of two `f64` vectors (not negated).
pub fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
    let [s] = sum_f64(a, b, |x, y| [x * y]);
    s
}

/// Manhattan distance of two `f64` vectors.
pub fn l1_f64(a: &[f64], b: &[f64]) -> f64 {
    let [s] = sum_f64(a, b, |x, y| [(x - y).abs()]);
    s
}

/// Cosine distance of two `f64` vectors; NaN when either norm is zero.
pub fn cosine_f64(a: &[f64], b: &[f64]) -> f64 {
    let [dot, na, nb] = sum_f64(a, b, |x, y| [x * y, x * x, y * y]);
    1.0 - dot / (na.sqrt() * nb.sqrt())
}

#[cfg(test)]
mod tests;
