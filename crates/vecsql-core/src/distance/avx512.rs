//! AVX-512 kernels (Skylake-SP and later, Zen 4 and later): 512-bit registers, sixteen `f32`
//! lanes, and masked loads, so a tail of any length is a single load with its missing lanes
//! zeroed instead of a stack copy. Needs AVX-512F and BW (BW for the 16- and 8-bit work);
//! Hamming distance uses VPOPCNTDQ where present and the AVX2 kernel where not.
//!
//! As in `avx2.rs`, the `#[target_feature]` functions in `imp` are reachable only through the
//! table [`kernels`] returns after run-time detection, and the `unsafe` blocks are loads from
//! slices checked to be long enough (or masked to their length).
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use half::{bf16, f16};

use super::{Family, Kernels};

/// The AVX-512 kernel table, if this CPU has AVX-512F and AVX-512BW (and the AVX2 set, which
/// every such CPU has).
pub(crate) fn kernels() -> Option<Kernels> {
    let ok = is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw");
    let avx2 = super::avx2::kernels()?;
    if !ok {
        return None;
    }
    if is_x86_feature_detected!("avx512vpopcntdq") {
        Some(KERNELS)
    } else {
        Some(Kernels {
            name: "avx512 (no vpopcntdq)",
            hamming_bits: avx2.hamming_bits,
            ..KERNELS
        })
    }
}

macro_rules! safe_wrappers {
    ($($name:ident($t:ty) -> $ret:ty;)*) => {$(
        fn $name(a: &[$t], b: &[$t]) -> $ret {
            // SAFETY: these wrappers are private and reachable only through the table that
            // `kernels()` returns after detecting AVX-512F and AVX-512BW at run time (and,
            // for `hamming_bits`, VPOPCNTDQ).
            unsafe { imp::$name(a, b) }
        }
    )*};
}

safe_wrappers! {
    l2_squared_f32(f32) -> f32; dot_f32(f32) -> f32; l1_f32(f32) -> f32; cosine_f32(f32) -> f32;
    l2_squared_f16(f16) -> f32; dot_f16(f16) -> f32; l1_f16(f16) -> f32; cosine_f16(f16) -> f32;
    l2_squared_bf16(bf16) -> f32; dot_bf16(bf16) -> f32; l1_bf16(bf16) -> f32;
    cosine_bf16(bf16) -> f32;
    l2_squared_i8(i8) -> f32; dot_i8(i8) -> f32; l1_i8(i8) -> f32; cosine_i8(i8) -> f32;
    hamming_bits(u8) -> u32;
}

const KERNELS: Kernels = Kernels {
    name: "avx512",
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

mod imp {
    use std::arch::x86_64::*;

    use half::slice::HalfFloatSliceExt;
    use half::{bf16, f16};

    use super::super::{cosine_from_sums, I8_BLOCK};

    // ---- loads: 32 elements as two f32 registers (fewer: masked), or 64 raw bytes ----

    /// Two registers of `f32` for one 32-element unit; the pairing of lanes is the same for
    /// both inputs, which is all that elementwise-then-summed metrics need.
    type Pair = (__m512, __m512);

    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ld_f32x16(s: &[f32]) -> __m512 {
        if s.len() >= 16 {
            // SAFETY: 16 f32 are readable; `loadu` needs no alignment.
            unsafe { _mm512_loadu_ps(s.as_ptr()) }
        } else {
            let mask = (1u16 << s.len()) - 1;
            // SAFETY: only the first `s.len()` lanes are read; masked lanes are not accessed.
            unsafe { _mm512_maskz_loadu_ps(mask, s.as_ptr()) }
        }
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ld_f32(s: &[f32]) -> Pair {
        (ld_f32x16(s), ld_f32x16(&s[s.len().min(16)..]))
    }

    /// Thirty-two `u16`, or fewer with the rest zeroed.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ld_u16x32(s: &[u16]) -> __m512i {
        if s.len() >= 32 {
            // SAFETY: 64 bytes are readable; `loadu` needs no alignment.
            unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
        } else {
            let mask = (1u32 << s.len()) - 1;
            // SAFETY: only the first `s.len()` lanes are read; masked lanes are not accessed.
            unsafe { _mm512_maskz_loadu_epi16(mask, s.as_ptr().cast()) }
        }
    }

    /// `vcvtph2ps` on each half: the exact IEEE conversion.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ld_f16(s: &[f16]) -> Pair {
        let raw = ld_u16x32(s.reinterpret_cast());
        (
            _mm512_cvtph_ps(_mm512_castsi512_si256(raw)),
            _mm512_cvtph_ps(_mm512_extracti64x4_epi64::<1>(raw)),
        )
    }

    /// A `bf16` is the top half of an `f32`, so in each 32-bit lane holding two of them the
    /// even one is the lane shifted left by 16 and the odd one is the lane with its low half
    /// cleared: two single-uop integer ops per 32 elements, no shuffles.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ld_bf16(s: &[bf16]) -> Pair {
        let raw = ld_u16x32(s.reinterpret_cast());
        let high = _mm512_set1_epi32(0xffff_0000u32 as i32);
        (
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(raw)),
            _mm512_castsi512_ps(_mm512_and_si512(raw, high)),
        )
    }

    /// Sixty-four bytes, or fewer with the rest zeroed.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ld_bytes(s: &[u8]) -> __m512i {
        if s.len() >= 64 {
            // SAFETY: 64 bytes are readable; `loadu` needs no alignment.
            unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
        } else {
            let mask = (1u64 << s.len()) - 1;
            // SAFETY: only the first `s.len()` bytes are read; masked lanes are not accessed.
            unsafe { _mm512_maskz_loadu_epi8(mask, s.as_ptr().cast()) }
        }
    }

    fn as_bytes(s: &[i8]) -> &[u8] {
        // SAFETY: `i8` and `u8` have the same size and alignment and every bit pattern is a
        // valid `u8`, so the same memory read as `u8` is the same length and lifetime.
        unsafe { std::slice::from_raw_parts(s.as_ptr().cast(), s.len()) }
    }

    /// Equal-length prefixes of `a` and `b`.
    #[inline(always)]
    fn trim<'a, T>(a: &'a [T], b: &'a [T]) -> (&'a [T], &'a [T]) {
        let n = a.len().min(b.len());
        (&a[..n], &b[..n])
    }

    /// Sum of sixteen `i32` lanes, widened first so that it cannot overflow.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn hsum_epi32(v: __m512i) -> i64 {
        let lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
        let hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(v));
        _mm512_reduce_add_epi64(_mm512_add_epi64(lo, hi))
    }

    // ---- floating point ----

    /// `acc = step(acc, x, y)` over 32-element units in four accumulators, 64 elements per
    /// iteration; the remainder in at most two more units, the last one masked.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn fold<T>(
        a: &[T],
        b: &[T],
        load: impl Fn(&[T]) -> Pair,
        step: impl Fn(__m512, __m512, __m512) -> __m512,
    ) -> f32 {
        let (a, b) = trim(a, b);
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut unit = |k: usize, x: &[T], y: &[T]| {
            let ((x0, x1), (y0, y1)) = (load(x), load(y));
            acc[k] = step(acc[k], x0, y0);
            acc[k + 1] = step(acc[k + 1], x1, y1);
        };
        let (ca, cb) = (a.chunks_exact(64), b.chunks_exact(64));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            unit(0, x, y);
            unit(2, &x[32..], &y[32..]);
        }
        for (k, (x, y)) in ra.chunks(32).zip(rb.chunks(32)).enumerate() {
            unit(2 * k, x, y);
        }
        _mm512_reduce_add_ps(_mm512_add_ps(
            _mm512_add_ps(acc[0], acc[1]),
            _mm512_add_ps(acc[2], acc[3]),
        ))
    }

    /// The three sums of a cosine distance, two accumulators each, 32 elements per iteration.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn fold_cosine<T>(a: &[T], b: &[T], load: impl Fn(&[T]) -> Pair) -> f32 {
        let (a, b) = trim(a, b);
        let mut dot = [_mm512_setzero_ps(); 2];
        let mut na = [_mm512_setzero_ps(); 2];
        let mut nb = [_mm512_setzero_ps(); 2];
        let mut unit = |x: &[T], y: &[T]| {
            let ((x0, x1), (y0, y1)) = (load(x), load(y));
            for (k, x, y) in [(0, x0, y0), (1, x1, y1)] {
                dot[k] = _mm512_fmadd_ps(x, y, dot[k]);
                na[k] = _mm512_fmadd_ps(x, x, na[k]);
                nb[k] = _mm512_fmadd_ps(y, y, nb[k]);
            }
        };
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            unit(x, y);
        }
        if !ra.is_empty() {
            unit(ra, rb);
        }
        let total = |v: [__m512; 2]| _mm512_reduce_add_ps(_mm512_add_ps(v[0], v[1])) as f64;
        cosine_from_sums(total(dot), total(na), total(nb))
    }

    macro_rules! float_kernels {
        ($t:ty, $load:ident, $l2sq:ident, $dot:ident, $l1:ident, $cos:ident) => {
            #[target_feature(enable = "avx512f,avx512bw")]
            pub(super) fn $l2sq(a: &[$t], b: &[$t]) -> f32 {
                fold(
                    a,
                    b,
                    |s| $load(s),
                    |acc, x, y| {
                        let d = _mm512_sub_ps(x, y);
                        _mm512_fmadd_ps(d, d, acc)
                    },
                )
            }

            #[target_feature(enable = "avx512f,avx512bw")]
            pub(super) fn $dot(a: &[$t], b: &[$t]) -> f32 {
                fold(a, b, |s| $load(s), |acc, x, y| _mm512_fmadd_ps(x, y, acc))
            }

            #[target_feature(enable = "avx512f,avx512bw")]
            pub(super) fn $l1(a: &[$t], b: &[$t]) -> f32 {
                fold(
                    a,
                    b,
                    |s| $load(s),
                    |acc, x, y| _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y))),
                )
            }

            #[target_feature(enable = "avx512f,avx512bw")]
            pub(super) fn $cos(a: &[$t], b: &[$t]) -> f32 {
                fold_cosine(a, b, |s| $load(s))
            }
        };
    }

    float_kernels!(f32, ld_f32, l2_squared_f32, dot_f32, l1_f32, cosine_f32);
    float_kernels!(f16, ld_f16, l2_squared_f16, dot_f16, l1_f16, cosine_f16);
    float_kernels!(
        bf16,
        ld_bf16,
        l2_squared_bf16,
        dot_bf16,
        l1_bf16,
        cosine_bf16
    );

    // ---- i8: exact integer sums ----

    /// Runs `step(acc, a[i..i+64], b[i..i+64])` over the vectors, the last step of each block
    /// masked, with fresh accumulators for every block of `I8_BLOCK` elements, summing
    /// `reduce(acc)` per block in `i64`.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn fold_i8<const K: usize>(
        a: &[i8],
        b: &[i8],
        step: impl Fn(&mut [__m512i; K], __m512i, __m512i),
        reduce: impl Fn(__m512i) -> i64,
    ) -> [i64; K] {
        let (a, b) = trim(as_bytes(a), as_bytes(b));
        let mut total = [0i64; K];
        for (ba, bb) in a.chunks(I8_BLOCK).zip(b.chunks(I8_BLOCK)) {
            let mut acc = [_mm512_setzero_si512(); K];
            for (x, y) in ba.chunks(64).zip(bb.chunks(64)) {
                step(&mut acc, ld_bytes(x), ld_bytes(y));
            }
            for (t, v) in total.iter_mut().zip(acc) {
                *t += reduce(v);
            }
        }
        total
    }

    /// The two halves of 64 `i8` as 32 `i16` each.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn widen(v: __m512i) -> (__m512i, __m512i) {
        (
            _mm512_cvtepi8_epi16(_mm512_castsi512_si256(v)),
            _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64::<1>(v)),
        )
    }

    /// Pairwise `x*y + x'*y'` of two 64-byte `i8` registers, as sixteen `i32`.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn madd_i8(x: __m512i, y: __m512i) -> __m512i {
        let ((x0, x1), (y0, y1)) = (widen(x), widen(y));
        _mm512_add_epi32(_mm512_madd_epi16(x0, y0), _mm512_madd_epi16(x1, y1))
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn l2_squared_i8(a: &[i8], b: &[i8]) -> f32 {
        let [s] = fold_i8(
            a,
            b,
            |acc: &mut [__m512i; 1], x, y| {
                let ((x0, x1), (y0, y1)) = (widen(x), widen(y));
                let (d0, d1) = (_mm512_sub_epi16(x0, y0), _mm512_sub_epi16(x1, y1));
                let sq = _mm512_add_epi32(_mm512_madd_epi16(d0, d0), _mm512_madd_epi16(d1, d1));
                acc[0] = _mm512_add_epi32(acc[0], sq);
            },
            |v| hsum_epi32(v),
        );
        s as f32
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> f32 {
        let [s] = fold_i8(
            a,
            b,
            |acc: &mut [__m512i; 1], x, y| acc[0] = _mm512_add_epi32(acc[0], madd_i8(x, y)),
            |v| hsum_epi32(v),
        );
        s as f32
    }

    /// `|x - y|` with `vpsadbw` after flipping the sign bits, as in the AVX2 kernel.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn l1_i8(a: &[i8], b: &[i8]) -> f32 {
        let [s] = fold_i8(
            a,
            b,
            |acc: &mut [__m512i; 1], x, y| {
                let bias = _mm512_set1_epi8(i8::MIN);
                let sad = _mm512_sad_epu8(_mm512_xor_si512(x, bias), _mm512_xor_si512(y, bias));
                acc[0] = _mm512_add_epi64(acc[0], sad);
            },
            |v| _mm512_reduce_add_epi64(v),
        );
        s as f32
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn cosine_i8(a: &[i8], b: &[i8]) -> f32 {
        let [dot, na, nb] = fold_i8(
            a,
            b,
            |acc: &mut [__m512i; 3], x, y| {
                acc[0] = _mm512_add_epi32(acc[0], madd_i8(x, y));
                acc[1] = _mm512_add_epi32(acc[1], madd_i8(x, x));
                acc[2] = _mm512_add_epi32(acc[2], madd_i8(y, y));
            },
            |v| hsum_epi32(v),
        );
        cosine_from_sums(dot as f64, na as f64, nb as f64)
    }

    /// `vpopcntq` of `a ^ b`, 64 bytes per step, the last step masked.
    #[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq")]
    pub(super) fn hamming_bits(a: &[u8], b: &[u8]) -> u32 {
        let (a, b) = trim(a, b);
        let mut acc = [_mm512_setzero_si512(); 2];
        let (ca, cb) = (a.chunks_exact(128), b.chunks_exact(128));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        let count =
            |x: &[u8], y: &[u8]| _mm512_popcnt_epi64(_mm512_xor_si512(ld_bytes(x), ld_bytes(y)));
        for (x, y) in ca.zip(cb) {
            acc[0] = _mm512_add_epi64(acc[0], count(x, y));
            acc[1] = _mm512_add_epi64(acc[1], count(&x[64..], &y[64..]));
        }
        for (x, y) in ra.chunks(64).zip(rb.chunks(64)) {
            acc[0] = _mm512_add_epi64(acc[0], count(x, y));
        }
        _mm512_reduce_add_epi64(_mm512_add_epi64(acc[0], acc[1])) as u32
    }
}
