//! Damaged shadow tables are reported, not crashed on: every kind of damage a file can carry
//! (blobs of the wrong size or type, bitmaps and rowid arrays that disagree with `{t}_rowids`,
//! missing rows, bad `{t}_info` values, malformed index rows) fails the statements that read
//! it with `SQLITE_CORRUPT_VTAB` and a message naming the shadow table, never with a panic
//! (`SQLITE_INTERNAL`) or a wrong answer; the statements that do not touch the damage keep
//! working, and so do the other tables of the database.

mod vec0_support;

use std::path::{Path, PathBuf};

use rusqlite::ffi;
use rusqlite::Connection;
use vec0_support::*;

const CORRUPT_VTAB: i32 = ffi::SQLITE_CORRUPT | (1 << 8);

/// `t` (partition key, four metadata kinds, an auxiliary column, chunks of 8) and `ti` (an
/// HNSW index) with 20 rows each in a file, and an ordinary table `plain`.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    let conn = open(&path);
    exec(
        &conn,
        "create virtual table t using vec0(user integer partition key, emb float[4], \
         n integer, f float, b boolean, tag text, +note text, chunk_size=8);
         create virtual table ti using vec0(emb float[4] indexed by hnsw(), chunk_size=8);
         create table plain(x integer primary key, y text);
         insert into plain values (1, 'one'), (2, 'two');",
    );
    for i in 1..=20i64 {
        let v = format!("[{i},{},0,1]", i % 3);
        let tag = if i % 2 == 0 {
            format!("a long tag for row {i}")
        } else {
            format!("s{i}")
        };
        conn.execute(
            "insert into t(rowid, user, emb, n, f, b, tag, note) values (?, 1, ?, ?, ?, ?, ?, ?)",
            rusqlite::params![i, v, i, i as f64 / 2.0, i % 2, tag, format!("note {i}")],
        )
        .unwrap();
        conn.execute(
            "insert into ti(rowid, emb) values (?, ?)",
            rusqlite::params![i, v],
        )
        .unwrap();
    }
    drop(conn);
    (dir, path)
}

/// A fresh connection after `damage` ran on another one (so table connects see it too).
fn damaged(path: &Path, damage: &str) -> Connection {
    let conn = open(path);
    exec(&conn, damage);
    drop(conn);
    open(path)
}

/// Runs `sql` to the end (every row, every column).
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query([])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        for i in 0..n {
            let _: rusqlite::types::Value = row.get(i)?;
        }
        count += 1;
    }
    Ok(count)
}

/// Fails unless `sql` fails with SQLITE_CORRUPT_VTAB and a message containing each of `words`.
fn assert_corrupt(conn: &Connection, sql: &str, words: &[&str]) {
    match run(conn, sql) {
        Err(rusqlite::Error::SqliteFailure(e, message)) => {
            let message = message.unwrap_or_default();
            assert_eq!(
                e.extended_code, CORRUPT_VTAB,
                "{sql}: expected SQLITE_CORRUPT_VTAB, got {e:?}: {message}"
            );
            for w in words {
                assert!(message.contains(w), "{sql}: {message:?} lacks {w:?}");
            }
        }
        other => panic!("{sql}: expected SQLITE_CORRUPT_VTAB, got {other:?}"),
    }
}

/// Fails if `sql` fails with anything but SQLITE_CORRUPT_VTAB (it may succeed).
fn assert_ok_or_corrupt(conn: &Connection, sql: &str) {
    if let Err(e) = run(conn, sql) {
        match &e {
            rusqlite::Error::SqliteFailure(f, m) => assert_eq!(
                f.extended_code,
                CORRUPT_VTAB,
                "{sql}: {f:?}: {}",
                m.as_deref().unwrap_or("")
            ),
            other => panic!("{sql}: {other}"),
        }
    }
}

const KNN: &str = "select rowid, distance, n, f, b, tag, note from t \
                   where emb match '[3,0,0,1]' and k = 20";
const KNN_FILTERED: &str = "select rowid from t where emb match '[3,0,0,1]' and k = 20 \
                            and n > 0 and f > 0 and b in (0, 1) and tag > ''";
const KNN_INDEXED: &str = "select rowid, distance from ti where emb match '[3,0,0,1]' and k = 5";
const KNN_EXACT: &str =
    "select rowid, distance from ti where emb match '[3,0,0,1]' and k = 20 and exact = 1";
const SCAN: &str = "select * from t";

/// Every statement kind, on both tables; each must succeed or report the damage.
const EVERYTHING: &[&str] = &[
    KNN,
    KNN_FILTERED,
    KNN_INDEXED,
    KNN_EXACT,
    SCAN,
    "select * from ti",
    "select * from t where rowid = 3",
    "select * from t where rowid in (2, 9, 17)",
    "select * from ti where rowid = 3",
    "update t set n = 100, tag = 'another long tag value' where rowid = 4",
    "update t set user = 2 where rowid = 5",
    "update ti set emb = '[1,1,1,1]' where rowid = 6",
    "delete from t where rowid = 7",
    "delete from ti where rowid = 7",
    "insert into t(rowid, user, emb, n, f, b, tag) values (100, 1, '[1,2,3,4]', 1, 1.0, 1, 'x')",
    "insert into ti(rowid, emb) values (100, '[1,2,3,4]')",
    "insert into t(t) values ('optimize')",
    "insert into ti(ti) values ('optimize')",
];

/// Checks every statement, each in a savepoint rolled back after it so one's writes do not
/// hide the damage from the next, then that `plain` still works.
fn check_everything(conn: &Connection) {
    for sql in EVERYTHING {
        exec(conn, "savepoint s");
        assert_ok_or_corrupt(conn, sql);
        exec(conn, "rollback to s; release s");
    }
    assert_eq!(int(conn, "select count(*) from plain"), 2);
    exec(
        conn,
        "insert into plain values (3, 'three'); delete from plain where x = 3",
    );
}

#[test]
fn an_undamaged_fixture_answers_everything() {
    let (_dir, path) = fixture();
    let conn = open(&path);
    for sql in EVERYTHING {
        exec(&conn, "savepoint s");
        run(&conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        exec(&conn, "rollback to s; release s");
    }
}

#[test]
fn truncated_validity_bitmap() {
    let (_dir, path) = fixture();
    let conn = damaged(
        &path,
        "update t_chunks set validity = x'' where chunk_id = 1",
    );
    for sql in [KNN, KNN_FILTERED] {
        assert_corrupt(&conn, sql, &["t_chunks", "validity"]);
    }
    assert_corrupt(&conn, SCAN, &["t_chunks", "validity"]);
    assert_corrupt(&conn, "select n from t where rowid = 3", &["t_chunks"]);
    assert_corrupt(
        &conn,
        "delete from t where rowid = 3",
        &["t_chunks", "validity"],
    );
    check_everything(&conn);
}

#[test]
fn oversized_rowids_array() {
    let (_dir, path) = fixture();
    let conn = damaged(
        &path,
        "update t_chunks set rowids = cast(rowids || x'00' as blob) where chunk_id = 2",
    );
    assert_corrupt(&conn, KNN, &["t_chunks", "rowids"]);
    assert_corrupt(&conn, SCAN, &["t_chunks", "rowids"]);
    assert_corrupt(&conn, "select * from t where rowid = 10", &["t_chunks"]);
    check_everything(&conn);
}

#[test]
fn chunk_columns_of_the_wrong_type() {
    for damage in [
        "update t_chunks set validity = 255 where chunk_id = 1",
        "update t_chunks set rowids = 'abc' where chunk_id = 1",
        "update t_chunks set validity = 1.5 where chunk_id = 1",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_corrupt(&conn, KNN, &["t_chunks"]);
        assert_corrupt(&conn, "select n from t where rowid = 2", &["t_chunks"]);
        check_everything(&conn);
    }
}

#[test]
fn a_validity_bit_set_for_an_empty_slot() {
    let (_dir, path) = fixture();
    // Chunk 3 holds rows 17..=20 in slots 0..=3; slot 5 is empty (rowid 0).
    let conn = damaged(
        &path,
        "update t_chunks set validity = x'3f' where chunk_id = 3",
    );
    assert_corrupt(&conn, KNN, &["t_chunks", "t_rowids"]);
    check_everything(&conn);
}

#[test]
fn a_validity_bit_cleared_for_a_live_row() {
    let (_dir, path) = fixture();
    let conn = damaged(
        &path,
        "update t_chunks set validity = x'0e' where chunk_id = 3",
    );
    assert_corrupt(
        &conn,
        "select n from t where rowid = 17",
        &["t_chunks", "17"],
    );
    assert_corrupt(&conn, SCAN, &["t_chunks"]);
    assert_corrupt(&conn, "delete from t where rowid = 17", &["t_chunks"]);
    check_everything(&conn);
}

#[test]
fn a_rowid_in_the_chunk_without_a_rowids_row() {
    let (_dir, path) = fixture();
    // Slot 0 of chunk 1 (row 1) now says row 999.
    let conn = damaged(
        &path,
        "update t_chunks set rowids = cast(x'e703000000000000' || substr(rowids, 9) as blob) \
         where chunk_id = 1",
    );
    assert_corrupt(&conn, KNN, &["t_chunks", "999"]);
    assert_corrupt(&conn, SCAN, &["t_chunks"]);
    assert_corrupt(&conn, "select n from t where rowid = 1", &["t_chunks"]);
    check_everything(&conn);
}

#[test]
fn a_rowids_row_pointing_at_the_wrong_slot() {
    for damage in [
        "update t_rowids set chunk_offset = 2 where rowid = 2",
        "update t_rowids set chunk_offset = 9 where rowid = 2",
        "update t_rowids set chunk_offset = -1 where rowid = 2",
        "update t_rowids set chunk_id = 77 where rowid = 2",
        "update t_rowids set chunk_id = 'x' where rowid = 2",
        "update t_rowids set chunk_offset = null where rowid = 2",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_corrupt(&conn, "select n from t where rowid = 2", &["t_rowids"]);
        assert_corrupt(&conn, SCAN, &["t_rowids"]);
        assert_corrupt(&conn, KNN, &["t_rowids"]);
        assert_corrupt(&conn, "delete from t where rowid = 2", &["t_rowids"]);
        assert_corrupt(&conn, "update t set n = 5 where rowid = 2", &["t_rowids"]);
        check_everything(&conn);
    }
}

#[test]
fn a_missing_rowids_row() {
    let (_dir, path) = fixture();
    let conn = damaged(&path, "delete from t_rowids where rowid = 4");
    assert_corrupt(&conn, KNN, &["t_rowids", "4"]);
    assert_corrupt(&conn, SCAN, &["t_rowids", "4"]);
    check_everything(&conn);
}

/// The index's copy confirms every row's place against `{t}_rowids` once, when it is loaded,
/// so a walk's results are not looked up one by one: the rows the load could not confirm must
/// still fail the walks that answer with them, and only those.
#[test]
fn an_index_result_that_rowids_puts_elsewhere() {
    const NEAR_3: &str =
        "select rowid from ti where emb match '[3,0,0,1]' and k = 5 and ef_search = 10";
    const FAR_FROM_3: &str =
        "select rowid from ti where emb match '[20,2,0,1]' and k = 3 and ef_search = 10";
    for damage in [
        "update ti_rowids set chunk_offset = 5 where rowid = 3",
        "update ti_rowids set chunk_id = 'x' where rowid = 3",
        "delete from ti_rowids where rowid = 3",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_eq!(run(&conn, FAR_FROM_3).unwrap(), 3, "{damage}");
        assert_corrupt(&conn, NEAR_3, &["ti_rowids"]);
        // A copy adopted from another connection of the process carries what its load found.
        let other = open(&path);
        assert_corrupt(&other, NEAR_3, &["ti_rowids"]);
        assert_eq!(run(&other, FAR_FROM_3).unwrap(), 3, "{damage}");
    }
}

#[test]
fn metadata_chunks_of_the_wrong_size_or_type() {
    for (damage, column) in [
        (
            "update t_metadatachunks00 set data = x'0102' where rowid = 1",
            "n",
        ),
        (
            "update t_metadatachunks01 set data = cast(data || x'00' as blob) where rowid = 1",
            "f",
        ),
        (
            "update t_metadatachunks02 set data = x'' where rowid = 1",
            "b",
        ),
        (
            "update t_metadatachunks03 set data = substr(data, 1, 100) where rowid = 1",
            "tag",
        ),
        (
            "update t_metadatachunks03 set data = 12 where rowid = 1",
            "tag",
        ),
        ("delete from t_metadatachunks00 where rowid = 1", "n"),
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        let table = damage.split_whitespace().nth(1).unwrap().to_string();
        let table = if table == "from" {
            damage.split_whitespace().nth(2).unwrap().to_string()
        } else {
            table
        };
        assert_corrupt(&conn, KNN_FILTERED, &[&table]);
        assert_corrupt(&conn, KNN, &[&table]);
        assert_corrupt(
            &conn,
            &format!("select {column} from t where rowid = 3"),
            &[&table],
        );
        assert_corrupt(&conn, "delete from t where rowid = 3", &[&table]);
        check_everything(&conn);
    }
}

#[test]
fn long_text_metadata_without_its_text_row() {
    let (_dir, path) = fixture();
    let conn = damaged(&path, "delete from t_metadatatext03 where rowid = 4");
    assert_corrupt(
        &conn,
        "select tag from t where rowid = 4",
        &["t_metadatatext03", "4"],
    );
    assert_corrupt(&conn, KNN, &["t_metadatatext03"]);
    assert_corrupt(&conn, KNN_FILTERED, &["t_metadatatext03"]);
    check_everything(&conn);
    // The row itself can still go.
    let conn = open(&path);
    exec(&conn, "delete from t where rowid = 4");
    assert_eq!(int(&conn, "select count(*) from t"), 19);
}

#[test]
fn long_text_metadata_of_the_wrong_type_or_length() {
    for damage in [
        "update t_metadatatext03 set data = 42 where rowid = 4",
        "update t_metadatatext03 set data = 'short' where rowid = 4",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_corrupt(
            &conn,
            "select tag from t where rowid = 4",
            &["t_metadatatext03"],
        );
        check_everything(&conn);
    }
}

#[test]
fn vector_chunks_of_the_wrong_size_type_or_missing() {
    for damage in [
        "update t_vector_chunks00 set vectors = x'00' where rowid = 1",
        "update t_vector_chunks00 set vectors = 7 where rowid = 1",
        "delete from t_vector_chunks00 where rowid = 1",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_corrupt(&conn, KNN, &["t_vector_chunks00"]);
        assert_corrupt(
            &conn,
            "select emb from t where rowid = 2",
            &["t_vector_chunks00"],
        );
        assert_corrupt(
            &conn,
            "update t set emb = '[1,1,1,1]' where rowid = 2",
            &["t_vector_chunks00"],
        );
        check_everything(&conn);
    }
}

#[test]
fn wrong_info_values() {
    for damage in [
        "update t_info set value = 'one' where key = 'VECSQL_FORMAT'",
        "update t_info set value = 0 where key = 'VECSQL_FORMAT'",
        "update t_info set value = x'01' where key = 'VECSQL_FORMAT'",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_corrupt(
            &conn,
            "select count(*) from t",
            &["t_info", "VECSQL_FORMAT"],
        );
        assert_eq!(int(&conn, "select count(*) from ti"), 20);
        assert_eq!(int(&conn, "select count(*) from plain"), 2);
    }
}

#[test]
fn malformed_hnsw_rows() {
    for damage in [
        "update ti_hnsw00_nodes set links = x'00' where rowid = 5",
        "update ti_hnsw00_nodes set links = 5 where rowid = 5",
        "update ti_hnsw00_nodes set links = cast(links || x'0102' as blob) where rowid = 5",
        "update ti_hnsw00_meta set value = x'00' where key = 'header'",
        "update ti_hnsw00_meta set value = 'x' where key = 'generation'",
    ] {
        let (_dir, path) = fixture();
        let conn = damaged(&path, damage);
        assert_corrupt(&conn, KNN_INDEXED, &["ti_hnsw00"]);
        assert_corrupt(
            &conn,
            "insert into ti(rowid, emb) values (200, '[1,2,3,4]')",
            &["ti_hnsw00"],
        );
        // The exact scan does not read the index.
        assert_eq!(run(&conn, KNN_EXACT).unwrap(), 20);
        check_everything(&conn);
    }
}

#[test]
fn the_other_tables_stay_usable_after_a_corrupt_error() {
    let (_dir, path) = fixture();
    let conn = damaged(
        &path,
        "update t_chunks set validity = x'' where chunk_id = 1",
    );
    exec(&conn, "begin");
    exec(&conn, "insert into plain values (10, 'ten')");
    assert_corrupt(&conn, KNN, &["t_chunks"]);
    exec(&conn, "insert into plain values (11, 'eleven')");
    assert_eq!(run(&conn, KNN_INDEXED).unwrap(), 5);
    exec(&conn, "commit");
    assert_eq!(int(&conn, "select count(*) from plain"), 4);
}
