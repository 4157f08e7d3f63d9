//! Registration of scalar SQL functions and the one trampoline they all share.

use std::ffi::{c_int, c_void, CString};

use rusqlite::ffi::{self, sqlite3, sqlite3_context, sqlite3_value};

use super::value::{write_error, SqlArg, SqlOutput};
use super::{call, guard};
use crate::error::{SqlError, SqlResult};

/// A scalar function body: pure Rust over borrowed arguments.
pub type ScalarImpl = fn(&[SqlArg<'_>]) -> SqlResult<SqlOutput>;

/// A function that reads the database it is called on (e.g. `vec_index_status`).
pub type ConnectionScalarImpl =
    fn(&super::connection::Connection, &[SqlArg<'_>]) -> SqlResult<SqlOutput>;

/// A function body that may also read pointer values (sqlite-vss's vectors and search
/// parameters travel as SQLite pointer values; see [`super::pointer`]).
pub type PointerScalarImpl = fn(&[PointerArg<'_>]) -> SqlResult<SqlOutput>;

/// A function argument: its value, and the object behind it if it is a pointer value.
#[derive(Clone, Copy)]
pub struct PointerArg<'a> {
    pub arg: SqlArg<'a>,
    raw: *mut sqlite3_value,
}

impl PointerArg<'_> {
    /// The object behind a pointer value of type `name` (see [`super::pointer::read`]).
    pub fn pointer<T: std::any::Any + Send + Sync>(
        &self,
        name: &std::ffi::CStr,
    ) -> Option<std::sync::Arc<T>> {
        // SAFETY: the value is live for the call the argument was made for, which bounds
        // this borrow.
        unsafe { super::pointer::read(self.raw, name) }
    }
}

/// What SQLite may assume about a function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionFlags {
    /// Same inputs always give the same output (lets SQLite use it in indexes and constant-fold).
    pub deterministic: bool,
    /// Reads argument subtypes (SQLITE_SUBTYPE: keeps the planner from dropping them).
    pub reads_subtype: bool,
    /// Sets a result subtype (SQLITE_RESULT_SUBTYPE, required by SQLite 3.45+ strict builds).
    pub sets_subtype: bool,
    /// Changes state outside its result (a setting): SQLITE_DIRECTONLY instead of
    /// SQLITE_INNOCUOUS, so schema code (views, triggers, CHECK) cannot call it.
    pub direct_only: bool,
}

impl FunctionFlags {
    pub const PURE: FunctionFlags = FunctionFlags {
        deterministic: true,
        reads_subtype: false,
        sets_subtype: false,
        direct_only: false,
    };

    /// A setting: not deterministic, and only from top-level SQL.
    pub const SETTING: FunctionFlags = FunctionFlags {
        deterministic: false,
        reads_subtype: false,
        sets_subtype: false,
        direct_only: true,
    };

    fn to_sqlite(self) -> c_int {
        // Older hosts ignore flag bits they do not know, so both subtype flags are always safe.
        const SQLITE_SUBTYPE: c_int = 0x0010_0000;
        const SQLITE_RESULT_SUBTYPE: c_int = 0x0100_0000;
        let mut flags = ffi::SQLITE_UTF8
            | if self.direct_only {
                ffi::SQLITE_DIRECTONLY
            } else {
                ffi::SQLITE_INNOCUOUS
            };
        if self.deterministic {
            flags |= ffi::SQLITE_DETERMINISTIC;
        }
        if self.reads_subtype {
            flags |= SQLITE_SUBTYPE;
        }
        if self.sets_subtype {
            flags |= SQLITE_RESULT_SUBTYPE;
        }
        flags
    }
}

/// Registers `body` as `name` taking `n_args` arguments (-1: any number).
///
/// # Safety
/// `db` must be an open connection used only from this thread for the duration of the call.
pub unsafe fn create_scalar(
    db: *mut sqlite3,
    name: &str,
    n_args: c_int,
    flags: FunctionFlags,
    body: ScalarImpl,
) -> SqlResult<()> {
    // SAFETY: forwarded from the caller; `scalar_trampoline` reads a `ScalarImpl`.
    unsafe {
        register(
            db,
            name,
            n_args,
            flags,
            body as *const () as *mut c_void,
            Kind::Scalar,
        )
    }
}

/// Registers `body`, which is handed the calling connection, as `name`.
///
/// # Safety
/// As [`create_scalar`].
pub unsafe fn create_connection_scalar(
    db: *mut sqlite3,
    name: &str,
    n_args: c_int,
    body: ConnectionScalarImpl,
) -> SqlResult<()> {
    let flags = FunctionFlags {
        deterministic: false,
        reads_subtype: false,
        sets_subtype: false,
        direct_only: false,
    };
    // SAFETY: forwarded from the caller; the trampoline reads a `ConnectionScalarImpl`.
    unsafe {
        register(
            db,
            name,
            n_args,
            flags,
            body as *const () as *mut c_void,
            Kind::ConnectionScalar,
        )
    }
}

/// Registers `body`, whose arguments can be read as pointer values too, as `name`.
///
/// # Safety
/// As [`create_scalar`].
pub unsafe fn create_pointer_scalar(
    db: *mut sqlite3,
    name: &str,
    n_args: c_int,
    flags: FunctionFlags,
    body: PointerScalarImpl,
) -> SqlResult<()> {
    // SAFETY: forwarded from the caller; the trampoline reads a `PointerScalarImpl`.
    unsafe {
        register(
            db,
            name,
            n_args,
            flags,
            body as *const () as *mut c_void,
            Kind::PointerScalar,
        )
    }
}

type Trampoline = unsafe extern "C" fn(*mut sqlite3_context, c_int, *mut *mut sqlite3_value);

/// Which trampoline a function is called through.
#[derive(Clone, Copy)]
enum Kind {
    Scalar,
    ConnectionScalar,
    PointerScalar,
}

/// The trampoline of `kind` bound to API slot `slot` (see [`super::API_SLOTS`]).
fn trampoline(kind: Kind, slot: usize) -> Trampoline {
    macro_rules! by_slot {
        ($f:ident) => {
            match slot {
                0 => $f::<0>,
                1 => $f::<1>,
                2 => $f::<2>,
                3 => $f::<3>,
                4 => $f::<4>,
                5 => $f::<5>,
                6 => $f::<6>,
                _ => $f::<7>,
            }
        };
    }
    const _: () = assert!(super::API_SLOTS == 8, "by_slot! lists every slot");
    match kind {
        Kind::Scalar => by_slot!(scalar_trampoline),
        Kind::ConnectionScalar => by_slot!(connection_scalar_trampoline),
        Kind::PointerScalar => by_slot!(pointer_scalar_trampoline),
    }
}

/// `sqlite3_create_function_v2` with a 'static fn pointer as user data (so no destructor).
///
/// # Safety
/// `db` is open and used only from this thread; `trampoline` reads `user_data` as the type it
/// was made from.
unsafe fn register(
    db: *mut sqlite3,
    name: &str,
    n_args: c_int,
    flags: FunctionFlags,
    user_data: *mut c_void,
    kind: Kind,
) -> SqlResult<()> {
    let c_name = CString::new(name).map_err(|_| SqlError::new("function name contains NUL"))?;
    let slot = super::slot_of(super::current_api()).ok_or_else(|| {
        SqlError::new(format!(
            "vecsql is loaded into more than {} SQLite libraries in this process",
            super::API_SLOTS
        ))
    })?;
    let trampoline = trampoline(kind, slot);
    // SAFETY: guaranteed by the caller, see above.
    let rc = unsafe {
        call!(create_function_v2(
            db,
            c_name.as_ptr(),
            n_args,
            flags.to_sqlite(),
            user_data,
            Some(trampoline),
            None,
            None,
            None
        ))
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(SqlError::with_code(
            rc,
            format!("could not register function {name}"),
        ))
    }
}

/// The call's arguments.
///
/// # Safety
/// `argv` holds `argc` values that live for the current call.
unsafe fn arguments<'a>(argc: c_int, argv: *mut *mut sqlite3_value) -> Vec<SqlArg<'a>> {
    let raw: &[*mut sqlite3_value] = if argc <= 0 || argv.is_null() {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(argv, argc as usize) }
    };
    raw.iter().map(|&v| SqlArg::from_raw(v)).collect()
}

/// Writes the function's result or error into `ctx`.
///
/// # Safety
/// `ctx` is the live context of the current call.
unsafe fn finish(ctx: *mut sqlite3_context, outcome: SqlResult<SqlOutput>) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match outcome {
            Ok(output) => output.write_to(ctx),
            Err(err) => write_error(ctx, &err),
        }
    }
}

unsafe extern "C" fn connection_scalar_trampoline<const SLOT: usize>(
    ctx: *mut sqlite3_context,
    argc: c_int,
    argv: *mut *mut sqlite3_value,
) {
    let _api = super::ApiScope::enter(super::slot_api(SLOT));
    let outcome = guard("a SQL function", || {
        // SAFETY: the user data is the `ConnectionScalarImpl` given at registration; the
        // context's connection is open for the duration of the call; `argv` holds `argc`
        // values valid for this call.
        let (body, conn, args) = unsafe {
            let body: ConnectionScalarImpl =
                std::mem::transmute::<*mut c_void, ConnectionScalarImpl>(call!(user_data(ctx)));
            let conn = super::connection::Connection::from_raw(call!(context_db_handle(ctx)));
            (body, conn, arguments(argc, argv))
        };
        body(&conn, &args)
    });
    // SAFETY: ctx is the live context of this call.
    unsafe { finish(ctx, outcome) }
}

unsafe extern "C" fn pointer_scalar_trampoline<const SLOT: usize>(
    ctx: *mut sqlite3_context,
    argc: c_int,
    argv: *mut *mut sqlite3_value,
) {
    let _api = super::ApiScope::enter(super::slot_api(SLOT));
    let outcome = guard("a SQL function", || {
        // SAFETY: SQLite passes the user-data pointer given at registration, which is a
        // `PointerScalarImpl`, and `argc` valid values in `argv` that live for this call.
        let (body, args) = unsafe {
            let body: PointerScalarImpl =
                std::mem::transmute::<*mut c_void, PointerScalarImpl>(call!(user_data(ctx)));
            let raw: &[*mut sqlite3_value] = if argc <= 0 || argv.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(argv, argc as usize)
            };
            let args: Vec<PointerArg<'_>> = raw
                .iter()
                .map(|&v| PointerArg {
                    arg: SqlArg::from_raw(v),
                    raw: v,
                })
                .collect();
            (body, args)
        };
        body(&args)
    });
    // SAFETY: ctx is the live context of this call.
    unsafe { finish(ctx, outcome) }
}

unsafe extern "C" fn scalar_trampoline<const SLOT: usize>(
    ctx: *mut sqlite3_context,
    argc: c_int,
    argv: *mut *mut sqlite3_value,
) {
    let _api = super::ApiScope::enter(super::slot_api(SLOT));
    let outcome = guard("a SQL function", || {
        // SAFETY: SQLite passes the user-data pointer given at registration, which is a
        // `ScalarImpl`, and `argc` valid values in `argv` that live for this call.
        let (body, args) = unsafe {
            let body: ScalarImpl =
                std::mem::transmute::<*mut c_void, ScalarImpl>(call!(user_data(ctx)));
            (body, arguments(argc, argv))
        };
        body(&args)
    });
    // SAFETY: ctx is the live context of this call.
    unsafe { finish(ctx, outcome) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::ApiRoutines;

    fn panicking(_: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
        panic!("deliberate failure for the test");
    }

    #[test]
    fn a_panic_in_a_function_is_an_sql_error_not_an_abort() {
        crate::ffi::set_api(&ApiRoutines::LINKED);
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        // SAFETY: an open connection used on this thread only.
        unsafe { create_scalar(conn.handle(), "boom", 0, FunctionFlags::PURE, panicking) }.unwrap();
        let err = conn
            .query_row("select boom()", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        let rusqlite::Error::SqliteFailure(code, Some(message)) = err else {
            panic!("expected an SQLite failure, got {err:?}");
        };
        assert_eq!(code.code, rusqlite::ErrorCode::InternalMalfunction);
        assert!(
            message.contains("deliberate failure for the test"),
            "{message}"
        );
        // The connection is still usable afterwards.
        assert_eq!(
            conn.query_row("select 1", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            1
        );
    }
}
