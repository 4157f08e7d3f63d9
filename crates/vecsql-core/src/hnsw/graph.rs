//! Link storage: reading and replacing one node's list on one layer, keeping the reverse-edge
//! index and the dirty set in step. Every change to a list goes through `set_links` or
//! `push_link`, so persistence and removal can trust both indexes.

use std::sync::Arc;

use super::{Hnsw, NodeId};

/// Nodes per page of [`Links0`] (a power of two).
const PAGE_NODES: usize = 256;
const PAGE_SHIFT: u32 = PAGE_NODES.trailing_zeros();

/// The layer-0 lists: `stride = 1 + M0` slots per node (count, then neighbours), in pages of
/// [`PAGE_NODES`] nodes behind `Arc`s. A clone shares every page and copies one only when a
/// list on it changes, so a private copy of a graph that others keep using costs the pages
/// it changes. A node's list never crosses a page.
///
/// A page is an `Arc<[NodeId]>`, whose lists follow the reference counts in one allocation:
/// reaching a list is one load (the page's pointer) before the list itself, where an
/// `Arc<Vec<_>>` took a second, dependent one (the vector's pointer), which missed the cache at
/// 913k nodes (8% of a walk's own samples).
#[derive(Debug, Clone)]
pub(super) struct Links0 {
    stride: usize,
    pages: Vec<Arc<[NodeId]>>,
    nodes: usize,
}

impl Links0 {
    pub fn new(stride: usize) -> Links0 {
        Links0 {
            stride,
            pages: Vec::new(),
            nodes: 0,
        }
    }

    /// Room for `nodes` nodes: new slots read as empty lists, and dropped ones are gone.
    pub fn resize(&mut self, nodes: usize) {
        let pages = nodes.div_ceil(PAGE_NODES);
        self.pages.truncate(pages);
        while self.pages.len() < pages {
            self.pages
                .push(Arc::from(vec![0; PAGE_NODES * self.stride]));
        }
        // Slots past the old end read as empty lists on the page that already held them.
        for id in self.nodes..nodes.min(self.pages.len() * PAGE_NODES) {
            if id < nodes {
                let stride = self.stride;
                let page = &self.pages[id >> PAGE_SHIFT];
                if page[(id & (PAGE_NODES - 1)) * stride] != 0 {
                    Arc::make_mut(&mut self.pages[id >> PAGE_SHIFT])
                        [(id & (PAGE_NODES - 1)) * stride] = 0;
                }
            }
        }
        self.nodes = nodes;
    }

    /// The count slot and list slots of node `id`.
    #[inline(always)]
    pub fn node(&self, id: NodeId) -> &[NodeId] {
        let i = id as usize;
        let at = (i & (PAGE_NODES - 1)) * self.stride;
        &self.pages[i >> PAGE_SHIFT][at..at + self.stride]
    }

    /// Node `id`'s slots, for writing (its page is copied first if it is shared).
    #[inline]
    pub fn node_mut(&mut self, id: NodeId) -> &mut [NodeId] {
        let i = id as usize;
        let at = (i & (PAGE_NODES - 1)) * self.stride;
        &mut Arc::make_mut(&mut self.pages[i >> PAGE_SHIFT])[at..at + self.stride]
    }
}

impl Hnsw {
    /// Where `id`'s list on `layer` starts in its block: the count slot.
    #[inline]
    fn slot(&self, layer: usize) -> usize {
        if layer == 0 {
            0
        } else {
            (layer - 1) * (1 + self.params.m)
        }
    }

    /// The neighbours of `id` on `layer` (which must not exceed the node's level).
    #[inline]
    pub(super) fn links(&self, id: NodeId, layer: usize) -> &[NodeId] {
        let s = self.slot(layer);
        let block: &[NodeId] = if layer == 0 {
            self.links0.node(id)
        } else {
            &self.upper[id as usize]
        };
        let n = block[s] as usize;
        &block[s + 1..s + 1 + n]
    }

    /// The whole storage block of one list: count slot then capacity.
    #[inline]
    fn block_mut(&mut self, id: NodeId, layer: usize) -> &mut [NodeId] {
        let s = self.slot(layer);
        let cap = self.max_links(layer);
        let block: &mut [NodeId] = if layer == 0 {
            self.links0.node_mut(id)
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
            let s = self.slot(layer);
            let old: &[NodeId] = if layer == 0 {
                let l = self.links0.node(id);
                &l[1..1 + l[0] as usize]
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
