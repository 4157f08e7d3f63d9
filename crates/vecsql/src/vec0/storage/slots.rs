//! Giving a new row a slot and taking it back: the chunk a run of inserts fills, the free list
//! `{t}_free` (created for files sqlite-vec wrote), new chunks, and erasing a freed slot or a
//! chunk left empty.

use super::{RowLocation, Storage};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::reword;
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::format::TEXT_SLOT_BYTES;
use crate::vec0::layout::{quote, Layout, MetadataKind};

/// See [`Storage::open_chunk`].
pub(super) struct OpenChunk {
    partition: Vec<OwnedValue>,
    chunk_id: i64,
    validity: Vec<u8>,
}

impl Storage {
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
    pub fn allocate_slot(&self, partition: &[OwnedValue]) -> Vec0Result<(i64, usize)> {
        match self.find_free_slot(partition)? {
            Some(slot) => Ok(slot),
            None => Ok((self.new_chunk(partition)?, 0)),
        }
    }

    /// The lowest free slot of an existing chunk of `partition`, if any; writes nothing
    /// (except dropping a full chunk found in the free list by mistake).
    pub fn find_free_slot(&self, partition: &[OwnedValue]) -> Vec0Result<Option<(i64, usize)>> {
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

    pub fn new_chunk(&self, partition: &[OwnedValue]) -> Vec0Result<i64> {
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
    fn ensure_free_table(&self) -> Vec0Result<()> {
        if self.free_table_ready.get() {
            return Ok(());
        }
        self.ensure_free_table_uncached()?;
        self.free_table_ready.set(true);
        Ok(())
    }

    fn ensure_free_table_uncached(&self) -> Vec0Result<()> {
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
    pub fn set_slot(&self, chunk_id: i64, offset: usize, rowid: Option<i64>) -> Vec0Result<()> {
        // A delete from a table sqlite-vec wrote reaches here before any insert made the list.
        self.ensure_free_table()?;
        self.touch_chunk(chunk_id)?;
        let insert = rowid.is_some();
        let mut validity_blob = self.open_chunk_blob("validity", chunk_id, insert)?;
        let (byte, bit) = (offset / 8, offset % 8);
        if !insert {
            let label = self.blob_label("chunks", chunk_id);
            let expected = self.layout.validity_bytes();
            let actual = validity_blob.len();
            if actual <= byte {
                return Err(Vec0Error::corrupt(
                    &self.layout.shadow("chunks"),
                    format!(
                    "could not read validity blob for {label} at {byte}: the blob has {actual} \
                     bytes, {expected} expected"
                ),
                ));
            }
            if actual != expected {
                return Err(Vec0Error::corrupt(
                    &self.layout.shadow("chunks"),
                    format!(
                        "validity blob size mismatch on {label}, expected {expected} but received \
                     {actual}."
                    ),
                ));
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
                return Err(Vec0Error::corrupt(
                    &self.layout.shadow("chunks"),
                    format!(
                        "vec0 deletion error: validity bit is not set for {} at {byte}",
                        self.blob_label("chunks", chunk_id)
                    ),
                ));
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
    pub fn release_slot(&self, loc: RowLocation) -> Vec0Result<()> {
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
    fn erase_slot(&self, chunk_id: i64, offset: usize) -> Vec0Result<()> {
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
    fn delete_chunk(&self, chunk_id: i64) -> Vec0Result<()> {
        self.drop_chunk_version(chunk_id)?;
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
