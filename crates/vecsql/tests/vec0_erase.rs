//! Deleted data is erased: a DELETE, an UPDATE that replaces a vector or moves a row to
//! another chunk, and 'optimize' overwrite the old slot in every chunk blob (vector, rowid,
//! metadata) with zeros and delete the row's per-row rows (`{t}_rowids`, `{t}_auxiliary`,
//! `{t}_metadatatextNN`, the HNSW node), so a deleted embedding cannot be read back from the
//! database file. Freed b-tree space and freed pages are SQLite's to erase
//! (`PRAGMA secure_delete`); the file-level tests below check both halves.

mod vec0_support;

use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::*;

fn blob(conn: &Connection, sql: &str) -> Vec<u8> {
    match one(conn, sql) {
        Value::Blob(b) => b,
        other => panic!("{sql}: expected a blob, got {other:?}"),
    }
}

fn count(conn: &Connection, sql: &str) -> i64 {
    int(conn, sql)
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

fn bit(bitmap: &[u8], i: usize) -> bool {
    (bitmap[i / 8] >> (i % 8)) & 1 == 1
}

/// Every kind of column: two vector columns, every metadata kind, an auxiliary column.
const EVERY_KIND: &str = "create virtual table t using vec0(
    e float[4], q int8[4], n integer, x float, flag boolean, label text, +note, chunk_size = 8)";

fn insert_every_kind(conn: &Connection, rowid: i64, label: &str) {
    conn.execute(
        "insert into t(rowid, e, q, n, x, flag, label, note)
         values (?1, ?2, vec_int8(?3), ?4, ?5, 1, ?6, ?7)",
        rusqlite::params![
            rowid,
            f32_blob(&[rowid as f32 + 0.5, 2.5, 3.5, 4.5]),
            format!("[{rowid}, 7, 7, 7]"),
            1000 + rowid,
            rowid as f64 + 0.25,
            label,
            format!("note {rowid}")
        ],
    )
    .unwrap();
}

/// Asserts that slot `offset` of chunk `chunk` holds nothing in any blob of `EVERY_KIND`.
fn assert_slot_erased(conn: &Connection, chunk: i64, offset: usize, what: &str) {
    let vectors = blob(
        conn,
        &format!("select vectors from t_vector_chunks00 where rowid = {chunk}"),
    );
    assert!(
        is_zero(&vectors[offset * 16..offset * 16 + 16]),
        "{what}: float vector"
    );
    let int8 = blob(
        conn,
        &format!("select vectors from t_vector_chunks01 where rowid = {chunk}"),
    );
    assert!(
        is_zero(&int8[offset * 4..offset * 4 + 4]),
        "{what}: int8 vector"
    );
    let rowids = blob(
        conn,
        &format!("select rowids from t_chunks where chunk_id = {chunk}"),
    );
    assert!(
        is_zero(&rowids[offset * 8..offset * 8 + 8]),
        "{what}: rowid slot"
    );
    let validity = blob(
        conn,
        &format!("select validity from t_chunks where chunk_id = {chunk}"),
    );
    assert!(!bit(&validity, offset), "{what}: validity bit");
    let meta = |i: usize| {
        blob(
            conn,
            &format!("select data from t_metadatachunks{i:02} where rowid = {chunk}"),
        )
    };
    assert!(
        is_zero(&meta(0)[offset * 8..offset * 8 + 8]),
        "{what}: integer metadata"
    );
    assert!(
        is_zero(&meta(1)[offset * 8..offset * 8 + 8]),
        "{what}: float metadata"
    );
    assert!(!bit(&meta(2), offset), "{what}: boolean metadata");
    assert!(
        is_zero(&meta(3)[offset * 16..offset * 16 + 16]),
        "{what}: text metadata (length and prefix)"
    );
}

#[test]
fn delete_zeroes_the_slot_in_every_chunk_blob_and_drops_the_rows_rows() {
    let conn = db();
    exec(&conn, EVERY_KIND);
    insert_every_kind(&conn, 1, "first, a long label");
    insert_every_kind(&conn, 2, "second, a long label");
    insert_every_kind(&conn, 3, "third");
    exec(&conn, "delete from t where rowid = 2");

    assert_slot_erased(&conn, 1, 1, "after delete");
    assert_eq!(
        count(&conn, "select count(*) from t_rowids where rowid = 2"),
        0
    );
    assert_eq!(
        count(&conn, "select count(*) from t_auxiliary where rowid = 2"),
        0
    );
    assert_eq!(
        count(
            &conn,
            "select count(*) from t_metadatatext03 where rowid = 2"
        ),
        0
    );
    // The neighbours are untouched.
    assert_eq!(
        rows(
            &conn,
            "select rowid, n, flag, label, note from t order by rowid"
        ),
        vec![
            vec![
                Value::Integer(1),
                Value::Integer(1001),
                Value::Integer(1),
                Value::Text("first, a long label".into()),
                Value::Text("note 1".into())
            ],
            vec![
                Value::Integer(3),
                Value::Integer(1003),
                Value::Integer(1),
                Value::Text("third".into()),
                Value::Text("note 3".into())
            ],
        ]
    );
    let vectors = blob(&conn, "select vectors from t_vector_chunks00");
    assert_eq!(&vectors[..16], f32_blob(&[1.5, 2.5, 3.5, 4.5]).as_slice());
    assert_eq!(&vectors[32..48], f32_blob(&[3.5, 2.5, 3.5, 4.5]).as_slice());
}

#[test]
fn delete_of_a_text_key_row_and_insert_or_replace_erase_the_old_slot() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(id text primary key, e float[2], chunk_size = 8);
         insert into t(id, e) values ('a', '[1, 1]'), ('b', '[2, 2]'), ('c', '[3, 3]');
         delete from t where id = 'b';",
    );
    let vectors = blob(&conn, "select vectors from t_vector_chunks00");
    assert!(is_zero(&vectors[8..16]));
    assert_eq!(
        count(&conn, "select count(*) from t_rowids where id = 'b'"),
        0
    );

    exec(
        &conn,
        "create virtual table u using vec0(e float[2], chunk_size = 8);
         insert into u(rowid, e) values (1, '[1, 1]'), (2, '[2, 2]'), (3, '[3, 3]');
         delete from u where rowid = 1;
         insert or replace into u(rowid, e) values (3, '[9, 9]');",
    );
    // Row 3 moved to the free slot 0; its old slot 2 holds nothing.
    let vectors = blob(&conn, "select vectors from u_vector_chunks00");
    assert_eq!(&vectors[..8], f32_blob(&[9.0, 9.0]).as_slice());
    assert!(is_zero(&vectors[16..24]), "{vectors:?}");
}

#[test]
fn update_of_a_vector_and_of_metadata_leaves_only_the_new_bytes() {
    let conn = db();
    exec(&conn, EVERY_KIND);
    insert_every_kind(&conn, 1, "a label longer than twelve bytes");
    insert_every_kind(&conn, 2, "another long label");
    exec(
        &conn,
        "update t set e = '[9, 9, 9, 9]', q = vec_int8('[5, 5, 5, 5]'), label = 'short'
         where rowid = 2",
    );
    let vectors = blob(&conn, "select vectors from t_vector_chunks00");
    assert_eq!(&vectors[16..32], f32_blob(&[9.0; 4]).as_slice());
    let int8 = blob(&conn, "select vectors from t_vector_chunks01");
    assert_eq!(&int8[4..8], &[5, 5, 5, 5]);
    let text = blob(&conn, "select data from t_metadatachunks03");
    let mut want = [0u8; 16];
    want[..4].copy_from_slice(&5u32.to_le_bytes());
    want[4..9].copy_from_slice(b"short");
    assert_eq!(&text[16..32], &want);
    assert_eq!(
        count(
            &conn,
            "select count(*) from t_metadatatext03 where rowid = 2"
        ),
        0
    );
}

#[test]
fn update_that_moves_a_row_to_another_partition_erases_its_old_slot() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(e float[4], q int8[4], p text partition key,
            n integer, x float, flag boolean, label text, +note, chunk_size = 8)",
    );
    for (rowid, p) in [(1, "a"), (2, "a"), (3, "a"), (4, "b")] {
        conn.execute(
            "insert into t(rowid, e, q, p, n, x, flag, label, note)
             values (?1, ?2, vec_int8('[1, 2, 3, 4]'), ?3, ?1, 0.5, 1, ?4, 'aux')",
            rusqlite::params![
                rowid,
                f32_blob(&[rowid as f32; 4]),
                p,
                format!("label of row {rowid}, long")
            ],
        )
        .unwrap();
    }
    exec(&conn, "update t set p = 'b' where rowid = 2");
    // Chunk 1 (partition 'a') keeps rows 1 and 3; row 2's slot 1 there holds nothing.
    assert_slot_erased(&conn, 1, 1, "after a partition move");
    // The row itself lives on, whole, in chunk 2.
    assert_eq!(
        rows(&conn, "select p, n, label, note, e from t where rowid = 2"),
        vec![vec![
            Value::Text("b".into()),
            Value::Integer(2),
            Value::Text("label of row 2, long".into()),
            Value::Text("aux".into()),
            Value::Blob(f32_blob(&[2.0; 4])),
        ]]
    );
    assert_eq!(
        ints(&conn, "select chunk_id from t_rowids where rowid = 2"),
        [2]
    );
}

#[test]
fn optimize_erases_the_slots_it_moves_rows_out_of() {
    let conn = db();
    exec(&conn, EVERY_KIND);
    for rowid in 1..=16 {
        insert_every_kind(&conn, rowid, &format!("label {rowid} is long enough"));
    }
    exec(
        &conn,
        "delete from t where rowid <= 4; insert into t(t) values ('optimize')",
    );
    // Rows 13..16 (chunk 2, slots 4..7) moved into chunk 1's free slots; chunk 2 stays.
    assert_eq!(
        ints(&conn, "select chunk_id from t_rowids where rowid >= 13"),
        [1, 1, 1, 1]
    );
    assert_eq!(count(&conn, "select count(*) from t_chunks"), 2);
    for offset in 4..8 {
        assert_slot_erased(&conn, 2, offset, &format!("optimize, slot {offset}"));
    }
    assert_eq!(
        count(&conn, "select count(*) from t_metadatatext03"),
        12,
        "one long label per remaining row"
    );
    assert_eq!(
        ints(&conn, "select n from t order by rowid"),
        (5..=16).map(|r| 1000 + r).collect::<Vec<_>>()
    );
}

#[test]
fn delete_removes_the_rows_hnsw_node() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(e float[2] indexed by hnsw(), chunk_size = 8)",
    );
    for rowid in 1..=5 {
        conn.execute(
            "insert into t(rowid, e) values (?, ?)",
            rusqlite::params![rowid, f32_blob(&[rowid as f32, 1.0])],
        )
        .unwrap();
    }
    assert_eq!(
        ints(&conn, "select rowid from t_hnsw00_nodes order by rowid"),
        [1, 2, 3, 4, 5]
    );
    exec(&conn, "delete from t where rowid = 3");
    assert_eq!(
        ints(&conn, "select rowid from t_hnsw00_nodes order by rowid"),
        [1, 2, 4, 5]
    );
    let vectors = blob(&conn, "select vectors from t_vector_chunks00");
    assert!(is_zero(&vectors[16..24]));
}

// ---- the database file ----------------------------------------------------------------

/// A float32 vector whose bytes spell `VECMARK-` and the rowid (ASCII bytes make finite
/// floats).
fn marker_vector(rowid: i64) -> Vec<u8> {
    format!("VECMARK-{rowid:08}").into_bytes()
}

/// Every file of the database (the main file and any WAL or journal next to it).
fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut out = std::fs::read(path).unwrap();
    for suffix in ["-wal", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(b) = std::fs::read(&p) {
            out.extend(b);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Writes rows with recognisable bytes, commits, deletes them, and reads the file back.
/// With `secure_delete` off, vecsql's own overwrites are all that erase the deleted rows'
/// vectors and inline metadata (their chunks stay, holding other rows); with it on, SQLite
/// also erases freed cells (the deleted `{t}_auxiliary`, `{t}_metadatatextNN` rows) and the
/// pages of chunks freed entirely.
fn deleted_markers_leave_the_file(journal_mode: &str, secure_delete: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("erase.db");
    let conn = open(&path);
    let mode: String = conn
        .query_row(&format!("pragma journal_mode = {journal_mode}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode, journal_mode);
    exec(
        &conn,
        &format!(
            "pragma secure_delete = {};
             create virtual table t using vec0(e float[4], n integer, label text, +note,
                chunk_size = 8);",
            if secure_delete { "on" } else { "off" }
        ),
    );
    // 20 rows in 3 chunks. Even rows carry the markers, and with secure_delete rows 17..20
    // too (chunk 3, emptied and deleted); odd rows keep chunks 1 and 2 alive.
    let marked = |rowid: i64| rowid % 2 == 0 || (secure_delete && rowid > 16);
    let insert = |rowid: i64, e: Vec<u8>, n: i64, label: String, note: String| {
        conn.execute(
            "insert into t(rowid, e, n, label, note) values (?, ?, ?, ?, ?)",
            rusqlite::params![rowid, e, n, label, note],
        )
        .unwrap();
    };
    exec(&conn, "begin");
    for rowid in 1..=20 {
        if marked(rowid) {
            let label = if secure_delete {
                format!("LONGTEXTMARKER-{rowid:04}")
            } else {
                format!("TXTMARK{rowid:04}")
            };
            insert(
                rowid,
                marker_vector(rowid),
                i64::from_le_bytes(*b"INTMARK!"),
                label,
                format!("AUXMARKER-{rowid:04}"),
            );
        } else {
            insert(
                rowid,
                f32_blob(&[1.0, 2.0, 3.0, 4.0]),
                rowid,
                "plain".into(),
                "plain".into(),
            );
        }
    }
    exec(&conn, "commit");
    let checkpoint = || {
        if journal_mode == "wal" {
            let r = rows(&conn, "pragma wal_checkpoint(truncate)");
            assert_eq!(r[0][0], Value::Integer(0), "checkpoint was blocked");
        }
    };
    checkpoint();
    let before = file_bytes(&path);
    let mut needles: Vec<&[u8]> = vec![b"VECMARK", b"INTMARK!"];
    if secure_delete {
        needles.extend([b"LONGTEXTMARK".as_slice(), b"AUXMARKER"]);
    } else {
        needles.push(b"TXTMARK");
    }
    for needle in &needles {
        assert!(
            contains(&before, needle),
            "{journal_mode}: {} is not in the file before the delete: the test tests nothing",
            String::from_utf8_lossy(needle)
        );
    }

    for rowid in (1..=20).filter(|&r| marked(r)) {
        conn.execute("delete from t where rowid = ?", [rowid])
            .unwrap();
    }
    checkpoint();
    let chunks = if secure_delete { 2 } else { 3 };
    assert_eq!(count(&conn, "select count(*) from t_chunks"), chunks);
    let after = file_bytes(&path);
    for needle in &needles {
        assert!(
            !contains(&after, needle),
            "{journal_mode}, secure_delete {secure_delete}: {} is still in the file after \
             the delete",
            String::from_utf8_lossy(needle)
        );
    }
    let left = if secure_delete { 8 } else { 10 };
    assert_eq!(count(&conn, "select count(*) from t"), left);
}

#[test]
fn deleted_vectors_leave_the_file_in_wal_mode() {
    deleted_markers_leave_the_file("wal", false);
}

#[test]
fn deleted_vectors_leave_the_file_in_rollback_journal_mode() {
    deleted_markers_leave_the_file("delete", false);
}

#[test]
fn with_secure_delete_deleted_rows_leave_the_file_in_wal_mode() {
    deleted_markers_leave_the_file("wal", true);
}

#[test]
fn with_secure_delete_deleted_rows_leave_the_file_in_rollback_journal_mode() {
    deleted_markers_leave_the_file("delete", true);
}
