//! Exact k-nearest-neighbour search over the chunks of one vector column, with metadata,
//! partition, key and distance filters applied before any vector is compared.
//!
//! Per chunk: the validity bitmap and key filters pick candidate slots; each metadata filter
//! reads its column's chunk blob once and clears candidates that fail; only then are the
//! vectors fetched (from the storage's validated chunk cache, or one `sqlite3_blob_read` of the
//! whole chunk) and distances computed with the SIMD kernels for the surviving slots. A
//! bounded max-heap keeps the best k by (distance, rowid).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use half::{bf16, f16};
use vecsql_core::distance;

use super::filter::RowFilter;
use super::layout::{Layout, Metric};
use super::plan::FilterOp;
use super::storage::{ChunkInfo, RowLocation, Storage};
use crate::error::{SqlError, SqlResult};

/// One search result.
#[derive(Debug, Clone, Copy)]
pub struct Neighbour {
    pub location: RowLocation,
    pub distance: f64,
}

/// (distance, rowid) with NaN after every number, so ordering is total.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    distance: f64,
    rowid: i64,
    chunk_id: i64,
    offset: usize,
}

impl Ranked {
    fn key(&self) -> (f64, i64) {
        let d = if self.distance.is_nan() {
            f64::INFINITY
        } else {
            self.distance
        };
        (d, self.rowid)
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.key(), other.key());
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(self.distance.is_nan().cmp(&other.distance.is_nan()))
    }
}

/// The query vector, decoded once into the column's element type.
pub enum Query {
    Float32(Vec<f32>),
    Int8(Vec<i8>),
    Bit(Vec<u8>),
    Float16(Vec<f16>),
    BFloat16(Vec<bf16>),
}

/// Distances from `query` to `count` vectors laid out back to back in `chunk` (in the column's
/// element type), for the slots set in `candidates`.
fn chunk_distances(
    query: &Query,
    metric: Metric,
    vector_bytes: usize,
    chunk: &[u8],
    candidates: &[usize],
    mut emit: impl FnMut(usize, f64),
) -> SqlResult<()> {
    macro_rules! each {
        ($ty:ty, $q:expr, $f:expr) => {{
            let all: &[$ty] = bytemuck::try_cast_slice(chunk)
                .map_err(|e| SqlError::internal(format!("misaligned vector chunk: {e}")))?;
            let per = vector_bytes / std::mem::size_of::<$ty>();
            for &slot in candidates {
                let v = &all[slot * per..(slot + 1) * per];
                emit(slot, $f($q, v) as f64);
            }
        }};
    }
    match (query, metric) {
        (Query::Float32(q), Metric::L2) => each!(f32, q, distance::l2_f32),
        (Query::Float32(q), Metric::Cosine) => each!(f32, q, distance::cosine_f32),
        (Query::Float32(q), Metric::L1) => each!(f32, q, distance::l1_f32),
        (Query::Float32(q), Metric::Dot) => each!(f32, q, |a, b| -distance::dot_f32(a, b)),
        (Query::Int8(q), Metric::L2) => each!(i8, q, distance::l2_i8),
        (Query::Int8(q), Metric::Cosine) => each!(i8, q, distance::cosine_i8),
        (Query::Int8(q), Metric::L1) => each!(i8, q, distance::l1_i8),
        (Query::Int8(q), Metric::Dot) => each!(i8, q, |a, b| -distance::dot_i8(a, b)),
        (Query::Float16(q), Metric::L2) => each!(f16, q, distance::l2_f16),
        (Query::Float16(q), Metric::Cosine) => each!(f16, q, distance::cosine_f16),
        (Query::Float16(q), Metric::L1) => each!(f16, q, distance::l1_f16),
        (Query::Float16(q), Metric::Dot) => each!(f16, q, |a, b| -distance::dot_f16(a, b)),
        (Query::BFloat16(q), Metric::L2) => each!(bf16, q, distance::l2_bf16),
        (Query::BFloat16(q), Metric::Cosine) => each!(bf16, q, distance::cosine_bf16),
        (Query::BFloat16(q), Metric::L1) => each!(bf16, q, distance::l1_bf16),
        (Query::BFloat16(q), Metric::Dot) => each!(bf16, q, |a, b| -distance::dot_bf16(a, b)),
        (Query::Bit(q), Metric::Hamming) => {
            for &slot in candidates {
                let v = &chunk[slot * vector_bytes..(slot + 1) * vector_bytes];
                emit(slot, distance::hamming_bits(q, v) as f64);
            }
        }
        (_, metric) => {
            return Err(SqlError::internal(format!(
                "metric {metric:?} does not apply to this vector type"
            )))
        }
    }
    Ok(())
}

pub struct KnnSearch<'a> {
    pub storage: &'a Storage,
    pub vector_column: usize,
    pub query: Query,
    pub k: usize,
    pub filter: RowFilter,
    pub distance_bounds: Vec<(FilterOp, f64)>,
}

impl KnnSearch<'_> {
    pub fn run(&self) -> SqlResult<Vec<Neighbour>> {
        if self.k == 0 {
            return Ok(Vec::new());
        }
        let layout: &Layout = &self.storage.layout;
        let column = &layout.vectors[self.vector_column];
        let vector_bytes = column.vector_bytes();
        let chunks: Vec<ChunkInfo> = self.storage.chunks(&self.filter.partitions)?;
        let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(self.k + 1);
        self.storage.validate_vector_cache()?;
        for chunk in &chunks {
            let candidates = self.filter.candidates(self.storage, chunk)?;
            if candidates.is_empty() {
                continue;
            }
            let vectors = self
                .storage
                .vector_chunk(self.vector_column, chunk.chunk_id)?;
            chunk_distances(
                &self.query,
                column.metric,
                vector_bytes,
                vectors.bytes(),
                &candidates,
                |slot, distance| {
                    // -0.0 (e.g. the negated dot product of orthogonal vectors) is the same
                    // distance as 0.0 in SQL; left signed, `distance >= 0` would drop it and
                    // the (distance, rowid) order would put it before every 0.0.
                    let distance = if distance == 0.0 { 0.0 } else { distance };
                    // Compared as SQL compares numbers: NaN (output as NULL) passes no bound.
                    if !self.distance_bounds.iter().all(|(op, bound)| {
                        distance.partial_cmp(bound).is_some_and(|o| op.accepts(o))
                    }) {
                        return;
                    }
                    let ranked = Ranked {
                        distance,
                        rowid: chunk.rowid(slot),
                        chunk_id: chunk.chunk_id,
                        offset: slot,
                    };
                    if heap.len() < self.k {
                        heap.push(ranked);
                    } else if let Some(worst) = heap.peek() {
                        if ranked < *worst {
                            heap.pop();
                            heap.push(ranked);
                        }
                    }
                },
            )?;
        }
        let mut out = heap.into_sorted_vec();
        out.truncate(self.k);
        Ok(out
            .into_iter()
            .map(|r| Neighbour {
                location: RowLocation {
                    rowid: r.rowid,
                    chunk_id: r.chunk_id,
                    offset: r.offset,
                },
                distance: r.distance,
            })
            .collect())
    }
}
