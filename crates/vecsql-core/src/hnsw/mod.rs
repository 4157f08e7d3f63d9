//! HNSW: a hierarchical navigable small-world graph (Malkov & Yashunin, 2016) for approximate
//! nearest-neighbour search, shaped for an index that lives in SQLite shadow tables.
//!
//! # What it stores, and what it does not
//!
//! [`Hnsw`] keeps the topology only: dense node ids, the rowid of each node, and the link lists
//! of every layer. Vectors live with the caller (the vec0 chunk cache, or one of the in-memory
//! [`space`]s here), and every distance comes through the [`Space`] trait (between two stored
//! nodes, used while linking and repairing) or a `query_distance` closure (query to node, used
//! while searching). So one graph serves any element type or quantisation: it can even be
//! walked with cheap codes ([`Int8Space`], [`BinarySpace`]) and rescored exactly
//! ([`Hnsw::search_rescored`]).
//!
//! # Layout (hnswlib's, minus the vectors)
//!
//! - Layer 0, where nearly all search time goes, is one flat `Vec<NodeId>` with a fixed stride
//!   of `1 + M0` per node (count, then up to `M0 = 2 * M` neighbours), so reading a list is one
//!   cache line or two and never a pointer chase. Upper layers (about `1 / M` of the nodes)
//!   are small per-node vectors.
//! - Search scratch (a visited array tagged with an epoch counter, so it is never cleared; two
//!   binary heaps; candidate buffers) is pooled and reused: a search allocates only its result.
//! - Node levels are `floor(-ln(u) / ln(M))` with `u` a splitmix64 hash of the rowid and the
//!   seed, so a row always gets the same level and the graph depends on nothing but the sequence
//!   of calls: no clock, no unseeded generator, no threads, no hash-map iteration order.
//!
//! # Deletion
//!
//! [`Hnsw::remove`] unlinks a node for real (no tombstones): every node that pointed to it
//! gets the union of its remaining links and the removed node's links, pruned by the same
//! neighbour-selection heuristic as insertion (as in FreshDiskANN's delete consolidation), then
//! topped up to its old degree with the closest of the rest, so lists do not thin out as rows
//! come and go. A reverse-edge index, built on the first removal and maintained afterwards,
//! makes this local. Freed ids are reused smallest first, and trailing free ids are dropped,
//! so ids, too, depend only on the call sequence.
//!
//! # Ties and duplicates
//!
//! Many rows may hold identical vectors. Equal distances are ordered by a hash of the pair of
//! rowids (not by id, not by age): a fixed global order would make every duplicate point at the
//! same few duplicates, leaving the rest with no incoming link and thus unreachable, which is
//! hnswlib's known failure on duplicated data.
//!
//! # Persistence
//!
//! [`Hnsw::take_dirty`] names the nodes whose link lists changed and the rowids removed since
//! the last call; [`Hnsw::node_blob`] and [`Hnsw::header_blob`] serialise one node and the graph
//! header (see [`persist`] for the byte layout), and [`Hnsw::load`] rebuilds an identical graph,
//! ids included, so searches give identical answers before and after a reload.

mod batch;
mod graph;
mod huge;
mod insert;
pub mod persist;
mod remove;
mod search;
pub mod space;

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use thiserror::Error;

pub use persist::{read_header, read_node, Dirty, StoredNode, StoredShape};
pub use search::{search_graph, Adjacency, Nav};
pub use space::{BinarySpace, F32Query, F32Space, Int8Space};

use search::Scratch;

/// Dense internal node id: an index into the graph's arrays (and into the caller's vector
/// store). Ids of removed nodes are reused, smallest first.
pub type NodeId = u32;

/// Build parameters, stored in the header. `m` and `seed` cannot change for an existing graph;
/// `ef_construction` can ([`Hnsw::set_ef_construction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per node on the upper layers; layer 0 keeps up to `2 * m`. 16 is the usual
    /// trade-off for 100 to 1000 dimensions (more: better recall, bigger and slower graph).
    /// Clamped to `2..=255`.
    pub m: usize,
    /// Candidate list size while linking a new node: more gives a better graph and a slower
    /// build. 200 is hnswlib's and pgvector's usual value (pgvector defaults to 64).
    pub ef_construction: usize,
    /// Seed of the level hash; the same rows, seed and call sequence give the same graph.
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construction: 200,
            seed: 0x5eed_1a7e_0000_0001,
        }
    }
}

/// Distances between stored nodes, supplied by the owner of the vectors.
///
/// Smaller is closer. Any monotone transform of the true metric ranks the same (squared L2 is
/// fine). A NaN is treated as +infinity, so a broken vector sinks instead of corrupting heaps.
pub trait Space {
    /// Distance between the vectors stored at node ids `a` and `b`.
    fn distance(&self, a: NodeId, b: NodeId) -> f32;

    /// Hint that `id`'s vector is about to be read. A safe store can only issue an ordinary
    /// load of its first element (started early, it overlaps the cache miss with other work);
    /// the default does nothing.
    #[inline]
    fn touch(&self, _id: NodeId) {}
}

impl<S: Space + ?Sized> Space for &S {
    #[inline]
    fn distance(&self, a: NodeId, b: NodeId) -> f32 {
        (**self).distance(a, b)
    }
}

/// What can go wrong when rebuilding a graph from stored bytes. The message says which row and
/// which field, since it is the only clue a user gets about a damaged index.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HnswError {
    /// The graph header is malformed or of an unknown version.
    #[error("corrupt HNSW header: {0}")]
    CorruptHeader(String),
    /// A node row is malformed, or inconsistent with the header or the other rows.
    #[error("corrupt HNSW node (rowid {rowid}): {reason}")]
    CorruptNode { rowid: i64, reason: String },
}

/// Node slot states. A reserved node has an id and a rowid but is not linked yet (the caller
/// is placing its vector); only linked nodes are searched, serialised and counted by `len`.
const FREE: u8 = 0;
const RESERVED: u8 = 1;
const LINKED: u8 = 2;

/// Levels are capped so that a blob's layer count fits a byte with room to spare; with M >= 2
/// a level above 16 needs `u < 2^-16` per level step, i.e. never in practice.
const MAX_LEVEL: usize = 16;

/// A fast, deterministic hasher for rowid keys (the splitmix64 finaliser). std's SipHash is
/// three times slower on the load path, and hash-flooding needs write access to the table,
/// which already lets an attacker do worse.
#[derive(Default, Clone, Copy)]
pub(crate) struct RowidHasher(u64);

impl Hasher for RowidHasher {
    #[inline]
    fn finish(&self) -> u64 {
        splitmix64(self.0)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(b);
        }
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.0 = i as u64;
    }
}

pub(crate) type RowidMap = HashMap<i64, NodeId, BuildHasherDefault<RowidHasher>>;

/// splitmix64's output function: a bijective 64-bit mix with full avalanche.
#[inline]
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The HNSW graph. See the module docs for the design.
pub struct Hnsw {
    params: HnswParams,
    /// Links per node on layer 0 (`2 * m`).
    m0: usize,
    /// `1 / ln(m)`, the level multiplier.
    level_mult: f64,
    /// Per id: rowid (meaningless for free slots).
    rowids: Vec<i64>,
    /// Per id: top layer of the node.
    levels: Vec<u8>,
    /// Per id: FREE, RESERVED or LINKED.
    state: Vec<u8>,
    /// Layer-0 lists, `1 + m0` slots per id: count, then neighbours.
    links0: graph::Links0,
    /// Per id: layers 1..=level, `1 + m` slots each (empty for level-0 nodes).
    upper: Vec<Vec<NodeId>>,
    /// Per id: the nodes linking to it, once per layer where they do (a multiset). Only valid
    /// when `rev_built`; built on the first removal (insert-only graphs never pay for it).
    rev: Vec<Vec<NodeId>>,
    rev_built: bool,
    ids: RowidMap,
    /// Free ids below `rowids.len()`, reused smallest first.
    free: BTreeSet<NodeId>,
    entry: Option<NodeId>,
    max_level: usize,
    linked: usize,
    dirty_flag: Vec<bool>,
    dirty: Vec<NodeId>,
    removed: Vec<i64>,
    header_dirty: bool,
    /// Reusable search scratch, one per concurrent search (usually one).
    pool: Mutex<Vec<Scratch>>,
}

impl Clone for Hnsw {
    /// A deep copy (the search scratch pool is not copied: the copy starts its own).
    fn clone(&self) -> Self {
        Hnsw {
            params: self.params,
            m0: self.m0,
            level_mult: self.level_mult,
            rowids: self.rowids.clone(),
            levels: self.levels.clone(),
            state: self.state.clone(),
            links0: self.links0.clone(),
            upper: self.upper.clone(),
            rev: self.rev.clone(),
            rev_built: self.rev_built,
            ids: self.ids.clone(),
            free: self.free.clone(),
            entry: self.entry,
            max_level: self.max_level,
            linked: self.linked,
            dirty_flag: self.dirty_flag.clone(),
            dirty: self.dirty.clone(),
            removed: self.removed.clone(),
            header_dirty: self.header_dirty,
            pool: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Hnsw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hnsw")
            .field("params", &self.params)
            .field("len", &self.linked)
            .field("capacity", &self.rowids.len())
            .field("max_level", &self.max_level)
            .field("entry", &self.entry.map(|e| self.rowids[e as usize]))
            .finish_non_exhaustive()
    }
}

impl Hnsw {
    /// An empty graph. `m` is clamped to `2..=255` and `ef_construction` to at least `m`.
    pub fn new(params: HnswParams) -> Self {
        let m = params.m.clamp(2, 255);
        let params = HnswParams {
            m,
            ef_construction: params.ef_construction.max(m),
            seed: params.seed,
        };
        Hnsw {
            params,
            m0: 2 * m,
            level_mult: 1.0 / (m as f64).ln(),
            rowids: Vec::new(),
            levels: Vec::new(),
            state: Vec::new(),
            links0: graph::Links0::new(2 * m + 1),
            upper: Vec::new(),
            rev: Vec::new(),
            rev_built: false,
            ids: RowidMap::default(),
            free: BTreeSet::new(),
            entry: None,
            max_level: 0,
            linked: 0,
            dirty_flag: Vec::new(),
            dirty: Vec::new(),
            removed: Vec::new(),
            header_dirty: true,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// The parameters in force (after clamping).
    pub fn params(&self) -> HnswParams {
        self.params
    }

    /// Changes the candidate list size of later inserts (at least `m`); the links already
    /// made stay. The header is written with the next `take_dirty`.
    pub fn set_ef_construction(&mut self, ef_construction: usize) {
        let ef_construction = ef_construction.max(self.params.m);
        if ef_construction != self.params.ef_construction {
            self.params.ef_construction = ef_construction;
            self.header_dirty = true;
        }
    }

    /// Number of linked (searchable) nodes.
    pub fn len(&self) -> usize {
        self.linked
    }

    /// True when no node is linked.
    pub fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// One more than the largest id in use (reserved or linked): the number of slots a
    /// caller's vector store needs. Free ids below it are reused first, smallest first.
    pub fn capacity(&self) -> usize {
        self.rowids.len()
    }

    /// Reserve a node id for `rowid`; the caller then stores the vector at that id in its
    /// [`Space`] and calls [`connect`](Self::connect). If `rowid` is already present, its
    /// existing id is returned and nothing changes (so a retried insert is harmless).
    pub fn reserve(&mut self, rowid: i64) -> NodeId {
        if let Some(&id) = self.ids.get(&rowid) {
            return id;
        }
        let level = self.level_for(rowid) as u8;
        let id = match self.free.pop_first() {
            Some(id) => id,
            None => {
                let id = self.rowids.len() as NodeId;
                self.rowids.push(0);
                self.levels.push(0);
                self.state.push(FREE);
                self.links0.resize(id as usize + 1);
                self.upper.push(Vec::new());
                self.dirty_flag.push(false);
                if self.rev_built {
                    self.rev.push(Vec::new());
                }
                id
            }
        };
        let i = id as usize;
        self.rowids[i] = rowid;
        self.levels[i] = level;
        self.state[i] = RESERVED;
        self.links0.node_mut(id)[0] = 0;
        self.upper[i] = vec![0; level as usize * (1 + self.params.m)];
        self.ids.insert(rowid, id);
        id
    }

    /// The id of `rowid`, if it is reserved or linked.
    pub fn node_of(&self, rowid: i64) -> Option<NodeId> {
        self.ids.get(&rowid).copied()
    }

    /// [`node_of`](Self::node_of), trying `hint` first: a caller that meets rowids in the
    /// order their nodes were reserved (a load reading a table's chunks) guesses the next id
    /// and skips the map, whose lookups each miss the cache at a million rows (a 913k-row load
    /// took 2.9-4.6 s with a lookup per row, 1.7-2.1 s with this).
    #[inline]
    pub fn node_of_near(&self, rowid: i64, hint: NodeId) -> Option<NodeId> {
        let i = hint as usize;
        // A reserved or linked id's rowid maps to that id, and to no other.
        if self.rowids.get(i) == Some(&rowid) && self.state[i] != FREE {
            return Some(hint);
        }
        self.node_of(rowid)
    }

    /// The rowid of node `id`. Only meaningful for ids handed out by `reserve` and not removed.
    pub fn rowid_of(&self, id: NodeId) -> i64 {
        self.rowids[id as usize]
    }

    /// True when `id` is linked into the graph (searchable).
    pub fn is_linked(&self, id: NodeId) -> bool {
        self.state.get(id as usize) == Some(&LINKED)
    }

    /// The top layer of a linked or reserved node.
    pub fn level_of(&self, id: NodeId) -> usize {
        self.levels[id as usize] as usize
    }

    /// The entry point's rowid, if the graph is not empty.
    pub fn entry_rowid(&self) -> Option<i64> {
        self.entry.map(|e| self.rowids[e as usize])
    }

    /// The level a rowid gets: `floor(-ln(u) / ln(m))`, `u` in (0, 1] from a hash of rowid and
    /// seed, capped at [`MAX_LEVEL`]. Deterministic, so a reloaded graph assigns new rows the
    /// levels the original would have.
    fn level_for(&self, rowid: i64) -> usize {
        let h = splitmix64(rowid as u64 ^ splitmix64(self.params.seed));
        let u = ((h >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
        ((-u.ln() * self.level_mult) as usize).min(MAX_LEVEL)
    }

    /// Links allowed per node on `layer`.
    #[inline]
    fn max_links(&self, layer: usize) -> usize {
        if layer == 0 {
            self.m0
        } else {
            self.params.m
        }
    }

    /// Tie-break key for two nodes at equal distance from `base`: a hash of the rowid pair, so
    /// each node orders its equidistant candidates differently (see "Ties" in the module docs).
    #[inline]
    fn tie_key(&self, base: NodeId, other: NodeId) -> u64 {
        let a = self.rowids[base as usize] as u64;
        let b = self.rowids[other as usize] as u64;
        splitmix64(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b)
    }
}
