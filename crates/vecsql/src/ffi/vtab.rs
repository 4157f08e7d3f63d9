//! Virtual tables: the [`VTab`] and [`VTabCursor`] traits that table implementations write in
//! safe Rust, and the `sqlite3_module` (iVersion 3, or 4 where the host has xIntegrity) whose
//! trampolines adapt them to SQLite. Every trampoline catches panics and reports errors through
//! `zErrMsg`, which rusqlite's own vtab layer does not.

use std::ffi::{c_char, c_int, CStr, CString};
use std::marker::PhantomData;

use rusqlite::ffi::{
    self, sqlite3, sqlite3_context, sqlite3_index_info, sqlite3_module, sqlite3_value,
    sqlite3_vtab, sqlite3_vtab_cursor,
};

use super::connection::Connection;
use super::index_info::IndexInfo;
use super::value::{write_error, OwnedValue, SqlArg, SqlOutput, SqlValue};
use super::{call, guard, sqlite_string, ApiRoutines};
use crate::error::{SqlError, SqlResult};

/// Whether a module needs `CREATE VIRTUAL TABLE` or is only a table-valued function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// Usable only by its module name, like `vec_each(...)`; no xCreate.
    EponymousOnly,
    /// Created with `CREATE VIRTUAL TABLE`; may own shadow tables.
    Regular,
}

/// The arguments of `CREATE VIRTUAL TABLE name USING module(args)` as SQLite passes them.
#[derive(Debug, Clone)]
pub struct CreateArgs {
    pub module: String,
    pub schema: String,
    pub table: String,
    /// The text between the parentheses, split on top-level commas by SQLite.
    pub args: Vec<String>,
}

/// A virtual table implementation.
pub trait VTab: Sized + 'static {
    /// Module-wide data given at registration.
    type Aux: 'static;
    type Cursor: VTabCursor<Table = Self>;
    const KIND: ModuleKind;

    /// Opens the table (`create` is true for CREATE VIRTUAL TABLE, false on later connects)
    /// and returns the `CREATE TABLE` statement declaring its columns.
    fn connect(
        db: &Connection,
        aux: &Self::Aux,
        args: &CreateArgs,
        create: bool,
    ) -> SqlResult<(String, Self)>;
    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()>;
    fn open(&self) -> SqlResult<Self::Cursor>;

    /// DROP TABLE: remove what `connect(create = true)` made.
    fn destroy(&mut self) -> SqlResult<()> {
        Ok(())
    }
    /// INSERT (`old_rowid` None), UPDATE or DELETE (`new` empty). Returns the rowid of an
    /// inserted row.
    fn update(&mut self, _change: &Change<'_>) -> SqlResult<Option<i64>> {
        Err(SqlError::with_code(
            ffi::SQLITE_READONLY,
            "this virtual table is read-only",
        ))
    }
    fn begin(&mut self) -> SqlResult<()> {
        Ok(())
    }
    fn sync(&mut self) -> SqlResult<()> {
        Ok(())
    }
    fn commit(&mut self) -> SqlResult<()> {
        Ok(())
    }
    fn rollback(&mut self) -> SqlResult<()> {
        Ok(())
    }
    fn savepoint(&mut self, _level: i32) -> SqlResult<()> {
        Ok(())
    }
    fn release(&mut self, _level: i32) -> SqlResult<()> {
        Ok(())
    }
    fn rollback_to(&mut self, _level: i32) -> SqlResult<()> {
        Ok(())
    }
    fn rename(&mut self, _new_name: &str) -> SqlResult<()> {
        Ok(())
    }
    /// Whether `suffix` (the part after `<table>_`) names one of this module's shadow tables.
    fn is_shadow_name(_suffix: &str) -> bool {
        false
    }
    /// xFindFunction: whether `name(column, ...)` called with `n_args` arguments, its first
    /// argument a column of this table, is an operator of this table. Returning `Some(op)`
    /// (`op` >= `SQLITE_INDEX_CONSTRAINT_FUNCTION`, 150) makes SQLite offer the call to
    /// [`VTab::best_index`] as a constraint on that column with operator
    /// [`ConstraintOp::Function`]`(op)` (sqlite-vss's `vss_search(col, ...)` works this way).
    /// Should the call still be evaluated row by row (a constraint best_index did not omit, or
    /// one in an OR), it returns NULL, as the overloaded function is a no-op.
    ///
    /// [`ConstraintOp::Function`]: super::index_info::ConstraintOp::Function
    fn find_function(&self, _n_args: i32, _name: &str) -> Option<u8> {
        None
    }
    /// `PRAGMA integrity_check`: a description of the first problem found, if any.
    fn integrity(&mut self, _schema: &str, _table: &str) -> SqlResult<Option<String>> {
        Ok(None)
    }
}

/// One scan over a virtual table.
pub trait VTabCursor: Sized + 'static {
    type Table: VTab;
    fn filter(
        &mut self,
        table: &Self::Table,
        idx_num: i32,
        idx_str: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()>;
    fn next(&mut self, table: &Self::Table) -> SqlResult<()>;
    fn eof(&self) -> bool;
    fn column(&self, table: &Self::Table, column: i32, out: &mut ColumnContext) -> SqlResult<()>;
    fn rowid(&self, table: &Self::Table) -> SqlResult<i64>;
}

/// A constraint value handed to xFilter. Values of `col IN (...)` constraints that best_index
/// asked to receive whole (see [`IndexInfo::take_in`]) are read with [`FilterArg::in_values`].
pub struct FilterArg<'a> {
    raw: *mut sqlite3_value,
    _life: PhantomData<&'a ()>,
}

impl<'a> FilterArg<'a> {
    pub fn value(&self) -> SqlValue<'a> {
        // SAFETY: xFilter's argv values live until xFilter returns, which bounds 'a.
        unsafe { SqlArg::from_raw_value(self.raw) }
    }

    pub fn arg(&self) -> SqlArg<'a> {
        // SAFETY: as in `value`.
        unsafe { SqlArg::from_raw(self.raw) }
    }

    /// The object behind a pointer value of type `name` (see [`super::pointer`]).
    pub fn pointer<T: std::any::Any + Send + Sync>(
        &self,
        name: &CStr,
    ) -> Option<std::sync::Arc<T>> {
        // SAFETY: the value is live for this xFilter call (see `value`).
        unsafe { super::pointer::read(self.raw, name) }
    }

    /// The right-hand side values of an `IN` constraint passed whole, or an error if this
    /// argument was not such a constraint. Values are copied out at once: SQLite reuses one
    /// value object for the whole list.
    pub fn in_values(&self) -> SqlResult<Vec<OwnedValue>> {
        let mut out = Vec::new();
        let mut item: *mut sqlite3_value = std::ptr::null_mut();
        // SAFETY: sqlite3_vtab_in_first/next only read the list behind `raw` and return values
        // that live as long as the argument itself.
        unsafe {
            let mut rc = call!(vtab_in_first(self.raw, &mut item));
            while rc == ffi::SQLITE_OK && !item.is_null() {
                out.push(SqlArg::from_raw_value(item).to_owned_value());
                rc = call!(vtab_in_next(self.raw, &mut item));
            }
            if rc != ffi::SQLITE_OK && rc != ffi::SQLITE_DONE {
                return Err(SqlError::with_code(
                    rc,
                    "could not read the values of an IN list",
                ));
            }
        }
        Ok(out)
    }
}

/// Where xColumn writes its value.
pub struct ColumnContext {
    ctx: *mut sqlite3_context,
}

impl ColumnContext {
    pub fn set(&mut self, value: SqlOutput) {
        // SAFETY: `ctx` is the live context of the current xColumn call.
        unsafe { value.write_to(self.ctx) }
    }

    /// True during an UPDATE when SQLite only needs to know the column is unchanged; the
    /// cursor may then leave the value unset instead of reading it.
    pub fn no_change(&self) -> bool {
        // SAFETY: live context of the current xColumn call.
        unsafe { call!(vtab_nochange(self.ctx)) != 0 }
    }
}

/// The arguments of xUpdate, decoded.
pub struct Change<'a> {
    /// The rowid of the row being replaced or deleted; None for INSERT.
    pub old_rowid: Option<SqlValue<'a>>,
    /// The new rowid (NULL for an automatic one), or None for DELETE.
    pub new_rowid: Option<SqlValue<'a>>,
    /// The new column values, in declaration order; empty for DELETE.
    pub values: Vec<UpdateValue<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct UpdateValue<'a> {
    pub value: SqlArg<'a>,
    /// True when an UPDATE did not touch this column (the value is then NULL).
    pub unchanged: bool,
    raw: *mut sqlite3_value,
}

impl UpdateValue<'_> {
    /// The object behind a pointer value of type `name` (see [`super::pointer`]).
    pub fn pointer<T: std::any::Any + Send + Sync>(
        &self,
        name: &CStr,
    ) -> Option<std::sync::Arc<T>> {
        // SAFETY: xUpdate's values are live for the call, which bounds this borrow.
        unsafe { super::pointer::read(self.raw, name) }
    }
}

/// The `sqlite3_vtab` SQLite sees, with our table after it.
#[repr(C)]
struct TableHandle<T: VTab> {
    base: sqlite3_vtab,
    /// The API table of the SQLite that owns the connection (see [`super::ApiScope`]).
    api: *const ApiRoutines,
    table: T,
}

/// Enters the API table of the SQLite that owns `vtab`.
///
/// # Safety
/// `vtab` must be a live handle made by `connect_impl::<T>`.
unsafe fn enter_table<T: VTab>(vtab: *mut sqlite3_vtab) -> super::ApiScope {
    // SAFETY: per the contract.
    super::ApiScope::enter(unsafe { (*(vtab as *const TableHandle<T>)).api })
}

/// Enters the API table of the SQLite that owns the cursor's table.
///
/// # Safety
/// `cursor` must be a live handle made by `x_open::<T>` whose pVtab SQLite has set.
unsafe fn enter_cursor<T: VTab>(cursor: *mut sqlite3_vtab_cursor) -> super::ApiScope {
    // SAFETY: per the contract.
    unsafe { enter_table::<T>((*cursor).pVtab) }
}

#[repr(C)]
struct CursorHandle<T: VTab> {
    base: sqlite3_vtab_cursor,
    cursor: T::Cursor,
}

/// Registration data: the module struct must outlive every table, so it is boxed with the
/// aux data and freed by SQLite's module destructor.
struct ModuleHolder<T: VTab> {
    module: sqlite3_module,
    /// The API table of the SQLite the module was registered with.
    api: *const ApiRoutines,
    aux: T::Aux,
}

/// Registers `T` as module `name` on `db`.
///
/// # Safety
/// `db` must be an open connection used only from this thread for the duration of the call.
pub unsafe fn create_module<T: VTab>(db: *mut sqlite3, name: &str, aux: T::Aux) -> SqlResult<()> {
    let c_name = CString::new(name).map_err(|_| SqlError::new("module name contains NUL"))?;
    // xIntegrity exists from 3.44; older hosts must not see iVersion 4.
    // SAFETY: libversion_number takes no arguments and is present in every host.
    let version = unsafe { call!(libversion_number()) };
    let module = sqlite3_module {
        iVersion: if version >= 3_044_000 { 4 } else { 3 },
        xCreate: match T::KIND {
            ModuleKind::EponymousOnly => None,
            ModuleKind::Regular => Some(x_create::<T>),
        },
        xConnect: Some(x_connect::<T>),
        xBestIndex: Some(x_best_index::<T>),
        xDisconnect: Some(x_disconnect::<T>),
        xDestroy: Some(x_destroy::<T>),
        xOpen: Some(x_open::<T>),
        xClose: Some(x_close::<T>),
        xFilter: Some(x_filter::<T>),
        xNext: Some(x_next::<T>),
        xEof: Some(x_eof::<T>),
        xColumn: Some(x_column::<T>),
        xRowid: Some(x_rowid::<T>),
        xUpdate: Some(x_update::<T>),
        xBegin: Some(x_begin::<T>),
        xSync: Some(x_sync::<T>),
        xCommit: Some(x_commit::<T>),
        xRollback: Some(x_rollback::<T>),
        xFindFunction: Some(x_find_function::<T>),
        xRename: Some(x_rename::<T>),
        xSavepoint: Some(x_savepoint::<T>),
        xRelease: Some(x_release::<T>),
        xRollbackTo: Some(x_rollback_to::<T>),
        xShadowName: Some(x_shadow_name::<T>),
        xIntegrity: Some(x_integrity::<T>),
    };
    let holder = Box::into_raw(Box::new(ModuleHolder::<T> {
        module,
        api: super::current_api(),
        aux,
    }));
    // SAFETY: `holder` stays valid until SQLite calls `drop_holder`, which it does exactly
    // once, also when registration fails.
    let rc = unsafe {
        call!(create_module_v2(
            db,
            c_name.as_ptr(),
            &(*holder).module,
            holder.cast(),
            Some(drop_holder::<T>)
        ))
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(SqlError::with_code(
            rc,
            format!("could not register module {name}"),
        ))
    }
}

unsafe extern "C" fn drop_holder<T: VTab>(p: *mut std::ffi::c_void) {
    // SAFETY: `p` is our live holder until dropped below.
    let _api = super::ApiScope::enter(unsafe { (*(p as *const ModuleHolder<T>)).api });
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `p` came from Box::into_raw in create_module and SQLite frees it once.
        drop(unsafe { Box::from_raw(p as *mut ModuleHolder<T>) });
    });
}

/// Stores `err` in the table's zErrMsg (replacing an older message) and returns its code.
///
/// # Safety
/// `vtab` must be a live table handle.
unsafe fn set_vtab_error(vtab: *mut sqlite3_vtab, err: &SqlError) -> c_int {
    // SAFETY: live handle (caller); zErrMsg is either null or from sqlite3_malloc.
    unsafe {
        if !(*vtab).zErrMsg.is_null() {
            call!(free((*vtab).zErrMsg.cast()));
        }
        (*vtab).zErrMsg = sqlite_string(&err.message);
    }
    err.code
}

fn lossy(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: SQLite passes NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

unsafe extern "C" fn x_create<T: VTab>(
    db: *mut sqlite3,
    aux: *mut std::ffi::c_void,
    argc: c_int,
    argv: *const *const c_char,
    pp_vtab: *mut *mut sqlite3_vtab,
    err_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded verbatim from SQLite.
    unsafe { connect_impl::<T>(db, aux, argc, argv, pp_vtab, err_out, true) }
}

unsafe extern "C" fn x_connect<T: VTab>(
    db: *mut sqlite3,
    aux: *mut std::ffi::c_void,
    argc: c_int,
    argv: *const *const c_char,
    pp_vtab: *mut *mut sqlite3_vtab,
    err_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded verbatim from SQLite.
    unsafe { connect_impl::<T>(db, aux, argc, argv, pp_vtab, err_out, false) }
}

unsafe fn connect_impl<T: VTab>(
    db: *mut sqlite3,
    aux: *mut std::ffi::c_void,
    argc: c_int,
    argv: *const *const c_char,
    pp_vtab: *mut *mut sqlite3_vtab,
    err_out: *mut *mut c_char,
    create: bool,
) -> c_int {
    // SAFETY: the aux pointer SQLite passes is the ModuleHolder registered with the module.
    let api = unsafe { (*(aux as *const ModuleHolder<T>)).api };
    let _api = super::ApiScope::enter(api);
    let result = guard("xConnect", || {
        // SAFETY: SQLite passes argc NUL-terminated strings and the aux pointer registered
        // with the module, which is our ModuleHolder.
        let (holder, raw_args) = unsafe {
            let raw: Vec<String> = (0..argc.max(0) as usize)
                .map(|i| lossy(*argv.add(i)))
                .collect();
            (&*(aux as *const ModuleHolder<T>), raw)
        };
        let mut raw_args = raw_args.into_iter();
        let args = CreateArgs {
            module: raw_args.next().unwrap_or_default(),
            schema: raw_args.next().unwrap_or_default(),
            table: raw_args.next().unwrap_or_default(),
            args: raw_args.collect(),
        };
        let conn = Connection::from_raw(db);
        let (schema, table) = T::connect(&conn, &holder.aux, &args, create)?;
        conn.declare_vtab(&schema)?;
        Ok(table)
    });
    match result {
        Ok(table) => {
            let handle = Box::new(TableHandle {
                base: sqlite3_vtab {
                    pModule: std::ptr::null(),
                    nRef: 0,
                    zErrMsg: std::ptr::null_mut(),
                },
                api,
                table,
            });
            // SAFETY: SQLite gives a writable out-pointer and fills in pModule itself.
            unsafe { *pp_vtab = Box::into_raw(handle).cast() };
            ffi::SQLITE_OK
        }
        Err(err) => {
            if !err_out.is_null() {
                // SAFETY: SQLite gives a writable out-pointer and frees it with sqlite3_free.
                unsafe { *err_out = sqlite_string(&err.message) };
            }
            err.code
        }
    }
}

/// Runs `f` on the table behind `vtab`, storing any error in zErrMsg.
///
/// # Safety
/// `vtab` must be a handle made by `connect_impl::<T>`, not aliased during the call.
unsafe fn with_table<T: VTab>(
    vtab: *mut sqlite3_vtab,
    what: &str,
    f: impl FnOnce(&mut T) -> SqlResult<()>,
) -> c_int {
    // SAFETY: per the function contract.
    let _api = unsafe { enter_table::<T>(vtab) };
    // SAFETY: per the function contract, the handle is ours and unaliased for this call.
    let handle = unsafe { &mut *(vtab as *mut TableHandle<T>) };
    match guard(what, || f(&mut handle.table)) {
        Ok(()) => ffi::SQLITE_OK,
        // SAFETY: the handle is live.
        Err(err) => unsafe { set_vtab_error(vtab, &err) },
    }
}

unsafe extern "C" fn x_best_index<T: VTab>(
    vtab: *mut sqlite3_vtab,
    info: *mut sqlite3_index_info,
) -> c_int {
    // SAFETY: SQLite passes our handle and an index-info valid for this call.
    unsafe {
        with_table::<T>(vtab, "xBestIndex", |t| {
            let mut info = IndexInfo::from_raw(info);
            t.best_index(&mut info)
        })
    }
}

unsafe extern "C" fn x_disconnect<T: VTab>(vtab: *mut sqlite3_vtab) -> c_int {
    // SAFETY: SQLite passes our live handle.
    let _api = unsafe { enter_table::<T>(vtab) };
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: SQLite disconnects a handle once, after its last use.
        let handle = unsafe { Box::from_raw(vtab as *mut TableHandle<T>) };
        if !handle.base.zErrMsg.is_null() {
            // SAFETY: zErrMsg came from sqlite3_malloc.
            unsafe { call!(free(handle.base.zErrMsg.cast())) };
        }
        drop(handle);
    });
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_destroy<T: VTab>(vtab: *mut sqlite3_vtab) -> c_int {
    // SAFETY: SQLite passes our live handle.
    let rc = unsafe { with_table::<T>(vtab, "xDestroy", |t| t.destroy()) };
    if rc == ffi::SQLITE_OK {
        // SAFETY: after a successful xDestroy SQLite never uses the handle again.
        unsafe { x_disconnect::<T>(vtab) };
    }
    rc
}

unsafe extern "C" fn x_open<T: VTab>(
    vtab: *mut sqlite3_vtab,
    pp_cursor: *mut *mut sqlite3_vtab_cursor,
) -> c_int {
    // SAFETY: SQLite passes our handle and a writable out-pointer.
    unsafe {
        with_table::<T>(vtab, "xOpen", |t| {
            let cursor = t.open()?;
            let handle = Box::new(CursorHandle::<T> {
                base: sqlite3_vtab_cursor {
                    pVtab: std::ptr::null_mut(),
                },
                cursor,
            });
            *pp_cursor = Box::into_raw(handle).cast();
            Ok(())
        })
    }
}

unsafe extern "C" fn x_close<T: VTab>(cursor: *mut sqlite3_vtab_cursor) -> c_int {
    // SAFETY: SQLite passes our live cursor, its pVtab set.
    let _api = unsafe { enter_cursor::<T>(cursor) };
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: SQLite closes a cursor once, after its last use.
        drop(unsafe { Box::from_raw(cursor as *mut CursorHandle<T>) });
    });
    ffi::SQLITE_OK
}

/// Runs `f` on a cursor and its table, storing any error in the table's zErrMsg.
///
/// # Safety
/// `cursor` must be a handle made by `x_open::<T>` whose pVtab SQLite has set.
unsafe fn with_cursor<T: VTab>(
    cursor: *mut sqlite3_vtab_cursor,
    what: &str,
    f: impl FnOnce(&mut T::Cursor, &T) -> SqlResult<()>,
) -> c_int {
    // SAFETY: per the function contract.
    let _api = unsafe { enter_cursor::<T>(cursor) };
    // SAFETY: per the contract; the table is only read while a cursor callback runs.
    let (handle, vtab) = unsafe {
        let handle = &mut *(cursor as *mut CursorHandle<T>);
        let vtab = handle.base.pVtab;
        (handle, vtab)
    };
    // SAFETY: pVtab points at our TableHandle<T>.
    let table = unsafe { &(*(vtab as *const TableHandle<T>)).table };
    match guard(what, || f(&mut handle.cursor, table)) {
        Ok(()) => ffi::SQLITE_OK,
        // SAFETY: the table handle is live.
        Err(err) => unsafe { set_vtab_error(vtab, &err) },
    }
}

unsafe extern "C" fn x_filter<T: VTab>(
    cursor: *mut sqlite3_vtab_cursor,
    idx_num: c_int,
    idx_str: *const c_char,
    argc: c_int,
    argv: *mut *mut sqlite3_value,
) -> c_int {
    // SAFETY: SQLite passes our cursor, the idxStr best_index set (or null) and argc values
    // that live until xFilter returns.
    unsafe {
        with_cursor::<T>(cursor, "xFilter", |c, t| {
            let idx_str = if idx_str.is_null() {
                None
            } else {
                Some(
                    CStr::from_ptr(idx_str)
                        .to_str()
                        .map_err(|_| SqlError::internal("query plan string is not UTF-8"))?,
                )
            };
            let args: Vec<FilterArg<'_>> = (0..argc.max(0) as usize)
                .map(|i| FilterArg {
                    raw: *argv.add(i),
                    _life: PhantomData,
                })
                .collect();
            c.filter(t, idx_num, idx_str, &args)
        })
    }
}

unsafe extern "C" fn x_next<T: VTab>(cursor: *mut sqlite3_vtab_cursor) -> c_int {
    // SAFETY: SQLite passes our live cursor.
    unsafe { with_cursor::<T>(cursor, "xNext", |c, t| c.next(t)) }
}

unsafe extern "C" fn x_eof<T: VTab>(cursor: *mut sqlite3_vtab_cursor) -> c_int {
    std::panic::catch_unwind(|| {
        // SAFETY: SQLite passes our live cursor.
        let handle = unsafe { &*(cursor as *const CursorHandle<T>) };
        handle.cursor.eof() as c_int
    })
    // A cursor that panics here is broken; ending the scan is the only safe answer.
    .unwrap_or(1)
}

unsafe extern "C" fn x_column<T: VTab>(
    cursor: *mut sqlite3_vtab_cursor,
    ctx: *mut sqlite3_context,
    column: c_int,
) -> c_int {
    // SAFETY: SQLite passes our live cursor.
    let _api = unsafe { enter_cursor::<T>(cursor) };
    let mut out = ColumnContext { ctx };
    // SAFETY: SQLite passes our live cursor and the context of this call.
    let rc = unsafe { with_cursor::<T>(cursor, "xColumn", |c, t| c.column(t, column, &mut out)) };
    if rc != ffi::SQLITE_OK {
        // Column errors must also reach the statement, not only zErrMsg.
        let err = SqlError::with_code(rc, "error reading a virtual table column");
        // SAFETY: live context.
        unsafe {
            let vtab = (*cursor).pVtab;
            let msg = lossy((*vtab).zErrMsg);
            write_error(
                ctx,
                &SqlError::with_code(rc, if msg.is_empty() { err.message } else { msg }),
            );
        }
    }
    rc
}

unsafe extern "C" fn x_rowid<T: VTab>(
    cursor: *mut sqlite3_vtab_cursor,
    rowid: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite passes our live cursor and a writable out-pointer.
    unsafe {
        with_cursor::<T>(cursor, "xRowid", |c, t| {
            *rowid = c.rowid(t)?;
            Ok(())
        })
    }
}

unsafe extern "C" fn x_update<T: VTab>(
    vtab: *mut sqlite3_vtab,
    argc: c_int,
    argv: *mut *mut sqlite3_value,
    new_rowid: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite passes our handle, argc values valid for this call, a writable rowid
    // out-pointer, and the connection is reachable through the values' statement.
    unsafe {
        with_table::<T>(vtab, "xUpdate", |t| {
            let raw: &[*mut sqlite3_value] = std::slice::from_raw_parts(argv, argc.max(0) as usize);
            let old = SqlArg::from_raw_value(raw[0]);
            let change = if raw.len() == 1 {
                Change {
                    old_rowid: Some(old),
                    new_rowid: None,
                    values: Vec::new(),
                }
            } else {
                Change {
                    old_rowid: if old == SqlValue::Null {
                        None
                    } else {
                        Some(old)
                    },
                    new_rowid: Some(SqlArg::from_raw_value(raw[1])),
                    values: raw[2..]
                        .iter()
                        .map(|&v| UpdateValue {
                            unchanged: call!(value_nochange(v)) != 0,
                            value: SqlArg::from_raw(v),
                            raw: v,
                        })
                        .collect(),
                }
            };
            if let Some(rowid) = t.update(&change)? {
                *new_rowid = rowid;
            }
            Ok(())
        })
    }
}

macro_rules! simple_table_callback {
    ($name:ident, $method:ident, $what:literal) => {
        unsafe extern "C" fn $name<T: VTab>(vtab: *mut sqlite3_vtab) -> c_int {
            // SAFETY: SQLite passes our live handle.
            unsafe { with_table::<T>(vtab, $what, |t| t.$method()) }
        }
    };
}
simple_table_callback!(x_begin, begin, "xBegin");
simple_table_callback!(x_sync, sync, "xSync");
simple_table_callback!(x_commit, commit, "xCommit");
simple_table_callback!(x_rollback, rollback, "xRollback");

macro_rules! savepoint_callback {
    ($name:ident, $method:ident, $what:literal) => {
        unsafe extern "C" fn $name<T: VTab>(vtab: *mut sqlite3_vtab, level: c_int) -> c_int {
            // SAFETY: SQLite passes our live handle.
            unsafe { with_table::<T>(vtab, $what, |t| t.$method(level)) }
        }
    };
}
savepoint_callback!(x_savepoint, savepoint, "xSavepoint");
savepoint_callback!(x_release, release, "xRelease");
savepoint_callback!(x_rollback_to, rollback_to, "xRollbackTo");

unsafe extern "C" fn x_rename<T: VTab>(vtab: *mut sqlite3_vtab, new_name: *const c_char) -> c_int {
    let new_name = lossy(new_name);
    // SAFETY: SQLite passes our live handle.
    unsafe { with_table::<T>(vtab, "xRename", |t| t.rename(&new_name)) }
}

/// The function that stands for an overloaded call (see [`VTab::find_function`]) when SQLite
/// evaluates it per row: it sets no result, which SQLite reads as NULL (false).
unsafe extern "C" fn overloaded_function_placeholder(
    _ctx: *mut sqlite3_context,
    _argc: c_int,
    _argv: *mut *mut sqlite3_value,
) {
}

/// Function codes below this are SQLite's own constraint operators.
const FIRST_FUNCTION_CONSTRAINT: u8 = ffi::SQLITE_INDEX_CONSTRAINT_FUNCTION as u8;

unsafe extern "C" fn x_find_function<T: VTab>(
    vtab: *mut sqlite3_vtab,
    n_arg: c_int,
    name: *const c_char,
    px_func: *mut Option<
        unsafe extern "C" fn(*mut sqlite3_context, c_int, *mut *mut sqlite3_value),
    >,
    pp_arg: *mut *mut std::ffi::c_void,
) -> c_int {
    let name = lossy(name);
    // SAFETY: SQLite passes our live handle; the table is only read.
    let _api = unsafe { enter_table::<T>(vtab) };
    // SAFETY: as above.
    let table = unsafe { &(*(vtab as *const TableHandle<T>)).table };
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        table.find_function(n_arg, &name)
    }));
    match found {
        Ok(Some(op)) if op >= FIRST_FUNCTION_CONSTRAINT => {
            // SAFETY: SQLite gives writable out-pointers for the function and its user data.
            unsafe {
                *px_func = Some(overloaded_function_placeholder);
                *pp_arg = std::ptr::null_mut();
            }
            op as c_int
        }
        _ => 0,
    }
}

unsafe extern "C" fn x_shadow_name<T: VTab>(suffix: *const c_char) -> c_int {
    let suffix = lossy(suffix);
    std::panic::catch_unwind(|| T::is_shadow_name(&suffix) as c_int).unwrap_or(0)
}

unsafe extern "C" fn x_integrity<T: VTab>(
    vtab: *mut sqlite3_vtab,
    schema: *const c_char,
    table: *const c_char,
    _flags: c_int,
    err_out: *mut *mut c_char,
) -> c_int {
    let (schema, table) = (lossy(schema), lossy(table));
    // SAFETY: SQLite passes our live handle.
    let _api = unsafe { enter_table::<T>(vtab) };
    let mut problem = None;
    // SAFETY: SQLite passes our live handle.
    let rc = unsafe {
        with_table::<T>(vtab, "xIntegrity", |t| {
            problem = t.integrity(&schema, &table)?;
            Ok(())
        })
    };
    if let Some(problem) = problem {
        // SAFETY: writable out-pointer, freed by SQLite with sqlite3_free.
        unsafe { *err_out = sqlite_string(&problem) };
    }
    rc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::ApiRoutines;

    /// A one-row table whose cursor panics when scanned.
    struct Exploding;
    struct ExplodingCursor;

    impl VTab for Exploding {
        type Aux = ();
        type Cursor = ExplodingCursor;
        const KIND: ModuleKind = ModuleKind::EponymousOnly;

        fn connect(_: &Connection, _: &(), _: &CreateArgs, _: bool) -> SqlResult<(String, Self)> {
            Ok(("CREATE TABLE x(v)".into(), Exploding))
        }
        fn best_index(&self, _: &mut IndexInfo<'_>) -> SqlResult<()> {
            Ok(())
        }
        fn open(&self) -> SqlResult<ExplodingCursor> {
            Ok(ExplodingCursor)
        }
    }

    impl VTabCursor for ExplodingCursor {
        type Table = Exploding;
        fn filter(
            &mut self,
            _: &Exploding,
            _: i32,
            _: Option<&str>,
            _: &[FilterArg<'_>],
        ) -> SqlResult<()> {
            panic!("deliberate failure in xFilter");
        }
        fn next(&mut self, _: &Exploding) -> SqlResult<()> {
            Ok(())
        }
        fn eof(&self) -> bool {
            true
        }
        fn column(&self, _: &Exploding, _: i32, _: &mut ColumnContext) -> SqlResult<()> {
            Ok(())
        }
        fn rowid(&self, _: &Exploding) -> SqlResult<i64> {
            Ok(0)
        }
    }

    #[test]
    fn a_panic_in_a_virtual_table_callback_is_an_sql_error() {
        crate::ffi::set_api(&ApiRoutines::LINKED);
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        // SAFETY: an open connection used on this thread only.
        unsafe { create_module::<Exploding>(conn.handle(), "exploding", ()) }.unwrap();
        let err = conn
            .query_row("select v from exploding", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert!(
            err.to_string().contains("deliberate failure in xFilter"),
            "{err}"
        );
        assert_eq!(
            conn.query_row("select 2", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            2
        );
    }

    /// A table whose `near(v, x)` overload becomes a constraint: it returns one row, x itself,
    /// when best_index received the call, and nothing from a plain scan.
    struct Overloading;
    struct OverloadingCursor {
        value: Option<i64>,
    }

    impl VTab for Overloading {
        type Aux = ();
        type Cursor = OverloadingCursor;
        const KIND: ModuleKind = ModuleKind::EponymousOnly;

        fn connect(_: &Connection, _: &(), _: &CreateArgs, _: bool) -> SqlResult<(String, Self)> {
            Ok(("CREATE TABLE x(v)".into(), Overloading))
        }
        fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
            use super::super::index_info::ConstraintOp;
            for c in info.constraints() {
                if c.usable && c.column == 0 && c.op == ConstraintOp::Function(151) {
                    info.use_constraint(c.index, 1, true);
                    info.set_idx_num(1);
                }
            }
            Ok(())
        }
        fn open(&self) -> SqlResult<OverloadingCursor> {
            Ok(OverloadingCursor { value: None })
        }
        fn find_function(&self, n_args: i32, name: &str) -> Option<u8> {
            (n_args == 2 && name.eq_ignore_ascii_case("near")).then_some(151)
        }
    }

    impl VTabCursor for OverloadingCursor {
        type Table = Overloading;
        fn filter(
            &mut self,
            _: &Overloading,
            idx_num: i32,
            _: Option<&str>,
            args: &[FilterArg<'_>],
        ) -> SqlResult<()> {
            self.value = match (idx_num, args.first().map(|a| a.value())) {
                (1, Some(SqlValue::Integer(i))) => Some(i),
                _ => None,
            };
            Ok(())
        }
        fn next(&mut self, _: &Overloading) -> SqlResult<()> {
            self.value = None;
            Ok(())
        }
        fn eof(&self) -> bool {
            self.value.is_none()
        }
        fn column(&self, _: &Overloading, _: i32, out: &mut ColumnContext) -> SqlResult<()> {
            out.set(SqlOutput::Integer(self.value.unwrap_or(0)));
            Ok(())
        }
        fn rowid(&self, _: &Overloading) -> SqlResult<i64> {
            Ok(1)
        }
    }

    fn null_function(_: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
        Ok(SqlOutput::Null)
    }

    #[test]
    fn an_overloaded_function_becomes_a_constraint_of_the_table() {
        crate::ffi::set_api(&ApiRoutines::LINKED);
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        // SAFETY: an open connection used on this thread only.
        unsafe {
            create_module::<Overloading>(conn.handle(), "overloading", ()).unwrap();
            crate::ffi::function::create_scalar(
                conn.handle(),
                "near",
                2,
                crate::ffi::function::FunctionFlags::PURE,
                null_function,
            )
            .unwrap();
        }
        let v: i64 = conn
            .query_row("select v from overloading where near(v, 42)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(v, 42);
        // Not a column of the table as first argument: the global function, NULL, no rows.
        let n: i64 = conn
            .query_row(
                "select count(*) from overloading where near(1, 42)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0);
    }
}
