//! Table commands, written as inserts into the hidden column named after the table
//! (`insert into t(t) values ('optimize')`), as FTS5 does.

use super::index::Knob;
use super::storage::RowLocation;
use super::table::Vec0Table;
use super::values::Purpose;
use crate::ffi::{SqlArg, SqlValue};
use crate::vec0::error::{ArgumentError, Vec0Result};

/// What `run_command` lists after an unknown command.
const COMMANDS: &str = "vecsql's commands are 'optimize', 'rebuild-index', and for tables \
                        with an ANN index 'search_list_size=N', 'search_list_size_search=N', \
                        'search_list_size_insert=N' and 'oversample=N'";

impl Vec0Table {
    /// Table commands, `insert into t(t) values ('...')`:
    /// - `optimize` moves rows from the table's last chunks into free slots of earlier chunks
    ///   of the same partition, so chunks emptied by scattered deletes are removed and
    ///   `VACUUM` can give their pages back;
    /// - `rebuild-index` relinks every row of every ANN index;
    /// - sqlite-vec 0.1.10's index knobs `search_list_size=N`, `search_list_size_search=N`,
    ///   `search_list_size_insert=N` and `oversample=N`, mapped onto every HNSW index of the
    ///   table (see [`Knob`]) and stored with it.
    pub(super) fn run_command(&self, command: &SqlValue<'_>) -> Vec0Result<()> {
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
