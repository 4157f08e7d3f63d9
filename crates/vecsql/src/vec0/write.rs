//! The write path of vec0: INSERT (with OR REPLACE / OR IGNORE), UPDATE of any column
//! (moving a row between partitions or keys), DELETE, and the index bookkeeping of each.
//! Every value is checked before anything is written, so a failed statement leaves no trace.

use rusqlite::ffi;

use super::layout::{ColumnRole, Layout};
use super::storage::RowLocation;
use super::table::Vec0Table;
use super::values::{self, Purpose};
use crate::ffi::vtab::Change;
use crate::ffi::{OwnedValue, SqlArg, SqlValue};
use crate::vec0::error::{ArgumentError, Vec0Error, Vec0Result};

fn unique_violation(layout: &Layout) -> Vec0Error {
    Vec0Error::Constraint(format!(
        "UNIQUE constraint failed on {} primary key",
        layout.table
    ))
}

/// A key of the wrong type: `expected` is the key's declared type, `sentence` what users see.
fn bad_key(expected: &str, got: &OwnedValue, sentence: String) -> Vec0Error {
    ArgumentError::new("the primary key", expected, got.as_value().storage_class())
        .worded(sentence)
        .into()
}

#[derive(Default)]
pub(super) struct PreparedRow {
    vectors: Vec<Vec<u8>>,
    metadata: Vec<OwnedValue>,
    partitions: Vec<OwnedValue>,
    auxiliary: Vec<OwnedValue>,
}

impl Vec0Table {
    pub(super) fn apply(&mut self, change: &Change<'_>) -> Vec0Result<Option<i64>> {
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
                    .ok_or_else(|| Vec0Error::internal("UPDATE of a row that does not exist"))?;
                self.update_row(rowid, change)?;
                Ok(None)
            }
            (None, None) => Err(Vec0Error::internal("xUpdate without rowids")),
        }
    }

    /// Gives every index a row just written at `loc` (linked when the transaction commits).
    pub(super) fn index_insert(&self, loc: RowLocation) -> Vec0Result<()> {
        for index in &self.indexes {
            index.insert(&self.storage, loc)?;
        }
        Ok(())
    }

    pub(super) fn index_remove(&self, rowid: i64) -> Vec0Result<()> {
        for index in &self.indexes {
            index.remove(&self.storage, rowid)?;
        }
        Ok(())
    }

    /// After a row moved to `loc`: relinks the indexes of the vector columns in `changed`
    /// and records the move in the others.
    pub(super) fn index_moved(&self, loc: RowLocation, changed: &[bool]) -> Vec0Result<()> {
        for index in &self.indexes {
            if changed.get(index.column).copied().unwrap_or(true) {
                index.replace(&self.storage, loc)?;
            } else {
                index.relocate(&self.storage, loc)?;
            }
        }
        Ok(())
    }

    /// The internal rowid of the row with key `key` (rowid or primary key value).
    pub(super) fn resolve_key(&self, key: &SqlValue<'_>) -> Vec0Result<Option<i64>> {
        match key {
            SqlValue::Integer(i) if !self.layout().text_primary_key() => {
                Ok(self.storage.locate(*i)?.map(|l| l.rowid))
            }
            SqlValue::Text(t) if self.layout().text_primary_key() => {
                self.storage.rowid_for_text_key(t)
            }
            SqlValue::Null => Ok(None),
            other => Err(bad_key(
                if self.layout().text_primary_key() {
                    "TEXT"
                } else {
                    "INTEGER"
                },
                &other.to_owned_value(),
                format!(
                    "vec0 table {}: a {} cannot be a key here",
                    self.layout().table,
                    other.storage_class()
                ),
            )),
        }
    }

    /// Every column value of the row to write, validated before anything is written.
    pub(super) fn prepare_row(
        &self,
        values: &[OwnedValue],
        args: &[SqlArg<'_>],
        purpose: Purpose,
    ) -> Vec0Result<PreparedRow> {
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

    pub(super) fn insert(
        &mut self,
        change: &Change<'_>,
        new_rowid: SqlValue<'_>,
    ) -> Vec0Result<Option<i64>> {
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
                other => {
                    return Err(bad_key(
                        "TEXT",
                        &other,
                        format!(
                            "The {table} virtual table was declared with a TEXT primary key, but \
                             a non-TEXT value was provided in an INSERT."
                        ),
                    ))
                }
            }
        } else {
            match (key, new_rowid) {
                (OwnedValue::Integer(i), _) | (OwnedValue::Null, OwnedValue::Integer(i)) => {
                    (Some(i), None)
                }
                (OwnedValue::Null, OwnedValue::Null) => (None, None),
                // "allows" is sqlite-vec's spelling, kept so matching on the message works.
                (key, rowid) => {
                    let got = if matches!(key, OwnedValue::Null) {
                        rowid
                    } else {
                        key
                    };
                    return Err(bad_key(
                        "INTEGER",
                        &got,
                        format!("Only integers are allows for primary key values on {table}"),
                    ));
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
                return Err(Vec0Error::plan(format!(
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

    /// Inserts a row under a new key; None when the key already exists. Nothing is written
    /// before the key is known to be new: SQLite does not undo a virtual table's writes when
    /// one of its statements fails, so a conflict must leave no trace.
    pub(super) fn insert_new_row(
        &self,
        explicit_rowid: Option<i64>,
        text_key: Option<&[u8]>,
        row: &PreparedRow,
    ) -> Vec0Result<Option<i64>> {
        let free = self.storage.find_free_slot(&row.partitions)?;
        let rowid = match self.storage.insert_rowid(explicit_rowid, text_key, free) {
            Ok(rowid) => rowid,
            Err(e) if e.code() & 0xff == ffi::SQLITE_CONSTRAINT => return Ok(None),
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
        self.index_insert(loc)?;
        Ok(Some(rowid))
    }

    /// Moves an existing `{t}_rowids` entry to a new slot and writes the row there;
    /// `changed` says which vectors differ from the row's previous ones (for the indexes).
    pub(super) fn write_row(
        &self,
        rowid: i64,
        row: &PreparedRow,
        changed: &[bool],
    ) -> Vec0Result<()> {
        let (chunk_id, offset) = self.storage.allocate_slot(&row.partitions)?;
        let loc = RowLocation {
            rowid,
            chunk_id,
            offset,
        };
        self.storage.set_location(loc)?;
        self.write_at(loc, row)?;
        self.index_moved(loc, changed)
    }

    pub(super) fn write_at(&self, loc: RowLocation, row: &PreparedRow) -> Vec0Result<()> {
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

    pub(super) fn delete_row(&self, rowid: i64) -> Vec0Result<()> {
        let Some(loc) = self.storage.locate(rowid)? else {
            return Ok(());
        };
        self.clear_row_data(loc)?;
        self.index_remove(rowid)?;
        self.storage.delete_rowid(rowid)
    }

    /// Frees the row's slot and erases its data there and its per-row data, keeping its
    /// `{t}_rowids` entry.
    pub(super) fn clear_row_data(&self, loc: RowLocation) -> Vec0Result<()> {
        if !self.layout().auxiliary.is_empty() {
            self.storage.delete_auxiliary(loc.rowid)?;
        }
        self.storage.release_slot(loc)
    }

    /// The row's current values in column order (what an UPDATE leaves unchanged).
    pub(super) fn current_values(&self, loc: RowLocation) -> Vec0Result<Vec<OwnedValue>> {
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

    pub(super) fn update_row(&mut self, rowid: i64, change: &Change<'_>) -> Vec0Result<()> {
        let loc = self
            .storage
            .locate(rowid)?
            .ok_or_else(|| Vec0Error::internal(format!("row {rowid} has no location")))?;
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
                other => {
                    return Err(bad_key(
                        "INTEGER or TEXT",
                        other,
                        "vec0: invalid new key".to_string(),
                    ))
                }
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
                index.replace(&self.storage, loc)?;
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
