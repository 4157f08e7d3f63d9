//! Exact k-nearest-neighbour search over the chunks of one vector column, with metadata,
//! partition, key and distance filters applied before any vector is compared.
//!
//! Per chunk: the validity bitmap and key filters pick candidate slots; each metadata filter
//! reads its column's chunk blob once and clears candidates that fail; only then are the
//! vectors fetched (from the storage's validated chunk cache, or one `sqlite3_blob_read` of the
//! whole chunk) and distances computed with the SIMD kernels for the surviving slots. A
//! bounded max-heap keeps the best k by (distance, rowid).

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

use half::{bf16, f16};
use vecsql_core::distance;

use super::filter::RowFilter;
use super::plan::FilterOp;
use crate::vec0::error::{reword, Vec0Error, Vec0Result};
use crate::vec0::layout::{Layout, Metric};
use crate::vec0::storage::{ChunkInfo, RowLocation, Storage};

/// One search result.
#[derive(Debug, Clone, Copy)]
pub struct Neighbour {
    pub location: RowLocation,
    pub distance: f64,
}

impl Neighbour {
    /// The order of KNN results: ascending (distance, rowid), NaN after every number.
    pub fn rank_cmp(&self, other: &Neighbour) -> Ordering {
        Ranked::from(self).cmp(&Ranked::from(other))
    }
}

impl From<&Neighbour> for Ranked {
    fn from(n: &Neighbour) -> Ranked {
        Ranked {
            distance: n.distance,
            rowid: n.location.rowid,
            chunk_id: n.location.chunk_id,
            offset: n.location.offset,
        }
    }
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
#[derive(Debug)]
pub enum Query {
    Float32(Vec<f32>),
    Int8(Vec<i8>),
    Bit(Vec<u8>),
    Float16(Vec<f16>),
    BFloat16(Vec<bf16>),
}

/// Distances from `query` to `count` vectors laid out back to back in `chunk` (in the column's
/// element type), for the slots set in `candidates`.
pub(crate) fn chunk_distances(
    query: &Query,
    metric: Metric,
    vector_bytes: usize,
    chunk: &[u8],
    candidates: &[usize],
    mut emit: impl FnMut(usize, f64),
) -> Vec0Result<()> {
    macro_rules! each {
        ($ty:ty, $q:expr, $f:expr) => {{
            let all: &[$ty] = bytemuck::try_cast_slice(chunk)
                .map_err(|e| Vec0Error::internal(format!("misaligned vector chunk: {e}")))?;
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
            return Err(Vec0Error::internal(format!(
                "metric {metric:?} does not apply to this vector type"
            )))
        }
    }
    Ok(())
}

/// Below this many candidate vectors a scan stays on one thread.
const PARALLEL_MIN_VECTORS: usize = 20_000;
/// More threads than this only contend for memory bandwidth.
const MAX_THREADS: usize = 4;

struct ChunkWork<'c> {
    chunk: &'c ChunkInfo,
    candidates: &'c [usize],
    vectors: std::sync::Arc<crate::vec0::storage::AlignedChunk>,
}

fn push_bounded(heap: &mut BinaryHeap<Ranked>, ranked: Ranked, k: usize) {
    if heap.len() < k {
        heap.push(ranked);
    } else if let Some(worst) = heap.peek() {
        if ranked < *worst {
            heap.pop();
            heap.push(ranked);
        }
    }
}

pub struct KnnSearch<'a> {
    pub storage: &'a Storage,
    pub vector_column: usize,
    pub query: Query,
    pub k: usize,
    pub filter: RowFilter,
    pub distance_bounds: Vec<(FilterOp, f64)>,
}

/// What the distance phase needs: nothing that belongs to SQLite, so it can run on any thread.
struct ScanSpec<'q> {
    query: &'q Query,
    metric: Metric,
    vector_bytes: usize,
    k: usize,
    distance_bounds: &'q [(FilterOp, f64)],
}

impl ScanSpec<'_> {
    /// The best k of `part`, by (distance, rowid).
    fn scan(&self, part: &[ChunkWork<'_>]) -> Vec0Result<BinaryHeap<Ranked>> {
        let (metric, vector_bytes) = (self.metric, self.vector_bytes);
        let mut heap = BinaryHeap::with_capacity(self.k + 1);
        for w in part {
            chunk_distances(
                self.query,
                metric,
                vector_bytes,
                w.vectors.bytes(),
                w.candidates,
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
                        rowid: w.chunk.rowid(slot),
                        chunk_id: w.chunk.chunk_id,
                        offset: slot,
                    };
                    push_bounded(&mut heap, ranked, self.k);
                },
            )?;
        }
        Ok(heap)
    }
}

/// The chunks a search may read, each with the slots that pass every filter.
pub type Candidates = Vec<(ChunkInfo, Vec<usize>)>;

impl KnnSearch<'_> {
    /// Phase 1 of a scan, on SQLite's thread: the slots that pass the filters (metadata
    /// filters read their column blobs; no vector is read).
    pub fn candidates(&self) -> Vec0Result<Candidates> {
        let mut out = Vec::new();
        let only = self.chunks_of_listed_keys()?;
        if only.as_ref().is_some_and(|ids| ids.is_empty()) {
            return Ok(out);
        }
        let chunks = self
            .storage
            .chunks_among(&self.filter.partitions, only.as_deref())
            .map_err(|e| reword(e, "Error preparing stmtChunk", false))?;
        // `chunks` checked the validity and rowids blobs' sizes (sqlite-vec's checks).
        for chunk in chunks {
            let slots = self.filter.candidates(self.storage, &chunk)?;
            if !slots.is_empty() {
                out.push((chunk, slots));
            }
        }
        Ok(out)
    }

    /// With `rowid IN (...)` (or a text-key filter), the chunks holding the listed rows, found
    /// through `{t}_rowids` one lookup per key, so a pre-filter by a short list of keys (the
    /// `rowid IN (SELECT ...)` pattern) costs what the list costs, not a pass over every chunk.
    /// None when no such list restricts the search, or when it is long enough that reading
    /// every chunk is cheaper.
    fn chunks_of_listed_keys(&self) -> Vec0Result<Option<Vec<i64>>> {
        const MAX_LOOKUPS: usize = 4096;
        let Some(keys) = &self.filter.allowed_rowids else {
            return Ok(None);
        };
        if keys.len() > MAX_LOOKUPS {
            return Ok(None);
        }
        let mut chunks = BTreeSet::new();
        for &rowid in keys {
            if let Some(loc) = self.storage.locate(rowid)? {
                chunks.insert(loc.chunk_id);
            }
        }
        Ok(Some(chunks.into_iter().collect()))
    }

    pub fn run(&self) -> Vec0Result<Vec<Neighbour>> {
        if self.k == 0 {
            return Ok(Vec::new());
        }
        let candidates = self.candidates()?;
        self.run_on(&candidates)
    }

    /// The exact k nearest among `candidates` (from [`KnnSearch::candidates`]).
    pub fn run_on(&self, candidates: &Candidates) -> Vec0Result<Vec<Neighbour>> {
        if self.k == 0 {
            return Ok(Vec::new());
        }
        let layout: &Layout = &self.storage.layout;
        let column = &layout.vectors[self.vector_column];
        let vector_bytes = column.vector_bytes();
        // Fetch each candidate chunk's vectors, still on SQLite's thread.
        self.storage.validate_vector_cache()?;
        let mut work = Vec::with_capacity(candidates.len());
        let mut total = 0usize;
        for (chunk, slots) in candidates {
            let candidates = slots.as_slice();
            total += candidates.len();
            let vectors = self
                .storage
                .vector_chunk(self.vector_column, chunk.chunk_id)?;
            work.push(ChunkWork {
                chunk,
                candidates,
                vectors,
            });
        }
        // Phase 2: distances, which touch no SQLite state, split over threads when the scan is
        // large enough to repay starting them.
        let threads = if total >= PARALLEL_MIN_VECTORS {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_THREADS)
        } else {
            1
        };
        let spec = ScanSpec {
            query: &self.query,
            metric: column.metric,
            vector_bytes,
            k: self.k,
            distance_bounds: &self.distance_bounds,
        };
        let scan = |part: &[ChunkWork<'_>]| spec.scan(part);
        let heaps: Vec<Vec0Result<BinaryHeap<Ranked>>> = if threads <= 1 || work.len() < 2 {
            vec![scan(&work)]
        } else {
            let per = work.len().div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = work
                    .chunks(per)
                    .map(|part| s.spawn(move || scan(part)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Vec0Error::internal("a KNN scan thread panicked"))
                        })
                    })
                    .collect()
            })
        };
        let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(self.k + 1);
        for part in heaps {
            for ranked in part?.into_vec() {
                push_bounded(&mut heap, ranked, self.k);
            }
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
