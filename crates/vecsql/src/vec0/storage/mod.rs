//! Reads and writes of rows in the shadow tables. Every change goes through SQL statements or
//! `sqlite3_blob` handles on the table's own connection, so SQLite's transactions, savepoints
//! and rollbacks cover vec0 exactly as they cover ordinary tables.
//!
//! Three caches live in memory, all only ever copies of the file:
//! - prepared statements (and their SQL text), which SQLite re-prepares after schema changes;
//! - vector chunks read for KNN scans ([`VectorCache`]). An entry is dropped when this
//!   connection writes to its chunk, the whole cache is dropped after a rollback (of a
//!   transaction, a savepoint or a failed statement), and before each scan `PRAGMA
//!   data_version` says whether any other connection or process committed since the cache
//!   was filled; if so, the chunk versions (`versions.rs`) say which entries that changed,
//!   and those are dropped (all of them when the versions cannot tell);
//! - chunks' bookkeeping and metadata blobs for filters ([`ChunkCache`]), dropped on every
//!   write through the table, every rollback and every commit elsewhere.
//!
//! One file per job, all on [`Storage`]:
//! - this file: the `Storage` handle, its statement cache and the wording of failed statements;
//! - `blobs.rs`: `sqlite3_blob` handles on shadow rows, checked for their size;
//! - `rows.rs`: `{t}_rowids`, where each row lives (and its text key), checked against its chunk;
//! - `slots.rs`: giving rows a slot and taking it back (the free list, new and emptied chunks);
//! - `chunks.rs`: reading chunks' bookkeeping (validity, rowids, partition keys) for scans;
//! - `chunk_cache.rs`: that bookkeeping and the metadata blobs kept between KNN queries;
//! - `mapped.rs`: the file mapped while a walk in it reads scattered vectors;
//! - `vectors.rs`: vector chunk reads and writes, and the vector cache;
//! - `versions.rs`: `{t}_chunk_versions`, which tells the cache what other connections changed;
//! - `metadata.rs`: metadata slots and the long texts beside them;
//! - `auxiliary.rs`: `{t}_auxiliary`.

mod auxiliary;
mod blobs;
mod chunk_cache;
mod chunks;
mod mapped;
mod metadata;
mod rows;
mod slots;
mod vectors;
mod versions;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use self::blobs::BlobNames;
use self::chunk_cache::ChunkCache;
pub use self::chunks::ChunkInfo;
pub use self::rows::RowLocation;
pub use self::slots::first_zero_bit;
use self::slots::OpenChunk;
use self::vectors::VectorCache;
pub use self::vectors::{
    vector_chunk_adoptions, vector_chunk_reads, AlignedChunk, VECTOR_CACHE_BUDGET,
};
use super::layout::{quote, Layout};
use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::{Connection, Statement};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};

/// A statement that failed, and whether it was one this transaction had not run yet (sqlite-vec
/// prepares its statements per transaction and words those failures differently).
struct StatementFailure {
    error: SqlError,
    first_use: bool,
}

pub struct Storage {
    pub conn: Connection,
    pub layout: Layout,
    /// Cached statements, each with the transaction (see `transaction`) it last ran in.
    statements: RefCell<HashMap<Rc<str>, (Statement, u64)>>,
    /// Counts write transactions (xBegin), for [`StatementFailure::first_use`].
    transaction: Cell<u64>,
    /// SQL text of the fixed statements, built once per (name, column).
    sql_text: RefCell<HashMap<(&'static str, usize), Rc<str>>>,
    /// Whether `{t}_free` is known to exist (it may not, in a file sqlite-vec wrote).
    free_table_ready: Cell<bool>,
    /// Whether this connection's writes keep `{t}_chunk_versions` (None: not checked yet).
    versions_ready: Cell<Option<bool>>,
    /// Chunks whose version this write transaction has moved on already (see `versions.rs`).
    bumped: RefCell<HashSet<i64>>,
    vector_cache: RefCell<VectorCache>,
    chunk_cache: RefCell<ChunkCache>,
    /// The chunk the last insert went into, with its validity bitmap, so that a run of
    /// inserts neither searches `{t}_free` nor re-reads the bitmap for every row. Only valid
    /// inside one write transaction (cleared by `begin`, rollbacks and any slot release): no
    /// other connection can write while this one holds the write lock.
    open_chunk: RefCell<Option<OpenChunk>>,
    /// C strings for `sqlite3_blob_open`, built once per (shadow suffix, column) instead of
    /// three allocations per blob per row.
    blob_names: RefCell<Vec<BlobNames>>,
}

/// The storage class of a value, for messages about damage.
fn type_name(v: &OwnedValue) -> &'static str {
    match v {
        OwnedValue::Null => "NULL",
        OwnedValue::Integer(_) => "an integer",
        OwnedValue::Real(_) => "a real",
        OwnedValue::Text(_) => "text",
        OwnedValue::Blob(_) => "a blob",
    }
}

impl Storage {
    pub fn new(conn: Connection, layout: Layout) -> Storage {
        Storage {
            conn,
            layout,
            statements: RefCell::new(HashMap::new()),
            transaction: Cell::new(0),
            sql_text: RefCell::new(HashMap::new()),
            free_table_ready: Cell::new(false),
            versions_ready: Cell::new(None),
            bumped: RefCell::new(HashSet::new()),
            vector_cache: RefCell::new(VectorCache::default()),
            chunk_cache: RefCell::new(ChunkCache::default()),
            open_chunk: RefCell::new(None),
            blob_names: RefCell::new(Vec::new()),
        }
    }

    /// Finalizes cached statements (before the shadow tables are dropped or renamed).
    pub fn clear_statements(&self) {
        self.statements.borrow_mut().clear();
        self.sql_text.borrow_mut().clear();
        self.blob_names.borrow_mut().clear();
    }

    /// Forgets everything a rolled-back change may have left in memory.
    pub fn after_rollback(&self) {
        self.free_table_ready.set(false);
        self.versions_ready.set(None);
        self.bumped.borrow_mut().clear();
        self.vector_cache.borrow_mut().clear();
        self.forget_chunk_cache();
        self.forget_open_chunk();
    }

    /// Called when a write transaction starts (xBegin).
    pub fn begin(&self) {
        self.transaction.set(self.transaction.get() + 1);
        self.bumped.borrow_mut().clear();
        self.forget_open_chunk();
    }

    /// Called when a write transaction committed (xCommit).
    pub fn committed(&self) {
        let bumped = std::mem::take(&mut *self.bumped.borrow_mut());
        self.publish_committed(&bumped);
    }

    /// Another connection may have changed the chunks since this one last wrote.
    pub fn forget_open_chunk(&self) {
        self.open_chunk.borrow_mut().take();
    }

    /// The SQL text of fixed statement `name` (for column `n`), built on first use.
    fn sql(&self, name: &'static str, n: usize, build: impl FnOnce() -> String) -> Rc<str> {
        self.sql_text
            .borrow_mut()
            .entry((name, n))
            .or_insert_with(|| Rc::from(build()))
            .clone()
    }

    /// Runs `f` on the cached statement for `sql`, preparing it on first use. The statement
    /// is taken out of the cache while `f` runs, so `f` may use other statements.
    fn with_statement<R>(
        &self,
        sql: Rc<str>,
        f: impl FnOnce(&mut Statement) -> SqlResult<R>,
    ) -> Vec0Result<R> {
        self.with_statement_phased(sql, f)
            .map_err(|e| Vec0Error::from(e.error))
    }

    /// [`Storage::with_statement`], saying on failure whether the statement had run before in
    /// this transaction.
    fn with_statement_phased<R>(
        &self,
        sql: Rc<str>,
        f: impl FnOnce(&mut Statement) -> SqlResult<R>,
    ) -> Result<R, StatementFailure> {
        let now = self.transaction.get();
        let cached = self.statements.borrow_mut().remove(&*sql);
        let (mut stmt, last) = match cached {
            Some(s) => s,
            None => match self.conn.prepare(&sql) {
                Ok(s) => (s, now.wrapping_sub(1)),
                Err(error) => {
                    return Err(StatementFailure {
                        error,
                        first_use: true,
                    })
                }
            },
        };
        let result = f(&mut stmt);
        stmt.reset();
        let ran = if result.is_ok() { now } else { last };
        self.statements.borrow_mut().insert(sql, (stmt, ran));
        result.map_err(|error| StatementFailure {
            error,
            first_use: last != now,
        })
    }

    pub fn query(&self, sql: &str, params: &[SqlValue<'_>]) -> Vec0Result<Vec<Vec<OwnedValue>>> {
        self.with_statement(Rc::from(sql), |s| s.query(params))
    }

    /// Calls `f` with each row of `sql` as the statement returns it (see
    /// [`Statement::for_each`]).
    pub fn for_each_row(
        &self,
        sql: &str,
        params: &[SqlValue<'_>],
        mut f: impl FnMut(&Statement) -> Vec0Result<()>,
    ) -> Vec0Result<()> {
        let mut failed: Option<Vec0Error> = None;
        let result = self.with_statement(Rc::from(sql), |s| {
            s.for_each(params, |row| {
                f(row).map_err(|e| {
                    failed = Some(e);
                    // Stops the loop; the caller's error replaces it below.
                    SqlError::new("stopped by the row callback")
                })
            })
        });
        match failed {
            Some(e) => Err(e),
            None => result,
        }
    }

    pub fn execute(&self, sql: &str, params: &[SqlValue<'_>]) -> Vec0Result<()> {
        self.with_statement(Rc::from(sql), |s| s.execute(params))
    }

    /// [`Storage::query`] on fixed statement `name` (for column `n`), whose text `build`
    /// makes once: queries run per KNN skip formatting it each time.
    pub(crate) fn query_named(
        &self,
        name: &'static str,
        n: usize,
        build: impl FnOnce() -> String,
        params: &[SqlValue<'_>],
    ) -> Vec0Result<Vec<Vec<OwnedValue>>> {
        self.with_statement(self.sql(name, n, build), |s| s.query(params))
    }

    fn execute_named(
        &self,
        name: &'static str,
        n: usize,
        build: impl FnOnce() -> String,
        params: &[SqlValue<'_>],
    ) -> Vec0Result<()> {
        self.with_statement(self.sql(name, n, build), |s| s.execute(params))
    }

    /// `PRAGMA data_version` of the table's schema: it moves when another connection or
    /// process commits, which is when the caches must look again.
    fn data_version(&self) -> Vec0Result<Option<i64>> {
        let rows = self.query_named(
            "data_version",
            0,
            || format!("PRAGMA {}.data_version", quote(&self.layout.schema)),
            &[],
        )?;
        Ok(rows.first().and_then(|r| r.first()).and_then(|v| match v {
            OwnedValue::Integer(i) => Some(*i),
            _ => None,
        }))
    }

    fn t(&self, suffix: &str) -> String {
        self.layout.qualified(suffix)
    }

    /// Damage in shadow table `suffix` of this table.
    pub fn damaged(&self, suffix: &str, what: impl std::fmt::Display) -> Vec0Error {
        Vec0Error::damaged(&self.layout.shadow(suffix), what)
    }

    /// An integer read from shadow table `suffix`, where `what` (for the message) must be one.
    fn int(&self, v: &OwnedValue, suffix: &str, what: impl std::fmt::Display) -> Vec0Result<i64> {
        match v {
            OwnedValue::Integer(i) => Ok(*i),
            other => Err(self.damaged(
                suffix,
                format!("{what} is {} instead of an integer", type_name(other)),
            )),
        }
    }
}
