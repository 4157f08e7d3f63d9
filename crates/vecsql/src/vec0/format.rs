//! The byte formats of the chunk blobs, in one place: the validity bitmap and rowid array of
//! `{t}_chunks`, and the metadata slots of `{t}_metadatachunksNN` (i64 / f64 little-endian, a
//! bitmap for booleans, 16-byte text slots). Every blob read from a file goes through a
//! constructor here that checks its length once; the accessors after it cannot slice out of
//! range. A length that does not match is damage, reported as `SQLITE_CORRUPT_VTAB` naming
//! the shadow table.

use std::fmt;

use super::layout::MetadataKind;

/// Text metadata is stored as a 4-byte length and the first 12 bytes inline; longer values
/// also go to `{t}_metadatatextNN`. Comparisons on the prefix skip most overflow reads.
pub const TEXT_SLOT_BYTES: usize = 16;
pub const TEXT_INLINE_BYTES: usize = 12;

/// Bit `i` of a bitmap (least significant bit first); false past its end.
pub fn bit(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| (b >> (i % 8)) & 1 == 1)
}

/// The i64 at `slot` of a rowid array; 0 past its end (arrays are length-checked on read, see
/// `Storage::chunks`).
pub fn rowid_at(rowids: &[u8], slot: usize) -> i64 {
    rowids
        .get(slot * 8..slot * 8 + 8)
        .map_or(0, |b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
}

/// One decoded metadata slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetadataSlot<'a> {
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// Text of at most [`TEXT_INLINE_BYTES`], whole.
    Text(&'a [u8]),
    /// Longer text: its length; the text is in `{t}_metadatatextNN`.
    LongText(usize),
}

/// Bytes of one metadata slot, and the byte offset of slot `slot` in a chunk blob (a boolean
/// reads the byte holding its bit).
pub fn slot_range(kind: MetadataKind, slot: usize) -> std::ops::Range<usize> {
    match kind {
        MetadataKind::Integer | MetadataKind::Float => slot * 8..slot * 8 + 8,
        MetadataKind::Boolean => slot / 8..slot / 8 + 1,
        MetadataKind::Text => slot * TEXT_SLOT_BYTES..(slot + 1) * TEXT_SLOT_BYTES,
    }
}

/// Decodes slot `slot` from `bytes`, the bytes of [`slot_range`] (not the whole chunk).
pub fn decode_slot(kind: MetadataKind, slot: usize, bytes: &[u8]) -> MetadataSlot<'_> {
    let word = || i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    match kind {
        MetadataKind::Integer => MetadataSlot::Integer(word()),
        MetadataKind::Float => MetadataSlot::Float(f64::from_bits(word() as u64)),
        MetadataKind::Boolean => MetadataSlot::Boolean(bit(bytes, slot % 8)),
        MetadataKind::Text => {
            let len = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
            if len <= TEXT_INLINE_BYTES {
                MetadataSlot::Text(&bytes[4..4 + len])
            } else {
                MetadataSlot::LongText(len)
            }
        }
    }
}

/// The 16-byte slot of text `bytes`.
pub fn encode_text_slot(bytes: &[u8]) -> [u8; TEXT_SLOT_BYTES] {
    let mut slot = [0u8; TEXT_SLOT_BYTES];
    slot[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    let inline = bytes.len().min(TEXT_INLINE_BYTES);
    slot[4..4 + inline].copy_from_slice(&bytes[..inline]);
    slot
}

/// A metadata chunk blob whose length does not match the chunk size: damage, which the caller
/// reports naming the shadow table and chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongLength {
    pub kind: MetadataKind,
    pub found: usize,
    pub expected: usize,
}

impl fmt::Display for WrongLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} metadata blob has {} bytes, {} expected",
            self.kind.sql_name(),
            self.found,
            self.expected
        )
    }
}

/// A whole metadata chunk blob whose length was checked against the chunk size.
pub struct MetadataChunk<'a> {
    kind: MetadataKind,
    data: &'a [u8],
}

impl<'a> MetadataChunk<'a> {
    /// `data` as the metadata chunk of `kind` for `chunk_size` rows.
    pub fn new(
        kind: MetadataKind,
        chunk_size: usize,
        data: &'a [u8],
    ) -> Result<MetadataChunk<'a>, WrongLength> {
        let expected = kind.chunk_bytes(chunk_size);
        if data.len() != expected {
            return Err(WrongLength {
                kind,
                found: data.len(),
                expected,
            });
        }
        Ok(MetadataChunk { kind, data })
    }

    /// `data`, whose length [`MetadataChunk::new`] already accepted for this kind and chunk
    /// size (a caller that keeps checked blobs).
    pub fn checked(kind: MetadataKind, data: &'a [u8]) -> MetadataChunk<'a> {
        MetadataChunk { kind, data }
    }

    /// The chunk's bytes (for an integer chunk, `chunk_size` little-endian `i64`s).
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Slot `slot` of an integer chunk, read directly (filters call this per row).
    #[inline]
    pub fn integer(&self, slot: usize) -> Option<i64> {
        if self.kind != MetadataKind::Integer {
            return None;
        }
        let bytes = self.data.get(slot * 8..slot * 8 + 8)?;
        Some(i64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Slot `slot` (below the chunk size).
    pub fn get(&self, slot: usize) -> MetadataSlot<'a> {
        decode_slot(self.kind, slot, &self.data[slot_range(self.kind, slot)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_slots_round_trip() {
        let slot = encode_text_slot(b"short");
        assert_eq!(
            decode_slot(MetadataKind::Text, 0, &slot),
            MetadataSlot::Text(b"short")
        );
        let slot = encode_text_slot(b"thirteen byte");
        assert_eq!(
            decode_slot(MetadataKind::Text, 0, &slot),
            MetadataSlot::LongText(13)
        );
    }

    #[test]
    fn metadata_chunks_check_their_length_once() {
        assert!(MetadataChunk::new(MetadataKind::Integer, 8, &[0; 63]).is_err());
        assert!(MetadataChunk::new(MetadataKind::Boolean, 8, &[0; 2]).is_err());
        let data = [0b0000_0100u8];
        let chunk = MetadataChunk::new(MetadataKind::Boolean, 8, &data).unwrap();
        assert_eq!(chunk.get(2), MetadataSlot::Boolean(true));
        assert_eq!(chunk.get(3), MetadataSlot::Boolean(false));
    }

    #[test]
    fn rowids_and_bits_stay_in_range() {
        assert_eq!(rowid_at(&7i64.to_le_bytes(), 0), 7);
        assert_eq!(rowid_at(&7i64.to_le_bytes(), 1), 0);
        assert!(bit(&[1], 0));
        assert!(!bit(&[1], 9));
    }
}
