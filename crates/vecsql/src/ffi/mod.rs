//! Everything that touches SQLite's C interface lives under this module: the API table, value
//! and context accessors, the function and virtual-table trampolines. Code outside `ffi` sees
//! only safe Rust types ([`SqlArg`], [`SqlOutput`], [`crate::error::SqlError`]).
//!
//! Every `extern "C"` function SQLite calls is a trampoline that catches panics and turns a
//! `Result` into a return code plus message: a panic must never unwind into C.

pub mod api_routines;
pub mod connection;
pub mod function;
pub mod index_info;
pub mod pointer;
pub mod value;
pub mod vtab;

use std::cell::Cell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};

pub use api_routines::ApiRoutines;
pub use value::{OwnedValue, SqlArg, SqlOutput, SqlValue};

use crate::error::SqlError;

/// The API table of the most recent initialisation: what code outside any callback (the
/// registration itself, the Rust library case) uses.
static API: AtomicPtr<ApiRoutines> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// The API table of the SQLite whose callback is running on this thread. A process can
    /// hold two SQLite libraries that both load this one `.so` (Python's `sqlite3` module and
    /// `apsw`, which bundles its own): each connection must call back into the SQLite that
    /// owns it, so every callback enters the table it was registered with.
    static CURRENT: Cell<*const ApiRoutines> = const { Cell::new(std::ptr::null()) };
}

/// How many distinct SQLite libraries one process may load vecsql into. Function
/// callbacks carry no pointer of ours that can be read without an API call, so each
/// library gets its own monomorphised trampolines, one per slot.
pub(crate) const API_SLOTS: usize = 8;

static SLOTS: [AtomicPtr<ApiRoutines>; API_SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; API_SLOTS];

/// SQLite's `SQLITE_VERSION_NUMBER` of the oldest host vecsql supports: 3.38 added the
/// `vtab_in`/`vtab_rhs_value` slots the query planner relies on.
pub const MIN_SQLITE_VERSION: i32 = 3_038_000;

pub(crate) fn set_api(api: *const ApiRoutines) {
    API.store(api as *mut ApiRoutines, Ordering::Release);
}

/// The table calls made now go to: the running callback's, else the last initialised.
pub(crate) fn current_api() -> *const ApiRoutines {
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        API.load(Ordering::Acquire)
    } else {
        current
    }
}

/// The slot of `api`, claiming a free one the first time a library is seen.
pub(crate) fn slot_of(api: *const ApiRoutines) -> Option<usize> {
    let api = api as *mut ApiRoutines;
    for (i, slot) in SLOTS.iter().enumerate() {
        match slot.compare_exchange(
            std::ptr::null_mut(),
            api,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Some(i),
            Err(existing) if existing == api => return Some(i),
            Err(_) => {}
        }
    }
    None
}

pub(crate) fn slot_api(slot: usize) -> *const ApiRoutines {
    SLOTS[slot].load(Ordering::Acquire)
}

/// While alive, calls on this thread go to `api`; restores the previous table on drop (also
/// when a callback panics), so nested callbacks of the same library compose.
pub(crate) struct ApiScope {
    previous: *const ApiRoutines,
}

impl ApiScope {
    pub(crate) fn enter(api: *const ApiRoutines) -> ApiScope {
        ApiScope {
            previous: CURRENT.with(|c| c.replace(api)),
        }
    }
}

impl Drop for ApiScope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// The API table; panics (caught by the trampolines) if vecsql was never initialised, which
/// cannot happen through the public entry points.
pub(crate) fn api() -> &'static ApiRoutines {
    let ptr = current_api();
    assert!(
        !ptr.is_null(),
        "vecsql used before its SQLite API table was set"
    );
    // SAFETY: the pointer is either `&ApiRoutines::LINKED` (a static) or a host's table,
    // which SQLite keeps alive for the life of the process.
    unsafe { &*ptr }
}

/// `SQLITE_VERSION_NUMBER` of the SQLite vecsql runs in.
pub(crate) fn host_version() -> i32 {
    // SAFETY: libversion_number takes no arguments and is present in every host.
    unsafe { call!(libversion_number()) }
}

/// Calls a typed API slot, panicking (caught by the trampolines) if the host left it empty.
macro_rules! call {
    ($name:ident($($arg:expr),* $(,)?)) => {
        match $crate::ffi::api().$name {
            Some(f) => f($($arg),*),
            None => panic!(concat!("SQLite API slot `", stringify!($name), "` is missing")),
        }
    };
}
pub(crate) use call;

/// A copy of `message` in memory from `sqlite3_malloc`, as SQLite wants for `zErrMsg` and
/// `*pzErrMsg` (it frees them with `sqlite3_free`).
pub(crate) fn sqlite_string(message: &str) -> *mut c_char {
    sqlite_string_in(api(), message)
}

/// [`sqlite_string`] with an explicit API table, for use before the table is installed.
pub(crate) fn sqlite_string_in(api: &ApiRoutines, message: &str) -> *mut c_char {
    let Some(malloc) = api.malloc else {
        return std::ptr::null_mut();
    };
    let bytes = message.as_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    // SAFETY: malloc returns a writable block of the requested size or null; we write
    // `len + 1` bytes into a block of `len + 1` bytes.
    unsafe {
        let ptr = malloc((len + 1) as i32) as *mut u8;
        if ptr.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, len);
        *ptr.add(len) = 0;
        ptr as *mut c_char
    }
}

/// `x` printed by the host SQLite's `printf("%f")`, which is what sqlite-vec's `vec_to_json`
/// emits; SQLite's float printing differs from C's and Rust's (`Inf`, ties away from zero,
/// 16 significant digits), so vecsql asks the host rather than imitate a moving target.
pub(crate) fn sqlite_format_f(x: f64) -> String {
    // SAFETY: "%f" consumes exactly one double; the result is a NUL-terminated string from
    // sqlite3_malloc (or null on OOM), freed here.
    unsafe {
        let p = call!(mprintf(c"%f".as_ptr(), x));
        if p.is_null() {
            return format!("{x:.6}");
        }
        let s = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
        call!(free(p.cast()));
        s
    }
}

/// Runs `f`, turning a panic into an internal error so it never crosses into C.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> Result<T, SqlError>) -> Result<T, SqlError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(SqlError::internal(format!(
                "vecsql internal error in {what}: {detail}"
            )))
        }
    }
}
