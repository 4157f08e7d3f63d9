//! sqlite-vec's static-blob entry point (`sqlite3_vec_static_blobs_init`): a host program
//! registers float32 arrays that live in its own memory and queries them in place.
//!
//! - `vec_static_blob_from_raw(address, element_type, dimensions, count)` describes an array
//!   (the element type argument is ignored: arrays are float32, as in sqlite-vec);
//! - `insert into vec_static_blobs(name, data) values (?, vec_static_blob_from_raw(...))`
//!   registers it under a name (at most 16 per connection; rows cannot be changed or removed);
//! - `create virtual table x using vec_static_blob_entries(name)` exposes it: one row per
//!   vector (rowid = index), and brute-force L2 KNN with `vector match ? and k = ?` (or
//!   `LIMIT`) `order by distance`. As in sqlite-vec, the `distance` column reads as NULL.
//!
//! The address is trusted: whoever calls `vec_static_blob_from_raw` promises that
//! `dimensions * count` float32 values are readable there for as long as the connection
//! uses them. Where sqlite-vec aborts or crashes (a full registry, an unknown name, a missing
//! definition), vecsql returns an error.

use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use vecsql_core::Vector;

use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::Connection;
use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::ffi::pointer::PointerValue;
use crate::ffi::vtab::{
    Change, ColumnContext, CreateArgs, FilterArg, ModuleKind, VTab, VTabCursor,
};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};
use crate::sql_vector::vector;

/// Pointer-type name of `vec_static_blob_from_raw()` results (not sqlite-vec's, so the two
/// extensions never read each other's objects).
pub const STATIC_BLOB_POINTER: &CStr = c"vecsql-static-blob-def";

/// How many arrays one connection can register, as in sqlite-vec.
pub const MAX_STATIC_BLOBS: usize = 16;

const SUBTYPE_FLOAT32: u32 = 223;

/// A float32 array in the host's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticBlob {
    address: usize,
    pub dimensions: usize,
    pub vectors: usize,
}

impl StaticBlob {
    fn vector_bytes(&self) -> usize {
        self.dimensions * 4
    }

    /// The bytes of vector `i` (< `vectors`).
    fn vector(&self, i: usize) -> &[u8] {
        debug_assert!(i < self.vectors);
        let n = self.vector_bytes();
        // SAFETY: `vec_static_blob_from_raw`'s contract: `vectors * dimensions` float32 values
        // are readable at `address` while the connection uses them (the size was checked to
        // fit in isize, and `address` is non-null). Bytes have no alignment requirement.
        unsafe { std::slice::from_raw_parts((self.address as *const u8).add(i * n), n) }
    }
}

/// `sqlite3_value_int64`'s conversion of any value.
fn int64(value: &SqlValue<'_>) -> i64 {
    match *value {
        SqlValue::Null => 0,
        SqlValue::Integer(i) => i,
        SqlValue::Real(f) => f as i64,
        SqlValue::Text(t) | SqlValue::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            let s = s.trim_start();
            let end = s
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                .map_or(s.len(), |(i, _)| i);
            s[..end].parse().unwrap_or(0)
        }
    }
}

pub fn vec_static_blob_from_raw(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let [address, _element_type, dimensions, vectors] = args else {
        return Err(SqlError::new(
            "vec_static_blob_from_raw() takes 4 arguments",
        ));
    };
    let address = int64(&address.value);
    let dimensions = int64(&dimensions.value);
    let vectors = int64(&vectors.value);
    if address == 0 {
        return Err(SqlError::new(
            "vec_static_blob_from_raw(): the address must not be 0",
        ));
    }
    let (Ok(dimensions), Ok(vectors)) = (usize::try_from(dimensions), usize::try_from(vectors))
    else {
        return Err(SqlError::new(format!(
            "vec_static_blob_from_raw(): dimensions and count must not be negative, found {dimensions} and {vectors}"
        )));
    };
    let fits = dimensions
        .checked_mul(vectors)
        .and_then(|n| n.checked_mul(4))
        .and_then(|bytes| (address as u64).checked_add(bytes as u64))
        .is_some_and(|end| end <= isize::MAX as u64);
    if !fits {
        return Err(SqlError::new(
            "vec_static_blob_from_raw(): the array is larger than the address space",
        ));
    }
    Ok(SqlOutput::Pointer(PointerValue::new(
        STATIC_BLOB_POINTER,
        StaticBlob {
            address: address as usize,
            dimensions,
            vectors,
        },
    )))
}

/// The arrays registered on one connection, shared by both modules.
#[derive(Default)]
pub struct Registry {
    slots: [Option<(String, StaticBlob)>; MAX_STATIC_BLOBS],
}

pub type SharedRegistry = Arc<Mutex<Registry>>;

fn lock(registry: &SharedRegistry) -> std::sync::MutexGuard<'_, Registry> {
    // A panic while holding the lock cannot leave a slot half-written (slots are assigned
    // whole), so a poisoned lock is still consistent.
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// `vec_static_blobs`: the registry as a table (name, data, hidden dimensions and count).
pub struct VecStaticBlobs {
    registry: SharedRegistry,
}

impl VTab for VecStaticBlobs {
    type Aux = SharedRegistry;
    type Cursor = VecStaticBlobsCursor;
    const KIND: ModuleKind = ModuleKind::EponymousOnly;

    fn connect(
        _: &Connection,
        registry: &SharedRegistry,
        _: &CreateArgs,
        _: bool,
    ) -> SqlResult<(String, Self)> {
        Ok((
            "CREATE TABLE x(name, data, dimensions hidden, count hidden)".to_string(),
            VecStaticBlobs {
                registry: Arc::clone(registry),
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        info.set_idx_num(1);
        info.set_estimated_cost(10.0);
        info.set_estimated_rows(10);
        Ok(())
    }

    fn open(&self) -> SqlResult<VecStaticBlobsCursor> {
        Ok(VecStaticBlobsCursor {
            rows: Vec::new(),
            pos: 0,
        })
    }

    fn update(&mut self, change: &Change<'_>) -> SqlResult<Option<i64>> {
        if change.old_rowid.is_some() {
            return Err(SqlError::new(if change.new_rowid.is_some() {
                "vec_static_blobs rows cannot be updated"
            } else {
                "vec_static_blobs rows cannot be deleted"
            }));
        }
        let [name, data, ..] = change.values.as_slice() else {
            return Err(SqlError::internal("vec_static_blobs: missing columns"));
        };
        let name = match name.value.value {
            SqlValue::Text(t) | SqlValue::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            SqlValue::Integer(i) => i.to_string(),
            SqlValue::Real(f) => crate::ffi::sqlite_format_f(f),
            SqlValue::Null => return Err(SqlError::new("vec_static_blobs: name must not be NULL")),
        };
        let blob = data
            .pointer::<StaticBlob>(STATIC_BLOB_POINTER)
            .ok_or_else(|| {
                SqlError::new(format!(
                    "vec_static_blobs: data must be a vec_static_blob_from_raw() value, found {}",
                    data.value.value.storage_class()
                ))
            })?;
        let mut registry = lock(&self.registry);
        let slot = registry
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or_else(|| {
                SqlError::new(format!(
                    "vec_static_blobs: at most {MAX_STATIC_BLOBS} static blobs can be registered"
                ))
            })?;
        registry.slots[slot] = Some((name, *blob));
        Ok(Some(slot as i64))
    }
}

pub struct VecStaticBlobsCursor {
    rows: Vec<(usize, String, StaticBlob)>,
    pos: usize,
}

impl VTabCursor for VecStaticBlobsCursor {
    type Table = VecStaticBlobs;

    fn filter(
        &mut self,
        table: &VecStaticBlobs,
        _: i32,
        _: Option<&str>,
        _: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        let registry = lock(&table.registry);
        self.rows = registry
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(name, blob)| (i, name.clone(), *blob)))
            .collect();
        self.pos = 0;
        Ok(())
    }

    fn next(&mut self, _: &VecStaticBlobs) -> SqlResult<()> {
        self.pos += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.pos >= self.rows.len()
    }

    fn column(&self, _: &VecStaticBlobs, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        let (_, name, blob) = &self.rows[self.pos];
        out.set(match column {
            0 => SqlOutput::Text(name.clone()),
            2 => SqlOutput::Integer(blob.dimensions as i64),
            3 => SqlOutput::Integer(blob.vectors as i64),
            _ => SqlOutput::Null,
        });
        Ok(())
    }

    fn rowid(&self, _: &VecStaticBlobs) -> SqlResult<i64> {
        Ok(self.rows[self.pos].0 as i64)
    }
}

const COLUMN_VECTOR: i32 = 0;
const COLUMN_DISTANCE: i32 = 1;
const COLUMN_K: i32 = 2;
const PLAN_SCAN: i32 = 1;
const PLAN_KNN: i32 = 2;

/// `vec_static_blob_entries(name)`: one registered array as a table.
pub struct VecStaticBlobEntries {
    blob: StaticBlob,
}

impl VTab for VecStaticBlobEntries {
    type Aux = SharedRegistry;
    type Cursor = VecStaticBlobEntriesCursor;
    const KIND: ModuleKind = ModuleKind::Regular;

    fn connect(
        _: &Connection,
        registry: &SharedRegistry,
        args: &CreateArgs,
        _: bool,
    ) -> SqlResult<(String, Self)> {
        let Some(wanted) = args.args.first().map(|a| a.trim()) else {
            return Err(SqlError::new(
                "vec_static_blob_entries needs the name of a static blob, e.g. vec_static_blob_entries(name)",
            ));
        };
        let registry = lock(registry);
        let named = registry.slots.iter().flatten();
        // Exact name first; then sqlite-vec's rule (the first registered name the argument
        // starts with), so definitions that worked there keep working.
        let found = named
            .clone()
            .find(|(name, _)| name == wanted)
            .or_else(|| {
                named
                    .clone()
                    .find(|(name, _)| wanted.as_bytes().starts_with(name.as_bytes()))
            })
            .map(|(_, blob)| *blob)
            .ok_or_else(|| {
                SqlError::new(format!(
                    "vec_static_blob_entries: no static blob named '{wanted}' is registered on this connection (insert it into vec_static_blobs first)"
                ))
            })?;
        Ok((
            "CREATE TABLE x(vector, distance hidden, k hidden)".to_string(),
            VecStaticBlobEntries { blob: found },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        let constraints = info.constraints();
        let usable = constraints.iter().filter(|c| c.usable);
        let matches: Vec<_> = usable
            .clone()
            .filter(|c| c.op == ConstraintOp::Match && c.column == COLUMN_VECTOR)
            .collect();
        let limit = usable.clone().find(|c| c.op == ConstraintOp::Limit);
        let k = usable
            .clone()
            .find(|c| c.op == ConstraintOp::Eq && c.column == COLUMN_K);
        let constraint = |m: &str| SqlError::with_code(rusqlite::ffi::SQLITE_CONSTRAINT, m);
        let query = match matches.as_slice() {
            [] => {
                info.set_idx_num(PLAN_SCAN);
                info.set_estimated_cost(self.blob.vectors as f64);
                info.set_estimated_rows(self.blob.vectors as i64);
                return Ok(());
            }
            [m] => *m,
            _ => {
                return Err(SqlError::new(
                    "vec_static_blob_entries: only one MATCH constraint is allowed",
                ))
            }
        };
        let count = match (limit, k) {
            (Some(c), None) | (None, Some(c)) => c,
            (None, None) => {
                return Err(SqlError::new(
                    "vec_static_blob_entries: a KNN query needs 'k = ?' or a LIMIT",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(SqlError::new(
                    "vec_static_blob_entries: give either 'k = ?' or a LIMIT, not both",
                ))
            }
        };
        match info.order_by().as_slice() {
            [] => return Err(constraint("ORDER BY distance required")),
            [o] if o.column != COLUMN_DISTANCE => {
                return Err(constraint("ORDER BY must be on the distance column"))
            }
            [o] if o.desc => {
                return Err(constraint(
                    "Only ascending in ORDER BY distance clause is supported, DESC is not supported yet.",
                ))
            }
            [_] => {}
            _ => return Err(constraint("more than 1 ORDER BY clause provided")),
        }
        info.set_idx_num(PLAN_KNN);
        info.set_estimated_cost(10.0);
        info.set_estimated_rows(10);
        info.set_order_by_consumed(true);
        info.use_constraint(query.index, 1, true);
        info.use_constraint(count.index, 2, true);
        Ok(())
    }

    fn open(&self) -> SqlResult<VecStaticBlobEntriesCursor> {
        Ok(VecStaticBlobEntriesCursor {
            rows: Rows::Scan(self.blob.vectors),
            pos: 0,
        })
    }
}

enum Rows {
    /// Every vector, in order: rowid = position.
    Scan(usize),
    /// The KNN result: vector indexes, nearest first.
    Knn(Vec<usize>),
}

pub struct VecStaticBlobEntriesCursor {
    rows: Rows,
    pos: usize,
}

impl VecStaticBlobEntriesCursor {
    fn current(&self) -> usize {
        match &self.rows {
            Rows::Scan(_) => self.pos,
            Rows::Knn(ids) => ids[self.pos],
        }
    }
}

/// Squared L2 distance between a stored vector (little-endian bytes) and the query.
fn l2_squared(stored: &[u8], query: &[f32]) -> f32 {
    stored
        .chunks_exact(4)
        .zip(query)
        .map(|(b, q)| {
            let d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]) - q;
            d * d
        })
        .sum()
}

/// The `k` nearest indexes in sqlite-vec's order: ascending distance, and among equal
/// distances the higher index first (its selection keeps the last of a tie).
pub fn nearest(distances: &[f32], k: usize) -> Vec<usize> {
    let k = k.min(distances.len());
    if distances.iter().any(|d| d.is_nan()) {
        // NaN compares false both ways; replay the selection exactly.
        let mut taken = vec![false; distances.len()];
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            let Some(mut best) = taken.iter().position(|t| !t) else {
                break;
            };
            for (i, d) in distances.iter().enumerate() {
                if !taken[i] && *d <= distances[best] {
                    best = i;
                }
            }
            taken[best] = true;
            out.push(best);
        }
        return out;
    }
    let order = |a: &usize, b: &usize| {
        distances[*a]
            .total_cmp(&distances[*b])
            .then_with(|| b.cmp(a))
    };
    let mut ids: Vec<usize> = (0..distances.len()).collect();
    if k < ids.len() && k > 0 {
        ids.select_nth_unstable_by(k - 1, order);
        ids.truncate(k);
    }
    ids.truncate(k);
    ids.sort_by(order);
    ids
}

impl VTabCursor for VecStaticBlobEntriesCursor {
    type Table = VecStaticBlobEntries;

    fn filter(
        &mut self,
        table: &VecStaticBlobEntries,
        idx_num: i32,
        _: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        self.pos = 0;
        let blob = table.blob;
        if idx_num != PLAN_KNN {
            self.rows = Rows::Scan(blob.vectors);
            return Ok(());
        }
        let [query, k] = args else {
            return Err(SqlError::internal(
                "vec_static_blob_entries: KNN plan without its two arguments",
            ));
        };
        let query = match vector(&query.arg()).map_err(|e| e.context("vec_static_blob_entries"))? {
            Vector::Float32(v) => v,
            other => {
                return Err(SqlError::new(format!(
                    "vec_static_blob_entries: the query vector must be float32, found {}",
                    other.element_type().name()
                )))
            }
        };
        if query.len() != blob.dimensions {
            return Err(SqlError::new(format!(
                "vec_static_blob_entries: dimension mismatch, the query vector has {} dimensions but the static blob has {}",
                query.len(),
                blob.dimensions
            )));
        }
        let k = int64(&k.value());
        let Ok(k) = usize::try_from(k) else {
            return Err(SqlError::new(format!(
                "vec_static_blob_entries: k must not be negative, found {k}"
            )));
        };
        let distances: Vec<f32> = (0..blob.vectors)
            .map(|i| l2_squared(blob.vector(i), &query))
            .collect();
        self.rows = Rows::Knn(nearest(&distances, k));
        Ok(())
    }

    fn next(&mut self, _: &VecStaticBlobEntries) -> SqlResult<()> {
        self.pos += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.pos
            >= match &self.rows {
                Rows::Scan(n) => *n,
                Rows::Knn(ids) => ids.len(),
            }
    }

    fn column(
        &self,
        table: &VecStaticBlobEntries,
        column: i32,
        out: &mut ColumnContext,
    ) -> SqlResult<()> {
        out.set(if column == COLUMN_VECTOR {
            SqlOutput::Blob {
                bytes: table.blob.vector(self.current()).to_vec(),
                subtype: Some(SUBTYPE_FLOAT32),
            }
        } else {
            SqlOutput::Null
        });
        Ok(())
    }

    fn rowid(&self, _: &VecStaticBlobEntries) -> SqlResult<i64> {
        Ok(self.current() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn ties_put_the_higher_index_first() {
        assert_eq!(nearest(&[1.0, 0.0, 1.0, 0.0], 3), vec![3, 1, 2]);
        assert_eq!(nearest(&[2.0, 1.0], 5), vec![1, 0]);
        assert_eq!(nearest(&[2.0, 1.0], 0), Vec::<usize>::new());
    }

    #[test]
    fn nan_distances_follow_the_selection_rule() {
        // The first untaken index starts the search; NaN never compares <=.
        assert_eq!(nearest(&[f32::NAN, 1.0, 0.5], 3), vec![0, 2, 1]);
    }
}
