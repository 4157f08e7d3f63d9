//! INSERT, UPDATE, DELETE and plain reads of vec0 tables through SQLite: keys, conflict
//! modes, every column kind, and errors that name the column and leave the table unchanged.

mod vec0_support;

use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::*;

fn items() -> Connection {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(
            emb float[2], n integer, score float, flag boolean, tag text,
            p text partition key, +note, chunk_size = 8)",
    );
    conn
}

/// (chunk_id, chunk_offset) of a row, from the shadow table.
fn location(conn: &Connection, table: &str, rowid: i64) -> (i64, i64) {
    let r = rows_with(
        conn,
        &format!("select chunk_id, chunk_offset from {table}_rowids where rowid = ?"),
        [rowid],
    );
    match r.as_slice() {
        [row] => match (&row[0], &row[1]) {
            (Value::Integer(c), Value::Integer(o)) => (*c, *o),
            other => panic!("{other:?}"),
        },
        other => panic!("row {rowid}: {other:?}"),
    }
}

#[test]
fn insert_takes_explicit_and_automatic_rowids_and_reports_last_insert_rowid() {
    let conn = items();
    conn.execute(
        "insert into t(rowid, emb, n, score, flag, tag, p) values (10, '[1,1]', 1, 1, 0, 'a', 'x')",
        [],
    )
    .unwrap();
    assert_eq!(conn.last_insert_rowid(), 10);
    conn.execute(
        "insert into t(emb, n, score, flag, tag, p) values ('[2,2]', 2, 2, 1, 'b', 'x')",
        [],
    )
    .unwrap();
    assert_eq!(
        conn.last_insert_rowid(),
        11,
        "the next rowid after the largest"
    );
    conn.execute(
        "insert into t(rowid, emb, n, score, flag, tag, p) values (5, '[3,3]', 3, 3, 0, 'c', 'y')",
        [],
    )
    .unwrap();
    assert_eq!(conn.last_insert_rowid(), 5);
    assert_eq!(ints(&conn, "select rowid from t"), [5, 10, 11]);
    assert_eq!(int(&conn, "select count(*) from t"), 3);
}

#[test]
fn integer_primary_key_is_the_rowid() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(id integer primary key, emb float[1], chunk_size=8);
         insert into t(id, emb) values (42, '[1]');
         insert into t(emb) values ('[2]');",
    );
    assert_eq!(ints(&conn, "select id from t"), [42, 43]);
    assert_eq!(ints(&conn, "select id from t where id = 43"), [43]);
    assert_eq!(
        error(&conn, "insert into t(id, emb) values ('x', '[1]')"),
        "Only integers are allows for primary key values on t"
    );
}

#[test]
fn text_primary_keys_insert_read_update_and_delete() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(id text primary key, emb float[1], n integer, chunk_size=8);
         insert into t values ('alpha', '[1]', 1), ('beta', '[2]', 2), ('a much longer key than twelve', '[3]', 3);",
    );
    assert_eq!(
        rows(&conn, "select id, n from t where id = 'beta'"),
        [[Value::Text("beta".into()), Value::Integer(2)]]
    );
    assert_eq!(
        ints(&conn, "select n from t where id in ('alpha', 'a much longer key than twelve', 'nope') order by n"),
        [1, 3]
    );
    exec(&conn, "update t set n = 20 where id = 'beta'");
    exec(&conn, "update t set id = 'gamma' where id = 'alpha'");
    exec(
        &conn,
        "delete from t where id = 'a much longer key than twelve'",
    );
    assert_eq!(
        rows(&conn, "select id, n, vec_to_json(emb) from t order by id"),
        [
            [
                Value::Text("beta".into()),
                Value::Integer(20),
                Value::Text("[2.000000]".into())
            ],
            [
                Value::Text("gamma".into()),
                Value::Integer(1),
                Value::Text("[1.000000]".into())
            ],
        ]
    );
    assert_eq!(int(&conn, "select count(*) from t_rowids"), 2);
    assert_eq!(
        error(&conn, "insert into t values ('beta', '[9]', 9)"),
        "UNIQUE constraint failed on t primary key"
    );
    assert_eq!(
        error(&conn, "insert into t values (NULL, '[9]', 9)"),
        "The t virtual table was declared with a TEXT primary key, but a non-TEXT value was provided in an INSERT."
    );
    assert_eq!(
        error(&conn, "update t set id = 'beta' where id = 'gamma'"),
        "UNIQUE constraint failed on t primary key"
    );
    exec(&conn, "insert or ignore into t values ('beta', '[9]', 9)");
    exec(&conn, "insert or replace into t values ('gamma', '[7]', 7)");
    assert_eq!(
        rows(&conn, "select id, n from t order by id"),
        [
            [Value::Text("beta".into()), Value::Integer(20)],
            [Value::Text("gamma".into()), Value::Integer(7)],
        ]
    );
    assert_eq!(
        rows(&conn, "select id from t where emb match '[7.1]' and k = 1"),
        [[Value::Text("gamma".into())]]
    );
    assert_eq!(int(&conn, "select count(*) from t_rowids"), 2);
}

#[test]
fn a_duplicate_key_fails_with_a_unique_error_and_changes_nothing() {
    let conn = items();
    exec(&conn, "insert into t(rowid, emb, n, score, flag, tag, p, note) values (1, '[1,1]', 1, 1, 0, 'a', 'x', 'first')");
    let before = dump(&conn, "t");
    let message = error(
        &conn,
        "insert into t(rowid, emb, n, score, flag, tag, p) values (1, '[2,2]', 2, 2, 1, 'b', 'x')",
    );
    assert_eq!(message, "UNIQUE constraint failed on t primary key");
    let e = conn
        .execute("insert into t(rowid, emb, n, score, flag, tag, p) values (1, '[2,2]', 2, 2, 1, 'b', 'x')", [])
        .unwrap_err();
    assert_eq!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    );
    assert_eq!(dump(&conn, "t"), before);
}

#[test]
fn insert_or_replace_replaces_and_insert_or_ignore_keeps_the_old_row() {
    let conn = items();
    exec(&conn, "insert into t(rowid, emb, n, score, flag, tag, p, note) values (1, '[1,1]', 1, 1, 0, 'a long tag, stored apart', 'x', 'first')");
    exec(&conn, "insert or ignore into t(rowid, emb, n, score, flag, tag, p, note) values (1, '[2,2]', 2, 2, 1, 'b', 'y', 'second')");
    assert_eq!(
        rows(&conn, "select n, tag, p, note from t"),
        [[
            Value::Integer(1),
            Value::Text("a long tag, stored apart".into()),
            Value::Text("x".into()),
            Value::Text("first".into())
        ]]
    );
    exec(&conn, "insert or replace into t(rowid, emb, n, score, flag, tag, p, note) values (1, '[2,2]', 2, 2, 1, 'b', 'y', 'second')");
    assert_eq!(
        rows(
            &conn,
            "select rowid, vec_to_json(emb), n, tag, p, note from t"
        ),
        [[
            Value::Integer(1),
            Value::Text("[2.000000,2.000000]".into()),
            Value::Integer(2),
            Value::Text("b".into()),
            Value::Text("y".into()),
            Value::Text("second".into())
        ]]
    );
    // The replaced row's long text is gone and its old slot freed: one chunk, one live slot.
    assert_eq!(int(&conn, "select count(*) from t_metadatatext03"), 0);
    assert_eq!(int(&conn, "select count(*) from t_chunks"), 1);
    assert_eq!(int(&conn, "select count(*) from t_auxiliary"), 1);
}

#[test]
fn update_changes_one_column_and_leaves_the_others() {
    let conn = items();
    exec(
        &conn,
        "insert into t(rowid, emb, n, score, flag, tag, p, note) values
            (1, '[1,1]', 1, 0.5, 0, 'short', 'x', x'0102'),
            (2, '[2,2]', 2, 1.5, 1, 'other', 'x', 'keep')",
    );
    let row1 = |conn: &Connection| {
        rows(
            conn,
            "select vec_to_json(emb), n, score, flag, tag, p, note from t where rowid = 1",
        )
        .remove(0)
    };
    exec(&conn, "update t set emb = '[5,6]' where rowid = 1");
    exec(&conn, "update t set n = 10 where rowid = 1");
    exec(&conn, "update t set score = 2.25, flag = 1 where rowid = 1");
    exec(
        &conn,
        "update t set tag = 'now longer than twelve bytes' where rowid = 1",
    );
    exec(&conn, "update t set note = 'text now' where rowid = 1");
    assert_eq!(
        row1(&conn),
        [
            Value::Text("[5.000000,6.000000]".into()),
            Value::Integer(10),
            Value::Real(2.25),
            Value::Integer(1),
            Value::Text("now longer than twelve bytes".into()),
            Value::Text("x".into()),
            Value::Text("text now".into()),
        ]
    );
    exec(&conn, "update t set tag = 'short again' where rowid = 1");
    assert_eq!(
        int(&conn, "select count(*) from t_metadatatext03"),
        0,
        "the overflow text went"
    );
    assert_eq!(
        rows(
            &conn,
            "select vec_to_json(emb), n, score, flag, tag, p, note from t where rowid = 2"
        )
        .remove(0),
        [
            Value::Text("[2.000000,2.000000]".into()),
            Value::Integer(2),
            Value::Real(1.5),
            Value::Integer(1),
            Value::Text("other".into()),
            Value::Text("x".into()),
            Value::Text("keep".into()),
        ]
    );
}

#[test]
fn updating_the_partition_key_moves_the_row_to_a_chunk_of_the_new_partition() {
    let conn = items();
    exec(
        &conn,
        "insert into t(rowid, emb, n, score, flag, tag, p, note) values
            (1, '[1,1]', 1, 1, 0, 'a tag longer than twelve', 'x', 'n1'),
            (2, '[2,2]', 2, 2, 1, 'b', 'x', 'n2'),
            (3, '[3,3]', 3, 3, 0, 'c', 'y', 'n3')",
    );
    let (x_chunk, _) = location(&conn, "t", 1);
    let (y_chunk, _) = location(&conn, "t", 3);
    assert_ne!(x_chunk, y_chunk);
    exec(&conn, "update t set p = 'y' where rowid = 1");
    let (chunk, _) = location(&conn, "t", 1);
    assert_eq!(chunk, y_chunk);
    assert_eq!(
        rows(
            &conn,
            "select vec_to_json(emb), n, tag, p, note from t where rowid = 1"
        )
        .remove(0),
        [
            Value::Text("[1.000000,1.000000]".into()),
            Value::Integer(1),
            Value::Text("a tag longer than twelve".into()),
            Value::Text("y".into()),
            Value::Text("n1".into()),
        ]
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0,0]' and k = 5 and p = 'y'"
        ),
        [1, 3]
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[0,0]' and k = 5 and p = 'x'"
        ),
        [2]
    );
    // Moving the last row out of a partition deletes its chunk.
    exec(&conn, "update t set p = 'z' where rowid = 2");
    assert_eq!(
        ints(
            &conn,
            &format!("select count(*) from t_chunks where chunk_id = {x_chunk}")
        ),
        [0]
    );
    assert_eq!(int(&conn, "select count(*) from t_vector_chunks00"), 2);
}

#[test]
fn updating_the_key_moves_every_value_to_the_new_key() {
    let conn = items();
    exec(
        &conn,
        "insert into t(rowid, emb, n, score, flag, tag, p, note) values
            (1, '[1,1]', 1, 1, 0, 'a tag longer than twelve', 'x', 'n1'),
            (2, '[2,2]', 2, 2, 1, 'b', 'x', 'n2')",
    );
    exec(&conn, "update t set rowid = 7 where rowid = 1");
    assert_eq!(ints(&conn, "select rowid from t"), [2, 7]);
    assert_eq!(
        rows(
            &conn,
            "select vec_to_json(emb), n, tag, note from t where rowid = 7"
        )
        .remove(0),
        [
            Value::Text("[1.000000,1.000000]".into()),
            Value::Integer(1),
            Value::Text("a tag longer than twelve".into()),
            Value::Text("n1".into()),
        ]
    );
    assert_eq!(
        error(&conn, "update t set rowid = 2 where rowid = 7"),
        "UNIQUE constraint failed on t primary key"
    );
    exec(&conn, "update or replace t set rowid = 2 where rowid = 7");
    assert_eq!(ints(&conn, "select n from t"), [1]);
    assert_eq!(ints(&conn, "select rowid from t"), [2]);
    assert_eq!(int(&conn, "select count(*) from t_auxiliary"), 1);
}

#[test]
fn delete_removes_the_row_and_its_side_data() {
    let conn = items();
    exec(
        &conn,
        "insert into t(rowid, emb, n, score, flag, tag, p, note) values
            (1, '[1,1]', 1, 1, 0, 'a tag longer than twelve', 'x', 'n1'),
            (2, '[2,2]', 2, 2, 1, 'b', 'x', 'n2'),
            (3, '[3,3]', 3, 3, 1, 'c', 'x', 'n3')",
    );
    exec(&conn, "delete from t where rowid = 1");
    assert_eq!(ints(&conn, "select rowid from t"), [2, 3]);
    assert_eq!(int(&conn, "select count(*) from t_rowids"), 2);
    assert_eq!(int(&conn, "select count(*) from t_auxiliary"), 2);
    assert_eq!(int(&conn, "select count(*) from t_metadatatext03"), 0);
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[1,1]' and k = 3"
        ),
        [2, 3]
    );
    exec(&conn, "delete from t where n > 2");
    assert_eq!(ints(&conn, "select rowid from t"), [2]);
    exec(&conn, "delete from t where rowid = 99");
    exec(&conn, "delete from t");
    assert_eq!(int(&conn, "select count(*) from t"), 0);
    assert_eq!(
        int(&conn, "select count(*) from t_chunks"),
        0,
        "empty chunks are dropped"
    );
    assert_eq!(int(&conn, "select count(*) from t_vector_chunks00"), 0);
    assert_eq!(int(&conn, "select count(*) from t_metadatachunks00"), 0);
}

#[test]
fn bad_values_are_refused_with_the_column_named_and_the_table_unchanged() {
    let conn = items();
    exec(&conn, "insert into t(rowid, emb, n, score, flag, tag, p, note) values (1, '[1,1]', 1, 1, 0, 'a', 'x', 'n')");
    let before = dump(&conn, "t");
    let cases = [
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,2,3]', 1, 1, 0, 'a', 'x')",
            "Dimension mismatch for inserted vector for the \"emb\" column. Expected 2 dimensions but received 3.",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values (vec_int8('[1,2]'), 1, 1, 0, 'a', 'x')",
            "Inserted vector for the \"emb\" column is expected to be of type float32, but a int8 vector was provided.",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values (NULL, 1, 1, 0, 'a', 'x')",
            "Inserted vector for the \"emb\" column is invalid: Input must have type BLOB (compact format) or TEXT (JSON), found NULL",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,1]', NULL, 1, 0, 'a', 'x')",
            "Expected integer for INTEGER metadata column n, received NULL",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,1]', 'one', 1, 0, 'a', 'x')",
            "Expected integer for INTEGER metadata column n, received TEXT",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,1]', 1, NULL, 0, 'a', 'x')",
            "Expected float for FLOAT metadata column score, received NULL",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,1]', 1, 1, 2, 'a', 'x')",
            "Expected 0 or 1 for BOOLEAN metadata column flag",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,1]', 1, 1, 0, x'05', 'x')",
            "Expected text for TEXT metadata column tag, received BLOB",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1,1]', 1, 1, 0, 'a', NULL)",
            "Expected text for partition key column p, received NULL",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values (x'00', 1, 1, 0, 'a', 'x')",
            "Inserted vector for the \"emb\" column is invalid: invalid float32 vector BLOB length. Must be divisible by 4, found 1",
        ),
        (
            "insert into t(emb, n, score, flag, tag, p) values ('[1, 2', 1, 1, 0, 'a', 'x')",
            "Inserted vector for the \"emb\" column is invalid: JSON",
        ),
        (
            "update t set emb = '[1]' where rowid = 1",
            "Dimension mismatch for new updated vector for the \"emb\" column. Expected 2 dimensions but received 1.",
        ),
        (
            "update t set emb = vec_int8('[1, 2]') where rowid = 1",
            "Updated vector for the \"emb\" column is expected to be of type float32, but a int8 vector was provided.",
        ),
        (
            "update t set n = NULL where rowid = 1",
            "Expected integer for INTEGER metadata column n, received NULL",
        ),
        (
            "update t set tag = 'a text that is long enough', n = 'x' where rowid = 1",
            "Expected integer for INTEGER metadata column n, received TEXT",
        ),
        (
            "update t set p = 'y', emb = x'00' where rowid = 1",
            "Updated vector for the \"emb\" column is invalid: invalid float32 vector BLOB length. Must be divisible by 4, found 1",
        ),
    ];
    for (sql, expected) in cases {
        let message = error(&conn, sql);
        assert!(message.contains(expected), "{sql}: {message}");
        assert_eq!(dump(&conn, "t"), before, "{sql} changed the table");
    }
}

#[test]
fn int8_columns_take_json_and_int8_blobs_and_read_back_as_int8() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb int8[4], chunk_size=8);
         insert into t(rowid, emb) values (1, '[1, -2, 3, -128]');
         insert into t(rowid, emb) values (2, vec_int8('[127, 0, 0, 0]'));",
    );
    conn.execute(
        "insert into t(rowid, emb) values (3, ?)",
        [vec![5u8, 6, 7, 0xff]],
    )
    .unwrap();
    assert_eq!(
        rows(
            &conn,
            "select rowid, vec_type(emb), vec_to_json(emb) from t"
        ),
        [
            [
                Value::Integer(1),
                Value::Text("int8".into()),
                Value::Text("[1,-2,3,-128]".into())
            ],
            [
                Value::Integer(2),
                Value::Text("int8".into()),
                Value::Text("[127,0,0,0]".into())
            ],
            [
                Value::Integer(3),
                Value::Text("int8".into()),
                Value::Text("[5,6,7,-1]".into())
            ],
        ]
    );
    assert_eq!(
        error(&conn, "insert into t(emb) values ('[1, 2, 3]')"),
        "Dimension mismatch for inserted vector for the \"emb\" column. Expected 4 dimensions but received 3."
    );
    let message = error(&conn, "insert into t(emb) values ('[1.5, 2, 3, 4]')");
    assert!(
        message.starts_with("Inserted vector for the \"emb\" column is invalid: "),
        "{message}"
    );
    // A float32 vector whose byte length happens to match is still a float32 vector.
    assert_eq!(
        error(&conn, "insert into t(emb) values (vec_f32('[1.0]'))"),
        "Inserted vector for the \"emb\" column is expected to be of type int8, but a float32 vector was provided."
    );
    assert_eq!(int(&conn, "select count(*) from t"), 3);
}

#[test]
fn bit_columns_take_bit_vectors_and_raw_bytes() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb bit[16], chunk_size=8);
         insert into t(rowid, emb) values (1, vec_bit(x'0f00'));",
    );
    conn.execute(
        "insert into t(rowid, emb) values (2, ?)",
        [vec![0xffu8, 0x01]],
    )
    .unwrap();
    assert_eq!(
        rows(&conn, "select rowid, vec_type(emb), emb from t"),
        [
            [
                Value::Integer(1),
                Value::Text("bit".into()),
                Value::Blob(vec![0x0f, 0])
            ],
            [
                Value::Integer(2),
                Value::Text("bit".into()),
                Value::Blob(vec![0xff, 1])
            ],
        ]
    );
    assert!(error(&conn, "insert into t(emb) values (vec_bit(x'ff'))")
        .contains("Expected 16 dimensions but received 8"),);
    assert_eq!(
        error(&conn, "insert into t(emb) values ('[1,0,1]')"),
        "Inserted vector for the \"emb\" column is expected to be of type bit, but a float32 vector was provided."
    );
}

#[test]
fn float16_and_bfloat16_columns_convert_json_and_take_raw_halves() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(h float16[2], b bfloat16[2], chunk_size=8);
         insert into t(rowid, h, b) values (1, '[1.5, -2]', vec_f32('[1.5, -2]'));",
    );
    let h: Vec<u8> = [half::f16::from_f32(0.25), half::f16::from_f32(8.0)]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let b: Vec<u8> = [half::bf16::from_f32(0.25), half::bf16::from_f32(8.0)]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    conn.execute(
        "insert into t(rowid, h, b) values (2, ?, ?)",
        [h.clone(), b.clone()],
    )
    .unwrap();
    let f16 = |x: f32| half::f16::from_f32(x).to_le_bytes();
    let bf16 = |x: f32| half::bf16::from_f32(x).to_le_bytes();
    assert_eq!(
        rows(&conn, "select h, b from t order by rowid"),
        [
            [
                Value::Blob([f16(1.5), f16(-2.0)].concat()),
                Value::Blob([bf16(1.5), bf16(-2.0)].concat())
            ],
            [Value::Blob(h), Value::Blob(b)],
        ]
    );
    assert!(
        error(&conn, "insert into t(h, b) values ('[1,2,3]', '[1,2]')")
            .contains("Expected 2 dimensions but received 3")
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where h match '[0.25, 8]' and k = 1"
        ),
        [2]
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where b match '[1.5, -2]' and k = 1"
        ),
        [1]
    );
}

#[test]
fn point_lookups_by_rowid_key_and_in_list() {
    let conn = items();
    for i in 1..=20 {
        exec(
            &conn,
            &format!("insert into t(rowid, emb, n, score, flag, tag, p) values ({i}, '[{i},0]', {i}, 0, 0, 't{i}', 'p{}')", i % 3),
        );
    }
    assert_eq!(ints(&conn, "select n from t where rowid = 7"), [7]);
    assert_eq!(ints(&conn, "select n from t where rowid = 7.0"), [7]);
    assert_eq!(
        ints(&conn, "select n from t where rowid = 77"),
        [] as [i64; 0]
    );
    assert_eq!(
        ints(
            &conn,
            "select n from t where rowid in (3, 19, 3, 100, 1) order by n"
        ),
        [1, 3, 19]
    );
    assert_eq!(
        ints(
            &conn,
            "select n from t where rowid in (select 2 union select 4)"
        ),
        [2, 4]
    );
    assert_eq!(
        ints(&conn, "select n from t where rowid > 17"),
        [18, 19, 20]
    );
    assert_eq!(
        ints(&conn, "select n from t where n between 4 and 6"),
        [4, 5, 6]
    );
    assert_eq!(ints(&conn, "select rowid from t where tag = 't12'"), [12]);
    // The plan for an equality on the key is a point lookup, not a scan.
    let plan = rows(&conn, "explain query plan select n from t where rowid = 7");
    let detail = format!("{plan:?}");
    assert!(detail.contains("point"), "{detail}");
}

#[test]
fn a_full_scan_returns_every_column_including_auxiliary_values_of_any_type() {
    let conn = items();
    exec(
        &conn,
        "insert into t(rowid, emb, n, score, flag, tag, p, note) values
            (1, '[1,2]', -5, 0.125, 1, '', 'x', x'00ff00'),
            (2, '[3,4]', 9223372036854775807, -1e300, 0, 'exactly12byt', 'y', NULL),
            (3, '[5,6]', 0, 0, 1, 'thirteen byte', 'x', 3.5),
            (4, '[7,8]', 1, 1, 0, 'ünïcødé text over twelve bytes', 'y', 42)",
    );
    assert_eq!(
        rows(&conn, "select * from t"),
        [
            vec![
                Value::Integer(1),
                Value::Blob(f32_blob(&[1.0, 2.0])),
                Value::Integer(-5),
                Value::Real(0.125),
                Value::Integer(1),
                Value::Text("".into()),
                Value::Text("x".into()),
                Value::Blob(vec![0, 255, 0]),
            ],
            vec![
                Value::Integer(2),
                Value::Blob(f32_blob(&[3.0, 4.0])),
                Value::Integer(i64::MAX),
                Value::Real(-1e300),
                Value::Integer(0),
                Value::Text("exactly12byt".into()),
                Value::Text("y".into()),
                Value::Null,
            ],
            vec![
                Value::Integer(3),
                Value::Blob(f32_blob(&[5.0, 6.0])),
                Value::Integer(0),
                Value::Real(0.0),
                Value::Integer(1),
                Value::Text("thirteen byte".into()),
                Value::Text("x".into()),
                Value::Real(3.5),
            ],
            vec![
                Value::Integer(4),
                Value::Blob(f32_blob(&[7.0, 8.0])),
                Value::Integer(1),
                Value::Real(1.0),
                Value::Integer(0),
                Value::Text("ünïcødé text over twelve bytes".into()),
                Value::Text("y".into()),
                Value::Integer(42),
            ],
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "select vec_type(emb), typeof(note) from t where rowid = 1"
        ),
        [[Value::Text("float32".into()), Value::Text("blob".into())]]
    );
}

#[test]
fn a_duplicate_key_that_would_need_a_new_chunk_leaves_no_trace() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[2], p text partition key, chunk_size = 8)",
    );
    exec(
        &conn,
        "insert into t(rowid, emb, p) values (1, '[1,1]', 'a')",
    );
    let before = dump(&conn, "t");
    // Partition 'b' has no chunk yet, so a successful insert would create one: the conflict
    // must be found before that happens (SQLite does not undo a failed vtab statement).
    let err = conn
        .execute("insert into t(rowid, emb, p) values (1, '[2,2]', 'b')", [])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("UNIQUE constraint failed on t primary key"),
        "{err}"
    );
    assert_eq!(dump(&conn, "t"), before);
}
