//! Rows the open transaction inserted (or gave a new vector) that the graph does not link yet.
//!
//! Why: linking is what an insert into an indexed table costs (a walk and a few neighbour
//! rewrites per row, on one thread). Rows written in one transaction are recorded here and
//! linked together when it commits (`xSync`), by the same code a load uses for rows its graph
//! lacks: one by one when they are few, with [`Hnsw::connect_batch`] on every core from
//! [`BATCH_BUILD_ROWS`] rows. A bulk load in one transaction is then a parallel build.
//!
//! Reads inside the transaction still see those rows: a KNN walk of this connection's graph is
//! merged with the exact distances of the pending rows ([`PendingRows::score`]): the pending
//! rows are found exactly, the others as the walk finds them.
//!
//! Determinism. What is linked, and in which order (the order of the writes), depends only on
//! the transaction's write statements: queries never link, and the commit links everything
//! left. A row deleted before the commit is dropped from the list; a row moved or rewritten is
//! linked where it ended up. So the stored graph is a function of the committed statements.
//!
//! Rollbacks. Every change to the list is logged, and `xRollbackTo` undoes those made since
//! the savepoint began, so a rolled-back insert or vector update leaves no trace in the graph.
//! (SQLite tells a table that joins a transaction inside savepoints none of their levels, and
//! rolls back to the outermost with level -1: both mean "since the table joined".) A statement
//! that fails may have recorded rows SQLite then undid, and tables cannot be read at that
//! moment: the list is marked unverified and checked against `{t}_rowids` on its next use
//! ([`PendingRows::verify`]), and so is it after every rollback to a savepoint. A whole
//! transaction's rollback empties the list.
//!
//! [`Hnsw::connect_batch`]: vecsql_core::hnsw::Hnsw::connect_batch
//! [`BATCH_BUILD_ROWS`]: super::hnsw::BATCH_BUILD_ROWS

use std::collections::HashMap;

use vecsql_core::distance::Metric;

use super::RowTest;
use crate::vec0::error::Vec0Result;
use crate::vec0::layout::VectorColumn;
use crate::vec0::query::scan::{chunk_distances, Neighbour, Query};
use crate::vec0::storage::{AlignedChunk, RowLocation, Storage};

/// From this many pending rows in one chunk, scoring reads the whole chunk instead of each
/// vector (a vector read deep in a chunk follows its overflow pages up to the slot).
const WHOLE_CHUNK_ROWS: usize = 16;

#[derive(Default)]
pub struct PendingRows {
    /// In the order of the writes; `None` where a row was deleted since.
    rows: Vec<Option<RowLocation>>,
    /// Where each pending rowid sits in `rows`.
    at: HashMap<i64, usize>,
    /// A rollback may have undone some of the writes recorded.
    unverified: bool,
    /// The length of `undo` when each open savepoint began, by SQLite's level (0, 1, ...).
    savepoints: Vec<usize>,
    /// How to undo each change to the list, oldest first.
    undo: Vec<Undo>,
}

/// The reverse of one change to the list.
enum Undo {
    /// A row was appended: pop it.
    Appended,
    /// The entry at this position held this (a row moved, or was forgotten).
    Restore(usize, RowLocation),
}

impl PendingRows {
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    pub fn contains(&self, rowid: i64) -> bool {
        self.at.contains_key(&rowid)
    }

    /// How many pending rows `f` holds for.
    pub fn count_where(&self, f: impl Fn(i64) -> bool) -> usize {
        self.at.keys().filter(|&&rowid| f(rowid)).count()
    }

    /// Records a row written at `loc`; a row already pending keeps its place and takes the new
    /// location.
    pub fn record(&mut self, loc: RowLocation) {
        let undo = match self.at.get(&loc.rowid) {
            Some(&i) => {
                let old = self.rows[i].replace(loc);
                Undo::Restore(i, old.expect("a pending row has a location"))
            }
            None => {
                self.at.insert(loc.rowid, self.rows.len());
                self.rows.push(Some(loc));
                Undo::Appended
            }
        };
        self.log(undo);
    }

    /// Forgets a row (deleted before it was linked); false if it was not pending.
    pub fn forget(&mut self, rowid: i64) -> bool {
        match self.at.remove(&rowid) {
            Some(i) => {
                let old = self.rows[i].take().expect("a pending row has a location");
                self.log(Undo::Restore(i, old));
                true
            }
            None => false,
        }
    }

    fn log(&mut self, undo: Undo) {
        self.undo.push(undo);
    }

    /// Empties the list (the rows are linked, or will never be); open savepoints stay open.
    pub fn clear(&mut self) {
        let open = self.savepoints.len();
        *self = PendingRows::default();
        // Changes before this point cannot be undone into the list any more: a rollback to
        // one of these savepoints finds nothing logged before it.
        self.savepoints = vec![0; open];
    }

    /// `xBegin`: a transaction starts with nothing pending.
    pub fn begin(&mut self) {
        *self = PendingRows::default();
    }

    /// `xSavepoint(level)`: savepoint `level` begins. Savepoints below it that this table was
    /// not told of were open before it joined the transaction: they began before anything
    /// logged.
    pub fn savepoint(&mut self, level: i32) {
        let level = usize::try_from(level).unwrap_or(0);
        self.savepoints.truncate(level);
        self.savepoints.resize(level, 0);
        self.savepoints.push(self.undo.len());
    }

    /// `xRelease(level)`: savepoints from `level` on end, their changes kept.
    pub fn release(&mut self, level: i32) {
        self.savepoints
            .truncate(usize::try_from(level).unwrap_or(0));
    }

    /// `xRollbackTo(level)`: undoes the changes since savepoint `level` began (which stays
    /// open). Level -1, and a level this table was not told of (open before it joined),
    /// began before anything logged. The list is also checked on next use: the rollback may
    /// restore rows a [`verify`](Self::verify) had dropped as undone by a failed statement.
    pub fn rollback_to(&mut self, level: i32) {
        let mark = match usize::try_from(level) {
            Ok(level) if level < self.savepoints.len() => {
                self.savepoints.truncate(level + 1);
                self.savepoints[level]
            }
            _ => 0,
        };
        while self.undo.len() > mark {
            match self.undo.pop().expect("longer than the mark") {
                Undo::Appended => {
                    if let Some(Some(loc)) = self.rows.pop() {
                        self.at.remove(&loc.rowid);
                    }
                }
                Undo::Restore(i, loc) => {
                    if let Some(Some(now)) = self.rows.get(i) {
                        self.at.remove(&now.rowid);
                    }
                    self.rows[i] = Some(loc);
                    self.at.insert(loc.rowid, i);
                }
            }
        }
        self.mark_unverified();
    }

    /// A savepoint or a statement was rolled back: check the rows before the next use.
    pub fn mark_unverified(&mut self) {
        self.unverified |= !self.is_empty();
    }

    /// Drops the rows whose write was rolled back (or that live elsewhere now).
    pub fn verify(&mut self, storage: &Storage) -> Vec0Result<()> {
        if !std::mem::take(&mut self.unverified) {
            return Ok(());
        }
        let rows: Vec<RowLocation> = self.rows.iter().flatten().copied().collect();
        for loc in rows {
            if storage.locate(loc.rowid)? != Some(loc) {
                self.forget(loc.rowid);
            }
        }
        Ok(())
    }

    /// The rows to link, in the order they were written, emptying the list.
    pub fn take(&mut self) -> Vec<RowLocation> {
        let rows = std::mem::take(&mut self.rows);
        self.clear();
        rows.into_iter().flatten().collect()
    }

    /// Exact distances from `query` to the pending rows that `accept` lets through.
    pub fn score(
        &self,
        storage: &Storage,
        column: usize,
        vector: &VectorColumn,
        query: &Query,
        accept: Option<&dyn RowTest>,
    ) -> Vec0Result<Vec<Neighbour>> {
        let rows: Vec<RowLocation> = self
            .rows
            .iter()
            .flatten()
            .filter(|loc| accept.is_none_or(|a| a.accepts(loc)))
            .copied()
            .collect();
        let metric: Metric = vector.metric;
        let vb = vector.vector_bytes();
        let mut out = Vec::with_capacity(rows.len());
        for_each_vector(storage, column, vb, &rows, |loc, bytes| {
            chunk_distances(query, metric, vb, bytes, &[0], |_, distance| {
                out.push(Neighbour {
                    location: loc,
                    distance,
                    confirmed: false,
                })
            })
        })?;
        Ok(out)
    }
}

/// Calls `f` with each row's vector bytes (in the column's element type), reading a chunk
/// once where it holds many of the rows. The order is by chunk, not that of `rows`.
pub fn for_each_vector(
    storage: &Storage,
    column: usize,
    vector_bytes: usize,
    rows: &[RowLocation],
    mut f: impl FnMut(RowLocation, &[u8]) -> Vec0Result<()>,
) -> Vec0Result<()> {
    let mut by_chunk: HashMap<i64, Vec<RowLocation>> = HashMap::new();
    for loc in rows {
        by_chunk.entry(loc.chunk_id).or_default().push(*loc);
    }
    let mut chunks: Vec<_> = by_chunk.into_iter().collect();
    chunks.sort_unstable_by_key(|(chunk_id, _)| *chunk_id);
    let mut buf: Option<AlignedChunk> = None;
    for (chunk_id, locs) in chunks {
        if locs.len() >= WHOLE_CHUNK_ROWS {
            let buf = buf.get_or_insert_with(|| {
                AlignedChunk::zeroed(storage.layout.chunk_size * vector_bytes)
            });
            storage.read_vector_chunk_into(column, chunk_id, buf.bytes_mut())?;
            for loc in locs {
                let at = loc.offset * vector_bytes;
                f(loc, &buf.bytes()[at..at + vector_bytes])?;
            }
        } else {
            for loc in locs {
                let mut one = AlignedChunk::zeroed(vector_bytes);
                one.bytes_mut()
                    .copy_from_slice(&storage.read_vector(column, loc)?);
                f(loc, one.bytes())?;
            }
        }
    }
    Ok(())
}
