//! A safe view of `sqlite3_index_info` for xBestIndex.

use std::ffi::c_int;

use rusqlite::ffi::{self, sqlite3_index_info, sqlite3_value};

use super::value::{SqlArg, SqlValue};
use super::{call, sqlite_string};

/// A constraint operator SQLite offers to a virtual table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintOp {
    Eq,
    Gt,
    Le,
    Lt,
    Ge,
    Match,
    Like,
    Glob,
    Regexp,
    Ne,
    IsNot,
    IsNotNull,
    IsNull,
    Is,
    Limit,
    Offset,
    /// An overloaded function (xFindFunction), with its code.
    Function(u8),
}

impl ConstraintOp {
    fn from_raw(op: u8) -> ConstraintOp {
        match op as c_int {
            ffi::SQLITE_INDEX_CONSTRAINT_EQ => ConstraintOp::Eq,
            ffi::SQLITE_INDEX_CONSTRAINT_GT => ConstraintOp::Gt,
            ffi::SQLITE_INDEX_CONSTRAINT_LE => ConstraintOp::Le,
            ffi::SQLITE_INDEX_CONSTRAINT_LT => ConstraintOp::Lt,
            ffi::SQLITE_INDEX_CONSTRAINT_GE => ConstraintOp::Ge,
            ffi::SQLITE_INDEX_CONSTRAINT_MATCH => ConstraintOp::Match,
            ffi::SQLITE_INDEX_CONSTRAINT_LIKE => ConstraintOp::Like,
            ffi::SQLITE_INDEX_CONSTRAINT_GLOB => ConstraintOp::Glob,
            ffi::SQLITE_INDEX_CONSTRAINT_REGEXP => ConstraintOp::Regexp,
            ffi::SQLITE_INDEX_CONSTRAINT_NE => ConstraintOp::Ne,
            ffi::SQLITE_INDEX_CONSTRAINT_ISNOT => ConstraintOp::IsNot,
            ffi::SQLITE_INDEX_CONSTRAINT_ISNOTNULL => ConstraintOp::IsNotNull,
            ffi::SQLITE_INDEX_CONSTRAINT_ISNULL => ConstraintOp::IsNull,
            ffi::SQLITE_INDEX_CONSTRAINT_IS => ConstraintOp::Is,
            ffi::SQLITE_INDEX_CONSTRAINT_LIMIT => ConstraintOp::Limit,
            ffi::SQLITE_INDEX_CONSTRAINT_OFFSET => ConstraintOp::Offset,
            _ => ConstraintOp::Function(op),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Constraint {
    /// Index of the constraint in SQLite's array (what `use_constraint` takes).
    pub index: usize,
    /// The column, or -1 for the rowid.
    pub column: i32,
    pub op: ConstraintOp,
    pub usable: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct OrderBy {
    pub column: i32,
    pub desc: bool,
}

pub struct IndexInfo<'a> {
    raw: &'a mut sqlite3_index_info,
}

impl<'a> IndexInfo<'a> {
    /// # Safety
    /// `raw` must be the index info of the current xBestIndex call.
    pub unsafe fn from_raw(raw: *mut sqlite3_index_info) -> IndexInfo<'a> {
        // SAFETY: per the contract.
        IndexInfo {
            raw: unsafe { &mut *raw },
        }
    }

    pub fn constraints(&self) -> Vec<Constraint> {
        (0..self.raw.nConstraint.max(0) as usize)
            .map(|i| {
                // SAFETY: aConstraint has nConstraint entries.
                let c = unsafe { &*self.raw.aConstraint.add(i) };
                Constraint {
                    index: i,
                    column: c.iColumn,
                    op: ConstraintOp::from_raw(c.op),
                    usable: c.usable != 0,
                }
            })
            .collect()
    }

    pub fn order_by(&self) -> Vec<OrderBy> {
        (0..self.raw.nOrderBy.max(0) as usize)
            .map(|i| {
                // SAFETY: aOrderBy has nOrderBy entries.
                let o = unsafe { &*self.raw.aOrderBy.add(i) };
                OrderBy {
                    column: o.iColumn,
                    desc: o.desc != 0,
                }
            })
            .collect()
    }

    /// Passes constraint `index` to xFilter as argument `argv_index` (1-based), and tells
    /// SQLite whether it may skip re-checking it.
    pub fn use_constraint(&mut self, index: usize, argv_index: i32, omit: bool) {
        assert!(index < self.raw.nConstraint as usize);
        // SAFETY: aConstraintUsage has nConstraint entries.
        let usage = unsafe { &mut *self.raw.aConstraintUsage.add(index) };
        usage.argvIndex = argv_index;
        usage.omit = omit as u8;
    }

    /// The right-hand value of constraint `index` when SQLite knows it at planning time.
    pub fn rhs_value(&self, index: usize) -> Option<SqlValue<'_>> {
        let mut value: *mut sqlite3_value = std::ptr::null_mut();
        // SAFETY: the index info is live and `index` is in range; the value lives as long as
        // the index info.
        unsafe {
            let raw = self.raw as *const sqlite3_index_info as *mut sqlite3_index_info;
            if call!(vtab_rhs_value(raw, index as c_int, &mut value)) == ffi::SQLITE_OK
                && !value.is_null()
            {
                Some(SqlArg::from_raw_value(value))
            } else {
                None
            }
        }
    }

    /// Whether constraint `index` is an `IN (...)` term (usable or not); asks nothing of SQLite.
    pub fn is_in(&self, index: usize) -> bool {
        // SAFETY: the index info is live and `index` is in range; -1 only queries.
        unsafe {
            let raw = self.raw as *const sqlite3_index_info as *mut sqlite3_index_info;
            call!(vtab_in(raw, index as c_int, -1)) != 0
        }
    }

    /// Asks SQLite to pass an `IN (...)` constraint's whole list to xFilter in one call;
    /// returns false when the constraint is not an IN that can be handled so.
    pub fn take_in(&mut self, index: usize) -> bool {
        // SAFETY: the index info is live and `index` is in range.
        unsafe {
            let raw: *mut sqlite3_index_info = self.raw;
            if call!(vtab_in(raw, index as c_int, -1)) == 0 {
                return false;
            }
            call!(vtab_in(raw, index as c_int, 1)) != 0
        }
    }

    pub fn set_idx_num(&mut self, n: i32) {
        self.raw.idxNum = n;
    }

    /// Sets the plan string passed to xFilter (SQLite frees it).
    pub fn set_idx_str(&mut self, s: &str) {
        if self.raw.needToFreeIdxStr != 0 && !self.raw.idxStr.is_null() {
            // SAFETY: we allocated it with sqlite3_malloc in an earlier call.
            unsafe { call!(free(self.raw.idxStr.cast())) };
        }
        self.raw.idxStr = sqlite_string(s);
        self.raw.needToFreeIdxStr = 1;
    }

    pub fn set_estimated_cost(&mut self, cost: f64) {
        self.raw.estimatedCost = cost;
    }

    pub fn set_estimated_rows(&mut self, rows: i64) {
        self.raw.estimatedRows = rows;
    }

    /// Declares that at most one row matches.
    pub fn set_unique(&mut self) {
        self.raw.idxFlags |= ffi::SQLITE_INDEX_SCAN_UNIQUE;
    }

    pub fn set_order_by_consumed(&mut self, consumed: bool) {
        self.raw.orderByConsumed = consumed as c_int;
    }

    /// Bit `i` set when column `i` is read (bit 63 covers columns 63 and up).
    pub fn columns_used(&self) -> u64 {
        self.raw.colUsed
    }
}
