//! A thin handle on the connection a virtual table lives in, for running SQL against its shadow
//! tables from inside callbacks. It borrows the host's `sqlite3*`; SQLite owns and closes it.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use rusqlite::ffi::{self, sqlite3, sqlite3_stmt};

use super::call;
use super::value::{raw_slice, OwnedValue, SqlValue};
use crate::error::{SqlError, SqlResult};

#[derive(Debug, Clone, Copy)]
pub struct Connection {
    db: *mut sqlite3,
}

impl Connection {
    pub(crate) fn from_raw(db: *mut sqlite3) -> Connection {
        Connection { db }
    }

    pub fn raw(&self) -> *mut sqlite3 {
        self.db
    }

    fn last_error(&self, rc: c_int) -> SqlError {
        // SAFETY: the connection is open while any of its tables exist.
        let msg = unsafe { CStr::from_ptr(call!(errmsg(self.db))) }
            .to_string_lossy()
            .into_owned();
        SqlError::with_code(rc, msg)
    }

    pub fn declare_vtab(&self, schema: &str) -> SqlResult<()> {
        let sql = CString::new(schema).map_err(|_| SqlError::new("schema contains NUL"))?;
        // SAFETY: open connection, called from xCreate/xConnect as SQLite requires.
        let rc = unsafe { call!(declare_vtab(self.db, sql.as_ptr())) };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.last_error(rc))
        }
    }

    /// Declares that the table handles ON CONFLICT itself (xUpdate may see REPLACE/IGNORE).
    pub fn enable_constraint_support(&self) {
        // SAFETY: valid only inside xCreate/xConnect, where tables call it.
        unsafe {
            call!(vtab_config(
                self.db,
                ffi::SQLITE_VTAB_CONSTRAINT_SUPPORT,
                1 as c_int
            ))
        };
    }

    /// The ON CONFLICT mode of the statement running xUpdate (`ffi::SQLITE_REPLACE`, ...).
    pub fn on_conflict(&self) -> c_int {
        // SAFETY: open connection; only meaningful inside xUpdate.
        unsafe { call!(vtab_on_conflict(self.db)) }
    }

    pub fn in_transaction(&self) -> bool {
        // SAFETY: open connection.
        unsafe { call!(get_autocommit(self.db)) == 0 }
    }

    /// Whether any statement of this connection is running (stepped and not yet reset), in
    /// which case SQLite refuses DROP TABLE.
    pub fn has_running_statement(&self) -> bool {
        let mut stmt: *mut sqlite3_stmt = std::ptr::null_mut();
        loop {
            // SAFETY: open connection; `stmt` is null or a statement SQLite just returned for
            // it, and none is finalized while we walk (this thread holds the connection).
            stmt = unsafe { call!(next_stmt(self.db, stmt)) };
            if stmt.is_null() {
                return false;
            }
            // SAFETY: `stmt` is a live statement of this connection (above).
            if unsafe { call!(stmt_busy(stmt)) } != 0 {
                return true;
            }
        }
    }

    /// Whether `schema` is open read-only (or not attached).
    pub fn is_readonly(&self, schema: &str) -> bool {
        let Ok(name) = CString::new(schema) else {
            return true;
        };
        // SAFETY: open connection and a NUL-terminated name.
        unsafe { call!(db_readonly(self.db, name.as_ptr())) != 0 }
    }

    pub fn last_insert_rowid(&self) -> i64 {
        // SAFETY: open connection.
        unsafe { call!(last_insert_rowid(self.db)) }
    }

    /// Puts back the value `last_insert_rowid()` reports (after statements of our own that
    /// insert, where the user's last insert must stay the answer).
    pub fn set_last_insert_rowid(&self, rowid: i64) {
        // SAFETY: open connection.
        unsafe { call!(set_last_insert_rowid(self.db, rowid)) }
    }

    /// Runs one or more statements that return no rows.
    pub fn execute_batch(&self, sql: &str) -> SqlResult<()> {
        let c_sql = CString::new(sql).map_err(|_| SqlError::new("SQL contains NUL"))?;
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: open connection; the error string is freed with sqlite3_free.
        let rc = unsafe {
            call!(exec(
                self.db,
                c_sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                &mut err
            ))
        };
        if rc == ffi::SQLITE_OK {
            return Ok(());
        }
        let message = if err.is_null() {
            self.last_error(rc).message
        } else {
            // SAFETY: exec set a NUL-terminated message from sqlite3_malloc.
            unsafe {
                let m = CStr::from_ptr(err).to_string_lossy().into_owned();
                call!(free(err.cast()));
                m
            }
        };
        Err(SqlError::with_code(rc, message))
    }

    pub fn prepare(&self, sql: &str) -> SqlResult<Statement> {
        let mut stmt: *mut sqlite3_stmt = std::ptr::null_mut();
        // SAFETY: open connection; the statement is finalized when Statement drops.
        let rc = unsafe {
            call!(prepare_v2(
                self.db,
                sql.as_ptr().cast(),
                sql.len() as c_int,
                &mut stmt,
                std::ptr::null_mut()
            ))
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.last_error(rc));
        }
        Ok(Statement { conn: *self, stmt })
    }
}

impl Connection {
    /// Opens incremental I/O on one blob: `table.column` of row `rowid` in `schema`.
    pub fn open_blob(
        &self,
        schema: &str,
        table: &str,
        column: &str,
        rowid: i64,
        writable: bool,
    ) -> SqlResult<Blob> {
        let c = |s: &str| CString::new(s).map_err(|_| SqlError::new("name contains NUL"));
        self.open_blob_c(&c(schema)?, &c(table)?, &c(column)?, rowid, writable)
    }

    /// [`Connection::open_blob`] with names already converted, for callers that open the same
    /// blob columns once per row.
    pub fn open_blob_c(
        &self,
        schema: &CStr,
        table: &CStr,
        column: &CStr,
        rowid: i64,
        writable: bool,
    ) -> SqlResult<Blob> {
        let mut blob: *mut ffi::sqlite3_blob = std::ptr::null_mut();
        // SAFETY: open connection; the handle is closed when Blob drops.
        let rc = unsafe {
            call!(blob_open(
                self.db,
                schema.as_ptr(),
                table.as_ptr(),
                column.as_ptr(),
                rowid,
                writable as c_int,
                &mut blob
            ))
        };
        if rc != ffi::SQLITE_OK {
            if !blob.is_null() {
                // SAFETY: SQLite may hand back a handle even on error; it must be closed.
                unsafe { call!(blob_close(blob)) };
            }
            return Err(self.last_error(rc));
        }
        Ok(Blob { conn: *self, blob })
    }
}

/// An open blob handle (`sqlite3_blob`), closed on drop. Reads and writes take part in the
/// connection's transaction like any other change.
pub struct Blob {
    conn: Connection,
    blob: *mut ffi::sqlite3_blob,
}

impl Blob {
    pub fn len(&self) -> usize {
        // SAFETY: live handle.
        unsafe { call!(blob_bytes(self.blob)) as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the handle to another row of the same table and column (cheaper than reopening).
    pub fn reopen(&mut self, rowid: i64) -> SqlResult<()> {
        // SAFETY: live handle.
        let rc = unsafe { call!(blob_reopen(self.blob, rowid)) };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.conn.last_error(rc))
        }
    }

    pub fn read(&self, offset: usize, buf: &mut [u8]) -> SqlResult<()> {
        // SAFETY: live handle; SQLite checks the range and writes at most buf.len() bytes.
        let rc = unsafe {
            call!(blob_read(
                self.blob,
                buf.as_mut_ptr().cast(),
                buf.len() as c_int,
                offset as c_int
            ))
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.conn.last_error(rc))
        }
    }

    pub fn write(&mut self, offset: usize, data: &[u8]) -> SqlResult<()> {
        // SAFETY: live handle opened writable; SQLite checks the range.
        let rc = unsafe {
            call!(blob_write(
                self.blob,
                data.as_ptr().cast(),
                data.len() as c_int,
                offset as c_int
            ))
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.conn.last_error(rc))
        }
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        // SAFETY: live handle, closed once.
        unsafe { call!(blob_close(self.blob)) };
    }
}

/// A prepared statement on a [`Connection`], finalized on drop.
pub struct Statement {
    conn: Connection,
    stmt: *mut sqlite3_stmt,
}

/// What one `step` produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Row,
    Done,
}

impl Statement {
    fn check(&self, rc: c_int) -> SqlResult<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.conn.last_error(rc))
        }
    }

    /// Binds `value` to parameter `index` (1-based); SQLite copies text and blobs.
    pub fn bind(&mut self, index: i32, value: SqlValue<'_>) -> SqlResult<()> {
        // SAFETY: live statement; SQLITE_TRANSIENT makes SQLite copy the bytes.
        let rc = unsafe {
            match value {
                SqlValue::Null => call!(bind_null(self.stmt, index)),
                SqlValue::Integer(i) => call!(bind_int64(self.stmt, index, i)),
                SqlValue::Real(f) => call!(bind_double(self.stmt, index, f)),
                SqlValue::Text(t) => call!(bind_text(
                    self.stmt,
                    index,
                    t.as_ptr().cast(),
                    t.len() as c_int,
                    ffi::SQLITE_TRANSIENT()
                )),
                SqlValue::Blob(b) => call!(bind_blob(
                    self.stmt,
                    index,
                    b.as_ptr() as *const c_void,
                    b.len() as c_int,
                    ffi::SQLITE_TRANSIENT()
                )),
            }
        };
        self.check(rc)
    }

    pub fn step(&mut self) -> SqlResult<Step> {
        // SAFETY: live statement.
        match unsafe { call!(step(self.stmt)) } {
            ffi::SQLITE_ROW => Ok(Step::Row),
            ffi::SQLITE_DONE => Ok(Step::Done),
            rc => Err(self.conn.last_error(rc)),
        }
    }

    /// Binds `values` to parameters 1, 2, ...
    pub fn bind_all(&mut self, values: &[SqlValue<'_>]) -> SqlResult<()> {
        for (i, v) in values.iter().enumerate() {
            self.bind(i as i32 + 1, *v)?;
        }
        Ok(())
    }

    /// Runs a statement that returns no rows, then resets it for reuse.
    pub fn execute(&mut self, values: &[SqlValue<'_>]) -> SqlResult<()> {
        self.bind_all(values)?;
        let result = self.step();
        self.reset();
        result.map(|_| ())
    }

    /// Collects every row as owned values, then resets the statement for reuse.
    pub fn query(&mut self, values: &[SqlValue<'_>]) -> SqlResult<Vec<Vec<OwnedValue>>> {
        self.bind_all(values)?;
        let mut rows = Vec::new();
        let result = (|| {
            // SAFETY: live statement.
            let n = unsafe { call!(column_count(self.stmt)) };
            while self.step()? == Step::Row {
                rows.push((0..n).map(|i| self.column(i).to_owned_value()).collect());
            }
            Ok(())
        })();
        self.reset();
        result.map(|()| rows)
    }

    /// Calls `f` with each row in turn (values borrowed until the next row), then resets the
    /// statement: for results too large to collect as owned values first.
    pub fn for_each<E: From<SqlError>>(
        &mut self,
        values: &[SqlValue<'_>],
        mut f: impl FnMut(&Statement) -> Result<(), E>,
    ) -> Result<(), E> {
        let result = (|| {
            self.bind_all(values)?;
            while self.step()? == Step::Row {
                f(self)?;
            }
            Ok(())
        })();
        self.reset();
        result
    }

    pub fn reset(&mut self) {
        // SAFETY: live statement; the error (if any) was already reported by step.
        unsafe { call!(reset(self.stmt)) };
    }

    /// Column `i` of the current row; valid until the next step or reset.
    pub fn column(&self, i: i32) -> SqlValue<'_> {
        // SAFETY: live statement positioned on a row; each accessor is called once after the
        // type is known, and the borrow ends before the next step/reset (which need &mut).
        unsafe {
            match call!(column_type(self.stmt, i)) {
                ffi::SQLITE_INTEGER => SqlValue::Integer(call!(column_int64(self.stmt, i))),
                ffi::SQLITE_FLOAT => SqlValue::Real(call!(column_double(self.stmt, i))),
                ffi::SQLITE_TEXT => {
                    let ptr = call!(column_text(self.stmt, i));
                    let len = call!(column_bytes(self.stmt, i)) as usize;
                    SqlValue::Text(raw_slice(ptr, len))
                }
                ffi::SQLITE_BLOB => {
                    let ptr = call!(column_blob(self.stmt, i)) as *const u8;
                    let len = call!(column_bytes(self.stmt, i)) as usize;
                    SqlValue::Blob(raw_slice(ptr, len))
                }
                _ => SqlValue::Null,
            }
        }
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement is live and finalized once.
        unsafe { call!(finalize(self.stmt)) };
    }
}
