//! Distance kernels: L2, inner product, L1 and cosine over `f32`, `f16`, `bf16` and `i8`
//! vectors, Hamming distance over packed bits, and scalar `f64` versions.
//!
//! # Design
//!
//! A distance is one pass over two short slices (hundreds to a few thousand elements, a few
//! KiB, hot in L1), so speed comes from vector width and from not stalling on one accumulator.
//! The module has four layers:
//!
//! - [`scalar`]: the plainest loops, one accumulator. It is the oracle of the tests and the
//!   "naive" line of the benchmark, never the production path.
//! - `portable`: safe Rust with 16 independent partial sums, which the compiler vectorises for
//!   the build's baseline (SSE2, NEON). It is what non-x86 CPUs, and x86 CPUs without AVX2, run.
//! - `avx2` (AVX2 + FMA + F16C) and `avx512` (F + BW, VPOPCNTDQ where present), written with
//!   `std::arch`, four accumulators per sum (32 and 64 `f32` lanes), unaligned loads, tails of
//!   any length (AVX-512: masked loads; AVX2: one zero-padded stack copy, zeros adding nothing).
//! - `dispatch`: on the first call, `is_x86_feature_detected!` picks the widest table of
//!   function pointers ([`Kernels`]) and a `OnceLock` keeps it, so every later call costs one
//!   atomic load and an indirect call, about a nanosecond against 15 to 100 ns of work.
//!   `VECSQL_KERNELS=portable` (or `scalar`, `avx2+fma+f16c`) forces a slower table.
//!
//! `#[target_feature]` functions cannot become safe function pointers, so each SIMD module
//! wraps them in private safe functions that only its detected table can hand out; `unsafe` is
//! otherwise confined to loads from slices whose length was just checked (or masked), each with
//! a `SAFETY:` note. [`variants`] lists every table this CPU can run, which is how the tests
//! check each SIMD variant against the reference and the benchmark can time each one.
//!
//! # Numerics
//!
//! `f16` and `bf16` widen exactly to `f32` (`vcvtph2ps`; a `bf16` is the top half of an `f32`,
//! so a shift and a mask give the even and odd elements with no shuffle) and every float metric
//! sums in `f32` over many partial sums, whose error grows with `n / lanes` rather than `n`.
//! Cosine keeps three sums and combines them in `f64` as `1 - dot / (sqrt(|a|^2) sqrt(|b|^2))`;
//! its relative error against an `f64` reference is about 1e-8 at 384 to 4095 dimensions (the
//! tests require < 1e-4), and a zero norm gives NaN as in sqlite-vec. `i8` sums are exact:
//! `i32` lanes over blocks of 16384 elements, `i64` across blocks, one rounding to `f32`.
//!
//! # Hand-written `std::arch` rather than `simsimd`
//!
//! `simsimd` 6.5 (C, runtime dispatch) builds here (cc + gcc, ~10 s). Measured with criterion
//! on this machine (Xeon with AVX-512 incl. FP16/BF16/VNNI, 2 vCPUs), GB/s of both inputs at
//! 1536 dimensions, ours / simsimd: f32 l2sq 152/121, dot 234/141, cosine 146/103; bf16 l2sq
//! 92/49, dot 91/72, cosine 63/48; i8 l2sq 54/52, dot 60/54, cosine 36/42; Hamming 68/57;
//! f16 l2sq 64/100, dot 76/122, cosine 49/88. simsimd wins only `f16`, and only because on
//! Sapphire Rapids it accumulates in `f16` (`_mm512_fmadd_ph`): its `f16` l2sq is off by 1e-4
//! to 6e-4 relative at 384 to 4095 dimensions, against 1e-8 here. It also has no L1, returns
//! `Option<f64>`, wants its own `f16`/`bf16` types (a transmute per call), differs from
//! sqlite-vec on zero norms and would put a C build into the core crate. So the kernels are
//! hand-written; the cost is about 900 lines of SIMD with every variant tested against the
//! reference.

pub mod batch;
mod dispatch;
mod metric;
mod portable;
pub mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use half::{bf16, f16};

pub use dispatch::{kernel_backend, kernels, variants};
pub use metric::Metric;

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

/// Manhattan distance of two `f32` vectors as sqlite-vec 0.1.9 computes it: each `|a - b|` in
/// `f64`, summed in order in one `f64` accumulator, not rounded. This is the float32 L1 that
/// SQL sees: `vec_distance_l1` returns it as is, vec0 (whose `distance` column is a float32 in
/// sqlite-vec) rounds it to `f32`. One accumulator keeps the last bit equal to sqlite-vec's;
/// [`l1_f32`] is the fast `f32` kernel, for graph walks where only the order matters.
pub fn l1_f32_f64(a: &[f32], b: &[f32]) -> f64 {
    debug_assert_eq!(a.len(), b.len(), "vectors of different lengths");
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).abs())
        .sum()
}

/// [`l1_f32_f64`] of `q` and each of `N` vectors, bit for bit: each sum still runs in order in
/// its own accumulator, but the `N` chains interleave, so the CPU overlaps their additions
/// (one chain waits on each add's latency; `N` keep the adders busy) without the reordering
/// that would change the last bit.
pub fn l1_f32_f64_many<const N: usize>(q: &[f32], vs: [&[f32]; N]) -> [f64; N] {
    let mut acc = [0.0f64; N];
    for v in vs {
        debug_assert_eq!(v.len(), q.len(), "vectors of different lengths");
    }
    // Equal lengths up front, so the loop below needs no bounds checks.
    let n = vs.iter().map(|v| v.len()).fold(q.len(), usize::min);
    let (q, vs) = (&q[..n], vs.map(|v| &v[..n]));
    for (i, &x) in q.iter().enumerate() {
        for (a, v) in acc.iter_mut().zip(vs) {
            *a += (x as f64 - v[i] as f64).abs();
        }
    }
    acc
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
