//! Row filters of a KNN query, evaluated chunk by chunk before any vector is read.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use super::plan::FilterOp;
use crate::ffi::OwnedValue;
use crate::vec0::affinity;
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::format::{MetadataChunk, MetadataSlot};
use crate::vec0::index::RowTest;
use crate::vec0::layout::{Layout, MetadataKind};
use crate::vec0::storage::{ChunkInfo, RowLocation, Storage};

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
    /// No condition at all: every row may be returned.
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
            && self.metadata.is_empty()
            && self.rowid.is_empty()
            && self.allowed_rowids.is_none()
    }

    /// Narrows [`RowFilter::allowed_rowids`] to `ids` (their intersection when already set).
    pub fn allow_only(&mut self, ids: HashSet<i64>) {
        self.allowed_rowids = Some(match self.allowed_rowids.take() {
            Some(before) => before.intersection(&ids).copied().collect(),
            None => ids,
        });
    }

    /// The slots of `chunk` that hold live rows passing every filter, in slot order.
    ///
    /// This runs over every row of the table for each filtered query, so the common shapes
    /// (no rowid condition; an integer column against integers) take loops that decode
    /// nothing they do not need; the general comparison is the same as theirs.
    pub fn candidates(&self, storage: &Storage, chunk: &ChunkInfo) -> Vec0Result<Vec<usize>> {
        let layout = &storage.layout;
        let mut slots = Vec::with_capacity(layout.chunk_size);
        let any_row = self.rowid.is_empty() && self.allowed_rowids.is_none();
        // The common shape, an integer column against integers and no rowid condition, is
        // decided 64 slots at a time together with the validity bits: a filter that passes
        // 0.1% of 100k rows spent 70% of its query pushing every live slot and then
        // removing most of them.
        if let (true, Some(first)) = (any_row, self.metadata.first()) {
            let kind = layout.metadata[first.column].kind;
            if let Some(test) = IntegerTest::new(kind, &first.condition) {
                let blob = metadata_blob(storage, first.column, chunk.chunk_id)?;
                let data = metadata_chunk(storage, first.column, chunk.chunk_id, &blob)?;
                test.live_slots(&chunk.validity, data.bytes(), layout.chunk_size, &mut slots);
                return self.narrow(storage, chunk, &self.metadata[1..], slots);
            }
        }
        for (i, &byte) in chunk.validity.iter().enumerate() {
            let mut bits = byte;
            while bits != 0 {
                let s = i * 8 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if s >= layout.chunk_size {
                    break;
                }
                if any_row || self.rowid_passes(chunk.rowid(s)) {
                    slots.push(s);
                }
            }
        }
        self.narrow(storage, chunk, &self.metadata, slots)
    }

    /// `slots` of `chunk` less those that fail one of `metadata`.
    fn narrow(
        &self,
        storage: &Storage,
        chunk: &ChunkInfo,
        metadata: &[ColumnFilter],
        mut slots: Vec<usize>,
    ) -> Vec0Result<Vec<usize>> {
        let layout = &storage.layout;
        for filter in metadata {
            if slots.is_empty() {
                break;
            }
            let kind = layout.metadata[filter.column].kind;
            let blob = metadata_blob(storage, filter.column, chunk.chunk_id)?;
            let data = metadata_chunk(storage, filter.column, chunk.chunk_id, &blob)?;
            if let Some(test) = IntegerTest::new(kind, &filter.condition) {
                slots.retain(|&s| data.integer(s).is_some_and(|v| test.passes(v)));
                continue;
            }
            let mut failed = None;
            slots.retain(|&s| {
                slot_passes(storage, filter, &data, s, chunk.rowid(s)).unwrap_or_else(|e| {
                    failed.get_or_insert(e);
                    false
                })
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(slots)
    }

    fn rowid_passes(&self, rowid: i64) -> bool {
        self.rowid
            .iter()
            .all(|c| matches_number(&OwnedValue::Integer(rowid), c))
            && self
                .allowed_rowids
                .as_ref()
                .is_none_or(|set| set.contains(&rowid))
    }
}

/// The blob of metadata column `column` for chunk `chunk_id`, through the chunk cache.
fn metadata_blob(storage: &Storage, column: usize, chunk_id: i64) -> Vec0Result<Arc<[u8]>> {
    storage.metadata_blob_cached(column, chunk_id, || {
        let suffix = Layout::metadata_chunks(column);
        let blob = storage.open_blob(&suffix, "data", chunk_id, false)?;
        let mut data = vec![0u8; blob.len()];
        blob.read(0, &mut data)?;
        Ok(data)
    })
}

/// `blob` read as the chunk of metadata column `column`; a wrong length is damage, named.
fn metadata_chunk<'a>(
    storage: &Storage,
    column: usize,
    chunk_id: i64,
    blob: &'a [u8],
) -> Vec0Result<MetadataChunk<'a>> {
    let layout = &storage.layout;
    MetadataChunk::new(layout.metadata[column].kind, layout.chunk_size, blob).map_err(|e| {
        storage.damaged(
            &Layout::metadata_chunks(column),
            format!("chunk {chunk_id}: {e}"),
        )
    })
}

/// Whether slot `slot` (of the row `rowid`) of a metadata chunk passes `filter`.
fn slot_passes(
    storage: &Storage,
    filter: &ColumnFilter,
    data: &MetadataChunk<'_>,
    slot: usize,
    rowid: i64,
) -> Vec0Result<bool> {
    Ok(match data.get(slot) {
        MetadataSlot::Integer(v) => matches_number(&OwnedValue::Integer(v), &filter.condition),
        MetadataSlot::Float(v) => matches_number(&OwnedValue::Real(v), &filter.condition),
        MetadataSlot::Boolean(v) => {
            matches_number(&OwnedValue::Integer(v as i64), &filter.condition)
        }
        MetadataSlot::Text(t) => matches_text(t, &filter.condition),
        MetadataSlot::LongText(len) => {
            let full = storage.read_long_text(filter.column, rowid, len)?;
            matches_text(&full, &filter.condition)
        }
    })
}

/// A [`RowFilter`] decided one row at a time, for a graph walk that meets a few thousand rows
/// of a large table: deciding all of them first would cost more than the walk. The same tests
/// as [`RowFilter::candidates`] on the same (cached) blobs; partition filters are not taken
/// (their chunks are chosen in SQL before any row is seen).
pub struct RowMatcher<'a> {
    filter: &'a RowFilter,
    storage: &'a Storage,
    columns: Vec<ColumnMatcher<'a>>,
    /// The first error met (a damaged blob): the walk's predicate can only say no, so the
    /// error is kept for [`RowMatcher::finish`].
    failed: RefCell<Option<Vec0Error>>,
}

/// Chunks whose metadata blob a [`ColumnMatcher`] keeps at hand, by chunk id modulo this.
const RECENT_CHUNKS: usize = 256;

/// A chunk id and its metadata blob, whose length was checked.
type KeptBlob = (i64, Arc<[u8]>);

/// One metadata condition of a [`RowMatcher`]. A filtered walk tests thousands of rows per
/// query, so each test must be a few loads: the chunk's blob comes from a small table of its
/// own, already checked for length, rather than through the connection's chunk cache (a
/// hash map behind a `RefCell`, and a reference count per row).
struct ColumnMatcher<'a> {
    filter: &'a ColumnFilter,
    kind: MetadataKind,
    integer: Option<IntegerTest>,
    recent: RefCell<Vec<Option<KeptBlob>>>,
}

impl<'a> ColumnMatcher<'a> {
    fn new(storage: &Storage, filter: &'a ColumnFilter) -> ColumnMatcher<'a> {
        let kind = storage.layout.metadata[filter.column].kind;
        let integer = IntegerTest::new(kind, &filter.condition);
        ColumnMatcher {
            filter,
            kind,
            integer,
            recent: RefCell::new(vec![None; RECENT_CHUNKS]),
        }
    }

    fn passes(&self, storage: &Storage, loc: &RowLocation) -> Vec0Result<bool> {
        let at = loc.chunk_id.rem_euclid(RECENT_CHUNKS as i64) as usize;
        let mut recent = self.recent.borrow_mut();
        let blob = match &recent[at] {
            Some((id, blob)) if *id == loc.chunk_id => blob,
            _ => {
                let blob = metadata_blob(storage, self.filter.column, loc.chunk_id)?;
                metadata_chunk(storage, self.filter.column, loc.chunk_id, &blob)?;
                &recent[at].insert((loc.chunk_id, blob)).1
            }
        };
        let data = MetadataChunk::checked(self.kind, blob);
        if let Some(test) = &self.integer {
            return Ok(data.integer(loc.offset).is_some_and(|v| test.passes(v)));
        }
        slot_passes(storage, self.filter, &data, loc.offset, loc.rowid)
    }
}

impl RowTest for RowMatcher<'_> {
    fn accepts(&self, loc: &RowLocation) -> bool {
        self.try_accepts(loc).unwrap_or_else(|e| {
            self.failed.borrow_mut().get_or_insert(e);
            false
        })
    }
}

impl<'a> RowMatcher<'a> {
    pub fn new(filter: &'a RowFilter, storage: &'a Storage) -> RowMatcher<'a> {
        debug_assert!(filter.partitions.is_empty());
        RowMatcher {
            filter,
            storage,
            columns: filter
                .metadata
                .iter()
                .map(|f| ColumnMatcher::new(storage, f))
                .collect(),
            failed: Default::default(),
        }
    }

    fn try_accepts(&self, loc: &RowLocation) -> Vec0Result<bool> {
        if !self.filter.rowid_passes(loc.rowid) {
            return Ok(false);
        }
        for column in &self.columns {
            if !column.passes(self.storage, loc)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The error a row met during the walk, if any.
    pub fn finish(self) -> Vec0Result<()> {
        match self.failed.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// For an integer column tested against integers only, the test on the stored `i64` itself
/// (what [`matches_number`] decides for those values, without building `OwnedValue`s): the
/// comparisons as an inclusive range, so that a loop over a chunk's values compiles to
/// branch-free compares.
enum IntegerTest {
    Range(i64, i64),
    Not(i64),
    In(Vec<i64>),
}

impl IntegerTest {
    fn new(kind: MetadataKind, condition: &Condition) -> Option<IntegerTest> {
        if kind != MetadataKind::Integer {
            return None;
        }
        let int = |v: &OwnedValue| match v {
            OwnedValue::Integer(i) => Some(*i),
            _ => None,
        };
        // Bounds that exclude every value: `< i64::MIN`, `> i64::MAX`.
        const NONE: IntegerTest = IntegerTest::Range(1, 0);
        Some(match condition {
            Condition::Compare(op, rhs) => {
                let x = int(rhs)?;
                match op {
                    FilterOp::Eq => IntegerTest::Range(x, x),
                    FilterOp::Ne => IntegerTest::Not(x),
                    FilterOp::Lt => x
                        .checked_sub(1)
                        .map_or(NONE, |hi| IntegerTest::Range(i64::MIN, hi)),
                    FilterOp::Le => IntegerTest::Range(i64::MIN, x),
                    FilterOp::Gt => x
                        .checked_add(1)
                        .map_or(NONE, |lo| IntegerTest::Range(lo, i64::MAX)),
                    FilterOp::Ge => IntegerTest::Range(x, i64::MAX),
                }
            }
            Condition::In(list) => IntegerTest::In(list.iter().map(int).collect::<Option<_>>()?),
        })
    }

    #[inline]
    fn passes(&self, v: i64) -> bool {
        match self {
            IntegerTest::Range(lo, hi) => *lo <= v && v <= *hi,
            IntegerTest::Not(x) => v != *x,
            IntegerTest::In(list) => list.contains(&v),
        }
    }

    /// Appends the live slots of a chunk (`validity`, `chunk_size` slots) whose value in
    /// `values` (the chunk's integers, 8 bytes each) passes.
    fn live_slots(
        &self,
        validity: &[u8],
        values: &[u8],
        chunk_size: usize,
        slots: &mut Vec<usize>,
    ) {
        match self {
            IntegerTest::Range(lo, hi) => {
                let (lo, hi) = (*lo, *hi);
                live_passing(validity, values, chunk_size, slots, |v| {
                    (lo <= v) & (v <= hi)
                })
            }
            IntegerTest::Not(x) => {
                let x = *x;
                live_passing(validity, values, chunk_size, slots, |v| v != x)
            }
            IntegerTest::In(list) => {
                live_passing(validity, values, chunk_size, slots, |v| list.contains(&v))
            }
        }
    }
}

/// Eight bytes of 0 or 1 (the first in the low byte) as eight bits (the first in bit 0).
#[inline(always)]
fn pack_flags(x: u64) -> u64 {
    // Each byte's bit lands in the top byte, shifted by its place: byte i moves up by 56 - 7i.
    x.wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// [`IntegerTest::live_slots`] for one test, 64 slots (a word of validity bits) at a time.
#[inline(always)]
fn live_passing(
    validity: &[u8],
    values: &[u8],
    chunk_size: usize,
    slots: &mut Vec<usize>,
    pass: impl Fn(i64) -> bool,
) {
    for start in (0..chunk_size).step_by(64) {
        let end = (start + 64).min(chunk_size);
        let mut live = 0u64;
        let bytes = validity.get(start / 8..end.div_ceil(8)).unwrap_or(&[]);
        for (j, &b) in bytes.iter().enumerate() {
            live |= (b as u64) << (8 * j);
        }
        if end - start < 64 {
            live &= (1u64 << (end - start)) - 1;
        }
        if live == 0 {
            continue;
        }
        // One byte per slot first, which compiles to vector compares, then packed to bits.
        let mut flags = [0u8; 64];
        let words = values.get(start * 8..end * 8).unwrap_or(&[]);
        for (f, v) in flags.iter_mut().zip(words.chunks_exact(8)) {
            *f = pass(i64::from_le_bytes(v.try_into().expect("8 bytes"))) as u8;
        }
        let mut passing = 0u64;
        for (j, eight) in flags.chunks_exact(8).enumerate() {
            passing |=
                pack_flags(u64::from_le_bytes(eight.try_into().expect("8 bytes"))) << (8 * j);
        }
        let mut bits = live & passing;
        while bits != 0 {
            slots.push(start + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_flags_puts_each_byte_in_its_bit() {
        for bits in 0u32..256 {
            let bytes: Vec<u8> = (0..8).map(|i| ((bits >> i) & 1) as u8).collect();
            let x = u64::from_le_bytes(bytes.try_into().unwrap());
            assert_eq!(pack_flags(x), bits as u64, "{bits:08b}");
        }
    }
}
