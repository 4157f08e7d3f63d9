//! In-memory vector stores that implement [`Space`], indexed by [`NodeId`].
//!
//! - [`F32Space`]: full-precision vectors, the exact distances of the four metrics.
//! - [`Int8Space`]: one `i8` code per element with a per-vector scale (4x smaller), distances
//!   estimated from exact integer dot products; for walking the graph when vectors are large.
//! - [`BinarySpace`]: one sign bit per element (32x smaller), Hamming distance; only a coarse
//!   navigation signal, to be rescored.
//!
//! The quantised spaces are meant for the graph walk only: search with their
//! `query_distance`, keep `ef` candidates, rescore those exactly and keep `k`
//! ([`Hnsw::search_rescored`](super::Hnsw::search_rescored) does exactly that). Building the
//! graph over codes also works but costs recall; build over [`F32Space`] when it fits.
//!
//! Spaces rank by [`Metric`]: `L2` as its square (same order, no square root); `Cosine` as
//! `1 - dot * inv_a * inv_b` from the vectors as given and their inverse norms (the query is
//! normalised once), a zero vector at distance 1 from everything (sqlite-vec would say NaN,
//! which cannot be ranked); `Hamming` as squared L2, which for bits unpacked to +1/-1 floats is
//! four times the Hamming distance (same order).

use crate::distance::batch::prefetch;
use crate::distance::{dot_f32, dot_i8, hamming_bits, l1_f32, l2_squared_f32, Metric};

use std::sync::Arc;

use super::huge::{HugeBuffer, HUGE_PAGE};
use super::{NodeId, Space};

/// Full-precision `f32` vectors, `dims` per node, stored by id.
///
/// Each vector starts on a 64-byte boundary (a padded stride in page-aligned buffers): a
/// 384-d vector is then exactly 24 cache lines, not 25, and no 64-byte SIMD load straddles two
/// lines. Both show in a build, which is bound by fetching vectors from memory.
///
/// Vectors live in pages of 4-8 MiB, each behind an `Arc`: a clone shares every page and
/// copies one only when it is written (copy on write), so copying a store that another owner
/// keeps using (a writer's private copy of an index that readers share) costs the pages it
/// then changes, not the whole store. Pages are [`HugeBuffer`]s: from the second page on (a
/// store of a few thousand vectors) they ask for huge pages, which take the TLB misses out of
/// a walk's random reads. Under cosine a page also holds its slots' inverse norms, after the
/// vectors: on the same huge pages, and shared by a clone like them.
#[derive(Debug, Clone)]
pub struct F32Space {
    dims: usize,
    /// Floats per slot: `dims` rounded up to 16 (64 bytes) from 16 dimensions on.
    stride: usize,
    metric: Metric,
    /// Slots per page, as a shift (a page holds `1 << page_shift` slots).
    page_shift: u32,
    pages: Vec<Arc<HugeBuffer<f32>>>,
    slots: usize,
}

/// Pages of an [`F32Space`] hold a power of two of slots adding up to at least this: two huge
/// pages or more, so that at most a third of a page misses out on them.
const PAGE_BYTES: usize = 2 * HUGE_PAGE;

/// The distance of two stored (or query) vectors; `scale` is the product of their inverse
/// norms, used only under cosine.
#[inline]
fn f32_distance(metric: Metric, a: &[f32], b: &[f32], scale: f32) -> f32 {
    match metric {
        Metric::L2 | Metric::Hamming => l2_squared_f32(a, b),
        Metric::Cosine => 1.0 - dot_f32(a, b) * scale,
        Metric::Dot => -dot_f32(a, b),
        // The fast float32 sum: a walk only ranks, and rescoring reports sqlite-vec's L1
        // (within an ulp or so of this, as cosine's walk is of its rescoring).
        Metric::L1 => l1_f32(a, b),
    }
}

/// `1 / |v|`, or 0 for a zero (or non-finite) norm.
fn inv_norm(v: &[f32]) -> f32 {
    let n = dot_f32(v, v).sqrt();
    if n > 0.0 && n.is_finite() {
        1.0 / n
    } else {
        0.0
    }
}

/// `v / |v|`, or zeros for a zero (or non-finite) norm.
fn normalised(v: &[f32]) -> Vec<f32> {
    let n = dot_f32(v, v).sqrt();
    if n > 0.0 && n.is_finite() {
        v.iter().map(|x| x / n).collect()
    } else {
        vec![0.0; v.len()]
    }
}

impl F32Space {
    /// An empty store of `dims`-dimensional vectors (`dims > 0`).
    pub fn new(dims: usize, metric: Metric) -> Self {
        assert!(dims > 0, "zero-dimensional vectors");
        let stride = if dims >= 16 {
            dims.next_multiple_of(16)
        } else {
            dims
        };
        let slot_bytes = stride * std::mem::size_of::<f32>();
        let page_slots = PAGE_BYTES.div_ceil(slot_bytes).next_power_of_two();
        F32Space {
            dims,
            stride,
            metric,
            page_shift: page_slots.trailing_zeros(),
            pages: Vec::new(),
            slots: 0,
        }
    }

    /// Dimensions per vector.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The metric in use.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Number of slots (one more than the largest id set).
    pub fn len(&self) -> usize {
        self.slots
    }

    /// True when no slot exists.
    pub fn is_empty(&self) -> bool {
        self.slots == 0
    }

    /// Store `v` at `id`, growing the store with zero slots as needed. The vector is stored as
    /// given (under [`Metric::Cosine`] with its inverse norm), so [`get`](Self::get) returns
    /// exactly `v`. Panics if `v.len() != dims`.
    pub fn set(&mut self, id: NodeId, v: &[f32]) {
        assert_eq!(v.len(), self.dims, "vector length");
        let i = id as usize;
        if i >= self.slots {
            self.slots = i + 1;
            while self.pages.len() << self.page_shift < self.slots {
                let page_floats = self.norms_at() + self.norms_per_page();
                // A store that fills a page goes on to huge pages (see `HugeBuffer::zeroed`).
                let advise = !self.pages.is_empty();
                self.pages
                    .push(Arc::new(HugeBuffer::zeroed(page_floats, advise)));
            }
        }
        let (at, dims) = (self.offset(i), self.dims);
        let norm = self.norm_offset(i);
        let cosine = self.metric == Metric::Cosine;
        let page = self.page_mut(i >> self.page_shift);
        page[at..at + dims].copy_from_slice(v);
        if cosine {
            page[norm] = inv_norm(v);
        }
    }

    /// Where a page's inverse norms start (after its vectors).
    #[inline(always)]
    fn norms_at(&self) -> usize {
        self.stride << self.page_shift
    }

    /// Inverse norms a page holds: one per slot under cosine, none otherwise.
    fn norms_per_page(&self) -> usize {
        if self.metric == Metric::Cosine {
            1 << self.page_shift
        } else {
            0
        }
    }

    /// Where slot `i`'s inverse norm is in its page (under cosine).
    #[inline(always)]
    fn norm_offset(&self, i: usize) -> usize {
        self.norms_at() + (i & ((1 << self.page_shift) - 1))
    }

    /// The inverse norm of slot `id` under cosine, `1 / |v|` (0 for a zero or non-finite
    /// norm); 1 under the other metrics.
    #[inline]
    fn scale(&self, id: NodeId) -> f32 {
        if self.metric == Metric::Cosine {
            let i = id as usize;
            self.pages
                .get(i >> self.page_shift)
                .map_or(0.0, |p| p.as_slice()[self.norm_offset(i)])
        } else {
            1.0
        }
    }

    /// The stored vector at `id`, as given to [`set`](Self::set). Panics past
    /// [`len`](Self::len).
    #[inline]
    pub fn get(&self, id: NodeId) -> &[f32] {
        let i = id as usize;
        assert!(i < self.slots, "id {i} beyond the store");
        let at = self.offset(i);
        &self.pages[i >> self.page_shift].as_slice()[at..at + self.dims]
    }

    /// Slots per page: consecutive ids in one page lie next to each other.
    pub fn slots_per_page(&self) -> usize {
        1 << self.page_shift
    }

    /// The `n` stored vectors from `id` on as one slice of `n * dims` floats, when they lie
    /// next to each other (one page, no padding between vectors), so that a scan over
    /// consecutive ids runs the batch kernels over them at once; None otherwise.
    pub fn run(&self, id: NodeId, n: usize) -> Option<&[f32]> {
        let i = id as usize;
        if self.stride != self.dims || n == 0 || i + n > self.slots {
            return None;
        }
        let page = i >> self.page_shift;
        if (i + n - 1) >> self.page_shift != page {
            return None;
        }
        let at = self.offset(i);
        self.pages[page].as_slice().get(at..at + n * self.dims)
    }

    /// Where slot `i` starts in its page.
    #[inline(always)]
    fn offset(&self, i: usize) -> usize {
        (i & ((1 << self.page_shift) - 1)) * self.stride
    }

    /// Page `p` for writing: copied first if another owner shares it, the copy taking only
    /// the slots in use (the rest of a new page is untouched memory).
    fn page_mut(&mut self, p: usize) -> &mut [f32] {
        if Arc::get_mut(&mut self.pages[p]).is_none() {
            let shared = &self.pages[p];
            let used = (self.slots - (p << self.page_shift)).min(1 << self.page_shift);
            let mut copy = HugeBuffer::zeroed(shared.len(), shared.advised());
            let n = used * self.stride;
            copy.as_mut_slice()[..n].copy_from_slice(&shared.as_slice()[..n]);
            let norms = self.norms_at()..self.norms_at() + used.min(self.norms_per_page());
            copy.as_mut_slice()[norms.clone()].copy_from_slice(&shared.as_slice()[norms]);
            self.pages[p] = Arc::new(copy);
        }
        Arc::get_mut(&mut self.pages[p])
            .expect("unshared just above")
            .as_mut_slice()
    }

    /// The distance function of a query vector, for [`Hnsw::search`](super::Hnsw::search).
    /// The query is copied (and normalised under cosine) once, here.
    pub fn query_distance(&self, q: &[f32]) -> impl Fn(NodeId) -> f32 + '_ {
        assert_eq!(q.len(), self.dims, "query length");
        let q = F32Query::new(self.metric, q);
        move |id| f32_distance(self.metric, &q.q, self.get(id), self.scale(id))
    }
}

/// A query measured against vectors that are not in an [`F32Space`] (read one by one from
/// storage, say), giving the value [`F32Space::query_distance`] gives for the same vector.
pub struct F32Query {
    metric: Metric,
    /// The query, normalised under cosine.
    q: Vec<f32>,
}

impl F32Query {
    /// Copies (and under cosine normalises) `q` once.
    pub fn new(metric: Metric, q: &[f32]) -> F32Query {
        let q = if metric == Metric::Cosine {
            normalised(q)
        } else {
            q.to_vec()
        };
        F32Query { metric, q }
    }

    /// Distance from the query to `v` (same length as the query).
    #[inline]
    pub fn distance(&self, v: &[f32]) -> f32 {
        let scale = if self.metric == Metric::Cosine {
            inv_norm(v)
        } else {
            1.0
        };
        f32_distance(self.metric, &self.q, v, scale)
    }
}

impl Space for F32Space {
    #[inline]
    fn distance(&self, a: NodeId, b: NodeId) -> f32 {
        f32_distance(
            self.metric,
            self.get(a),
            self.get(b),
            self.scale(a) * self.scale(b),
        )
    }

    #[inline]
    fn touch(&self, id: NodeId) {
        let i = id as usize;
        if let Some(page) = self.pages.get(i >> self.page_shift) {
            let at = self.offset(i);
            let page = page.as_slice();
            // The first lines only: the hardware prefetchers follow the rest, and asking for
            // every line of every neighbour (24 per 384-d vector) fills the line-fill buffers
            // and stalls (100k x 384, ef 128: 470 us per query against 420 us for 2 lines).
            if let Some(v) = page.get(at..at + self.dims.min(TOUCH_FLOATS)) {
                prefetch(v);
            }
            // Cosine also reads the inverse norm, a line of its own: unprefetched, its miss
            // was a tenth of a walk's time at 913k rows.
            if self.metric == Metric::Cosine {
                if let Some(n) = page.get(self.norm_offset(i)..self.norm_offset(i) + 1) {
                    prefetch(n);
                }
            }
        }
    }
}

/// How much of a vector [`F32Space::touch`] asks for ahead of use: two cache lines.
const TOUCH_FLOATS: usize = 32;

/// One vector quantised to `i8`: `code = round(x / max|x| * 127)`, `x ~ code * scale`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Int8Meta {
    /// `max|x| / 127` (0 for a zero vector).
    scale: f32,
    /// Squared norm of the dequantised vector, for L2.
    norm2: f32,
    /// `1 / |code|` (0 for a zero vector), for cosine, where the scales cancel.
    inv_code_norm: f32,
}

fn quantise_i8(v: &[f32], out: &mut [i8]) -> Int8Meta {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        out.fill(0);
        return Int8Meta::default();
    }
    let inv = 127.0 / max;
    for (o, &x) in out.iter_mut().zip(v) {
        *o = (x * inv).round().clamp(-127.0, 127.0) as i8;
    }
    let scale = max / 127.0;
    let c2 = dot_i8(out, out);
    Int8Meta {
        scale,
        norm2: c2 * scale * scale,
        inv_code_norm: if c2 > 0.0 { 1.0 / c2.sqrt() } else { 0.0 },
    }
}

/// Per-vector-scaled `i8` codes: 4x smaller than `f32`, distances from exact `i8` dot products.
#[derive(Debug, Clone)]
pub struct Int8Space {
    dims: usize,
    metric: Metric,
    codes: Vec<i8>,
    meta: Vec<Int8Meta>,
}

impl Int8Space {
    /// An empty store of `dims`-dimensional codes (`dims > 0`).
    pub fn new(dims: usize, metric: Metric) -> Self {
        assert!(dims > 0, "zero-dimensional vectors");
        Int8Space {
            dims,
            metric,
            codes: Vec::new(),
            meta: Vec::new(),
        }
    }

    /// Quantise and store `v` at `id`, growing as needed. Panics if `v.len() != dims`.
    pub fn set(&mut self, id: NodeId, v: &[f32]) {
        assert_eq!(v.len(), self.dims, "vector length");
        let i = id as usize;
        if self.meta.len() <= i {
            self.meta.resize(i + 1, Int8Meta::default());
            self.codes.resize((i + 1) * self.dims, 0);
        }
        let at = i * self.dims;
        self.meta[i] = quantise_i8(v, &mut self.codes[at..at + self.dims]);
    }

    /// The codes stored at `id`.
    #[inline]
    pub fn codes(&self, id: NodeId) -> &[i8] {
        let at = id as usize * self.dims;
        &self.codes[at..at + self.dims]
    }

    #[inline]
    fn estimate(&self, a: &[i8], ma: &Int8Meta, b: &[i8], mb: &Int8Meta) -> f32 {
        match self.metric {
            Metric::L2 | Metric::Hamming => {
                ma.norm2 + mb.norm2 - 2.0 * ma.scale * mb.scale * dot_i8(a, b)
            }
            Metric::Cosine => 1.0 - dot_i8(a, b) * ma.inv_code_norm * mb.inv_code_norm,
            Metric::Dot => -(ma.scale * mb.scale * dot_i8(a, b)),
            Metric::L1 => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| (f32::from(x) * ma.scale - f32::from(y) * mb.scale).abs())
                .sum(),
        }
    }

    /// The estimated distance function of a query, quantised once here.
    pub fn query_distance(&self, q: &[f32]) -> impl Fn(NodeId) -> f32 + '_ {
        assert_eq!(q.len(), self.dims, "query length");
        let mut codes = vec![0i8; self.dims];
        let meta = quantise_i8(q, &mut codes);
        move |id| self.estimate(&codes, &meta, self.codes(id), &self.meta[id as usize])
    }
}

impl Space for Int8Space {
    #[inline]
    fn distance(&self, a: NodeId, b: NodeId) -> f32 {
        self.estimate(
            self.codes(a),
            &self.meta[a as usize],
            self.codes(b),
            &self.meta[b as usize],
        )
    }
}

/// Sign bits (`x > 0`), least significant bit first as in [`crate::quantize::binary`], and the
/// Hamming distance: 32x smaller than `f32`, a coarse signal that needs rescoring.
#[derive(Debug, Clone)]
pub struct BinarySpace {
    dims: usize,
    bytes: usize,
    bits: Vec<u8>,
}

fn sign_bits(v: &[f32], out: &mut [u8]) {
    out.fill(0);
    for (i, &x) in v.iter().enumerate() {
        if x > 0.0 {
            out[i / 8] |= 1 << (i % 8);
        }
    }
}

impl BinarySpace {
    /// An empty store of `dims`-dimensional sign codes (`dims > 0`; any metric ranks alike).
    pub fn new(dims: usize) -> Self {
        assert!(dims > 0, "zero-dimensional vectors");
        BinarySpace {
            dims,
            bytes: dims.div_ceil(8),
            bits: Vec::new(),
        }
    }

    /// Store the sign bits of `v` at `id`, growing as needed. Panics if `v.len() != dims`.
    pub fn set(&mut self, id: NodeId, v: &[f32]) {
        assert_eq!(v.len(), self.dims, "vector length");
        let at = id as usize * self.bytes;
        if self.bits.len() < at + self.bytes {
            self.bits.resize(at + self.bytes, 0);
        }
        sign_bits(v, &mut self.bits[at..at + self.bytes]);
    }

    /// The packed bits stored at `id`.
    #[inline]
    pub fn bits(&self, id: NodeId) -> &[u8] {
        let at = id as usize * self.bytes;
        &self.bits[at..at + self.bytes]
    }

    /// The Hamming distance function of a query, quantised once here.
    pub fn query_distance(&self, q: &[f32]) -> impl Fn(NodeId) -> f32 + '_ {
        assert_eq!(q.len(), self.dims, "query length");
        let mut bits = vec![0u8; self.bytes];
        sign_bits(q, &mut bits);
        move |id| hamming_bits(&bits, self.bits(id)) as f32
    }
}

impl Space for BinarySpace {
    #[inline]
    fn distance(&self, a: NodeId, b: NodeId) -> f32 {
        hamming_bits(self.bits(a), self.bits(b)) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(i: usize, dims: usize) -> Vec<f32> {
        (0..dims).map(|d| (i * dims + d) as f32).collect()
    }

    #[test]
    fn runs_of_consecutive_slots_are_their_vectors_side_by_side_within_a_page() {
        let mut packed = F32Space::new(12, Metric::L2);
        let per_page = packed.slots_per_page();
        for i in 0..per_page + 10 {
            packed.set(i as NodeId, &[i as f32; 12]);
        }
        let run = packed.run(3, 5).expect("packed slots in one page");
        let want: Vec<f32> = (3..8).flat_map(|i| packed.get(i).to_vec()).collect();
        assert_eq!(run, &want[..]);
        assert!(
            packed.run(per_page as NodeId - 2, 4).is_none(),
            "crosses a page"
        );
        assert!(packed.run(per_page as NodeId, 10).is_some());
        assert!(
            packed.run(per_page as NodeId, 11).is_none(),
            "past the last slot"
        );
        assert!(packed.run(0, 0).is_none());
        let mut padded = F32Space::new(20, Metric::L2);
        padded.set(0, &[1.0; 20]);
        padded.set(1, &[2.0; 20]);
        assert!(
            padded.run(0, 2).is_none(),
            "20 floats padded to 32 per slot"
        );
    }

    #[test]
    fn a_clone_shares_pages_until_either_side_writes() {
        let dims = 384;
        let mut a = F32Space::new(dims, Metric::L2);
        let per_page = 1usize << a.page_shift;
        // Two full pages and part of a third, which ask for huge pages.
        let n = 2 * per_page + 5;
        for i in 0..n {
            a.set(i as NodeId, &vector(i, dims));
        }
        assert!(
            !a.pages[0].advised(),
            "a store's first page stays on small pages"
        );
        // Where the kernel has transparent huge pages at all, the later pages ask for them.
        if std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            assert!(a.pages[1].advised() && a.pages[2].advised());
        }
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.pages[1], &b.pages[1]));
        // A write to the clone's last page copies that page only, with every slot in use.
        b.set((n - 1) as NodeId, &vector(0, dims));
        assert!(Arc::ptr_eq(&a.pages[1], &b.pages[1]));
        assert!(!Arc::ptr_eq(&a.pages[2], &b.pages[2]));
        assert_eq!(b.pages[2].advised(), a.pages[2].advised());
        for i in 0..n {
            assert_eq!(
                a.get(i as NodeId),
                &vector(i, dims)[..],
                "original slot {i}"
            );
            let want = if i == n - 1 {
                vector(0, dims)
            } else {
                vector(i, dims)
            };
            assert_eq!(b.get(i as NodeId), &want[..], "clone slot {i}");
        }
        // Growing the clone past the shared pages leaves the original as it was.
        b.set((3 * per_page) as NodeId, &vector(7, dims));
        assert_eq!(a.len(), n);
        assert_eq!(b.get((3 * per_page) as NodeId), &vector(7, dims)[..]);
        assert!(b
            .get((3 * per_page - 1) as NodeId)
            .iter()
            .all(|&x| x == 0.0));
    }

    #[test]
    fn cosine_norms_live_in_the_pages_and_are_copied_with_them() {
        let dims = 384;
        let mut a = F32Space::new(dims, Metric::Cosine);
        let per_page = 1usize << a.page_shift;
        let n = per_page + 3;
        let scaled =
            |i: usize| -> Vec<f32> { vector(1, dims).iter().map(|x| x * (i + 1) as f32).collect() };
        for i in 0..n {
            a.set(i as NodeId, &scaled(i));
        }
        // Every vector points the same way: any two are at distance 0 if their norms are right.
        let check = |s: &F32Space, upto: usize| {
            for i in 0..upto {
                let d = s.distance(0, i as NodeId);
                assert!(d.abs() < 1e-5, "slot {i}: {d}");
                assert!((s.scale(i as NodeId) * (i + 1) as f32 - s.scale(0)).abs() < 1e-9);
            }
        };
        check(&a, n);
        let mut b = a.clone();
        // The copy of the shared second page keeps its norms; a slot written on it gets its own.
        b.set((n - 1) as NodeId, &vector(2, dims));
        assert!(!Arc::ptr_eq(&a.pages[1], &b.pages[1]));
        check(&b, n - 1);
        check(&a, n);
        let own = 1.0 / dot_f32(&vector(2, dims), &vector(2, dims)).sqrt();
        assert_eq!(b.scale((n - 1) as NodeId), own);
        // A zero vector has no direction: its inverse norm is 0.
        b.set(n as NodeId, &vec![0.0; dims]);
        assert_eq!(b.scale(n as NodeId), 0.0);
    }

    #[test]
    fn pages_hold_a_power_of_two_of_slots_of_at_least_two_huge_pages() {
        for dims in [1, 3, 16, 100, 384, 768, 1000, 1536, 4096] {
            let s = F32Space::new(dims, Metric::Cosine);
            let bytes = s.norms_at() * 4;
            assert!(bytes >= PAGE_BYTES, "dims {dims}");
            assert!(bytes < 2 * PAGE_BYTES || s.page_shift == 0, "dims {dims}");
        }
    }
}
