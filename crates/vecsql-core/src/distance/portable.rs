//! The portable fallback: plain Rust written so that the compiler can vectorise it for whatever
//! the build target guarantees (SSE2 on x86_64, NEON on aarch64), with no `unsafe` and no CPU
//! detection.
//!
//! Every reduction keeps [`LANES`] independent partial sums. That is what lets LLVM use vector
//! registers at all (it may not reorder a single floating-point sum), and it also makes the
//! rounding error grow with `n / LANES` instead of `n`. `f16` is widened with a branch-free bit
//! trick rather than `half`'s per-element conversion so that the loop stays vectorisable.

use half::{bf16, f16};

use super::{cosine_from_sums, Family, Kernels, I8_BLOCK};

/// Independent partial sums per reduction: 16 `f32` = four SSE or NEON registers.
const LANES: usize = 16;

pub(crate) const KERNELS: Kernels = Kernels {
    name: "portable",
    f32: Family {
        l2_squared: l2_squared_f32,
        dot: dot_f32,
        l1: l1_f32,
        cosine: cosine_f32,
    },
    f16: Family {
        l2_squared: l2_squared_f16,
        dot: dot_f16,
        l1: l1_f16,
        cosine: cosine_f16,
    },
    bf16: Family {
        l2_squared: l2_squared_bf16,
        dot: dot_bf16,
        l1: l1_bf16,
        cosine: cosine_bf16,
    },
    i8: Family {
        l2_squared: l2_squared_i8,
        dot: dot_i8,
        l1: l1_i8,
        cosine: cosine_i8,
    },
    hamming_bits,
};

/// IEEE half to single, exactly, without branches: shift the exponent and mantissa into `f32`
/// position, rescale by 2^112 (which also normalises subnormals), then patch infinities and NaNs,
/// the only values whose rescaled magnitude reaches 2^16.
#[inline(always)]
pub(crate) fn f16_to_f32(h: f16) -> f32 {
    let h = h.to_bits() as u32;
    let magnitude = f32::from_bits((h & 0x7fff) << 13) * f32::from_bits(0x7780_0000);
    let bits = magnitude.to_bits();
    let bits = if magnitude >= 65536.0 {
        bits | 0x7f80_0000
    } else {
        bits
    };
    f32::from_bits(bits | ((h & 0x8000) << 16))
}

#[inline(always)]
fn bf16_to_f32(h: bf16) -> f32 {
    f32::from_bits((h.to_bits() as u32) << 16)
}

/// Sums `term(a[i], b[i])` over equal-length prefixes in [`LANES`] partial sums.
#[inline(always)]
fn sum_terms<T: Copy>(a: &[T], b: &[T], term: impl Fn(T, T) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s += term(x, y);
        }
    }
    for ((s, &x), &y) in acc.iter_mut().zip(ta).zip(tb) {
        *s += term(x, y);
    }
    acc.iter().sum()
}

/// The three sums of a cosine distance, each in [`LANES`] partial sums.
#[inline(always)]
fn cosine_terms<T: Copy>(a: &[T], b: &[T], conv: impl Fn(T) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    let mut dot = [0.0f32; LANES];
    let mut na = [0.0f32; LANES];
    let mut nb = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        #[allow(clippy::needless_range_loop)] // five arrays in lockstep read best indexed
        for k in 0..LANES {
            let (x, y) = (conv(x[k]), conv(y[k]));
            dot[k] += x * y;
            na[k] += x * x;
            nb[k] += y * y;
        }
    }
    for (k, (&x, &y)) in ta.iter().zip(tb).enumerate() {
        let (x, y) = (conv(x), conv(y));
        dot[k] += x * y;
        na[k] += x * x;
        nb[k] += y * y;
    }
    let total = |s: [f32; LANES]| s.iter().sum::<f32>() as f64;
    cosine_from_sums(total(dot), total(na), total(nb))
}

macro_rules! float_family {
    ($t:ty, $conv:expr, $l2sq:ident, $dot:ident, $l1:ident, $cos:ident) => {
        fn $l2sq(a: &[$t], b: &[$t]) -> f32 {
            sum_terms(a, b, |x, y| {
                let d = $conv(x) - $conv(y);
                d * d
            })
        }

        fn $dot(a: &[$t], b: &[$t]) -> f32 {
            sum_terms(a, b, |x, y| $conv(x) * $conv(y))
        }

        fn $l1(a: &[$t], b: &[$t]) -> f32 {
            sum_terms(a, b, |x, y| ($conv(x) - $conv(y)).abs())
        }

        fn $cos(a: &[$t], b: &[$t]) -> f32 {
            cosine_terms(a, b, $conv)
        }
    };
}

float_family!(f32, |x: f32| x, l2_squared_f32, dot_f32, l1_f32, cosine_f32);
float_family!(f16, f16_to_f32, l2_squared_f16, dot_f16, l1_f16, cosine_f16);
float_family!(
    bf16,
    bf16_to_f32,
    l2_squared_bf16,
    dot_bf16,
    l1_bf16,
    cosine_bf16
);

/// Sums the `K` terms `term(a[i], b[i])` exactly: `i32` partial sums within blocks of
/// [`I8_BLOCK`] elements (too few for any partial sum to overflow), `i64` across blocks.
#[inline(always)]
fn sum_i8<const K: usize>(a: &[i8], b: &[i8], term: impl Fn(i32, i32) -> [i32; K]) -> [i64; K] {
    let mut total = [0i64; K];
    for (ba, bb) in a.chunks(I8_BLOCK).zip(b.chunks(I8_BLOCK)) {
        let (ca, cb) = (ba.chunks_exact(LANES), bb.chunks_exact(LANES));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        let mut acc = [[0i32; LANES]; K];
        for (x, y) in ca.zip(cb) {
            for lane in 0..LANES {
                for (sums, t) in acc.iter_mut().zip(term(x[lane] as i32, y[lane] as i32)) {
                    sums[lane] += t;
                }
            }
        }
        for (lane, (&x, &y)) in ta.iter().zip(tb).enumerate() {
            for (sums, t) in acc.iter_mut().zip(term(x as i32, y as i32)) {
                sums[lane] += t;
            }
        }
        for (t, sums) in total.iter_mut().zip(acc) {
            *t += sums.iter().map(|&s| s as i64).sum::<i64>();
        }
    }
    total
}

fn l2_squared_i8(a: &[i8], b: &[i8]) -> f32 {
    let [s] = sum_i8(a, b, |x, y| [(x - y) * (x - y)]);
    s as f32
}

fn dot_i8(a: &[i8], b: &[i8]) -> f32 {
    let [s] = sum_i8(a, b, |x, y| [x * y]);
    s as f32
}

fn l1_i8(a: &[i8], b: &[i8]) -> f32 {
    let [s] = sum_i8(a, b, |x, y| [(x - y).abs()]);
    s as f32
}

fn cosine_i8(a: &[i8], b: &[i8]) -> f32 {
    let [dot, na, nb] = sum_i8(a, b, |x, y| [x * y, x * x, y * y]);
    cosine_from_sums(dot as f64, na as f64, nb as f64)
}

fn hamming_bits(a: &[u8], b: &[u8]) -> u32 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    let mut sum = 0u32;
    for (x, y) in ca.zip(cb) {
        let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("chunks of 8"));
        sum += (word(x) ^ word(y)).count_ones();
    }
    for (&x, &y) in ta.iter().zip(tb) {
        sum += (x ^ y).count_ones();
    }
    sum
}
