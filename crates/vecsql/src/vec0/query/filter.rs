//! Row filters of a KNN query, evaluated chunk by chunk before any vector is read.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::plan::FilterOp;
use crate::ffi::OwnedValue;
use crate::vec0::affinity;
use crate::vec0::error::Vec0Result;
use crate::vec0::format::{MetadataChunk, MetadataSlot};
use crate::vec0::layout::Layout;
use crate::vec0::storage::{ChunkInfo, Storage};

/// A condition on one value.
#[derive(Debug, Clone)]
pub enum Condition {
    Compare(FilterOp, OwnedValue),
    In(Vec<OwnedValue>),
}

/// `conditions` on the SQL column `column`, as WHERE clause terms (`col < ?`, `col IN (?, ?)`) and their parameters, for the filters
/// answered in SQL: partition keys against `{t}_chunks`, text primary keys against `{t}_rowids`.
pub fn render_conditions<'c>(
    column: &str,
    conditions: impl IntoIterator<Item = &'c Condition>,
    clauses: &mut Vec<String>,
    params: &mut Vec<OwnedValue>,
) {
    for condition in conditions {
        match condition {
            Condition::Compare(op, value) => {
                clauses.push(format!("{column} {} ?", op.sql()));
                params.push(value.clone());
            }
            Condition::In(list) => {
                let marks: Vec<&str> = list.iter().map(|_| "?").collect();
                clauses.push(format!("{column} IN ({})", marks.join(", ")));
                params.extend(list.iter().cloned());
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ColumnFilter {
    pub column: usize,
    pub condition: Condition,
}

/// Everything that restricts which rows a KNN query may return.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    /// Applied in SQL to `{t}_chunks`, so other partitions' chunks are never read.
    pub partitions: Vec<ColumnFilter>,
    pub metadata: Vec<ColumnFilter>,
    /// Conditions on the integer rowid, checked against the chunk's rowid array.
    pub rowid: Vec<Condition>,
    /// The only rowids that may be returned: from `rowid IN (...)` lists and text primary
    /// key conditions (resolved once, before the scan).
    pub allowed_rowids: Option<HashSet<i64>>,
}

fn accepts(condition: &Condition, compare: impl Fn(&OwnedValue) -> Option<Ordering>) -> bool {
    match condition {
        Condition::Compare(op, rhs) => compare(rhs).is_some_and(|o| op.accepts(o)),
        Condition::In(list) => list.iter().any(|rhs| compare(rhs) == Some(Ordering::Equal)),
    }
}

/// A stored number against a condition whose values already have the column's affinity.
fn matches_number(value: &OwnedValue, condition: &Condition) -> bool {
    accepts(condition, |rhs| affinity::compare(value, rhs))
}

/// Stored text (bytes, compared as SQLite's BINARY collation does) against a condition.
fn matches_text(value: &[u8], condition: &Condition) -> bool {
    accepts(condition, |rhs| match rhs {
        OwnedValue::Null => None,
        OwnedValue::Integer(_) | OwnedValue::Real(_) => Some(Ordering::Greater),
        OwnedValue::Text(t) => Some(value.cmp(t.as_bytes())),
        OwnedValue::Blob(_) => Some(Ordering::Less),
    })
}

impl RowFilter {
    /// Narrows [`RowFilter::allowed_rowids`] to `ids` (their intersection when already set).
    pub fn allow_only(&mut self, ids: HashSet<i64>) {
        self.allowed_rowids = Some(match self.allowed_rowids.take() {
            Some(before) => before.intersection(&ids).copied().collect(),
            None => ids,
        });
    }

    /// The slots of `chunk` that hold live rows passing every filter, in slot order.
    pub fn candidates(&self, storage: &Storage, chunk: &ChunkInfo) -> Vec0Result<Vec<usize>> {
        let layout = &storage.layout;
        let mut slots: Vec<usize> = (0..layout.chunk_size)
            .filter(|&s| chunk.is_valid(s))
            .filter(|&s| {
                let rowid = chunk.rowid(s);
                self.rowid
                    .iter()
                    .all(|c| matches_number(&OwnedValue::Integer(rowid), c))
                    && self
                        .allowed_rowids
                        .as_ref()
                        .is_none_or(|set| set.contains(&rowid))
            })
            .collect();
        for filter in &self.metadata {
            if slots.is_empty() {
                break;
            }
            let kind = layout.metadata[filter.column].kind;
            let suffix = Layout::metadata_chunks(filter.column);
            let blob = storage.open_blob(&suffix, "data", chunk.chunk_id, false)?;
            let mut data = vec![0u8; blob.len()];
            blob.read(0, &mut data)?;
            drop(blob);
            let data = MetadataChunk::new(kind, layout.chunk_size, &data)
                .map_err(|e| storage.damaged(&suffix, format!("chunk {}: {e}", chunk.chunk_id)))?;
            let mut kept = Vec::with_capacity(slots.len());
            for &s in &slots {
                let pass = match data.get(s) {
                    MetadataSlot::Integer(v) => {
                        matches_number(&OwnedValue::Integer(v), &filter.condition)
                    }
                    MetadataSlot::Float(v) => {
                        matches_number(&OwnedValue::Real(v), &filter.condition)
                    }
                    MetadataSlot::Boolean(v) => {
                        matches_number(&OwnedValue::Integer(v as i64), &filter.condition)
                    }
                    MetadataSlot::Text(t) => matches_text(t, &filter.condition),
                    MetadataSlot::LongText(len) => {
                        let full = storage.read_long_text(filter.column, chunk.rowid(s), len)?;
                        matches_text(&full, &filter.condition)
                    }
                };
                if pass {
                    kept.push(s);
                }
            }
            slots = kept;
        }
        Ok(slots)
    }
}
