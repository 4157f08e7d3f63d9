//! Linking many reserved nodes at once, on several threads, into exactly the graph one thread
//! would build.
//!
//! Nodes are linked in consecutive batches. Each batch is planned against the graph as it was
//! when the batch began (frozen, so any number of threads can walk it), then applied in one
//! step. What a batch does is a function of the graph and the batch alone: which thread plans
//! which member, and in what order threads finish, never reaches the result, so the same call
//! gives the same graph (and the same stored bytes) for any thread count.
//!
//! The cost of freezing is that members of one batch cannot find each other by walking. Each
//! member therefore also measures its distance to every earlier member of its batch (the nodes
//! a one-at-a-time build would already have linked), and batches are kept small relative to
//! the graph (see [`Hnsw::batch_size`]), so early nodes, which shape the graph most, are
//! linked one by one exactly as [`Hnsw::connect`] links them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::insert::select_neighbours;
use super::search::{clean, greedy, search_layer, Cand, FromNode, Probe, Scratch};
use super::{Hnsw, NodeId, Space, LINKED, RESERVED};

/// A batch is at most this fraction (1 / `BATCH_DIVISOR`) of the nodes already linked: the
/// share of a batch's members that cannot find each other by walking stays small.
const BATCH_DIVISOR: usize = 64;

/// Batches never exceed this many nodes: enough work per batch to keep 8 threads busy, while
/// the exact distances to earlier members (quadratic in the batch) stay a few percent of the
/// work of the walks.
const MAX_BATCH: usize = 256;

/// One member's plan: its selected neighbours (with distances) on each layer up to its level.
type Plan = Vec<Vec<Cand>>;

/// The back-links one batch adds to one list: target node, layer, and (source, distance) in
/// batch order.
struct Incoming {
    target: NodeId,
    layer: usize,
    from: Vec<Cand>,
}

impl Hnsw {
    /// Link the reserved nodes `ids`, in that order, using up to `threads` threads.
    ///
    /// The result depends on the graph, `ids` and `space` only, never on `threads`: planning
    /// runs in parallel against a frozen graph and results are applied in batch order (see the
    /// module docs). Below [`BATCH_DIVISOR`] * 2 linked nodes, and for a batch of one, this is
    /// [`connect`](Self::connect) node by node. Ids that are not reserved, or repeated, are
    /// skipped. Every vector must be in `space` before the call.
    pub fn connect_batch<S: Space + Sync>(&mut self, ids: &[NodeId], space: &S, threads: usize) {
        self.connect_batch_counting(ids, space, threads, &AtomicUsize::new(0));
    }

    /// [`connect_batch`](Self::connect_batch), adding to `linked` the nodes linked so far as
    /// each batch is applied, for another thread to report a long build's progress.
    pub fn connect_batch_counting<S: Space + Sync>(
        &mut self,
        ids: &[NodeId],
        space: &S,
        threads: usize,
        linked: &AtomicUsize,
    ) {
        let mut seen = vec![false; self.capacity()];
        let todo: Vec<NodeId> = ids
            .iter()
            .copied()
            .filter(|&id| {
                let i = id as usize;
                let fresh = self.state.get(i) == Some(&RESERVED) && !seen[i];
                if fresh {
                    seen[i] = true;
                }
                fresh
            })
            .collect();
        let threads = threads.max(1);
        let mut at = 0;
        while at < todo.len() {
            let n = self.batch_size().min(todo.len() - at);
            let batch = &todo[at..at + n];
            if n == 1 {
                self.connect(batch[0], space);
            } else {
                self.link_batch(batch, space, threads);
            }
            linked.fetch_add(n, Ordering::Relaxed);
            at += n;
        }
    }

    /// How many nodes the next batch may hold: a function of the graph alone (see the
    /// constants), so every caller cuts the same sequence into the same batches.
    fn batch_size(&self) -> usize {
        (self.linked / BATCH_DIVISOR).clamp(1, MAX_BATCH)
    }

    /// Plan every member in parallel, merge the back-links per target list in parallel, apply.
    fn link_batch<S: Space + Sync>(&mut self, batch: &[NodeId], space: &S, threads: usize) {
        let plans: Vec<Plan> =
            self.par_map(batch.len(), threads, |i, s| self.plan(batch, i, space, s));

        // Back-links grouped by (target, layer), each group in batch order (the sort is
        // stable and the edges are generated in batch order).
        let mut edges: Vec<(NodeId, usize, Cand)> = Vec::new();
        for (&id, plan) in batch.iter().zip(&plans) {
            for (layer, sel) in plan.iter().enumerate() {
                edges.extend(sel.iter().map(|c| (c.id, layer, Cand { d: c.d, id })));
            }
        }
        edges.sort_by_key(|&(target, layer, _)| (target, layer));
        let mut groups: Vec<Incoming> = Vec::new();
        for (target, layer, c) in edges {
            match groups.last_mut() {
                Some(g) if g.target == target && g.layer == layer => g.from.push(c),
                _ => groups.push(Incoming {
                    target,
                    layer,
                    from: vec![c],
                }),
            }
        }

        // A member's own list is its plan (it has no stored list yet).
        let member_at: HashMap<NodeId, usize> =
            batch.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let merged: Vec<Vec<NodeId>> = self.par_map(groups.len(), threads, |g, s| {
            let inc = &groups[g];
            let own = member_at.get(&inc.target).map(|&i| &plans[i][inc.layer]);
            self.merge_back_links(inc, own, space, s)
        });

        for (&id, plan) in batch.iter().zip(&plans) {
            self.state[id as usize] = LINKED;
            self.linked += 1;
            self.mark_dirty(id);
            for (layer, sel) in plan.iter().enumerate() {
                let ids: Vec<NodeId> = sel.iter().map(|c| c.id).collect();
                self.set_links(id, layer, &ids);
            }
        }
        for (inc, list) in groups.iter().zip(&merged) {
            self.set_links(inc.target, inc.layer, list);
        }
        for &id in batch {
            let level = self.level_of(id);
            if level > self.max_level {
                self.entry = Some(id);
                self.max_level = level;
            }
        }
        self.header_dirty = true;
    }

    /// Member `i`'s neighbours on each of its layers, as [`connect`](Self::connect) would
    /// choose them if the earlier members were linked and the frozen graph had not changed.
    fn plan<S: Space>(&self, batch: &[NodeId], i: usize, space: &S, s: &mut Scratch) -> Plan {
        let id = batch[i];
        let level = self.level_of(id);
        let (ef, m) = (self.params.ef_construction, self.params.m);
        let mut dist = FromNode(space, id);
        let ep = self
            .entry
            .expect("a batch follows at least one linked node");
        let top = self.max_level;
        let mut cur = Cand {
            d: clean(dist.dist(ep)),
            id: ep,
        };
        for layer in (level + 1..=top).rev() {
            cur = greedy(self, &mut dist, cur, layer);
        }
        let earlier: Vec<Cand> = batch[..i]
            .iter()
            .map(|&j| Cand {
                d: clean(space.distance(id, j)),
                id: j,
            })
            .collect();
        let mut plan: Plan = vec![Vec::new(); level + 1];
        for layer in (0..=level).rev() {
            s.buf.clear();
            if layer <= top {
                search_layer(self, s, &mut dist, cur, layer, ef, |_| true);
                s.buf.extend(s.top.drain());
            }
            s.buf.extend(
                earlier
                    .iter()
                    .filter(|c| self.level_of(c.id) >= layer)
                    .copied(),
            );
            self.sort_for(id, &mut s.buf);
            // The walk of a one-at-a-time build returns at most `ef` nodes.
            s.buf.truncate(ef);
            select_neighbours(space, &s.buf, m, &mut s.sel);
            plan[layer] = s.sel.clone();
            // The next layer's walk starts from the closest node it can walk from: members
            // have no links in the frozen graph.
            if let Some(c) = s.buf.iter().find(|c| self.is_linked(c.id)) {
                cur = *c;
            }
        }
        plan
    }

    /// The target's list with the batch's back-links added: appended in batch order when they
    /// fit, otherwise the union re-pruned by the heuristic (as `connect` re-prunes a full list).
    fn merge_back_links<S: Space>(
        &self,
        inc: &Incoming,
        own: Option<&Vec<Cand>>,
        space: &S,
        s: &mut Scratch,
    ) -> Vec<NodeId> {
        let n = inc.target;
        let max = self.max_links(inc.layer);
        s.buf.clear();
        match own {
            Some(plan) => s.buf.extend_from_slice(plan),
            None => s.buf.extend(
                self.links(n, inc.layer)
                    .iter()
                    .map(|&c| Cand { d: 0.0, id: c }),
            ),
        }
        if s.buf.len() + inc.from.len() <= max {
            return s.buf.iter().chain(&inc.from).map(|c| c.id).collect();
        }
        if own.is_none() {
            for c in s.buf.iter_mut() {
                c.d = clean(space.distance(n, c.id));
            }
        }
        s.buf.extend_from_slice(&inc.from);
        self.sort_for(n, &mut s.buf);
        select_neighbours(space, &s.buf, max, &mut s.sel2);
        s.sel2.iter().map(|c| c.id).collect()
    }

    /// `f(i)` for `i` in `0..n` on up to `threads` threads, in index order. Items are handed
    /// out one at a time (their costs vary a lot), and each thread brings its own scratch.
    fn par_map<T, F>(&self, n: usize, threads: usize, f: F) -> Vec<T>
    where
        T: Send,
        F: Fn(usize, &mut Scratch) -> T + Sync,
    {
        let threads = threads.min(n);
        if threads <= 1 {
            let mut s = self.take_scratch();
            let out = (0..n).map(|i| f(i, &mut s)).collect();
            self.put_scratch(s);
            return out;
        }
        let next = AtomicUsize::new(0);
        let work = || {
            let mut s = self.take_scratch();
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                done.push((i, f(i, &mut s)));
            }
            self.put_scratch(s);
            done
        };
        let parts: Vec<Vec<(usize, T)>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (1..threads).map(|_| sc.spawn(work)).collect();
            let mut parts = vec![work()];
            parts.extend(
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
            );
            parts
        });
        let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
        for (i, t) in parts.into_iter().flatten() {
            slots[i] = Some(t);
        }
        slots
            .into_iter()
            .map(|t| t.expect("every index was handed out"))
            .collect()
    }
}
