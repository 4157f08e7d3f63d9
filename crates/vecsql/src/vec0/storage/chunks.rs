//! Reading chunks' bookkeeping: the validity bitmaps and rowids a scan walks, each blob checked
//! for its size, and the partition key values of a chunk.

use std::sync::Arc;

use super::{type_name, Storage};
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::format;
use crate::vec0::layout::Layout;
use crate::vec0::query::filter::{self, ColumnFilter, Condition};

/// One chunk's bookkeeping, as read for a scan; [`Storage::chunks`] checked both blobs' sizes.
#[derive(Debug, Clone)]
pub struct ChunkInfo {
    pub chunk_id: i64,
    /// Shared with the chunk cache: cloning a chunk's bookkeeping copies no blob.
    pub validity: Arc<[u8]>,
    pub rowids: Arc<[u8]>,
}

impl ChunkInfo {
    pub fn is_valid(&self, offset: usize) -> bool {
        format::bit(&self.validity, offset)
    }

    pub fn rowid(&self, offset: usize) -> i64 {
        format::rowid_at(&self.rowids, offset)
    }
}

impl Storage {
    /// Chunks whose partition keys pass `partition_filter` (all chunks when empty), in id order.
    pub fn chunks(&self, partition_filter: &[ColumnFilter]) -> Vec0Result<Vec<ChunkInfo>> {
        self.chunks_among(partition_filter, None)
    }

    /// [`Storage::chunks`], restricted to the chunks `only` lists when given.
    pub fn chunks_among(
        &self,
        partition_filter: &[ColumnFilter],
        only: Option<&[i64]>,
    ) -> Vec0Result<Vec<ChunkInfo>> {
        // Metadata blobs read for these chunks come from the same cache: check it once here.
        self.validate_chunk_cache()?;
        if partition_filter.is_empty() {
            let all = self.all_chunks_cached(|| self.read_chunks(&[], None))?;
            return Ok(match only {
                None => all.as_ref().clone(),
                Some(ids) => all
                    .iter()
                    .filter(|c| ids.contains(&c.chunk_id))
                    .cloned()
                    .collect(),
            });
        }
        self.read_chunks(partition_filter, only)
    }

    /// [`Storage::chunks_among`] from the file.
    fn read_chunks(
        &self,
        partition_filter: &[ColumnFilter],
        only: Option<&[i64]>,
    ) -> Vec0Result<Vec<ChunkInfo>> {
        let mut clauses = Vec::new();
        let mut owned = Vec::new();
        for f in partition_filter {
            let column = Layout::partition_column(f.column);
            filter::render_conditions(&column, [&f.condition], &mut clauses, &mut owned);
        }
        if let Some(ids) = only {
            let list = Condition::In(ids.iter().map(|&id| OwnedValue::Integer(id)).collect());
            filter::render_conditions("chunk_id", [&list], &mut clauses, &mut owned);
        }
        let params: Vec<SqlValue<'_>> = owned.iter().map(|v| v.as_value()).collect();
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT chunk_id, validity, rowids FROM {}{where_clause} ORDER BY chunk_id",
            self.t("chunks")
        );
        self.query(&sql, &params)?
            .into_iter()
            .map(|row| {
                let mut it = row.into_iter();
                let chunk_id = self.int(
                    &it.next().unwrap_or(OwnedValue::Null),
                    "chunks",
                    "a chunk_id",
                )?;
                let mut blob = |what: &str, expected: usize| match it.next() {
                    // sqlite-vec's wording for a blob of the wrong size.
                    Some(OwnedValue::Blob(b)) if b.len() != expected => Err(Vec0Error::corrupt(
                        &self.layout.shadow("chunks"),
                        format!(
                            "chunk {what} size doesn't match - expected {expected}, found {} \
                             (chunk {chunk_id} of {})",
                            b.len(),
                            self.layout.shadow("chunks")
                        ),
                    )),
                    Some(OwnedValue::Blob(b)) => Ok(b),
                    other => Err(self.damaged(
                        "chunks",
                        format!(
                            "the {what} of chunk {chunk_id} is {} instead of a blob",
                            type_name(&other.unwrap_or(OwnedValue::Null))
                        ),
                    )),
                };
                Ok(ChunkInfo {
                    chunk_id,
                    validity: blob("validity", self.layout.validity_bytes())?.into(),
                    rowids: blob("rowids", self.layout.chunk_size * 8)?.into(),
                })
            })
            .collect()
    }

    pub fn partition_values(&self, chunk_id: i64) -> Vec0Result<Vec<OwnedValue>> {
        if self.layout.partitions.is_empty() {
            return Ok(Vec::new());
        }
        let cols: Vec<String> = (0..self.layout.partitions.len())
            .map(Layout::partition_column)
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE chunk_id = ?",
            cols.join(", "),
            self.t("chunks")
        );
        let values = self
            .query(&sql, &[SqlValue::Integer(chunk_id)])?
            .into_iter()
            .next()
            .unwrap_or_default();
        // Inserts store only integers or text, as declared.
        for (value, column) in values.iter().zip(&self.layout.partitions) {
            let expected = matches!(
                (value, column.integer),
                (OwnedValue::Integer(_), true) | (OwnedValue::Text(_), false)
            );
            if !expected {
                return Err(self.damaged(
                    "chunks",
                    format!(
                        "partition key {} of chunk {chunk_id} is {}",
                        column.name,
                        type_name(value)
                    ),
                ));
            }
        }
        Ok(values)
    }
}
