//! `vector_fvecs_each(blob)`: one row per vector of an `.fvecs` file's contents (each vector a
//! little-endian int32 dimension count followed by that many float32s), with sqlite-vss's
//! columns `dimensions` and `vector` (a `vectorf32v0` pointer value). A truncated last record
//! ends the rows instead of reading past the blob as sqlite-vss did.

use super::vectors::pointer_output;
use crate::error::SqlResult;
use crate::ffi::connection::Connection;
use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::ffi::vtab::{ColumnContext, CreateArgs, FilterArg, ModuleKind, VTab, VTabCursor};
use crate::ffi::{SqlOutput, SqlValue};

const COLUMN_DIMENSIONS: i32 = 0;
const COLUMN_VECTOR: i32 = 1;
const COLUMN_INPUT: i32 = 2;

pub struct FvecsEach;

impl VTab for FvecsEach {
    type Aux = ();
    type Cursor = FvecsEachCursor;
    const KIND: ModuleKind = ModuleKind::EponymousOnly;

    fn connect(_: &Connection, _: &(), _: &CreateArgs, _: bool) -> SqlResult<(String, Self)> {
        Ok((
            "create table x(dimensions, vector, input hidden)".to_string(),
            FvecsEach,
        ))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        for c in info.constraints() {
            if c.column == COLUMN_INPUT && c.op == ConstraintOp::Eq && c.usable {
                info.use_constraint(c.index, 1, true);
                info.set_idx_num(1);
            }
        }
        info.set_estimated_cost(10.0);
        info.set_estimated_rows(10);
        Ok(())
    }

    fn open(&self) -> SqlResult<FvecsEachCursor> {
        Ok(FvecsEachCursor {
            vectors: Vec::new(),
            index: 0,
        })
    }
}

pub struct FvecsEachCursor {
    vectors: Vec<Vec<f32>>,
    index: usize,
}

/// Every complete record of an fvecs blob.
pub fn parse_fvecs(mut b: &[u8]) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let d = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let Ok(d) = usize::try_from(d) else { break };
        let Some(end) = d.checked_mul(4).and_then(|n| n.checked_add(4)) else {
            break;
        };
        if end > b.len() {
            break;
        }
        out.push(
            b[4..end]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        );
        b = &b[end..];
    }
    out
}

impl VTabCursor for FvecsEachCursor {
    type Table = FvecsEach;

    fn filter(
        &mut self,
        _: &FvecsEach,
        idx_num: i32,
        _: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        self.index = 0;
        self.vectors = match (idx_num, args.first().map(|a| a.value())) {
            (1, Some(SqlValue::Blob(b) | SqlValue::Text(b))) => parse_fvecs(b),
            _ => Vec::new(),
        };
        Ok(())
    }

    fn next(&mut self, _: &FvecsEach) -> SqlResult<()> {
        self.index += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.index >= self.vectors.len()
    }

    fn column(&self, _: &FvecsEach, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        let v = &self.vectors[self.index];
        out.set(match column {
            COLUMN_DIMENSIONS => SqlOutput::Integer(v.len() as i64),
            COLUMN_VECTOR => pointer_output(v.clone()),
            _ => SqlOutput::Null,
        });
        Ok(())
    }

    fn rowid(&self, _: &FvecsEach) -> SqlResult<i64> {
        Ok(self.index as i64 + 1)
    }
}
