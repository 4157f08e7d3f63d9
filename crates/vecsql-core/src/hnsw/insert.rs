//! Linking a node into the graph (hnswlib's `addPoint` + `mutuallyConnectNewElement`) and the
//! neighbour-selection heuristic shared with removal.

use std::cmp::Ordering;

use super::search::{clean, greedy, search_layer, Cand, FromNode, Probe};
use super::{Hnsw, NodeId, Space, RESERVED};

/// The HNSW neighbour-selection heuristic (Malkov & Yashunin, algorithm 4; hnswlib's
/// `getNeighborsByHeuristic2`): walk the candidates closest first and keep one only if it is
/// closer to the base node than to every neighbour already kept. This keeps links pointing in
/// different directions, which is what lets a greedy walk cross between clusters; plain
/// "closest M" graphs fall apart on clustered data.
///
/// `sorted` must be ascending by distance to the base node. Lists that fit are kept whole.
pub(super) fn select_neighbours<S: Space + ?Sized>(
    space: &S,
    sorted: &[Cand],
    m: usize,
    sel: &mut Vec<Cand>,
) {
    if sorted.len() <= m {
        sel.clear();
        sel.extend_from_slice(sorted);
        return;
    }
    heuristic(space, sorted, m, sel);
}

/// The heuristic itself, run even when everything would fit (removal repair wants diverse
/// links first, then fills up with the closest of the rest).
pub(super) fn heuristic<S: Space + ?Sized>(
    space: &S,
    sorted: &[Cand],
    m: usize,
    sel: &mut Vec<Cand>,
) {
    sel.clear();
    for c in sorted {
        if sel.len() >= m {
            break;
        }
        if sel.iter().all(|s| clean(space.distance(c.id, s.id)) >= c.d) {
            sel.push(*c);
        }
    }
}

impl Hnsw {
    /// Sort candidates by distance to `base`, equal distances by the rowid-pair hash (see
    /// "Ties and duplicates" in the module docs).
    pub(super) fn sort_for(&self, base: NodeId, c: &mut [Cand]) {
        c.sort_unstable_by(|a, b| match a.d.partial_cmp(&b.d) {
            Some(Ordering::Equal) | None => self
                .tie_key(base, a.id)
                .cmp(&self.tie_key(base, b.id))
                .then(a.id.cmp(&b.id)),
            Some(o) => o,
        });
    }

    /// Link a reserved node into the graph; its vector must already be in `space`.
    ///
    /// Greedy descent to the node's level, then on each layer from there down: beam search with
    /// `ef_construction`, heuristic selection of `m` neighbours, and back-links from each of
    /// them (a full list is re-pruned with the heuristic, so the new node may be dropped from
    /// it). A node above the current top level becomes the entry point. Calling it for an id
    /// that is not reserved (already linked, or free) does nothing.
    pub fn connect(&mut self, id: NodeId, space: &impl Space) {
        let i = id as usize;
        if self.state.get(i) != Some(&RESERVED) {
            return;
        }
        let level = self.levels[i] as usize;
        self.state[i] = super::LINKED;
        self.linked += 1;
        self.header_dirty = true;
        self.mark_dirty(id);
        let Some(ep) = self.entry else {
            self.entry = Some(id);
            self.max_level = level;
            return;
        };
        let mut dist = FromNode(space, id);
        let mut cur = Cand {
            d: clean(dist.dist(ep)),
            id: ep,
        };
        for layer in (level + 1..=self.max_level).rev() {
            cur = greedy(self, &mut dist, cur, layer);
        }
        let mut s = self.take_scratch();
        let ef = self.params.ef_construction;
        let m = self.params.m;
        for layer in (0..=level.min(self.max_level)).rev() {
            search_layer(self, &mut s, &mut dist, cur, layer, ef, |_| true);
            s.buf.clear();
            s.buf.extend(s.top.drain());
            self.sort_for(id, &mut s.buf);
            select_neighbours(space, &s.buf, m, &mut s.sel);
            s.ids.clear();
            s.ids.extend(s.sel.iter().map(|c| c.id));
            self.set_links(id, layer, &s.ids);
            let max = self.max_links(layer);
            for j in 0..s.sel.len() {
                let Cand { d, id: n } = s.sel[j];
                if self.links(n, layer).len() < max {
                    self.push_link(n, layer, id);
                    continue;
                }
                s.buf.clear();
                for &c in self.links(n, layer) {
                    s.buf.push(Cand {
                        d: clean(space.distance(n, c)),
                        id: c,
                    });
                }
                s.buf.push(Cand { d, id });
                self.sort_for(n, &mut s.buf);
                select_neighbours(space, &s.buf, max, &mut s.sel2);
                s.ids.clear();
                s.ids.extend(s.sel2.iter().map(|c| c.id));
                self.set_links(n, layer, &s.ids);
            }
            if let Some(&c) = s.sel.first() {
                cur = c;
            }
        }
        self.put_scratch(s);
        if level > self.max_level {
            self.entry = Some(id);
            self.max_level = level;
        }
    }
}
