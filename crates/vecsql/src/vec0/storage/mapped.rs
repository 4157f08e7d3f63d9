//! Reading the file through a memory map while a walk reads scattered vectors.
//!
//! A vector chunk is one blob of `chunk_size` vectors (1.5 MB at 1,024 x 384 float32), stored
//! as a chain of overflow pages. Reading a vector at an offset means following that chain up to
//! it, one page read each; without a map each is a `read` call, so a walk in the file that
//! touches a few thousand vectors spread over every chunk costs 40-170 ms at 100k rows, almost
//! all of it in those calls. Through a map, following a page is a memory access: the same walk
//! takes 10-20 ms.
//!
//! So while a walk runs, the table's schema is mapped (`PRAGMA mmap_size`) when the connection
//! has no map of its own, and the setting is put back when the walk ends. SQLite applies the
//! setting between page reads, as it does when an application changes it mid-connection. Where
//! the pragma is refused (an authorizer) or mapping is compiled out, the walk reads as before.

use super::Storage;
use crate::ffi::OwnedValue;
use crate::vec0::layout::quote;

/// What a walk asks for: SQLite clamps it to its compiled-in limit (2 GiB by default) and to
/// the file's size.
const WALK_MAP_BYTES: i64 = 1 << 40;

/// The map a walk set up, taken down again when this is dropped.
pub struct MappedReads<'a> {
    storage: &'a Storage,
    /// Whether to put the setting back to 0 (false: the connection's own setting was kept).
    unmap: bool,
}

impl Storage {
    /// The connection's `mmap_size` for this table's schema.
    fn mmap_size(&self, value: Option<i64>) -> Option<i64> {
        let schema = quote(&self.layout.schema);
        let sql = match value {
            Some(v) => format!("PRAGMA {schema}.mmap_size = {v}"),
            None => format!("PRAGMA {schema}.mmap_size"),
        };
        let rows = self.query(&sql, &[]).ok()?;
        match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    /// Maps the table's file for the lifetime of the returned guard, unless the connection
    /// maps it already (then its setting is left alone).
    pub fn map_for_scattered_reads(&self) -> MappedReads<'_> {
        let unmap = self.mmap_size(None) == Some(0)
            && self
                .mmap_size(Some(WALK_MAP_BYTES))
                .is_some_and(|now| now > 0);
        MappedReads {
            storage: self,
            unmap,
        }
    }
}

impl Drop for MappedReads<'_> {
    fn drop(&mut self) {
        if self.unmap {
            // Failing to put it back leaves the connection mapped: slower to close, not wrong.
            let _ = self.storage.mmap_size(Some(0));
        }
    }
}
