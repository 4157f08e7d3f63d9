//! `libvecsql_preload.so`: registers vecsql on every connection a program opens, for SQLite
//! hosts that cannot (or will not) call `load_extension`, dqlite first among them:
//!
//! ```sh
//! LD_PRELOAD=target/release/libvecsql_preload.so dqlite-demo --api ... --db ...
//! ```
//!
//! The library wraps `sqlite3_open`, `sqlite3_open_v2` and `sqlite3_open16`. On the first call
//! it loads `libvecsql.so` (from `$VECSQL_EXTENSION`, or else the directory this library is in)
//! and hands its `sqlite3_vecsql_init` to `sqlite3_auto_extension` of the program's own SQLite
//! (the next definition after this library: the `libsqlite3.so.0` the program links); then it
//! calls the real open function. From then on SQLite runs vecsql's init on every connection
//! it opens, passing its API table, which vecsql uses for every call, exactly as when it is
//! loaded as an extension.
//!
//! Why not register from a constructor: `sqlite3_auto_extension` initialises SQLite, after
//! which `sqlite3_config` fails, and programs configure SQLite before their first open
//! (go-dqlite sets the threading mode at start-up and panics if it cannot). Why a separate
//! library: vecsql's Rust build carries a private bundled SQLite whose own `sqlite3_open*`
//! symbols would clash with these wrappers.
//!
//! A process that never opens a database through a dynamically linked SQLite (a shell that
//! starts the real program, a program with SQLite compiled in) is left alone, so the variable
//! can be inherited safely. If vecsql cannot be registered, one line says why on stderr and
//! the open goes ahead without it (the first vec0 statement then fails with "no such module").
//!
//! Programs that link SQLite themselves (Go with go-dqlite through cgo, C, ...) can make the
//! same call once at start-up, after configuring SQLite, with `libvecsql.so` linked:
//! `sqlite3_auto_extension((void (*)(void))sqlite3_vecsql_init);`

use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Once;

type OpenFn = unsafe extern "C" fn(*const c_char, *mut *mut c_void) -> c_int;
type OpenV2Fn =
    unsafe extern "C" fn(*const c_char, *mut *mut c_void, c_int, *const c_char) -> c_int;
type Open16Fn = unsafe extern "C" fn(*const c_void, *mut *mut c_void) -> c_int;
type AutoExtensionFn = unsafe extern "C" fn(Option<unsafe extern "C" fn()>) -> c_int;

const SQLITE_OK: c_int = 0;
const SQLITE_ERROR: c_int = 1;

static REGISTER: Once = Once::new();

/// The next definition of `name` after this library: the program's SQLite.
fn next_symbol(name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name.
    unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) }
}

fn dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated message owned by libc.
    let message = unsafe { libc::dlerror() };
    if message.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: as above.
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    }
}

/// `$VECSQL_EXTENSION`, or `libvecsql.so` next to this library.
fn extension_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VECSQL_EXTENSION") {
        return Some(PathBuf::from(path));
    }
    // SAFETY: Dl_info is plain pointers, for which zero is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr fills `info` for an address inside this library.
    let found = unsafe { libc::dladdr(extension_path as *const c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let own = unsafe { CStr::from_ptr(info.dli_fname) };
    let own = PathBuf::from(OsStr::from_bytes(own.to_bytes()));
    Some(
        own.parent()?
            .join(format!("libvecsql.{}", std::env::consts::DLL_EXTENSION)),
    )
}

fn register() -> Result<(), String> {
    let auto_extension = next_symbol(c"sqlite3_auto_extension");
    if auto_extension.is_null() {
        return Err("the program's SQLite has no sqlite3_auto_extension".into());
    }
    let path = extension_path().ok_or("cannot tell where libvecsql.so is")?;
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: dlopen of a path; the library stays loaded for the life of the process.
    let library = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if library.is_null() {
        return Err(format!("cannot load {}: {}", path.display(), dl_error()));
    }
    // SAFETY: dlsym on the handle just opened.
    let init = unsafe { libc::dlsym(library, c"sqlite3_vecsql_init".as_ptr()) };
    if init.is_null() {
        return Err(format!("{} has no sqlite3_vecsql_init", path.display()));
    }
    // SAFETY: sqlite3_auto_extension's C signature is `int (*)(void (*)(void))`, and SQLite
    // calls the registered pointer back with the extension-init signature (the C idiom casts
    // the same way).
    let rc = unsafe {
        let auto_extension: AutoExtensionFn = std::mem::transmute(auto_extension);
        auto_extension(Some(std::mem::transmute::<
            *mut c_void,
            unsafe extern "C" fn(),
        >(init)))
    };
    if rc == SQLITE_OK {
        Ok(())
    } else {
        Err(format!("sqlite3_auto_extension failed with code {rc}"))
    }
}

fn ensure_registered() {
    REGISTER.call_once(|| {
        if let Err(message) = register() {
            eprintln!("vecsql-preload: vecsql not registered: {message}");
        }
    });
}

/// Wraps SQLite's `sqlite3_open`.
///
/// # Safety
/// As `sqlite3_open`.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_open(filename: *const c_char, db: *mut *mut c_void) -> c_int {
    ensure_registered();
    let real = next_symbol(c"sqlite3_open");
    if real.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: the program's sqlite3_open, called with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, OpenFn>(real)(filename, db) }
}

/// Wraps SQLite's `sqlite3_open_v2`.
///
/// # Safety
/// As `sqlite3_open_v2`.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_open_v2(
    filename: *const c_char,
    db: *mut *mut c_void,
    flags: c_int,
    vfs: *const c_char,
) -> c_int {
    ensure_registered();
    let real = next_symbol(c"sqlite3_open_v2");
    if real.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: the program's sqlite3_open_v2, called with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, OpenV2Fn>(real)(filename, db, flags, vfs) }
}

/// Wraps SQLite's `sqlite3_open16`.
///
/// # Safety
/// As `sqlite3_open16`.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_open16(filename: *const c_void, db: *mut *mut c_void) -> c_int {
    ensure_registered();
    let real = next_symbol(c"sqlite3_open16");
    if real.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: the program's sqlite3_open16, called with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, Open16Fn>(real)(filename, db) }
}
