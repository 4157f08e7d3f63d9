//! AVX2 + FMA + F16C kernels (Haswell and later, Zen and later): 256-bit registers, eight
//! `f32` lanes, four independent accumulators in the single-sum loops.
//!
//! Every function in `imp` is a `#[target_feature]` function and so unsafe to call from code
//! without those features; the only way to reach them is through [`kernels`], which returns the
//! table of safe wrappers only after `is_x86_feature_detected!` confirmed all three features.
//! The remaining `unsafe` blocks are the unaligned loads, each from a slice checked to be long
//! enough. Tails shorter than one register are copied into a zeroed stack buffer: zeros add
//! nothing to any of the sums, so no scalar tail loop (and no second code path) is needed.
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use half::{bf16, f16};

use super::{Family, Kernels};

/// The AVX2 kernel table, if this CPU has AVX2, FMA and F16C.
pub(crate) fn kernels() -> Option<Kernels> {
    let ok = is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c");
    ok.then_some(KERNELS)
}

macro_rules! safe_wrappers {
    ($($name:ident($t:ty) -> $ret:ty;)*) => {$(
        fn $name(a: &[$t], b: &[$t]) -> $ret {
            // SAFETY: these wrappers are private and reachable only through the table that
            // `kernels()` returns after detecting AVX2, FMA and F16C at run time.
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
    name: "avx2+fma+f16c",
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

    // ---- loads: 16 elements as two f32 registers, or 32 raw bytes ----

    /// Two registers of `f32` for one 16-element unit; the pairing of lanes is the same for
    /// both inputs, which is all that elementwise-then-summed metrics need.
    type Pair = (__m256, __m256);

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn ld_f32(s: &[f32]) -> Pair {
        assert!(s.len() >= 16);
        // SAFETY: at least 16 f32 are readable (asserted); `loadu` needs no alignment.
        unsafe {
            (
                _mm256_loadu_ps(s.as_ptr()),
                _mm256_loadu_ps(s.as_ptr().add(8)),
            )
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn ld_u16x8(s: &[u16]) -> __m128i {
        assert!(s.len() >= 8);
        // SAFETY: at least 16 bytes are readable (asserted); `loadu` needs no alignment.
        unsafe { _mm_loadu_si128(s.as_ptr().cast()) }
    }

    /// `vcvtph2ps` on two 8-element loads: the exact IEEE conversion.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn ld_f16(s: &[f16]) -> Pair {
        let s: &[u16] = s.reinterpret_cast();
        (
            _mm256_cvtph_ps(ld_u16x8(s)),
            _mm256_cvtph_ps(ld_u16x8(&s[8..])),
        )
    }

    /// A `bf16` is the top half of an `f32`, so in each 32-bit lane holding two of them the
    /// even one is the lane shifted left by 16 and the odd one is the lane with its low half
    /// cleared: two single-uop integer ops per 16 elements, no shuffles.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn ld_bf16(s: &[bf16]) -> Pair {
        let s: &[u16] = s.reinterpret_cast();
        assert!(s.len() >= 16);
        // SAFETY: at least 32 bytes are readable (asserted); `loadu` needs no alignment.
        let raw = unsafe { _mm256_loadu_si256(s.as_ptr().cast()) };
        let high = _mm256_set1_epi32(0xffff_0000u32 as i32);
        (
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(raw)),
            _mm256_castsi256_ps(_mm256_and_si256(raw, high)),
        )
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn ld_bytes(s: &[u8]) -> __m256i {
        assert!(s.len() >= 32);
        // SAFETY: at least 32 bytes are readable (asserted); `loadu` needs no alignment.
        unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
    }

    fn as_bytes(s: &[i8]) -> &[u8] {
        // SAFETY: `i8` and `u8` have the same size and alignment and every bit pattern is a
        // valid `u8`, so the same memory read as `u8` is the same length and lifetime.
        unsafe { std::slice::from_raw_parts(s.as_ptr().cast(), s.len()) }
    }

    // ---- horizontal sums ----

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn hsum_ps(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn hsum_epi64(v: __m256i) -> i64 {
        _mm256_extract_epi64::<0>(v)
            + _mm256_extract_epi64::<1>(v)
            + _mm256_extract_epi64::<2>(v)
            + _mm256_extract_epi64::<3>(v)
    }

    /// Sum of eight `i32` lanes, widened first so that it cannot overflow.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn hsum_epi32(v: __m256i) -> i64 {
        let lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
        let hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(v));
        hsum_epi64(_mm256_add_epi64(lo, hi))
    }

    // ---- floating-point skeletons ----

    /// Equal-length prefixes of `a` and `b`.
    #[inline(always)]
    fn trim<'a, T>(a: &'a [T], b: &'a [T]) -> (&'a [T], &'a [T]) {
        let n = a.len().min(b.len());
        (&a[..n], &b[..n])
    }

    /// A tail shorter than one 16-element unit, zero-padded to sixteen.
    #[inline(always)]
    fn pad16<T: Copy + Default>(s: &[T]) -> [T; 16] {
        let mut buf = [T::default(); 16];
        buf[..s.len()].copy_from_slice(s);
        buf
    }

    /// `acc = step(acc, x, y)` over 16-element units in four accumulators, 32 elements per
    /// iteration; a remainder of up to 31 in one full and one zero-padded unit.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn fold<T: Copy + Default>(
        a: &[T],
        b: &[T],
        load: impl Fn(&[T]) -> Pair,
        step: impl Fn(__m256, __m256, __m256) -> __m256,
    ) -> f32 {
        let (a, b) = trim(a, b);
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut unit = |k: usize, x: &[T], y: &[T]| {
            let ((x0, x1), (y0, y1)) = (load(x), load(y));
            acc[k] = step(acc[k], x0, y0);
            acc[k + 1] = step(acc[k + 1], x1, y1);
        };
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            unit(0, x, y);
            unit(2, &x[16..], &y[16..]);
        }
        let (ca, cb) = (ra.chunks_exact(16), rb.chunks_exact(16));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            unit(0, x, y);
        }
        if !ta.is_empty() {
            unit(2, &pad16(ta), &pad16(tb));
        }
        hsum_ps(_mm256_add_ps(
            _mm256_add_ps(acc[0], acc[1]),
            _mm256_add_ps(acc[2], acc[3]),
        ))
    }

    /// The three sums of a cosine distance, two accumulators each, 16 elements per iteration.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn fold_cosine<T: Copy + Default>(a: &[T], b: &[T], load: impl Fn(&[T]) -> Pair) -> f32 {
        let (a, b) = trim(a, b);
        let mut dot = [_mm256_setzero_ps(); 2];
        let mut na = [_mm256_setzero_ps(); 2];
        let mut nb = [_mm256_setzero_ps(); 2];
        let mut unit = |x: &[T], y: &[T]| {
            let ((x0, x1), (y0, y1)) = (load(x), load(y));
            for (k, x, y) in [(0, x0, y0), (1, x1, y1)] {
                dot[k] = _mm256_fmadd_ps(x, y, dot[k]);
                na[k] = _mm256_fmadd_ps(x, x, na[k]);
                nb[k] = _mm256_fmadd_ps(y, y, nb[k]);
            }
        };
        let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            unit(x, y);
        }
        if !ta.is_empty() {
            unit(&pad16(ta), &pad16(tb));
        }
        let total = |v: [__m256; 2]| hsum_ps(_mm256_add_ps(v[0], v[1])) as f64;
        cosine_from_sums(total(dot), total(na), total(nb))
    }

    macro_rules! float_kernels {
        ($t:ty, $load:ident, $l2sq:ident, $dot:ident, $l1:ident, $cos:ident) => {
            #[target_feature(enable = "avx2,fma,f16c")]
            pub(super) fn $l2sq(a: &[$t], b: &[$t]) -> f32 {
                fold(
                    a,
                    b,
                    |s| $load(s),
                    |acc, x, y| {
                        let d = _mm256_sub_ps(x, y);
                        _mm256_fmadd_ps(d, d, acc)
                    },
                )
            }

            #[target_feature(enable = "avx2,fma,f16c")]
            pub(super) fn $dot(a: &[$t], b: &[$t]) -> f32 {
                fold(a, b, |s| $load(s), |acc, x, y| _mm256_fmadd_ps(x, y, acc))
            }

            #[target_feature(enable = "avx2,fma,f16c")]
            pub(super) fn $l1(a: &[$t], b: &[$t]) -> f32 {
                fold(
                    a,
                    b,
                    |s| $load(s),
                    |acc, x, y| {
                        let d = _mm256_sub_ps(x, y);
                        _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0), d))
                    },
                )
            }

            #[target_feature(enable = "avx2,fma,f16c")]
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

    /// Runs `step(acc, a[i..i+32], b[i..i+32])` over the vectors, 32 bytes at a time, with
    /// fresh accumulators for every block of `I8_BLOCK` elements, summing `reduce(acc)` per
    /// block in `i64`. The tail of each block is zero-padded to 32 bytes.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn fold_i8<const K: usize>(
        a: &[i8],
        b: &[i8],
        step: impl Fn(&mut [__m256i; K], __m256i, __m256i),
        reduce: impl Fn(__m256i) -> i64,
    ) -> [i64; K] {
        let (a, b) = trim(as_bytes(a), as_bytes(b));
        let mut total = [0i64; K];
        for (ba, bb) in a.chunks(I8_BLOCK).zip(b.chunks(I8_BLOCK)) {
            let mut acc = [_mm256_setzero_si256(); K];
            let (ca, cb) = (ba.chunks_exact(32), bb.chunks_exact(32));
            let (ta, tb) = (ca.remainder(), cb.remainder());
            for (x, y) in ca.zip(cb) {
                step(&mut acc, ld_bytes(x), ld_bytes(y));
            }
            if !ta.is_empty() {
                let (mut pa, mut pb) = ([0u8; 32], [0u8; 32]);
                pa[..ta.len()].copy_from_slice(ta);
                pb[..tb.len()].copy_from_slice(tb);
                step(&mut acc, ld_bytes(&pa), ld_bytes(&pb));
            }
            for (t, v) in total.iter_mut().zip(acc) {
                *t += reduce(v);
            }
        }
        total
    }

    /// The two halves of 32 `i8` as sixteen `i16` each.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn widen(v: __m256i) -> (__m256i, __m256i) {
        (
            _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)),
            _mm256_cvtepi8_epi16(_mm256_extracti128_si256::<1>(v)),
        )
    }

    /// Pairwise `x*y + x'*y'` of two 32-byte `i8` registers, as eight `i32`.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn madd_i8(x: __m256i, y: __m256i) -> __m256i {
        let ((x0, x1), (y0, y1)) = (widen(x), widen(y));
        _mm256_add_epi32(_mm256_madd_epi16(x0, y0), _mm256_madd_epi16(x1, y1))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn l2_squared_i8(a: &[i8], b: &[i8]) -> f32 {
        let [s] = fold_i8(
            a,
            b,
            |acc: &mut [__m256i; 1], x, y| {
                let ((x0, x1), (y0, y1)) = (widen(x), widen(y));
                let (d0, d1) = (_mm256_sub_epi16(x0, y0), _mm256_sub_epi16(x1, y1));
                let sq = _mm256_add_epi32(_mm256_madd_epi16(d0, d0), _mm256_madd_epi16(d1, d1));
                acc[0] = _mm256_add_epi32(acc[0], sq);
            },
            |v| hsum_epi32(v),
        );
        s as f32
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> f32 {
        let [s] = fold_i8(
            a,
            b,
            |acc: &mut [__m256i; 1], x, y| acc[0] = _mm256_add_epi32(acc[0], madd_i8(x, y)),
            |v| hsum_epi32(v),
        );
        s as f32
    }

    /// `|x - y|` summed with `vpsadbw`: flipping the sign bit maps `i8` onto `u8` in order
    /// (x + 128), which keeps every difference, and `sad` sums eight absolute differences into
    /// each `u64` lane.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn l1_i8(a: &[i8], b: &[i8]) -> f32 {
        let [s] = fold_i8(
            a,
            b,
            |acc: &mut [__m256i; 1], x, y| {
                let bias = _mm256_set1_epi8(i8::MIN);
                let sad = _mm256_sad_epu8(_mm256_xor_si256(x, bias), _mm256_xor_si256(y, bias));
                acc[0] = _mm256_add_epi64(acc[0], sad);
            },
            |v| hsum_epi64(v),
        );
        s as f32
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn cosine_i8(a: &[i8], b: &[i8]) -> f32 {
        let [dot, na, nb] = fold_i8(
            a,
            b,
            |acc: &mut [__m256i; 3], x, y| {
                acc[0] = _mm256_add_epi32(acc[0], madd_i8(x, y));
                acc[1] = _mm256_add_epi32(acc[1], madd_i8(x, x));
                acc[2] = _mm256_add_epi32(acc[2], madd_i8(y, y));
            },
            |v| hsum_epi32(v),
        );
        cosine_from_sums(dot as f64, na as f64, nb as f64)
    }

    /// Population count of `a ^ b` with the nibble lookup table of Muła, Kurz and Lemire: two
    /// `vpshufb` per 32 bytes, then `vpsadbw` to sum the byte counts into `u64` lanes.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn hamming_bits(a: &[u8], b: &[u8]) -> u32 {
        let (a, b) = trim(a, b);
        #[rustfmt::skip]
        let lut = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        );
        let low = _mm256_set1_epi8(0x0f);
        let count = |x: __m256i, y: __m256i| {
            let v = _mm256_xor_si256(x, y);
            let lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low));
            let hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16::<4>(v), low));
            _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256())
        };
        let mut acc = _mm256_setzero_si256();
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            acc = _mm256_add_epi64(acc, count(ld_bytes(x), ld_bytes(y)));
        }
        let mut total = hsum_epi64(acc) as u64;
        let (wa, wb) = (ta.chunks_exact(8), tb.chunks_exact(8));
        let (ra, rb) = (wa.remainder(), wb.remainder());
        for (x, y) in wa.zip(wb) {
            let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("chunks of 8"));
            total += (word(x) ^ word(y)).count_ones() as u64;
        }
        for (&x, &y) in ra.iter().zip(rb) {
            total += (x ^ y).count_ones() as u64;
        }
        total as u32
    }
}
