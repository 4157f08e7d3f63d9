//! The `vec0` virtual table: [`Vec0Table`] answers SQLite's table callbacks and hands each
//! to its owner: planning to [`super::query::plan`], writes to [`super::write`], commands to
//! [`super::commands`], reading to [`super::cursor`].

use super::cursor::Vec0Cursor;
use super::index::added;
use super::index::hnsw::HnswIndex;
use super::layout::Layout;
use super::query::plan;
use super::schema::parse_definition;
use super::shadow;
use super::storage::Storage;
use crate::error::SqlResult;
use crate::ffi::connection::Connection;
use crate::ffi::index_info::IndexInfo;
use crate::ffi::vtab::{Change, CreateArgs, ModuleKind, VTab};
use crate::ffi::OwnedValue;
use crate::vec0::error::{DefinitionError, Vec0Error, Vec0Result};

pub struct Vec0Table {
    pub(super) storage: Storage,
    /// The ANN indexes of `indexed by` vector columns.
    pub(super) indexes: Vec<HnswIndex>,
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
        let def = parse_definition(&args.args)
            .map_err(|e| Vec0Error::Definition(DefinitionError::Schema(e)))?;
        super::index::check_definition(&def, &args.args).map_err(Vec0Error::Definition)?;
        let mut layout =
            Layout::new(&args.schema, &args.table, &def).map_err(Vec0Error::Definition)?;
        if create {
            shadow::create(conn, &layout)?;
        } else {
            added::apply_stored(conn, &mut layout)?;
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
        Ok(Vec0Cursor::default())
    }

    fn destroy(&mut self) -> SqlResult<()> {
        self.storage.clear_statements();
        Ok(shadow::drop_all(&self.storage.conn, &self.storage.layout)?)
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
        self.storage.begin();
        for index in &self.indexes {
            index.begin();
        }
        Ok(())
    }

    /// Links the rows this transaction wrote into the indexes, before the commit (SQLite
    /// runs `xSync` while the transaction can still write; a failure here fails the commit).
    fn sync(&mut self) -> SqlResult<()> {
        // Linking inserts node rows; the user's last inserted rowid must survive the commit.
        let last_rowid = self.storage.conn.last_insert_rowid();
        self.storage.begin_write();
        let result = self
            .indexes
            .iter()
            .try_for_each(|index| index.link_pending(&self.storage));
        self.storage.end_write();
        self.storage.conn.set_last_insert_rowid(last_rowid);
        Ok(result?)
    }

    fn commit(&mut self) -> SqlResult<()> {
        self.storage.committed();
        for index in &self.indexes {
            index.committed();
        }
        Ok(())
    }

    fn rollback(&mut self) -> SqlResult<()> {
        self.storage.after_rollback();
        for index in &self.indexes {
            index.rolled_back();
        }
        Ok(())
    }

    fn savepoint(&mut self, level: i32) -> SqlResult<()> {
        for index in &self.indexes {
            index.savepoint(level);
        }
        Ok(())
    }

    fn release(&mut self, level: i32) -> SqlResult<()> {
        for index in &self.indexes {
            index.release(level);
        }
        Ok(())
    }

    fn rollback_to(&mut self, level: i32) -> SqlResult<()> {
        self.storage.after_rollback();
        for index in &self.indexes {
            index.rolled_back_to(level);
        }
        Ok(())
    }

    fn update(&mut self, change: &Change<'_>) -> SqlResult<Option<i64>> {
        self.storage.begin_write();
        let result = self.apply(change);
        self.storage.end_write();
        if result.is_err() {
            // SQLite undoes the failed statement's writes; forget what memory saw of them.
            self.storage.after_rollback();
            for index in &self.indexes {
                index.statement_failed();
            }
        }
        Ok(result?)
    }
}

/// Refuses tables written by a newer vecsql whose format this build cannot read.
fn check_format(storage: &Storage) -> Vec0Result<()> {
    let rows = storage.query(
        &format!(
            "SELECT value FROM {} WHERE key = 'VECSQL_FORMAT'",
            storage.layout.qualified("info")
        ),
        &[],
    )?;
    match rows.first().and_then(|r| r.first()) {
        // sqlite-vec's files have no such row.
        None => {}
        Some(OwnedValue::Integer(v)) if *v >= 1 => {}
        Some(other) => {
            return Err(storage.damaged(
                "info",
                format!("VECSQL_FORMAT is {other:?}, not a format version"),
            ))
        }
    }
    if let Some(OwnedValue::Integer(v)) = rows.first().and_then(|r| r.first()) {
        if *v > shadow::FORMAT_VERSION {
            return Err(DefinitionError::NewerFormat {
                table: storage.layout.table.clone(),
                found: *v,
            }
            .into());
        }
    }
    Ok(())
}

impl Vec0Table {
    pub(super) fn layout(&self) -> &Layout {
        &self.storage.layout
    }

    pub(super) fn index_of(&self, vector_column: usize) -> Option<&HnswIndex> {
        self.indexes.iter().find(|i| i.column == vector_column)
    }

    pub(super) fn key_value(&self, rowid: i64) -> Vec0Result<OwnedValue> {
        if self.layout().text_primary_key() {
            self.storage.text_key(rowid)
        } else {
            Ok(OwnedValue::Integer(rowid))
        }
    }
}
