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
//!   it corresponds to. Every use reads the stored value first (one indexed lookup) and brings
//!   the copy up to date when it differs: that catches commits by other connections and
//!   processes. Rollbacks of this connection's own writes (transaction, savepoint or failed
//!   statement) drop the copy outright ([`HnswIndex::invalidate`]), since the counter alone
//!   could come back to a value the copy already had.
//! - Row moves (an UPDATE of a partition key, `'optimize'`) change no link but change where the
//!   vector lives, so they increment the counter too.
//!
//! One copy per process. Copies of committed states are shared by every connection of the
//! process on the same database file ([`SHARED`], keyed by file, table and column, holding weak
//! references: a copy lives as long as some connection uses it). A connection whose copy is
//! missing or stale first looks there for a copy at the stored generation, so a new connection
//! answers its first query at warm speed and a pool of N connections holds one copy, not N.
//! Uncommitted states are never shared: the first write of a transaction makes the
//! connection's copy private (`Arc::make_mut`: in place when no other connection uses it, a
//! copy otherwise), reads inside that transaction neither adopt nor publish, and the commit
//! (`xCommit`, [`HnswIndex::committed`]) publishes the result. A generation names one committed
//! state (committed changes only ever increase it; an uncommitted value that is rolled back is
//! never published), and an adopted copy must also match the stored header.
//!
//! Fresh reads. Each write appends a log row `log:<generation>` to `{t}_hnswNN_meta`: the
//! rowids whose node rows changed and those whose vector or location changed. A copy that is
//! behind by r generations reads those r log rows, the node rows and vectors they name, and
//! patches itself ([`vecsql_core::hnsw::Hnsw::patch`]): O(changed rows), not O(table). The
//! last [`LOG_KEEP`] generations are kept; a copy further behind, a gap (a write by a build
//! without the log), a `'rebuild-index'` or a large change reloads in full.

use std::cell::{Cell, OnceCell, RefCell, RefMut};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use vecsql_core::distance::batch::{prefetch, unpack_f32};
use vecsql_core::hnsw::{
    self, BinarySpace, F32Space, Hnsw, HnswError, HnswParams, Int8Space, NodeId, Space,
};
use vecsql_core::topk::{rescore, unsigned_zero, Ranked, TopK};

use super::cold::{load_estimate, ColdCache, ColdGraph, ColdSource, COLD_QUERIES};
use super::pending::{for_each_vector, PendingRows};
use super::{IndexConfig, Knob, Quantizer, RowTest, Tuning};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::layout::{ElementType, Layout, VectorColumn};
use crate::vec0::query::plan::FilterOp;
use crate::vec0::query::scan::{
    best_k_in_parts, chunk_distances, scan_threads, within, Candidates, Neighbour, Query,
};
use crate::vec0::storage::{AlignedChunk, ChunkInfo, RowLocation, Storage};

/// Seed of the level hash: fixed, so the same statements build the same graph everywhere.
const LEVEL_SEED: u64 = 0x7665_6373_716c_0001;

/// From this many rows to link at once (a `'rebuild-index'`, an index added to a filled
/// table), a load links them with [`Hnsw::connect_batch`] on several threads. Fewer are linked
/// one by one, as the statements that insert them would: the same bytes as a row-by-row build,
/// at a cost (under a second) that threads would barely shorten.
pub const BATCH_BUILD_ROWS: usize = 2048;

/// Threads a batch build uses at most when nothing else is asked for: more rarely pays, as the
/// batches are planned in parallel but applied on one thread.
const MAX_BUILD_THREADS: usize = 8;

/// Thread count set by [`set_build_threads`] (0: none set).
static BUILD_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the threads of later batch builds in this process (0 restores the default). The graph
/// is the same for any count; this only bounds the cores a build occupies (tests compare counts).
#[doc(hidden)]
pub fn set_build_threads(threads: usize) {
    BUILD_THREADS.store(threads, Ordering::Relaxed);
}

/// [`set_build_threads`]'s value, else `VECSQL_BUILD_THREADS`, else the machine's parallelism
/// (at most [`MAX_BUILD_THREADS`]).
fn build_threads() -> usize {
    let set = BUILD_THREADS.load(Ordering::Relaxed);
    if set > 0 {
        return set;
    }
    if let Some(n) = std::env::var("VECSQL_BUILD_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_BUILD_THREADS))
}

thread_local! {
    /// Set while [`deferring_links`] runs.
    static DEFER_LINKING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with rows inserted into HNSW-indexed vec0 tables on this thread stored but not
/// linked, so that a bulk fill can be linked by one batch build afterwards instead of row by
/// row. The caller must run `'rebuild-index'` on every table it filled before anything reads
/// it (a load would link the rows too, but only in memory until the next write).
pub(crate) fn deferring_links<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            DEFER_LINKING.with(|d| d.set(self.0));
        }
    }
    let _reset = Reset(DEFER_LINKING.with(|d| d.replace(true)));
    f()
}

/// Log rows kept: a copy up to this many generations behind catches up from the log.
pub const LOG_KEEP: i64 = 1024;

/// Log rows are pruned once per this many generations.
const LOG_PRUNE_EVERY: i64 = 64;

/// The walk's vectors: full precision (as f32), or quantized codes.
#[derive(Clone)]
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
#[derive(Clone)]
struct Loaded {
    graph: Hnsw,
    nav: Nav,
    /// Where each node's row lives, by node id (None for free ids).
    locations: Vec<Option<RowLocation>>,
    /// Rows whose place in the chunks `{t}_rowids` did not confirm when the copy was loaded
    /// (damage, or a row rewritten meanwhile): a result among them is looked up again, which
    /// reports the damage. Every other location was confirmed by the load, or was read from
    /// `{t}_rowids` (a refresh) or written beside it (this process's writes) since.
    unconfirmed: HashSet<i64>,
    /// The stored `generation` this copy corresponds to.
    generation: i64,
    /// The knobs in force: the declared ones, or what table commands stored in the `config`
    /// row (read on every load, and the stored generation changes when they do).
    tuning: Tuning,
}

/// Which index a shared copy belongs to: database file, table, vector column, and the
/// column's declaration (so a table dropped and declared again differently never shares).
type Key = (String, String, usize, String);

/// A process-wide copy and how connections got theirs.
#[derive(Default)]
struct Shared {
    copy: Weak<Loaded>,
    /// Copies read from the shadow tables in full.
    full_loads: u64,
    /// Copies brought up to date from the log.
    refreshes: u64,
    /// Copies taken from another connection of the process.
    adoptions: u64,
    /// Copies duplicated because a writer changed one that other connections use.
    copies: u64,
    /// A batch build under way in this process (see [`BuildProgress`]).
    build: Option<Arc<BuildProgress>>,
}

/// How far a batch build of many rows has got, for `vec_index_status` on another connection
/// of the process (the build's own transaction is not visible to other processes until it
/// commits).
struct BuildProgress {
    rows: usize,
    linked: AtomicUsize,
    started: std::time::Instant,
}

/// Registers a build's progress under its index's key while it lives.
struct BuildGuard {
    key: Option<Key>,
    progress: Arc<BuildProgress>,
}

impl Drop for BuildGuard {
    fn drop(&mut self) {
        if let Some(key) = &self.key {
            shared(|m| {
                if let Some(s) = m.get_mut(key) {
                    if s.build
                        .as_ref()
                        .is_some_and(|b| Arc::ptr_eq(b, &self.progress))
                    {
                        s.build = None;
                    }
                }
            });
        }
    }
}

/// How many entries the process map holds before those without a live copy are dropped.
const DEAD_ENTRIES_KEPT: usize = 256;

/// The copies shared by the connections of this process (see "One copy per process").
static SHARED: OnceLock<Mutex<HashMap<Key, Shared>>> = OnceLock::new();

fn shared<R>(f: impl FnOnce(&mut HashMap<Key, Shared>) -> R) -> R {
    let mut map = SHARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    f(&mut map)
}

/// How this process holds the index of column `column` of `table` in database file `file`,
/// for `vec_index_status`.
pub fn process_status(file: &str, table: &str, column: usize) -> serde_json::Value {
    shared(|map| {
        // The entry of the declaration in use: the one with a live copy, else any.
        let mut entries: Vec<&Shared> = map
            .iter()
            .filter(|(k, _)| k.0 == file && k.1 == table && k.2 == column)
            .map(|(_, s)| s)
            .collect();
        entries.sort_by_key(|s| s.copy.strong_count() == 0 && s.build.is_none());
        match entries.first() {
            None => serde_json::json!({"shared_generation": null, "full_loads": 0,
                "refreshes": 0, "adoptions": 0, "copies": 0, "build": null}),
            Some(s) => serde_json::json!({
                "shared_generation": s.copy.upgrade().map(|l| l.generation),
                "full_loads": s.full_loads,
                "refreshes": s.refreshes,
                "adoptions": s.adoptions,
                "copies": s.copies,
                "build": s.build.as_ref().map(|b| serde_json::json!({
                    "rows": b.rows,
                    "linked": b.linked.load(Ordering::Relaxed),
                    "seconds": b.started.elapsed().as_secs_f64(),
                })),
            }),
        }
    })
}

/// How a connection got its copy.
enum Via {
    Load,
    Refresh,
}

/// Offers `l` (a committed state) to the other connections of the process, unless the shared
/// copy is newer (a connection reading an older snapshot).
fn publish(key: &Key, l: &Arc<Loaded>) {
    shared(|m| {
        // Entries whose copy nobody uses any more go once there are many (a process opening
        // many files keeps a bounded trace of them). Pruning them sooner would reset the counters
        // of an index whose last user just closed while another connection still reads an
        // older copy, whenever any other file's index is published meanwhile.
        if m.len() >= DEAD_ENTRIES_KEPT {
            m.retain(|k, s| k == key || s.copy.strong_count() > 0);
        }
        let s = m.entry(key.clone()).or_default();
        if s.copy
            .upgrade()
            .is_none_or(|c| c.generation <= l.generation)
        {
            s.copy = Arc::downgrade(l);
        }
    });
}

/// A log row's key: ordered by generation as text.
fn log_key(generation: i64) -> String {
    format!("log:{:020}", generation.max(0))
}

/// A log row: 1, then the node rowids written or deleted, then the rowids whose vector or
/// location changed (each a u32 count and i64s, little-endian); or 2: reload in full.
fn log_blob(nodes: &BTreeSet<i64>, rows: &[i64]) -> Vec<u8> {
    let mut b = Vec::with_capacity(9 + 8 * (nodes.len() + rows.len()));
    b.push(1);
    b.extend_from_slice(&(nodes.len() as u32).to_le_bytes());
    for r in nodes {
        b.extend_from_slice(&r.to_le_bytes());
    }
    b.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    for r in rows {
        b.extend_from_slice(&r.to_le_bytes());
    }
    b
}

/// Reads a log row into `nodes` and `rows`; false for a reset or an unreadable row.
fn read_log(b: &[u8], nodes: &mut BTreeSet<i64>, rows: &mut BTreeSet<i64>) -> bool {
    if b.first() != Some(&1) {
        return false;
    }
    let mut at = 1;
    for set in [nodes, rows] {
        let Some(n) = b.get(at..at + 4) else {
            return false;
        };
        let n = u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize;
        at += 4;
        let Some(ids) = b.get(at..at + 8 * n) else {
            return false;
        };
        set.extend(
            ids.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))),
        );
        at += 8 * n;
    }
    at == b.len()
}

pub struct HnswIndex {
    /// The vector column's index among the table's vector columns.
    pub column: usize,
    /// As declared; the knobs in force are in the copy's `tuning`.
    pub config: IndexConfig,
    vector: VectorColumn,
    /// This connection's copy: shared with other connections of the process while it holds a
    /// committed state, private while `writing`.
    state: RefCell<Option<Arc<Loaded>>>,
    /// This connection changed the index in the open transaction: its copy (and anything it
    /// reads) holds uncommitted changes, which must not be shared.
    writing: Cell<bool>,
    /// The key of the shared copies (None for in-memory and temporary databases).
    key: OnceCell<Option<Key>>,
    /// What this connection's walks in the file have read, while it has no copy.
    cold: RefCell<Option<ColdCache>>,
    /// Walks in the file this connection has made, and the time they took (see `cold.rs`).
    cold_walks: Cell<u32>,
    cold_spent: Cell<std::time::Duration>,
    /// Rows written by the open transaction and not linked yet (see `pending.rs`).
    pending: RefCell<PendingRows>,
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
        // IF NOT EXISTS and OR IGNORE: an index created again after 'drop-index' finds its
        // emptied tables, and its generation goes on from where the dropped one stopped (so no
        // copy of the old graph can pass for the new one).
        "CREATE TABLE IF NOT EXISTS {nodes}(rowid INTEGER PRIMARY KEY, links BLOB NOT NULL);\
         CREATE TABLE IF NOT EXISTS {meta}(key TEXT PRIMARY KEY, value ANY);\
         INSERT OR IGNORE INTO {meta}(key, value) VALUES ('generation', 0);\
         INSERT OR REPLACE INTO {meta}(key, value) VALUES ('config', '{config}');",
        nodes = layout.qualified(&nodes_suffix(i)),
        meta = layout.qualified(&meta_suffix(i)),
        config = {
            let mut json = config.to_json();
            json["column"] = layout.vectors[i].name.clone().into();
            json.to_string().replace('\'', "''")
        },
    )
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
}

impl RowTest for Accept {
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

/// Consecutive nodes that [`HnswIndex::score_candidates`] scores as one batch; shorter runs
/// (the scattered rows of a selective filter) go one by one, each loading the next ones.
const MIN_RUN: usize = 8;

/// Vectors ahead whose load [`HnswIndex::score_candidates`] starts while it scores one.
const SCORE_PREFETCH_AHEAD: usize = 8;

/// What the planner learns about an index, and the copy it learnt it from.
pub struct IndexStats {
    pub nodes: usize,
    /// The candidate list a query that gives none walks with (as stored by any connection).
    pub ef_search: usize,
    /// The copy checked against the stored generation for this query, which
    /// [`HnswIndex::search`] then walks without reading the generation again (the statement's
    /// read transaction keeps it current). None when the graph will be walked in the file.
    copy: Option<Arc<Loaded>>,
}

impl HnswIndex {
    pub fn new(column: usize, vector: VectorColumn, config: IndexConfig) -> HnswIndex {
        HnswIndex {
            column,
            config,
            vector,
            state: RefCell::new(None),
            writing: Cell::new(false),
            key: OnceCell::new(),
            cold: RefCell::new(None),
            cold_walks: Cell::new(0),
            cold_spent: Cell::new(std::time::Duration::ZERO),
            pending: RefCell::new(PendingRows::default()),
        }
    }

    fn meta(&self, storage: &Storage) -> String {
        storage.layout.qualified(&meta_suffix(self.column))
    }

    fn nodes(&self, storage: &Storage) -> String {
        storage.layout.qualified(&nodes_suffix(self.column))
    }

    /// Damage, in either index table: SQLITE_CORRUPT_VTAB naming both.
    /// Damage in this index's tables, found in its node rows (`SQLITE_CORRUPT_VTAB`; the
    /// message names both tables).
    fn damaged(&self, storage: &Storage, e: &dyn std::fmt::Display) -> Vec0Error {
        self.damaged_in(storage, &nodes_suffix(self.column), e)
    }

    /// A graph the core refused to read: in the header (`{t}_hnswNN_meta`) or a node row.
    fn graph_damaged(&self, storage: &Storage, e: &HnswError) -> Vec0Error {
        match e {
            HnswError::CorruptHeader(_) => self.damaged_in(storage, &meta_suffix(self.column), e),
            _ => self.damaged(storage, e),
        }
    }

    fn damaged_in(&self, storage: &Storage, suffix: &str, e: &dyn std::fmt::Display) -> Vec0Error {
        Vec0Error::corrupt(
            &storage.layout.shadow(suffix),
            format!(
                "vec0 table {}: the index of column \"{}\" ({}, {}) is damaged: {e}; rebuild it \
                 with insert into {}({}) values ('rebuild-index')",
                storage.layout.table,
                self.vector.name,
                storage.layout.shadow(&nodes_suffix(self.column)),
                storage.layout.shadow(&meta_suffix(self.column)),
                storage.layout.table,
                storage.layout.table
            ),
        )
    }

    fn params(&self, tuning: Tuning) -> HnswParams {
        HnswParams {
            m: self.config.m,
            ef_construction: tuning.ef_construction,
            seed: LEVEL_SEED,
        }
    }

    fn new_nav(&self) -> Nav {
        let dims = self.vector.dims;
        if self.vector.element == ElementType::Bit {
            return Nav::Binary(BinarySpace::new(dims));
        }
        let metric = self.vector.metric;
        match self.config.quantizer {
            Quantizer::None => Nav::F32(F32Space::new(dims, metric)),
            Quantizer::Int8 => Nav::Int8(Int8Space::new(dims, metric)),
            Quantizer::Binary => Nav::Binary(BinarySpace::new(dims)),
        }
    }

    /// Drops the in-memory copy: after a rollback of this connection's writes (a savepoint's
    /// or a failed statement's: the transaction, and what it wrote before, goes on).
    pub fn invalidate(&self) {
        self.state.borrow_mut().take();
    }

    /// A statement failed: SQLite undid its writes, perhaps rows it recorded as pending.
    pub fn statement_failed(&self) {
        self.invalidate();
        self.pending.borrow_mut().mark_unverified();
    }

    /// This transaction's pending rows, checked against the table first if a rollback may
    /// have undone some (see [`PendingRows::verify`]).
    fn pending_checked(&self, storage: &Storage) -> Vec0Result<RefMut<'_, PendingRows>> {
        let mut pending = self.pending.borrow_mut();
        pending.verify(storage)?;
        Ok(pending)
    }

    /// `xBegin`.
    pub fn begin(&self) {
        self.pending.borrow_mut().begin();
    }

    /// `xSavepoint(level)`.
    pub fn savepoint(&self, level: i32) {
        self.pending.borrow_mut().savepoint(level);
    }

    /// `xRelease(level)`.
    pub fn release(&self, level: i32) {
        self.pending.borrow_mut().release(level);
    }

    /// `xRollbackTo(level)`: the savepoint's writes are undone, pending rows among them.
    pub fn rolled_back_to(&self, level: i32) {
        self.invalidate();
        self.pending.borrow_mut().rollback_to(level);
    }

    /// The transaction was rolled back: nothing of this connection's is uncommitted any more.
    pub fn rolled_back(&self) {
        self.invalidate();
        self.pending.borrow_mut().clear();
        self.writing.set(false);
    }

    /// The transaction committed (`xCommit`, called after the commit succeeded): this
    /// connection's copy is a committed state now, and other connections may use it.
    pub fn committed(&self) {
        if !self.writing.replace(false) {
            return;
        }
        if let (Some(Some(key)), Some(l)) = (self.key.get(), self.state.borrow().as_ref()) {
            publish(key, l);
        }
    }

    /// The key of the shared copies: the database file's name, the table and the column.
    fn key(&self, storage: &Storage) -> Vec0Result<Option<&Key>> {
        if self.key.get().is_none() {
            let rows = storage.query(
                "SELECT file FROM pragma_database_list WHERE name = ?",
                &[SqlValue::Text(storage.layout.schema.as_bytes())],
            )?;
            let key = match rows.first().and_then(|r| r.first()) {
                Some(OwnedValue::Text(f)) if !f.is_empty() => Some((
                    f.clone(),
                    storage.layout.table.clone(),
                    self.column,
                    format!("{:?} {:?}", self.vector, self.config),
                )),
                _ => None,
            };
            let _ = self.key.set(key);
        }
        Ok(self.key.get().and_then(|k| k.as_ref()))
    }

    fn stored_generation(&self, storage: &Storage) -> Vec0Result<i64> {
        let rows = storage.query_named(
            "hnsw_generation",
            self.column,
            || {
                format!(
                    "SELECT value FROM {} WHERE key = 'generation'",
                    self.meta(storage)
                )
            },
            &[],
        )?;
        match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Integer(g)) => Ok(*g),
            _ => Err(Vec0Error::corrupt(
                &storage.layout.shadow(&meta_suffix(self.column)),
                format!(
                    "vec0 table {}: the index of column \"{}\" has no generation counter \
                     (damaged {}_{})",
                    storage.layout.table,
                    self.vector.name,
                    storage.layout.table,
                    meta_suffix(self.column)
                ),
            )),
        }
    }

    fn stored_header(&self, storage: &Storage) -> Vec0Result<Option<Vec<u8>>> {
        let rows = storage.query_named(
            "hnsw_header",
            self.column,
            || {
                format!(
                    "SELECT value FROM {} WHERE key = 'header'",
                    self.meta(storage)
                )
            },
            &[],
        )?;
        Ok(
            match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                Some(OwnedValue::Blob(h)) => Some(h),
                _ => None,
            },
        )
    }

    /// The copy at the stored generation: this connection's, another connection's of this
    /// process, this one's (or the shared one) brought up to date from the log, or a full load,
    /// in that order of preference.
    fn current(&self, storage: &Storage) -> Vec0Result<Arc<Loaded>> {
        let generation = self.stored_generation(storage)?;
        if let Some(l) = self.held_at(storage, generation)? {
            return Ok(l);
        }
        let key = self.committed_key(storage)?;
        let published = key
            .as_ref()
            .and_then(|k| shared(|m| m.get(k).and_then(|s| s.copy.upgrade())));
        // Catch up from this connection's copy, or the shared one, whichever is newer.
        let own = self.state.borrow_mut().take();
        let base = match (own, published) {
            (Some(a), Some(b)) => Some(
                if b.generation > a.generation && b.generation < generation {
                    b
                } else {
                    a
                },
            ),
            (a, b) => a.or(b),
        };
        let (loaded, how) = match base {
            Some(base) if base.generation < generation => {
                match self.refresh(storage, base, generation)? {
                    Some(l) => (l, Via::Refresh),
                    None => (self.load(storage, generation)?, Via::Load),
                }
            }
            _ => (self.load(storage, generation)?, Via::Load),
        };
        let loaded = Arc::new(loaded);
        if let Some(k) = &key {
            shared(|m| {
                let s = m.entry(k.clone()).or_default();
                match how {
                    Via::Refresh => s.refreshes += 1,
                    Via::Load => s.full_loads += 1,
                }
            });
            publish(k, &loaded);
        }
        *self.state.borrow_mut() = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// This process's key for the index, outside a write transaction (a writer's copy is its
    /// own until it commits).
    fn committed_key(&self, storage: &Storage) -> Vec0Result<Option<Key>> {
        Ok(if self.writing.get() {
            None
        } else {
            self.key(storage)?.cloned()
        })
    }

    /// Another connection's copy, when it is at `generation` (the stored, committed one):
    /// taken as this connection's.
    fn adopt_published(
        &self,
        storage: &Storage,
        generation: i64,
    ) -> Vec0Result<Option<Arc<Loaded>>> {
        let Some(key) = self.committed_key(storage)? else {
            return Ok(None);
        };
        let Some(p) = shared(|m| m.get(&key).and_then(|s| s.copy.upgrade())) else {
            return Ok(None);
        };
        let same = p.generation == generation
            && match self.stored_header(storage)? {
                Some(h) => h == p.graph.header_blob(),
                None => p.graph.is_empty(),
            };
        if !same {
            return Ok(None);
        }
        shared(|m| m.entry(key).or_default().adoptions += 1);
        *self.state.borrow_mut() = Some(Arc::clone(&p));
        Ok(Some(p))
    }

    /// The copy at `generation` that this process already holds: this connection's, or
    /// another's to adopt.
    fn held_at(&self, storage: &Storage, generation: i64) -> Vec0Result<Option<Arc<Loaded>>> {
        if let Some(l) = self.state.borrow().as_ref() {
            if l.generation == generation {
                return Ok(Some(Arc::clone(l)));
            }
        }
        self.adopt_published(storage, generation)
    }

    /// The copy at the stored generation when this process already holds it, for an exact
    /// scan: one that would need a load or a catch-up from the log is not worth it for a scan,
    /// which reads the chunks instead.
    pub fn held_copy(&self, storage: &Storage) -> Vec0Result<Option<IndexStats>> {
        let generation = self.stored_generation(storage)?;
        Ok(self.held_at(storage, generation)?.map(|l| IndexStats {
            nodes: l.graph.len(),
            ef_search: l.tuning.ef_search,
            copy: Some(l),
        }))
    }

    /// The copy at the stored generation, made private to this connection for a write: the
    /// transaction's changes are invisible to other connections until it commits.
    fn current_mut<'a>(&'a self, storage: &Storage) -> Vec0Result<RefMut<'a, Loaded>> {
        drop(self.current(storage)?);
        let mut state = self.state.borrow_mut();
        let arc = state.as_mut().expect("current() set the copy");
        if Arc::strong_count(arc) > 1 {
            if let Some(Some(k)) = self.key.get() {
                shared(|m| m.entry(k.clone()).or_default().copies += 1);
            }
        }
        // Other connections keep their copy of the committed state; the shared entry (a weak
        // reference) stops pointing here if this was the only user.
        Arc::make_mut(arc);
        self.writing.set(true);
        Ok(RefMut::map(state, |s| {
            Arc::get_mut(s.as_mut().expect("set above")).expect("made unique above")
        }))
    }

    /// Brings `base` (at an older generation) up to `generation` from the log rows in between;
    /// `None` when the log cannot (a gap, a reset, too many changes), and a full load must.
    fn refresh(
        &self,
        storage: &Storage,
        base: Arc<Loaded>,
        generation: i64,
    ) -> Vec0Result<Option<Loaded>> {
        // Checked: damaged counters can be anywhere in i64.
        let Some(behind) = generation.checked_sub(base.generation) else {
            return Ok(None);
        };
        if !(1..=LOG_KEEP).contains(&behind) {
            return Ok(None);
        }
        let log = storage.query(
            &format!(
                "SELECT value FROM {} WHERE key > ? AND key <= ? ORDER BY key",
                self.meta(storage)
            ),
            &[
                SqlValue::Text(log_key(base.generation).as_bytes()),
                SqlValue::Text(log_key(generation).as_bytes()),
            ],
        )?;
        if log.len() as i64 != behind {
            return Ok(None);
        }
        let mut nodes = BTreeSet::new();
        let mut rows = BTreeSet::new();
        for r in &log {
            match r.first() {
                Some(OwnedValue::Blob(b)) if read_log(b, &mut nodes, &mut rows) => {}
                _ => return Ok(None),
            }
        }
        // Past a point, reading every row in one pass is cheaper than one lookup per row.
        if nodes.len() + rows.len() > 64 + base.graph.len() / 8 {
            return Ok(None);
        }
        let Some(header) = self.stored_header(storage)? else {
            return Ok(None);
        };
        let tuning = self.read_tuning(storage)?;
        let mut node_rows = Vec::with_capacity(nodes.len());
        let nodes_table = self.nodes(storage);
        for &rowid in &nodes {
            let r = storage.query(
                &format!("SELECT links FROM {nodes_table} WHERE rowid = ?"),
                &[SqlValue::Integer(rowid)],
            )?;
            let blob = match r.into_iter().next().and_then(|r| r.into_iter().next()) {
                Some(OwnedValue::Blob(b)) => Some(b),
                _ => None,
            };
            node_rows.push((rowid, blob));
        }
        let mut l = Arc::try_unwrap(base).unwrap_or_else(|shared| (*shared).clone());
        let Ok(new) = l.graph.patch(&header, &node_rows) else {
            return Ok(None);
        };
        rows.extend(new.iter().map(|&id| l.graph.rowid_of(id)));
        for rowid in rows {
            let Some(id) = l.graph.node_of(rowid) else {
                continue;
            };
            let Some(loc) = storage.locate(rowid)? else {
                // A node without a row: a full load repairs that.
                return Ok(None);
            };
            let bytes = storage.read_vector(self.column, loc)?;
            let v = unpack_f32(self.vector.element, &bytes, self.vector.dims);
            l.nav.set(id, &v);
            set_location(&mut l.locations, id, loc);
            // `locate` read the place from `{t}_rowids`.
            l.unconfirmed.remove(&rowid);
        }
        l.graph.set_ef_construction(tuning.ef_construction);
        l.generation = generation;
        l.tuning = tuning;
        Ok(Some(l))
    }

    /// Reads the graph and the vectors it walks. Rows the graph lacks (e.g. in a table whose
    /// index tables were emptied) are linked now, in rowid order, except the rows this
    /// transaction wrote, which its commit links exactly as it would have with a fresh copy (so
    /// the graph, and the stored bytes, do not depend on whether this connection had one);
    /// graph nodes without a row are removed. Those repairs are written with the next write to
    /// the index.
    fn load(&self, storage: &Storage, generation: i64) -> Vec0Result<Loaded> {
        let tuning = self.read_tuning(storage)?;
        let mut graph = match self.stored_header(storage)? {
            Some(h) => {
                // Every row's blob in one buffer: at 913k rows, 900k small allocations freed
                // after the load left ~150 MB of the heap resident and unused.
                let mut blobs: Vec<u8> = Vec::new();
                let mut rows: Vec<(i64, std::ops::Range<usize>)> = Vec::new();
                let damaged = |e: &dyn std::fmt::Display| self.damaged(storage, e);
                storage.for_each_row(
                    &format!(
                        "SELECT rowid, links FROM {} ORDER BY rowid",
                        self.nodes(storage)
                    ),
                    &[],
                    |row| match (row.column(0), row.column(1)) {
                        (SqlValue::Integer(id), SqlValue::Blob(b)) => {
                            let at = blobs.len();
                            blobs.extend_from_slice(b);
                            rows.push((id, at..blobs.len()));
                            Ok(())
                        }
                        // The rowid column is the INTEGER PRIMARY KEY: only the links can
                        // be of another type.
                        (id, _) => Err(damaged(&format!(
                            "the links of node {} are not a blob",
                            match id {
                                SqlValue::Integer(i) => i.to_string(),
                                other => format!("{:?}", other.to_owned_value()),
                            }
                        ))),
                    },
                )?;
                let rows = rows.into_iter().map(|(id, r)| (id, &blobs[r]));
                let mut graph =
                    Hnsw::load(&h, rows).map_err(|e| self.graph_damaged(storage, &e))?;
                graph.set_ef_construction(tuning.ef_construction);
                graph
            }
            None => Hnsw::new(self.params(tuning)),
        };
        let mut loaded = Loaded {
            graph: Hnsw::new(self.params(tuning)),
            nav: self.new_nav(),
            locations: Vec::new(),
            unconfirmed: HashSet::new(),
            generation,
            tuning,
        };
        let mut missing: Vec<(RowLocation, Vec<f32>)> = Vec::new();
        let mut present = vec![false; graph.capacity()];
        // Rows the transaction wrote are linked at its commit, not by a load meanwhile.
        let unlinked = self.pending.borrow();
        let dims = self.vector.dims;
        let vb = self.vector.vector_bytes();
        // One aligned buffer for every chunk, and float32 vectors used in place.
        let mut buf = AlignedChunk::zeroed(storage.layout.chunk_size * vb);
        let mut converted: Vec<f32>;
        loaded.locations.reserve(graph.capacity());
        let chunks = storage.chunks(&[])?;
        let mut next_id: NodeId = 0;
        for chunk in &chunks {
            storage.read_vector_chunk_into(self.column, chunk.chunk_id, buf.bytes_mut())?;
            let bytes = buf.bytes();
            for slot in 0..storage.layout.chunk_size {
                if !chunk.is_valid(slot) {
                    continue;
                }
                let loc = RowLocation {
                    rowid: chunk.rowid(slot),
                    chunk_id: chunk.chunk_id,
                    offset: slot,
                };
                let raw = &bytes[slot * vb..(slot + 1) * vb];
                let v: &[f32] = match self.vector.element {
                    ElementType::Float32 => bytemuck::cast_slice(raw),
                    element => {
                        converted = unpack_f32(element, raw, dims);
                        &converted
                    }
                };
                // Chunks mostly hold rows in the order their nodes were made.
                match graph.node_of_near(loc.rowid, next_id) {
                    // A pending row can still be a node when a failed statement's undone
                    // rewrite left it recorded: the commit unlinks and links it again.
                    Some(id) if graph.is_linked(id) => {
                        next_id = id.wrapping_add(1);
                        loaded.nav.set(id, v);
                        set_location(&mut loaded.locations, id, loc);
                        present[id as usize] = true;
                    }
                    _ if unlinked.contains(loc.rowid) => {}
                    _ => missing.push((loc, v.to_vec())),
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
        self.link_all(storage, &mut loaded, missing)?;
        loaded.unconfirmed = unconfirmed_rows(storage, &chunks)?;
        Ok(loaded)
    }

    /// Links the rows a loaded graph lacks, in rowid order: one by one when they are few (the
    /// graph a row-by-row build of the same rows would store), in parallel batches otherwise.
    /// Either way the result is a function of the stored graph and the rows alone, so a reader
    /// that links them in memory holds the graph the writer stores, whatever the thread count.
    fn link_all(
        &self,
        storage: &Storage,
        l: &mut Loaded,
        missing: Vec<(RowLocation, Vec<f32>)>,
    ) -> Vec0Result<()> {
        let ids: Vec<NodeId> = missing
            .into_iter()
            .map(|(loc, v)| {
                let id = l.graph.reserve(loc.rowid);
                l.nav.set(id, &v);
                set_location(&mut l.locations, id, loc);
                id
            })
            .collect();
        let build = self.building(storage, ids.len())?;
        connect_all(l, &ids, &build.progress.linked);
        Ok(())
    }

    /// Shows a build of `rows` rows in `vec_index_status` while the guard lives (builds of
    /// fewer than [`BATCH_BUILD_ROWS`] rows take under a second and are not shown).
    fn building(&self, storage: &Storage, rows: usize) -> Vec0Result<BuildGuard> {
        let progress = Arc::new(BuildProgress {
            rows,
            linked: AtomicUsize::new(0),
            started: std::time::Instant::now(),
        });
        let key = if rows >= BATCH_BUILD_ROWS {
            self.key(storage)?.cloned()
        } else {
            None
        };
        if let Some(k) = &key {
            shared(|m| m.entry(k.clone()).or_default().build = Some(Arc::clone(&progress)));
        }
        Ok(BuildGuard { key, progress })
    }

    /// Links the rows this transaction wrote (at its commit, `xSync`), in the order written,
    /// by the path a load takes for rows its graph lacks ([`connect_all`]).
    pub fn link_pending(&self, storage: &Storage) -> Vec0Result<()> {
        if self.pending_checked(storage)?.is_empty() {
            return Ok(());
        }
        // Loaded while the rows are still pending, so the load leaves them to this.
        let mut l = self.current_mut(storage)?;
        let rows = self.pending.borrow_mut().take();
        let l = &mut *l;
        let mut ids = Vec::with_capacity(rows.len());
        let mut id_of = HashMap::with_capacity(rows.len());
        for loc in &rows {
            if l.graph.node_of(loc.rowid).is_some() {
                // Still linked (see `load`): as a rewrite would have, unlink it first.
                let Loaded { graph, nav, .. } = &mut *l;
                with_space!(&*nav, s => graph.remove(loc.rowid, s));
            }
            let id = l.graph.reserve(loc.rowid);
            set_location(&mut l.locations, id, *loc);
            id_of.insert(loc.rowid, id);
            ids.push(id);
        }
        let (element, dims) = (self.vector.element, self.vector.dims);
        // Straight into the copy: a whole table's vectors are not held twice.
        for_each_vector(
            storage,
            self.column,
            self.vector.vector_bytes(),
            &rows,
            |loc, bytes| {
                l.nav
                    .set(id_of[&loc.rowid], &unpack_f32(element, bytes, dims));
                Ok(())
            },
        )?;
        let build = self.building(storage, ids.len())?;
        connect_all(l, &ids, &build.progress.linked);
        drop(build);
        let rowids: Vec<i64> = rows.iter().map(|loc| loc.rowid).collect();
        self.persist(storage, l, &rowids)
    }

    /// Writes what changed in the graph and moves the generation on; `rows` are the rows
    /// whose vector or location changed (for the log).
    fn persist(&self, storage: &Storage, l: &mut Loaded, rows: &[i64]) -> Vec0Result<()> {
        let dirty = l.graph.take_dirty();
        let nodes = self.nodes(storage);
        let mut logged: BTreeSet<i64> = dirty.removed.iter().copied().collect();
        for rowid in &dirty.removed {
            storage.execute(
                &format!("DELETE FROM {nodes} WHERE rowid = ?"),
                &[SqlValue::Integer(*rowid)],
            )?;
        }
        for &id in &dirty.changed {
            let blob = l.graph.node_blob(id);
            let rowid = l.graph.rowid_of(id);
            logged.insert(rowid);
            storage.execute(
                &format!("INSERT OR REPLACE INTO {nodes}(rowid, links) VALUES (?, ?)"),
                &[SqlValue::Integer(rowid), SqlValue::Blob(&blob)],
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
        self.bump(storage, l, Some((&logged, rows)))
    }

    /// Moves the generation on and logs the change: `None` says "reload in full".
    fn bump(
        &self,
        storage: &Storage,
        l: &mut Loaded,
        change: Option<(&BTreeSet<i64>, &[i64])>,
    ) -> Vec0Result<()> {
        let meta = self.meta(storage);
        storage.execute(
            &format!("UPDATE {meta} SET value = value + 1 WHERE key = 'generation'"),
            &[],
        )?;
        // A damaged counter at i64::MAX becomes a real in SQL (reported on the next read).
        l.generation = l.generation.wrapping_add(1);
        let entry = match change {
            Some((nodes, rows)) => log_blob(nodes, rows),
            None => vec![2],
        };
        storage.execute(
            &format!("INSERT OR REPLACE INTO {meta}(key, value) VALUES (?, ?)"),
            &[
                SqlValue::Text(log_key(l.generation).as_bytes()),
                SqlValue::Blob(&entry),
            ],
        )?;
        if l.generation % LOG_PRUNE_EVERY == 0 {
            // Saturating: a damaged counter that wrapped past i64::MAX is negative here.
            storage.execute(
                &format!("DELETE FROM {meta} WHERE key >= 'log:' AND key <= ?"),
                &[SqlValue::Text(
                    log_key(l.generation.saturating_sub(LOG_KEEP)).as_bytes(),
                )],
            )?;
        }
        Ok(())
    }

    /// The stored knobs (the declared ones where none are stored).
    fn read_tuning(&self, storage: &Storage) -> Vec0Result<Tuning> {
        let rows = storage.query(
            &format!(
                "SELECT value FROM {} WHERE key = 'config'",
                self.meta(storage)
            ),
            &[],
        )?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Text(t)) => match serde_json::from_str(t) {
                Ok(json) => Tuning::from_json(&json, self.config.tuning()),
                Err(_) => self.config.tuning(),
            },
            _ => self.config.tuning(),
        })
    }

    /// A table command's knob: stored in the `config` row (so every connection sees it) and
    /// applied to this copy; the generation moves on so other connections reload.
    pub fn tune(&self, storage: &Storage, knob: Knob) -> Vec0Result<()> {
        let mut l = self.current_mut(storage)?;
        let tuning = knob.apply(l.tuning);
        l.tuning = tuning;
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
        self.persist(storage, &mut l, &[])
    }

    /// A row's vector changed (it is written at `loc` now). Its node, chosen for the old
    /// vector, is unlinked at once, while the rows around it hold the vectors their links were
    /// chosen with, as an immediate relink would see them; the row is linked again when the
    /// transaction commits.
    pub fn replace(&self, storage: &Storage, loc: RowLocation) -> Vec0Result<()> {
        if !DEFER_LINKING.with(Cell::get) {
            self.remove(storage, loc.rowid)?;
        }
        self.insert(storage, loc)
    }

    /// A new row was written at `loc`: it is linked when the transaction commits (see
    /// `pending.rs`).
    pub fn insert(&self, storage: &Storage, loc: RowLocation) -> Vec0Result<()> {
        if DEFER_LINKING.with(Cell::get) {
            // Left for the 'rebuild-index' the caller of `deferring_links` runs next; no copy
            // of this connection may answer without the row meanwhile.
            self.invalidate();
            return Ok(());
        }
        self.pending_checked(storage)?.record(loc);
        Ok(())
    }

    /// Unlinks a deleted row and repairs its neighbours' links.
    pub fn remove(&self, storage: &Storage, rowid: i64) -> Vec0Result<()> {
        let forgotten = {
            // Forgotten before the check: the row's slot is already freed, and checking it
            // would report damage.
            let mut pending = self.pending.borrow_mut();
            let forgotten = pending.forget(rowid);
            pending.verify(storage)?;
            forgotten
        };
        let mut l = self.current_mut(storage)?;
        if forgotten && l.graph.node_of(rowid).is_none() {
            // Never linked: nothing stored changes.
            return Ok(());
        }
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
        self.persist(storage, &mut l, &[rowid])
    }

    /// Records that a row's vector moved to another slot (its links are unchanged).
    pub fn relocate(&self, storage: &Storage, loc: RowLocation) -> Vec0Result<()> {
        {
            let mut pending = self.pending_checked(storage)?;
            if pending.contains(loc.rowid) {
                pending.record(loc);
                return Ok(());
            }
        }
        let mut l = self.current_mut(storage)?;
        if let Some(id) = l.graph.node_of(loc.rowid) {
            set_location(&mut l.locations, id, loc);
        }
        self.bump(storage, &mut l, Some((&BTreeSet::new(), &[loc.rowid])))
    }

    /// Drops the graph and links every row again, in rowid order.
    pub fn rebuild(&self, storage: &Storage) -> Vec0Result<()> {
        // The rebuild links every row, those pending too.
        self.pending.borrow_mut().clear();
        let generation = self.stored_generation(storage)?;
        storage.execute(&format!("DELETE FROM {}", self.nodes(storage)), &[])?;
        storage.execute(
            &format!("DELETE FROM {} WHERE key = 'header'", self.meta(storage)),
            &[],
        )?;
        let mut loaded = self.load(storage, generation)?;
        // Everything was linked by `load`: write it all, and tell readers to reload.
        loaded.graph.take_dirty();
        let (nodes, meta) = (self.nodes(storage), self.meta(storage));
        for id in 0..loaded.graph.capacity() as NodeId {
            if loaded.graph.is_linked(id) {
                let blob = loaded.graph.node_blob(id);
                storage.execute(
                    &format!("INSERT INTO {nodes}(rowid, links) VALUES (?, ?)"),
                    &[
                        SqlValue::Integer(loaded.graph.rowid_of(id)),
                        SqlValue::Blob(&blob),
                    ],
                )?;
            }
        }
        storage.execute(
            &format!("INSERT OR REPLACE INTO {meta}(key, value) VALUES ('header', ?)"),
            &[SqlValue::Blob(&loaded.graph.header_blob())],
        )?;
        self.bump(storage, &mut loaded, None)?;
        self.writing.set(true);
        *self.state.borrow_mut() = Some(Arc::new(loaded));
        Ok(())
    }

    /// Empties the index tables for 'drop-index' (SQLite refuses `DROP TABLE` while the
    /// command's statement runs), keeping the generation, moved on, for a later re-creation.
    pub fn clear(&self, storage: &Storage) -> Vec0Result<()> {
        self.pending.borrow_mut().clear();
        storage.execute(&format!("DELETE FROM {}", self.nodes(storage)), &[])?;
        storage.execute(
            &format!(
                "DELETE FROM {} WHERE key <> 'generation'",
                self.meta(storage)
            ),
            &[],
        )?;
        storage.execute(
            &format!(
                "UPDATE {} SET value = value + 1 WHERE key = 'generation'",
                self.meta(storage)
            ),
            &[],
        )?;
        self.invalidate();
        Ok(())
    }

    /// What the planner learns: `nodes` counts the rows a search covers, those this
    /// transaction has not linked yet included.
    pub fn stats(&self, storage: &Storage) -> Vec0Result<IndexStats> {
        self.pending_checked(storage)?;
        // A graph that will be walked in the file: the header says as much, and planning the
        // query must not load a copy. Smaller ones are loaded here (and checked in full).
        if self.may_walk_cold() {
            let tuning = self.read_tuning(storage)?;
            if let Some(h) = self.stored_header(storage)? {
                let shape = hnsw::read_header(&h).map_err(|e| self.graph_damaged(storage, &e))?;
                if shape.count >= tuning.cold_walk_min_nodes as u64 {
                    return Ok(IndexStats {
                        nodes: shape.count as usize,
                        ef_search: tuning.ef_search,
                        copy: None,
                    });
                }
            }
        }
        let l = self.current(storage)?;
        // Rows this transaction added are searched too (see `pending.rs`).
        let pending = self.pending.borrow();
        let added = pending.count_where(|rowid| l.graph.node_of(rowid).is_none());
        let (nodes, ef_search) = (l.graph.len() + added, l.tuning.ef_search);
        drop(pending);
        Ok(IndexStats {
            nodes,
            ef_search,
            copy: Some(l),
        })
    }

    /// The `k` nearest rows accepted by `accept`, by an HNSW walk with a candidate list of
    /// `ef`, rescored with the column's exact distance (the same kernels as an exact scan, so
    /// the `distance` column does not depend on the plan).
    pub fn search(
        &self,
        storage: &Storage,
        stats: &IndexStats,
        query: &Query,
        k: usize,
        ef: usize,
        accept: Option<&dyn RowTest>,
    ) -> Vec0Result<Vec<Neighbour>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        self.pending_checked(storage)?;
        if let Some(out) = self.search_cold(storage, query, k, ef, accept)? {
            return Ok(out);
        }
        let l = match &stats.copy {
            Some(l) => Arc::clone(l),
            None => self.current(storage)?,
        };
        let q = query.to_f32(self.vector.dims);
        let ef = l.tuning.walk_ef(k, ef);
        let locations = &l.locations;
        let location = |id: NodeId| locations.get(id as usize).copied().flatten();
        let pending = self.pending.borrow();
        // A pending row that is still a node (see `load`) is scored among the pending rows,
        // not twice.
        let filter = (accept.is_some() || !pending.is_empty()).then_some(|id: NodeId| {
            location(id).is_some_and(|loc| {
                !pending.contains(loc.rowid) && accept.is_none_or(|a| a.accepts(&loc))
            })
        });
        let filtering = filter.is_some();
        let filter_ref: Option<&dyn Fn(NodeId) -> bool> =
            filter.as_ref().map(|f| f as &dyn Fn(NodeId) -> bool);
        // Rescoring (the core's one path, `Hnsw::search_rescored`): a float32 column walked in
        // full precision keeps the column's exact values in the (shared) copy, so the exact
        // kernel runs on them with no read at all. A full-precision walk ranks as the
        // rescoring will (to the last bits: cosine and L1 walk on faster forms of the same
        // distance), so only the k best are rescored. Otherwise the candidates' chunks come
        // through the connection's chunk cache, and a quantized walk's ef candidates are all
        // rescored.
        let exact_in_copy = match &l.nav {
            Nav::F32(s) if self.vector.element == ElementType::Float32 => Some(s),
            _ => None,
        };
        let nav_is_exact = matches!(l.nav, Nav::F32(_));
        if exact_in_copy.is_none() {
            storage.validate_vector_cache()?;
        }
        let vb = self.vector.vector_bytes();
        let metric = self.vector.metric;
        let exact = |id: NodeId| -> Vec0Result<Option<f64>> {
            let Some(loc) = location(id) else {
                return Ok(None);
            };
            let mut distance = f64::NAN;
            let emit = |_, d: f64| distance = d;
            match exact_in_copy {
                Some(s) => {
                    let bytes: &[u8] = bytemuck::cast_slice(s.get(id));
                    chunk_distances(query, metric, vb, bytes, &[0], emit)?;
                }
                None => {
                    let chunk = storage.vector_chunk(self.column, loc.chunk_id)?;
                    chunk_distances(query, metric, vb, chunk.bytes(), &[loc.offset], emit)?;
                }
            }
            Ok(Some(distance))
        };
        let ranked = with_space!(&l.nav, s => l.graph.search_rescored(
            hnsw::Nav {
                distance: s.query_distance(&q),
                touch: |id| {
                    s.touch(id);
                    // A filtered walk looks up the location of each node it meets to test
                    // the row: start that load with the vector's.
                    if filtering {
                        if let Some(l) = locations.get(id as usize..id as usize + 1) {
                            prefetch(l);
                        }
                    }
                },
                is_exact: nav_is_exact,
            },
            exact,
            k,
            ef,
            filter_ref,
        ))?;
        let mut found: Vec<Neighbour> = ranked
            .into_iter()
            .filter_map(|r| {
                location(r.item).map(|location| Neighbour {
                    location,
                    distance: r.distance,
                    confirmed: !l.unconfirmed.contains(&location.rowid),
                })
            })
            .collect();
        if !pending.is_empty() {
            // This transaction's unlinked rows, scored exactly, compete with the walk's.
            found.extend(pending.score(storage, self.column, &self.vector, query, accept)?);
            let rank = |n: &Neighbour| Ranked {
                distance: n.distance,
                rowid: n.location.rowid,
                item: (),
            };
            found.sort_by_key(rank);
            found.truncate(k);
        }
        Ok(found)
    }
}

impl HnswIndex {
    /// The exact `k` nearest of `candidates` (slots of the chunks that pass a query's filters),
    /// scored on the vectors of the copy the planner checked (`stats`) rather than on the
    /// chunks' blobs: at a million rows the chunks outgrow the vector cache's default budget,
    /// and a filter passing 1% of the rows touches nearly every chunk, so reading them took a
    /// quarter of a second per query where the copy answers in milliseconds. The same
    /// distances as the chunk scan (same kernels, same values: a float32 column walked in full
    /// precision keeps its exact vectors in the copy).
    ///
    /// None when the copy cannot stand in for the chunks: no copy, vectors kept in another
    /// form, rows this transaction changed, or a candidate the copy places elsewhere; the
    /// caller then scans the chunks.
    pub fn score_candidates(
        &self,
        storage: &Storage,
        stats: &IndexStats,
        query: &Query,
        k: usize,
        candidates: &Candidates,
        distance_bounds: &[(FilterOp, f64)],
    ) -> Option<Vec<Neighbour>> {
        let l = stats.copy.as_ref()?;
        let space = match &l.nav {
            Nav::F32(s) if self.vector.element == ElementType::Float32 => s,
            _ => return None,
        };
        if !self.pending.borrow().is_empty() {
            return None;
        }
        let mut rows = Vec::with_capacity(candidates.iter().map(|(_, s)| s.len()).sum());
        // A load numbers the nodes in chunk and slot order, so a row's node is usually the
        // previous row's plus the slots between them: a guess that skips the rowid map, whose
        // lookups miss the cache at a million rows.
        let chunk_size = storage.layout.chunk_size;
        let mut last: Option<(NodeId, usize)> = None;
        for (chunk, slots) in candidates {
            for &slot in slots {
                let rowid = chunk.rowid(slot);
                let hint = match last {
                    Some((id, at)) if slot > at => id as usize + (slot - at),
                    Some((id, at)) => id as usize + (chunk_size - at) + slot,
                    None => 0,
                };
                let id = l.graph.node_of_near(rowid, hint as NodeId)?;
                let loc = l.locations.get(id as usize).copied().flatten()?;
                if loc.chunk_id != chunk.chunk_id || loc.offset != slot {
                    return None;
                }
                rows.push((id, loc));
                last = Some((id, slot));
            }
        }
        self.score_rows(space, &rows, query, k, distance_bounds)
    }

    /// The exact `k` nearest of `rows` (nodes of the copy whose vectors `space` holds, and
    /// their rows' places).
    fn score_rows(
        &self,
        space: &F32Space,
        rows: &[(NodeId, RowLocation)],
        query: &Query,
        k: usize,
        distance_bounds: &[(FilterOp, f64)],
    ) -> Option<Vec<Neighbour>> {
        let (metric, vb) = (self.vector.metric, self.vector.vector_bytes());
        // Memory-bound like the chunk scan, and split over threads the same way.
        let per_page = space.slots_per_page();
        let all_slots: Vec<usize> = (0..per_page.min(rows.len())).collect();
        let score = |part: &[(NodeId, RowLocation)]| -> Option<TopK<RowLocation>> {
            let mut top = TopK::new(k);
            let mut push = |(_, loc): (NodeId, RowLocation), distance: f64| {
                let distance = unsigned_zero(distance);
                if within(distance, distance_bounds) {
                    top.push(Ranked {
                        distance,
                        rowid: loc.rowid,
                        item: loc,
                    });
                }
            };
            let mut i = 0;
            while i < part.len() {
                // Rows of consecutive nodes in one page (most of a table scanned in order) go
                // to the batch kernel together, as a chunk's rows do.
                let first = part[i].0 as usize;
                let page_end = (first / per_page + 1) * per_page;
                let mut n = 1;
                while i + n < part.len()
                    && part[i + n].0 as usize == first + n
                    && first + n < page_end
                {
                    n += 1;
                }
                if let Some(run) = (n >= MIN_RUN).then(|| space.run(part[i].0, n)).flatten() {
                    let bytes: &[u8] = bytemuck::cast_slice(run);
                    chunk_distances(query, metric, vb, bytes, &all_slots[..n], |slot, d| {
                        push(part[i + slot], d)
                    })
                    .ok()?;
                } else {
                    for (j, &row) in part[i..i + n].iter().enumerate() {
                        if let Some(&(ahead, _)) = part.get(i + j + SCORE_PREFETCH_AHEAD) {
                            prefetch(space.get(ahead));
                        }
                        let bytes: &[u8] = bytemuck::cast_slice(space.get(row.0));
                        let mut distance = f64::NAN;
                        chunk_distances(query, metric, vb, bytes, &[0], |_, d| distance = d)
                            .ok()?;
                        push(row, distance);
                    }
                }
                i += n;
            }
            Some(top)
        };
        // A part that fails (or a thread that panics) leaves the scan to the chunks.
        best_k_in_parts(
            rows,
            scan_threads(rows.len()),
            k,
            |part| score(part).ok_or(()),
            || (),
        )
        .ok()
    }

    /// Whether a query may walk the graph in the file rather than use a copy, as far as this
    /// connection's state tells: it has no copy and no uncommitted changes, the walk is in full
    /// precision, and it has made fewer than [`COLD_QUERIES`] such walks.
    fn may_walk_cold(&self) -> bool {
        self.state.borrow().is_none()
            && !self.writing.get()
            && self.config.quantizer == Quantizer::None
            && self.vector.element != ElementType::Bit
            && self.cold_walks.get() < COLD_QUERIES
            && self.pending.borrow().is_empty()
    }

    /// [`search`](Self::search) by a walk in the file (see `cold.rs`), when this connection has
    /// no copy, no connection of the process has one to bring up to date, the graph is large
    /// and walked in full precision, and the connection has made fewer than [`COLD_QUERIES`]
    /// such walks. `None`: search a copy instead.
    fn search_cold(
        &self,
        storage: &Storage,
        query: &Query,
        k: usize,
        ef: usize,
        accept: Option<&dyn RowTest>,
    ) -> Vec0Result<Option<Vec<Neighbour>>> {
        if !self.may_walk_cold() {
            self.cold.borrow_mut().take();
            return Ok(None);
        }
        if let Some(key) = self.key(storage)? {
            if shared(|m| m.get(key).is_some_and(|s| s.copy.strong_count() > 0)) {
                return Ok(None);
            }
        }
        let generation = self.stored_generation(storage)?;
        let Some(header) = self.stored_header(storage)? else {
            return Ok(None);
        };
        let tuning = self.read_tuning(storage)?;
        let mut cold = self.cold.borrow_mut();
        if !cold.as_ref().is_some_and(|c| c.is_at(generation, &header)) {
            let c =
                ColdCache::new(generation, header).map_err(|e| self.graph_damaged(storage, &e))?;
            if c.nodes() < tuning.cold_walk_min_nodes as u64 {
                return Ok(None);
            }
            *cold = Some(c);
        }
        let cache = cold.as_mut().expect("set above");
        let estimate = load_estimate(cache.nodes(), self.vector.vector_bytes());
        if self.cold_spent.get() >= estimate {
            // Walks have cost as much as a load would: load (see "When to load" in cold.rs).
            *cold = None;
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let dims = self.vector.dims;
        let element = self.vector.element;
        let to_f32 = |b: &[u8]| unpack_f32(element, b, dims);
        let damaged = |e: &dyn std::fmt::Display| self.damaged(storage, e);
        // Declared before the graph, so its chunk handles close while the map is still up.
        let _mapped = storage.map_for_scattered_reads();
        let graph = ColdGraph::new(
            ColdSource {
                storage,
                node_sql: format!("SELECT links FROM {} WHERE rowid = ?", self.nodes(storage)),
                column: self.column,
                dims,
                vector_bytes: self.vector.vector_bytes(),
                to_f32: &to_f32,
                damaged: &damaged,
            },
            cache,
        );
        let ef = tuning.walk_ef(k, ef);
        let q = query.to_f32(dims);
        let found = graph.search(&q, self.vector.metric, k, ef, accept)?;
        self.cold_walks.set(self.cold_walks.get() + 1);
        self.cold_spent
            .set(self.cold_spent.get() + started.elapsed());
        // The rows returned are located with every check and scored with the column's exact
        // distance, by the core's rescoring as a copy's results are.
        let vb = self.vector.vector_bytes();
        let exact = |(_, walked): (f32, RowLocation)| -> Vec0Result<_> {
            let Some(location) = storage.locate(walked.rowid)? else {
                return Ok(None);
            };
            let bytes = storage.read_vector(self.column, location)?;
            let mut distance = f64::NAN;
            chunk_distances(query, self.vector.metric, vb, &bytes, &[0], |_, d| {
                distance = d
            })?;
            Ok(Some(Ranked {
                distance,
                rowid: location.rowid,
                item: location,
            }))
        };
        let out = rescore(found, exact, k)?;
        Ok(Some(
            out.into_iter()
                .map(|r| Neighbour {
                    location: r.item,
                    distance: r.distance,
                    confirmed: false,
                })
                .collect(),
        ))
    }
}

/// The rows of a copy just loaded (placed where `chunks` hold them) that `{t}_rowids` does not
/// put there: every live slot of `chunks` whose row `{t}_rowids` sends elsewhere, or nowhere.
/// One pass over `{t}_rowids` (150 ms at 913k rows, in a load of 3-5 s) spares every query
/// a lookup of its results (at 913k, 100 of a 700 us query). Slots are found by chunk, not
/// through the graph's rowid map: a map lookup per row, a cache miss each, took twice as long.
fn unconfirmed_rows(storage: &Storage, chunks: &[ChunkInfo]) -> Vec0Result<HashSet<i64>> {
    let slots = storage.layout.chunk_size;
    let index: HashMap<i64, usize> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.chunk_id, i))
        .collect();
    let mut confirmed = vec![false; chunks.len() * slots];
    // Rows come in rowid order, and rows written together share chunks.
    let mut last: Option<(i64, usize)> = None;
    storage.for_each_location(|rowid, at| {
        let Some((chunk_id, offset)) = at else {
            return;
        };
        let i = match last {
            Some((c, i)) if c == chunk_id => i,
            _ => match index.get(&chunk_id) {
                Some(&i) => {
                    last = Some((chunk_id, i));
                    i
                }
                None => return,
            },
        };
        let chunk = &chunks[i];
        if chunk.is_valid(offset) && chunk.rowid(offset) == rowid {
            confirmed[i * slots + offset] = true;
        }
    })?;
    let mut unconfirmed = HashSet::new();
    for (i, chunk) in chunks.iter().enumerate() {
        for slot in 0..slots {
            if chunk.is_valid(slot) && !confirmed[i * slots + slot] {
                unconfirmed.insert(chunk.rowid(slot));
            }
        }
    }
    Ok(unconfirmed)
}

/// Connects reserved nodes whose vectors are set, in the order given: one by one when they
/// are few (the graph a row-by-row build stores), in parallel batches otherwise. Either way the
/// result depends only on the graph and the nodes, not on the thread count.
fn connect_all(l: &mut Loaded, ids: &[NodeId], linked: &AtomicUsize) {
    let Loaded { graph, nav, .. } = l;
    if ids.len() < BATCH_BUILD_ROWS {
        for &id in ids {
            with_space!(&*nav, s => graph.connect(id, s));
        }
        linked.fetch_add(ids.len(), Ordering::Relaxed);
    } else {
        let threads = build_threads();
        with_space!(&*nav, s => graph.connect_batch_counting(ids, s, threads, linked));
    }
}

fn set_location(locations: &mut Vec<Option<RowLocation>>, id: NodeId, loc: RowLocation) {
    let i = id as usize;
    if locations.len() <= i {
        locations.resize(i + 1, None);
    }
    locations[i] = Some(loc);
}
