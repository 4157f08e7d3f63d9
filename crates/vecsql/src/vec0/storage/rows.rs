//! `{t}_rowids`: where each row lives and its text key. Every location read is checked against
//! the chunk it names, so a damaged `{t}_rowids` cannot send a read or a write to another row.

use std::collections::{HashMap, HashSet};

use super::chunks::ChunkInfo;
use super::{type_name, Storage};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::reword;
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::format;
use crate::vec0::query::filter::{self, Condition};

/// Rows [`Storage::check_chunk_rows`] looks up with one statement.
const LOCATE_BATCH: usize = 16;

/// Where a row lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLocation {
    pub rowid: i64,
    pub chunk_id: i64,
    pub offset: usize,
}

impl Storage {
    /// Where row `rowid` lives, after checking that its chunk has it there (a live slot
    /// holding this rowid): a damaged `{t}_rowids` must not send a read or a write to another
    /// row's slot.
    pub fn locate(&self, rowid: i64) -> Vec0Result<Option<RowLocation>> {
        let Some(loc) = self.locate_unchecked(rowid)? else {
            return Ok(None);
        };
        self.check_slot(loc)?;
        Ok(Some(loc))
    }

    /// The location `{t}_rowids` gives, within a chunk's bounds but not checked against it.
    pub fn locate_unchecked(&self, rowid: i64) -> Vec0Result<Option<RowLocation>> {
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
    ) -> Vec0Result<RowLocation> {
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
    fn check_slot(&self, loc: RowLocation) -> Vec0Result<()> {
        let RowLocation {
            rowid,
            chunk_id,
            offset,
        } = loc;
        let label = self.blob_label("chunks", chunk_id);
        let missing_chunk = |column: &str, e: Vec0Error| {
            let no_row = matches!(&e, Vec0Error::Corrupt { message, .. }
                if message.contains("no such rowid"));
            if no_row {
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

    /// Calls `f` with each row of `{t}_rowids` and the slot it names: `None` where that is not
    /// a slot (damage, reported when the row is looked up).
    pub fn for_each_location(
        &self,
        mut f: impl FnMut(i64, Option<(i64, usize)>),
    ) -> Vec0Result<()> {
        let chunk_size = self.layout.chunk_size as i64;
        self.for_each_row(
            &format!(
                "SELECT rowid, chunk_id, chunk_offset FROM {}",
                self.t("rowids")
            ),
            &[],
            |row| {
                // The rowid column is the INTEGER PRIMARY KEY.
                if let SqlValue::Integer(rowid) = row.column(0) {
                    f(
                        rowid,
                        match (row.column(1), row.column(2)) {
                            (SqlValue::Integer(c), SqlValue::Integer(o))
                                if (0..chunk_size).contains(&o) =>
                            {
                                Some((c, o as usize))
                            }
                            _ => None,
                        },
                    );
                }
                Ok(())
            },
        )
    }

    /// Fails unless `{t}_rowids` puts row `loc.rowid`, found in a chunk, at `loc` (a KNN result
    /// or a row `optimize` moves).
    pub fn check_chunk_row(&self, loc: RowLocation) -> Vec0Result<()> {
        let found = self.locate_unchecked(loc.rowid)?;
        self.chunk_row_agrees(loc, found)
    }

    /// [`check_chunk_row`](Self::check_chunk_row) for each of `locs` (a query's results), up
    /// to [`LOCATE_BATCH`] rows to a statement rather than a statement per row.
    pub fn check_chunk_rows(&self, locs: &[RowLocation]) -> Vec0Result<()> {
        for group in locs.chunks(LOCATE_BATCH) {
            let mut params = [SqlValue::Null; LOCATE_BATCH];
            for (p, l) in params.iter_mut().zip(group) {
                *p = SqlValue::Integer(l.rowid);
            }
            let rows = self.query_named(
                "locate_many",
                0,
                || {
                    let marks: Vec<String> = (1..=LOCATE_BATCH).map(|i| format!("?{i}")).collect();
                    format!(
                        "SELECT rowid, chunk_id, chunk_offset FROM {} WHERE rowid IN ({})",
                        self.t("rowids"),
                        marks.join(", ")
                    )
                },
                &params,
            )?;
            let mut found = Vec::with_capacity(rows.len());
            for row in &rows {
                let rowid = self.int(&row[0], "rowids", "a rowid")?;
                found.push(self.location_of(rowid, &row[1], &row[2])?);
            }
            for &loc in group {
                let at = found.iter().find(|l| l.rowid == loc.rowid).copied();
                self.chunk_row_agrees(loc, at)?;
            }
        }
        Ok(())
    }

    /// The error for a row found in a chunk at `loc` that `{t}_rowids` puts at `found`.
    fn chunk_row_agrees(&self, loc: RowLocation, found: Option<RowLocation>) -> Vec0Result<()> {
        match found {
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
    pub fn rowid_for_text_key(&self, id: &[u8]) -> Vec0Result<Option<i64>> {
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
    pub fn rowids_with_text_key(&self, conditions: &[Condition]) -> Vec0Result<HashSet<i64>> {
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

    pub fn text_key(&self, rowid: i64) -> Vec0Result<OwnedValue> {
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
    ) -> Vec0Result<i64> {
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

    pub fn set_location(&self, loc: RowLocation) -> Vec0Result<()> {
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

    pub fn delete_rowid(&self, rowid: i64) -> Vec0Result<()> {
        self.execute_named(
            "delete_rowid",
            0,
            || format!("DELETE FROM {} WHERE rowid = ?", self.t("rowids")),
            &[SqlValue::Integer(rowid)],
        )
    }

    /// Every row's location in ascending rowid order, for full scans, checked against the
    /// chunks: each row in a live slot holding its rowid, and no live slot without a row.
    pub fn scan_locations(&self) -> Vec0Result<Vec<RowLocation>> {
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
}
