//! Process-wide settings: read by the parts they tune, set from SQL by
//! `functions/settings.rs` (neither side imports the other).

/// The default of [`vector_cache_budget`]: 1 GiB.
pub const VECTOR_CACHE_BUDGET: usize = 1 << 30;

/// Bytes set by [`set_vector_cache_budget`]; `usize::MAX` until then (use the default or
/// `VECSQL_CACHE_BUDGET`).
static BUDGET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);

/// Bytes of vector chunks one connection keeps in memory for each table between KNN scans
/// (chunks are shared by the connections of a process, so several connections reading one
/// table hold one copy). Chunks beyond the budget are read through SQLite's page cache on
/// every scan, as if there were no cache: slower, never wrong. Set by
/// `select vecsql_cache_budget(bytes)` or the `VECSQL_CACHE_BUDGET` environment variable
/// (bytes); 0 turns the cache off.
pub fn vector_cache_budget() -> usize {
    match BUDGET.load(std::sync::atomic::Ordering::Relaxed) {
        usize::MAX => std::env::var("VECSQL_CACHE_BUDGET")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(VECTOR_CACHE_BUDGET),
        set => set,
    }
}

/// Sets [`vector_cache_budget`] for every connection of the process; chunks already cached
/// stay until their connection drops them.
pub fn set_vector_cache_budget(bytes: usize) {
    BUDGET.store(
        bytes.min(usize::MAX - 1),
        std::sync::atomic::Ordering::Relaxed,
    );
}
