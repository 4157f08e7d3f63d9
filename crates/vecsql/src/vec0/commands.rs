//! Table commands, written as inserts into the hidden column named after the table
//! (`insert into t(t) values ('optimize')`), as FTS5 does.

use super::index::hnsw::{self, HnswIndex};
use super::index::{added, Knob};
use super::storage::RowLocation;
use super::table::Vec0Table;
use super::values::Purpose;
use crate::ffi::{SqlArg, SqlValue};
use crate::vec0::error::{ArgumentError, Vec0Error, Vec0Result};

/// What `run_command` lists after an unknown command.
const COMMANDS: &str = "vecsql's commands are 'optimize', 'rebuild-index', \
                        'create-index <column> [hnsw(...)]', 'drop-index <column>', and for \
                        tables with an ANN index 'search_list_size=N', \
                        'search_list_size_search=N', 'search_list_size_insert=N', \
                        'oversample=N' and 'cold_walk_min_nodes=N'";

impl Vec0Table {
    /// Table commands, `insert into t(t) values ('...')`:
    /// - `optimize` moves rows from the table's last chunks into free slots of earlier chunks
    ///   of the same partition, so chunks emptied by scattered deletes are removed and
    ///   `VACUUM` can give their pages back;
    /// - `rebuild-index` relinks every row of every ANN index;
    /// - sqlite-vec 0.1.10's index knobs `search_list_size=N`, `search_list_size_search=N`,
    ///   `search_list_size_insert=N` and `oversample=N`, mapped onto every HNSW index of the
    ///   table (see [`Knob`]) and stored with it.
    pub(super) fn run_command(&mut self, command: &SqlValue<'_>) -> Vec0Result<()> {
        let text = match command {
            SqlValue::Text(t) => String::from_utf8_lossy(t).into_owned(),
            other => {
                let got = other.storage_class();
                return Err(ArgumentError::new("a command", "TEXT", got)
                    .worded(format!(
                        "vec0 table {}: a command must be TEXT, got {got}; {COMMANDS}",
                        self.layout().table
                    ))
                    .into());
            }
        };
        if text.eq_ignore_ascii_case("optimize") {
            return self.optimize();
        }
        if let Some(rest) = command_args(&text, "create-index") {
            return self.create_index(rest);
        }
        if let Some(rest) = command_args(&text, "drop-index") {
            return self.drop_index(rest);
        }
        if text.eq_ignore_ascii_case("rebuild-index") {
            for index in &self.indexes {
                index.rebuild(&self.storage)?;
            }
            return Ok(());
        }
        match Knob::parse(&text) {
            Some(Err(bad)) => Err(ArgumentError::from(bad).into()),
            // sqlite-vec 0.1.10 accepts `oversample=N` on any table and ignores it where no
            // column has a rescore index; the list sizes are commands of indexed tables only.
            Some(Ok(Knob::Oversample(_))) if self.indexes.is_empty() => Ok(()),
            Some(Ok(knob)) if !self.indexes.is_empty() => {
                for index in &self.indexes {
                    index.tune(&self.storage, knob)?;
                }
                Ok(())
            }
            _ => Err(
                ArgumentError::new("a command", "one of the table's commands", &*text)
                    .worded(format!(
                        "unknown vec0 command: '{text}' ({}{COMMANDS})",
                        if Knob::parse(&text).is_some() {
                            "the table has no ANN index; "
                        } else {
                            ""
                        }
                    ))
                    .into(),
            ),
        }
    }

    /// `create-index <column> [clause]`: an index on a vector column of a filled table, built
    /// from its rows in this statement (see `index/added.rs`). The clause is what `indexed by`
    /// takes in a CREATE, `hnsw()` when omitted. This connection declared its columns before:
    /// it has the hidden `ef_search` and `exact` options only once it connects again (other
    /// connections do so by themselves).
    fn create_index(&mut self, args: &str) -> Vec0Result<()> {
        let (name, clause) = match args.split_once(char::is_whitespace) {
            Some((name, clause)) => (name, clause.trim()),
            None => (args, ""),
        };
        let clause = if clause.is_empty() { "hnsw()" } else { clause };
        let i = self.index_command_column("create-index", name)?;
        let table = &self.layout().table;
        if self.layout().vectors[i].index.is_some() {
            return Err(command_error(format!(
                "create-index: vector column \"{name}\" of {table} already has an index; \
                 'drop-index {name}' first"
            )));
        }
        if let Some(column) = self.layout().reserved_name_in_use() {
            return Err(command_error(format!(
                "create-index: {table} has a column named {column}, a hidden query option of \
                 tables with an ANN index"
            )));
        }
        let config = added::parse_clause(self.layout(), i, clause)
            .map_err(|e| command_error(format!("create-index: {e}")))?;
        let mut layout = self.layout().clone();
        layout.vectors[i].index = Some(config.clone());
        let conn = self.storage.conn;
        conn.execute_batch(&hnsw::create_sql(&layout, i, &config))?;
        added::store(&conn, &layout, &layout.vectors[i].name, clause)?;
        let index = HnswIndex::new(i, layout.vectors[i].clone(), config);
        index.rebuild(&self.storage)?;
        added::announce(&conn, &layout)?;
        // Nothing failed: the table changes in memory too (a failure above leaves it as it
        // was, and SQLite rolls back what the statement wrote).
        self.storage.layout = layout;
        self.indexes.push(index);
        Ok(())
    }

    /// `drop-index <column>`: the column's index goes; queries scan exactly.
    fn drop_index(&mut self, args: &str) -> Vec0Result<()> {
        let name = args.trim();
        let i = self.index_command_column("drop-index", name)?;
        let Some(index) = self.index_of(i) else {
            return Err(command_error(format!(
                "drop-index: vector column \"{name}\" of {} has no index",
                self.layout().table
            )));
        };
        index.clear(&self.storage)?;
        let conn = self.storage.conn;
        added::store(&conn, self.layout(), &self.layout().vectors[i].name, "")?;
        added::announce(&conn, self.layout())?;
        self.storage.layout.vectors[i].index = None;
        self.indexes.retain(|x| x.column != i);
        Ok(())
    }

    /// The vector column an index command names; the commands change the table's definition,
    /// so they run in a statement of their own, outside an explicit transaction.
    fn index_command_column(&self, command: &str, name: &str) -> Vec0Result<usize> {
        let table = &self.layout().table;
        if self.storage.conn.in_transaction() {
            return Err(command_error(format!(
                "{command}: run it outside an explicit transaction (it changes the definition \
                 of {table})"
            )));
        }
        let vectors = &self.layout().vectors;
        vectors
            .iter()
            .position(|v| v.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
                command_error(format!(
                    "{command}: {table} has no vector column named \"{name}\" (its vector \
                     columns: {})",
                    names.join(", ")
                ))
            })
    }

    fn optimize(&self) -> Vec0Result<()> {
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
                self.storage.check_chunk_row(loc)?;
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
}

/// The arguments of command `name` (`name` then whitespace or the end), case-insensitively.
fn command_args<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let head = text.get(..name.len())?;
    let rest = &text[name.len()..];
    (head.eq_ignore_ascii_case(name) && (rest.is_empty() || rest.starts_with(char::is_whitespace)))
        .then(|| rest.trim())
}

/// An index command that cannot run as written.
fn command_error(message: String) -> Vec0Error {
    ArgumentError::new("a command", "a runnable index command", &*message)
        .worded(message)
        .into()
}
