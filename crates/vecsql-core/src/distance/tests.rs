//! Every kernel of every variant this CPU can run, against an `f64` reference computed here and
//! against the scalar module, on seeded random vectors, edge lengths, special values and
//! proptest-generated inputs.

use half::{bf16, f16};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

/// The lengths the brief asks for, plus every edge of the 8/16/32/64-lane loops.
const LENGTHS: &[usize] = &[
    0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127, 128, 129, 384, 1000, 1536,
    4095,
];

/// Exact sums of the four metrics, in `f64`, plus the scale `sum |x*y|` of the inner product.
struct Reference {
    l2_squared: f64,
    dot: f64,
    dot_scale: f64,
    l1: f64,
    cosine: f64,
}

fn reference(a: &[f64], b: &[f64]) -> Reference {
    let mut r = Reference {
        l2_squared: 0.0,
        dot: 0.0,
        dot_scale: 0.0,
        l1: 0.0,
        cosine: 0.0,
    };
    let (mut na, mut nb) = (0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        r.l2_squared += (x - y) * (x - y);
        r.dot += x * y;
        r.dot_scale += (x * y).abs();
        r.l1 += (x - y).abs();
        na += x * x;
        nb += y * y;
    }
    r.cosine = 1.0 - r.dot / (na.sqrt() * nb.sqrt());
    r
}

/// A bound on the relative (to the sum of absolute terms) error of an `f32` sum of `n` terms:
/// the reference loop sums recursively (error grows with `n`); every other variant keeps at
/// least 16 partial sums.
fn bound(variant: &str, n: usize) -> f64 {
    let eps = f32::EPSILON as f64;
    let depth = if variant == "scalar" { n } else { n / 16 };
    2.0 * eps * (depth as f64 + 64.0)
}

fn close(what: &str, got: f32, want: f64, tol: f64) {
    let err = (got as f64 - want).abs();
    assert!(
        err <= tol,
        "{what}: got {got}, want {want}, error {err:e} > {tol:e}"
    );
}

fn check_float_family<T: Copy>(
    variant: &str,
    family: &Family<T>,
    to_f64: impl Fn(T) -> f64,
    a: &[T],
    b: &[T],
) {
    let n = a.len();
    let (fa, fb): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|&x| to_f64(x)).collect(),
        b.iter().map(|&x| to_f64(x)).collect(),
    );
    let r = reference(&fa, &fb);
    let tol = bound(variant, n);
    let what = |m: &str| format!("{variant} {} {m} n={n}", std::any::type_name::<T>());
    close(
        &what("l2sq"),
        (family.l2_squared)(a, b),
        r.l2_squared,
        tol * r.l2_squared,
    );
    close(
        &what("dot"),
        (family.dot)(a, b),
        r.dot,
        tol * r.dot_scale + 1e-30,
    );
    close(&what("l1"), (family.l1)(a, b), r.l1, tol * r.l1);
    let cos = (family.cosine)(a, b);
    if n == 0 || !r.cosine.is_finite() {
        assert!(cos.is_nan(), "{}: {cos} is not NaN", what("cosine"));
    } else {
        // |a.b| <= |a||b|, so the sum errors move the cosine by at most ~3 bounds.
        close(&what("cosine"), cos, r.cosine, 3.0 * tol + 1e-6);
        if n >= 384 {
            let rel = (cos as f64 - r.cosine).abs() / r.cosine.abs();
            assert!(rel < 1e-4, "{}: relative error {rel:e}", what("cosine"));
        }
    }
}

fn random_f32(rng: &mut StdRng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(lo..hi)).collect()
}

fn random_i8(rng: &mut StdRng, n: usize) -> Vec<i8> {
    (0..n).map(|_| rng.gen()).collect()
}

fn check_all_float(k: &Kernels, a: &[f32], b: &[f32]) {
    check_float_family(k.name, &k.f32, |x| x as f64, a, b);
    let (ha, hb): (Vec<f16>, Vec<f16>) = (
        a.iter().map(|&x| f16::from_f32(x)).collect(),
        b.iter().map(|&x| f16::from_f32(x)).collect(),
    );
    check_float_family(k.name, &k.f16, |x: f16| x.to_f64(), &ha, &hb);
    let (ba, bb): (Vec<bf16>, Vec<bf16>) = (
        a.iter().map(|&x| bf16::from_f32(x)).collect(),
        b.iter().map(|&x| bf16::from_f32(x)).collect(),
    );
    check_float_family(k.name, &k.bf16, |x: bf16| x.to_f64(), &ba, &bb);
}

/// `i8` sums are exact in every variant, so results must be bit-identical to the reference.
fn check_i8(k: &Kernels, a: &[i8], b: &[i8]) {
    let n = a.len();
    let name = k.name;
    assert_eq!(
        (k.i8.l2_squared)(a, b),
        scalar::l2_squared_i8(a, b),
        "{name} l2sq n={n}"
    );
    assert_eq!((k.i8.dot)(a, b), scalar::dot_i8(a, b), "{name} dot n={n}");
    assert_eq!((k.i8.l1)(a, b), scalar::l1_i8(a, b), "{name} l1 n={n}");
    let (got, want) = ((k.i8.cosine)(a, b), scalar::cosine_i8(a, b));
    assert!(
        got == want || (got.is_nan() && want.is_nan()),
        "{name} cosine n={n}: {got} vs {want}"
    );
}

#[test]
fn distance_variants_include_scalar_portable_and_the_selected_one() {
    let all = variants();
    let names: Vec<_> = all.iter().map(|k| k.name).collect();
    assert_eq!(&names[..2], &["scalar", "portable"]);
    assert!(
        names.contains(&kernel_backend()),
        "{} not in {names:?}",
        kernel_backend()
    );
    if std::env::var_os("VECSQL_KERNELS").is_none() {
        assert_eq!(kernel_backend(), *names.last().unwrap());
    }
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c")
    {
        assert!(names.contains(&"avx2+fma+f16c"), "{names:?}");
    }
    eprintln!(
        "distance kernel variants: {names:?}, selected {}",
        kernel_backend()
    );
}

#[test]
fn distance_float_kernels_match_reference_on_random_vectors() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    for k in variants() {
        for &n in LENGTHS {
            let (a, b) = (
                random_f32(&mut rng, n, -1.0, 1.0),
                random_f32(&mut rng, n, -1.0, 1.0),
            );
            check_all_float(&k, &a, &b);
            // All-positive inputs: cosine distance near 0.25, large l2 and dot sums.
            let (a, b) = (
                random_f32(&mut rng, n, 0.0, 10.0),
                random_f32(&mut rng, n, 0.0, 10.0),
            );
            check_all_float(&k, &a, &b);
        }
    }
}

#[test]
fn distance_i8_kernels_are_exact() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0002);
    let long = [I8_BLOCK - 1, I8_BLOCK, I8_BLOCK + 1, 2 * I8_BLOCK + 77];
    for k in variants() {
        for &n in LENGTHS.iter().chain(&long) {
            check_i8(&k, &random_i8(&mut rng, n), &random_i8(&mut rng, n));
        }
        // Extremes over more than MAX_DIMENSIONS: every i32 lane at its fullest, across blocks.
        let n = 70_000;
        let (lo, hi) = (vec![i8::MIN; n], vec![i8::MAX; n]);
        check_i8(&k, &lo, &hi);
        check_i8(&k, &lo, &lo);
        assert_eq!(
            (k.i8.l2_squared)(&lo, &hi),
            (255i64 * 255 * n as i64) as f32
        );
        assert_eq!((k.i8.dot)(&lo, &lo), (128i64 * 128 * n as i64) as f32);
        assert_eq!((k.i8.l1)(&lo, &hi), (255 * n) as f32);
    }
}

#[test]
fn distance_hamming_is_exact() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0003);
    let byte_lengths = [
        0, 1, 7, 8, 9, 31, 32, 33, 48, 63, 64, 65, 127, 128, 129, 192, 200, 511, 4095,
    ];
    for k in variants() {
        for &n in &byte_lengths {
            let a: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            let b: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            assert_eq!(
                (k.hamming_bits)(&a, &b),
                scalar::hamming_bits(&a, &b),
                "{} n={n}",
                k.name
            );
            assert_eq!((k.hamming_bits)(&a, &a), 0);
            let ones = vec![0xffu8; n];
            let zeros = vec![0u8; n];
            assert_eq!(
                (k.hamming_bits)(&ones, &zeros),
                8 * n as u32,
                "{} n={n}",
                k.name
            );
        }
    }
}

#[test]
fn distance_kernels_ignore_alignment() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0004);
    let (a, b) = (
        random_f32(&mut rng, 1600, -1.0, 1.0),
        random_f32(&mut rng, 1600, -1.0, 1.0),
    );
    let (ia, ib) = (random_i8(&mut rng, 1600), random_i8(&mut rng, 1600));
    let (ua, ub): (Vec<u8>, Vec<u8>) = (
        ia.iter().map(|&x| x as u8).collect(),
        ib.iter().map(|&x| x as u8).collect(),
    );
    for k in variants() {
        for off in 0..5 {
            let (m, other) = (1536 + off, 3 - off % 3);
            check_all_float(&k, &a[off..off + m], &b[other..other + m]);
            check_i8(&k, &ia[off..off + m], &ib[other..other + m]);
            let (x, y) = (&ua[off..off + m], &ub[other..other + m]);
            assert_eq!(
                (k.hamming_bits)(x, y),
                scalar::hamming_bits(x, y),
                "{}",
                k.name
            );
        }
    }
}

#[test]
fn distance_empty_and_zero_norm_vectors() {
    for k in variants() {
        let e: [f32; 0] = [];
        assert_eq!((k.f32.l2_squared)(&e, &e), 0.0, "{}", k.name);
        assert_eq!((k.f32.dot)(&e, &e), 0.0);
        assert_eq!((k.f32.l1)(&e, &e), 0.0);
        assert!((k.f32.cosine)(&e, &e).is_nan());
        assert!((k.f16.cosine)(&[], &[]).is_nan());
        assert!((k.bf16.cosine)(&[], &[]).is_nan());
        assert!((k.i8.cosine)(&[], &[]).is_nan());
        assert_eq!((k.i8.l2_squared)(&[], &[]), 0.0);
        assert_eq!((k.hamming_bits)(&[], &[]), 0);
        let zero = [0.0f32; 37];
        let one: Vec<f32> = (0..37).map(|i| i as f32).collect();
        assert!((k.f32.cosine)(&zero, &one).is_nan(), "{}", k.name);
        assert!((k.f32.cosine)(&one, &zero).is_nan(), "{}", k.name);
        assert!((k.i8.cosine)(&[0; 70], &[1; 70]).is_nan(), "{}", k.name);
        let x: Vec<f32> = (1..=100).map(|i| i as f32 * 0.37).collect();
        let neg: Vec<f32> = x.iter().map(|v| -2.0 * v).collect();
        close("cos(x, x)", (k.f32.cosine)(&x, &x), 0.0, 1e-6);
        close("cos(x, -2x)", (k.f32.cosine)(&x, &neg), 2.0, 1e-6);
    }
    assert!(cosine_f32(&[0.0; 4], &[0.0; 4]).is_nan());
    assert!(cosine_f64(&[0.0; 4], &[1.0; 4]).is_nan());
}

#[test]
fn distance_nan_and_infinity_propagate_from_any_position() {
    for k in variants() {
        for n in [1usize, 9, 17, 33, 100] {
            for pos in [0, n / 2, n - 1] {
                let mut a = vec![0.5f32; n];
                let b = vec![0.25f32; n];
                a[pos] = f32::NAN;
                for f in [k.f32.l2_squared, k.f32.dot, k.f32.l1, k.f32.cosine] {
                    assert!(f(&a, &b).is_nan(), "{} n={n} pos={pos}", k.name);
                }
                a[pos] = f32::INFINITY;
                assert_eq!(
                    (k.f32.dot)(&a, &b),
                    f32::INFINITY,
                    "{} n={n} pos={pos}",
                    k.name
                );
                let mut h = vec![f16::from_f32(0.5); n];
                h[pos] = f16::INFINITY;
                let hb = vec![f16::from_f32(0.25); n];
                assert_eq!(
                    (k.f16.l1)(&h, &hb),
                    f32::INFINITY,
                    "{} n={n} pos={pos}",
                    k.name
                );
                h[pos] = f16::NAN;
                assert!((k.f16.dot)(&h, &hb).is_nan(), "{} n={n} pos={pos}", k.name);
            }
        }
    }
}

#[test]
fn distance_simd_variants_cut_unequal_lengths_to_the_shorter() {
    let a: Vec<f32> = (0..40).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..40).map(|i| (i * 2) as f32).collect();
    for k in variants().into_iter().filter(|k| k.name != "scalar") {
        assert_eq!(
            (k.f32.l1)(&a[..33], &b[..9]),
            (k.f32.l1)(&a[..9], &b[..9]),
            "{}",
            k.name
        );
        let (x, y) = ([1i8; 100], [2i8; 3]);
        assert_eq!((k.i8.dot)(&x, &y), 6.0, "{}", k.name);
        assert_eq!((k.hamming_bits)(&[0xff; 70], &[0; 65]), 520, "{}", k.name);
    }
}

#[test]
fn distance_public_functions_use_the_selected_kernels() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0005);
    let k = kernels();
    let (a, b) = (
        random_f32(&mut rng, 384, -1.0, 1.0),
        random_f32(&mut rng, 384, -1.0, 1.0),
    );
    assert_eq!(l2_squared_f32(&a, &b), (k.f32.l2_squared)(&a, &b));
    assert_eq!(l2_f32(&a, &b), (k.f32.l2_squared)(&a, &b).sqrt());
    assert_eq!(dot_f32(&a, &b), (k.f32.dot)(&a, &b));
    assert_eq!(l1_f32(&a, &b), (k.f32.l1)(&a, &b));
    assert_eq!(cosine_f32(&a, &b), (k.f32.cosine)(&a, &b));
    let h: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
    assert_eq!(l2_f16(&h, &h), 0.0);
    assert_eq!(dot_f16(&h, &h), (k.f16.dot)(&h, &h));
    let bf: Vec<bf16> = a.iter().map(|&x| bf16::from_f32(x)).collect();
    assert_eq!(l1_bf16(&bf, &bf), 0.0);
    assert_eq!(cosine_bf16(&bf, &bf), (k.bf16.cosine)(&bf, &bf));
    assert_eq!(l2_squared_bf16(&bf, &bf), 0.0);
    assert_eq!(l2_i8(&[3, 0], &[0, 4]), 5.0);
    assert_eq!(dot_i8(&[3, -2], &[5, 7]), 1.0);
    assert_eq!(l1_i8(&[-128], &[127]), 255.0);
    assert_eq!(l2_squared_i8(&[-128], &[127]), 65025.0);
    assert!((cosine_i8(&[1, 0], &[0, 1]) - 1.0).abs() < 1e-7);
    assert_eq!(hamming_bits(&[0b1011, 0xff], &[0b0001, 0x0f]), 6);
    assert_eq!(l1_f16(&[f16::ONE], &[f16::from_f32(-2.0)]), 3.0);
    assert_eq!(l2_squared_f16(&[f16::ONE], &[f16::from_f32(-2.0)]), 9.0);
    assert_eq!(cosine_f16(&[f16::ONE], &[f16::ONE]), 0.0);
    assert_eq!(dot_bf16(&[bf16::ONE; 3], &[bf16::from_f32(2.0); 3]), 6.0);
    assert_eq!(
        l2_bf16(
            &[bf16::ZERO, bf16::ZERO],
            &[bf16::from_f32(3.0), bf16::from_f32(4.0)]
        ),
        5.0
    );
}

#[test]
fn distance_f64_functions_match_scalar() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0006);
    for &n in LENGTHS {
        let a: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let b: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let r = reference(&a, &b);
        let tol = 1e-13;
        assert!(
            (l2_squared_f64(&a, &b) - scalar::l2_squared_f64(&a, &b)).abs() <= tol * r.l2_squared
        );
        assert!((l2_f64(&a, &b) - scalar::l2_f64(&a, &b)).abs() <= tol * r.l2_squared.sqrt());
        assert!((dot_f64(&a, &b) - scalar::dot_f64(&a, &b)).abs() <= tol * r.dot_scale);
        assert!((l1_f64(&a, &b) - scalar::l1_f64(&a, &b)).abs() <= tol * r.l1);
        let (c, s) = (cosine_f64(&a, &b), scalar::cosine_f64(&a, &b));
        assert!(
            (c - s).abs() <= 1e-12 || (n == 0 && c.is_nan() && s.is_nan()),
            "n={n}"
        );
    }
    assert_eq!(l2_f64(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
    assert_eq!(dot_f64(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    assert_eq!(l1_f64(&[1.0, 2.0], &[3.0, -4.0]), 8.0);
}

#[test]
fn distance_portable_f16_conversion_is_exact_for_every_bit_pattern() {
    for bits in 0..=u16::MAX {
        let h = f16::from_bits(bits);
        let (got, want) = (portable::f16_to_f32(h), h.to_f32());
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{bits:#06x}: {got} vs {want}"
        );
    }
}

fn float_pair(max_len: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    (0..max_len).prop_flat_map(|n| {
        let v = prop::collection::vec(-1e3f32..1e3, n);
        (v.clone(), v)
    })
}

fn i8_pair(max_len: usize) -> impl Strategy<Value = (Vec<i8>, Vec<i8>)> {
    (0..max_len).prop_flat_map(|n| {
        let v = prop::collection::vec(any::<i8>(), n);
        (v.clone(), v)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn distance_prop_float_kernels_match_reference((a, b) in float_pair(700)) {
        for k in variants() {
            check_all_float(&k, &a, &b);
        }
    }

    #[test]
    fn distance_prop_f16_bit_patterns_match_scalar(
        bits in (0usize..300).prop_flat_map(|n| {
            let v = prop::collection::vec(any::<u16>(), n);
            (v.clone(), v)
        })
    ) {
        // Arbitrary finite halves, up to 65504: sums can reach 1e12, still exact-ish in f32.
        let finite = |v: &[u16]| -> Vec<f16> {
            v.iter().map(|&b| f16::from_bits(b)).map(|h| if h.is_finite() { h } else { f16::ONE }).collect()
        };
        let (a, b) = (finite(&bits.0), finite(&bits.1));
        for k in variants() {
            check_float_family(k.name, &k.f16, |x: f16| x.to_f64(), &a, &b);
        }
    }

    #[test]
    fn distance_prop_i8_kernels_are_exact((a, b) in i8_pair(3000)) {
        for k in variants() {
            check_i8(&k, &a, &b);
        }
    }

    #[test]
    fn distance_prop_hamming_is_exact((a, b) in i8_pair(700)) {
        let (a, b): (Vec<u8>, Vec<u8>) = (a.iter().map(|&x| x as u8).collect(), b.iter().map(|&x| x as u8).collect());
        for k in variants() {
            prop_assert_eq!((k.hamming_bits)(&a, &b), scalar::hamming_bits(&a, &b), "{}", k.name);
        }
    }
}
