//! `{t}_auxiliary`: auxiliary column values, one row per table row, read and written by rowid.

use super::Storage;
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::Vec0Result;
use crate::vec0::layout::Layout;

impl Storage {
    pub fn write_auxiliary(&self, rowid: i64, values: &[OwnedValue]) -> Vec0Result<()> {
        let mut params = vec![SqlValue::Integer(rowid)];
        params.extend(values.iter().map(|v| v.as_value()));
        self.execute_named(
            "write_auxiliary",
            values.len(),
            || {
                let cols: Vec<String> = (0..values.len()).map(Layout::auxiliary_column).collect();
                let marks: Vec<&str> = values.iter().map(|_| "?").collect();
                format!(
                    "INSERT OR REPLACE INTO {}(rowid, {}) VALUES (?, {})",
                    self.t("auxiliary"),
                    cols.join(", "),
                    marks.join(", ")
                )
            },
            &params,
        )
    }

    pub fn read_auxiliary(&self, rowid: i64, column: usize) -> Vec0Result<OwnedValue> {
        Ok(self
            .query_named(
                "read_auxiliary",
                column,
                || {
                    format!(
                        "SELECT {} FROM {} WHERE rowid = ?",
                        Layout::auxiliary_column(column),
                        self.t("auxiliary")
                    )
                },
                &[SqlValue::Integer(rowid)],
            )?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or(OwnedValue::Null))
    }

    pub fn delete_auxiliary(&self, rowid: i64) -> Vec0Result<()> {
        self.execute_named(
            "delete_auxiliary",
            0,
            || format!("DELETE FROM {} WHERE rowid = ?", self.t("auxiliary")),
            &[SqlValue::Integer(rowid)],
        )
    }
}
