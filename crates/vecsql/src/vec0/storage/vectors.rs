//! Vector chunks: one row's vector read or written in place, whole chunks read for scans and
//! indexes, and the cache of chunks kept between KNN scans (see the module docs of `storage`
//! for when it is dropped).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::versions::ChunkStamp;
use super::{RowLocation, Storage};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::layout::Layout;

use crate::settings::vector_cache_budget;
pub use crate::settings::VECTOR_CACHE_BUDGET;

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
    /// The key of this table's chunks in [`SHARED`], when they may be shared: the entries are
    /// versioned and the table has a cache id.
    shared: Option<Arc<SharedKey>>,
    chunks: HashMap<(usize, i64), Entry>,
    bytes: usize,
}

impl VectorCache {
    pub(super) fn clear(&mut self) {
        self.chunks.clear();
        self.bytes = 0;
        self.data_version = None;
        self.versioned = false;
        self.shared = None;
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
    /// Vector chunks taken from another connection's cache on this thread (for tests).
    static CHUNK_ADOPTIONS: Cell<u64> = const { Cell::new(0) };
}

/// How many vector chunks KNN scans on this thread have read from SQLite into a cache: tests
/// check with it that a commit by another connection costs the chunks it touched.
#[doc(hidden)]
pub fn vector_chunk_reads() -> u64 {
    CHUNK_READS.with(|c| c.get())
}

/// How many vector chunks connections on this thread took from [`SHARED`] instead of reading.
#[doc(hidden)]
pub fn vector_chunk_adoptions() -> u64 {
    CHUNK_ADOPTIONS.with(|c| c.get())
}

/// Whose chunks a shared copy is: the database file, the table, its chunk size and vector
/// columns as declared, and the table's cache id (`VECSQL_CACHE_ID` in `{t}_info`, drawn
/// when the table or its `{t}_chunk_versions` is created). The id tells apart a table dropped
/// and created again, whose chunk ids and versions start over (sqlite-vec's DROP TABLE leaves
/// `{t}_chunk_versions` behind, but its CREATE writes a new `{t}_info` without an id).
type SharedKey = (String, String, String, i64);

/// A chunk some connection of the process read, at the stamp it was read at. Weak: a copy
/// lives as long as some connection's cache holds it, so memory is one copy per chunk
/// whatever the number of connections.
struct Published {
    stamp: ChunkStamp,
    chunk: Weak<AlignedChunk>,
}

/// Published chunks per table, keyed by (vector column, chunk id).
type SharedTable = HashMap<(usize, i64), Published>;

/// The vector chunks shared by the connections of this process, as the HNSW index shares
/// its copies (`index/hnsw.rs`, "One copy per process"). Only committed states go in: a
/// connection never publishes a chunk its open write transaction changed (it publishes it
/// at commit, [`Storage::committed`]). A copy is taken only at the exact stamp the taker reads
/// in its own transaction; a stamp names one committed state of a chunk, since committed
/// versions only ever increase.
static SHARED: OnceLock<Mutex<HashMap<Arc<SharedKey>, SharedTable>>> = OnceLock::new();

/// Tables whose published chunks are all gone are dropped once the map holds this many.
const DEAD_TABLES_KEPT: usize = 64;

fn shared<R>(f: impl FnOnce(&mut HashMap<Arc<SharedKey>, SharedTable>) -> R) -> R {
    let mut map = SHARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    f(&mut map)
}

fn adopt(
    key: &Arc<SharedKey>,
    slot: (usize, i64),
    stamp: &ChunkStamp,
) -> Option<Arc<AlignedChunk>> {
    shared(|m| {
        let p = m.get(key)?.get(&slot)?;
        if p.stamp == *stamp {
            p.chunk.upgrade()
        } else {
            None
        }
    })
}

fn publish(
    key: &Arc<SharedKey>,
    slot: (usize, i64),
    stamp: &ChunkStamp,
    chunk: &Arc<AlignedChunk>,
) {
    shared(|m| {
        if m.len() >= DEAD_TABLES_KEPT && !m.contains_key(key) {
            m.retain(|_, t| t.values().any(|p| p.chunk.strong_count() > 0));
        }
        let table = m.entry(Arc::clone(key)).or_default();
        // Dead copies go when the table's map doubles, so it stays within twice the chunks
        // that are alive.
        if table.len() >= 64 && table.len().is_power_of_two() {
            table.retain(|_, p| p.chunk.strong_count() > 0);
        }
        // A connection reading an older snapshot does not replace a newer copy.
        let newer = table
            .get(&slot)
            .is_some_and(|p| p.chunk.strong_count() > 0 && p.stamp.version > stamp.version);
        if !newer {
            table.insert(
                slot,
                Published {
                    stamp: stamp.clone(),
                    chunk: Arc::downgrade(chunk),
                },
            );
        }
    })
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
        let version = self.data_version()?;
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
            Ok((present, stamps, key)) => {
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
                cache.shared = key;
                Ok(())
            }
            Err(e) => {
                // Unchecked entries must not survive under the new data_version.
                cache.clear();
                Err(e)
            }
        }
    }

    /// Whether the versions table is there; when `per_chunk` and it is, every chunk's
    /// stamp; and when it is, the key of the table's shared chunks, if they can be shared.
    #[allow(clippy::type_complexity)]
    fn recheck_entries(
        &self,
        per_chunk: bool,
    ) -> Vec0Result<(
        bool,
        Option<HashMap<i64, ChunkStamp>>,
        Option<Arc<SharedKey>>,
    )> {
        let present = self.versions_table_present()?;
        if !present {
            return Ok((false, None, None));
        }
        let stamps = if per_chunk {
            Some(self.chunk_stamps()?)
        } else {
            None
        };
        Ok((present, stamps, self.shared_key()?))
    }

    /// See [`SharedKey`]; None for a database without a file (`:memory:`, temporary) or a
    /// table without a cache id.
    fn shared_key(&self) -> Vec0Result<Option<Arc<SharedKey>>> {
        let Some(id) = self.cache_id()? else {
            return Ok(None);
        };
        let rows = self.query_named(
            "database_file",
            0,
            || "SELECT file FROM pragma_database_list WHERE name = ?".to_string(),
            &[SqlValue::Text(self.layout.schema.as_bytes())],
        )?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(OwnedValue::Text(file)) if !file.is_empty() => Some(Arc::new((
                file.clone(),
                self.layout.table.clone(),
                format!("{} {:?}", self.layout.chunk_size, self.layout.vectors),
                id,
            ))),
            _ => None,
        })
    }

    /// The whole vector blob of `chunk_id` for `column`, from the cache when present.
    /// Call [`Storage::validate_vector_cache`] once before a scan.
    pub fn vector_chunk(&self, column: usize, chunk_id: i64) -> Vec0Result<Arc<AlignedChunk>> {
        if let Some(hit) = self.vector_cache.borrow().chunks.get(&(column, chunk_id)) {
            return Ok(hit.chunk.clone());
        }
        let expected = self.layout.chunk_size * self.layout.vectors[column].vector_bytes();
        let (versioned, key) = {
            let cache = self.vector_cache.borrow();
            (cache.versioned, cache.shared.clone())
        };
        // Read in the same transaction as the vectors, so the two agree.
        let stamp = if versioned {
            self.chunk_stamp(chunk_id)?
        } else {
            None
        };
        // A chunk this transaction changed is neither taken from others nor offered to them.
        let share = match (&key, &stamp) {
            (Some(key), Some(stamp)) if !self.bumped.borrow().contains(&chunk_id) => {
                Some((key, stamp))
            }
            _ => None,
        };
        let adopted = share.and_then(|(key, stamp)| adopt(key, (column, chunk_id), stamp));
        let chunk = match adopted {
            Some(chunk) => {
                CHUNK_ADOPTIONS.with(|c| c.set(c.get() + 1));
                chunk
            }
            None => {
                let mut chunk = AlignedChunk::zeroed(expected);
                self.read_vector_chunk_into(column, chunk_id, chunk.bytes_mut())?;
                CHUNK_READS.with(|c| c.set(c.get() + 1));
                let chunk = Arc::new(chunk);
                if let Some((key, stamp)) = share {
                    publish(key, (column, chunk_id), stamp, &chunk);
                }
                chunk
            }
        };
        let mut cache = self.vector_cache.borrow_mut();
        let keep = !versioned || stamp.is_some();
        if keep && cache.bytes + expected <= vector_cache_budget() {
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

    /// After this connection's write transaction committed: offers the chunks it changed and
    /// read since (so cached at their committed state) to the other connections.
    pub(super) fn publish_committed(&self, bumped: &std::collections::HashSet<i64>) {
        let cache = self.vector_cache.borrow();
        let Some(key) = &cache.shared else {
            return;
        };
        for (&(column, chunk_id), e) in &cache.chunks {
            if let (true, Some(stamp)) = (bumped.contains(&chunk_id), &e.stamp) {
                publish(key, (column, chunk_id), stamp, &e.chunk);
            }
        }
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
