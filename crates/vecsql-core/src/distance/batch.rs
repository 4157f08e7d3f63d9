//! Batch distances: one query against many vectors packed back to back in their element type
//! with no header (a vec0 chunk, or one stored vector), the kernel chosen once per batch. This
//! is what an exact scan and the rescoring of an index's candidates both run, so `distance`
//! never depends on the plan.

use half::{bf16, f16};
use thiserror::Error;

use super::Metric;
use crate::ElementType;

/// A query vector decoded once into the element type of the vectors it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Float32(Vec<f32>),
    Int8(Vec<i8>),
    /// Packed bits, least significant first.
    Bit(Vec<u8>),
    Float16(Vec<f16>),
    BFloat16(Vec<bf16>),
}

impl Query {
    /// The query whose packed little-endian bytes are `bytes`, in `element`; `None` for
    /// FLOAT64 and FLOAT8, which nothing stores packed (FLOAT8 needs its scale).
    pub fn from_packed(element: ElementType, bytes: &[u8]) -> Option<Query> {
        Some(match element {
            ElementType::Float32 => Query::Float32(pod_vec(bytes)),
            ElementType::Int8 => Query::Int8(pod_vec(bytes)),
            ElementType::Bit => Query::Bit(bytes.to_vec()),
            ElementType::Float16 => Query::Float16(pod_vec(bytes)),
            ElementType::BFloat16 => Query::BFloat16(pod_vec(bytes)),
            ElementType::Float64 | ElementType::Float8 => return None,
        })
    }

    /// The query as `f32`, for a graph walk over [`unpack_f32`]'s vectors.
    pub fn to_f32(&self, dims: usize) -> Vec<f32> {
        match self {
            Query::Float32(q) => q.clone(),
            Query::Float16(q) => q.iter().map(|x| x.to_f32()).collect(),
            Query::BFloat16(q) => q.iter().map(|x| x.to_f32()).collect(),
            Query::Int8(q) => q.iter().map(|&x| x as f32).collect(),
            Query::Bit(q) => unpack_f32(ElementType::Bit, q, dims),
        }
    }
}

/// Copies little-endian element bytes into a vector of `T` (a copy also fixes alignment).
fn pod_vec<T: bytemuck::Pod>(bytes: &[u8]) -> Vec<T> {
    let n = bytes.len() / std::mem::size_of::<T>();
    let mut out = vec![T::zeroed(); n];
    bytemuck::cast_slice_mut::<T, u8>(&mut out)
        .copy_from_slice(&bytes[..n * std::mem::size_of::<T>()]);
    out
}

/// One packed vector of `dims` elements as `f32`, for a graph walk. Bits become +1/-1, whose
/// sign codes are the bits again. FLOAT64 and FLOAT8 (never packed without a header) give
/// zeros.
pub fn unpack_f32(element: ElementType, bytes: &[u8], dims: usize) -> Vec<f32> {
    match element {
        ElementType::Float32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        ElementType::Float16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        ElementType::BFloat16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        ElementType::Int8 => bytes.iter().map(|&b| b as i8 as f32).collect(),
        ElementType::Bit => (0..dims)
            .map(|i| {
                if (bytes[i / 8] >> (i % 8)) & 1 == 1 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect(),
        ElementType::Float64 | ElementType::Float8 => vec![0.0; dims],
    }
}

/// Why a batch could not be computed; both are bugs of the caller, not of the data.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BatchError {
    #[error("misaligned vector chunk: {0}")]
    Misaligned(bytemuck::PodCastError),
    #[error("metric {metric:?} does not apply to this vector type")]
    MetricMismatch { metric: Metric },
}

/// How many vectors ahead of the one being compared a scan asks for: far enough that the
/// load is under way when its turn comes, across the 4 KiB page boundaries where the hardware
/// prefetcher stops following the stream.
const PREFETCH_AHEAD: usize = 8;

/// Starts loading `v`'s cache lines; a hint only, it never faults. Scans call it a few
/// vectors ahead; graph walks for the neighbours they are about to measure.
#[allow(unsafe_code)]
#[inline(always)]
pub fn prefetch<T>(v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(v);
        let base = v.as_ptr().cast::<i8>();
        for off in (0..bytes).step_by(64) {
            // SAFETY: `off < bytes`, so the address is inside `v`; a prefetch reads nothing
            // and cannot fault even where the address were invalid.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(base.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// Distances from `query` to the vectors at `slots` of `packed` (vectors of `vector_bytes`
/// bytes back to back, in the query's element type), passed to `emit(slot, distance)`:
///
/// - float32 L1 is sqlite-vec's ([`l1_f32_f64`](super::l1_f32_f64), rounded to `f32`);
/// - dot is the negated inner product;
/// - int8 sums are exact; bits take Hamming only.
///
/// `packed` must be aligned for the element type (vec0 keeps chunks in aligned buffers).
pub fn distances(
    query: &Query,
    metric: Metric,
    vector_bytes: usize,
    packed: &[u8],
    slots: &[usize],
    mut emit: impl FnMut(usize, f64),
) -> Result<(), BatchError> {
    use super::*;
    macro_rules! each {
        ($ty:ty, $q:expr, $f:expr) => {{
            let all: &[$ty] = bytemuck::try_cast_slice(packed).map_err(BatchError::Misaligned)?;
            let per = vector_bytes / std::mem::size_of::<$ty>();
            for (i, &slot) in slots.iter().enumerate() {
                if let Some(&ahead) = slots.get(i + PREFETCH_AHEAD) {
                    prefetch(&all[ahead * per..(ahead + 1) * per]);
                }
                let v = &all[slot * per..(slot + 1) * per];
                emit(slot, $f($q, v) as f64);
            }
        }};
    }
    match (query, metric) {
        (Query::Float32(q), Metric::L2) => each!(f32, q, l2_f32),
        (Query::Float32(q), Metric::Cosine) => each!(f32, q, cosine_f32),
        (Query::Float32(q), Metric::L1) => {
            // sqlite-vec's sum in order is one long chain of dependent additions; eight
            // vectors at a time overlap eight chains with the same results.
            let all: &[f32] = bytemuck::try_cast_slice(packed).map_err(BatchError::Misaligned)?;
            let per = vector_bytes / 4;
            let at = |slot: usize| &all[slot * per..(slot + 1) * per];
            let mut groups = slots.chunks_exact(8);
            for g in &mut groups {
                let d = l1_f32_f64_many(q, std::array::from_fn::<_, 8, _>(|j| at(g[j])));
                for (&slot, d) in g.iter().zip(d) {
                    emit(slot, d as f32 as f64);
                }
            }
            for &slot in groups.remainder() {
                emit(slot, l1_f32_f64(q, at(slot)) as f32 as f64);
            }
        }
        (Query::Float32(q), Metric::Dot) => each!(f32, q, |a, b| -dot_f32(a, b)),
        (Query::Int8(q), Metric::L2) => each!(i8, q, l2_i8),
        (Query::Int8(q), Metric::Cosine) => each!(i8, q, cosine_i8),
        (Query::Int8(q), Metric::L1) => each!(i8, q, l1_i8),
        (Query::Int8(q), Metric::Dot) => each!(i8, q, |a, b| -dot_i8(a, b)),
        (Query::Float16(q), Metric::L2) => each!(f16, q, l2_f16),
        (Query::Float16(q), Metric::Cosine) => each!(f16, q, cosine_f16),
        (Query::Float16(q), Metric::L1) => each!(f16, q, l1_f16),
        (Query::Float16(q), Metric::Dot) => each!(f16, q, |a, b| -dot_f16(a, b)),
        (Query::BFloat16(q), Metric::L2) => each!(bf16, q, l2_bf16),
        (Query::BFloat16(q), Metric::Cosine) => each!(bf16, q, cosine_bf16),
        (Query::BFloat16(q), Metric::L1) => each!(bf16, q, l1_bf16),
        (Query::BFloat16(q), Metric::Dot) => each!(bf16, q, |a, b| -dot_bf16(a, b)),
        (Query::Bit(q), Metric::Hamming) => {
            for &slot in slots {
                let v = &packed[slot * vector_bytes..(slot + 1) * vector_bytes];
                emit(slot, hamming_bits(q, v) as f64);
            }
        }
        (_, metric) => return Err(BatchError::MetricMismatch { metric }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::{l1_f32_f64, l1_f32_f64_many};

    #[test]
    fn packed_queries_round_trip_and_unpack() {
        let bytes: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let q = Query::from_packed(ElementType::Float32, &bytes).unwrap();
        assert_eq!(q, Query::Float32(vec![1.5, -2.0]));
        assert_eq!(q.to_f32(2), vec![1.5, -2.0]);
        assert_eq!(
            Query::from_packed(ElementType::Bit, &[0b01])
                .unwrap()
                .to_f32(3),
            vec![1.0, -1.0, -1.0]
        );
        assert_eq!(Query::from_packed(ElementType::Float64, &bytes), None);
    }

    #[test]
    fn float32_l1_in_groups_is_sqlite_vecs_sum_bit_for_bit() {
        let dims = 67;
        let mut x = 1u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32 * 1e3
        };
        let vectors: Vec<f32> = (0..19 * dims).map(|_| next()).collect();
        let q: Vec<f32> = (0..dims).map(|_| next()).collect();
        let slots: Vec<usize> = (0..19).rev().collect();
        let mut got = Vec::new();
        let query = Query::Float32(q.clone());
        let packed: &[u8] = bytemuck::cast_slice(&vectors);
        distances(&query, Metric::L1, dims * 4, packed, &slots, |s, d| {
            got.push((s, d))
        })
        .unwrap();
        let want: Vec<(usize, f64)> = slots
            .iter()
            .map(|&s| {
                let v = &vectors[s * dims..(s + 1) * dims];
                (s, l1_f32_f64(&q, v) as f32 as f64)
            })
            .collect();
        assert_eq!(got, want);
        let v = |s: usize| &vectors[s * dims..(s + 1) * dims];
        assert_eq!(
            l1_f32_f64_many(&q, [v(3), v(5)]).map(f64::to_bits),
            [
                l1_f32_f64(&q, v(3)).to_bits(),
                l1_f32_f64(&q, v(5)).to_bits()
            ]
        );
    }

    #[test]
    fn distances_emit_each_slot_and_refuse_a_foreign_metric() {
        let aligned = [0.0f32, 0.0, 3.0, 4.0];
        let q = Query::Float32(vec![0.0, 0.0]);
        let mut got = Vec::new();
        distances(
            &q,
            Metric::L2,
            8,
            bytemuck::cast_slice(&aligned),
            &[1, 0],
            |s, d| got.push((s, d)),
        )
        .unwrap();
        assert_eq!(got, [(1, 5.0), (0, 0.0)]);
        assert_eq!(
            distances(
                &q,
                Metric::Hamming,
                8,
                bytemuck::cast_slice(&aligned),
                &[0],
                |_, _| {}
            ),
            Err(BatchError::MetricMismatch {
                metric: Metric::Hamming
            })
        );
    }
}
