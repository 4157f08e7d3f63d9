//! The HNSW index of one vec0 vector column: its shadow tables, its in-memory copy, and the
//! hooks the table calls on every write and KNN query.
//!
//! Shadow tables (NN = the vector column's index):
//!
//! | table | one row per | holds |
//! |---|---|---|
//! | `{t}_hnswNN_nodes` | indexed row (same rowid) | the node's links on every layer, as rowids |
//! | `{t}_hnswNN_meta` | key | `header` (entry point, levels, parameters), `generation`, `config` |
//!
//! Consistency. The shadow tables are the index; the in-memory [`Loaded`] copy (graph, the
//! vectors it walks, each node's row location) is a cache of them and of the vector chunks.
//! - Every change is written through before the `xUpdate` that made it returns, so SQLite's
//!   transactions, savepoints, statement rollbacks and crash recovery cover the index exactly as
//!   they cover the rows.
//! - Each write also increments `generation` in `{t}_hnswNN_meta`; the copy remembers the value
//!   it corresponds to. Every use reads the stored value first (one indexed lookup) and rebuilds
//!   the copy from the tables when it differs: that catches commits by other connections and
//!   processes. Rollbacks of this connection's own writes (transaction, savepoint or failed
//!   statement) drop the copy outright ([`HnswIndex::invalidate`]), since the counter alone
//!   could come back to a value the copy already had.
//! - Row moves (an UPDATE of a partition key, `'optimize'`) change no link but change where the
//!   vector lives, so they increment the counter too.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;

use half::{bf16, f16};
use vecsql_core::hnsw::{self, BinarySpace, F32Space, Hnsw, HnswParams, Int8Space, NodeId};

use super::{IndexConfig, Knob, Quantizer, Tuning, MAX_EF};
use crate::error::{SqlError, SqlResult};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::layout::{Layout, Metric, VectorColumn, VectorElement};
use crate::vec0::query::scan::{chunk_distances, Neighbour, Query};
use crate::vec0::storage::{RowLocation, Storage};

/// Seed of the level hash: fixed, so the same statements build the same graph everywhere.
const LEVEL_SEED: u64 = 0x7665_6373_716c_0001;

/// The walk's vectors: full precision (as f32), or quantized codes.
enum Nav {
    F32(F32Space),
    Int8(Int8Space),
    Binary(BinarySpace),
}

/// Runs `$body` with `$s` bound to the concrete space, so the graph code is monomorphised for
/// each (no dynamic dispatch per distance).
macro_rules! with_space {
    ($nav:expr, $s:ident => $body:expr) => {
        match $nav {
            Nav::F32($s) => {
                let $s = &*$s;
                $body
            }
            Nav::Int8($s) => {
                let $s = &*$s;
                $body
            }
            Nav::Binary($s) => {
                let $s = &*$s;
                $body
            }
        }
    };
}

impl Nav {
    fn set(&mut self, id: NodeId, v: &[f32]) {
        match self {
            Nav::F32(s) => s.set(id, v),
            Nav::Int8(s) => s.set(id, v),
            Nav::Binary(s) => s.set(id, v),
        }
    }
}

/// The in-memory copy of the index.
struct Loaded {
    graph: Hnsw,
    nav: Nav,
    /// Where each node's row lives, by node id (None for free ids).
    locations: Vec<Option<RowLocation>>,
    /// The stored `generation` this copy corresponds to.
    generation: i64,
}

pub struct HnswIndex {
    /// The vector column's index among the table's vector columns.
    pub column: usize,
    /// As declared; the knobs in force are in `tuning`.
    pub config: IndexConfig,
    /// The knobs in force: the declared ones, or what table commands stored in the `config`
    /// row (read on every load, and the stored generation changes when they do).
    tuning: Cell<Tuning>,
    vector: VectorColumn,
    state: RefCell<Option<Loaded>>,
}

/// Shadow table suffixes of the index of vector column `i`.
pub fn nodes_suffix(i: usize) -> String {
    format!("hnsw{i:02}_nodes")
}

pub fn meta_suffix(i: usize) -> String {
    format!("hnsw{i:02}_meta")
}

/// The statements creating the index tables of vector column `i` of `layout`.
pub fn create_sql(layout: &Layout, i: usize, config: &IndexConfig) -> String {
    format!(
        "CREATE TABLE {nodes}(rowid INTEGER PRIMARY KEY, links BLOB NOT NULL);\
         CREATE TABLE {meta}(key TEXT PRIMARY KEY, value ANY);\
         INSERT INTO {meta}(key, value) VALUES ('generation', 0), ('config', '{config}');",
        nodes = layout.qualified(&nodes_suffix(i)),
        meta = layout.qualified(&meta_suffix(i)),
        config = {
            let mut json = config.to_json();
            json["column"] = layout.vectors[i].name.clone().into();
            json.to_string().replace('\'', "''")
        },
    )
}

fn hnsw_metric(metric: Metric) -> hnsw::Metric {
    match metric {
        Metric::L2 => hnsw::Metric::L2,
        Metric::Cosine => hnsw::Metric::Cosine,
        Metric::Dot => hnsw::Metric::Dot,
        Metric::L1 => hnsw::Metric::L1,
        // Bit columns walk a BinarySpace, whose only distance is Hamming.
        Metric::Hamming => hnsw::Metric::L2,
    }
}

/// A stored vector (the column's element bytes) as f32 for the walk. Bits become +1/-1, whose
/// sign codes are the bits again.
fn to_f32(element: VectorElement, bytes: &[u8], dims: usize) -> Vec<f32> {
    match element {
        VectorElement::Float32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect(),
        VectorElement::Float16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        VectorElement::BFloat16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        VectorElement::Int8 => bytes.iter().map(|&b| b as i8 as f32).collect(),
        VectorElement::Bit => (0..dims)
            .map(|i| {
                if (bytes[i / 8] >> (i % 8)) & 1 == 1 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect(),
    }
}

fn query_f32(query: &Query, dims: usize) -> Vec<f32> {
    match query {
        Query::Float32(q) => q.clone(),
        Query::Float16(q) => q.iter().map(|x| x.to_f32()).collect(),
        Query::BFloat16(q) => q.iter().map(|x| x.to_f32()).collect(),
        Query::Int8(q) => q.iter().map(|&x| x as f32).collect(),
        Query::Bit(q) => to_f32(VectorElement::Bit, q, dims),
    }
}

/// Which rows a filtered search may return: per chunk, a bitmap of accepted slots.
pub struct Accept {
    chunks: HashMap<i64, Vec<u64>>,
}

impl Accept {
    pub fn new() -> Accept {
        Accept {
            chunks: HashMap::new(),
        }
    }

    pub fn allow(&mut self, chunk_id: i64, slots: &[usize], chunk_size: usize) {
        let bits = self
            .chunks
            .entry(chunk_id)
            .or_insert_with(|| vec![0; chunk_size.div_ceil(64)]);
        for &s in slots {
            bits[s / 64] |= 1 << (s % 64);
        }
    }

    fn accepts(&self, loc: &RowLocation) -> bool {
        self.chunks
            .get(&loc.chunk_id)
            .is_some_and(|b| (b[loc.offset / 64] >> (loc.offset % 64)) & 1 == 1)
    }
}

impl Default for Accept {
    fn default() -> Self {
        Accept::new()
    }
}

/// What `vec_index_status` and the planner learn about an index.
pub struct IndexStats {
    pub nodes: usize,
}

impl HnswIndex {
    pub fn new(column: usize, vector: VectorColumn, config: IndexConfig) -> HnswIndex {
        HnswIndex {
            column,
            tuning: Cell::new(config.tuning()),
            config,
            vector,
            state: RefCell::new(None),
        }
    }

    fn meta(&self, storage: &Storage) -> String {
        storage.layout.qualified(&meta_suffix(self.column))
    }

    fn nodes(&self, storage: &Storage) -> String {
        storage.layout.qualified(&nodes_suffix(self.column))
    }

    fn params(&self) -> HnswParams {
        HnswParams {
            m: self.config.m,
            ef_construction: self.tuning.get().ef_construction,
            seed: LEVEL_SEED,
        }
    }

    fn new_nav(&self) -> Nav {
        let dims = self.vector.dims;
        if self.vector.element == VectorElement::Bit {
            return Nav::Binary(BinarySpace::new(dims));
        }
        let metric = hnsw_metric(self.vector.metric);
        match self.config.quantizer {
            Quantizer::None => Nav::F32(F32Space::new(dims, metric)),
            Quantizer::Int8 => Nav::Int8(Int8Space::new(dims, metric)),
            Quantizer::Binary => Nav::Binary(BinarySpace::new(dims)),
        }
    }

    /// Drops the in-memory copy: after a rollback of this connection's writes.
    pub fn invalidate(&self) {
        self.state.borrow_mut().take();
    }

    fn stored_generation(&self, storage: &Storage) -> SqlResult<i64> {
        let rows = storage.query(
            &format!(
                "SELECT value FROM {} WHERE key = 'generation'",
                self.meta(storage)
            ),
            &[],
        )?;
        match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Integer(g)) => Ok(*g),
            _ => Err(SqlError::corrupt(format!(
                "vec0 table {}: the index of column \"{}\" has no generation counter (damaged {}_{})",
                storage.layout.table,
                self.vector.name,
                storage.layout.table,
                meta_suffix(self.column)
            ))),
        }
    }

    /// The in-memory copy, rebuilt from the shadow tables if it is missing or stale.
    fn current<'a>(&'a self, storage: &Storage) -> SqlResult<RefMut<'a, Loaded>> {
        let generation = self.stored_generation(storage)?;
        let mut state = self.state.borrow_mut();
        let fresh = state.as_ref().is_some_and(|l| l.generation == generation);
        if !fresh {
            *state = None;
            *state = Some(self.load(storage, generation)?);
        }
        Ok(RefMut::map(state, |s| s.as_mut().expect("just loaded")))
    }

    /// Reads the graph and the vectors it walks. Rows the graph lacks (e.g. in a table whose
    /// index tables were emptied) are linked now, in rowid order, and graph nodes without a row
    /// are removed; those repairs are written with the next write to the index.
    fn load(&self, storage: &Storage, generation: i64) -> SqlResult<Loaded> {
        self.read_tuning(storage)?;
        let header = storage.query(
            &format!(
                "SELECT value FROM {} WHERE key = 'header'",
                self.meta(storage)
            ),
            &[],
        )?;
        let mut graph = match header.first().and_then(|r| r.first()) {
            Some(OwnedValue::Blob(h)) => {
                let nodes = storage.query(
                    &format!(
                        "SELECT rowid, links FROM {} ORDER BY rowid",
                        self.nodes(storage)
                    ),
                    &[],
                )?;
                // Damage, in either index table: SQLITE_CORRUPT_VTAB naming both.
                let damaged = |e: &dyn std::fmt::Display| {
                    SqlError::corrupt(format!(
                        "vec0 table {}: the index of column \"{}\" ({}, {}) is damaged: {e}; \
                         rebuild it with insert into {}({}) values ('rebuild-index')",
                        storage.layout.table,
                        self.vector.name,
                        storage.layout.shadow(&nodes_suffix(self.column)),
                        storage.layout.shadow(&meta_suffix(self.column)),
                        storage.layout.table,
                        storage.layout.table
                    ))
                };
                let rows = nodes
                    .into_iter()
                    .map(|r| {
                        let mut it = r.into_iter();
                        match (it.next(), it.next()) {
                            (Some(OwnedValue::Integer(id)), Some(OwnedValue::Blob(b))) => {
                                Ok((id, b))
                            }
                            (id, _) => {
                                Err(damaged(&format!("the links of node {id:?} are not a blob")))
                            }
                        }
                    })
                    .collect::<SqlResult<Vec<_>>>()?;
                let mut graph = Hnsw::load(h, rows.into_iter()).map_err(|e| damaged(&e))?;
                graph.set_ef_construction(self.tuning.get().ef_construction);
                graph
            }
            _ => Hnsw::new(self.params()),
        };
        let mut loaded = Loaded {
            graph: Hnsw::new(self.params()),
            nav: self.new_nav(),
            locations: Vec::new(),
            generation,
        };
        let mut missing: Vec<(RowLocation, Vec<f32>)> = Vec::new();
        let mut present = vec![false; graph.capacity()];
        let dims = self.vector.dims;
        let vb = self.vector.vector_bytes();
        for chunk in storage.chunks(&[])? {
            let bytes = storage.read_vector_chunk(self.column, chunk.chunk_id)?;
            for slot in 0..storage.layout.chunk_size {
                if !chunk.is_valid(slot) {
                    continue;
                }
                let loc = RowLocation {
                    rowid: chunk.rowid(slot),
                    chunk_id: chunk.chunk_id,
                    offset: slot,
                };
                let v = to_f32(
                    self.vector.element,
                    &bytes[slot * vb..(slot + 1) * vb],
                    dims,
                );
                match graph.node_of(loc.rowid) {
                    Some(id) if graph.is_linked(id) => {
                        loaded.nav.set(id, &v);
                        set_location(&mut loaded.locations, id, loc);
                        present[id as usize] = true;
                    }
                    _ => missing.push((loc, v)),
                }
            }
        }
        let orphans: Vec<NodeId> = (0..graph.capacity() as NodeId)
            .filter(|&id| graph.is_linked(id) && !present[id as usize])
            .collect();
        // Removing one orphan measures distances to its neighbours, which may be orphans too
        // (rows deleted by sqlite-vec, or damage): give them a vector first, or the space has
        // none to read. Links to them are dropped as each is removed in turn.
        let zeros = vec![0.0f32; dims];
        for &id in &orphans {
            loaded.nav.set(id, &zeros);
        }
        let orphans: Vec<i64> = orphans.iter().map(|&id| graph.rowid_of(id)).collect();
        for rowid in orphans {
            with_space!(&loaded.nav, s => graph.remove(rowid, s));
        }
        missing.sort_by_key(|(loc, _)| loc.rowid);
        loaded.graph = graph;
        for (loc, v) in missing {
            self.link(&mut loaded, loc, &v);
        }
        Ok(loaded)
    }

    fn link(&self, l: &mut Loaded, loc: RowLocation, v: &[f32]) {
        let id = l.graph.reserve(loc.rowid);
        l.nav.set(id, v);
        set_location(&mut l.locations, id, loc);
        let Loaded { graph, nav, .. } = l;
        with_space!(nav, s => graph.connect(id, s));
    }

    /// Writes what changed in the graph and moves the generation on.
    fn persist(&self, storage: &Storage, l: &mut Loaded) -> SqlResult<()> {
        let dirty = l.graph.take_dirty();
        let nodes = self.nodes(storage);
        for rowid in &dirty.removed {
            storage.execute(
                &format!("DELETE FROM {nodes} WHERE rowid = ?"),
                &[SqlValue::Integer(*rowid)],
            )?;
        }
        for &id in &dirty.changed {
            let blob = l.graph.node_blob(id);
            storage.execute(
                &format!("INSERT OR REPLACE INTO {nodes}(rowid, links) VALUES (?, ?)"),
                &[
                    SqlValue::Integer(l.graph.rowid_of(id)),
                    SqlValue::Blob(&blob),
                ],
            )?;
        }
        let meta = self.meta(storage);
        if dirty.header_changed {
            let header = l.graph.header_blob();
            storage.execute(
                &format!("INSERT OR REPLACE INTO {meta}(key, value) VALUES ('header', ?)"),
                &[SqlValue::Blob(&header)],
            )?;
        }
        self.bump(storage, l)
    }

    fn bump(&self, storage: &Storage, l: &mut Loaded) -> SqlResult<()> {
        storage.execute(
            &format!(
                "UPDATE {} SET value = value + 1 WHERE key = 'generation'",
                self.meta(storage)
            ),
            &[],
        )?;
        // A damaged counter at i64::MAX becomes a real in SQL (reported on the next read).
        l.generation = l.generation.wrapping_add(1);
        Ok(())
    }

    /// The stored knobs (the declared ones where none are stored).
    fn read_tuning(&self, storage: &Storage) -> SqlResult<()> {
        let rows = storage.query(
            &format!(
                "SELECT value FROM {} WHERE key = 'config'",
                self.meta(storage)
            ),
            &[],
        )?;
        let tuning = match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Text(t)) => match serde_json::from_str(t) {
                Ok(json) => Tuning::from_json(&json, self.config.tuning()),
                Err(_) => self.config.tuning(),
            },
            _ => self.config.tuning(),
        };
        self.tuning.set(tuning);
        Ok(())
    }

    /// The knobs in force (as stored by any connection).
    pub fn tuning(&self, storage: &Storage) -> SqlResult<Tuning> {
        self.current(storage)?;
        Ok(self.tuning.get())
    }

    /// A table command's knob: stored in the `config` row (so every connection sees it) and
    /// applied to this copy; the generation moves on so other connections reload.
    pub fn tune(&self, storage: &Storage, knob: Knob) -> SqlResult<()> {
        let mut l = self.current(storage)?;
        let tuning = knob.apply(self.tuning.get());
        self.tuning.set(tuning);
        let mut json = self.config.with_tuning(tuning).to_json();
        json["column"] = self.vector.name.clone().into();
        let text = json.to_string();
        storage.execute(
            &format!(
                "INSERT OR REPLACE INTO {}(key, value) VALUES ('config', ?)",
                self.meta(storage)
            ),
            &[SqlValue::Text(text.as_bytes())],
        )?;
        l.graph.set_ef_construction(tuning.ef_construction);
        self.persist(storage, &mut l)
    }

    /// Links a new row (its vector as stored in the column's element type).
    pub fn insert(&self, storage: &Storage, loc: RowLocation, vector: &[u8]) -> SqlResult<()> {
        let mut l = self.current(storage)?;
        if l.graph.node_of(loc.rowid).is_some() {
            let Loaded { graph, nav, .. } = &mut *l;
            with_space!(nav, s => graph.remove(loc.rowid, s));
        }
        let v = to_f32(self.vector.element, vector, self.vector.dims);
        self.link(&mut l, loc, &v);
        self.persist(storage, &mut l)
    }

    /// Unlinks a deleted row and repairs its neighbours' links.
    pub fn remove(&self, storage: &Storage, rowid: i64) -> SqlResult<()> {
        let mut l = self.current(storage)?;
        let Loaded {
            graph,
            nav,
            locations,
            ..
        } = &mut *l;
        if let Some(id) = with_space!(nav, s => graph.remove(rowid, s)) {
            if let Some(slot) = locations.get_mut(id as usize) {
                *slot = None;
            }
        }
        self.persist(storage, &mut l)
    }

    /// Records that a row's vector moved to another slot (its links are unchanged).
    pub fn relocate(&self, storage: &Storage, loc: RowLocation) -> SqlResult<()> {
        let mut l = self.current(storage)?;
        if let Some(id) = l.graph.node_of(loc.rowid) {
            set_location(&mut l.locations, id, loc);
        }
        self.bump(storage, &mut l)
    }

    /// Drops the graph and links every row again, in rowid order.
    pub fn rebuild(&self, storage: &Storage) -> SqlResult<()> {
        let generation = self.stored_generation(storage)?;
        storage.execute(&format!("DELETE FROM {}", self.nodes(storage)), &[])?;
        storage.execute(
            &format!("DELETE FROM {} WHERE key = 'header'", self.meta(storage)),
            &[],
        )?;
        let mut loaded = self.load(storage, generation)?;
        // Everything was linked by `load`: write it all.
        self.persist(storage, &mut loaded)?;
        *self.state.borrow_mut() = Some(loaded);
        Ok(())
    }

    pub fn stats(&self, storage: &Storage) -> SqlResult<IndexStats> {
        let l = self.current(storage)?;
        Ok(IndexStats {
            nodes: l.graph.len(),
        })
    }

    /// The `k` nearest rows accepted by `accept`, by an HNSW walk with a candidate list of
    /// `ef`, rescored with the column's exact distance (the same kernels as an exact scan, so
    /// the `distance` column does not depend on the plan).
    pub fn search(
        &self,
        storage: &Storage,
        query: &Query,
        k: usize,
        ef: usize,
        accept: Option<&Accept>,
    ) -> SqlResult<Vec<Neighbour>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let l = self.current(storage)?;
        let q = query_f32(query, self.vector.dims);
        let oversample = self.tuning.get().oversample.unwrap_or(1);
        let ef = ef.max(k).max(k.saturating_mul(oversample).min(MAX_EF));
        let locations = &l.locations;
        let location = |id: NodeId| locations.get(id as usize).copied().flatten();
        let filter =
            accept.map(|a| move |id: NodeId| location(id).is_some_and(|loc| a.accepts(&loc)));
        let filter_ref: Option<&dyn Fn(NodeId) -> bool> =
            filter.as_ref().map(|f| f as &dyn Fn(NodeId) -> bool);
        // A full-precision walk ranks exactly as the rescoring will: only the k best need
        // rescoring. A quantized walk's ef candidates are all rescored.
        let wanted = match (&l.nav, self.config.quantizer) {
            (Nav::F32(_), _) => k,
            _ => ef,
        };
        let candidates =
            with_space!(&l.nav, s => l.graph.search(s.query_distance(&q), wanted, ef, filter_ref));
        storage.validate_vector_cache()?;
        let vb = self.vector.vector_bytes();
        let mut out = Vec::with_capacity(candidates.len());
        for (_, id) in candidates {
            let Some(loc) = location(id) else { continue };
            let chunk = storage.vector_chunk(self.column, loc.chunk_id)?;
            let mut distance = f64::NAN;
            chunk_distances(
                query,
                self.vector.metric,
                vb,
                chunk.bytes(),
                &[loc.offset],
                |_, d| distance = if d == 0.0 { 0.0 } else { d },
            )?;
            out.push(Neighbour {
                location: loc,
                distance,
            });
        }
        out.sort_by(|a, b| a.rank_cmp(b));
        out.truncate(k);
        Ok(out)
    }
}

fn set_location(locations: &mut Vec<Option<RowLocation>>, id: NodeId, loc: RowLocation) {
    let i = id as usize;
    if locations.len() <= i {
        locations.resize(i + 1, None);
    }
    locations[i] = Some(loc);
}
