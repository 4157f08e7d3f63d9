//! Link storage: reading and replacing one node's list on one layer, keeping the reverse-edge
//! index and the dirty set in step. Every change to a list goes through `set_links` or
//! `push_link`, so persistence and removal can trust both indexes.

use super::{Hnsw, NodeId};

impl Hnsw {
    /// Where `id`'s list on `layer` starts in its storage: (is layer 0, offset of the count).
    #[inline]
    fn slot(&self, id: NodeId, layer: usize) -> usize {
        if layer == 0 {
            id as usize * (1 + self.m0)
        } else {
            (layer - 1) * (1 + self.params.m)
        }
    }

    /// The neighbours of `id` on `layer` (which must not exceed the node's level).
    #[inline]
    pub(super) fn links(&self, id: NodeId, layer: usize) -> &[NodeId] {
        let s = self.slot(id, layer);
        let block: &[NodeId] = if layer == 0 {
            &self.links0
        } else {
            &self.upper[id as usize]
        };
        let n = block[s] as usize;
        &block[s + 1..s + 1 + n]
    }

    /// The whole storage block of one list: count slot then capacity.
    #[inline]
    fn block_mut(&mut self, id: NodeId, layer: usize) -> &mut [NodeId] {
        let s = self.slot(id, layer);
        let cap = self.max_links(layer);
        let block: &mut [NodeId] = if layer == 0 {
            &mut self.links0
        } else {
            &mut self.upper[id as usize]
        };
        &mut block[s..s + 1 + cap]
    }

    pub(super) fn mark_dirty(&mut self, id: NodeId) {
        let flag = &mut self.dirty_flag[id as usize];
        if !*flag {
            *flag = true;
            self.dirty.push(id);
        }
    }

    /// Replace `id`'s list on `layer` with `new` (at most `max_links(layer)` distinct ids).
    pub(super) fn set_links(&mut self, id: NodeId, layer: usize, new: &[NodeId]) {
        debug_assert!(new.len() <= self.max_links(layer));
        if self.rev_built {
            let s = self.slot(id, layer);
            let old: &[NodeId] = if layer == 0 {
                &self.links0[s + 1..s + 1 + self.links0[s] as usize]
            } else {
                let u = &self.upper[id as usize];
                &u[s + 1..s + 1 + u[s] as usize]
            };
            for &o in old {
                if !new.contains(&o) {
                    rev_remove(&mut self.rev[o as usize], id);
                }
            }
            for &n in new {
                if !old.contains(&n) {
                    self.rev[n as usize].push(id);
                }
            }
        }
        let block = self.block_mut(id, layer);
        block[0] = new.len() as NodeId;
        block[1..1 + new.len()].copy_from_slice(new);
        self.mark_dirty(id);
    }

    /// Append `n` to `id`'s list on `layer`, which must have room and not hold `n` yet.
    pub(super) fn push_link(&mut self, id: NodeId, layer: usize, n: NodeId) {
        let block = self.block_mut(id, layer);
        let len = block[0] as usize;
        debug_assert!(len + 1 < block.len());
        block[1 + len] = n;
        block[0] += 1;
        if self.rev_built {
            self.rev[n as usize].push(id);
        }
        self.mark_dirty(id);
    }

    /// Build the reverse-edge index from the link lists: one entry per (source, layer) edge.
    pub(super) fn build_rev(&mut self) {
        if self.rev_built {
            return;
        }
        let mut counts = vec![0u32; self.rowids.len()];
        for id in 0..self.rowids.len() as NodeId {
            if self.is_linked(id) {
                for layer in 0..=self.level_of(id) {
                    for &n in self.links(id, layer) {
                        counts[n as usize] += 1;
                    }
                }
            }
        }
        let mut rev: Vec<Vec<NodeId>> = counts
            .iter()
            .map(|&c| Vec::with_capacity(c as usize))
            .collect();
        for id in 0..self.rowids.len() as NodeId {
            if self.is_linked(id) {
                for layer in 0..=self.level_of(id) {
                    for &n in self.links(id, layer) {
                        rev[n as usize].push(id);
                    }
                }
            }
        }
        self.rev = rev;
        self.rev_built = true;
    }
}

/// Remove one occurrence of `id` from a reverse list (order does not matter: readers sort).
#[inline]
pub(super) fn rev_remove(list: &mut Vec<NodeId>, id: NodeId) {
    if let Some(p) = list.iter().position(|&x| x == id) {
        list.swap_remove(p);
    }
}
