//! Reads and writes of rows in the shadow tables. Every change goes through SQL statements or
//! `sqlite3_blob` handles on the table's own connection, so SQLite's transactions, savepoints
//! and rollbacks cover vec0 exactly as they cover ordinary tables.
//!
//! Two caches live in memory, and both are only ever copies of the file:
//! - prepared statements (and their SQL text), which SQLite re-prepares after schema changes;
//! - vector chunks read for KNN scans ([`VectorCache`]). An entry is dropped when this
//!   connection writes to its chunk, the whole cache is dropped after a rollback (of a
//!   transaction, a savepoint or a failed statement), and before each scan `PRAGMA
//!   data_version` says whether any other connection or process committed since the cache
//!   was filled; if so it is dropped too. Stale vectors are therefore never served.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::rc::Rc;
use std::sync::Arc;

use rusqlite::ffi;

use super::format::{self, damaged, MetadataSlot, TEXT_INLINE_BYTES, TEXT_SLOT_BYTES};
use super::layout::{quote, Layout, MetadataKind};
use super::query::filter::{self, ColumnFilter, Condition};
use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::{Blob, Connection, Statement};
use crate::ffi::{OwnedValue, SqlValue};

/// Where a row lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLocation {
    pub rowid: i64,
    pub chunk_id: i64,
    pub offset: usize,
}

/// One chunk's bookkeeping, as read for a scan; [`Storage::chunks`] checked both blobs' sizes.
#[derive(Debug, Clone)]
pub struct ChunkInfo {
    pub chunk_id: i64,
    pub validity: Vec<u8>,
    pub rowids: Vec<u8>,
}

impl ChunkInfo {
    pub fn is_valid(&self, offset: usize) -> bool {
        format::bit(&self.validity, offset)
    }

    pub fn rowid(&self, offset: usize) -> i64 {
        format::rowid_at(&self.rowids, offset)
    }
}

/// Bytes of vector chunks one table keeps in memory between KNN scans. Chunks beyond the
/// budget are read from SQLite on every scan, as if there were no cache.
pub const VECTOR_CACHE_BUDGET: usize = 1 << 30;

/// A chunk's vectors in memory, aligned for the widest element type so they can be viewed as
/// f32/f16/i8 slices without copying.
pub struct AlignedChunk {
    words: Vec<u64>,
    len: usize,
}

impl AlignedChunk {
    pub fn zeroed(len: usize) -> AlignedChunk {
        AlignedChunk {
            words: vec![0; len.div_ceil(8)],
            len,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

#[derive(Default)]
pub struct VectorCache {
    /// `PRAGMA data_version` when the entries were read; None when empty.
    data_version: Option<i64>,
    chunks: HashMap<(usize, i64), Arc<AlignedChunk>>,
    bytes: usize,
}

impl VectorCache {
    fn clear(&mut self) {
        self.chunks.clear();
        self.bytes = 0;
        self.data_version = None;
    }
}

/// Whether SQLite failed while preparing (or re-preparing) a statement: an authorizer's denial
/// (`SQLITE_AUTH`) or a schema problem such as a missing shadow column (`SQLITE_ERROR`). Only
/// these get sqlite-vec's wording as a prefix; a full disk, a busy database or an interrupt
/// keep SQLite's message unchanged.
pub fn prepare_class(e: &SqlError) -> bool {
    matches!(e.code & 0xff, ffi::SQLITE_AUTH | ffi::SQLITE_ERROR)
}

/// `e` with sqlite-vec's wording in front of SQLite's reason, as an `SQLITE_ERROR` (sqlite-vec
/// reports these as plain errors) when `as_error`, else with SQLite's code; other failures
/// unchanged (see [`prepare_class`]).
pub fn reword(e: SqlError, prefix: &str, as_error: bool) -> SqlError {
    if !prepare_class(&e) {
        return e;
    }
    let code = if as_error { ffi::SQLITE_ERROR } else { e.code };
    SqlError::with_code(code, format!("{prefix}: {}", e.message))
}

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
    vector_cache: RefCell<VectorCache>,
    /// The chunk the last insert went into, with its validity bitmap, so that a run of
    /// inserts neither searches `{t}_free` nor re-reads the bitmap for every row. Only valid
    /// inside one write transaction (cleared by `begin`, rollbacks and any slot release): no
    /// other connection can write while this one holds the write lock.
    open_chunk: RefCell<Option<OpenChunk>>,
    /// C strings for `sqlite3_blob_open`, built once per (shadow suffix, column) instead of
    /// three allocations per blob per row.
    blob_names: RefCell<Vec<BlobNames>>,
}

struct BlobNames {
    suffix: String,
    column: &'static str,
    schema_c: CString,
    table_c: CString,
    column_c: CString,
}

/// See [`Storage::open_chunk`].
struct OpenChunk {
    partition: Vec<OwnedValue>,
    chunk_id: i64,
    validity: Vec<u8>,
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

/// Whether SQLite refused to open a blob handle because of the row: it is missing, or the
/// value is not a blob or text.
fn blob_row_damage(e: &SqlError) -> bool {
    e.message.contains("no such rowid") || e.message.contains("cannot open value of type")
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
            vector_cache: RefCell::new(VectorCache::default()),
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
        self.vector_cache.borrow_mut().clear();
        self.forget_open_chunk();
    }

    /// Called when a write transaction starts (xBegin).
    pub fn begin(&self) {
        self.transaction.set(self.transaction.get() + 1);
        self.forget_open_chunk();
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
    ) -> SqlResult<R> {
        self.with_statement_phased(sql, f).map_err(|e| e.error)
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

    pub fn query(&self, sql: &str, params: &[SqlValue<'_>]) -> SqlResult<Vec<Vec<OwnedValue>>> {
        self.with_statement(Rc::from(sql), |s| s.query(params))
    }

    pub fn execute(&self, sql: &str, params: &[SqlValue<'_>]) -> SqlResult<()> {
        self.with_statement(Rc::from(sql), |s| s.execute(params))
    }

    fn query_named(
        &self,
        name: &'static str,
        n: usize,
        build: impl FnOnce() -> String,
        params: &[SqlValue<'_>],
    ) -> SqlResult<Vec<Vec<OwnedValue>>> {
        self.with_statement(self.sql(name, n, build), |s| s.query(params))
    }

    fn execute_named(
        &self,
        name: &'static str,
        n: usize,
        build: impl FnOnce() -> String,
        params: &[SqlValue<'_>],
    ) -> SqlResult<()> {
        self.with_statement(self.sql(name, n, build), |s| s.execute(params))
    }

    fn t(&self, suffix: &str) -> String {
        self.layout.qualified(suffix)
    }

    /// `SQLITE_CORRUPT_VTAB` naming shadow table `suffix` of this table.
    pub fn damaged(&self, suffix: &str, what: impl std::fmt::Display) -> SqlError {
        damaged(&self.layout.shadow(suffix), what)
    }

    /// An integer read from shadow table `suffix`, where `what` (for the message) must be one.
    fn int(&self, v: &OwnedValue, suffix: &str, what: impl std::fmt::Display) -> SqlResult<i64> {
        match v {
            OwnedValue::Integer(i) => Ok(*i),
            other => Err(self.damaged(
                suffix,
                format!("{what} is {} instead of an integer", type_name(other)),
            )),
        }
    }

    pub fn open_blob(
        &self,
        suffix: &str,
        column: &'static str,
        rowid: i64,
        writable: bool,
    ) -> SqlResult<Blob> {
        let mut names = self.blob_names.borrow_mut();
        let found = names
            .iter()
            .position(|n| n.column == column && n.suffix == suffix);
        let index = match found {
            Some(i) => i,
            None => {
                let c = |s: &str| CString::new(s).map_err(|_| SqlError::new("name contains NUL"));
                names.push(BlobNames {
                    suffix: suffix.to_string(),
                    column,
                    schema_c: c(&self.layout.schema)?,
                    table_c: c(&self.layout.shadow(suffix))?,
                    column_c: c(column)?,
                });
                names.len() - 1
            }
        };
        let n = &names[index];
        self.conn
            .open_blob_c(&n.schema_c, &n.table_c, &n.column_c, rowid, writable)
            .map_err(|e| {
                if blob_row_damage(&e) {
                    self.damaged(suffix, format!("{column} of row {rowid}: {}", e.message))
                } else {
                    e
                }
            })
    }

    /// Opens the blob `column` of row `rowid` of `suffix` and checks it has `expected` bytes.
    fn open_sized_blob(
        &self,
        suffix: &str,
        column: &'static str,
        rowid: i64,
        writable: bool,
        expected: usize,
    ) -> SqlResult<Blob> {
        let blob = self.open_blob(suffix, column, rowid, writable)?;
        if blob.len() != expected {
            return Err(self.damaged(
                suffix,
                format!(
                    "{column} blob of chunk {rowid} has {} bytes, {expected} expected",
                    blob.len()
                ),
            ));
        }
        Ok(blob)
    }

    /// The metadata chunk blob of column `column`, checked for its size.
    fn open_metadata(&self, column: usize, chunk_id: i64, writable: bool) -> SqlResult<Blob> {
        let kind = self.layout.metadata[column].kind;
        self.open_sized_blob(
            &Layout::metadata_chunks(column),
            "data",
            chunk_id,
            writable,
            kind.chunk_bytes(self.layout.chunk_size),
        )
    }

    /// The vector chunk blob of column `column`, checked for its size.
    pub fn open_vectors(&self, column: usize, chunk_id: i64, writable: bool) -> SqlResult<Blob> {
        self.open_sized_blob(
            &Layout::vector_chunks(column),
            "vectors",
            chunk_id,
            writable,
            self.layout.chunk_size * self.layout.vectors[column].vector_bytes(),
        )
    }

    /// `schema.table.rowid` of a shadow row, as sqlite-vec names it in messages.
    fn blob_label(&self, suffix: &str, rowid: i64) -> String {
        format!(
            "{}.{}.{rowid}",
            self.layout.schema,
            self.layout.shadow(suffix)
        )
    }

    /// Opens `{t}_chunks.column` of `chunk_id` (`validity` or `rowids`) for an insert
    /// (`insert`) or a delete, with sqlite-vec's messages when it cannot be opened or has
    /// not the size the chunk size gives it.
    fn open_chunk_blob(
        &self,
        column: &'static str,
        chunk_id: i64,
        insert: bool,
    ) -> SqlResult<Blob> {
        let label = self.blob_label("chunks", chunk_id);
        let blob = self
            .open_blob("chunks", column, chunk_id, true)
            .map_err(|e| {
                let prefix = if insert {
                    format!("Internal sqlite-vec error: could not open {column} blob on {label}")
                } else {
                    format!("could not open {column} blob for {label}")
                };
                if e.is_corrupt() {
                    SqlError::corrupt(format!("{prefix}: {}", e.message))
                } else {
                    reword(e, &prefix, true)
                }
            })?;
        let (expected, actual) = match column {
            "validity" => (self.layout.validity_bytes(), blob.len()),
            _ => (self.layout.chunk_size * 8, blob.len()),
        };
        // A delete reads one validity byte; sqlite-vec reports a blob too short for it so.
        if (insert || column != "validity") && expected != actual {
            return Err(SqlError::corrupt(if column == "validity" {
                format!(
                    "Internal sqlite-vec error: validity blob size mismatch on {label}, expected \
                     {expected} but received {actual}."
                )
            } else {
                format!(
                    "Internal sqlite-vec error: {column} blob size mismatch on {label}. Expected \
                     {expected}, actual {actual}"
                )
            }));
        }
        Ok(blob)
    }

    /// `{t}_chunks.validity` of `chunk_id`, opened for an insert.
    fn open_validity(&self, chunk_id: i64) -> SqlResult<Blob> {
        self.open_chunk_blob("validity", chunk_id, true)
    }

    // ---- rows -------------------------------------------------------------------------

    /// Where row `rowid` lives, after checking that its chunk has it there (a live slot
    /// holding this rowid): a damaged `{t}_rowids` must not send a read or a write to another
    /// row's slot.
    pub fn locate(&self, rowid: i64) -> SqlResult<Option<RowLocation>> {
        let Some(loc) = self.locate_unchecked(rowid)? else {
            return Ok(None);
        };
        self.check_slot(loc)?;
        Ok(Some(loc))
    }

    /// The location `{t}_rowids` gives, within a chunk's bounds but not checked against it.
    pub fn locate_unchecked(&self, rowid: i64) -> SqlResult<Option<RowLocation>> {
        let rows = self.query_named(
            "locate",
            0,
            || {
                format!(
                    "SELECT chunk_id, chunk_offset FROM {} WHERE rowid = ?",
                    self.t("rowids")
                )
            },
            &[SqlValue::Integer(rowid)],
        )?;
        match rows.first() {
            Some(row) => Ok(Some(self.location_of(rowid, &row[0], &row[1])?)),
            None => Ok(None),
        }
    }

    /// A `{t}_rowids` row's (chunk_id, chunk_offset), checked to be integers within a chunk.
    fn location_of(
        &self,
        rowid: i64,
        chunk_id: &OwnedValue,
        offset: &OwnedValue,
    ) -> SqlResult<RowLocation> {
        let chunk_id = self.int(chunk_id, "rowids", format_args!("chunk_id of row {rowid}"))?;
        let offset = self.int(
            offset,
            "rowids",
            format_args!("chunk_offset of row {rowid}"),
        )?;
        if !(0..self.layout.chunk_size as i64).contains(&offset) {
            return Err(self.damaged(
                "rowids",
                format!(
                    "row {rowid} has chunk_offset {offset}, outside a chunk of {} rows",
                    self.layout.chunk_size
                ),
            ));
        }
        Ok(RowLocation {
            rowid,
            chunk_id,
            offset: offset as usize,
        })
    }

    /// Fails unless slot `loc` of its chunk is live and holds `loc.rowid`.
    fn check_slot(&self, loc: RowLocation) -> SqlResult<()> {
        let RowLocation {
            rowid,
            chunk_id,
            offset,
        } = loc;
        let label = self.blob_label("chunks", chunk_id);
        let missing_chunk = |column: &str, e: SqlError| {
            if e.is_corrupt() && e.message.contains("no such rowid") {
                self.damaged(
                    "rowids",
                    format!(
                        "row {rowid} is in chunk {chunk_id}, which {} does not have",
                        self.layout.shadow("chunks")
                    ),
                )
            } else if e.is_corrupt() {
                e
            } else {
                // A blob SQLite cannot open (a dropped column, an authorizer): sqlite-vec's words.
                reword(
                    e,
                    &format!("could not open {column} blob for {label}"),
                    true,
                )
            }
        };
        let validity = self
            .open_sized_blob(
                "chunks",
                "validity",
                chunk_id,
                false,
                self.layout.validity_bytes(),
            )
            .map_err(|e| missing_chunk("validity", e))?;
        let mut byte = [0u8];
        validity.read(offset / 8, &mut byte)?;
        drop(validity);
        if !format::bit(&byte, offset % 8) {
            return Err(self.damaged(
                "chunks",
                format!(
                    "slot {offset} of chunk {chunk_id} is free, but {} puts row {rowid} there",
                    self.layout.shadow("rowids")
                ),
            ));
        }
        let rowids = self
            .open_sized_blob(
                "chunks",
                "rowids",
                chunk_id,
                false,
                self.layout.chunk_size * 8,
            )
            .map_err(|e| missing_chunk("rowids", e))?;
        let mut stored = [0u8; 8];
        rowids.read(offset * 8, &mut stored)?;
        let stored = i64::from_le_bytes(stored);
        if stored != rowid {
            return Err(self.damaged(
                "rowids",
                format!(
                    "row {rowid} points at slot {offset} of chunk {chunk_id}, which {} gives to \
                     row {stored}",
                    self.layout.shadow("chunks")
                ),
            ));
        }
        Ok(())
    }

    /// Fails unless `{t}_rowids` puts row `loc.rowid`, found in a chunk, at `loc` (a KNN result
    /// or a row `optimize` moves).
    pub fn check_chunk_row(&self, loc: RowLocation) -> SqlResult<()> {
        match self.locate_unchecked(loc.rowid)? {
            Some(l) if l == loc => Ok(()),
            Some(l) => Err(self.damaged(
                "rowids",
                format!(
                    "row {} points at slot {} of chunk {}, but {} holds it in slot {} of chunk {}",
                    loc.rowid,
                    l.offset,
                    l.chunk_id,
                    self.layout.shadow("chunks"),
                    loc.offset,
                    loc.chunk_id
                ),
            )),
            None => Err(self.damaged(
                "chunks",
                format!(
                    "slot {} of chunk {} holds row {}, which {} does not have",
                    loc.offset,
                    loc.chunk_id,
                    loc.rowid,
                    self.layout.shadow("rowids")
                ),
            )),
        }
    }

    /// The internal rowid of the row whose text primary key is `id`.
    pub fn rowid_for_text_key(&self, id: &[u8]) -> SqlResult<Option<i64>> {
        let rows = self.query_named(
            "key_rowid",
            0,
            || format!("SELECT rowid FROM {} WHERE id = ?", self.t("rowids")),
            &[SqlValue::Text(id)],
        )?;
        rows.first()
            .map(|r| self.int(&r[0], "rowids", "a rowid"))
            .transpose()
    }

    /// Rowids whose text primary key satisfies every one of `conditions`.
    pub fn rowids_with_text_key(&self, conditions: &[Condition]) -> SqlResult<HashSet<i64>> {
        let mut clauses = Vec::new();
        let mut owned = Vec::new();
        filter::render_conditions("id", conditions, &mut clauses, &mut owned);
        let sql = format!(
            "SELECT rowid FROM {} WHERE {}",
            self.t("rowids"),
            clauses.join(" AND ")
        );
        let params: Vec<SqlValue<'_>> = owned.iter().map(|v| v.as_value()).collect();
        self.query(&sql, &params)?
            .into_iter()
            .map(|r| match r.first() {
                Some(v) => self.int(v, "rowids", "a rowid"),
                None => Err(self.damaged("rowids", "a row without a rowid")),
            })
            .collect()
    }

    pub fn text_key(&self, rowid: i64) -> SqlResult<OwnedValue> {
        let rows = self.query_named(
            "text_key",
            0,
            || format!("SELECT id FROM {} WHERE rowid = ?", self.t("rowids")),
            &[SqlValue::Integer(rowid)],
        )?;
        match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
            Some(key @ OwnedValue::Text(_)) => Ok(key),
            Some(other) => Err(self.damaged(
                "rowids",
                format!(
                    "the id of row {rowid} is {} instead of text",
                    type_name(&other)
                ),
            )),
            None => Ok(OwnedValue::Null),
        }
    }

    /// Adds a row to `{t}_rowids` at slot `(chunk_id, offset)` (or with no slot yet) and
    /// returns its rowid (`rowid` None: the next free one). A key that exists fails with
    /// `SQLITE_CONSTRAINT`, which is how inserts detect conflicts without a lookup first.
    pub fn insert_rowid(
        &self,
        rowid: Option<i64>,
        text_key: Option<&[u8]>,
        slot: Option<(i64, usize)>,
    ) -> SqlResult<i64> {
        let rowid_value = rowid.map_or(SqlValue::Null, SqlValue::Integer);
        let key = text_key.map_or(SqlValue::Null, SqlValue::Text);
        let sql = self.sql("insert_rowid", 0, || {
            format!(
                "INSERT INTO {}(rowid, id, chunk_id, chunk_offset) VALUES (?, ?, ?, ?)",
                self.t("rowids")
            )
        });
        let params = [
            rowid_value,
            key,
            slot.map_or(SqlValue::Null, |(c, _)| SqlValue::Integer(c)),
            slot.map_or(SqlValue::Null, |(_, o)| SqlValue::Integer(o as i64)),
        ];
        self.with_statement_phased(sql, |s| s.execute(&params))
            .map_err(|f| {
                // sqlite-vec's statement for an explicit rowid vs. its one for an id.
                let name = if rowid.is_some() {
                    "insert rowids"
                } else {
                    "insert rowids id"
                };
                if f.first_use {
                    reword(
                        f.error,
                        &format!(
                            "Internal sqlite-vec error: could not initialize '{name}' statement"
                        ),
                        false,
                    )
                } else {
                    reword(f.error, "Error inserting id into rowids shadow table", true)
                }
            })?;
        Ok(rowid.unwrap_or_else(|| self.conn.last_insert_rowid()))
    }

    pub fn set_location(&self, loc: RowLocation) -> SqlResult<()> {
        let sql = self.sql("set_location", 0, || {
            format!(
                "UPDATE {} SET chunk_id = ?, chunk_offset = ? WHERE rowid = ?",
                self.t("rowids")
            )
        });
        let params = [
            SqlValue::Integer(loc.chunk_id),
            SqlValue::Integer(loc.offset as i64),
            SqlValue::Integer(loc.rowid),
        ];
        self.with_statement_phased(sql, |s| s.execute(&params))
            .map_err(|f| {
                if f.first_use {
                    reword(
                        f.error,
                        "Internal sqlite-vec error: could not initialize 'update rowids position' \
                         statement",
                        false,
                    )
                } else {
                    let (rowid, chunk, offset) = (loc.rowid, loc.chunk_id, loc.offset);
                    reword(
                        f.error,
                        &format!(
                            "Internal sqlite-vec error: could not update rowids position for \
                             rowid={rowid}, chunk_rowid={chunk}, chunk_offset={offset}"
                        ),
                        true,
                    )
                }
            })
    }

    pub fn delete_rowid(&self, rowid: i64) -> SqlResult<()> {
        self.execute_named(
            "delete_rowid",
            0,
            || format!("DELETE FROM {} WHERE rowid = ?", self.t("rowids")),
            &[SqlValue::Integer(rowid)],
        )
    }

    /// Every row's location in ascending rowid order, for full scans, checked against the
    /// chunks: each row in a live slot holding its rowid, and no live slot without a row.
    pub fn scan_locations(&self) -> SqlResult<Vec<RowLocation>> {
        let sql = format!(
            "SELECT rowid, chunk_id, chunk_offset FROM {} ORDER BY rowid",
            self.t("rowids")
        );
        let chunks: HashMap<i64, ChunkInfo> = self
            .chunks(&[])?
            .into_iter()
            .map(|c| (c.chunk_id, c))
            .collect();
        let mut out = Vec::new();
        for row in self.query(&sql, &[])? {
            let rowid = self.int(&row[0], "rowids", "a rowid")?;
            let loc = self.location_of(rowid, &row[1], &row[2])?;
            let Some(chunk) = chunks.get(&loc.chunk_id) else {
                return Err(self.damaged(
                    "rowids",
                    format!(
                        "row {rowid} is in chunk {}, which {} does not have",
                        loc.chunk_id,
                        self.layout.shadow("chunks")
                    ),
                ));
            };
            if !chunk.is_valid(loc.offset) || chunk.rowid(loc.offset) != rowid {
                // The same message as a point lookup's.
                self.check_slot(loc)?;
            }
            out.push(loc);
        }
        let live: usize = chunks
            .values()
            .map(|c| {
                (0..self.layout.chunk_size)
                    .filter(|&s| c.is_valid(s))
                    .count()
            })
            .sum();
        if live != out.len() {
            let known: HashSet<(i64, usize)> = out.iter().map(|l| (l.chunk_id, l.offset)).collect();
            for chunk in chunks.values() {
                for slot in (0..self.layout.chunk_size).filter(|&s| chunk.is_valid(s)) {
                    if !known.contains(&(chunk.chunk_id, slot)) {
                        self.check_chunk_row(RowLocation {
                            rowid: chunk.rowid(slot),
                            chunk_id: chunk.chunk_id,
                            offset: slot,
                        })?;
                    }
                }
            }
        }
        Ok(out)
    }

    // ---- chunks -----------------------------------------------------------------------

    /// ` WHERE c.partition00 IS ? AND ...` for a chunk alias `c`, or nothing.
    fn partition_where(&self, alias: &str) -> String {
        if self.layout.partitions.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = (0..self.layout.partitions.len())
            .map(|i| format!("{alias}.{} IS ?", Layout::partition_column(i)))
            .collect();
        format!(" WHERE {}", parts.join(" AND "))
    }

    /// A slot for a new row in the partition `partition`: the lowest chunk with a free slot, or
    /// a new chunk. Slots freed by deletes are reused before the table grows.
    pub fn allocate_slot(&self, partition: &[OwnedValue]) -> SqlResult<(i64, usize)> {
        match self.find_free_slot(partition)? {
            Some(slot) => Ok(slot),
            None => Ok((self.new_chunk(partition)?, 0)),
        }
    }

    /// The lowest free slot of an existing chunk of `partition`, if any; writes nothing
    /// (except dropping a full chunk found in the free list by mistake).
    pub fn find_free_slot(&self, partition: &[OwnedValue]) -> SqlResult<Option<(i64, usize)>> {
        if let Some(open) = self.open_chunk.borrow().as_ref() {
            if open.partition == partition {
                if let Some(offset) = first_zero_bit(&open.validity, self.layout.chunk_size) {
                    return Ok(Some((open.chunk_id, offset)));
                }
            }
        }
        self.ensure_free_table()?;
        let params: Vec<SqlValue<'_>> = partition.iter().map(|v| v.as_value()).collect();
        let sql = self.sql("allocate", 0, || {
            format!(
                "SELECT f.chunk_id FROM {} f JOIN {} c ON c.chunk_id = f.chunk_id{} \
                 ORDER BY f.chunk_id LIMIT 1",
                self.t("free"),
                self.t("chunks"),
                self.partition_where("c")
            )
        });
        let rows = self
            .with_statement_phased(sql, |s| s.query(&params))
            .map_err(|f| {
                if f.first_use {
                    reword(
                        f.error,
                        "Internal sqlite-vec error: could not initialize 'latest chunk' statement",
                        false,
                    )
                } else {
                    reword(
                        f.error,
                        "Internal sqlite-vec error: Could not find latest chunk",
                        true,
                    )
                }
            })?;
        if let Some(row) = rows.first() {
            let chunk_id = self.int(&row[0], "free", "a chunk_id")?;
            let validity = {
                let blob = self.open_validity(chunk_id)?;
                let mut v = vec![0; blob.len()];
                blob.read(0, &mut v)?;
                v
            };
            if let Some(offset) = first_zero_bit(&validity, self.layout.chunk_size) {
                *self.open_chunk.borrow_mut() = Some(OpenChunk {
                    partition: partition.to_vec(),
                    chunk_id,
                    validity,
                });
                return Ok(Some((chunk_id, offset)));
            }
            // A full chunk left in the free list (e.g. by an interrupted writer): drop it.
            self.execute(
                &format!("DELETE FROM {} WHERE chunk_id = ?", self.t("free")),
                &[SqlValue::Integer(chunk_id)],
            )?;
            return self.find_free_slot(partition);
        }
        Ok(None)
    }

    pub fn new_chunk(&self, partition: &[OwnedValue]) -> SqlResult<i64> {
        let layout = &self.layout;
        let n = layout.chunk_size;
        let part_cols: String = (0..layout.partitions.len())
            .map(|i| format!(", {}", Layout::partition_column(i)))
            .collect();
        let part_params: String = partition.iter().map(|_| ", ?").collect();
        let sql = format!(
            "INSERT INTO {}(size, validity, rowids{part_cols}) \
             VALUES ({n}, zeroblob({}), zeroblob({}){part_params})",
            self.t("chunks"),
            layout.validity_bytes(),
            n * 8
        );
        let params: Vec<SqlValue<'_>> = partition.iter().map(|v| v.as_value()).collect();
        self.execute(&sql, &params)?;
        let chunk_id = self.conn.last_insert_rowid();
        // sqlite-vec declares these tables `rowid PRIMARY KEY`: there `rowid` is an ordinary
        // column, not the rowid that sqlite3_blob_open looks up. Setting `_rowid_` as well
        // keeps both equal to the chunk id in its tables (as sqlite-vec does) and is the same
        // column twice in vecsql's (`rowid INTEGER PRIMARY KEY`).
        for (i, v) in layout.vectors.iter().enumerate() {
            self.execute(
                &format!(
                    "INSERT INTO {}(_rowid_, rowid, vectors) VALUES (?1, ?1, zeroblob({}))",
                    self.t(&Layout::vector_chunks(i)),
                    n * v.vector_bytes()
                ),
                &[SqlValue::Integer(chunk_id)],
            )?;
        }
        for (i, m) in layout.metadata.iter().enumerate() {
            self.execute(
                &format!(
                    "INSERT INTO {}(_rowid_, rowid, data) VALUES (?1, ?1, zeroblob({}))",
                    self.t(&Layout::metadata_chunks(i)),
                    m.kind.chunk_bytes(n)
                ),
                &[SqlValue::Integer(chunk_id)],
            )?;
        }
        self.execute(
            &format!("INSERT INTO {}(chunk_id) VALUES (?)", self.t("free")),
            &[SqlValue::Integer(chunk_id)],
        )?;
        *self.open_chunk.borrow_mut() = Some(OpenChunk {
            partition: partition.to_vec(),
            chunk_id,
            validity: vec![0; layout.validity_bytes()],
        });
        Ok(chunk_id)
    }

    /// Creates `{t}_free` for tables written by sqlite-vec, listing their chunks with room.
    fn ensure_free_table(&self) -> SqlResult<()> {
        if self.free_table_ready.get() {
            return Ok(());
        }
        self.ensure_free_table_uncached()?;
        self.free_table_ready.set(true);
        Ok(())
    }

    fn ensure_free_table_uncached(&self) -> SqlResult<()> {
        let exists = self.query(
            &format!(
                "SELECT 1 FROM {}.sqlite_master WHERE type = 'table' AND name = ?",
                quote(&self.layout.schema)
            ),
            &[SqlValue::Text(self.layout.shadow("free").as_bytes())],
        )?;
        if !exists.is_empty() {
            return Ok(());
        }
        self.conn.execute_batch(&format!(
            "CREATE TABLE {}(chunk_id INTEGER PRIMARY KEY);",
            self.t("free")
        ))?;
        for chunk in self.chunks(&[])? {
            if first_zero_bit(&chunk.validity, self.layout.chunk_size).is_some() {
                self.execute(
                    &format!("INSERT INTO {}(chunk_id) VALUES (?)", self.t("free")),
                    &[SqlValue::Integer(chunk.chunk_id)],
                )?;
            }
        }
        Ok(())
    }

    /// Marks slot `offset` of `chunk_id` as holding `rowid` (or as free when `rowid` is None),
    /// and keeps `{t}_free` and empty chunks in step. A freed slot's rowid is zeroed and, when
    /// its chunk stays, so is everything else in it ([`Storage::erase_slot`]); an emptied chunk
    /// is deleted whole.
    pub fn set_slot(&self, chunk_id: i64, offset: usize, rowid: Option<i64>) -> SqlResult<()> {
        // A delete from a table sqlite-vec wrote reaches here before any insert made the list.
        self.ensure_free_table()?;
        let insert = rowid.is_some();
        let mut validity_blob = self.open_chunk_blob("validity", chunk_id, insert)?;
        let (byte, bit) = (offset / 8, offset % 8);
        if !insert {
            let label = self.blob_label("chunks", chunk_id);
            let expected = self.layout.validity_bytes();
            let actual = validity_blob.len();
            if actual <= byte {
                return Err(SqlError::corrupt(format!(
                    "could not read validity blob for {label} at {byte}: the blob has {actual} \
                     bytes, {expected} expected"
                )));
            }
            if actual != expected {
                return Err(SqlError::corrupt(format!(
                    "validity blob size mismatch on {label}, expected {expected} but received \
                     {actual}."
                )));
            }
        }
        let mut open = self.open_chunk.borrow_mut();
        let cached = match open.as_mut() {
            Some(o) if rowid.is_some() && o.chunk_id == chunk_id => Some(&mut o.validity),
            _ => None,
        };
        let mut read = Vec::new();
        let validity = match cached {
            Some(v) => v,
            None => {
                read.resize(validity_blob.len(), 0);
                validity_blob.read(0, &mut read)?;
                &mut read
            }
        };
        if rowid.is_some() {
            validity[byte] |= 1 << bit;
        } else {
            if validity[byte] & (1 << bit) == 0 {
                return Err(SqlError::corrupt(format!(
                    "vec0 deletion error: validity bit is not set for {} at {byte}",
                    self.blob_label("chunks", chunk_id)
                )));
            }
            validity[byte] &= !(1 << bit);
        }
        validity_blob.write(byte, &validity[byte..byte + 1])?;
        drop(validity_blob);
        let full = first_zero_bit(validity, self.layout.chunk_size).is_none();
        let empty = validity.iter().all(|&b| b == 0);
        if rowid.is_none() {
            // Freed slots make lower chunks candidates again: let the free list decide.
            open.take();
        }
        drop(open);
        let mut rowids = self.open_chunk_blob("rowids", chunk_id, insert)?;
        rowids.write(offset * 8, &rowid.unwrap_or(0).to_le_bytes())?;
        drop(rowids);

        let id = [SqlValue::Integer(chunk_id)];
        if rowid.is_some() {
            // Filling a slot: the chunk came from the free list; it leaves it when full.
            if full {
                self.execute_named(
                    "delete_free",
                    0,
                    || format!("DELETE FROM {} WHERE chunk_id = ?", self.t("free")),
                    &id,
                )?;
            }
            Ok(())
        } else if empty {
            self.delete_chunk(chunk_id)
        } else {
            self.erase_slot(chunk_id, offset)?;
            self.execute_named(
                "insert_free",
                0,
                || {
                    format!(
                        "INSERT OR IGNORE INTO {}(chunk_id) VALUES (?)",
                        self.t("free")
                    )
                },
                &id,
            )
        }
    }

    /// Frees the slot of a row leaving `loc` (deleted, or moving to another slot) and erases
    /// what the row left there: the slot's bytes in every chunk blob (see [`Storage::set_slot`])
    /// and the row's `{t}_metadatatextNN` rows. The caller deals with `{t}_rowids`,
    /// `{t}_auxiliary` and the indexes, which a moving row keeps.
    pub fn release_slot(&self, loc: RowLocation) -> SqlResult<()> {
        for (i, m) in self.layout.metadata.iter().enumerate() {
            if m.kind == MetadataKind::Text {
                self.execute_named(
                    "delete_long_text",
                    i,
                    || {
                        format!(
                            "DELETE FROM {} WHERE rowid = ?",
                            self.t(&Layout::metadata_text(i))
                        )
                    },
                    &[SqlValue::Integer(loc.rowid)],
                )?;
            }
        }
        self.set_slot(loc.chunk_id, loc.offset, None)
    }

    /// Overwrites free slot `offset` of `chunk_id` with zeros in every vector and metadata
    /// blob, as sqlite-vec does on delete: a deleted embedding (which can be inverted back to
    /// its text) must not stay readable in the file, and sqlite-vec's filters read every slot
    /// of a chunk, free or not (a stale long-text length whose overflow row is gone fails
    /// them). One blob write per column; boolean metadata also reads its byte.
    fn erase_slot(&self, chunk_id: i64, offset: usize) -> SqlResult<()> {
        self.forget_chunk(chunk_id);
        let widest = self
            .layout
            .vectors
            .iter()
            .map(|v| v.vector_bytes())
            .max()
            .unwrap_or(0)
            .max(TEXT_SLOT_BYTES);
        let zeros = vec![0u8; widest];
        for (i, v) in self.layout.vectors.iter().enumerate() {
            let vb = v.vector_bytes();
            let mut blob = self.open_vectors(i, chunk_id, true)?;
            blob.write(offset * vb, &zeros[..vb])?;
        }
        for (i, m) in self.layout.metadata.iter().enumerate() {
            let mut blob = self.open_metadata(i, chunk_id, true)?;
            match m.kind {
                MetadataKind::Integer | MetadataKind::Float => {
                    blob.write(offset * 8, &zeros[..8])?
                }
                MetadataKind::Boolean => {
                    let mut byte = [0u8];
                    blob.read(offset / 8, &mut byte)?;
                    byte[0] &= !(1 << (offset % 8));
                    blob.write(offset / 8, &byte)?
                }
                MetadataKind::Text => {
                    blob.write(offset * TEXT_SLOT_BYTES, &zeros[..TEXT_SLOT_BYTES])?
                }
            }
        }
        Ok(())
    }

    /// Removes an empty chunk and its data, so deleted space goes back to SQLite's free pages.
    fn delete_chunk(&self, chunk_id: i64) -> SqlResult<()> {
        self.forget_chunk(chunk_id);
        self.forget_open_chunk();
        let id = [SqlValue::Integer(chunk_id)];
        self.execute(
            &format!("DELETE FROM {} WHERE chunk_id = ?", self.t("chunks")),
            &id,
        )?;
        self.execute(
            &format!("DELETE FROM {} WHERE chunk_id = ?", self.t("free")),
            &id,
        )?;
        // By `_rowid_`, the key blob handles use (see `new_chunk` on sqlite-vec's schema).
        for i in 0..self.layout.vectors.len() {
            let sql = format!(
                "DELETE FROM {} WHERE _rowid_ = ?",
                self.t(&Layout::vector_chunks(i))
            );
            self.execute(&sql, &id)?;
        }
        for i in 0..self.layout.metadata.len() {
            let sql = format!(
                "DELETE FROM {} WHERE _rowid_ = ?",
                self.t(&Layout::metadata_chunks(i))
            );
            self.execute(&sql, &id)?;
        }
        Ok(())
    }

    /// Chunks whose partition keys pass `partition_filter` (all chunks when empty), in id order.
    pub fn chunks(&self, partition_filter: &[ColumnFilter]) -> SqlResult<Vec<ChunkInfo>> {
        self.chunks_among(partition_filter, None)
    }

    /// [`Storage::chunks`], restricted to the chunks `only` lists when given.
    pub fn chunks_among(
        &self,
        partition_filter: &[ColumnFilter],
        only: Option<&[i64]>,
    ) -> SqlResult<Vec<ChunkInfo>> {
        let mut clauses = Vec::new();
        let mut owned = Vec::new();
        for f in partition_filter {
            let column = Layout::partition_column(f.column);
            filter::render_conditions(&column, [&f.condition], &mut clauses, &mut owned);
        }
        if let Some(ids) = only {
            let list = Condition::In(ids.iter().map(|&id| OwnedValue::Integer(id)).collect());
            filter::render_conditions("chunk_id", [&list], &mut clauses, &mut owned);
        }
        let params: Vec<SqlValue<'_>> = owned.iter().map(|v| v.as_value()).collect();
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT chunk_id, validity, rowids FROM {}{where_clause} ORDER BY chunk_id",
            self.t("chunks")
        );
        self.query(&sql, &params)?
            .into_iter()
            .map(|row| {
                let mut it = row.into_iter();
                let chunk_id = self.int(
                    &it.next().unwrap_or(OwnedValue::Null),
                    "chunks",
                    "a chunk_id",
                )?;
                let mut blob = |what: &str, expected: usize| match it.next() {
                    // sqlite-vec's wording for a blob of the wrong size.
                    Some(OwnedValue::Blob(b)) if b.len() != expected => {
                        Err(SqlError::corrupt(format!(
                            "chunk {what} size doesn't match - expected {expected}, found {} \
                             (chunk {chunk_id} of {})",
                            b.len(),
                            self.layout.shadow("chunks")
                        )))
                    }
                    Some(OwnedValue::Blob(b)) => Ok(b),
                    other => Err(self.damaged(
                        "chunks",
                        format!(
                            "the {what} of chunk {chunk_id} is {} instead of a blob",
                            type_name(&other.unwrap_or(OwnedValue::Null))
                        ),
                    )),
                };
                Ok(ChunkInfo {
                    chunk_id,
                    validity: blob("validity", self.layout.validity_bytes())?,
                    rowids: blob("rowids", self.layout.chunk_size * 8)?,
                })
            })
            .collect()
    }

    pub fn partition_values(&self, chunk_id: i64) -> SqlResult<Vec<OwnedValue>> {
        if self.layout.partitions.is_empty() {
            return Ok(Vec::new());
        }
        let cols: Vec<String> = (0..self.layout.partitions.len())
            .map(Layout::partition_column)
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE chunk_id = ?",
            cols.join(", "),
            self.t("chunks")
        );
        let values = self
            .query(&sql, &[SqlValue::Integer(chunk_id)])?
            .into_iter()
            .next()
            .unwrap_or_default();
        // Inserts store only integers or text, as declared.
        for (value, column) in values.iter().zip(&self.layout.partitions) {
            let expected = matches!(
                (value, column.integer),
                (OwnedValue::Integer(_), true) | (OwnedValue::Text(_), false)
            );
            if !expected {
                return Err(self.damaged(
                    "chunks",
                    format!(
                        "partition key {} of chunk {chunk_id} is {}",
                        column.name,
                        type_name(value)
                    ),
                ));
            }
        }
        Ok(values)
    }

    // ---- vectors ------------------------------------------------------------------------

    pub fn write_vector(&self, column: usize, loc: RowLocation, bytes: &[u8]) -> SqlResult<()> {
        self.forget_chunk(loc.chunk_id);
        let vb = self.layout.vectors[column].vector_bytes();
        let suffix = Layout::vector_chunks(column);
        let mut blob = self.open_blob(&suffix, "vectors", loc.chunk_id, true)?;
        let expected = self.layout.chunk_size * vb;
        if blob.len() != expected {
            return Err(SqlError::corrupt(format!(
                "Internal sqlite-vec error: vector blob size mismatch on {}. Expected {expected}, \
                 actual {}",
                self.blob_label(&suffix, loc.chunk_id),
                blob.len()
            )));
        }
        blob.write(loc.offset * vb, bytes)
    }

    fn forget_chunk(&self, chunk_id: i64) {
        let mut cache = self.vector_cache.borrow_mut();
        for column in 0..self.layout.vectors.len() {
            if let Some(entry) = cache.chunks.remove(&(column, chunk_id)) {
                cache.bytes -= entry.len;
            }
        }
    }

    /// Drops the vector cache if another connection or process committed since it was filled.
    pub fn validate_vector_cache(&self) -> SqlResult<()> {
        let rows = self.query_named(
            "data_version",
            0,
            || format!("PRAGMA {}.data_version", quote(&self.layout.schema)),
            &[],
        )?;
        let version = rows.first().and_then(|r| r.first()).and_then(|v| match v {
            OwnedValue::Integer(i) => Some(*i),
            _ => None,
        });
        let mut cache = self.vector_cache.borrow_mut();
        if cache.data_version != version {
            cache.clear();
            cache.data_version = version;
        }
        Ok(())
    }

    /// The whole vector blob of `chunk_id` for `column`, from the cache when present.
    /// Call [`Storage::validate_vector_cache`] once before a scan.
    pub fn vector_chunk(&self, column: usize, chunk_id: i64) -> SqlResult<Arc<AlignedChunk>> {
        if let Some(hit) = self.vector_cache.borrow().chunks.get(&(column, chunk_id)) {
            return Ok(hit.clone());
        }
        let expected = self.layout.chunk_size * self.layout.vectors[column].vector_bytes();
        let mut chunk = AlignedChunk::zeroed(expected);
        self.read_vector_chunk_into(column, chunk_id, chunk.bytes_mut())?;
        let chunk = Arc::new(chunk);
        let mut cache = self.vector_cache.borrow_mut();
        if cache.bytes + expected <= VECTOR_CACHE_BUDGET {
            cache.bytes += expected;
            cache.chunks.insert((column, chunk_id), chunk.clone());
        }
        Ok(chunk)
    }

    /// Reads the vectors of one chunk without caching them (for callers that keep their own
    /// copy, like an ANN index). `out` is `chunk_size * vector_bytes` long.
    pub fn read_vector_chunk_into(
        &self,
        column: usize,
        chunk_id: i64,
        out: &mut [u8],
    ) -> SqlResult<()> {
        let blob = self.open_blob(&Layout::vector_chunks(column), "vectors", chunk_id, false)?;
        if blob.len() != out.len() {
            // sqlite-vec's wording, then which chunk.
            return Err(SqlError::corrupt(format!(
                "vectors blob size doesn't match - expected {}, found {} (chunk {chunk_id} of \
                 column \"{}\" in vec0 table {}, {})",
                out.len(),
                blob.len(),
                self.layout.vectors[column].name,
                self.layout.table,
                self.layout.shadow(&Layout::vector_chunks(column)),
            )));
        }
        blob.read(0, out)
    }

    pub fn read_vector_chunk(&self, column: usize, chunk_id: i64) -> SqlResult<Vec<u8>> {
        let mut out = vec![0; self.layout.chunk_size * self.layout.vectors[column].vector_bytes()];
        self.read_vector_chunk_into(column, chunk_id, &mut out)?;
        Ok(out)
    }

    pub fn read_vector(&self, column: usize, loc: RowLocation) -> SqlResult<Vec<u8>> {
        let vb = self.layout.vectors[column].vector_bytes();
        let blob = self.open_vectors(column, loc.chunk_id, false)?;
        let mut out = vec![0u8; vb];
        blob.read(loc.offset * vb, &mut out)?;
        Ok(out)
    }

    // ---- metadata -----------------------------------------------------------------------

    pub fn write_metadata(
        &self,
        column: usize,
        loc: RowLocation,
        value: &OwnedValue,
    ) -> SqlResult<()> {
        let kind = self.layout.metadata[column].kind;
        let mut blob = self.open_metadata(column, loc.chunk_id, true)?;
        match (kind, value) {
            (MetadataKind::Integer, OwnedValue::Integer(i)) => {
                blob.write(loc.offset * 8, &i.to_le_bytes())
            }
            (MetadataKind::Float, OwnedValue::Real(f)) => {
                blob.write(loc.offset * 8, &f.to_le_bytes())
            }
            (MetadataKind::Boolean, OwnedValue::Integer(b)) => {
                let mut byte = [0u8];
                blob.read(loc.offset / 8, &mut byte)?;
                if *b != 0 {
                    byte[0] |= 1 << (loc.offset % 8);
                } else {
                    byte[0] &= !(1 << (loc.offset % 8));
                }
                blob.write(loc.offset / 8, &byte)
            }
            (MetadataKind::Text, OwnedValue::Text(s)) => {
                let bytes = s.as_bytes();
                let slot = format::encode_text_slot(bytes);
                blob.write(loc.offset * TEXT_SLOT_BYTES, &slot)?;
                drop(blob);
                let text_table = self.t(&Layout::metadata_text(column));
                self.execute(
                    &format!("DELETE FROM {text_table} WHERE rowid = ?"),
                    &[SqlValue::Integer(loc.rowid)],
                )?;
                if bytes.len() > TEXT_INLINE_BYTES {
                    self.execute(
                        &format!("INSERT INTO {text_table}(rowid, data) VALUES (?, ?)"),
                        &[SqlValue::Integer(loc.rowid), SqlValue::Text(bytes)],
                    )?;
                }
                Ok(())
            }
            (kind, value) => Err(SqlError::internal(format!(
                "metadata value {value:?} was not converted to {}",
                kind.sql_name()
            ))),
        }
    }

    pub fn read_metadata(&self, column: usize, loc: RowLocation) -> SqlResult<OwnedValue> {
        let kind = self.layout.metadata[column].kind;
        let blob = self.open_metadata(column, loc.chunk_id, false)?;
        let range = format::slot_range(kind, loc.offset);
        let mut bytes = [0u8; TEXT_SLOT_BYTES];
        let bytes = &mut bytes[..range.len()];
        blob.read(range.start, bytes)?;
        drop(blob);
        Ok(match format::decode_slot(kind, loc.offset, bytes) {
            MetadataSlot::Integer(i) => OwnedValue::Integer(i),
            MetadataSlot::Float(f) => OwnedValue::Real(f),
            MetadataSlot::Boolean(b) => OwnedValue::Integer(b as i64),
            MetadataSlot::Text(t) => OwnedValue::Text(String::from_utf8_lossy(t).into_owned()),
            MetadataSlot::LongText(len) => OwnedValue::Text(
                String::from_utf8_lossy(&self.read_long_text(column, loc.rowid, len)?).into_owned(),
            ),
        })
    }

    /// The full text of a text metadata value whose slot says it is `len` bytes long.
    pub fn read_long_text(&self, column: usize, rowid: i64, len: usize) -> SqlResult<Vec<u8>> {
        let sql = format!(
            "SELECT data FROM {} WHERE rowid = ?",
            self.t(&Layout::metadata_text(column))
        );
        let suffix = Layout::metadata_text(column);
        let slot_table = self.layout.shadow(&Layout::metadata_chunks(column));
        match self
            .query(&sql, &[SqlValue::Integer(rowid)])?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
        {
            Some(OwnedValue::Text(t)) if t.len() == len => Ok(t.into_bytes()),
            Some(OwnedValue::Text(t)) => Err(self.damaged(
                &suffix,
                format!(
                    "the text of row {rowid} has {} bytes, but its {slot_table} slot says {len}",
                    t.len()
                ),
            )),
            Some(other) => Err(self.damaged(
                &suffix,
                format!(
                    "the text of row {rowid} is {} instead of text",
                    type_name(&other)
                ),
            )),
            None => Err(self.damaged(
                &suffix,
                format!("row {rowid} is missing, but its {slot_table} slot says {len} bytes"),
            )),
        }
    }

    // ---- auxiliary ----------------------------------------------------------------------

    pub fn write_auxiliary(&self, rowid: i64, values: &[OwnedValue]) -> SqlResult<()> {
        let mut params = vec![SqlValue::Integer(rowid)];
        params.extend(values.iter().map(|v| v.as_value()));
        self.execute_named(
            "write_auxiliary",
            values.len(),
            || {
                let cols: Vec<String> = (0..values.len()).map(Layout::auxiliary_column).collect();
                let marks: Vec<&str> = values.iter().map(|_| "?").collect();
                format!(
                    "INSERT OR REPLACE INTO {}(rowid, {}) VALUES (?, {})",
                    self.t("auxiliary"),
                    cols.join(", "),
                    marks.join(", ")
                )
            },
            &params,
        )
    }

    pub fn read_auxiliary(&self, rowid: i64, column: usize) -> SqlResult<OwnedValue> {
        Ok(self
            .query_named(
                "read_auxiliary",
                column,
                || {
                    format!(
                        "SELECT {} FROM {} WHERE rowid = ?",
                        Layout::auxiliary_column(column),
                        self.t("auxiliary")
                    )
                },
                &[SqlValue::Integer(rowid)],
            )?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or(OwnedValue::Null))
    }

    pub fn delete_auxiliary(&self, rowid: i64) -> SqlResult<()> {
        self.execute_named(
            "delete_auxiliary",
            0,
            || format!("DELETE FROM {} WHERE rowid = ?", self.t("auxiliary")),
            &[SqlValue::Integer(rowid)],
        )
    }
}

/// The first clear bit among the first `limit` bits of `bitmap`.
pub fn first_zero_bit(bitmap: &[u8], limit: usize) -> Option<usize> {
    bitmap.iter().enumerate().find_map(|(i, &b)| {
        if b == 0xff {
            return None;
        }
        let bit = (!b).trailing_zeros() as usize;
        let pos = i * 8 + bit;
        (pos < limit).then_some(pos)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_zero_bit_respects_the_limit() {
        assert_eq!(first_zero_bit(&[0xff, 0x01], 16), Some(9));
        assert_eq!(first_zero_bit(&[0xff, 0xff], 16), None);
        assert_eq!(first_zero_bit(&[0x7f], 7), None);
        assert_eq!(first_zero_bit(&[0x00], 8), Some(0));
    }
}
