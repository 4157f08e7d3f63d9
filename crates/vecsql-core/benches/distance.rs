//! Distance kernel throughput: the dispatched kernel against the naive scalar loop, for each
//! element type at 384 and 1536 dimensions. Throughput is the bytes of both inputs, so criterion
//! prints GB/s directly.
//!
//! `cargo bench -p vecsql-core --bench distance -- --warm-up-time 1 --measurement-time 2`
//!
//! With `VECSQL_BENCH_ALL_VARIANTS=1` every kernel variant this CPU can run (portable, AVX2,
//! AVX-512) is measured as well, under its own name.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use half::{bf16, f16};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vecsql_core::distance::{self, scalar, Kernels};

const DIMS: [usize; 2] = [384, 1536];

type Kernel<T, R> = fn(&[T], &[T]) -> R;

/// The implementations to compare: the public (dispatched) function, the reference loop, and
/// optionally every variant.
fn implementations<T, R>(
    dispatched: Kernel<T, R>,
    naive: Kernel<T, R>,
    pick: impl Fn(&Kernels) -> Kernel<T, R>,
) -> Vec<(String, Kernel<T, R>)> {
    let mut all = vec![
        (
            format!("dispatched({})", distance::kernel_backend()),
            dispatched,
        ),
        ("naive".to_string(), naive),
    ];
    if std::env::var_os("VECSQL_BENCH_ALL_VARIANTS").is_some() {
        for k in distance::variants().iter().filter(|k| k.name != "scalar") {
            all.push((k.name.to_string(), pick(k)));
        }
    }
    all
}

fn bench_kernel<T, R>(
    c: &mut Criterion,
    name: &str,
    make: impl Fn(&mut StdRng, usize) -> Vec<T>,
    bytes_per_dim: f64,
    impls: Vec<(String, Kernel<T, R>)>,
) {
    let mut group = c.benchmark_group(name);
    let mut rng = StdRng::seed_from_u64(42);
    for dims in DIMS {
        let (a, b) = (make(&mut rng, dims), make(&mut rng, dims));
        group.throughput(Throughput::Bytes(
            (2.0 * dims as f64 * bytes_per_dim) as u64,
        ));
        for (label, f) in &impls {
            group.bench_with_input(BenchmarkId::new(label.as_str(), dims), &dims, |bench, _| {
                bench.iter(|| f(black_box(&a), black_box(&b)))
            });
        }
    }
    group.finish();
}

fn f32s(rng: &mut StdRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

fn f16s(rng: &mut StdRng, n: usize) -> Vec<f16> {
    f32s(rng, n).into_iter().map(f16::from_f32).collect()
}

fn bf16s(rng: &mut StdRng, n: usize) -> Vec<bf16> {
    f32s(rng, n).into_iter().map(bf16::from_f32).collect()
}

fn i8s(rng: &mut StdRng, n: usize) -> Vec<i8> {
    (0..n).map(|_| rng.gen()).collect()
}

/// `dims` bits, packed.
fn bits(rng: &mut StdRng, dims: usize) -> Vec<u8> {
    (0..dims / 8).map(|_| rng.gen()).collect()
}

macro_rules! bench_family {
    ($c:expr, $prefix:literal, $make:expr, $size:expr, $fam:ident,
     [$(($metric:ident, $field:ident, $public:path, $naive:path)),*]) => {$(
        bench_kernel(
            $c,
            concat!($prefix, "_", stringify!($metric)),
            $make,
            $size,
            implementations($public, $naive, |k: &Kernels| k.$fam.$field),
        );
    )*};
}

fn kernels(c: &mut Criterion) {
    bench_family! {c, "f32", f32s, 4.0, f32, [
        (l2sq, l2_squared, distance::l2_squared_f32, scalar::l2_squared_f32),
        (dot, dot, distance::dot_f32, scalar::dot_f32),
        (cosine, cosine, distance::cosine_f32, scalar::cosine_f32),
        (l1, l1, distance::l1_f32, scalar::l1_f32)
    ]}
    bench_family! {c, "f16", f16s, 2.0, f16, [
        (l2sq, l2_squared, distance::l2_squared_f16, scalar::l2_squared_f16),
        (dot, dot, distance::dot_f16, scalar::dot_f16),
        (cosine, cosine, distance::cosine_f16, scalar::cosine_f16)
    ]}
    bench_family! {c, "bf16", bf16s, 2.0, bf16, [
        (l2sq, l2_squared, distance::l2_squared_bf16, scalar::l2_squared_bf16),
        (dot, dot, distance::dot_bf16, scalar::dot_bf16),
        (cosine, cosine, distance::cosine_bf16, scalar::cosine_bf16)
    ]}
    bench_family! {c, "i8", i8s, 1.0, i8, [
        (l2sq, l2_squared, distance::l2_squared_i8, scalar::l2_squared_i8),
        (dot, dot, distance::dot_i8, scalar::dot_i8),
        (cosine, cosine, distance::cosine_i8, scalar::cosine_i8)
    ]}
    bench_kernel(
        c,
        "hamming",
        bits,
        1.0 / 8.0,
        implementations(distance::hamming_bits, scalar::hamming_bits, |k| {
            k.hamming_bits
        }),
    );
}

criterion_group!(benches, kernels);
criterion_main!(benches);
