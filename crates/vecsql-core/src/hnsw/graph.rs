//! Link storage: reading and replacing one node's list on one layer, keeping the reverse-edge
//! index and the dirty set in step. Every change to a list goes through `set_links` or
//! `push_link`, so persistence and removal can trust both indexes.

use std::sync::Arc;

use super::huge::{HugeBuffer, HUGE_PAGE};
use super::{Hnsw, NodeId};

/// Nodes per page of [`Links0`] (a power of two).
const PAGE_NODES: usize = 256;
const PAGE_SHIFT: u32 = PAGE_NODES.trailing_zeros();

/// The layer-0 lists: `stride = 1 + M0` slots per node (count, then neighbours), in pages of
/// [`PAGE_NODES`] nodes. A clone shares every page and copies one only when a list on it
/// changes, so a private copy of a graph that others keep using costs the pages it changes. A
/// node's list never crosses a page.
///
/// Pages made by one large [`resize`](Self::resize) (a load) lie in one buffer on huge pages,
/// the slab: a walk reads a list per node it expands, at random, and on 4 KiB pages (28,000 of
/// them at 913k nodes) nearly each read also missed the TLB. A slab page is written in place
/// while no other copy shares the slab, and copied out to a page of its own otherwise. The
/// slab cannot free what was copied out while any copy uses it, so a copy that has copied out
/// a quarter of its slab pages (a pool of connections beside a writer: each commit copies the
/// lists it changes) leaves the slab altogether, taking its own copy of every page: the lists
/// then never take more than 1.25x their size for long, and are walked on small pages. Other
/// pages are `Arc<[NodeId]>`s, whose lists follow the reference counts in one allocation:
/// one load (the page's pointer) before the list, where an `Arc<Vec<_>>` took a second,
/// dependent one.
#[derive(Debug, Clone)]
pub(super) struct Links0 {
    stride: usize,
    slab: Option<Arc<HugeBuffer<NodeId>>>,
    /// Pages the slab was made with, and how many of `pages` are still on it.
    slab_pages: usize,
    on_slab: usize,
    pages: Vec<Page>,
    nodes: usize,
}

/// Where one page of [`Links0`] lives.
#[derive(Debug, Clone)]
enum Page {
    /// Page `n` of the slab.
    Slab(usize),
    Own(Arc<[NodeId]>),
}

impl Links0 {
    pub fn new(stride: usize) -> Links0 {
        Links0 {
            stride,
            slab: None,
            slab_pages: 0,
            on_slab: 0,
            pages: Vec::new(),
            nodes: 0,
        }
    }

    /// Slots per page.
    #[inline(always)]
    fn page_len(&self) -> usize {
        PAGE_NODES * self.stride
    }

    /// Room for `nodes` nodes: new slots read as empty lists, and dropped ones are gone.
    pub fn resize(&mut self, nodes: usize) {
        let pages = nodes.div_ceil(PAGE_NODES);
        let len = self.page_len();
        if pages < self.pages.len() {
            self.pages.truncate(pages);
            self.on_slab = self
                .pages
                .iter()
                .filter(|p| matches!(p, Page::Slab(_)))
                .count();
            if self.on_slab == 0 {
                self.slab = None;
            }
        }
        let more = pages.saturating_sub(self.pages.len());
        if self.slab.is_none() && more * len * std::mem::size_of::<NodeId>() >= HUGE_PAGE {
            self.slab = Some(Arc::new(HugeBuffer::zeroed(more * len, true)));
            (self.slab_pages, self.on_slab) = (more, more);
            self.pages.extend((0..more).map(Page::Slab));
        }
        while self.pages.len() < pages {
            self.pages.push(Page::Own(Arc::from(vec![0; len])));
        }
        // Slots past the old end read as empty lists on the page that already held them.
        for id in self.nodes..nodes.min(self.pages.len() * PAGE_NODES) {
            let at = (id & (PAGE_NODES - 1)) * self.stride;
            if self.page(id >> PAGE_SHIFT)[at] != 0 {
                self.page_mut(id >> PAGE_SHIFT)[at] = 0;
            }
        }
        self.nodes = nodes;
    }

    /// Page `p`'s slots.
    #[inline(always)]
    fn page(&self, p: usize) -> &[NodeId] {
        match &self.pages[p] {
            Page::Own(page) => page,
            Page::Slab(n) => self.slab_page(*n),
        }
    }

    /// Page `n` of the slab.
    #[inline(always)]
    fn slab_page(&self, n: usize) -> &[NodeId] {
        let len = self.page_len();
        let slab = self.slab.as_deref().map_or(&[][..], HugeBuffer::as_slice);
        &slab[n * len..(n + 1) * len]
    }

    /// Page `p`'s slots, for writing: a page another copy shares is copied first.
    fn page_mut(&mut self, p: usize) -> &mut [NodeId] {
        let len = self.page_len();
        if matches!(self.pages[p], Page::Slab(_))
            && self.slab.as_mut().is_none_or(|s| Arc::get_mut(s).is_none())
        {
            self.copy_out(p);
            if self.on_slab * 4 < self.slab_pages * 3 {
                self.leave_slab();
            }
        }
        let Links0 { slab, pages, .. } = self;
        match &mut pages[p] {
            Page::Own(page) => Arc::make_mut(page),
            Page::Slab(n) => {
                let slab = slab.as_mut().and_then(Arc::get_mut);
                let slab = slab.expect("a slab page left in place has its slab to itself");
                &mut slab.as_mut_slice()[*n * len..(*n + 1) * len]
            }
        }
    }

    /// Gives slab page `p` a page of its own, a copy.
    fn copy_out(&mut self, p: usize) {
        if let Page::Slab(n) = self.pages[p] {
            self.pages[p] = Page::Own(Arc::from(self.slab_page(n)));
            self.on_slab -= 1;
        }
    }

    /// Copies out every page still on the slab and lets go of it.
    fn leave_slab(&mut self) {
        for p in 0..self.pages.len() {
            self.copy_out(p);
        }
        self.slab = None;
    }

    /// The count slot and list slots of node `id`.
    #[inline(always)]
    pub fn node(&self, id: NodeId) -> &[NodeId] {
        let i = id as usize;
        let at = (i & (PAGE_NODES - 1)) * self.stride;
        &self.page(i >> PAGE_SHIFT)[at..at + self.stride]
    }

    /// Node `id`'s slots, for writing (its page is copied first if it is shared).
    #[inline]
    pub fn node_mut(&mut self, id: NodeId) -> &mut [NodeId] {
        let i = id as usize;
        let at = (i & (PAGE_NODES - 1)) * self.stride;
        let stride = self.stride;
        &mut self.page_mut(i >> PAGE_SHIFT)[at..at + stride]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Node `id`'s list, written as `[id, id + 1]` with its count.
    fn write(l: &mut Links0, id: usize, tag: NodeId) {
        let n = l.node_mut(id as NodeId);
        n[0] = 2;
        n[1] = tag;
        n[2] = tag + 1;
    }

    fn read(l: &Links0, id: usize) -> Vec<NodeId> {
        let n = l.node(id as NodeId);
        n[1..1 + n[0] as usize].to_vec()
    }

    #[test]
    fn a_large_resize_makes_a_slab_that_clones_share_until_they_write() {
        let stride = 33;
        // Enough pages for a huge page: a load's resize.
        let nodes = 100 * PAGE_NODES;
        let mut a = Links0::new(stride);
        a.resize(nodes);
        assert!(a.pages.iter().all(|p| matches!(p, Page::Slab(_))));
        for id in (0..nodes).step_by(97) {
            write(&mut a, id, id as NodeId);
        }
        // Nobody shares the slab: written in place, every page still on it.
        assert!(a.pages.iter().all(|p| matches!(p, Page::Slab(_))));
        let mut b = a.clone();
        write(&mut b, 5 * PAGE_NODES + 3, 7);
        // The clone took that one page out of the slab; the original still reads its own.
        let own = |l: &Links0| {
            l.pages
                .iter()
                .enumerate()
                .filter(|(_, p)| matches!(p, Page::Own(_)))
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        assert_eq!(own(&b), [5]);
        assert!(own(&a).is_empty());
        assert_eq!(read(&b, 5 * PAGE_NODES + 3), [7, 8]);
        assert!(read(&a, 5 * PAGE_NODES + 3).is_empty());
        // The rest of the copied page came along.
        let id = (5 * PAGE_NODES..6 * PAGE_NODES)
            .find(|i| i % 97 == 0)
            .unwrap();
        assert_eq!(read(&b, id), [id as NodeId, id as NodeId + 1]);
        // The original, still sharing the slab, copies out what it writes too.
        write(&mut a, 0, 42);
        assert_eq!(own(&a), [0]);
        assert_eq!(read(&b, 0), [0, 1]);
        // Once the clone is gone the slab is the original's again: written in place.
        drop(b);
        write(&mut a, 9 * PAGE_NODES, 11);
        assert_eq!(own(&a), [0]);
        assert_eq!(read(&a, 9 * PAGE_NODES), [11, 12]);
        // Shrinking and growing again: dropped slots read as empty lists.
        a.resize(9 * PAGE_NODES + 1);
        a.resize(nodes);
        assert_eq!(read(&a, 9 * PAGE_NODES), [11, 12]);
        for id in 9 * PAGE_NODES + 1..nodes {
            assert!(read(&a, id).is_empty(), "node {id}");
        }
        // A copy that has had to copy out a quarter of the slab leaves it, every list kept.
        let mut e = Links0::new(stride);
        e.resize(nodes);
        for id in (0..nodes).step_by(89) {
            write(&mut e, id, id as NodeId);
        }
        let before: Vec<Vec<NodeId>> = (0..nodes).map(|id| read(&e, id)).collect();
        let mut d = e.clone();
        for page in 0..25 {
            write(&mut d, page * PAGE_NODES + 1, page as NodeId);
        }
        assert!(d.slab.is_some() && own(&d).len() == 25);
        write(&mut d, 25 * PAGE_NODES + 1, 25);
        assert!(d.slab.is_none() && own(&d).len() == 100);
        for (id, was) in before.iter().enumerate() {
            let want = match id {
                _ if id % PAGE_NODES == 1 && id / PAGE_NODES <= 25 => {
                    let tag = (id / PAGE_NODES) as NodeId;
                    vec![tag, tag + 1]
                }
                _ => was.clone(),
            };
            assert_eq!(read(&d, id), want, "node {id}");
            assert_eq!(&read(&e, id), was, "node {id} of the original");
        }
        // The original has the slab to itself again: written in place.
        drop(d);
        write(&mut e, 7, 3);
        assert!(own(&e).is_empty());

        // Growing one node at a time (a build) makes pages of their own.
        let mut c = Links0::new(stride);
        for n in 1..=3 * PAGE_NODES {
            c.resize(n);
        }
        assert!(c.slab.is_none() && c.pages.len() == 3);
    }
}
