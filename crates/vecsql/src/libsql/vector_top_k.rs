//! `vector_top_k(index_name, query, k)`: libSQL's table function over a vector index, with one
//! column `id` (the table's rowid, or the single-column PRIMARY KEY of a WITHOUT ROWID table),
//! nearest first. It resolves the index in `sqlite_schema`, makes sure its hidden vec0 table is
//! current (building it if not, see [`super::index`]) and runs vec0's KNN on it.
//!
//! vecsql also takes an optional fourth argument, `search_l`: the candidate list size of this
//! one search (vec0's `ef_search`), where libSQL fixes it per index.
//!
//! On tables with a UNIQUE constraint besides the key, each answer is checked against the
//! table, because `OR REPLACE` deletes rows there without running the DELETE trigger.
//!
//! Resolution is cached per connection and index name, keyed by the schema's
//! `schema_version`: any DDL (by this or another connection) changes it. Only states seen
//! outside an explicit transaction and without a build are cached, so a rolled-back
//! transaction can never leave a cached answer the file no longer agrees with.

use std::cell::RefCell;
use std::collections::HashMap;

use super::index::{ident, resolve, VectorIndex};
use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::{Connection, Statement};
use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::ffi::vtab::{ColumnContext, CreateArgs, FilterArg, ModuleKind, VTab, VTabCursor};
use crate::ffi::{OwnedValue, SqlValue};

const COLUMN_ID: i32 = 0;
const ARGUMENT_COLUMNS: [i32; 3] = [1, 2, 3];
/// vecsql's optional fourth argument: the search's candidate list size (vec0's `ef_search`,
/// libSQL's `search_l` for one query).
const COLUMN_SEARCH_L: i32 = 4;
/// vec0's largest k (its KNN refuses more).
const MAX_K: i64 = 4096;

struct Resolved {
    index: VectorIndex,
    knn: Statement,
    knn_search_l: Statement,
    /// For tables where `OR REPLACE` can delete rows unseen (see [`super::index`]): whether a
    /// key is still an indexed row, and its removal from the hidden table.
    check: Option<(Statement, Statement)>,
    /// `schema_version` when cached, and the statement that reads it.
    version: Option<(i64, Statement)>,
}

pub struct VectorTopK {
    conn: Connection,
    cache: RefCell<HashMap<String, Resolved>>,
}

fn schema_version(stmt: &mut Statement) -> SqlResult<i64> {
    match stmt.query(&[])?.first().and_then(|r| r.first()) {
        Some(OwnedValue::Integer(v)) => Ok(*v),
        _ => Err(SqlError::internal(
            "PRAGMA schema_version returned no integer",
        )),
    }
}

fn search_error(message: impl std::fmt::Display) -> SqlError {
    SqlError::new(format!("vector index(search): {message}"))
}

impl VectorTopK {
    fn resolve(&self, name: &str) -> SqlResult<Resolved> {
        let conn = &self.conn;
        let cacheable = !conn.in_transaction();
        let index = resolve(conn, name)?;
        let built = index.ensure(conn)?;
        let knn_sql = format!(
            "SELECT {} FROM {}.{} WHERE embedding MATCH ?1 AND k = ?2",
            index.key.hidden(),
            ident(&index.schema),
            ident(&index.hidden)
        );
        let knn = conn.prepare(&format!("{knn_sql} ORDER BY distance"))?;
        let knn_search_l =
            conn.prepare(&format!("{knn_sql} AND ef_search = ?3 ORDER BY distance"))?;
        let check = if index.has_other_unique(conn)? {
            Some((
                conn.prepare(&index.row_is_indexed_sql())?,
                conn.prepare(&index.forget_row_sql())?,
            ))
        } else {
            None
        };
        let schema = index.schema.to_ascii_lowercase();
        let version = if cacheable && !built && (schema == "main" || schema == "temp") {
            let mut stmt =
                conn.prepare(&format!("PRAGMA {}.schema_version", ident(&index.schema)))?;
            Some((schema_version(&mut stmt)?, stmt))
        } else {
            None
        };
        Ok(Resolved {
            index,
            knn,
            knn_search_l,
            check,
            version,
        })
    }

    fn search(
        &self,
        name: &str,
        query: SqlValue<'_>,
        k: i64,
        search_l: Option<i64>,
    ) -> SqlResult<Vec<OwnedValue>> {
        let mut cache = self.cache.borrow_mut();
        let fresh = match cache.get_mut(name) {
            Some(Resolved {
                version: Some((v, stmt)),
                ..
            }) => schema_version(stmt)? == *v,
            _ => false,
        };
        if !fresh {
            cache.remove(name);
            let resolved = self.resolve(name)?;
            cache.insert(name.to_string(), resolved);
        }
        let resolved = cache.get_mut(name).expect("inserted above");
        let bytes = resolved.index.vector_bytes("search", query)?;
        let result = resolved.answer(&bytes, k, search_l);
        if resolved.version.is_none() {
            cache.remove(name);
        }
        result
    }
}

/// How many times a search asks for more rows after finding stale ones.
const STALE_RETRIES: usize = 4;

impl Resolved {
    fn knn(&mut self, bytes: &[u8], k: i64, search_l: Option<i64>) -> SqlResult<Vec<OwnedValue>> {
        let rows = match search_l {
            None => self
                .knn
                .query(&[SqlValue::Blob(bytes), SqlValue::Integer(k)]),
            Some(l) => self.knn_search_l.query(&[
                SqlValue::Blob(bytes),
                SqlValue::Integer(k),
                SqlValue::Integer(l),
            ]),
        };
        Ok(rows?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect())
    }

    /// The k nearest keys. Where `OR REPLACE` may have deleted rows behind the triggers' back,
    /// each answer is checked against the table; stale keys are removed from the hidden table
    /// (best effort: a read-only or busy database keeps them, and they are skipped) and the
    /// search is repeated for the rows they displaced.
    fn answer(
        &mut self,
        bytes: &[u8],
        k: i64,
        search_l: Option<i64>,
    ) -> SqlResult<Vec<OwnedValue>> {
        let Some((mut is_indexed, mut forget)) = self.check.take() else {
            return self.knn(bytes, k, search_l);
        };
        let result = (|| {
            let mut stale: Vec<OwnedValue> = Vec::new();
            let mut live = Vec::new();
            for _ in 0..STALE_RETRIES {
                let want = (k + stale.len() as i64).min(MAX_K);
                let mut found_stale = false;
                live.clear();
                for id in self.knn(bytes, want, search_l)? {
                    if stale.contains(&id) {
                        continue;
                    }
                    if is_indexed.query(&[id.as_value()])?.is_empty() {
                        let _ = forget.execute(&[id.as_value()]);
                        stale.push(id);
                        found_stale = true;
                    } else {
                        live.push(id);
                    }
                }
                live.truncate(k as usize);
                if !found_stale {
                    break;
                }
            }
            Ok(live)
        })();
        self.check = Some((is_indexed, forget));
        result
    }
}

impl VTab for VectorTopK {
    type Aux = ();
    type Cursor = VectorTopKCursor;
    const KIND: ModuleKind = ModuleKind::EponymousOnly;

    fn connect(db: &Connection, _: &(), _: &CreateArgs, _: bool) -> SqlResult<(String, Self)> {
        Ok((
            "CREATE TABLE x(id, idx_name hidden, query hidden, k hidden, search_l hidden)"
                .to_string(),
            VectorTopK {
                conn: *db,
                cache: RefCell::new(HashMap::new()),
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        let constraints = info.constraints();
        for (argv, column) in ARGUMENT_COLUMNS.iter().enumerate() {
            let c = constraints
                .iter()
                .find(|c| c.column == *column && c.op == ConstraintOp::Eq);
            match c {
                None => {
                    return Err(SqlError::new(
                        "vector_top_k: expected 3 arguments: index name, query vector, k",
                    ))
                }
                Some(c) if !c.usable => {
                    return Err(SqlError::with_code(
                        rusqlite::ffi::SQLITE_CONSTRAINT,
                        "vector_top_k arguments not usable yet",
                    ))
                }
                Some(c) => info.use_constraint(c.index, argv as i32 + 1, true),
            }
        }
        if let Some(c) = constraints
            .iter()
            .find(|c| c.column == COLUMN_SEARCH_L && c.op == ConstraintOp::Eq)
        {
            if !c.usable {
                return Err(SqlError::with_code(
                    rusqlite::ffi::SQLITE_CONSTRAINT,
                    "vector_top_k arguments not usable yet",
                ));
            }
            info.use_constraint(c.index, 4, true);
        }
        info.set_estimated_cost(1000.0);
        info.set_estimated_rows(10);
        Ok(())
    }

    fn open(&self) -> SqlResult<VectorTopKCursor> {
        Ok(VectorTopKCursor {
            ids: Vec::new(),
            position: 0,
        })
    }
}

pub struct VectorTopKCursor {
    ids: Vec<OwnedValue>,
    position: usize,
}

impl VTabCursor for VectorTopKCursor {
    type Table = VectorTopK;

    fn filter(
        &mut self,
        table: &VectorTopK,
        _: i32,
        _: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        let (name, query, k, search_l) = match args {
            [name, query, k] => (name, query, k, None),
            [name, query, k, l] => (name, query, k, Some(l)),
            _ => {
                return Err(SqlError::new(
                    "vector_top_k: expected 3 arguments: index name, query vector, k",
                ))
            }
        };
        let search_l = match search_l.map(|l| l.value()) {
            None => None,
            Some(SqlValue::Integer(l)) if (1..=MAX_K).contains(&l) => Some(l),
            Some(_) => {
                return Err(search_error(format!(
                    "fourth parameter (search_l) must be an integer from 1 to {MAX_K}"
                )))
            }
        };
        let name = match name.value() {
            SqlValue::Text(t) => String::from_utf8_lossy(t).into_owned(),
            _ => {
                return Err(search_error(
                    "first parameter (index name) must be a string",
                ))
            }
        };
        // libSQL takes a REAL k with an integral value (CAST(1 AS REAL)) and refuses 2.5.
        let k = match k.value() {
            SqlValue::Real(f) if f.fract() == 0.0 && f.abs() < 1e15 => SqlValue::Integer(f as i64),
            SqlValue::Real(_) => {
                return Err(search_error(
                    "third parameter (k) must be an integer, but a float value was provided",
                ))
            }
            other => other,
        };
        let k = match k {
            SqlValue::Integer(k) if k <= 0 => {
                return Err(search_error(format!(
                    "third parameter (k) must be a positive integer, got {k}"
                )))
            }
            SqlValue::Integer(k) if k > MAX_K => {
                return Err(search_error(format!(
                    "third parameter (k) is {k}, more than the maximum of {MAX_K}"
                )))
            }
            SqlValue::Integer(k) => k,
            _ => return Err(search_error("third parameter (k) must be an integer")),
        };
        self.ids = table.search(&name, query.value(), k, search_l)?;
        self.position = 0;
        Ok(())
    }

    fn next(&mut self, _: &VectorTopK) -> SqlResult<()> {
        self.position += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.position >= self.ids.len()
    }

    fn column(&self, _: &VectorTopK, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        if column == COLUMN_ID {
            out.set(self.ids[self.position].to_output());
        }
        Ok(())
    }

    /// The row's id where it is an integer, as libSQL's `SELECT rowid FROM vector_top_k(...)`
    /// answers; the rank otherwise (text keys).
    fn rowid(&self, _: &VectorTopK) -> SqlResult<i64> {
        Ok(match self.ids[self.position] {
            OwnedValue::Integer(id) => id,
            _ => self.position as i64,
        })
    }
}
