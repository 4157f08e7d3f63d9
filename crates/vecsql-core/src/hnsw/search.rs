//! Best-first search: the greedy descent through the upper layers, the beam search of one layer
//! (hnswlib's `searchBaseLayerST`, with its filter semantics), and the public searches.
//!
//! Scratch state (visited tags, heaps, buffers) is pooled on the graph, so a search allocates
//! nothing but its result vector; the visited array is tagged with a 16-bit epoch and cleared
//! only when the epoch wraps, once per 65,535 searches.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{Hnsw, NodeId, Space};
use crate::distance::batch::prefetch;
use crate::topk::{rescore, Ranked};

/// The graph as a walk sees it: node ids below [`capacity`](Self::capacity), an entry point,
/// and each node's list on each layer.
///
/// [`Hnsw`] is one (every list in memory); a view that reads lists from storage as the walk
/// reaches them is another, so a process can answer its first queries before it has loaded the
/// whole graph, by exactly the walk a loaded copy would make.
pub trait Adjacency {
    /// One more than the largest node id.
    fn capacity(&self) -> usize;
    /// The entry point and the top layer, or `None` when the graph is empty.
    fn entry(&self) -> Option<(NodeId, usize)>;
    /// Calls `f` with each neighbour of `id` on `layer`, in list order.
    fn for_each_link(&self, id: NodeId, layer: usize, f: impl FnMut(NodeId));
    /// The rowid of node `id`: the tie-break of equal distances.
    fn rowid(&self, id: NodeId) -> i64;
    /// `id`'s layer-0 list is about to be read.
    #[inline]
    fn touch_links(&self, _id: NodeId) {}
}

impl Adjacency for Hnsw {
    #[inline]
    fn capacity(&self) -> usize {
        self.rowids.len()
    }

    #[inline]
    fn entry(&self) -> Option<(NodeId, usize)> {
        self.entry.map(|e| (e, self.max_level))
    }

    #[inline(always)]
    fn for_each_link(&self, id: NodeId, layer: usize, mut f: impl FnMut(NodeId)) {
        let list: &[NodeId] = if layer == 0 {
            let l = self.links0.node(id);
            &l[1..1 + l[0] as usize]
        } else {
            self.links(id, layer)
        };
        for &n in list {
            f(n);
        }
    }

    #[inline]
    fn rowid(&self, id: NodeId) -> i64 {
        self.rowids[id as usize]
    }

    #[inline(always)]
    fn touch_links(&self, id: NodeId) {
        // A prefetch, not a load: a load's value must arrive before it retires, and a miss
        // then holds up everything behind it (perf put 17% of the walk's own time there).
        prefetch(self.links0.node(id));
    }
}

/// A node and its distance to whatever is being searched for. Ordered by distance, then id,
/// so heap order is total and deterministic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cand {
    pub d: f32,
    pub id: NodeId,
}

impl Eq for Cand {}

impl Ord for Cand {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // Distances are never NaN (see `clean`), so `partial_cmp` is total here; `total_cmp`
        // would put -0.0 before 0.0, which the kernels can produce for equal vectors.
        match self.d.partial_cmp(&other.d) {
            Some(Ordering::Equal) | None => self.id.cmp(&other.id),
            Some(o) => o,
        }
    }
}

impl PartialOrd for Cand {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reversed order, for the min-heap of candidates still to expand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Near(pub Cand);

impl Ord for Near {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

impl PartialOrd for Near {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a walk's distances come from: a query closure, or a stored node (while linking).
pub(super) trait Probe {
    /// Distance from the probe to node `id`.
    fn dist(&mut self, id: NodeId) -> f32;
    /// `id`'s vector is about to be read (see [`Space::touch`]).
    #[inline]
    fn touch(&self, _id: NodeId) {}
}

/// A query given as a distance closure, and what starts loading a node's vector early
/// (`Space::touch`, or nothing).
pub(super) struct FromQuery<F, T>(pub F, pub T);

impl<F: FnMut(NodeId) -> f32, T: Fn(NodeId)> Probe for FromQuery<F, T> {
    #[inline]
    fn dist(&mut self, id: NodeId) -> f32 {
        (self.0)(id)
    }
    #[inline]
    fn touch(&self, id: NodeId) {
        (self.1)(id)
    }
}

/// A stored node of a [`Space`], as the new node is while it is linked.
pub(super) struct FromNode<'a, S: ?Sized>(pub &'a S, pub NodeId);

impl<S: Space + ?Sized> Probe for FromNode<'_, S> {
    #[inline]
    fn dist(&mut self, id: NodeId) -> f32 {
        self.0.distance(self.1, id)
    }
    #[inline]
    fn touch(&self, id: NodeId) {
        self.0.touch(id);
    }
}

/// NaN distances (zero vectors under cosine, a caller's bug) become +infinity: they must not
/// reach the heaps, where they would break the ordering, nor come first.
#[inline(always)]
pub(super) fn clean(d: f32) -> f32 {
    if d.is_nan() {
        f32::INFINITY
    } else {
        d
    }
}

/// Reusable per-search state.
#[derive(Default)]
pub(super) struct Scratch {
    visited: Vec<u16>,
    epoch: u16,
    /// Candidates still to expand (closest first).
    pub cand: BinaryHeap<Near>,
    /// Best results so far (farthest on top, so it can be evicted).
    pub top: BinaryHeap<Cand>,
    /// General-purpose buffers for callers (sorted candidates, selections, id lists).
    pub buf: Vec<Cand>,
    pub sel: Vec<Cand>,
    pub sel2: Vec<Cand>,
    /// Unvisited neighbours of the node being expanded, with their distances.
    batch: Vec<Cand>,
    pub ids: Vec<NodeId>,
}

impl Scratch {
    /// Start a new visited generation over `capacity` ids.
    pub fn new_epoch(&mut self, capacity: usize) {
        if self.visited.len() < capacity {
            self.visited.resize(capacity, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.visited.fill(0);
            self.epoch = 1;
        }
    }

    /// Mark `id` visited; true when it was not visited yet in this generation.
    #[inline(always)]
    pub fn visit(&mut self, id: NodeId) -> bool {
        visit(&mut self.visited, self.epoch, id)
    }
}

/// [`Scratch::visit`] on its fields, for closures that hold other fields of the scratch.
#[inline(always)]
fn visit(visited: &mut [u16], epoch: u16, id: NodeId) -> bool {
    let v = &mut visited[id as usize];
    if *v == epoch {
        false
    } else {
        *v = epoch;
        true
    }
}

impl Hnsw {
    pub(super) fn take_scratch(&self) -> Scratch {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.pop().unwrap_or_default()
    }

    pub(super) fn put_scratch(&self, s: Scratch) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.push(s);
    }

    /// Approximate k nearest neighbours.
    ///
    /// `query_distance(id)` is the distance from the query to node `id` (smaller is closer).
    /// The walk keeps `max(ef, k)` candidates on layer 0: larger `ef`, better recall, slower.
    /// `accept(id)`, when given, decides which nodes may be returned; rejected nodes are still
    /// traversed, so results only ever contain accepted nodes and none is lost to a gap in the
    /// graph, but selective filters need a larger `ef` (or an exact scan).
    ///
    /// Returns up to `k` `(distance, id)` pairs ascending by (distance, rowid), so ties come out
    /// in a stable, id-independent order.
    pub fn search(
        &self,
        query_distance: impl FnMut(NodeId) -> f32,
        k: usize,
        ef: usize,
        accept: Option<&dyn Fn(NodeId) -> bool>,
    ) -> Vec<(f32, NodeId)> {
        self.search_touching(query_distance, |_| {}, k, ef, accept)
    }

    /// [`search`](Self::search), calling `touch(id)` (usually [`Space::touch`]) for each
    /// unvisited neighbour of a node before measuring any of them, so their vectors' cache
    /// misses overlap (hnswlib prefetches them too).
    pub fn search_touching(
        &self,
        query_distance: impl FnMut(NodeId) -> f32,
        touch: impl Fn(NodeId),
        k: usize,
        ef: usize,
        accept: Option<&dyn Fn(NodeId) -> bool>,
    ) -> Vec<(f32, NodeId)> {
        let mut s = self.take_scratch();
        let out = search_with(
            self,
            &mut s,
            FromQuery(query_distance, touch),
            k,
            ef,
            accept,
        );
        self.put_scratch(s);
        out
    }

    /// The k nearest by exact distance: walk with `nav`, then rescore the candidates with
    /// `exact` and keep the best `k` by (exact distance, rowid) ([`Ranked`]'s order). This is
    /// the one rescoring path: vec0's index queries and the benchmarks both run it.
    ///
    /// - `nav` is how the walk measures (see [`Nav`]). The walk keeps `max(ef, k)` candidates.
    /// - `exact(id)` is the candidate's distance as results report it; `Ok(None)` drops the
    ///   candidate (a row the caller no longer finds), an error stops the search.
    pub fn search_rescored<D, T, E>(
        &self,
        nav: Nav<D, T>,
        mut exact: impl FnMut(NodeId) -> Result<Option<f64>, E>,
        k: usize,
        ef: usize,
        accept: Option<&dyn Fn(NodeId) -> bool>,
    ) -> Result<Vec<Ranked<NodeId>>, E>
    where
        D: FnMut(NodeId) -> f32,
        T: Fn(NodeId),
    {
        let ef = ef.max(k);
        let wanted = if nav.is_exact { k } else { ef };
        let candidates = self.search_touching(nav.distance, nav.touch, wanted, ef, accept);
        rescore(
            candidates,
            |(_, id)| {
                Ok(exact(id)?.map(|distance| Ranked {
                    distance,
                    rowid: self.rowids[id as usize],
                    item: id,
                }))
            },
            k,
        )
    }
}

/// How a rescored walk ([`Hnsw::search_rescored`]) measures.
pub struct Nav<D, T> {
    /// The query's distance to a node: a full-precision space, or
    /// [`Int8Space`](super::Int8Space) / [`BinarySpace`](super::BinarySpace) codes.
    pub distance: D,
    /// Starts loading a node's vector early (usually [`Space::touch`]; `|_| {}` for nothing).
    pub touch: T,
    /// `distance` ranks exactly as the rescoring does (a full-precision walk), so only the `k`
    /// best candidates are rescored; otherwise all of them are, and quantisation error only
    /// matters if it pushes a true neighbour out of them (an `ef` several times `k` recovers
    /// most recall).
    pub is_exact: bool,
}

/// Greedy walk on one upper layer: move to the closest neighbour while that improves.
pub(super) fn greedy<G: Adjacency, P: Probe>(
    g: &G,
    dist: &mut P,
    mut cur: Cand,
    layer: usize,
) -> Cand {
    loop {
        let mut changed = false;
        g.for_each_link(cur.id, layer, |n| {
            let d = clean(dist.dist(n));
            if d < cur.d {
                cur = Cand { d, id: n };
                changed = true;
            }
        });
        if !changed {
            return cur;
        }
    }
}

/// Beam search of one layer from `ep`, leaving up to `ef` accepted nodes in `s.top`.
///
/// Rejected nodes are expanded like accepted ones (they are bridges), but only accepted ones
/// enter `top`; the walk stops when the closest unexpanded candidate is farther than the
/// worst of a full `top`. With a selective filter `top` fills slowly, so the walk goes on
/// longer: that is the price of exact filter semantics, and why callers raise `ef` (or scan)
/// as selectivity falls.
pub(super) fn search_layer<G, P, A>(
    g: &G,
    s: &mut Scratch,
    dist: &mut P,
    ep: Cand,
    layer: usize,
    ef: usize,
    accept: A,
) where
    G: Adjacency,
    P: Probe,
    A: Fn(NodeId) -> bool,
{
    s.new_epoch(g.capacity());
    s.cand.clear();
    s.top.clear();
    s.visit(ep.id);
    if accept(ep.id) {
        s.top.push(ep);
    }
    s.cand.push(Near(ep));
    let mut bound = s.top.peek().map_or(f32::INFINITY, |t| t.d);
    while let Some(Near(c)) = s.cand.pop() {
        if c.d > bound && s.top.len() >= ef {
            break;
        }
        if layer == 0 {
            // Start the next candidate's list load now, so its cache miss overlaps this
            // node's distance computations.
            if let Some(Near(next)) = s.cand.peek() {
                g.touch_links(next.id);
            }
        }
        // Two passes: first the distances of every unvisited neighbour in a tight loop
        // (independent loads the CPU overlaps; the heap's unpredictable branches would
        // otherwise flush them), then the heap updates.
        s.batch.clear();
        let Scratch {
            visited,
            epoch,
            batch,
            ..
        } = s;
        g.for_each_link(c.id, layer, |n| {
            if visit(visited, *epoch, n) {
                batch.push(Cand { d: 0.0, id: n });
            }
        });
        for c in s.batch.iter() {
            dist.touch(c.id);
        }
        for c in s.batch.iter_mut() {
            c.d = clean(dist.dist(c.id));
        }
        for i in 0..s.batch.len() {
            let Cand { d, id: n } = s.batch[i];
            if s.top.len() < ef || d < bound {
                s.cand.push(Near(Cand { d, id: n }));
                if accept(n) {
                    s.top.push(Cand { d, id: n });
                    if s.top.len() > ef {
                        s.top.pop();
                    }
                    bound = s.top.peek().map_or(f32::INFINITY, |t| t.d);
                }
            }
        }
    }
}

/// Upper layers: greedy from the entry point down to layer 1. `None` on an empty graph.
pub(super) fn descend<G: Adjacency, P: Probe>(g: &G, dist: &mut P) -> Option<Cand> {
    let (ep, max_level) = g.entry()?;
    let mut cur = Cand {
        d: clean(dist.dist(ep)),
        id: ep,
    };
    for layer in (1..=max_level).rev() {
        cur = greedy(g, dist, cur, layer);
    }
    Some(cur)
}

/// [`Hnsw::search`] over any [`Adjacency`], with the caller's scratch.
fn search_with<G: Adjacency, P: Probe>(
    g: &G,
    s: &mut Scratch,
    mut probe: P,
    k: usize,
    ef: usize,
    accept: Option<&dyn Fn(NodeId) -> bool>,
) -> Vec<(f32, NodeId)> {
    if k == 0 {
        return Vec::new();
    }
    let Some(ep) = descend(g, &mut probe) else {
        return Vec::new();
    };
    let ef = ef.max(k);
    match accept {
        None => search_layer(g, s, &mut probe, ep, 0, ef, |_| true),
        Some(f) => search_layer(g, s, &mut probe, ep, 0, ef, f),
    }
    let mut out: Vec<(f32, NodeId)> = s.top.drain().map(|c| (c.d, c.id)).collect();
    sort_truncate(g, &mut out, k);
    out
}

/// [`Hnsw::search`] over a graph that is not (all) in memory, such as one whose lists are read
/// from storage as the walk reaches them: the same walk, so the same answers as a loaded copy.
pub fn search_graph<G: Adjacency>(
    g: &G,
    query_distance: impl FnMut(NodeId) -> f32,
    k: usize,
    ef: usize,
    accept: Option<&dyn Fn(NodeId) -> bool>,
) -> Vec<(f32, NodeId)> {
    search_with(
        g,
        &mut Scratch::default(),
        FromQuery(query_distance, |_| {}),
        k,
        ef,
        accept,
    )
}

/// Keep the `k` best by (distance, rowid), sorted.
fn sort_truncate<G: Adjacency>(g: &G, out: &mut Vec<(f32, NodeId)>, k: usize) {
    if k == 0 {
        out.clear();
        return;
    }
    let key = |a: &(f32, NodeId), b: &(f32, NodeId)| {
        a.0.partial_cmp(&b.0)
            .unwrap_or(Ordering::Equal)
            .then_with(|| g.rowid(a.1).cmp(&g.rowid(b.1)))
    };
    if out.len() > k {
        out.select_nth_unstable_by(k - 1, key);
        out.truncate(k);
    }
    out.sort_unstable_by(key);
}
