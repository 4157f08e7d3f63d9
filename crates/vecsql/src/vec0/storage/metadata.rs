//! Metadata columns: one slot per row in `{t}_metadatachunksNN` (see `format` for the slot
//! layouts), and `{t}_metadatatextNN` for texts longer than a slot holds.

use super::{type_name, RowLocation, Storage};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::format::{self, MetadataSlot, TEXT_INLINE_BYTES, TEXT_SLOT_BYTES};
use crate::vec0::layout::{Layout, MetadataKind};

impl Storage {
    pub fn write_metadata(
        &self,
        column: usize,
        loc: RowLocation,
        value: &OwnedValue,
    ) -> Vec0Result<()> {
        let kind = self.layout.metadata[column].kind;
        let mut blob = self.open_metadata(column, loc.chunk_id, true)?;
        match (kind, value) {
            (MetadataKind::Integer, OwnedValue::Integer(i)) => {
                Ok(blob.write(loc.offset * 8, &i.to_le_bytes())?)
            }
            (MetadataKind::Float, OwnedValue::Real(f)) => {
                Ok(blob.write(loc.offset * 8, &f.to_le_bytes())?)
            }
            (MetadataKind::Boolean, OwnedValue::Integer(b)) => {
                let mut byte = [0u8];
                blob.read(loc.offset / 8, &mut byte)?;
                if *b != 0 {
                    byte[0] |= 1 << (loc.offset % 8);
                } else {
                    byte[0] &= !(1 << (loc.offset % 8));
                }
                Ok(blob.write(loc.offset / 8, &byte)?)
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
            (kind, value) => Err(Vec0Error::internal(format!(
                "metadata value {value:?} was not converted to {}",
                kind.sql_name()
            ))),
        }
    }

    pub fn read_metadata(&self, column: usize, loc: RowLocation) -> Vec0Result<OwnedValue> {
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
    pub fn read_long_text(&self, column: usize, rowid: i64, len: usize) -> Vec0Result<Vec<u8>> {
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
}
