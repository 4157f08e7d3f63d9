//! Replays every saved fuzz input on stable Rust, in the normal test run: the seeds in
//! `fuzz/seeds/<target>/` and the crashes found so far in `fuzz/regressions/<target>/`. The
//! checks are the fuzz targets' own (the `vecsql-fuzz-checks` crate), so an input that once
//! crashed a target fails this test until the bug stays fixed.
//!
//! To add a crash found by `scripts/fuzz.sh`: copy `fuzz/artifacts/<target>/crash-*` into
//! `fuzz/regressions/<target>/` under a name that says what it was.

use std::path::PathBuf;
use vecsql_fuzz_checks as checks;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() && path.extension().is_none_or(|e| e != "md") {
                let data = std::fs::read(&path).unwrap();
                out.push((path, data));
            }
        }
    }
    out.sort();
    out
}

fn replay(target: &str, check: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no saved inputs for {target}");
    for (path, data) in inputs {
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails again", path.display());
    }
}

#[test]
fn json_inputs() {
    replay("json", checks::json);
}

#[test]
fn blob_inputs() {
    replay("blob", checks::blob);
}

#[test]
fn definition_inputs() {
    replay("definition", checks::definition);
}

#[test]
fn sql_diff_inputs() {
    replay("sql_diff", checks::sql_diff);
}

#[test]
fn shadow_inputs() {
    replay("shadow", checks::shadow);
}

/// Every saved SQL workload again, with ANN graph walks held to the exact answer (tables of a
/// few dozen rows, `ef_search = 256`: a walk that reaches every node is exact).
#[test]
#[ignore = "lead: HNSW with m=4, ef_construction=8 leaves a distinct vector among duplicates \
            unreachable (fuzz/regressions/sql_diff/ann-walk-misses-distinct-vector-among-duplicates)"]
fn sql_diff_inputs_with_exact_ann_walks() {
    replay("sql_diff", checks::sql_diff_exact_ann);
}

/// The same finding as plain SQL: nine copies of one vector and one other vector; the other is
/// never found by a graph walk, not even with its own vector as the query.
#[test]
#[ignore = "lead: HNSW neighbour re-pruning drops the only distinct vector from every list"]
fn ann_walk_reaches_a_distinct_vector_among_duplicates() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    vecsql::register(&conn).unwrap();
    conn.execute_batch(
        "create virtual table v using vec0(emb float[4] indexed by hnsw(m=4, ef_construction=8))",
    )
    .unwrap();
    for i in 1..=10 {
        let v = if i == 7 {
            "[-3,0,0,0]"
        } else {
            "[-3,-3,-3,-3]"
        };
        conn.execute(
            "insert into v(rowid, emb) values (?1, ?2)",
            rusqlite::params![i, v],
        )
        .unwrap();
    }
    let nearest = |options: &str| -> i64 {
        conn.query_row(
            &format!("select rowid from v where emb match '[-3,0,0,0]' and k = 1{options}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(nearest(" and exact = 1"), 7);
    assert_eq!(
        nearest(" and ef_search = 256"),
        7,
        "the graph walk cannot reach row 7"
    );
}
