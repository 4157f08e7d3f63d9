//! Chunks' bookkeeping (validity bitmaps, rowids) and metadata column blobs, kept between KNN
//! queries so that a filtered query evaluates its filters in memory instead of reading every
//! chunk's blobs again (at 100k rows that re-reading cost more than the filtered walk itself).
//!
//! Only a copy of the file, dropped whenever it could be stale: before and after every write
//! through this table, and not used during one (a write may read chunks, change them and read
//! them again); after any rollback; and when `PRAGMA data_version` says another connection or
//! process committed since it was filled.

use std::collections::HashMap;
use std::sync::Arc;

use super::{ChunkInfo, Storage};
use crate::vec0::error::Vec0Result;

#[derive(Default)]
pub struct ChunkCache {
    /// Set while a write through the table runs: it may read chunks, change them and read
    /// them again (`optimize` moves rows between chunks), so nothing is kept or served.
    writing: bool,
    /// `PRAGMA data_version` when the entries were read; None when empty.
    data_version: Option<i64>,
    /// Every chunk, in id order, when read unfiltered.
    chunks: Option<Arc<Vec<ChunkInfo>>>,
    /// Metadata column blobs by (metadata column, chunk id).
    metadata: HashMap<(usize, i64), Arc<[u8]>>,
}

impl ChunkCache {
    pub(super) fn clear(&mut self) {
        *self = ChunkCache {
            writing: self.writing,
            ..ChunkCache::default()
        };
    }
}

impl Storage {
    /// Drops the chunk cache (see the module docs for when).
    pub fn forget_chunk_cache(&self) {
        self.chunk_cache.borrow_mut().clear();
    }

    /// A write through the table starts: the chunk cache is dropped and bypassed until
    /// [`Storage::end_write`] (a write that panicked, so never reached it, leaves the cache
    /// bypassed: slow, not wrong).
    pub fn begin_write(&self) {
        let mut cache = self.chunk_cache.borrow_mut();
        cache.clear();
        cache.writing = true;
    }

    /// The write is over: what it may have made stale is dropped.
    pub fn end_write(&self) {
        let mut cache = self.chunk_cache.borrow_mut();
        cache.writing = false;
        cache.clear();
    }

    /// Drops the chunk cache if another connection or process committed since it was filled.
    pub(super) fn validate_chunk_cache(&self) -> Vec0Result<()> {
        let version = self.data_version()?;
        let mut cache = self.chunk_cache.borrow_mut();
        if cache.data_version != version {
            cache.clear();
            cache.data_version = version;
        }
        Ok(())
    }

    /// Every chunk's bookkeeping in id order, from the cache (validated by the caller).
    pub(super) fn all_chunks_cached(
        &self,
        read: impl FnOnce() -> Vec0Result<Vec<ChunkInfo>>,
    ) -> Vec0Result<Arc<Vec<ChunkInfo>>> {
        if self.chunk_cache.borrow().writing {
            return Ok(Arc::new(read()?));
        }
        if let Some(hit) = &self.chunk_cache.borrow().chunks {
            return Ok(hit.clone());
        }
        let chunks = Arc::new(read()?);
        self.chunk_cache.borrow_mut().chunks = Some(chunks.clone());
        Ok(chunks)
    }

    /// The blob of metadata column `column` for `chunk_id`, from the cache. Only for chunks
    /// that [`Storage::chunks_among`] returned in the same query, which validated the cache.
    pub fn metadata_blob_cached(
        &self,
        column: usize,
        chunk_id: i64,
        read: impl FnOnce() -> Vec0Result<Vec<u8>>,
    ) -> Vec0Result<Arc<[u8]>> {
        if self.chunk_cache.borrow().writing {
            return Ok(read()?.into());
        }
        if let Some(hit) = self.chunk_cache.borrow().metadata.get(&(column, chunk_id)) {
            return Ok(hit.clone());
        }
        let blob: Arc<[u8]> = read()?.into();
        self.chunk_cache
            .borrow_mut()
            .metadata
            .insert((column, chunk_id), blob.clone());
        Ok(blob)
    }
}
