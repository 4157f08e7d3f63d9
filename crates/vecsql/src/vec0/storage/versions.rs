//! Chunk versions (`{t}_chunk_versions`): a counter per chunk that every write to the chunk's
//! vectors, validity bitmap or rowids moves on, in the writer's own transaction. They let a
//! connection whose cached chunks are stale after another connection's commit drop only the
//! chunks that commit touched (see [`Storage::validate_vector_cache`]).
//!
//! The counter moves once per write transaction and chunk, not once per row: readers only
//! ever compare committed states, and two committed states of a chunk are separated by at
//! least one transaction that bumped it. A rollback (of the transaction, a savepoint or a
//! failed statement) forgets which chunks were bumped, since it may have undone the bump.
//!
//! Tables written by sqlite-vec or an older vecsql have no such table until a vecsql writer
//! creates it; chunks nobody bumped since then read as version 0.

use std::collections::HashMap;

use super::Storage;
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::Vec0Result;
use crate::vec0::shadow;

/// What a cached chunk was read at: its version and its validity bitmap. The bitmap is there
/// for writers that do not know the versions (sqlite-vec, older vecsql): their inserts and
/// deletes change it without moving the version, which gives them away.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) struct ChunkStamp {
    pub version: i64,
    pub validity: Box<[u8]>,
}

impl Storage {
    /// Whether this connection's writes keep `{t}_chunk_versions` up to date: it exists (it
    /// is created on first use), unless a table of that name with other columns is in the way.
    fn ensure_versions_table(&self) -> Vec0Result<bool> {
        if let Some(ready) = self.versions_ready.get() {
            return Ok(ready);
        }
        let ready = if shadow::has_versions_table(&self.conn, &self.layout)? {
            true
        } else if self
            .query(
                &format!(
                    "SELECT 1 FROM {}.sqlite_master WHERE name = ?",
                    crate::vec0::layout::quote(&self.layout.schema)
                ),
                &[SqlValue::Text(
                    self.layout.shadow("chunk_versions").as_bytes(),
                )],
            )?
            .is_empty()
        {
            // A new cache id too: copies shared under an older one (`vectors.rs`) may be of a
            // table of the same name dropped since.
            self.conn.execute_batch(&format!(
                "{}; {}",
                shadow::versions_table_sql(&self.layout),
                shadow::new_cache_id_sql(&self.layout)
            ))?;
            true
        } else {
            false
        };
        self.versions_ready.set(Some(ready));
        Ok(ready)
    }

    /// Records that this transaction changes `chunk_id` (its vectors, validity or rowids) and
    /// drops this connection's cached copy of it. Call before the change.
    pub(super) fn touch_chunk(&self, chunk_id: i64) -> Vec0Result<()> {
        self.forget_chunk(chunk_id);
        if self.bumped.borrow().contains(&chunk_id) || !self.ensure_versions_table()? {
            return Ok(());
        }
        self.execute_named(
            "bump_version",
            0,
            || {
                format!(
                    "INSERT INTO {}(chunk_id, version) VALUES (?1, 1) \
                     ON CONFLICT(chunk_id) DO UPDATE SET version = version + 1",
                    self.t("chunk_versions")
                )
            },
            &[SqlValue::Integer(chunk_id)],
        )?;
        self.bumped.borrow_mut().insert(chunk_id);
        Ok(())
    }

    /// Removes the version of a deleted chunk (its id is never reused: `{t}_chunks` is
    /// AUTOINCREMENT, and readers drop cached chunks that are no longer listed).
    pub(super) fn drop_chunk_version(&self, chunk_id: i64) -> Vec0Result<()> {
        self.forget_chunk(chunk_id);
        if !self.ensure_versions_table()? {
            return Ok(());
        }
        self.execute_named(
            "drop_version",
            0,
            || {
                format!(
                    "DELETE FROM {} WHERE chunk_id = ?",
                    self.t("chunk_versions")
                )
            },
            &[SqlValue::Integer(chunk_id)],
        )?;
        self.bumped.borrow_mut().remove(&chunk_id);
        Ok(())
    }

    /// Whether `{t}_chunk_versions` is there for readers to trust (checked afresh: another
    /// connection may have created it).
    pub(super) fn versions_table_present(&self) -> Vec0Result<bool> {
        shadow::has_versions_table(&self.conn, &self.layout)
    }

    /// The table's `VECSQL_CACHE_ID` (see `vectors.rs`), if it has one.
    pub(super) fn cache_id(&self) -> Vec0Result<Option<i64>> {
        let rows = self.query_named(
            "cache_id",
            0,
            || {
                format!(
                    "SELECT value FROM {} WHERE key = 'VECSQL_CACHE_ID'",
                    self.t("info")
                )
            },
            &[],
        )?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Integer(id)) => Some(*id),
            _ => None,
        })
    }

    fn stamp_of(&self, validity: OwnedValue, version: OwnedValue) -> Option<ChunkStamp> {
        let OwnedValue::Blob(validity) = validity else {
            return None;
        };
        let version = match version {
            OwnedValue::Integer(v) => v,
            OwnedValue::Null => 0,
            _ => return None,
        };
        Some(ChunkStamp {
            version,
            validity: validity.into_boxed_slice(),
        })
    }

    /// Every chunk's stamp (one query over `{t}_chunks`, reading no rowids blob). Call only
    /// when [`Storage::versions_table_present`].
    pub(super) fn chunk_stamps(&self) -> Vec0Result<HashMap<i64, ChunkStamp>> {
        let rows = self.query_named(
            "chunk_stamps",
            0,
            || {
                format!(
                    "SELECT c.chunk_id, c.validity, v.version FROM {} c \
                     LEFT JOIN {} v ON v.chunk_id = c.chunk_id",
                    self.t("chunks"),
                    self.t("chunk_versions")
                )
            },
            &[],
        )?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let mut it = row.into_iter();
            let (Some(OwnedValue::Integer(id)), Some(validity), Some(version)) =
                (it.next(), it.next(), it.next())
            else {
                continue;
            };
            if let Some(stamp) = self.stamp_of(validity, version) {
                out.insert(id, stamp);
            }
        }
        Ok(out)
    }

    /// One chunk's stamp; None when the chunk is not listed. Call only when
    /// [`Storage::versions_table_present`].
    pub(super) fn chunk_stamp(&self, chunk_id: i64) -> Vec0Result<Option<ChunkStamp>> {
        let rows = self.query_named(
            "chunk_stamp",
            0,
            || {
                format!(
                    "SELECT c.validity, v.version FROM {} c \
                     LEFT JOIN {} v ON v.chunk_id = c.chunk_id WHERE c.chunk_id = ?",
                    self.t("chunks"),
                    self.t("chunk_versions")
                )
            },
            &[SqlValue::Integer(chunk_id)],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let mut it = row.into_iter();
        Ok(match (it.next(), it.next()) {
            (Some(validity), Some(version)) => self.stamp_of(validity, version),
            _ => None,
        })
    }
}
