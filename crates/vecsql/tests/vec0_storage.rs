//! The shadow tables behind a vec0 table: names and layouts, protection in defensive mode,
//! DROP and ALTER TABLE RENAME, space reuse after deletes, VACUUM, and the file size.

mod vec0_support;

use rusqlite::config::DbConfig;
use rusqlite::Connection;
use vec0_support::*;

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    rows(
        conn,
        &format!("select name from pragma_table_info('{table}')"),
    )
    .into_iter()
    .map(|r| text(&r[0]).to_string())
    .collect()
}

fn every_kind(conn: &Connection, name: &str) {
    exec(
        conn,
        &format!(
            "create virtual table {name} using vec0(
                id text primary key, a float[2], b int8[4], p integer partition key,
                n integer, tag text, flag boolean, score float, label text,
                +note, +payload blob, chunk_size=8)"
        ),
    );
}

#[test]
fn shadow_tables_have_sqlite_vec_names_and_layouts() {
    let conn = db();
    every_kind(&conn, "docs");
    assert_eq!(
        shadow_tables(&conn, "docs"),
        [
            "docs_auxiliary",
            "docs_chunk_versions",
            "docs_chunks",
            "docs_free",
            "docs_info",
            "docs_metadatachunks00",
            "docs_metadatachunks01",
            "docs_metadatachunks02",
            "docs_metadatachunks03",
            "docs_metadatachunks04",
            "docs_metadatatext01",
            "docs_metadatatext04",
            "docs_rowids",
            "docs_vector_chunks00",
            "docs_vector_chunks01",
        ]
    );
    assert_eq!(
        columns(&conn, "docs_chunks"),
        [
            "chunk_id",
            "size",
            "sequence_id",
            "partition00",
            "validity",
            "rowids"
        ]
    );
    assert_eq!(
        columns(&conn, "docs_rowids"),
        ["rowid", "id", "chunk_id", "chunk_offset"]
    );
    assert_eq!(columns(&conn, "docs_vector_chunks01"), ["rowid", "vectors"]);
    assert_eq!(
        columns(&conn, "docs_chunk_versions"),
        ["chunk_id", "version"]
    );
    assert_eq!(columns(&conn, "docs_metadatachunks01"), ["rowid", "data"]);
    assert_eq!(columns(&conn, "docs_metadatatext01"), ["rowid", "data"]);
    assert_eq!(
        columns(&conn, "docs_auxiliary"),
        ["rowid", "value00", "value01"]
    );
    assert_eq!(columns(&conn, "docs_info"), ["key", "value"]);
    exec(
        &conn,
        "insert into docs values ('k', '[1, 2]', vec_int8('[1, 2, 3, 4]'), 7, 1, 'a text over twelve bytes', 1, 0.5, 'l', 'n', x'01')",
    );
    // One chunk: its blobs are chunk_size entries long whatever the row count.
    assert_eq!(
        rows(
            &conn,
            "select size, length(validity), length(rowids), partition00 from docs_chunks"
        ),
        [[8.into(), 1.into(), 64.into(), 7.into()]]
            .map(|r: [i64; 4]| r.map(rusqlite::types::Value::Integer).to_vec())
    );
    assert_eq!(
        int(&conn, "select length(vectors) from docs_vector_chunks00"),
        8 * 2 * 4
    );
    assert_eq!(
        int(&conn, "select length(vectors) from docs_vector_chunks01"),
        8 * 4
    );
    assert_eq!(
        int(&conn, "select length(data) from docs_metadatachunks00"),
        8 * 8
    );
    assert_eq!(
        int(&conn, "select length(data) from docs_metadatachunks01"),
        8 * 16
    );
    assert_eq!(
        int(&conn, "select length(data) from docs_metadatachunks02"),
        1
    );
    assert_eq!(
        rows(&conn, "select data from docs_metadatatext01"),
        [[rusqlite::types::Value::Text(
            "a text over twelve bytes".into()
        )]]
    );
    assert_eq!(int(&conn, "select count(*) from docs_metadatatext04"), 0);
    assert_eq!(
        rows(&conn, "select id from docs_rowids"),
        [[rusqlite::types::Value::Text("k".into())]]
    );
}

/// Statements that write each kind of shadow table directly.
const SHADOW_WRITES: [&str; 8] = [
    "insert into t_chunks(size, validity, rowids) values (8, x'00', x'00')",
    "update t_rowids set chunk_offset = 3",
    "delete from t_vector_chunks00",
    "insert into t_info(key, value) values ('x', 1)",
    "delete from t_free",
    "update t_metadatatext01 set data = 'x'",
    "delete from t_auxiliary",
    "update t_metadatachunks00 set data = data",
];

fn assert_shadow_writes_refused(conn: &Connection, skip_vector_chunks: bool) {
    for sql in SHADOW_WRITES {
        if skip_vector_chunks && sql.contains("vector_chunks") {
            continue;
        }
        let message = error(conn, sql);
        assert!(message.contains("may not be modified"), "{sql}: {message}");
    }
    let message = error(conn, "drop table t_chunks");
    assert!(message.contains("may not be dropped"), "{message}");
}

#[test]
fn defensive_mode_makes_shadow_tables_read_only_but_vec0_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    {
        let conn = open(&path);
        every_kind(&conn, "t");
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
            .unwrap();
        // SQLite finds the owner of a new shadow table by cutting its name at the last '_',
        // so in the connection that created the table `t_vector_chunks00` (sqlite-vec's
        // name) is looked up as a shadow table of `t_vector` and stays writable until the
        // schema is read again. Every other shadow table is protected at once.
        assert_shadow_writes_refused(&conn, true);
    }
    let conn = open(&path);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .unwrap();
    // Connecting the table marks every `t_...` table its xShadowName accepts.
    exec(&conn, "select count(*) from t");
    assert_shadow_writes_refused(&conn, false);
    // The table itself still writes its shadow tables.
    exec(
        &conn,
        "insert into t values ('k', '[1, 2]', vec_int8('[1, 2, 3, 4]'), 7, 1, 'a text over twelve bytes', 1, 0.5, 'l', 'n', x'01');
         insert into t values ('j', '[3, 2]', vec_int8('[1, 2, 3, 4]'), 8, 1, 't', 1, 0.5, 'l', 'n', x'01');
         update t set p = 8, tag = 'another long text value' where id = 'k';
         update t set id = 'm' where id = 'j';
         delete from t where id = 'k';",
    );
    assert_eq!(
        rows(&conn, "select id from t where a match '[0, 0]' and k = 5"),
        [[rusqlite::types::Value::Text("m".into())]]
    );
    assert_eq!(
        int(&conn, "select count(*) from t_rowids"),
        1,
        "shadow tables stay readable"
    );
    exec(&conn, "alter table t rename to t2");
    exec(&conn, "drop table t2");
    assert!(shadow_tables(&conn, "t2").is_empty());
    assert!(shadow_tables(&conn, "t").is_empty());
}

#[test]
fn drop_table_removes_every_shadow_table() {
    let conn = db();
    every_kind(&conn, "t");
    every_kind(&conn, "t_other");
    exec(
        &conn,
        "insert into t values ('k', '[1, 2]', vec_int8('[1, 2, 3, 4]'), 7, 1, 'a text over twelve bytes', 1, 0.5, 'l', 'n', x'01')",
    );
    let other = shadow_tables(&conn, "t_other");
    exec(&conn, "drop table t");
    assert_eq!(
        int(&conn, "select count(*) from sqlite_master where name = 't'"),
        0
    );
    assert_eq!(
        shadow_tables(&conn, "t"),
        other,
        "only the other table's shadow tables are left"
    );
    assert_eq!(
        int(&conn, "select count(*) from sqlite_sequence where name like 't\\_%' escape '\\' and name not like 't\\_other%' escape '\\'"),
        0
    );
    // The name can be used again.
    every_kind(&conn, "t");
    assert_eq!(int(&conn, "select count(*) from t"), 0);
    exec(&conn, "drop table t; drop table t_other;");
    assert_eq!(
        int(
            &conn,
            "select count(*) from sqlite_master where name not like 'sqlite%'"
        ),
        0
    );
}

#[test]
fn rename_moves_every_shadow_table_and_the_table_keeps_working() {
    let conn = db();
    every_kind(&conn, "old");
    exec(
        &conn,
        "insert into old values ('k', '[1, 2]', vec_int8('[1, 2, 3, 4]'), 7, 1, 'a text over twelve bytes', 1, 0.5, 'l', 'n', x'01')",
    );
    let before: Vec<String> = shadow_tables(&conn, "old");
    let before_rows = rows(&conn, "select * from old");
    exec(&conn, "alter table old rename to renamed");
    assert!(shadow_tables(&conn, "old").is_empty());
    assert_eq!(
        shadow_tables(&conn, "renamed"),
        before
            .iter()
            .map(|s| s.replacen("old", "renamed", 1))
            .collect::<Vec<_>>()
    );
    assert_eq!(rows(&conn, "select * from renamed"), before_rows);
    exec(
        &conn,
        "insert into renamed values ('j', '[0, 0]', vec_int8('[1, 2, 3, 4]'), 7, 2, 'another text over twelve', 0, 1.5, 'l', 'n', x'02');
         update renamed set label = 'a long label, stored apart' where id = 'k';",
    );
    assert_eq!(
        rows(
            &conn,
            "select id, tag, label from renamed where a match '[0, 0]' and k = 2 and p = 7"
        ),
        [
            ["j", "another text over twelve", "l"],
            [
                "k",
                "a text over twelve bytes",
                "a long label, stored apart"
            ],
        ]
        .map(|r| r.map(|s| rusqlite::types::Value::Text(s.into())).to_vec())
    );
    // A second connection opening the renamed table finds everything too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    {
        let a = open(&path);
        every_kind(&a, "x");
        exec(&a, "insert into x values ('k', '[1, 2]', vec_int8('[1, 2, 3, 4]'), 7, 1, 'a text over twelve bytes', 1, 0.5, 'l', 'n', x'01')");
        exec(&a, "alter table x rename to y");
    }
    let b = open(&path);
    assert_eq!(
        rows(&b, "select tag from y where a match '[1, 2]' and k = 1"),
        [[rusqlite::types::Value::Text(
            "a text over twelve bytes".into()
        )]]
    );
}

/// A table as sqlite-vec writes it has no `{t}_free`; vecsql must open, rename and write it.
#[test]
fn a_table_without_the_free_list_is_renamed_and_reuses_its_free_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    {
        let conn = open(&path);
        exec(
            &conn,
            "create virtual table t using vec0(emb float[1], chunk_size=8)",
        );
        for i in 1..=10 {
            exec(
                &conn,
                &format!("insert into t(rowid, emb) values ({i}, '[{i}]')"),
            );
        }
        exec(&conn, "delete from t where rowid = 3; drop table t_free;");
    }
    let conn = open(&path);
    assert!(!shadow_tables(&conn, "t").contains(&"t_free".to_string()));
    exec(&conn, "alter table t rename to u");
    assert!(!shadow_tables(&conn, "u").contains(&"u_free".to_string()));
    assert_eq!(
        ints(&conn, "select rowid from u where emb match '[3]' and k = 2"),
        [2, 4]
    );
    exec(&conn, "insert into u(rowid, emb) values (11, '[3]')");
    assert!(shadow_tables(&conn, "u").contains(&"u_free".to_string()));
    // Row 11 took row 3's old slot in the first chunk instead of growing the table.
    assert_eq!(
        ints(&conn, "select chunk_offset from u_rowids where rowid = 11"),
        [2]
    );
    assert_eq!(int(&conn, "select count(*) from u_chunks"), 2);
    assert_eq!(
        ints(&conn, "select rowid from u where emb match '[3]' and k = 1"),
        [11]
    );
}

fn page_count(conn: &Connection) -> i64 {
    int(conn, "pragma page_count")
}

#[test]
fn deleted_space_is_reused_and_vacuum_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let conn = open(&path);
    exec(
        &conn,
        "create virtual table t using vec0(emb float[64], n integer, tag text, chunk_size=64)",
    );
    let insert = |from: i64, to: i64| {
        exec(&conn, "begin");
        for i in from..=to {
            let v: Vec<f32> = (0..64).map(|j| ((i * 7 + j) % 13) as f32).collect();
            conn.execute(
                "insert into t(rowid, emb, n, tag) values (?, ?, ?, ?)",
                rusqlite::params![i, f32_blob(&v), i, format!("tag number {i} is long")],
            )
            .unwrap();
        }
        exec(&conn, "commit");
    };
    insert(1, 1000);
    let chunks = int(&conn, "select count(*) from t_chunks");
    assert_eq!(chunks, 16);
    let full = page_count(&conn);
    for round in 0..3 {
        exec(&conn, "delete from t where rowid % 10 != 0 or rowid > 1000");
        let live = int(&conn, "select count(*) from t");
        assert_eq!(live, 100, "round {round}");
        let base = 1000 * (round + 1);
        insert(base + 1, base + 900);
        assert_eq!(int(&conn, "select count(*) from t"), 1000);
        assert!(
            int(&conn, "select count(*) from t_chunks") <= chunks,
            "round {round}: freed slots are reused before new chunks"
        );
        assert!(
            page_count(&conn) <= full + 2,
            "round {round}: {} pages after reuse, {full} before",
            page_count(&conn)
        );
    }
    // Space goes back to SQLite when a chunk empties (a chunk with one live row keeps its
    // whole blob): keep only the rows of the first chunk.
    exec(
        &conn,
        "delete from t where rowid not in
            (select rowid from t_rowids where chunk_id = (select min(chunk_id) from t_chunks))",
    );
    let live = int(&conn, "select count(*) from t");
    assert!(live > 0 && live <= 64, "{live}");
    assert_eq!(int(&conn, "select count(*) from t_chunks"), 1);
    assert!(int(&conn, "pragma freelist_count") > 0);
    let before = std::fs::metadata(&path).unwrap().len();
    exec(&conn, "vacuum");
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(after * 4 < before, "vacuum: {before} -> {after} bytes");
    assert_eq!(int(&conn, "select count(*) from t"), live);
    let last = int(&conn, "select max(rowid) from t");
    assert_eq!(
        ints(&conn, &format!("select rowid from t where emb match (select emb from t where rowid = {last}) and k = 1")),
        ints(&conn, &format!("select min(rowid) from t where emb = (select emb from t where rowid = {last})"))
    );
}

#[test]
fn a_float128_table_takes_little_more_than_its_raw_vector_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("size.db");
    let conn = open(&path);
    exec(&conn, "create virtual table t using vec0(emb float[128])");
    exec(&conn, "begin");
    for i in 0..2000i64 {
        let v: Vec<f32> = (0..128)
            .map(|j| ((i * 31 + j * 17) % 101) as f32 / 7.0)
            .collect();
        conn.execute(
            "insert into t(rowid, emb) values (?, ?)",
            rusqlite::params![i + 1, f32_blob(&v)],
        )
        .unwrap();
    }
    exec(&conn, "commit");
    let raw = 2000 * 128 * 4;
    let size = int(&conn, "pragma page_count") * int(&conn, "pragma page_size");
    // 1.1x the vectors, plus 64 KiB for the schema, rowid map and chunk bookkeeping.
    assert!(
        (size as f64) <= raw as f64 * 1.1 + 65536.0,
        "{size} bytes for {raw} bytes of vectors ({:.3}x)",
        size as f64 / raw as f64
    );
    eprintln!(
        "{size} bytes for {raw} bytes of vectors ({:.3}x)",
        size as f64 / raw as f64
    );
}

#[test]
fn a_read_only_connection_scans_and_searches_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    {
        let conn = open(&path);
        every_kind(&conn, "t");
        exec(
            &conn,
            "insert into t values ('k', '[1, 2]', vec_int8('[1, 2, 3, 4]'), 7, 1, 'a text over twelve bytes', 1, 0.5, 'l', 'n', x'01');
             insert into t values ('j', '[3, 2]', vec_int8('[1, 2, 3, 4]'), 8, 1, 't', 1, 0.5, 'l', 'n', x'01');",
        );
    }
    let conn =
        Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    vecsql::register(&conn).unwrap();
    assert_eq!(int(&conn, "select count(*) from t"), 2);
    assert_eq!(
        rows(
            &conn,
            "select id, tag from t where a match '[1, 2]' and k = 1 and p = 7"
        ),
        [[
            rusqlite::types::Value::Text("k".into()),
            rusqlite::types::Value::Text("a text over twelve bytes".into())
        ]]
    );
    let message = error(&conn, "delete from t");
    assert!(message.contains("readonly"), "{message}");
    assert_eq!(
        rows(&conn, "pragma integrity_check"),
        [[rusqlite::types::Value::Text("ok".into())]]
    );
}

/// Builds, in the file at `path`, an empty table `t(e float[1], m text, chunk_size=8)` with
/// the shadow tables exactly as sqlite-vec 0.1.9 declares them (`rowid PRIMARY KEY` is an
/// ordinary column there, not the rowid) and without vecsql's `t_free`.
fn sqlite_vec_layout(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    exec(
        &conn,
        "create table t_info(key text primary key, value any);
         insert into t_info values ('CREATE_VERSION', 'v0.1.9');
         create table t_chunks(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL,
            validity BLOB NOT NULL, rowids BLOB NOT NULL);
         create table t_rowids(rowid INTEGER PRIMARY KEY AUTOINCREMENT, id, chunk_id INTEGER,
            chunk_offset INTEGER);
         create table t_vector_chunks00(rowid PRIMARY KEY, vectors BLOB NOT NULL);
         create table t_metadatachunks00(rowid PRIMARY KEY, data BLOB NOT NULL);
         create table t_metadatatext00(rowid PRIMARY KEY, data TEXT);
         pragma writable_schema = on;
         insert into sqlite_master(type, name, tbl_name, rootpage, sql) values ('table', 't', 't', 0,
            'CREATE VIRTUAL TABLE t using vec0(e float[1], m text, chunk_size=8)');",
    );
}

#[test]
fn tables_in_sqlite_vec_layout_keep_chunk_rowids_in_step_when_chunks_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sv.db");
    sqlite_vec_layout(&path);
    let conn = open(&path);
    exec(&conn, "delete from t where rowid = 1");
    for i in 1..=16 {
        exec(
            &conn,
            &format!("insert into t(rowid, e, m) values ({i}, '[{i}]', 'text {i}')"),
        );
    }
    // Empty the second (highest) chunk: it is deleted, so a plain insert into the vector
    // table would now get real rowid 2 for chunk 3.
    exec(&conn, "delete from t where rowid > 8");
    for i in 17..=30 {
        exec(
            &conn,
            &format!("insert into t(rowid, e, m) values ({i}, '[{i}]', 'text {i}')"),
        );
    }
    assert_eq!(ints(&conn, "select chunk_id from t_chunks"), [1, 3, 4]);
    for table in ["t_vector_chunks00", "t_metadatachunks00"] {
        assert_eq!(
            int(
                &conn,
                &format!("select count(*) from {table} where _rowid_ is not rowid")
            ),
            0,
            "{table}"
        );
        assert_eq!(
            ints(&conn, &format!("select _rowid_ from {table}")),
            [1, 3, 4]
        );
    }
    assert_eq!(int(&conn, "select count(*) from t"), 22);
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where e match '[29.9]' and k = 3 and m >= 'text 28'"
        ),
        [30, 29, 28]
    );
}

#[test]
fn deleting_from_a_table_without_the_free_list_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sv.db");
    {
        let conn = open(&path);
        exec(
            &conn,
            "create virtual table t using vec0(e float[1], chunk_size=8)",
        );
        exec(
            &conn,
            "insert into t(rowid, e) values (1, '[1]'), (2, '[2]'), (3, '[3]')",
        );
        exec(&conn, "drop table t_free");
    }
    let conn = open(&path);
    exec(&conn, "delete from t where rowid = 2");
    assert_eq!(ints(&conn, "select rowid from t"), [1, 3]);
    assert_eq!(ints(&conn, "select chunk_id from t_free"), [1]);
    exec(&conn, "insert into t(rowid, e) values (4, '[4]')");
    assert_eq!(
        ints(&conn, "select chunk_offset from t_rowids where rowid = 4"),
        [1]
    );
}

#[test]
fn create_reuses_a_free_list_left_behind_but_not_a_foreign_table() {
    let conn = db();
    // What sqlite-vec's DROP TABLE leaves of a vecsql table: the free list, with stale ids.
    exec(
        &conn,
        "create table t_free(chunk_id INTEGER PRIMARY KEY); insert into t_free values (1), (7);",
    );
    exec(
        &conn,
        "create virtual table t using vec0(e float[1], chunk_size=8)",
    );
    assert_eq!(ints(&conn, "select chunk_id from t_free"), [] as [i64; 0]);
    exec(&conn, "insert into t(rowid, e) values (5, '[5]')");
    assert_eq!(
        ints(&conn, "select rowid from t where e match '[0]' and k = 2"),
        [5]
    );
    // A table of the same name that is not a free list is left alone.
    exec(&conn, "create table u_free(chunk_id INTEGER PRIMARY KEY, note text); insert into u_free values (1, 'mine');");
    let message = error(&conn, "create virtual table u using vec0(e float[1])");
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(int(&conn, "select count(*) from u_free"), 1);
    assert!(shadow_tables(&conn, "u") == ["u_free"]);
}

#[test]
fn a_deleted_row_leaves_no_text_behind_in_its_slot() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(e float[1], m text, chunk_size=8);
         insert into t(rowid, e, m) values (1, '[1]', 'a text longer than twelve'), (2, '[2]', 'short'),
            (3, '[3]', 'another long text value');
         delete from t where rowid in (1, 2);
         update t set m = 'x' where rowid = 3;",
    );
    let data = match one(&conn, "select data from t_metadatachunks00") {
        rusqlite::types::Value::Blob(b) => b,
        other => panic!("{other:?}"),
    };
    assert!(
        data[..32].iter().all(|&b| b == 0),
        "slots 0 and 1: {:?}",
        &data[..32]
    );
    assert_eq!(&data[32..36], &1u32.to_le_bytes(), "slot 2 holds 'x'");
    assert_eq!(int(&conn, "select count(*) from t_metadatatext00"), 0);
}

#[test]
fn optimize_packs_scattered_rows_into_fewer_chunks_and_vacuum_shrinks_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("optimize.db");
    let conn = open(&path);
    exec(
        &conn,
        "create virtual table t using vec0(emb float[64], p text partition key, n integer,
            label text, +note, chunk_size = 8)",
    );
    for i in 0..256i64 {
        let v: Vec<String> = (0..64).map(|j| ((i * 7 + j) % 13).to_string()).collect();
        conn.execute(
            "insert into t(rowid, emb, p, n, label, note) values (?, ?, ?, ?, ?, ?)",
            rusqlite::params![
                i,
                format!("[{}]", v.join(",")),
                if i % 2 == 0 { "even" } else { "odd" },
                i,
                format!("a label long enough to overflow {i}"),
                format!("note {i}")
            ],
        )
        .unwrap();
    }
    // Keep one row in four: every chunk stays half full, so none can be deleted.
    exec(&conn, "delete from t where rowid % 4 >= 2");
    let chunks_before = int(&conn, "select count(*) from t_chunks");
    let rows_before = rows(
        &conn,
        "select rowid, vec_to_json(emb), p, n, label, note from t order by rowid",
    );
    let knn_before = rows(&conn, "select rowid, distance from t where emb match (select emb from t where rowid = 8) and k = 20 and p = 'even'");
    exec(&conn, "insert into t(t) values ('optimize')");
    assert_eq!(
        int(&conn, "select count(*) from t_chunks"),
        chunks_before / 2
    );
    assert_eq!(
        rows(
            &conn,
            "select rowid, vec_to_json(emb), p, n, label, note from t order by rowid"
        ),
        rows_before
    );
    assert_eq!(
        rows(&conn, "select rowid, distance from t where emb match (select emb from t where rowid = 8) and k = 20 and p = 'even'"),
        knn_before
    );
    let pages_before = int(&conn, "pragma page_count");
    exec(&conn, "vacuum");
    assert!(int(&conn, "pragma page_count") < pages_before);
    assert_eq!(
        one(&conn, "pragma integrity_check"),
        rusqlite::types::Value::Text("ok".into())
    );
    let err = conn
        .execute("insert into t(t) values ('shrink')", [])
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown vec0 command: 'shrink'"),
        "{err}"
    );
}

#[test]
fn create_empties_chunk_versions_left_behind_but_not_a_foreign_table() {
    let conn = db();
    // sqlite-vec's DROP TABLE does not know `{t}_chunk_versions` either.
    exec(
        &conn,
        "create table t_chunk_versions(chunk_id INTEGER PRIMARY KEY, version INTEGER);
         insert into t_chunk_versions values (1, 9), (2, 4);",
    );
    exec(
        &conn,
        "create virtual table t using vec0(e float[1], chunk_size=8);
         insert into t(rowid, e) values (5, '[5]');",
    );
    assert_eq!(ints(&conn, "select version from t_chunk_versions"), [1]);
    exec(
        &conn,
        "create table u_chunk_versions(chunk_id INTEGER PRIMARY KEY, note text)",
    );
    let message = error(&conn, "create virtual table u using vec0(e float[1])");
    assert!(message.contains("already exists"), "{message}");
    assert!(shadow_tables(&conn, "u") == ["u_chunk_versions"]);
}
