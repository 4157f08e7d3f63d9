//! SQLite's pointer-passing interface (`sqlite3_result_pointer` / `sqlite3_value_pointer`):
//! how one function hands a Rust object to another function or virtual table in the same
//! statement, as sqlite-vec's `vec_npy_file()` and `vec_static_blob_from_raw()` do. The value
//! is an SQL NULL to everything except a reader that asks for the same type name.
//!
//! The object travels as a boxed `Arc`, so readers get a clone of it that may outlive the
//! SQL value, and SQLite's destructor only drops one reference.

use std::any::Any;
use std::ffi::{c_void, CStr};
use std::fmt;
use std::sync::Arc;

use rusqlite::ffi::{sqlite3_context, sqlite3_value};

use super::call;

type Shared = Arc<dyn Any + Send + Sync>;

/// A Rust object to hand over as a pointer value, tagged with its pointer-type name.
#[derive(Clone)]
pub struct PointerValue {
    name: &'static CStr,
    value: Shared,
}

impl PointerValue {
    pub fn new<T: Any + Send + Sync>(name: &'static CStr, value: T) -> PointerValue {
        PointerValue {
            name,
            value: Arc::new(value),
        }
    }

    /// Sets this as the result of `ctx`.
    ///
    /// # Safety
    /// `ctx` must be the live context of the current function or column call.
    pub(crate) unsafe fn write_to(&self, ctx: *mut sqlite3_context) {
        let boxed: *mut Shared = Box::into_raw(Box::new(Arc::clone(&self.value)));
        // SAFETY: live context (caller); `name` is 'static as SQLite requires (it keeps the
        // pointer, not a copy); SQLite calls `drop_shared` exactly once on `boxed`, also when
        // it cannot store the result.
        unsafe {
            call!(result_pointer(
                ctx,
                boxed.cast(),
                self.name.as_ptr(),
                Some(drop_shared)
            ))
        };
    }
}

impl fmt::Debug for PointerValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PointerValue({:?})", self.name)
    }
}

impl PartialEq for PointerValue {
    fn eq(&self, other: &PointerValue) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.value, &other.value)
    }
}

unsafe extern "C" fn drop_shared(p: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `p` came from Box::into_raw in `write_to`; SQLite frees it once.
        drop(unsafe { Box::from_raw(p as *mut Shared) });
    });
}

/// The object behind a pointer value of type `name`, if `value` is one and holds a `T`.
///
/// # Safety
/// `value` must be a valid `sqlite3_value` for the duration of the call, and every pointer
/// value of type `name` must have been written by [`PointerValue::write_to`] (type names are
/// private to vecsql, so no other code produces them).
pub(crate) unsafe fn read<T: Any + Send + Sync>(
    value: *mut sqlite3_value,
    name: &CStr,
) -> Option<Arc<T>> {
    // SAFETY: valid value (caller); SQLite returns null unless the value is a pointer of
    // exactly this type, which by the contract above is a boxed `Shared`.
    unsafe {
        let p = call!(value_pointer(value, name.as_ptr())) as *const Shared;
        if p.is_null() {
            return None;
        }
        Arc::clone(&*p).downcast::<T>().ok()
    }
}
