//! Persistence: change tracking, byte layouts, and rebuilding a graph from stored rows.
//!
//! The graph is stored as one header blob plus one blob per node, keyed by rowid, so a change
//! rewrites only the nodes whose lists changed (an insert touches the new node and about `m`
//! neighbours per layer). Neighbours are stored as rowids, so rows mean something on their own;
//! the node's id is stored too, so a reloaded graph has the same ids, the same free slots and
//! therefore the same future: identical searches and identical blobs after more changes.
//!
//! # Node blob, version 1 (all integers little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version = 1 |
//! | 4 | node id (u32) |
//! | 1 | layer count `L + 1` (1 to 17) |
//! | per layer 0..=L | neighbour count (u16), then that many rowids (i64) |
//!
//! # Header blob, version 1
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `HNSW` |
//! | 1 | version = 1 |
//! | 2 | m (u16) |
//! | 4 | ef_construction (u32) |
//! | 8 | seed (u64) |
//! | 1 | max level |
//! | 1 | 1 if there is an entry point, else 0 |
//! | 8 | entry point rowid (i64, 0 when none) |
//! | 8 | node count (u64) |
//! | 4 | capacity: one more than the largest node id (u32); rows must agree |

use super::{Hnsw, HnswError, HnswParams, NodeId, FREE, LINKED, MAX_LEVEL};

const NODE_VERSION: u8 = 1;
const HEADER_VERSION: u8 = 1;
const MAGIC: &[u8; 4] = b"HNSW";
const HEADER_LEN: usize = 4 + 1 + 2 + 4 + 8 + 1 + 1 + 8 + 8 + 4;

/// What changed since the last [`Hnsw::take_dirty`]. Apply in this order: delete the `removed`
/// rows, then write `node_blob(id)` under `rowid_of(id)` for each of `changed` (a rowid removed
/// and inserted again appears in both), then the header if `header_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dirty {
    /// Linked nodes whose blob changed, ascending by id.
    pub changed: Vec<NodeId>,
    /// Rowids removed from the graph, in removal order.
    pub removed: Vec<i64>,
    /// True when the header blob changed (entry point, level, count or capacity).
    pub header_changed: bool,
}

impl Dirty {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty() && !self.header_changed
    }
}

/// Whose blob a [`Reader`] reads, so a truncated field is reported against it.
#[derive(Clone, Copy)]
enum Owner {
    Header,
    Node(i64),
}

/// A bounds-checked little-endian reader over a blob, with errors naming the field.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    owner: Owner,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], HnswError> {
        if self.b.len() - self.at < n {
            let reason = format!(
                "truncated at byte {} reading {what} ({} bytes long)",
                self.at,
                self.b.len()
            );
            return Err(match self.owner {
                Owner::Header => HnswError::CorruptHeader(reason),
                Owner::Node(rowid) => HnswError::CorruptNode { rowid, reason },
            });
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, HnswError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, HnswError> {
        let s = self.take(2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, HnswError> {
        let s = self.take(4, what)?;
        Ok(u32::from_le_bytes(s.try_into().expect("4 bytes")))
    }
    fn u64(&mut self, what: &str) -> Result<u64, HnswError> {
        let s = self.take(8, what)?;
        Ok(u64::from_le_bytes(s.try_into().expect("8 bytes")))
    }
}

impl Hnsw {
    /// Nodes whose link lists changed and rowids removed since the last call, so the caller
    /// writes only those rows. Clears the change set.
    pub fn take_dirty(&mut self) -> Dirty {
        let mut changed = std::mem::take(&mut self.dirty);
        for &id in &changed {
            // Ids past the end were dropped with trailing free slots.
            if let Some(flag) = self.dirty_flag.get_mut(id as usize) {
                *flag = false;
            }
        }
        changed.retain(|&id| self.state.get(id as usize) == Some(&LINKED));
        changed.sort_unstable();
        // A dropped slot may have come back and been marked again.
        changed.dedup();
        let header_changed = std::mem::replace(&mut self.header_dirty, false);
        Dirty {
            changed,
            removed: std::mem::take(&mut self.removed),
            header_changed,
        }
    }

    /// Stored size of one node's blob.
    fn blob_len(&self, id: NodeId) -> usize {
        let layers = self.level_of(id) + 1;
        let links: usize = (0..layers).map(|l| self.links(id, l).len()).sum();
        6 + 2 * layers + 8 * links
    }

    /// One node's links on every layer, neighbours as rowids (layout in the module docs).
    /// `id` must be a linked node (e.g. from [`Dirty::changed`]).
    pub fn node_blob(&self, id: NodeId) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.blob_len(id));
        let layers = self.level_of(id) + 1;
        b.push(NODE_VERSION);
        b.extend_from_slice(&id.to_le_bytes());
        b.push(layers as u8);
        for layer in 0..layers {
            let links = self.links(id, layer);
            b.extend_from_slice(&(links.len() as u16).to_le_bytes());
            for &n in links {
                b.extend_from_slice(&self.rowids[n as usize].to_le_bytes());
            }
        }
        b
    }

    /// The graph header (layout in the module docs).
    pub fn header_blob(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_LEN);
        b.extend_from_slice(MAGIC);
        b.push(HEADER_VERSION);
        b.extend_from_slice(&(self.params.m as u16).to_le_bytes());
        b.extend_from_slice(
            &(self.params.ef_construction.min(u32::MAX as usize) as u32).to_le_bytes(),
        );
        b.extend_from_slice(&self.params.seed.to_le_bytes());
        b.push(self.max_level as u8);
        b.push(u8::from(self.entry.is_some()));
        b.extend_from_slice(&self.entry_rowid().unwrap_or(0).to_le_bytes());
        b.extend_from_slice(&(self.linked as u64).to_le_bytes());
        b.extend_from_slice(&(self.linked_bound() as u32).to_le_bytes());
        b
    }

    /// One more than the largest linked id: the capacity a reload will have (trailing free
    /// slots are dropped as they appear; this also skips a reserved, unlinked node at the end).
    fn linked_bound(&self) -> usize {
        self.state
            .iter()
            .rposition(|&s| s == LINKED)
            .map_or(0, |i| i + 1)
    }

    /// Average stored bytes per node (node blobs plus the header, spread), for reporting.
    pub fn bytes_per_node(&self) -> f64 {
        if self.linked == 0 {
            return 0.0;
        }
        let total: usize = (0..self.rowids.len() as NodeId)
            .filter(|&id| self.is_linked(id))
            .map(|id| self.blob_len(id))
            .sum();
        (total + HEADER_LEN) as f64 / self.linked as f64
    }

    /// Rebuild a graph from its header and every node row `(rowid, node_blob)`, in any order.
    ///
    /// Everything is validated (versions, lengths, ids in range and unique, rowids unique,
    /// neighbours present, on a layer they have, within the list size, not repeated, entry
    /// point and levels consistent), so a damaged index gives an error naming the row, never
    /// a panic or a graph that panics later. Two passes: place each node at its id and map
    /// rowids to ids, then translate the neighbour rowids. The reverse-edge index is not built
    /// here; the first removal builds it.
    pub fn load<B: AsRef<[u8]>>(
        header: &[u8],
        nodes: impl Iterator<Item = (i64, B)>,
    ) -> Result<Self, HnswError> {
        let hdr = |s: String| HnswError::CorruptHeader(s);
        let Header {
            m,
            ef_construction,
            seed,
            max_level,
            entry_rowid,
            count,
            capacity,
        } = Header::parse(header)?;
        let mut g = Hnsw::new(HnswParams {
            m,
            ef_construction,
            seed,
        });

        // Pass 1a: read each row's fixed part, without allocating anything by the header's
        // word: the id space must be exactly `1 + the largest id` (see `free_slot`), so a
        // damaged id or capacity is caught before it sizes an allocation.
        let mut rows: Vec<(i64, NodeId, usize, usize, B)> = Vec::new();
        let mut top: Option<NodeId> = None;
        for (rowid, blob) in nodes {
            let (id, layers, at) = {
                let (id, layers, r) = node_prefix(rowid, blob.as_ref(), capacity, max_level)?;
                (id, layers, r.at)
            };
            top = top.max(Some(id));
            rows.push((rowid, id, layers, at, blob));
        }
        if rows.len() as u64 != count {
            return Err(hdr(format!(
                "header says {count} nodes, {} rows found",
                rows.len()
            )));
        }
        if top.map_or(0, |t| t as usize + 1) != capacity {
            return Err(hdr(format!(
                "capacity {capacity}, but the largest node id is {top:?}"
            )));
        }

        // Pass 1b: place ids, rowids and levels.
        g.links0.resize(capacity);
        g.rowids = vec![0; capacity];
        g.levels = vec![0; capacity];
        g.state = vec![super::FREE; capacity];
        g.upper = vec![Vec::new(); capacity];
        g.dirty_flag = vec![false; capacity];
        g.ids.reserve(rows.len());
        for &(rowid, id, layers, _, _) in &rows {
            let node = |reason: String| HnswError::CorruptNode { rowid, reason };
            let i = id as usize;
            if g.state[i] == LINKED {
                return Err(node(format!(
                    "node id {id} is also used by rowid {}",
                    g.rowids[i]
                )));
            }
            if let Some(&other) = g.ids.get(&rowid) {
                return Err(node(format!("rowid appears twice (ids {other} and {id})")));
            }
            g.ids.insert(rowid, id);
            g.rowids[i] = rowid;
            g.levels[i] = (layers - 1) as u8;
            g.state[i] = LINKED;
            if layers > 1 {
                g.upper[i] = vec![0; (layers - 1) * (1 + m)];
            }
        }

        // Pass 2: translate and check the lists. When rowids are dense (the usual
        // autoincrement case), a flat table replaces 20-odd hash lookups per node.
        let dense = DenseMap::build(&g.rowids, &g.state);
        let lookup = |r: i64| match &dense {
            Some(d) => d.get(r),
            None => g.ids.get(&r).copied(),
        };
        let mut seen = vec![0u32; capacity];
        let mut stamp = 0u32;
        let mut list: Vec<NodeId> = Vec::with_capacity(g.m0);
        for (_, id, _, at, blob) in &rows {
            let (id, i) = (*id, *id as usize);
            let rowid = g.rowids[i];
            let node = |reason: String| HnswError::CorruptNode { rowid, reason };
            let mut r = Reader {
                b: blob.as_ref(),
                at: *at,
                owner: Owner::Node(rowid),
            };
            for layer in 0..=g.level_of(id) {
                let n = r.u16("neighbour count")? as usize;
                let max = g.max_links(layer);
                if n > max {
                    return Err(node(format!(
                        "{n} neighbours on layer {layer}, at most {max} allowed"
                    )));
                }
                let bytes = r.take(8 * n, "neighbours")?;
                stamp += 1;
                list.clear();
                for chunk in bytes.chunks_exact(8) {
                    let nr = i64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                    let Some(nid) = lookup(nr) else {
                        return Err(node(format!(
                            "neighbour rowid {nr} on layer {layer} is not in the graph"
                        )));
                    };
                    if nid == id {
                        return Err(node(format!("links to itself on layer {layer}")));
                    }
                    if g.level_of(nid) < layer {
                        return Err(node(format!(
                            "neighbour rowid {nr} on layer {layer} only reaches layer {}",
                            g.level_of(nid)
                        )));
                    }
                    if seen[nid as usize] == stamp {
                        return Err(node(format!(
                            "neighbour rowid {nr} repeated on layer {layer}"
                        )));
                    }
                    seen[nid as usize] = stamp;
                    list.push(nid);
                }
                let s = if layer == 0 { 0 } else { (layer - 1) * (1 + m) };
                let block: &mut [NodeId] = if layer == 0 {
                    g.links0.node_mut(id)
                } else {
                    &mut g.upper[i]
                };
                block[s] = n as NodeId;
                block[s + 1..s + 1 + n].copy_from_slice(&list);
            }
            if r.at != blob.as_ref().len() {
                return Err(node(format!(
                    "{} trailing bytes",
                    blob.as_ref().len() - r.at
                )));
            }
        }

        drop(dense);
        if count > 0 {
            let Some(&e) = g.ids.get(&entry_rowid) else {
                return Err(hdr(format!("entry point rowid {entry_rowid} has no row")));
            };
            if g.level_of(e) != max_level {
                return Err(hdr(format!(
                    "entry point rowid {entry_rowid} has level {}, header says {max_level}",
                    g.level_of(e)
                )));
            }
            g.entry = Some(e);
        }
        g.max_level = max_level;
        g.linked = count as usize;
        g.free = (0..capacity as NodeId)
            .filter(|&id| g.state[id as usize] != LINKED)
            .collect();
        g.header_dirty = false;
        Ok(g)
    }
}

impl Hnsw {
    /// Brings the graph up to date with stored rows that changed since it was built, loaded or
    /// last patched: `header` is the stored header now, and `rows` lists every node row written
    /// or deleted since then (`None` for a deleted one); rows not listed must be unchanged. The
    /// result is the graph [`load`](Self::load) would build from all the rows, ids and free
    /// slots included, at a cost proportional to the listed rows plus one pass over the free
    /// ids. Returns the ids whose node is new (or moved to another id): the caller stores their
    /// vectors. The reverse-edge index is dropped (the next removal rebuilds it).
    ///
    /// Neighbours are checked as in `load` (present, on a layer they have, not repeated); on an
    /// error the graph is left in an unspecified state and must be dropped and loaded in full.
    pub fn patch(
        &mut self,
        header: &[u8],
        rows: &[(i64, Option<Vec<u8>>)],
    ) -> Result<Vec<NodeId>, HnswError> {
        let hdr = |s: String| HnswError::CorruptHeader(s);
        let h = Header::parse(header)?;
        if h.m != self.params.m || h.seed != self.params.seed {
            return Err(hdr(format!(
                "m or seed changed (m={}, seed={:#x}; the copy has m={}, seed={:#x})",
                h.m, h.seed, self.params.m, self.params.seed
            )));
        }
        self.params.ef_construction = h.ef_construction;
        self.rev = Vec::new();
        self.rev_built = false;
        let m = self.params.m;

        // Pass 1: unmap every listed rowid (its row is placed again below if it still exists).
        let mut old: std::collections::HashSet<(i64, NodeId)> = Default::default();
        for (rowid, _) in rows {
            if let Some(id) = self.ids.remove(rowid) {
                let i = id as usize;
                if self.state[i] == LINKED {
                    self.linked -= 1;
                }
                self.state[i] = FREE;
                self.links0.node_mut(id)[0] = 0;
                self.upper[i] = Vec::new();
                old.insert((*rowid, id));
            }
        }

        // Pass 2: place each stored row at its id.
        let mut placed: Vec<(NodeId, usize, &[u8])> = Vec::new();
        for (rowid, blob) in rows {
            let Some(blob) = blob else { continue };
            let rowid = *rowid;
            let node = |reason: String| HnswError::CorruptNode { rowid, reason };
            let (id, layers, r) = node_prefix(rowid, blob, h.capacity, h.max_level)?;
            let i = id as usize;
            if i >= self.state.len() {
                let n = i + 1;
                self.rowids.resize(n, 0);
                self.levels.resize(n, 0);
                self.state.resize(n, FREE);
                self.links0.resize(n);
                self.upper.resize(n, Vec::new());
                self.dirty_flag.resize(n, false);
            }
            if self.state[i] == LINKED {
                return Err(node(format!(
                    "node id {id} is also used by rowid {}",
                    self.rowids[i]
                )));
            }
            if self.ids.insert(rowid, id).is_some() {
                return Err(node("rowid listed twice".into()));
            }
            self.rowids[i] = rowid;
            self.levels[i] = (layers - 1) as u8;
            self.state[i] = LINKED;
            self.links0.node_mut(id)[0] = 0;
            self.upper[i] = vec![0; (layers - 1) * (1 + m)];
            self.linked += 1;
            placed.push((id, r.at, blob));
        }

        // Pass 3: the placed rows' lists.
        let mut list: Vec<NodeId> = Vec::with_capacity(self.m0);
        for &(id, at, blob) in &placed {
            let i = id as usize;
            let rowid = self.rowids[i];
            let node = |reason: String| HnswError::CorruptNode { rowid, reason };
            let mut r = Reader {
                b: blob,
                at,
                owner: Owner::Node(rowid),
            };
            for layer in 0..=self.level_of(id) {
                let n = r.u16("neighbour count")? as usize;
                let max = self.max_links(layer);
                if n > max {
                    return Err(node(format!(
                        "{n} neighbours on layer {layer}, at most {max} allowed"
                    )));
                }
                let bytes = r.take(8 * n, "neighbours")?;
                list.clear();
                for chunk in bytes.chunks_exact(8) {
                    let nr = i64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                    let nid = match self.ids.get(&nr) {
                        Some(&nid) if self.state[nid as usize] == LINKED => nid,
                        _ => {
                            return Err(node(format!(
                                "neighbour rowid {nr} on layer {layer} is not in the graph"
                            )))
                        }
                    };
                    if nid == id || self.level_of(nid) < layer || list.contains(&nid) {
                        return Err(node(format!(
                            "neighbour rowid {nr} on layer {layer}: itself, repeated, or \
                             not on that layer"
                        )));
                    }
                    list.push(nid);
                }
                let (block, s): (&mut [NodeId], usize) = if layer == 0 {
                    (self.links0.node_mut(id), 0)
                } else {
                    (&mut self.upper[i], (layer - 1) * (1 + m))
                };
                block[s] = n as NodeId;
                block[s + 1..s + 1 + n].copy_from_slice(&list);
            }
            if r.at != blob.len() {
                return Err(node(format!("{} trailing bytes", blob.len() - r.at)));
            }
        }

        // The header: id space, count, entry point.
        self.trim();
        if self.state.len() != h.capacity || self.linked as u64 != h.count {
            return Err(hdr(format!(
                "capacity {} and count {} after the changes, header says {} and {}",
                self.state.len(),
                self.linked,
                h.capacity,
                h.count
            )));
        }
        self.entry = None;
        if h.count > 0 {
            match self.ids.get(&h.entry_rowid) {
                Some(&e) if self.level_of(e) == h.max_level => self.entry = Some(e),
                _ => {
                    return Err(hdr(format!(
                        "entry point rowid {} has no row of level {}",
                        h.entry_rowid, h.max_level
                    )))
                }
            }
        }
        self.max_level = h.max_level;
        self.free = (0..self.state.len() as NodeId)
            .filter(|&id| self.state[id as usize] != LINKED)
            .collect();
        for &id in &self.dirty {
            if let Some(f) = self.dirty_flag.get_mut(id as usize) {
                *f = false;
            }
        }
        self.dirty.clear();
        self.removed.clear();
        self.header_dirty = false;
        Ok(placed
            .iter()
            .map(|&(id, _, _)| id)
            .filter(|&id| !old.contains(&(self.rowids[id as usize], id)))
            .collect())
    }
}

/// What a walk over stored rows needs from the header blob (see [`read_node`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredShape {
    /// Links per node on the upper layers (layer 0 keeps up to twice as many).
    pub m: usize,
    /// The top layer.
    pub max_level: usize,
    /// The entry point's rowid, `None` for an empty graph.
    pub entry_rowid: Option<i64>,
    /// Linked nodes.
    pub count: u64,
    /// One more than the largest node id.
    pub capacity: usize,
}

/// The fixed part of a node blob, checked: its id (below `capacity`) and layer count (1 to
/// `max_level + 1`), with a reader at the first list.
fn node_prefix(
    rowid: i64,
    blob: &[u8],
    capacity: usize,
    max_level: usize,
) -> Result<(NodeId, usize, Reader<'_>), HnswError> {
    let node = |reason: String| HnswError::CorruptNode { rowid, reason };
    let mut r = Reader {
        b: blob,
        at: 0,
        owner: Owner::Node(rowid),
    };
    let v = r.u8("version")?;
    if v != NODE_VERSION {
        return Err(node(format!(
            "unsupported version {v} (this build reads {NODE_VERSION})"
        )));
    }
    let id = r.u32("node id")?;
    let layers = r.u8("layer count")? as usize;
    if id as usize >= capacity {
        return Err(node(format!("node id {id} outside capacity {capacity}")));
    }
    if layers == 0 || layers > max_level + 1 {
        return Err(node(format!(
            "{layers} layers, expected 1 to {} (max level {max_level})",
            max_level + 1
        )));
    }
    Ok((id, layers, r))
}

/// Reads and checks a header blob, for a walk that reads node rows one by one.
pub fn read_header(header: &[u8]) -> Result<StoredShape, HnswError> {
    let h = Header::parse(header)?;
    Ok(StoredShape {
        m: h.m,
        max_level: h.max_level,
        entry_rowid: (h.count > 0).then_some(h.entry_rowid),
        count: h.count,
        capacity: h.capacity,
    })
}

/// One node row as stored: its id and, per layer from 0, its neighbours' rowids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNode {
    pub id: NodeId,
    pub layers: Vec<Vec<i64>>,
}

/// Reads and checks one node blob on its own: version, id within the capacity, layer count,
/// list lengths and no trailing bytes. What needs other rows (that each neighbour exists and
/// reaches the layer, no self-links) is the caller's to check as it reads them.
pub fn read_node(rowid: i64, blob: &[u8], shape: &StoredShape) -> Result<StoredNode, HnswError> {
    let node = |reason: String| HnswError::CorruptNode { rowid, reason };
    let (id, count, mut r) = node_prefix(rowid, blob, shape.capacity, shape.max_level)?;
    let mut layers = Vec::with_capacity(count);
    for layer in 0..count {
        let n = r.u16("neighbour count")? as usize;
        let max = if layer == 0 { 2 * shape.m } else { shape.m };
        if n > max {
            return Err(node(format!(
                "{n} neighbours on layer {layer}, at most {max} allowed"
            )));
        }
        let bytes = r.take(8 * n, "neighbours")?;
        layers.push(
            bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        );
    }
    if r.at != blob.len() {
        return Err(node(format!("{} trailing bytes", blob.len() - r.at)));
    }
    Ok(StoredNode { id, layers })
}

/// The fields of a header blob, checked for consistency among themselves.
struct Header {
    m: usize,
    ef_construction: usize,
    seed: u64,
    max_level: usize,
    entry_rowid: i64,
    count: u64,
    capacity: usize,
}

impl Header {
    fn parse(header: &[u8]) -> Result<Header, HnswError> {
        let hdr = |s: String| HnswError::CorruptHeader(s);
        let mut r = Reader {
            b: header,
            at: 0,
            owner: Owner::Header,
        };
        if r.take(4, "magic")? != MAGIC {
            return Err(hdr("bad magic (not an HNSW header)".into()));
        }
        let version = r.u8("version")?;
        if version != HEADER_VERSION {
            return Err(hdr(format!(
                "unsupported version {version} (this build reads {HEADER_VERSION})"
            )));
        }
        let m = r.u16("m")? as usize;
        let ef_construction = r.u32("ef_construction")? as usize;
        let seed = r.u64("seed")?;
        let max_level = r.u8("max level")? as usize;
        let has_entry = r.u8("entry flag")?;
        let entry_rowid = r.u64("entry rowid")? as i64;
        let count = r.u64("node count")?;
        let capacity = r.u32("capacity")? as usize;
        if r.at != header.len() {
            return Err(hdr(format!("{} trailing bytes", header.len() - r.at)));
        }
        if !(2..=255).contains(&m) || ef_construction < m {
            return Err(hdr(format!(
                "invalid parameters m={m} ef_construction={ef_construction}"
            )));
        }
        if max_level > MAX_LEVEL || has_entry > 1 {
            return Err(hdr(format!(
                "invalid max level {max_level} or entry flag {has_entry}"
            )));
        }
        if (has_entry == 1) != (count > 0) || count > capacity as u64 {
            return Err(hdr(format!(
                "node count {count}, capacity {capacity} and entry flag {has_entry} disagree"
            )));
        }
        Ok(Header {
            m,
            ef_construction,
            seed,
            max_level,
            entry_rowid,
            count,
            capacity,
        })
    }
}

/// Rowid to id as a flat table over `[min, max]`, for loading graphs whose rowids are dense.
struct DenseMap {
    min: i64,
    ids: Vec<NodeId>,
}

impl DenseMap {
    /// `None` when the live rowids span more than twice their count (plus slack): then the
    /// table would waste memory and the hash map is the better lookup.
    fn build(rowids: &[i64], state: &[u8]) -> Option<DenseMap> {
        let live = || {
            rowids
                .iter()
                .zip(state)
                .filter(|(_, &st)| st == LINKED)
                .map(|(&r, _)| r)
        };
        let count = live().count();
        let (min, max) = live().fold((i64::MAX, i64::MIN), |(a, b), r| (a.min(r), b.max(r)));
        if count == 0 {
            return None;
        }
        let span = max.abs_diff(min);
        if span > 2 * count as u64 + 1024 {
            return None;
        }
        let mut ids = vec![NodeId::MAX; span as usize + 1];
        for (id, (&r, &st)) in rowids.iter().zip(state).enumerate() {
            if st == LINKED {
                ids[r.abs_diff(min) as usize] = id as NodeId;
            }
        }
        Some(DenseMap { min, ids })
    }

    #[inline]
    fn get(&self, rowid: i64) -> Option<NodeId> {
        if rowid < self.min {
            return None;
        }
        let i = usize::try_from(rowid.abs_diff(self.min)).ok()?;
        self.ids.get(i).copied().filter(|&id| id != NodeId::MAX)
    }
}
