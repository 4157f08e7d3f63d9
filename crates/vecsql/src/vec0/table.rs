//! The `vec0` module: [`Vec0Table`] answers SQLite's virtual-table callbacks by combining the
//! layout, storage, planner and KNN search of this folder.

use std::collections::HashSet;

use rusqlite::ffi;

use super::affinity::Affinity;
use super::filter::{ColumnFilter, Condition, RowFilter};
use super::index::hnsw::{Accept, HnswIndex};
use super::index::Knob;
use super::knn::KnnSearch;
use super::layout::{ColumnRole, Layout};
use super::plan::{self, PlanArg, QueryPlan};
use super::schema::parse_definition;
use super::shadow;
use super::storage::{RowLocation, Storage};
use super::values::{self, Purpose};
use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::Connection;
use crate::ffi::index_info::IndexInfo;
use crate::ffi::vtab::{
    Change, ColumnContext, CreateArgs, FilterArg, ModuleKind, VTab, VTabCursor,
};
use crate::ffi::{OwnedValue, SqlArg, SqlOutput, SqlValue};

/// What `run_command` lists after an unknown command.
const COMMANDS: &str = "vecsql's commands are 'optimize', 'rebuild-index', and for tables \
                        with an ANN index 'search_list_size=N', 'search_list_size_search=N', \
                        'search_list_size_insert=N' and 'oversample=N'";

/// sqlite-vec's bound on k: results are held in memory and sorted.
pub const MAX_K: i64 = 4096;

pub struct Vec0Table {
    storage: Storage,
    /// The ANN indexes of `indexed by` vector columns.
    indexes: Vec<HnswIndex>,
}

fn unique_violation(layout: &Layout) -> SqlError {
    SqlError::with_code(
        ffi::SQLITE_CONSTRAINT,
        format!("UNIQUE constraint failed on {} primary key", layout.table),
    )
}

impl VTab for Vec0Table {
    type Aux = ();
    type Cursor = Vec0Cursor;
    const KIND: ModuleKind = ModuleKind::Regular;

    fn connect(
        conn: &Connection,
        _: &(),
        args: &CreateArgs,
        create: bool,
    ) -> SqlResult<(String, Self)> {
        let def = parse_definition(&args.args).map_err(|e| SqlError::new(e.to_string()))?;
        super::index::check_definition(&def, &args.args).map_err(SqlError::new)?;
        let layout = Layout::new(&args.schema, &args.table, &def).map_err(SqlError::new)?;
        if create {
            shadow::create(conn, &layout)?;
        }
        conn.enable_constraint_support();
        let declaration = layout.declaration();
        let indexes = layout
            .vectors
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.index
                    .clone()
                    .map(|config| HnswIndex::new(i, v.clone(), config))
            })
            .collect();
        let storage = Storage::new(*conn, layout);
        if !create {
            check_format(&storage)?;
        }
        Ok((declaration, Vec0Table { storage, indexes }))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        let plan = plan::best_index(&self.storage.layout, info)?;
        info.set_idx_str(&plan.to_string());
        Ok(())
    }

    fn open(&self) -> SqlResult<Vec0Cursor> {
        Ok(Vec0Cursor {
            rows: Vec::new(),
            position: 0,
            k: None,
        })
    }

    fn destroy(&mut self) -> SqlResult<()> {
        self.storage.clear_statements();
        shadow::drop_all(&self.storage.conn, &self.storage.layout)
    }

    fn rename(&mut self, new_name: &str) -> SqlResult<()> {
        self.storage.clear_statements();
        shadow::rename(&self.storage.conn, &self.storage.layout, new_name)?;
        self.storage.layout.table = new_name.to_string();
        Ok(())
    }

    fn is_shadow_name(suffix: &str) -> bool {
        shadow::is_shadow_suffix(suffix)
    }

    fn begin(&mut self) -> SqlResult<()> {
        self.storage.forget_open_chunk();
        Ok(())
    }

    fn commit(&mut self) -> SqlResult<()> {
        for index in &self.indexes {
            index.committed();
        }
        Ok(())
    }

    fn rollback(&mut self) -> SqlResult<()> {
        self.after_rollback();
        for index in &self.indexes {
            index.rolled_back();
        }
        Ok(())
    }

    fn rollback_to(&mut self, _level: i32) -> SqlResult<()> {
        self.after_rollback();
        Ok(())
    }

    fn update(&mut self, change: &Change<'_>) -> SqlResult<Option<i64>> {
        let result = self.apply(change);
        if result.is_err() {
            // SQLite undoes the failed statement's writes; forget what memory saw of them.
            self.after_rollback();
        }
        result
    }
}

impl Vec0Table {
    fn apply(&mut self, change: &Change<'_>) -> SqlResult<Option<i64>> {
        match (&change.old_rowid, &change.new_rowid) {
            (Some(old), None) => {
                let rowid = self.resolve_key(old)?;
                if let Some(rowid) = rowid {
                    self.delete_row(rowid)?;
                }
                Ok(None)
            }
            (None, Some(new_rowid)) => {
                let command = change
                    .values
                    .get(self.layout().command_column())
                    .map(|v| v.value.value);
                match command {
                    Some(SqlValue::Null) | None => self.insert(change, *new_rowid),
                    Some(command) => {
                        self.run_command(&command)?;
                        Ok(None)
                    }
                }
            }
            (Some(old), Some(_)) => {
                let rowid = self
                    .resolve_key(old)?
                    .ok_or_else(|| SqlError::internal("UPDATE of a row that does not exist"))?;
                self.update_row(rowid, change)?;
                Ok(None)
            }
            (None, None) => Err(SqlError::internal("xUpdate without rowids")),
        }
    }
}

/// Refuses tables written by a newer vecsql whose format this build cannot read.
fn check_format(storage: &Storage) -> SqlResult<()> {
    let rows = storage.query(
        &format!(
            "SELECT value FROM {} WHERE key = 'VECSQL_FORMAT'",
            storage.layout.qualified("info")
        ),
        &[],
    )?;
    if let Some(OwnedValue::Integer(v)) = rows.first().and_then(|r| r.first()) {
        if *v > shadow::FORMAT_VERSION {
            return Err(SqlError::new(format!(
                "vec0 table {} uses vecsql format {v}, newer than this build reads ({}); upgrade vecsql",
                storage.layout.table,
                shadow::FORMAT_VERSION
            )));
        }
    }
    Ok(())
}

impl Vec0Table {
    fn layout(&self) -> &Layout {
        &self.storage.layout
    }

    fn after_rollback(&self) {
        self.storage.after_rollback();
        for index in &self.indexes {
            index.invalidate();
        }
    }

    fn index_of(&self, vector_column: usize) -> Option<&HnswIndex> {
        self.indexes.iter().find(|i| i.column == vector_column)
    }

    /// Links a row just written at `loc` into every index.
    fn index_insert(&self, loc: RowLocation, row: &PreparedRow) -> SqlResult<()> {
        for index in &self.indexes {
            index.insert(&self.storage, loc, &row.vectors[index.column])?;
        }
        Ok(())
    }

    fn index_remove(&self, rowid: i64) -> SqlResult<()> {
        for index in &self.indexes {
            index.remove(&self.storage, rowid)?;
        }
        Ok(())
    }

    /// After a row moved to `loc`: relinks the indexes of the vector columns in `changed`
    /// and records the move in the others.
    fn index_moved(&self, loc: RowLocation, row: &PreparedRow, changed: &[bool]) -> SqlResult<()> {
        for index in &self.indexes {
            if changed.get(index.column).copied().unwrap_or(true) {
                index.insert(&self.storage, loc, &row.vectors[index.column])?;
            } else {
                index.relocate(&self.storage, loc)?;
            }
        }
        Ok(())
    }

    /// The internal rowid of the row with key `key` (rowid or primary key value).
    fn resolve_key(&self, key: &SqlValue<'_>) -> SqlResult<Option<i64>> {
        match key {
            SqlValue::Integer(i) if !self.layout().text_primary_key() => {
                Ok(self.storage.locate(*i)?.map(|l| l.rowid))
            }
            SqlValue::Text(t) if self.layout().text_primary_key() => {
                self.storage.rowid_for_text_key(t)
            }
            SqlValue::Null => Ok(None),
            other => Err(SqlError::new(format!(
                "vec0 table {}: a {} cannot be a key here",
                self.layout().table,
                crate::functions::args::storage_class(other)
            ))),
        }
    }

    /// Every column value of the row to write, validated before anything is written.
    fn prepare_row(
        &self,
        values: &[OwnedValue],
        args: &[SqlArg<'_>],
        purpose: Purpose,
    ) -> SqlResult<PreparedRow> {
        let layout = self.layout();
        let mut row = PreparedRow::default();
        for (i, role) in layout.columns.iter().enumerate() {
            let value = values.get(i).cloned().unwrap_or(OwnedValue::Null);
            match *role {
                ColumnRole::Vector(v) => {
                    let arg = args
                        .get(i)
                        .copied()
                        .unwrap_or(SqlArg::plain(value.as_value()));
                    row.vectors
                        .push(values::vector_bytes(&layout.vectors[v], &arg, purpose)?);
                }
                ColumnRole::Metadata(m) => {
                    row.metadata
                        .push(values::metadata_value(layout, m, &value.as_value())?)
                }
                ColumnRole::Partition(p) => {
                    row.partitions
                        .push(values::partition_value(layout, p, &value.as_value())?)
                }
                ColumnRole::Auxiliary(a) => row
                    .auxiliary
                    .push(values::auxiliary_value(layout, a, value)?),
                ColumnRole::Key
                | ColumnRole::Distance
                | ColumnRole::K
                | ColumnRole::Command
                | ColumnRole::EfSearch
                | ColumnRole::Exact => {}
            }
        }
        Ok(row)
    }

    fn insert(&mut self, change: &Change<'_>, new_rowid: SqlValue<'_>) -> SqlResult<Option<i64>> {
        // The key gets the key column's affinity, as in an ordinary table: `'7'` and `7.0`
        // are the integer key 7, `7` for a text key is `'7'`.
        let affinity = self.layout().affinity(ColumnRole::Key);
        let key = affinity.store(
            change
                .values
                .first()
                .map(|v| v.value.value.to_owned_value())
                .unwrap_or(OwnedValue::Null),
        );
        let new_rowid = affinity.store(new_rowid.to_owned_value());
        let table = &self.layout().table;
        let (explicit_rowid, text_key) = if self.layout().text_primary_key() {
            match key {
                OwnedValue::Text(t) => (None, Some(t.into_bytes())),
                _ => {
                    return Err(SqlError::new(format!(
                        "The {table} virtual table was declared with a TEXT primary key, but a \
                         non-TEXT value was provided in an INSERT."
                    )))
                }
            }
        } else {
            match (key, new_rowid) {
                (OwnedValue::Integer(i), _) | (OwnedValue::Null, OwnedValue::Integer(i)) => {
                    (Some(i), None)
                }
                (OwnedValue::Null, OwnedValue::Null) => (None, None),
                // "allows" is sqlite-vec's spelling, kept so matching on the message works.
                _ => {
                    return Err(SqlError::new(format!(
                        "Only integers are allows for primary key values on {table}"
                    )))
                }
            }
        };
        let values: Vec<OwnedValue> = change
            .values
            .iter()
            .map(|v| v.value.value.to_owned_value())
            .collect();
        let args: Vec<SqlArg<'_>> = change.values.iter().map(|v| v.value).collect();
        let row = self.prepare_row(&values, &args, Purpose::Insert)?;
        // The hidden query columns take no values (sqlite-vec checks after the vectors).
        for (i, role) in self.layout().columns.iter().enumerate() {
            let name = match role {
                ColumnRole::Distance => "distance",
                ColumnRole::K => "k",
                ColumnRole::EfSearch => "ef_search",
                ColumnRole::Exact => "exact",
                _ => continue,
            };
            if !matches!(values.get(i), None | Some(OwnedValue::Null)) {
                return Err(SqlError::new(format!(
                    "A value was provided for the hidden \"{name}\" column."
                )));
            }
        }
        if let Some(rowid) = self.insert_new_row(explicit_rowid, text_key.as_deref(), &row)? {
            return Ok(Some(rowid));
        }
        // The key exists: the statement's conflict clause decides.
        match self.storage.conn.on_conflict() {
            ffi::SQLITE_REPLACE => {
                let existing = match (&text_key, explicit_rowid) {
                    (Some(t), _) => self.storage.rowid_for_text_key(t)?,
                    (None, Some(i)) => Some(i),
                    (None, None) => None,
                };
                if let Some(existing) = existing {
                    self.delete_row(existing)?;
                }
                self.insert_new_row(explicit_rowid, text_key.as_deref(), &row)?
                    .map(Some)
                    .ok_or_else(|| unique_violation(self.layout()))
            }
            ffi::SQLITE_IGNORE => Ok(None),
            _ => Err(unique_violation(self.layout())),
        }
    }

    /// Table commands, `insert into t(t) values ('...')`:
    /// - `optimize` moves rows from the table's last chunks into free slots of earlier chunks
    ///   of the same partition, so chunks emptied by scattered deletes are removed and
    ///   `VACUUM` can give their pages back;
    /// - `rebuild-index` relinks every row of every ANN index;
    /// - sqlite-vec 0.1.10's index knobs `search_list_size=N`, `search_list_size_search=N`,
    ///   `search_list_size_insert=N` and `oversample=N`, mapped onto every HNSW index of the
    ///   table (see [`Knob`]) and stored with it.
    fn run_command(&self, command: &SqlValue<'_>) -> SqlResult<()> {
        let text = match command {
            SqlValue::Text(t) => String::from_utf8_lossy(t).into_owned(),
            other => {
                return Err(SqlError::new(format!(
                    "vec0 table {}: a command must be TEXT, got {}; {COMMANDS}",
                    self.layout().table,
                    crate::functions::args::storage_class(other)
                )))
            }
        };
        if text.eq_ignore_ascii_case("optimize") {
            return self.optimize();
        }
        if text.eq_ignore_ascii_case("rebuild-index") {
            for index in &self.indexes {
                index.rebuild(&self.storage)?;
            }
            return Ok(());
        }
        match Knob::parse(&text) {
            Some(Err(message)) => Err(SqlError::new(message)),
            // sqlite-vec 0.1.10 accepts `oversample=N` on any table and ignores it where no
            // column has a rescore index; the list sizes are commands of indexed tables only.
            Some(Ok(Knob::Oversample(_))) if self.indexes.is_empty() => Ok(()),
            Some(Ok(knob)) if !self.indexes.is_empty() => {
                for index in &self.indexes {
                    index.tune(&self.storage, knob)?;
                }
                Ok(())
            }
            _ => Err(SqlError::new(format!(
                "unknown vec0 command: '{text}' ({}{COMMANDS})",
                if Knob::parse(&text).is_some() {
                    "the table has no ANN index; "
                } else {
                    ""
                }
            ))),
        }
    }

    fn optimize(&self) -> SqlResult<()> {
        // Highest chunks first: each of their rows moves to the lowest free slot of its
        // partition, until no free slot lies below the chunk being emptied.
        let mut chunks = self.storage.chunks(&[])?;
        chunks.reverse();
        let unchanged = vec![false; self.layout().vectors.len()];
        for chunk in chunks {
            let partition = self.storage.partition_values(chunk.chunk_id)?;
            for offset in (0..self.layout().chunk_size).rev() {
                if !chunk.is_valid(offset) {
                    continue;
                }
                match self.storage.find_free_slot(&partition)? {
                    Some((target, _)) if target < chunk.chunk_id => {}
                    _ => break,
                }
                let loc = RowLocation {
                    rowid: chunk.rowid(offset),
                    chunk_id: chunk.chunk_id,
                    offset,
                };
                let values = self.current_values(loc)?;
                let args: Vec<SqlArg<'_>> =
                    values.iter().map(|v| SqlArg::plain(v.as_value())).collect();
                let row = self.prepare_row(&values, &args, Purpose::Update)?;
                self.clear_row_data(loc)?;
                self.write_row(loc.rowid, &row, &unchanged)?;
            }
        }
        Ok(())
    }

    /// Inserts a row under a new key; None when the key already exists. Nothing is written
    /// before the key is known to be new: SQLite does not undo a virtual table's writes when
    /// one of its statements fails, so a conflict must leave no trace.
    fn insert_new_row(
        &self,
        explicit_rowid: Option<i64>,
        text_key: Option<&[u8]>,
        row: &PreparedRow,
    ) -> SqlResult<Option<i64>> {
        let free = self.storage.find_free_slot(&row.partitions)?;
        let rowid = match self.storage.insert_rowid(explicit_rowid, text_key, free) {
            Ok(rowid) => rowid,
            Err(e) if e.code & 0xff == ffi::SQLITE_CONSTRAINT => return Ok(None),
            Err(e) => return Err(e),
        };
        let (chunk_id, offset) = match free {
            Some(slot) => slot,
            None => {
                let chunk_id = self.storage.new_chunk(&row.partitions)?;
                let loc = RowLocation {
                    rowid,
                    chunk_id,
                    offset: 0,
                };
                self.storage.set_location(loc)?;
                (chunk_id, 0)
            }
        };
        let loc = RowLocation {
            rowid,
            chunk_id,
            offset,
        };
        self.write_at(loc, row)?;
        self.index_insert(loc, row)?;
        Ok(Some(rowid))
    }

    /// Moves an existing `{t}_rowids` entry to a new slot and writes the row there;
    /// `changed` says which vectors differ from the row's previous ones (for the indexes).
    fn write_row(&self, rowid: i64, row: &PreparedRow, changed: &[bool]) -> SqlResult<()> {
        let (chunk_id, offset) = self.storage.allocate_slot(&row.partitions)?;
        let loc = RowLocation {
            rowid,
            chunk_id,
            offset,
        };
        self.storage.set_location(loc)?;
        self.write_at(loc, row)?;
        self.index_moved(loc, row, changed)
    }

    fn write_at(&self, loc: RowLocation, row: &PreparedRow) -> SqlResult<()> {
        self.storage
            .set_slot(loc.chunk_id, loc.offset, Some(loc.rowid))?;
        for (i, bytes) in row.vectors.iter().enumerate() {
            self.storage.write_vector(i, loc, bytes)?;
        }
        for (i, value) in row.metadata.iter().enumerate() {
            self.storage.write_metadata(i, loc, value)?;
        }
        if !self.layout().auxiliary.is_empty() {
            self.storage.write_auxiliary(loc.rowid, &row.auxiliary)?;
        }
        Ok(())
    }

    fn delete_row(&self, rowid: i64) -> SqlResult<()> {
        let Some(loc) = self.storage.locate(rowid)? else {
            return Ok(());
        };
        self.clear_row_data(loc)?;
        self.index_remove(rowid)?;
        self.storage.delete_rowid(rowid)
    }

    /// Frees the row's slot and erases its data there and its per-row data, keeping its
    /// `{t}_rowids` entry.
    fn clear_row_data(&self, loc: RowLocation) -> SqlResult<()> {
        if !self.layout().auxiliary.is_empty() {
            self.storage.delete_auxiliary(loc.rowid)?;
        }
        self.storage.release_slot(loc)
    }

    /// The row's current values in column order (what an UPDATE leaves unchanged).
    fn current_values(&self, loc: RowLocation) -> SqlResult<Vec<OwnedValue>> {
        let layout = self.layout();
        let partitions = self.storage.partition_values(loc.chunk_id)?;
        layout
            .columns
            .iter()
            .map(|role| {
                Ok(match *role {
                    ColumnRole::Vector(v) => OwnedValue::Blob(self.storage.read_vector(v, loc)?),
                    ColumnRole::Metadata(m) => self.storage.read_metadata(m, loc)?,
                    ColumnRole::Partition(p) => {
                        partitions.get(p).cloned().unwrap_or(OwnedValue::Null)
                    }
                    ColumnRole::Auxiliary(a) => self.storage.read_auxiliary(loc.rowid, a)?,
                    ColumnRole::Key => self.key_value(loc.rowid)?,
                    ColumnRole::Distance
                    | ColumnRole::K
                    | ColumnRole::Command
                    | ColumnRole::EfSearch
                    | ColumnRole::Exact => OwnedValue::Null,
                })
            })
            .collect()
    }

    fn key_value(&self, rowid: i64) -> SqlResult<OwnedValue> {
        if self.layout().text_primary_key() {
            self.storage.text_key(rowid)
        } else {
            Ok(OwnedValue::Integer(rowid))
        }
    }

    fn update_row(&mut self, rowid: i64, change: &Change<'_>) -> SqlResult<()> {
        let loc = self
            .storage
            .locate(rowid)?
            .ok_or_else(|| SqlError::internal(format!("row {rowid} has no location")))?;
        let mut values = self.current_values(loc)?;
        // The stored key and partition values, before the UPDATE's new values replace them.
        let old_key = values[0].clone();
        let old_partitions: Vec<OwnedValue> = self
            .layout()
            .columns
            .iter()
            .zip(&values)
            .filter(|(role, _)| matches!(role, ColumnRole::Partition(_)))
            .map(|(_, v)| v.clone())
            .collect();
        let mut args: Vec<SqlArg<'_>> = Vec::with_capacity(values.len());
        for (i, v) in change.values.iter().enumerate() {
            if !v.unchanged {
                values[i] = v.value.value.to_owned_value();
            }
        }
        for (i, v) in change.values.iter().enumerate() {
            args.push(if v.unchanged {
                SqlArg::plain(values[i].as_value())
            } else {
                v.value
            });
        }
        let row = self.prepare_row(&values, &args, Purpose::Update)?;
        // Which vector columns the UPDATE sets (SQLite marks the others unchanged).
        let changed_vectors: Vec<bool> = self
            .layout()
            .columns
            .iter()
            .zip(&change.values)
            .filter(|(role, _)| matches!(role, ColumnRole::Vector(_)))
            .map(|(_, v)| !v.unchanged)
            .collect();
        let new_key = values[0].clone();
        let key_changed = !matches!(new_key, OwnedValue::Null) && new_key != old_key;
        if key_changed {
            let target = self.resolve_key(&new_key.as_value())?;
            if let Some(target) = target {
                if self.storage.conn.on_conflict() != ffi::SQLITE_REPLACE {
                    return Err(unique_violation(self.layout()));
                }
                self.delete_row(target)?;
            }
            self.delete_row(rowid)?;
            let (explicit, text) = match &new_key {
                OwnedValue::Integer(i) => (Some(*i), None),
                OwnedValue::Text(t) => (None, Some(t.as_bytes().to_vec())),
                _ => return Err(SqlError::new("vec0: invalid new key")),
            };
            // A text key keeps its internal rowid: only the key text changes.
            let keep = if self.layout().text_primary_key() {
                Some(rowid)
            } else {
                explicit
            };
            return match self.insert_new_row(keep, text.as_deref(), &row)? {
                Some(_) => Ok(()),
                None => Err(unique_violation(self.layout())),
            };
        }
        if row.partitions != old_partitions {
            // Moving between partitions moves the row to another chunk; its rowid stays.
            self.clear_row_data(loc)?;
            return self.write_row(rowid, &row, &changed_vectors);
        }
        for (i, bytes) in row.vectors.iter().enumerate() {
            self.storage.write_vector(i, loc, bytes)?;
        }
        for index in &self.indexes {
            if changed_vectors[index.column] {
                index.insert(&self.storage, loc, &row.vectors[index.column])?;
            }
        }
        for (i, value) in row.metadata.iter().enumerate() {
            self.storage.write_metadata(i, loc, value)?;
        }
        if !self.layout().auxiliary.is_empty() {
            self.storage.write_auxiliary(rowid, &row.auxiliary)?;
        }
        Ok(())
    }
}

/// Graph-walk cost, in distance computations per accepted candidate, used to choose between a
/// filtered walk and an exact scan of the matching rows (measured on the 100k x 384 set).
const WALK_COST_PER_CANDIDATE: f64 = 50.0;

/// KNN on an indexed column: an HNSW walk, or an exact scan of the matching rows when the table
/// is small or a filter leaves so few rows that the scan is cheaper than a walk that must skip
/// the rest. A query that gives `ef_search` always walks.
fn approximate(
    storage: &Storage,
    index: &HnswIndex,
    search: &KnnSearch<'_>,
    ef_search: Option<usize>,
) -> SqlResult<Vec<super::knn::Neighbour>> {
    let ef = ef_search
        .unwrap_or(index.tuning(storage)?.ef_search)
        .max(search.k);
    let f = &search.filter;
    let unfiltered = f.partitions.is_empty()
        && f.metadata.is_empty()
        && f.rowid.is_empty()
        && f.allowed_rowids.is_none();
    if unfiltered {
        // A small table (or a k close to its size) is cheaper, and complete, to scan.
        let total = index.stats(storage)?.nodes;
        if ef_search.is_none() && total as f64 <= WALK_COST_PER_CANDIDATE * ef as f64 {
            return search.run();
        }
        return complete_or_scan(
            index.search(storage, &search.query, search.k, ef, None)?,
            search.k.min(total),
            search,
        );
    }
    let candidates = search.candidates()?;
    let matching: usize = candidates.iter().map(|(_, slots)| slots.len()).sum();
    let total = index.stats(storage)?.nodes.max(1);
    let selectivity = (matching as f64 / total as f64).clamp(1e-9, 1.0);
    let walk_cost = WALK_COST_PER_CANDIDATE * ef as f64 / selectivity;
    // An explicit `ef_search` asks for the walk (and is how tests exercise it on small tables).
    if matching == 0 || (ef_search.is_none() && (matching as f64) <= walk_cost) {
        return search.run_on(&candidates);
    }
    let mut accept = Accept::new();
    for (chunk, slots) in &candidates {
        accept.allow(chunk.chunk_id, slots, storage.layout.chunk_size);
    }
    let ef = ((ef as f64 / selectivity).ceil() as usize).min(super::index::MAX_EF);
    complete_or_scan(
        index.search(storage, &search.query, search.k, ef, Some(&accept))?,
        search.k.min(matching),
        search,
    )
}

/// A walk that found fewer than `expected` rows (a node the graph cannot reach, or a filter
/// that the walk's candidate list could not satisfy) is answered by an exact scan instead:
/// KNN always returns min(k, matching rows).
fn complete_or_scan(
    found: Vec<super::knn::Neighbour>,
    expected: usize,
    search: &KnnSearch<'_>,
) -> SqlResult<Vec<super::knn::Neighbour>> {
    if found.len() >= expected {
        Ok(found)
    } else {
        search.run()
    }
}

#[derive(Default)]
struct PreparedRow {
    vectors: Vec<Vec<u8>>,
    metadata: Vec<OwnedValue>,
    partitions: Vec<OwnedValue>,
    auxiliary: Vec<OwnedValue>,
}

struct CursorRow {
    rowid: i64,
    location: Option<RowLocation>,
    distance: Option<f64>,
}

pub struct Vec0Cursor {
    rows: Vec<CursorRow>,
    position: usize,
    k: Option<i64>,
}

/// `k`, `LIMIT` and the index knobs: integers, also when they arrive as text or a whole real
/// (Datasette binds every URL parameter as text), as an INTEGER column would take them.
fn integer_arg(arg: &FilterArg<'_>, what: &str) -> SqlResult<i64> {
    match Affinity::Integer.apply(arg.value().to_owned_value()) {
        OwnedValue::Integer(i) => Ok(i),
        OwnedValue::Real(f) if f.fract() == 0.0 => Ok(f as i64),
        other => Err(SqlError::new(format!(
            "{what} must be an integer, got {}",
            crate::functions::args::storage_class(&other.as_value())
        ))),
    }
}

impl Vec0Cursor {
    fn current(&self) -> SqlResult<&CursorRow> {
        self.rows
            .get(self.position)
            .ok_or_else(|| SqlError::internal("vec0 cursor read past its end"))
    }

    fn knn(
        &mut self,
        table: &Vec0Table,
        vector_column: usize,
        plan_args: &[PlanArg],
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        let layout = table.layout();
        let mut query = None;
        let mut k = None;
        let mut limit = None;
        let mut offset = 0i64;
        let mut filter = RowFilter::default();
        let mut bounds = Vec::new();
        let mut text_key_conditions: Vec<Condition> = Vec::new();
        let mut ef_search = None;
        let mut exact = false;
        // Constraint values get the column's affinity, as SQLite gives them for a table.
        let typed = |role: ColumnRole, v: OwnedValue| layout.affinity(role).apply(v);
        let typed_list = |role: ColumnRole, arg: &FilterArg<'_>| -> SqlResult<Vec<OwnedValue>> {
            Ok(arg
                .in_values()?
                .into_iter()
                .map(|v| typed(role, v))
                .collect())
        };
        for (plan_arg, arg) in plan_args.iter().zip(args) {
            match *plan_arg {
                PlanArg::EfSearch => {
                    let ef = integer_arg(arg, "ef_search")?;
                    if !(1..=super::index::MAX_EF as i64).contains(&ef) {
                        return Err(SqlError::new(format!(
                            "ef_search must be from 1 to {}, got {ef}",
                            super::index::MAX_EF
                        )));
                    }
                    ef_search = Some(ef as usize);
                }
                PlanArg::Exact => exact = integer_arg(arg, "exact")? != 0,
                PlanArg::Query => {
                    query = Some(values::query(&layout.vectors[vector_column], &arg.arg())?)
                }
                PlanArg::K => k = Some(integer_arg(arg, "k")?),
                PlanArg::Limit => limit = Some(integer_arg(arg, "LIMIT")?),
                PlanArg::Offset => offset = integer_arg(arg, "OFFSET")?.max(0),
                PlanArg::Metadata(column, op) => filter.metadata.push(ColumnFilter {
                    column,
                    condition: Condition::Compare(
                        op,
                        typed(ColumnRole::Metadata(column), arg.value().to_owned_value()),
                    ),
                }),
                PlanArg::MetadataIn(column) => filter.metadata.push(ColumnFilter {
                    column,
                    condition: Condition::In(typed_list(ColumnRole::Metadata(column), arg)?),
                }),
                PlanArg::Partition(column, op) => filter.partitions.push(ColumnFilter {
                    column,
                    condition: Condition::Compare(
                        op,
                        typed(ColumnRole::Partition(column), arg.value().to_owned_value()),
                    ),
                }),
                PlanArg::PartitionIn(column) => filter.partitions.push(ColumnFilter {
                    column,
                    condition: Condition::In(typed_list(ColumnRole::Partition(column), arg)?),
                }),
                PlanArg::Distance(op) => {
                    let bound = match arg.value() {
                        SqlValue::Integer(i) => i as f64,
                        SqlValue::Real(f) => f,
                        other => {
                            return Err(SqlError::new(format!(
                                "distance constraint must be a number, got {}",
                                crate::functions::args::storage_class(&other)
                            )))
                        }
                    };
                    bounds.push((op, bound));
                }
                PlanArg::Key(op) => {
                    let cond = Condition::Compare(
                        op,
                        typed(ColumnRole::Key, arg.value().to_owned_value()),
                    );
                    if layout.text_primary_key() {
                        text_key_conditions.push(cond);
                    } else {
                        filter.rowid.push(cond);
                    }
                }
                PlanArg::KeyIn => {
                    let cond = Condition::In(typed_list(ColumnRole::Key, arg)?);
                    if layout.text_primary_key() {
                        text_key_conditions.push(cond);
                    } else {
                        filter.rowid.push(cond);
                    }
                }
            }
        }
        if !text_key_conditions.is_empty() {
            filter.allowed_rowids = Some(table.text_key_rowids(&text_key_conditions)?);
        }
        let k = match (k, limit) {
            (Some(k), _) => k,
            (None, Some(limit)) => limit.saturating_add(offset),
            (None, None) => {
                let mut message =
                    "A LIMIT or 'k = ?' constraint is required on vec0 knn queries.".to_string();
                if crate::ffi::host_version() < 3_041_000 {
                    message.push_str(
                        " (SQLite before 3.41 does not pass LIMIT to virtual tables in MATCH queries: use 'AND k = ?')",
                    );
                }
                return Err(SqlError::new(message));
            }
        };
        if k < 0 {
            return Err(SqlError::new(
                "k value in knn queries must be greater than or equal to 0.",
            ));
        }
        if k > MAX_K {
            return Err(SqlError::new(format!(
                "k value in knn query too large, provided {k} and the limit is {MAX_K}"
            )));
        }
        self.k = Some(k);
        let search = KnnSearch {
            storage: &table.storage,
            vector_column,
            query: query.ok_or_else(|| SqlError::internal("KNN plan without a query vector"))?,
            k: k as usize,
            filter,
            distance_bounds: bounds,
        };
        let index = table.index_of(vector_column).filter(|_| !exact);
        if ef_search.is_some() && table.index_of(vector_column).is_none() {
            return Err(SqlError::new(format!(
                "ef_search applies to indexed vector columns; \"{}\" has no index",
                layout.vectors[vector_column].name
            )));
        }
        let neighbours = match index {
            // Distance bounds (range search, pagination) need every row's distance.
            Some(index) if search.distance_bounds.is_empty() => {
                approximate(&table.storage, index, &search, ef_search)?
            }
            _ => search.run()?,
        };
        self.rows = neighbours
            .into_iter()
            .map(|n| CursorRow {
                rowid: n.location.rowid,
                location: Some(n.location),
                distance: Some(n.distance),
            })
            .collect();
        Ok(())
    }
}

impl Vec0Table {
    /// Rowids whose text primary key satisfies every condition.
    fn text_key_rowids(&self, conditions: &[Condition]) -> SqlResult<HashSet<i64>> {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        for c in conditions {
            match c {
                Condition::Compare(op, v) => {
                    clauses.push(format!("id {} ?", op.sql()));
                    params.push(v.clone());
                }
                Condition::In(list) => {
                    let marks: Vec<&str> = list.iter().map(|_| "?").collect();
                    clauses.push(format!("id IN ({})", marks.join(", ")));
                    params.extend(list.iter().cloned());
                }
            }
        }
        let sql = format!(
            "SELECT rowid FROM {} WHERE {}",
            self.layout().qualified("rowids"),
            clauses.join(" AND ")
        );
        let params: Vec<SqlValue<'_>> = params.iter().map(|v| v.as_value()).collect();
        self.storage
            .query(&sql, &params)?
            .into_iter()
            .map(|r| match r.first() {
                Some(OwnedValue::Integer(i)) => Ok(*i),
                other => Err(SqlError::internal(format!("rowid is {other:?}"))),
            })
            .collect()
    }
}

impl VTabCursor for Vec0Cursor {
    type Table = Vec0Table;

    fn filter(
        &mut self,
        table: &Vec0Table,
        _: i32,
        idx_str: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        self.position = 0;
        self.k = None;
        self.rows.clear();
        let plan = QueryPlan::parse(idx_str.unwrap_or("scan"))?;
        match plan {
            QueryPlan::FullScan => {
                self.rows = table
                    .storage
                    .all_rowids()?
                    .into_iter()
                    .map(|rowid| CursorRow {
                        rowid,
                        location: None,
                        distance: None,
                    })
                    .collect();
            }
            QueryPlan::Point { arg } => {
                let arg0 = args
                    .first()
                    .ok_or_else(|| SqlError::internal("point plan without a key"))?;
                let keys: Vec<OwnedValue> = match arg {
                    PlanArg::KeyIn => arg0.in_values()?,
                    _ => vec![arg0.value().to_owned_value()],
                };
                let affinity = table.layout().affinity(ColumnRole::Key);
                let keys = keys.into_iter().map(|k| affinity.apply(k));
                let mut seen = HashSet::new();
                for key in keys {
                    let rowid = match (&key, table.layout().text_primary_key()) {
                        (OwnedValue::Integer(i), false) => {
                            table.storage.locate(*i)?.map(|l| l.rowid)
                        }
                        (OwnedValue::Real(f), false) if f.fract() == 0.0 => {
                            table.storage.locate(*f as i64)?.map(|l| l.rowid)
                        }
                        (OwnedValue::Text(t), true) => {
                            table.storage.rowid_for_text_key(t.as_bytes())?
                        }
                        _ => None,
                    };
                    if let Some(rowid) = rowid {
                        if seen.insert(rowid) {
                            self.rows.push(CursorRow {
                                rowid,
                                location: None,
                                distance: None,
                            });
                        }
                    }
                }
                self.rows.sort_by_key(|r| r.rowid);
            }
            QueryPlan::Knn {
                vector_column,
                args: plan_args,
            } => {
                self.knn(table, vector_column, &plan_args, args)?;
            }
        }
        Ok(())
    }

    fn next(&mut self, _: &Vec0Table) -> SqlResult<()> {
        self.position += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.position >= self.rows.len()
    }

    fn column(&self, table: &Vec0Table, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        let layout = table.layout();
        let row = self.current()?;
        let role = *layout
            .columns
            .get(column as usize)
            .ok_or_else(|| SqlError::internal(format!("vec0 has no column {column}")))?;
        if out.no_change() && !matches!(role, ColumnRole::Key) {
            return Ok(());
        }
        let location = || -> SqlResult<RowLocation> {
            match row.location {
                Some(l) => Ok(l),
                None => table
                    .storage
                    .locate(row.rowid)?
                    .ok_or_else(|| SqlError::internal(format!("row {} vanished", row.rowid))),
            }
        };
        let value = match role {
            ColumnRole::Key => table.key_value(row.rowid)?.to_output(),
            ColumnRole::Vector(v) => SqlOutput::Blob {
                bytes: table.storage.read_vector(v, location()?)?,
                subtype: values::vector_subtype(layout.vectors[v].element),
            },
            ColumnRole::Metadata(m) => table.storage.read_metadata(m, location()?)?.to_output(),
            ColumnRole::Partition(p) => table
                .storage
                .partition_values(location()?.chunk_id)?
                .get(p)
                .cloned()
                .unwrap_or(OwnedValue::Null)
                .to_output(),
            ColumnRole::Auxiliary(a) => table.storage.read_auxiliary(row.rowid, a)?.to_output(),
            ColumnRole::Distance => match row.distance {
                Some(d) if !d.is_nan() => SqlOutput::Real(d),
                _ => SqlOutput::Null,
            },
            ColumnRole::K => self.k.map_or(SqlOutput::Null, SqlOutput::Integer),
            ColumnRole::Command | ColumnRole::EfSearch | ColumnRole::Exact => SqlOutput::Null,
        };
        out.set(value);
        Ok(())
    }

    fn rowid(&self, _: &Vec0Table) -> SqlResult<i64> {
        Ok(self.current()?.rowid)
    }
}
