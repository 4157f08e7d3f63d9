//! Vector chunks: one row's vector read or written in place, whole chunks read for scans and
//! indexes, and the cache of chunks kept between KNN scans (see the module docs of `storage`
//! for when it is dropped).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use super::versions::ChunkStamp;
use super::{RowLocation, Storage};
use crate::ffi::OwnedValue;
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::layout::{quote, Layout};

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

/// A cached chunk, with what it was read at when the versions table could say (see
/// [`VectorCache::versioned`]).
struct Entry {
    chunk: Arc<AlignedChunk>,
    stamp: Option<ChunkStamp>,
}

#[derive(Default)]
pub struct VectorCache {
    /// `PRAGMA data_version` when the entries were last checked; None when empty.
    data_version: Option<i64>,
    /// Whether `{t}_chunk_versions` existed when the entries were read, so that they carry
    /// stamps and can be checked one by one after another connection's commit. Entries read
    /// without it are all dropped by the next such commit.
    versioned: bool,
    chunks: HashMap<(usize, i64), Entry>,
    bytes: usize,
}

impl VectorCache {
    pub(super) fn clear(&mut self) {
        self.chunks.clear();
        self.bytes = 0;
        self.data_version = None;
        self.versioned = false;
    }

    /// Keeps the entries `keep` accepts.
    fn retain(&mut self, mut keep: impl FnMut(i64, &Entry) -> bool) {
        let mut bytes = 0;
        self.chunks.retain(|&(_, chunk_id), e| {
            let kept = keep(chunk_id, e);
            if kept {
                bytes += e.chunk.len;
            }
            kept
        });
        self.bytes = bytes;
    }
}

thread_local! {
    /// Vector chunks read from SQLite into the cache on this thread (for tests).
    static CHUNK_READS: Cell<u64> = const { Cell::new(0) };
}

/// How many vector chunks KNN scans on this thread have read from SQLite into a cache: tests
/// check with it that a commit by another connection costs the chunks it touched.
#[doc(hidden)]
pub fn vector_chunk_reads() -> u64 {
    CHUNK_READS.with(|c| c.get())
}

impl Storage {
    pub fn write_vector(&self, column: usize, loc: RowLocation, bytes: &[u8]) -> Vec0Result<()> {
        self.touch_chunk(loc.chunk_id)?;
        let vb = self.layout.vectors[column].vector_bytes();
        let suffix = Layout::vector_chunks(column);
        let mut blob = self.open_blob(&suffix, "vectors", loc.chunk_id, true)?;
        let expected = self.layout.chunk_size * vb;
        if blob.len() != expected {
            return Err(Vec0Error::corrupt(
                &self.layout.shadow(&suffix),
                format!(
                "Internal sqlite-vec error: vector blob size mismatch on {}. Expected {expected}, \
                 actual {}",
                self.blob_label(&suffix, loc.chunk_id),
                blob.len()
            ),
            ));
        }
        Ok(blob.write(loc.offset * vb, bytes)?)
    }

    pub(super) fn forget_chunk(&self, chunk_id: i64) {
        let mut cache = self.vector_cache.borrow_mut();
        for column in 0..self.layout.vectors.len() {
            if let Some(entry) = cache.chunks.remove(&(column, chunk_id)) {
                cache.bytes -= entry.chunk.len;
            }
        }
    }

    /// Drops what the vector cache holds of chunks that another connection or process
    /// changed since they were read: nothing when `PRAGMA data_version` has not moved, else
    /// the chunks whose version or validity bitmap differs now (one query over `{t}_chunks`).
    ///
    /// Everything goes instead when the versions cannot vouch for the entries:
    /// - `{t}_chunk_versions` is missing (a file only sqlite-vec or an older vecsql wrote), or
    ///   was missing when the entries were read (it may have been created since, after a
    ///   writer without it changed any chunk);
    /// - an entry's version is unchanged but its validity bitmap is not: a writer that does
    ///   not keep versions inserted or deleted rows, and may have changed other chunks too.
    ///
    /// Such a writer's in-place UPDATE of a vector, with no insert or delete in the same
    /// chunk, changes neither and goes unseen while the cache holds the chunk; see
    /// ARCHITECTURE.md ("Chunk versions") for why that is accepted.
    pub fn validate_vector_cache(&self) -> Vec0Result<()> {
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
        let (was, versioned, empty) = {
            let cache = self.vector_cache.borrow();
            (cache.data_version, cache.versioned, cache.chunks.is_empty())
        };
        if was == version {
            return Ok(());
        }
        let checked = self.recheck_entries(versioned && !empty && was.is_some());
        let mut cache = self.vector_cache.borrow_mut();
        match checked {
            Ok((present, stamps)) => {
                match stamps {
                    Some(stamps) => {
                        let foreign = cache.chunks.iter().any(|(&(_, id), e)| {
                            matches!((&e.stamp, stamps.get(&id)), (Some(a), Some(b))
                                if a.version == b.version && a.validity != b.validity)
                        });
                        if foreign {
                            cache.clear();
                        } else {
                            cache.retain(|id, e| {
                                e.stamp.is_some() && e.stamp.as_ref() == stamps.get(&id)
                            });
                        }
                    }
                    None => cache.clear(),
                }
                cache.data_version = version;
                cache.versioned = present;
                Ok(())
            }
            Err(e) => {
                // Unchecked entries must not survive under the new data_version.
                cache.clear();
                Err(e)
            }
        }
    }

    /// Whether the versions table is there, and when `per_chunk` and it is, every chunk's
    /// stamp.
    #[allow(clippy::type_complexity)]
    fn recheck_entries(
        &self,
        per_chunk: bool,
    ) -> Vec0Result<(bool, Option<HashMap<i64, ChunkStamp>>)> {
        let present = self.versions_table_present()?;
        let stamps = if present && per_chunk {
            Some(self.chunk_stamps()?)
        } else {
            None
        };
        Ok((present, stamps))
    }

    /// The whole vector blob of `chunk_id` for `column`, from the cache when present.
    /// Call [`Storage::validate_vector_cache`] once before a scan.
    pub fn vector_chunk(&self, column: usize, chunk_id: i64) -> Vec0Result<Arc<AlignedChunk>> {
        if let Some(hit) = self.vector_cache.borrow().chunks.get(&(column, chunk_id)) {
            return Ok(hit.chunk.clone());
        }
        let expected = self.layout.chunk_size * self.layout.vectors[column].vector_bytes();
        let versioned = self.vector_cache.borrow().versioned;
        // Read in the same transaction as the vectors, so the two agree.
        let stamp = if versioned {
            self.chunk_stamp(chunk_id)?
        } else {
            None
        };
        let mut chunk = AlignedChunk::zeroed(expected);
        self.read_vector_chunk_into(column, chunk_id, chunk.bytes_mut())?;
        CHUNK_READS.with(|c| c.set(c.get() + 1));
        let chunk = Arc::new(chunk);
        let mut cache = self.vector_cache.borrow_mut();
        let keep = !versioned || stamp.is_some();
        if keep && cache.bytes + expected <= VECTOR_CACHE_BUDGET {
            cache.bytes += expected;
            cache.chunks.insert(
                (column, chunk_id),
                Entry {
                    chunk: chunk.clone(),
                    stamp,
                },
            );
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
    ) -> Vec0Result<()> {
        let blob = self.open_blob(&Layout::vector_chunks(column), "vectors", chunk_id, false)?;
        if blob.len() != out.len() {
            // sqlite-vec's wording, then which chunk.
            return Err(Vec0Error::corrupt(
                &self.layout.shadow(&Layout::vector_chunks(column)),
                format!(
                    "vectors blob size doesn't match - expected {}, found {} (chunk {chunk_id} of \
                 column \"{}\" in vec0 table {}, {})",
                    out.len(),
                    blob.len(),
                    self.layout.vectors[column].name,
                    self.layout.table,
                    self.layout.shadow(&Layout::vector_chunks(column)),
                ),
            ));
        }
        Ok(blob.read(0, out)?)
    }

    pub fn read_vector_chunk(&self, column: usize, chunk_id: i64) -> Vec0Result<Vec<u8>> {
        let mut out = vec![0; self.layout.chunk_size * self.layout.vectors[column].vector_bytes()];
        self.read_vector_chunk_into(column, chunk_id, &mut out)?;
        Ok(out)
    }

    pub fn read_vector(&self, column: usize, loc: RowLocation) -> Vec0Result<Vec<u8>> {
        let vb = self.layout.vectors[column].vector_bytes();
        // A chunk an exact scan left in the cache: a copy, instead of a blob read that follows
        // the chunk's overflow pages up to the slot (about 0.1 ms deep in a 1024-row chunk).
        let key = (column, loc.chunk_id);
        if self.vector_cache.borrow().chunks.contains_key(&key) {
            self.validate_vector_cache()?;
            if let Some(hit) = self.vector_cache.borrow().chunks.get(&key) {
                if let Some(v) = hit
                    .chunk
                    .bytes()
                    .get(loc.offset * vb..(loc.offset + 1) * vb)
                {
                    return Ok(v.to_vec());
                }
            }
        }
        let blob = self.open_vectors(column, loc.chunk_id, false)?;
        let mut out = vec![0u8; vb];
        blob.read(loc.offset * vb, &mut out)?;
        Ok(out)
    }
}
