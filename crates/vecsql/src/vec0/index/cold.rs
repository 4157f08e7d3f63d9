//! The first queries of a process that has no copy of the index: the graph is walked in the
//! file, reading each node's row and vector as the walk reaches it.
//!
//! Loading a copy reads every node row and every vector (at 100k 384-dimensional rows about
//! 180 MB, 250 ms on an idle core); one walk reaches a few thousand nodes. So a process with no
//! copy of a graph of at least `cold_walk_min_nodes` nodes answers its first queries this way,
//! by the same walk a copy makes ([`vecsql_core::hnsw::search_graph`] over [`ColdGraph`]), hence
//! with the same answers. What a walk reads stays in the connection's [`ColdCache`] for the
//! next one, until the generation moves on.
//!
//! # When to load
//! A walk is not free: vectors live in chunk blobs of `chunk_size` vectors, and reaching one
//! vector in a blob means following the blob's chain of overflow pages up to it. Each walk
//! keeps one handle per chunk (SQLite remembers the pages it has followed per handle), but the
//! handles must close when the walk ends, so each walk follows the chains again. The walk maps
//! the file meanwhile (`storage/mapped.rs`), so following a page is a memory access rather than
//! a read call: at 100k rows a walk costs 16-25 ms (40-170 ms with reads). So the connection
//! walks until its walks have taken
//! as long as a load is estimated to take ([`load_estimate`]; the ski-rental rule: never more
//! than twice the better choice in hindsight), and at most [`COLD_QUERIES`] times, then loads.
//! A process that answers one query (a CLI, a serverless handler) pays one walk, not a load.
//!
//! A damaged row met on the way is reported as a load would report it (`SQLITE_CORRUPT_VTAB`
//! naming the tables). Navigation reads locations unchecked (a wrong one could only misguide
//! the walk); the rows returned are located and read again with every check.

use std::cell::RefCell;
use std::collections::HashMap;

use vecsql_core::hnsw::{
    read_header, read_node, search_graph, Adjacency, F32Query, HnswError, NodeId, StoredShape,
};

use super::RowTest;
use crate::ffi::connection::Blob;
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::storage::{RowLocation, Storage};

/// Walks in the file a connection makes at most before it loads the copy: at 913k rows a walk
/// costs 70-110 ms against a load of 2 s or more, so the ski-rental rule alone would walk 20
/// times or more; with 8, the 9th query loads and the 10th runs at warm speed.
pub const COLD_QUERIES: u32 = 8;

/// What loading a copy of `nodes` nodes of `vector_bytes`-byte vectors takes, roughly: about
/// 1.5 ns per byte read (vectors and links), measured at 100k x 384 float32 (235 ms) on an idle
/// core of the project's VM.
pub fn load_estimate(nodes: u64, vector_bytes: usize) -> std::time::Duration {
    const LINK_BYTES: u64 = 200;
    let bytes = nodes.saturating_mul(vector_bytes as u64 + LINK_BYTES);
    std::time::Duration::from_nanos(bytes.saturating_mul(3) / 2)
}

/// What the walks of one connection have read, at one stored generation.
pub struct ColdCache {
    generation: i64,
    header: Vec<u8>,
    shape: StoredShape,
    nodes: HashMap<NodeId, ColdNode>,
    ids: HashMap<i64, NodeId>,
    /// Per node: where its row lives and its vector as f32 (`None`: no row, an orphan node).
    vectors: HashMap<NodeId, Option<(RowLocation, Vec<f32>)>>,
}

struct ColdNode {
    rowid: i64,
    /// Per layer from 0, the neighbours' rowids.
    layers: Vec<Vec<i64>>,
}

impl ColdCache {
    /// An empty cache for the graph whose header is `header` at `generation`.
    pub fn new(generation: i64, header: Vec<u8>) -> Result<ColdCache, HnswError> {
        let shape = read_header(&header)?;
        Ok(ColdCache {
            generation,
            header,
            shape,
            nodes: HashMap::new(),
            ids: HashMap::new(),
            vectors: HashMap::new(),
        })
    }

    /// True when this cache describes the stored graph.
    pub fn is_at(&self, generation: i64, header: &[u8]) -> bool {
        self.generation == generation && self.header == header
    }

    pub fn nodes(&self) -> u64 {
        self.shape.count
    }
}

/// How the walk reads one index's rows.
pub struct ColdSource<'a> {
    pub storage: &'a Storage,
    /// `SELECT links FROM {nodes} WHERE rowid = ?`.
    pub node_sql: String,
    pub column: usize,
    pub dims: usize,
    /// Bytes of one stored vector.
    pub vector_bytes: usize,
    /// The stored bytes of one vector as f32 (the column's element type converted).
    pub to_f32: &'a dyn Fn(&[u8]) -> Vec<f32>,
    /// The error for damage found on the way, naming the index tables.
    pub damaged: &'a dyn Fn(&dyn std::fmt::Display) -> Vec0Error,
}

/// The stored graph as an [`Adjacency`]: lists and vectors read on first use. Errors stop the
/// walk (no more links, infinite distances) and are returned by [`ColdGraph::search`].
pub struct ColdGraph<'a, 'c> {
    source: ColdSource<'a>,
    /// One handle per vector chunk read by this walk: SQLite remembers the overflow pages it
    /// has walked per handle, so later reads in the same chunk do not walk the chain again.
    /// Closed when the walk ends (an open handle would hold the read transaction).
    chunks: RefCell<HashMap<i64, Blob>>,
    cache: RefCell<&'c mut ColdCache>,
    error: RefCell<Option<Vec0Error>>,
}

impl<'a, 'c> ColdGraph<'a, 'c> {
    pub fn new(source: ColdSource<'a>, cache: &'c mut ColdCache) -> Self {
        ColdGraph {
            source,
            chunks: RefCell::new(HashMap::new()),
            cache: RefCell::new(cache),
            error: RefCell::new(None),
        }
    }

    fn fail(&self, e: Vec0Error) {
        self.error.borrow_mut().get_or_insert(e);
    }

    fn failed(&self) -> bool {
        self.error.borrow().is_some()
    }

    /// The node id of `rowid`, reading its row on first use.
    fn id_of(&self, rowid: i64) -> Vec0Result<NodeId> {
        if let Some(&id) = self.cache.borrow().ids.get(&rowid) {
            return Ok(id);
        }
        let s = &self.source;
        let rows = s.storage.query(&s.node_sql, &[SqlValue::Integer(rowid)])?;
        let blob = match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Blob(b)) => b,
            Some(_) => {
                return Err((s.damaged)(&format!(
                    "the links of node {rowid} are not a blob"
                )))
            }
            None => {
                return Err((s.damaged)(&format!(
                    "neighbour rowid {rowid} is not in the graph"
                )))
            }
        };
        let mut cache = self.cache.borrow_mut();
        let node = read_node(rowid, blob, &cache.shape).map_err(|e| (s.damaged)(&e))?;
        if let Some(other) = cache.nodes.get(&node.id) {
            return Err((s.damaged)(&format!(
                "node id {} is used by rowids {} and {rowid}",
                node.id, other.rowid
            )));
        }
        cache.ids.insert(rowid, node.id);
        cache.nodes.insert(
            node.id,
            ColdNode {
                rowid,
                layers: node.layers,
            },
        );
        Ok(node.id)
    }

    /// The location and vector of node `id` (`None` for a node without a row).
    fn vector_of(&self, id: NodeId) -> Vec0Result<Option<(RowLocation, Vec<f32>)>> {
        if let Some(v) = self.cache.borrow().vectors.get(&id) {
            return Ok(v.clone());
        }
        let rowid = self.rowid(id);
        let s = &self.source;
        let v = match s.storage.locate_unchecked(rowid)? {
            Some(loc) => {
                let vb = s.vector_bytes;
                let mut bytes = vec![0u8; vb];
                let mut chunks = self.chunks.borrow_mut();
                let blob = match chunks.entry(loc.chunk_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(s.storage.open_vectors(s.column, loc.chunk_id, false)?)
                    }
                };
                blob.read(loc.offset * vb, &mut bytes)?;
                let v = (s.to_f32)(&bytes);
                if v.len() != s.dims {
                    return Err((s.damaged)(&format!("the vector of rowid {rowid}")));
                }
                Some((loc, v))
            }
            None => None,
        };
        self.cache.borrow_mut().vectors.insert(id, v.clone());
        Ok(v)
    }

    /// Where node `id`'s row lives, if it has one.
    fn location(&self, id: NodeId) -> Option<RowLocation> {
        match self.vector_of(id) {
            Ok(v) => v.map(|(loc, _)| loc),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// The query's distance to node `id` (+infinity for a node without a row, or on error).
    fn distance(&self, query: &F32Query, id: NodeId) -> f32 {
        if self.failed() {
            return f32::INFINITY;
        }
        match self.vector_of(id) {
            Ok(Some((_, v))) => query.distance(&v),
            Ok(None) => f32::INFINITY,
            Err(e) => {
                self.fail(e);
                f32::INFINITY
            }
        }
    }

    /// The walk's result: `(distance, location)` of up to `k` rows, or the first error met.
    pub fn search(
        self,
        query: &[f32],
        metric: vecsql_core::distance::Metric,
        k: usize,
        ef: usize,
        accept: Option<&dyn RowTest>,
    ) -> Vec0Result<Vec<(f32, RowLocation)>> {
        let q = F32Query::new(metric, query);
        let filter = |id: NodeId| match self.location(id) {
            Some(loc) => accept.is_none_or(|a| a.accepts(&loc)),
            None => false,
        };
        let filter_ref: Option<&dyn Fn(NodeId) -> bool> = accept.map(|_| &filter as _);
        let found = search_graph(&self, |id| self.distance(&q, id), k, ef, filter_ref);
        let mut out = Vec::with_capacity(found.len());
        for (d, id) in found {
            if let Some(loc) = self.location(id) {
                out.push((d, loc));
            }
        }
        let error = self.error.borrow_mut().take();
        match error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

impl Adjacency for ColdGraph<'_, '_> {
    fn capacity(&self) -> usize {
        self.cache.borrow().shape.capacity
    }

    fn entry(&self) -> Option<(NodeId, usize)> {
        let (rowid, level) = {
            let c = self.cache.borrow();
            (c.shape.entry_rowid?, c.shape.max_level)
        };
        match self.id_of(rowid) {
            Ok(id) => Some((id, level)),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn for_each_link(&self, id: NodeId, layer: usize, mut f: impl FnMut(NodeId)) {
        if self.failed() {
            return;
        }
        let list = {
            let c = self.cache.borrow();
            let node = &c.nodes[&id];
            match node.layers.get(layer) {
                Some(l) => l.clone(),
                None => Vec::new(),
            }
        };
        for rowid in list {
            let n = match self.id_of(rowid) {
                Ok(n) => n,
                Err(e) => return self.fail(e),
            };
            let bad = {
                let c = self.cache.borrow();
                if n == id {
                    Some(format!("links to itself on layer {layer}"))
                } else if c.nodes[&n].layers.len() <= layer {
                    Some(format!(
                        "neighbour rowid {rowid} on layer {layer} only reaches layer {}",
                        c.nodes[&n].layers.len() - 1
                    ))
                } else {
                    None
                }
            };
            if let Some(reason) = bad {
                let owner = self.rowid(id);
                return self.fail((self.source.damaged)(&format!("node {owner}: {reason}")));
            }
            f(n);
        }
    }

    fn rowid(&self, id: NodeId) -> i64 {
        self.cache.borrow().nodes.get(&id).map_or(0, |n| n.rowid)
    }
}
