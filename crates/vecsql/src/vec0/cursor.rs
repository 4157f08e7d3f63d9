//! The vec0 cursor: runs the plan xBestIndex chose (a full scan, a key lookup, or a KNN
//! query through [`super::query`]) and hands SQLite the rows' columns.

use std::collections::HashSet;

use super::layout::ColumnRole;
use super::query::plan::{PlanArg, QueryPlan};
use super::query::request::{Arg, KnnRequest};
use super::storage::RowLocation;
use super::table::Vec0Table;
use crate::error::SqlResult;
use crate::ffi::vtab::{ColumnContext, FilterArg, VTabCursor};
use crate::ffi::{OwnedValue, SqlOutput};
use crate::vec0::error::{reword, Vec0Error, Vec0Result};

struct CursorRow {
    rowid: i64,
    location: Option<RowLocation>,
    distance: Option<f64>,
}

#[derive(Default)]
pub struct Vec0Cursor {
    rows: Vec<CursorRow>,
    position: usize,
    k: Option<i64>,
}

impl Vec0Cursor {
    fn current(&self) -> Vec0Result<&CursorRow> {
        self.rows
            .get(self.position)
            .ok_or_else(|| Vec0Error::internal("vec0 cursor read past its end"))
    }

    fn knn(
        &mut self,
        table: &Vec0Table,
        vector_column: usize,
        plan_args: &[PlanArg],
        args: &[FilterArg<'_>],
    ) -> Vec0Result<()> {
        let args = plan_args
            .iter()
            .zip(args)
            .map(|(plan_arg, arg)| {
                Ok(match plan_arg {
                    PlanArg::MetadataIn(_) | PlanArg::PartitionIn(_) | PlanArg::KeyIn => {
                        Arg::List(arg.in_values()?)
                    }
                    _ => Arg::Value(arg.arg()),
                })
            })
            .collect::<Vec0Result<Vec<_>>>()?;
        let request = KnnRequest::bind(table.layout(), vector_column, plan_args, &args)?;
        self.k = Some(request.k);
        let index = table.index_of(vector_column);
        let neighbours = super::query::run(&table.storage, index, request)?;
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
                    .scan_locations()?
                    .into_iter()
                    .map(|location| CursorRow {
                        rowid: location.rowid,
                        location: Some(location),
                        distance: None,
                    })
                    .collect();
            }
            QueryPlan::Point { arg } => {
                let arg0 = args
                    .first()
                    .ok_or_else(|| Vec0Error::internal("point plan without a key"))?;
                let keys: Vec<OwnedValue> = match arg {
                    PlanArg::KeyIn => arg0.in_values()?,
                    _ => vec![arg0.value().to_owned_value()],
                };
                let affinity = table.layout().affinity(ColumnRole::Key);
                // As the key column would store them: a whole real in range is the integer.
                let keys = keys.into_iter().map(|k| affinity.store(k));
                let mut seen = HashSet::new();
                for key in keys {
                    let rowid = match (&key, table.layout().text_primary_key()) {
                        (OwnedValue::Integer(i), false) => Some(*i),
                        (OwnedValue::Text(t), true) => {
                            table.storage.rowid_for_text_key(t.as_bytes())?
                        }
                        _ => None,
                    };
                    // Located (and checked against its chunk) once, for every column.
                    let location = match rowid {
                        Some(rowid) => table.storage.locate(rowid)?,
                        None => None,
                    };
                    if let Some(location) = location {
                        if seen.insert(location.rowid) {
                            self.rows.push(CursorRow {
                                rowid: location.rowid,
                                location: Some(location),
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
            .ok_or_else(|| Vec0Error::internal(format!("vec0 has no column {column}")))?;
        if out.no_change() && !matches!(role, ColumnRole::Key) {
            return Ok(());
        }
        let location = || -> Vec0Result<RowLocation> {
            match row.location {
                Some(l) => Ok(l),
                None => table
                    .storage
                    .locate(row.rowid)?
                    .ok_or_else(|| Vec0Error::internal(format!("row {} vanished", row.rowid))),
            }
        };
        let value = match role {
            ColumnRole::Key => table.key_value(row.rowid)?.to_output(),
            ColumnRole::Vector(v) => SqlOutput::Blob {
                bytes: table.storage.read_vector(v, location()?)?,
                // sqlite-vec's types carry their subtype, so `vec_to_json(emb)` reads int8 and bit
                // columns correctly.
                subtype: layout.vectors[v].element.sqlite_vec_subtype(),
            },
            ColumnRole::Metadata(m) => table
                .storage
                .read_metadata(m, location()?)
                .map_err(|e| {
                    let name = &layout.metadata[m].name;
                    let rowid = row.rowid;
                    reword(
                        e,
                        &format!(
                            "Could not extract metadata value for column {name} at rowid {rowid}"
                        ),
                        true,
                    )
                })?
                .to_output(),
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
