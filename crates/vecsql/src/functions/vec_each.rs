//! `vec_each(vector)`: a table-valued function with one row per element, as in sqlite-vec.

use vecsql_core::Vector;

use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::Connection;
use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::ffi::vtab::{ColumnContext, CreateArgs, FilterArg, ModuleKind, VTab, VTabCursor};
use crate::ffi::SqlOutput;
use crate::sql_vector::vector;

const COLUMN_VALUE: i32 = 0;
const COLUMN_VECTOR: i32 = 1;

pub struct VecEach;

impl VTab for VecEach {
    type Aux = ();
    type Cursor = VecEachCursor;
    const KIND: ModuleKind = ModuleKind::EponymousOnly;

    fn connect(_: &Connection, _: &(), _: &CreateArgs, _: bool) -> SqlResult<(String, Self)> {
        Ok(("CREATE TABLE x(value, vector hidden)".to_string(), VecEach))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        let vector_eq: Vec<_> = info
            .constraints()
            .into_iter()
            .filter(|c| c.column == COLUMN_VECTOR && c.op == ConstraintOp::Eq)
            .collect();
        match vector_eq.as_slice() {
            [] => Err(SqlError::with_code(
                rusqlite::ffi::SQLITE_CONSTRAINT,
                "vec_each() needs a vector argument",
            )),
            [c] if !c.usable => Err(SqlError::with_code(
                rusqlite::ffi::SQLITE_CONSTRAINT,
                "vec_each() argument not usable yet",
            )),
            [c] => {
                info.use_constraint(c.index, 1, true);
                info.set_estimated_cost(100.0);
                info.set_estimated_rows(100);
                Ok(())
            }
            _ => Err(SqlError::new("too many arguments on vec_each() - max 1")),
        }
    }

    fn open(&self) -> SqlResult<VecEachCursor> {
        Ok(VecEachCursor {
            vector: None,
            index: 0,
        })
    }
}

pub struct VecEachCursor {
    vector: Option<Vector>,
    index: usize,
}

impl VTabCursor for VecEachCursor {
    type Table = VecEach;

    fn filter(
        &mut self,
        _: &VecEach,
        _: i32,
        _: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        let arg = args
            .first()
            .ok_or_else(|| SqlError::new("vec_each() needs a vector argument"))?;
        self.vector = Some(vector(&arg.arg()).map_err(|e| e.context("vec_each"))?);
        self.index = 0;
        Ok(())
    }

    fn next(&mut self, _: &VecEach) -> SqlResult<()> {
        self.index += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.vector
            .as_ref()
            .is_none_or(|v| self.index >= v.dimensions())
    }

    fn column(&self, _: &VecEach, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        let v = self
            .vector
            .as_ref()
            .ok_or_else(|| SqlError::internal("vec_each cursor read before filter"))?;
        let i = self.index;
        out.set(match (column, v) {
            (COLUMN_VALUE, Vector::Float32(x)) => {
                let f = x[i] as f64;
                if f.is_nan() {
                    SqlOutput::Null
                } else {
                    SqlOutput::Real(f)
                }
            }
            (COLUMN_VALUE, Vector::Int8(x)) => SqlOutput::Integer(x[i] as i64),
            // sqlite-vec's vec_each reads bits most significant first, unlike its vec_to_json
            // and vec_quantize_binary; kept so results match.
            (COLUMN_VALUE, Vector::Bit(b)) => {
                SqlOutput::Integer(((b.bytes()[i / 8] >> (7 - i % 8)) & 1) as i64)
            }
            (COLUMN_VALUE, other) => SqlOutput::Real(other.to_f64()[i]),
            _ => SqlOutput::Null,
        });
        Ok(())
    }

    fn rowid(&self, _: &VecEach) -> SqlResult<i64> {
        Ok(self.index as i64)
    }
}
