//! Runtime kernel selection, done once per process.
//!
//! [`variants`] lists every kernel table this CPU can run, slowest first; the first call to any
//! distance function stores the last (fastest) of them in a [`OnceLock`], and every later call
//! is one atomic load and an indirect call. The environment variable `VECSQL_KERNELS`, read at
//! that first call, can force a slower variant by name (`scalar`, `portable`, ...) to rule a
//! kernel in or out when chasing a numeric difference; an unknown or unavailable name is
//! ignored.

use std::sync::OnceLock;

use super::{portable, scalar, Family, Kernels};

/// The reference loops as a kernel table: never selected unless forced, but listed so that
/// tests and benchmarks can treat them like any variant.
const SCALAR: Kernels = Kernels {
    name: "scalar",
    f32: Family {
        l2_squared: scalar::l2_squared_f32,
        dot: scalar::dot_f32,
        l1: scalar::l1_f32,
        cosine: scalar::cosine_f32,
    },
    f16: Family {
        l2_squared: scalar::l2_squared_f16,
        dot: scalar::dot_f16,
        l1: scalar::l1_f16,
        cosine: scalar::cosine_f16,
    },
    bf16: Family {
        l2_squared: scalar::l2_squared_bf16,
        dot: scalar::dot_bf16,
        l1: scalar::l1_bf16,
        cosine: scalar::cosine_bf16,
    },
    i8: Family {
        l2_squared: scalar::l2_squared_i8,
        dot: scalar::dot_i8,
        l1: scalar::l1_i8,
        cosine: scalar::cosine_i8,
    },
    hamming_bits: scalar::hamming_bits,
};

static SELECTED: OnceLock<Kernels> = OnceLock::new();

/// Every kernel table that can run on this CPU, from the reference loops to the widest SIMD.
/// Each SIMD table is only built after its CPU features were detected, so every function
/// pointer in every returned table is safe to call.
pub fn variants() -> Vec<Kernels> {
    #[allow(unused_mut)] // only x86_64 pushes more
    let mut all = vec![SCALAR, portable::KERNELS];
    #[cfg(target_arch = "x86_64")]
    {
        all.extend(super::avx2::kernels());
        all.extend(super::avx512::kernels());
    }
    all
}

fn select() -> Kernels {
    let mut all = variants();
    if let Ok(forced) = std::env::var("VECSQL_KERNELS") {
        if let Some(k) = all.iter().find(|k| k.name == forced) {
            return *k;
        }
    }
    all.pop()
        .expect("the portable kernels are always available")
}

/// The kernel table every distance function of this module dispatches to.
#[inline]
pub fn kernels() -> &'static Kernels {
    SELECTED.get_or_init(select)
}

/// The name of the selected kernel table, e.g. `"avx512"`, `"avx2+fma+f16c"` or `"portable"`;
/// `vec_debug()` reports it.
pub fn kernel_backend() -> &'static str {
    kernels().name
}
