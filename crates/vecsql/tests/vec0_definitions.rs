//! `CREATE VIRTUAL TABLE ... USING vec0(...)` through SQLite: every column kind, the columns
//! SQLite sees (`select *`, `pragma table_xinfo`), and definition errors that name what failed.

mod vec0_support;

use rusqlite::types::Value;
use vec0_support::*;

/// (name, type, pk, hidden) of every column, from `pragma table_xinfo`.
fn xinfo(conn: &rusqlite::Connection, table: &str) -> Vec<(String, i64, i64)> {
    rows(
        conn,
        &format!("select name, pk, hidden from pragma_table_xinfo('{table}')"),
    )
    .into_iter()
    .map(|r| {
        let Value::Integer(pk) = r[1] else { panic!() };
        let Value::Integer(hidden) = r[2] else {
            panic!()
        };
        (text(&r[0]).to_string(), pk, hidden)
    })
    .collect()
}

fn column_names(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let stmt = conn.prepare(sql).unwrap();
    stmt.column_names().map(String::from).collect()
}

#[test]
fn every_column_kind_is_accepted_and_stored_in_declaration_order() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(
            f float[4] distance_metric=cosine,
            i int8[4] distance_metric=l1,
            b bit[16],
            h float16[2] distance_metric=dot,
            bf bfloat16[2],
            id integer primary key,
            p text partition key,
            q integer partition key,
            mi integer, mf float, mb boolean, mt text not null,
            +aux_any, +aux_text text, +aux_int integer, +aux_float float, +aux_blob blob,
            chunk_size = 16
        )",
    );
    assert_eq!(
        xinfo(&conn, "t"),
        [
            ("id", 1, 0),
            ("f", 0, 0),
            ("i", 0, 0),
            ("b", 0, 0),
            ("h", 0, 0),
            ("bf", 0, 0),
            ("p", 0, 0),
            ("q", 0, 0),
            ("mi", 0, 0),
            ("mf", 0, 0),
            ("mb", 0, 0),
            ("mt", 0, 0),
            ("aux_any", 0, 0),
            ("aux_text", 0, 0),
            ("aux_int", 0, 0),
            ("aux_float", 0, 0),
            ("aux_blob", 0, 0),
            ("distance", 0, 1),
            ("k", 0, 1),
            ("t", 0, 1),
        ]
        .map(|(n, pk, h)| (n.to_string(), pk, h))
    );
    exec(
        &conn,
        "insert into t values (7, '[1,2,3,4]', vec_int8('[1,2,3,4]'), vec_bit(x'ff00'),
            '[1,2]', '[3,4]', 'part', 3, 10, 1.5, 1, 'text', 'any', 'txt', 5, 2.5, x'00ff')",
    );
    let row = rows(&conn, "select * from t").remove(0);
    assert_eq!(row.len(), 17, "distance and k are not in select *");
    assert_eq!(row[0], Value::Integer(7));
    assert_eq!(row[1], Value::Blob(f32_blob(&[1.0, 2.0, 3.0, 4.0])));
    assert_eq!(row[2], Value::Blob(vec![1, 2, 3, 4]));
    assert_eq!(row[3], Value::Blob(vec![0xff, 0x00]));
    assert_eq!(
        row[4],
        Value::Blob(vec![0x00, 0x3c, 0x00, 0x40]),
        "float16 1, 2"
    );
    assert_eq!(
        row[5],
        Value::Blob(vec![0x40, 0x40, 0x80, 0x40]),
        "bfloat16 3, 4"
    );
    assert_eq!(
        row[6..],
        [
            Value::Text("part".into()),
            Value::Integer(3),
            Value::Integer(10),
            Value::Real(1.5),
            Value::Integer(1),
            Value::Text("text".into()),
            Value::Text("any".into()),
            Value::Text("txt".into()),
            Value::Integer(5),
            Value::Real(2.5),
            Value::Blob(vec![0, 255]),
        ]
    );
}

#[test]
fn a_table_without_primary_key_shows_rowid_first_and_hides_distance_and_k() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(n integer, emb float[2], +note text)",
    );
    assert_eq!(
        column_names(&conn, "select * from t"),
        ["rowid", "n", "emb", "note"]
    );
    assert_eq!(
        xinfo(&conn, "t"),
        [
            ("rowid", 0, 0),
            ("n", 0, 0),
            ("emb", 0, 0),
            ("note", 0, 0),
            ("distance", 0, 1),
            ("k", 0, 1),
            ("t", 0, 1)
        ]
        .map(|(n, pk, h)| (n.to_string(), pk, h))
    );
    assert_eq!(
        column_names(
            &conn,
            "select *, distance, k from t where emb match '[0,0]' and k = 1"
        ),
        ["rowid", "n", "emb", "note", "distance", "k"]
    );
}

#[test]
fn a_primary_key_declared_last_comes_first_in_select_star() {
    let conn = db();
    exec(
        &conn,
        "create virtual table t using vec0(emb float[2], tag text, doc_id text primary key)",
    );
    assert_eq!(
        column_names(&conn, "select * from t"),
        ["doc_id", "emb", "tag"]
    );
    assert_eq!(xinfo(&conn, "t")[0], ("doc_id".to_string(), 1, 0));
}

#[test]
fn tables_can_live_in_temp_and_attached_schemas() {
    let conn = db();
    exec(
        &conn,
        "attach ':memory:' as other;
         create virtual table temp.t using vec0(emb float[2], chunk_size=8);
         create virtual table other.t using vec0(emb float[2], n integer, chunk_size=8);
         insert into temp.t(rowid, emb) values (1, '[1,1]');
         insert into other.t(rowid, emb, n) values (2, '[2,2]', 5);",
    );
    assert_eq!(ints(&conn, "select rowid from temp.t"), [1]);
    assert_eq!(
        ints(
            &conn,
            "select rowid from other.t where emb match '[0,0]' and k = 5"
        ),
        [2]
    );
    assert!(
        int(
            &conn,
            "select count(*) from temp.sqlite_master where name = 't_chunks'"
        ) == 1
    );
    assert!(
        int(
            &conn,
            "select count(*) from other.sqlite_master where name = 't_chunks'"
        ) == 1
    );
    assert!(
        int(
            &conn,
            "select count(*) from main.sqlite_master where name = 't_chunks'"
        ) == 0
    );
}

fn create_error(definition: &str) -> String {
    let conn = db();
    let message = error(
        &conn,
        &format!("create virtual table t using vec0({definition})"),
    );
    assert_eq!(
        int(&conn, "select count(*) from sqlite_master"),
        0,
        "a failed CREATE leaves nothing behind: {definition}"
    );
    message
}

#[test]
fn bad_definitions_are_refused_with_a_message_naming_the_column_or_option() {
    let cases = [
        ("", "At least one vector column is required"),
        ("n text", "At least one vector column is required"),
        (
            "emb float[0]",
            "could not parse vector column 'emb float[0]': the dimension must be a positive integer, found 0",
        ),
        (
            "emb float[8193]",
            "Dimension on vector column too large, provided 8193, maximum 8192 (column \"emb\")",
        ),
        (
            "emb float[4], weight real",
            "Could not parse 'weight real': unknown type 'real'",
        ),
        ("emb float[4], chunk_size=7", "chunk_size must be divisible by 8"),
        ("emb float[4], chunk_sizes=8", "Unknown table option: chunk_sizes"),
        (
            "emb float[4], +payload boolean",
            "could not parse auxiliary column '+payload boolean'",
        ),
        (
            "emb float[4], tag text, TAG integer",
            "duplicate column name: TAG",
        ),
        ("emb float[4], distance text", "duplicate column name: distance"),
        (
            "emb float[4] distance_metric=hamming",
            "could not parse vector column 'emb float[4] distance_metric=hamming': distance_metric=hamming needs a bit vector column",
        ),
        (
            "id float primary key, emb float[4]",
            "could not parse primary key column 'id float primary key'",
        ),
        (
            "emb float[4], p boolean partition key",
            "could not parse partition key column 'p boolean partition key'",
        ),
    ];
    for (definition, expected) in cases {
        let message = create_error(definition);
        assert!(
            message.starts_with("vec0 constructor error: "),
            "{definition}: {message}"
        );
        assert!(message.contains(expected), "{definition}: {message}");
    }
}
