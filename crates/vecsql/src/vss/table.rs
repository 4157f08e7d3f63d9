//! The `vss0` virtual table: sqlite-vss's SQL over vecsql's storage.
//!
//! Each vector column `c` of a vss0 table `t` is a hidden vec0 table `t_vecsql_c` (one float32
//! column `v`, the metric and index its factory string asks for; see `factory.rs`), and
//! `t_data` lists the rowids, as in sqlite-vss. Everything is plain SQL on the same
//! connection, so writes are part of SQLite's transaction: rows are searchable before COMMIT,
//! ROLLBACK undoes them, and nothing is held in memory beyond vec0's own caches.
//!
//! Queries: `vss_search(col, ...)` and `vss_range_search(col, ...)` reach xBestIndex as
//! function constraints (xFindFunction); a search becomes `v match ? and k = ?` on the
//! column's vec0 table, with distances converted to sqlite-vss's units (squared L2, inner
//! product).
//!
//! Tables written by sqlite-vss (Faiss indexes in `t_index`) are converted on first use: the
//! vectors and rowids are read out of the Faiss streams (`faiss.rs`) into the vec0 tables,
//! then `t_index` is dropped.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::factory::{parse_column, ColumnSpec};
use super::faiss;
use super::functions::{
    RangeSearchParams, SearchParams, RANGE_SEARCH_PARAMS_POINTER, SEARCH_PARAMS_POINTER,
};
use super::vectors::{plain_value_as_vector, to_raw, VECTOR_POINTER};
use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::{Connection, Statement};
use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::ffi::vtab::{
    Change, ColumnContext, CreateArgs, FilterArg, ModuleKind, UpdateValue, VTab, VTabCursor,
};
use crate::ffi::{OwnedValue, SqlOutput, SqlValue};

/// Constraint codes xFindFunction gives `vss_search` and `vss_range_search` (as sqlite-vss).
const SEARCH_OP: u8 = 150;
const RANGE_SEARCH_OP: u8 = 151;

const COLUMN_DISTANCE: i32 = 0;
const COLUMN_OPERATION: i32 = 1;
const FIRST_VECTOR_COLUMN: i32 = 2;

/// vec0's largest `k`; larger searches scan exactly instead.
const VEC0_MAX_K: i64 = 4096;

/// The float32s of a vector blob.
fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `"name"` with embedded quotes doubled.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether SQLite hands the LIMIT of a query with a function constraint to the table: not
/// before 3.41, where (as in sqlite-vss) only `vss_search_params(vector, k)` works.
fn limit_reaches_tables() -> bool {
    // SAFETY: libversion_number takes no arguments and is present in every host.
    unsafe { crate::ffi::call!(libversion_number()) >= 3_041_000 }
}

pub struct VssTable {
    conn: Connection,
    schema: String,
    name: String,
    columns: Vec<ColumnSpec>,
    /// Set while the table still holds sqlite-vss's Faiss indexes (converted on first use).
    legacy: Cell<bool>,
    /// Each column's prepared KNN statement on its hidden table (a prepare per query cost
    /// about a quarter of a search). Emptied before the hidden tables are renamed or dropped.
    knn: RefCell<Vec<Option<Statement>>>,
}

impl VssTable {
    fn shadow(&self, suffix: &str) -> String {
        format!(
            "{}.{}",
            quote(&self.schema),
            quote(&format!("{}_{suffix}", self.name))
        )
    }

    fn hidden_name(&self, col: usize) -> String {
        format!("{}_vecsql_{}", self.name, self.columns[col].name)
    }

    /// The vec0 table holding column `col`, schema-qualified and quoted.
    fn hidden(&self, col: usize) -> String {
        format!("{}.{}", quote(&self.schema), quote(&self.hidden_name(col)))
    }

    fn table_exists(&self, name: &str) -> SqlResult<bool> {
        let mut stmt = self.conn.prepare(&format!(
            "select count(*) from {}.sqlite_master where type = 'table' and name = ?",
            quote(&self.schema)
        ))?;
        let rows = stmt.query(&[SqlValue::Text(name.as_bytes())])?;
        Ok(matches!(rows.first().and_then(|r| r.first()), Some(OwnedValue::Integer(n)) if *n > 0))
    }

    fn create_hidden(&self, col: usize) -> SqlResult<()> {
        self.conn.execute_batch(&format!(
            "create virtual table {} using vec0({})",
            self.hidden(col),
            self.columns[col].vec0_definition()
        ))
    }

    /// Converts a table written by sqlite-vss, once.
    fn ensure_ready(&self) -> SqlResult<()> {
        if self.legacy.get() {
            self.migrate()?;
            self.legacy.set(false);
        }
        Ok(())
    }

    fn migrate(&self) -> SqlResult<()> {
        // Read every stream before writing anything, so a table that cannot be converted is
        // left exactly as it was.
        let mut pending = Vec::new();
        for (i, spec) in self.columns.iter().enumerate() {
            if self.table_exists(&self.hidden_name(i))? {
                continue;
            }
            let mut stmt = self.conn.prepare(&format!(
                "select idx from {} where rowid = ?",
                self.shadow("index")
            ))?;
            let rows = stmt.query(&[SqlValue::Integer(i as i64)])?;
            let Some(OwnedValue::Blob(stream)) =
                rows.into_iter().next().and_then(|r| r.into_iter().next())
            else {
                return Err(SqlError::new(format!(
                    "vss0 table \"{}\": no stored index for column {} (row {i} of {}_index)",
                    self.name, spec.name, self.name
                )));
            };
            let contents = faiss::read(&stream).map_err(|e| {
                let advice = match e {
                    faiss::FaissError::Lossy(_) => {
                        "vecsql cannot recover the original vectors. Re-insert them into a new \
                         vss0 table (or keep sqlite-vss for this one), then drop this table"
                    }
                    _ => "vecsql cannot convert it; re-insert the vectors into a new vss0 table",
                };
                SqlError::new(format!(
                    "vss0 table \"{}\" was written by sqlite-vss, and column {} (factory \
                     \"{}\"): {e}; {advice}",
                    self.name, spec.name, spec.factory
                ))
            })?;
            if contents.dimensions != spec.dimensions {
                return Err(SqlError::new(format!(
                    "vss0 table \"{}\": the stored index of column {} has {} dimensions, the \
                     table declares {}",
                    self.name, spec.name, contents.dimensions, spec.dimensions
                )));
            }
            pending.push((i, contents));
        }
        self.conn.execute_batch("savepoint vecsql_vss_convert")?;
        let result = (|| -> SqlResult<()> {
            for (i, contents) in &pending {
                self.create_hidden(*i)?;
                let mut insert = self.conn.prepare(&format!(
                    "insert into {}(rowid, v) values (?, ?)",
                    self.hidden(*i)
                ))?;
                for (id, v) in &contents.rows {
                    insert.execute(&[SqlValue::Integer(*id), SqlValue::Blob(&to_raw(v))])?;
                }
            }
            // The Faiss copies are now redundant (up to 1 GB). DROP TABLE is refused while
            // other statements run (the usual case: conversion happens inside the first query
            // on the table), so the rows are deleted and the empty table stays.
            let index = self.shadow("index");
            if self
                .conn
                .execute_batch(&format!("drop table if exists {index}"))
                .is_err()
            {
                self.conn.execute_batch(&format!("delete from {index}"))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => self.conn.execute_batch("release vecsql_vss_convert"),
            Err(e) => {
                let _ = self
                    .conn
                    .execute_batch("rollback to vecsql_vss_convert; release vecsql_vss_convert");
                Err(SqlError::new(format!(
                    "vss0 table \"{}\" was written by sqlite-vss and is converted to vecsql's \
                     storage on first use (the database must be writable): {}",
                    self.name, e.message
                )))
            }
        }
    }

    /// `(rowid, distance)` of every stored vector of `col`, in sqlite-vss's units and order.
    fn scan(&self, col: usize, query: &[f32]) -> SqlResult<Vec<(i64, f64)>> {
        let metric = self.columns[col].metric;
        let mut stmt = self
            .conn
            .prepare(&format!("select rowid, v from {}", self.hidden(col)))?;
        let rows = stmt.query(&[])?;
        let mut out: Vec<(i64, f64)> = rows
            .into_iter()
            .filter_map(|r| match (&r[0], &r[1]) {
                (OwnedValue::Integer(id), OwnedValue::Blob(b)) => {
                    Some((*id, metric.distance(query, &floats(b)) as f64))
                }
                _ => None,
            })
            .collect();
        if metric.descending() {
            out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        } else {
            out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        }
        Ok(out)
    }

    fn check_dimensions(&self, col: usize, query: &[f32]) -> SqlResult<()> {
        let d = self.columns[col].dimensions;
        if query.len() != d {
            return Err(SqlError::new(format!(
                "Input query size doesn't match index dimensions: {} != {d}",
                query.len()
            )));
        }
        Ok(())
    }

    fn search(
        &self,
        col: usize,
        flags: &str,
        args: &[FilterArg<'_>],
    ) -> SqlResult<Vec<(i64, Option<f64>)>> {
        let mut next = 1;
        let mut extra = |present: bool| -> Option<i64> {
            if !present {
                return None;
            }
            let v = args.get(next).map(|a| match a.value() {
                SqlValue::Integer(i) => i,
                SqlValue::Real(f) => f as i64,
                _ => 0,
            });
            next += 1;
            v
        };
        let limit = extra(flags.contains('L'));
        let offset = extra(flags.contains('O')).unwrap_or(0).max(0);
        let (query, k) = if let Some(p) = args[0].pointer::<SearchParams>(SEARCH_PARAMS_POINTER) {
            (p.vector.clone(), p.k)
        } else if !limit_reaches_tables() {
            return Err(SqlError::new(
                "vss_search() only support vss_search_params() as a 2nd parameter for SQLite \
                 versions below 3.41.0",
            ));
        } else {
            let vector = args[0]
                .pointer::<Vec<f32>>(VECTOR_POINTER)
                .map(|v| v.as_ref().clone())
                .or_else(|| plain_value_as_vector(&args[0].value()))
                .ok_or_else(|| SqlError::new("2nd argument to vss_search() must be a vector"))?;
            match limit {
                Some(l) => (vector, l.saturating_add(offset)),
                None => return Err(SqlError::new("LIMIT required on vss_search() queries")),
            }
        };
        self.check_dimensions(col, &query)?;
        if k <= 0 {
            return Err(SqlError::new(format!(
                "Limit must be greater than 0, got {k}"
            )));
        }
        let metric = self.columns[col].metric;
        if k > VEC0_MAX_K || metric.exact_only() {
            let mut all = self.scan(col, &query)?;
            all.truncate(usize::try_from(k).unwrap_or(usize::MAX));
            return Ok(all.into_iter().map(|(id, d)| (id, Some(d))).collect());
        }
        let mut cache = self.knn.borrow_mut();
        let stmt = match &mut cache[col] {
            Some(stmt) => stmt,
            slot => slot.insert(self.conn.prepare(&format!(
                "select rowid, distance from {} where v match ?1 and k = ?2 order by distance",
                self.hidden(col)
            ))?),
        };
        let rows = stmt.query(&[SqlValue::Blob(&to_raw(&query)), SqlValue::Integer(k)])?;
        // Squared L2 is vec0's float32 distance squared in float32: within about 1e-7
        // (relative) of Faiss's float32 sum, whose own last bits depend on its SIMD order.
        // Recomputing it from the stored vectors cost 0.1 ms per returned row on a file
        // database (each read opens the row's chunk blob), ten times the search.
        Ok(rows
            .into_iter()
            .filter_map(|r| match (&r[0], &r[1]) {
                (OwnedValue::Integer(id), OwnedValue::Real(d)) => {
                    Some((*id, Some(metric.from_vec0_distance(*d))))
                }
                _ => None,
            })
            .collect())
    }

    fn range_search(
        &self,
        col: usize,
        args: &[FilterArg<'_>],
    ) -> SqlResult<Vec<(i64, Option<f64>)>> {
        let params = args[0]
            .pointer::<RangeSearchParams>(RANGE_SEARCH_PARAMS_POINTER)
            .ok_or_else(|| {
                SqlError::new(
                    "vss_range_search() needs vss_range_search_params(vector, distance) as its \
                     2nd argument",
                )
            })?;
        self.check_dimensions(col, &params.vector)?;
        let metric = self.columns[col].metric;
        let radius = params.distance as f64;
        Ok(self
            .scan(col, &params.vector)?
            .into_iter()
            .filter(|&(_, d)| {
                if metric.descending() {
                    d > radius
                } else {
                    d < radius
                }
            })
            .map(|(id, d)| (id, Some(d)))
            .collect())
    }

    fn rowids(&self, only: Option<i64>) -> SqlResult<Vec<(i64, Option<f64>)>> {
        let rows = match only {
            Some(id) => self
                .conn
                .prepare(&format!(
                    "select rowid from {} where rowid = ?",
                    self.shadow("data")
                ))?
                .query(&[SqlValue::Integer(id)])?,
            None => self
                .conn
                .prepare(&format!("select rowid from {}", self.shadow("data")))?
                .query(&[])?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|r| match r.first() {
                Some(OwnedValue::Integer(id)) => Some((*id, None)),
                _ => None,
            })
            .collect())
    }

    /// The vector an INSERT or UPDATE gives column `col`, if any.
    fn new_vector(&self, col: usize, value: &UpdateValue<'_>) -> SqlResult<Option<Vec<f32>>> {
        if let Some(v) = value.pointer::<Vec<f32>>(VECTOR_POINTER) {
            return Ok(Some(v.as_ref().clone()));
        }
        if value.value.value == SqlValue::Null {
            return Ok(None);
        }
        plain_value_as_vector(&value.value.value)
            .map(Some)
            .ok_or_else(|| {
                SqlError::new(format!(
                    "vss0: the value for column {} is not a vector (give a float32 blob, JSON \
                     text such as '[0.1, 0.2]', or a vector_from_*() value)",
                    self.columns[col].name
                ))
            })
    }

    fn insert_vector(&self, col: usize, rowid: i64, v: &[f32]) -> SqlResult<()> {
        self.conn
            .prepare(&format!(
                "insert into {}(rowid, v) values (?, ?)",
                self.hidden(col)
            ))?
            .execute(&[SqlValue::Integer(rowid), SqlValue::Blob(&to_raw(v))])
            .map_err(|e| e.context(&format!("vss0 column {}", self.columns[col].name)))
    }

    fn delete_vector(&self, col: usize, rowid: i64) -> SqlResult<()> {
        self.conn
            .prepare(&format!("delete from {} where rowid = ?", self.hidden(col)))?
            .execute(&[SqlValue::Integer(rowid)])
    }

    fn read_vector(&self, col: usize, rowid: i64) -> SqlResult<Option<Vec<u8>>> {
        let rows = self
            .conn
            .prepare(&format!(
                "select v from {} where rowid = ?",
                self.hidden(col)
            ))?
            .query(&[SqlValue::Integer(rowid)])?;
        Ok(
            match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                Some(OwnedValue::Blob(b)) => Some(b),
                _ => None,
            },
        )
    }

    fn insert(&self, change: &Change<'_>) -> SqlResult<Option<i64>> {
        let operation = change.values[COLUMN_OPERATION as usize].value.value;
        match operation {
            SqlValue::Null => {}
            // sqlite-vss trained its Faiss index on these rows; vecsql's HNSW index needs no
            // training, so they are accepted and dropped.
            SqlValue::Text(b"training") => return Ok(None),
            other => {
                return Err(SqlError::new(format!(
                    "vss0: unknown operation {:?} (only 'training' is accepted)",
                    String::from_utf8_lossy(match other {
                        SqlValue::Text(t) | SqlValue::Blob(t) => t,
                        _ => b"",
                    })
                )))
            }
        }
        let vectors = (0..self.columns.len())
            .map(|i| self.new_vector(i, &change.values[FIRST_VECTOR_COLUMN as usize + i]))
            .collect::<SqlResult<Vec<_>>>()?;
        if vectors.iter().all(Option::is_none) {
            // As sqlite-vss: a row without any vector is not stored.
            return Ok(None);
        }
        let rowid = match change.new_rowid {
            Some(SqlValue::Integer(i)) => SqlValue::Integer(i),
            _ => SqlValue::Null,
        };
        self.conn
            .prepare(&format!(
                "insert into {}(rowid, _) values (?, null)",
                self.shadow("data")
            ))?
            .execute(&[rowid])?;
        let rowid = self.conn.last_insert_rowid();
        for (i, v) in vectors.iter().enumerate() {
            if let Some(v) = v {
                self.insert_vector(i, rowid, v)?;
            }
        }
        Ok(Some(rowid))
    }

    fn delete(&self, rowid: i64) -> SqlResult<()> {
        self.conn
            .prepare(&format!(
                "delete from {} where rowid = ?",
                self.shadow("data")
            ))?
            .execute(&[SqlValue::Integer(rowid)])?;
        for i in 0..self.columns.len() {
            self.delete_vector(i, rowid)?;
        }
        Ok(())
    }

    fn update_row(&self, old: i64, change: &Change<'_>) -> SqlResult<()> {
        let new = match change.new_rowid {
            Some(SqlValue::Integer(i)) => i,
            _ => old,
        };
        if new != old {
            self.conn
                .prepare(&format!(
                    "update {} set rowid = ? where rowid = ?",
                    self.shadow("data")
                ))?
                .execute(&[SqlValue::Integer(new), SqlValue::Integer(old)])?;
        }
        for i in 0..self.columns.len() {
            let value = &change.values[FIRST_VECTOR_COLUMN as usize + i];
            if value.unchanged {
                if new != old {
                    if let Some(bytes) = self.read_vector(i, old)? {
                        self.delete_vector(i, old)?;
                        self.insert_vector(i, new, &floats(&bytes))?;
                    }
                }
                continue;
            }
            let v = self.new_vector(i, value)?;
            self.delete_vector(i, old)?;
            if let Some(v) = v {
                self.insert_vector(i, new, &v)?;
            }
        }
        Ok(())
    }
}

impl VTab for VssTable {
    type Aux = ();
    type Cursor = VssCursor;
    const KIND: ModuleKind = ModuleKind::Regular;

    fn connect(
        db: &Connection,
        _: &(),
        args: &CreateArgs,
        create: bool,
    ) -> SqlResult<(String, Self)> {
        let columns = args
            .args
            .iter()
            .map(|a| parse_column(a))
            .collect::<SqlResult<Vec<_>>>()?;
        if columns.is_empty() {
            return Err(SqlError::new(
                "vss0: a table needs at least one vector column, e.g. vss0(embedding(384))",
            ));
        }
        let mut declaration = "create table x(distance hidden, operation hidden".to_string();
        for c in &columns {
            declaration.push_str(", ");
            declaration.push_str(&quote(&c.name));
        }
        declaration.push(')');
        let table = VssTable {
            conn: *db,
            schema: args.schema.clone(),
            name: args.table.clone(),
            knn: RefCell::new(columns.iter().map(|_| None).collect()),
            columns,
            legacy: Cell::new(false),
        };
        if create {
            db.execute_batch(&format!(
                "create table {}(rowid integer primary key autoincrement, _)",
                table.shadow("data")
            ))?;
            for i in 0..table.columns.len() {
                table.create_hidden(i)?;
            }
        } else {
            let mut missing = false;
            for i in 0..table.columns.len() {
                missing |= !table.table_exists(&table.hidden_name(i))?;
            }
            if missing && !table.table_exists(&format!("{}_index", table.name))? {
                return Err(SqlError::new(format!(
                    "vss0 table \"{}\": the vec0 tables holding its vectors are missing",
                    table.name
                )));
            }
            table.legacy.set(missing);
        }
        Ok((declaration, table))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        let constraints = info.constraints();
        let usable = |op: ConstraintOp, vector_column: bool| {
            constraints.iter().find(|c| {
                c.usable && c.op == op && (!vector_column || c.column >= FIRST_VECTOR_COLUMN)
            })
        };
        let search = usable(ConstraintOp::Function(SEARCH_OP), true);
        let range = usable(ConstraintOp::Function(RANGE_SEARCH_OP), true);
        let limit = usable(ConstraintOp::Limit, false);
        let offset = usable(ConstraintOp::Offset, false);
        let rowid_eq = constraints
            .iter()
            .find(|c| c.usable && c.op == ConstraintOp::Eq && c.column == -1);
        if let Some(s) = search {
            let col = (s.column - FIRST_VECTOR_COLUMN) as usize;
            info.use_constraint(s.index, 1, true);
            let mut plan = "search".to_string();
            let mut argv = 2;
            if let Some(l) = limit {
                info.use_constraint(l.index, argv, true);
                plan.push('L');
                argv += 1;
                if let Some(o) = offset {
                    // SQLite still skips the OFFSET rows itself: k covers them.
                    info.use_constraint(o.index, argv, false);
                    plan.push('O');
                }
            }
            let order = info.order_by();
            if order.len() == 1
                && order[0].column == COLUMN_DISTANCE
                && order[0].desc == self.columns[col].metric.descending()
            {
                info.set_order_by_consumed(true);
            }
            info.set_idx_num(col as i32);
            info.set_idx_str(&plan);
            info.set_estimated_cost(300.0);
            info.set_estimated_rows(10);
        } else if let Some(r) = range {
            info.use_constraint(r.index, 1, true);
            info.set_idx_num(r.column - FIRST_VECTOR_COLUMN);
            info.set_idx_str("range");
            info.set_estimated_cost(300.0);
            info.set_estimated_rows(10);
        } else if let Some(e) = rowid_eq {
            info.use_constraint(e.index, 1, true);
            info.set_idx_str("rowid");
            info.set_estimated_cost(1.0);
            info.set_estimated_rows(1);
            info.set_unique();
        } else {
            info.set_idx_str("fullscan");
            info.set_estimated_cost(3_000_000.0);
            info.set_estimated_rows(100_000);
        }
        Ok(())
    }

    fn open(&self) -> SqlResult<VssCursor> {
        Ok(VssCursor {
            rows: Vec::new(),
            pos: 0,
            readers: RefCell::new(HashMap::new()),
        })
    }

    fn find_function(&self, n_args: i32, name: &str) -> Option<u8> {
        if n_args != 2 {
            None
        } else if name.eq_ignore_ascii_case("vss_search") {
            Some(SEARCH_OP)
        } else if name.eq_ignore_ascii_case("vss_range_search") {
            Some(RANGE_SEARCH_OP)
        } else {
            None
        }
    }

    fn destroy(&mut self) -> SqlResult<()> {
        self.knn.borrow_mut().iter_mut().for_each(|s| *s = None);
        let mut sql = format!(
            "drop table if exists {}; drop table if exists {};",
            self.shadow("data"),
            self.shadow("index")
        );
        for i in 0..self.columns.len() {
            sql.push_str(&format!("drop table if exists {};", self.hidden(i)));
        }
        self.conn.execute_batch(&sql)
    }

    fn update(&mut self, change: &Change<'_>) -> SqlResult<Option<i64>> {
        self.ensure_ready()?;
        let as_rowid = |v: &SqlValue<'_>| match v {
            SqlValue::Integer(i) => Ok(*i),
            _ => Err(SqlError::new("vss0: rowids are integers")),
        };
        match (&change.old_rowid, &change.new_rowid) {
            (Some(old), None) => {
                self.delete(as_rowid(old)?)?;
                Ok(None)
            }
            (None, Some(_)) => self.insert(change),
            (Some(old), Some(_)) => {
                self.update_row(as_rowid(old)?, change)?;
                Ok(None)
            }
            (None, None) => Ok(None),
        }
    }

    fn rename(&mut self, new_name: &str) -> SqlResult<()> {
        self.knn.borrow_mut().iter_mut().for_each(|s| *s = None);
        let mut sql = String::new();
        for suffix in ["data", "index"] {
            if self.table_exists(&format!("{}_{suffix}", self.name))? {
                sql.push_str(&format!(
                    "alter table {} rename to {};",
                    self.shadow(suffix),
                    quote(&format!("{new_name}_{suffix}"))
                ));
            }
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.table_exists(&self.hidden_name(i))? {
                sql.push_str(&format!(
                    "alter table {} rename to {};",
                    self.hidden(i),
                    quote(&format!("{new_name}_vecsql_{}", c.name))
                ));
            }
        }
        self.conn.execute_batch(&sql)?;
        self.name = new_name.to_string();
        Ok(())
    }

    fn is_shadow_name(suffix: &str) -> bool {
        suffix.eq_ignore_ascii_case("index") || suffix.eq_ignore_ascii_case("data")
    }
}

pub struct VssCursor {
    /// `(rowid, distance)` of every row of the scan, computed in xFilter.
    rows: Vec<(i64, Option<f64>)>,
    pos: usize,
    /// One `select v ... where rowid = ?` per vector column read.
    readers: RefCell<HashMap<usize, Statement>>,
}

impl VTabCursor for VssCursor {
    type Table = VssTable;

    fn filter(
        &mut self,
        table: &VssTable,
        idx_num: i32,
        idx_str: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        table.ensure_ready()?;
        self.pos = 0;
        let col = usize::try_from(idx_num).unwrap_or(0);
        self.rows = match idx_str.unwrap_or("fullscan") {
            s if s.starts_with("search") => table.search(col, &s["search".len()..], args)?,
            "range" => table.range_search(col, args)?,
            "rowid" => match args.first().map(|a| a.value()) {
                Some(SqlValue::Integer(id)) => table.rowids(Some(id))?,
                _ => Vec::new(),
            },
            _ => table.rowids(None)?,
        };
        Ok(())
    }

    fn next(&mut self, _: &VssTable) -> SqlResult<()> {
        self.pos += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.pos >= self.rows.len()
    }

    fn column(&self, table: &VssTable, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        let (rowid, distance) = self.rows[self.pos];
        match column {
            COLUMN_DISTANCE => out.set(distance.map_or(SqlOutput::Null, SqlOutput::Real)),
            COLUMN_OPERATION => out.set(SqlOutput::Null),
            _ => {
                if out.no_change() {
                    return Ok(());
                }
                let col = (column - FIRST_VECTOR_COLUMN) as usize;
                let mut readers = self.readers.borrow_mut();
                let stmt = match readers.entry(col) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(table.conn.prepare(
                        &format!("select v from {} where rowid = ?", table.hidden(col)),
                    )?),
                };
                let rows = stmt.query(&[SqlValue::Integer(rowid)])?;
                out.set(
                    match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                        Some(OwnedValue::Blob(b)) => SqlOutput::blob(b),
                        _ => SqlOutput::Null,
                    },
                );
            }
        }
        Ok(())
    }

    fn rowid(&self, _: &VssTable) -> SqlResult<i64> {
        Ok(self.rows[self.pos].0)
    }
}
