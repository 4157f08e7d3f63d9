//! `sqlite3_blob` handles on shadow rows: opened with their C names cached, checked for the
//! size the layout gives them, and failures worded as sqlite-vec words them.

use std::ffi::CString;

use super::Storage;
use crate::error::SqlError;
use crate::ffi::connection::Blob;
use crate::vec0::error::reword;
use crate::vec0::error::{ArgumentError, Vec0Error, Vec0Result};
use crate::vec0::layout::Layout;

pub(super) struct BlobNames {
    suffix: String,
    column: &'static str,
    schema_c: CString,
    table_c: CString,
    column_c: CString,
}

/// Whether SQLite refused to open a blob handle because of the row: it is missing, or the
/// value is not a blob or text.
fn blob_row_damage(e: &SqlError) -> bool {
    e.message.contains("no such rowid") || e.message.contains("cannot open value of type")
}

impl Storage {
    pub fn open_blob(
        &self,
        suffix: &str,
        column: &'static str,
        rowid: i64,
        writable: bool,
    ) -> Vec0Result<Blob> {
        let mut names = self.blob_names.borrow_mut();
        let found = names
            .iter()
            .position(|n| n.column == column && n.suffix == suffix);
        let index = match found {
            Some(i) => i,
            None => {
                let c = |s: &str| {
                    CString::new(s).map_err(|_| {
                        ArgumentError::new("a name", "text without NUL bytes", s)
                            .worded("name contains NUL")
                    })
                };
                names.push(BlobNames {
                    suffix: suffix.to_string(),
                    column,
                    schema_c: c(&self.layout.schema)?,
                    table_c: c(&self.layout.shadow(suffix))?,
                    column_c: c(column)?,
                });
                names.len() - 1
            }
        };
        let n = &names[index];
        self.conn
            .open_blob_c(&n.schema_c, &n.table_c, &n.column_c, rowid, writable)
            .map_err(|e| {
                if blob_row_damage(&e) {
                    self.damaged(suffix, format!("{column} of row {rowid}: {}", e.message))
                } else {
                    Vec0Error::Sqlite(e)
                }
            })
    }

    /// Opens the blob `column` of row `rowid` of `suffix` and checks it has `expected` bytes.
    pub(super) fn open_sized_blob(
        &self,
        suffix: &str,
        column: &'static str,
        rowid: i64,
        writable: bool,
        expected: usize,
    ) -> Vec0Result<Blob> {
        let blob = self.open_blob(suffix, column, rowid, writable)?;
        if blob.len() != expected {
            return Err(self.damaged(
                suffix,
                format!(
                    "{column} blob of chunk {rowid} has {} bytes, {expected} expected",
                    blob.len()
                ),
            ));
        }
        Ok(blob)
    }

    /// The metadata chunk blob of column `column`, checked for its size.
    pub(super) fn open_metadata(
        &self,
        column: usize,
        chunk_id: i64,
        writable: bool,
    ) -> Vec0Result<Blob> {
        let kind = self.layout.metadata[column].kind;
        self.open_sized_blob(
            &Layout::metadata_chunks(column),
            "data",
            chunk_id,
            writable,
            kind.chunk_bytes(self.layout.chunk_size),
        )
    }

    /// The vector chunk blob of column `column`, checked for its size.
    pub fn open_vectors(&self, column: usize, chunk_id: i64, writable: bool) -> Vec0Result<Blob> {
        self.open_sized_blob(
            &Layout::vector_chunks(column),
            "vectors",
            chunk_id,
            writable,
            self.layout.chunk_size * self.layout.vectors[column].vector_bytes(),
        )
    }

    /// `schema.table.rowid` of a shadow row, as sqlite-vec names it in messages.
    pub(super) fn blob_label(&self, suffix: &str, rowid: i64) -> String {
        format!(
            "{}.{}.{rowid}",
            self.layout.schema,
            self.layout.shadow(suffix)
        )
    }

    /// Opens `{t}_chunks.column` of `chunk_id` (`validity` or `rowids`) for an insert
    /// (`insert`) or a delete, with sqlite-vec's messages when it cannot be opened or has
    /// not the size the chunk size gives it.
    pub(super) fn open_chunk_blob(
        &self,
        column: &'static str,
        chunk_id: i64,
        insert: bool,
    ) -> Vec0Result<Blob> {
        let label = self.blob_label("chunks", chunk_id);
        let blob = self
            .open_blob("chunks", column, chunk_id, true)
            .map_err(|e| {
                let prefix = if insert {
                    format!("Internal sqlite-vec error: could not open {column} blob on {label}")
                } else {
                    format!("could not open {column} blob for {label}")
                };
                match e {
                    Vec0Error::Corrupt { shadow, message } => Vec0Error::Corrupt {
                        shadow,
                        message: format!("{prefix}: {message}"),
                    },
                    other => reword(other, &prefix, true),
                }
            })?;
        let (expected, actual) = match column {
            "validity" => (self.layout.validity_bytes(), blob.len()),
            _ => (self.layout.chunk_size * 8, blob.len()),
        };
        // A delete reads one validity byte; sqlite-vec reports a blob too short for it so.
        if (insert || column != "validity") && expected != actual {
            return Err(Vec0Error::corrupt(
                &self.layout.shadow("chunks"),
                if column == "validity" {
                    format!(
                    "Internal sqlite-vec error: validity blob size mismatch on {label}, expected \
                     {expected} but received {actual}."
                )
                } else {
                    format!(
                    "Internal sqlite-vec error: {column} blob size mismatch on {label}. Expected \
                     {expected}, actual {actual}"
                )
                },
            ));
        }
        Ok(blob)
    }

    /// `{t}_chunks.validity` of `chunk_id`, opened for an insert.
    pub(super) fn open_validity(&self, chunk_id: i64) -> Vec0Result<Blob> {
        self.open_chunk_blob("validity", chunk_id, true)
    }
}
