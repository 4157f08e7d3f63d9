//! `vecsql_cache_budget(bytes)` bounds the exact-scan cache. The budget is a setting of the
//! whole process, so this test has a binary of its own: tests of the cache that run beside it
//! in one process (`cargo test` threads, the valgrind run) would see it change under them.

mod vec0_support;

use rusqlite::Connection;
use vec0_support::cache::{nearest_to, ten_chunks};
use vecsql::vec0::storage::vector_chunk_adoptions;

#[test]
fn the_cache_budget_bounds_what_stays_in_memory_and_never_changes_answers() {
    let (_dir, a, _b) = ten_chunks();
    let budget = |conn: &Connection, set: Option<i64>| -> i64 {
        match set {
            Some(bytes) => conn.query_row("select vecsql_cache_budget(?)", [bytes], |r| r.get(0)),
            None => conn.query_row("select vecsql_cache_budget()", [], |r| r.get(0)),
        }
        .unwrap()
    };
    assert_eq!(budget(&a, None), 1 << 30);
    // Chunks this connection did not keep are read, or taken from another connection of the
    // process that holds them: either way not in its own cache.
    let fetched = |conn: &Connection| {
        let before = vector_chunk_adoptions();
        let (found, reads) = nearest_to(conn, 20.0, 0.0);
        (found, reads + (vector_chunk_adoptions() - before))
    };
    assert_eq!(budget(&a, Some(0)), 0);
    assert_eq!(fetched(&a), ((20, 0.0), 10));
    assert_eq!(fetched(&a), ((20, 0.0), 10), "nothing cached at 0");
    // Each chunk holds 8 vectors of 2 float32: 64 bytes. Room for three chunks.
    assert_eq!(budget(&a, Some(3 * 64)), 192);
    assert_eq!(fetched(&a), ((20, 0.0), 10));
    assert_eq!(fetched(&a), ((20, 0.0), 7), "three chunks stay cached");
    let err = a
        .query_row("select vecsql_cache_budget(-1)", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert!(err.to_string().contains("non-negative integer"), "{err}");
    // A setting: schema code may not call it.
    a.execute_batch("create view v as select vecsql_cache_budget(5) as b")
        .unwrap();
    assert!(a
        .query_row("select b from v", [], |r| r.get::<_, i64>(0))
        .is_err());
    assert_eq!(budget(&a, None), 192);
}
