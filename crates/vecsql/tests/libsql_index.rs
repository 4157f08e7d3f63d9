//! libSQL's vector index on stock SQLite: `CREATE INDEX ... (libsql_vector_idx(col, ...))` and
//! `vector_top_k(index, query, k)`, including partial indexes, REINDEX, DROP, rename,
//! transactions, and a property test of random writes with rollbacks against brute force.

use proptest::prelude::*;
use rusqlite::Connection;

fn open() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    vecsql::register(&conn).unwrap();
    conn
}

fn exec(conn: &Connection, sql: &str) {
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn err(conn: &Connection, sql: &str) -> String {
    match conn.execute_batch(sql) {
        Ok(()) => match conn.prepare(sql).and_then(|mut s| {
            let mut rows = s.query([])?;
            while rows.next()?.is_some() {}
            Ok(())
        }) {
            Ok(()) => panic!("expected an error from {sql}"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut s = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = s
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>();
    rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn ids(conn: &Connection, sql: &str) -> Vec<i64> {
    let mut s = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = s
        .query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>();
    rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

const MOVIES: &str = "
CREATE TABLE movies (title TEXT, year INT, embedding F32_BLOB(4));
INSERT INTO movies VALUES
  ('Napoleon', 2023, vector32('[0.800, 0.579, 0.481, 0.229]')),
  ('Black Hawk Down', 2001, vector32('[0.406, 0.027, 0.378, 0.056]')),
  ('Gladiator', 2000, vector32('[0.698, 0.140, 0.073, 0.125]')),
  ('Blade Runner', 1982, vector32('[0.379, 0.637, 0.011, 0.647]'));
";

fn top(conn: &Connection, index: &str, k: i64) -> Vec<String> {
    strings(
        conn,
        &format!(
            "SELECT title FROM vector_top_k('{index}', vector32('[0.064, 0.777, 0.661, 0.687]'), {k})
               JOIN movies ON movies.rowid = id"
        ),
    )
}

#[test]
fn movies_walkthrough_from_the_issue() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX movies_idx ON movies (libsql_vector_idx(embedding));
         CREATE INDEX movies_idx2 ON movies (libsql_vector_idx(embedding, 'metric=l2', 'compress_neighbors=float8'));
         CREATE INDEX recent_idx ON movies (libsql_vector_idx(embedding)) WHERE year >= 2000;",
    );
    let rows = strings(
        &conn,
        "SELECT title || ' ' || year FROM vector_top_k('movies_idx', vector32('[0.064, 0.777, 0.661, 0.687]'), 3)
           JOIN movies ON movies.rowid = id WHERE year >= 2020",
    );
    assert_eq!(rows, ["Napoleon 2023"]);
    // Exact answers (libSQL gives the same on these four rows).
    assert_eq!(
        top(&conn, "movies_idx", 3),
        ["Blade Runner", "Napoleon", "Black Hawk Down"]
    );
    assert_eq!(
        top(&conn, "movies_idx2", 4),
        ["Blade Runner", "Napoleon", "Black Hawk Down", "Gladiator"]
    );
    assert_eq!(
        top(&conn, "recent_idx", 4),
        ["Napoleon", "Black Hawk Down", "Gladiator"]
    );
    exec(&conn, "REINDEX movies_idx;");
    assert_eq!(top(&conn, "movies_idx", 1), ["Blade Runner"]);
    exec(&conn, "DROP INDEX movies_idx;");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('movies_idx', vector32('[1,2,3,4]'), 3)"
    )
    .contains("no such index: movies_idx"));
    // Exact search works with or without an index.
    let exact = strings(
        &conn,
        "SELECT title FROM movies ORDER BY vector_distance_cos(embedding, vector32('[0.064, 0.777, 0.661, 0.687]')) LIMIT 3",
    );
    assert_eq!(exact, ["Blade Runner", "Napoleon", "Black Hawk Down"]);
}

#[test]
fn names_resolve_like_sqlite() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX Movies_Idx ON movies (libsql_vector_idx(embedding))",
    );
    for name in [
        "movies_idx",
        "MOVIES_IDX",
        "main.movies_idx",
        "MAIN.Movies_Idx",
    ] {
        assert_eq!(top(&conn, name, 1), ["Blade Runner"], "{name}");
    }
    exec(&conn, "CREATE INDEX plain ON movies (year)");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('plain', vector32('[1,2,3,4]'), 3)"
    )
    .contains("not a vector index"));
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('aux.movies_idx', vector32('[1,2,3,4]'), 3)"
    )
    .contains("no such index"));
}

#[test]
fn settings_and_definition_errors() {
    let conn = open();
    exec(&conn, MOVIES);
    for (def, expected) in [
        (
            "libsql_vector_idx(embedding, 'metric=foo')",
            "invalid vector index parameter 'metric=foo'",
        ),
        (
            "libsql_vector_idx(embedding, 'foo=1')",
            "invalid vector index parameter 'foo=1'",
        ),
        (
            "libsql_vector_idx(embedding, 'metric')",
            "unexpected parameter format",
        ),
        (
            "libsql_vector_idx(embedding, 'max_neighbors=0')",
            "positive integer",
        ),
        (
            "libsql_vector_idx(embedding, 'search_l=x')",
            "positive integer",
        ),
        (
            "libsql_vector_idx(embedding, 'compress_neighbors=int8')",
            "compress_neighbors",
        ),
        (
            "libsql_vector_idx(embedding, 1)",
            "all arguments after first must be strings",
        ),
        ("libsql_vector_idx()", "wrong number of arguments"),
    ] {
        let e = err(&conn, &format!("CREATE INDEX bad ON movies ({def})"));
        assert!(e.contains(expected), "{def}: {e}");
    }
    // Every valid setting is accepted.
    exec(
        &conn,
        "CREATE INDEX ok ON movies (libsql_vector_idx(embedding, 'metric=L2', 'max_neighbors=20',
           'compress_neighbors=float1bit', 'alpha=1.2', 'search_l=100', 'insert_l=70'))",
    );
    assert_eq!(top(&conn, "ok", 1).len(), 1);
    exec(&conn, "DROP INDEX ok");
    // Errors found only at search time on an empty table, or from the definition's shape.
    exec(&conn, "CREATE TABLE e (v F32_BLOB(2), t TEXT)");
    exec(
        &conn,
        "CREATE INDEX e_bad ON e (libsql_vector_idx(v, 'metric=cos2'))",
    );
    let q = "SELECT * FROM vector_top_k('e_bad', vector32('[1,2]'), 1)";
    assert!(err(&conn, q).contains("metric=cos2"));
    // SQLite evaluates the index expression only for rows, so on an empty table the first
    // write reports the setting (libSQL reports it at CREATE INDEX; no hook allows that).
    assert!(err(&conn, "INSERT INTO e VALUES (vector32('[1,2]'), 'x')")
        .contains("invalid vector index parameter 'metric=cos2'"));
    exec(&conn, "DROP INDEX e_bad");
    exec(&conn, "CREATE UNIQUE INDEX e_u ON e (libsql_vector_idx(v))");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('e_u', vector32('[1,2]'), 1)"
    )
    .contains("cannot be UNIQUE"));
    exec(&conn, "CREATE INDEX e_t ON e (libsql_vector_idx(t))");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('e_t', vector32('[1,2]'), 1)"
    )
    .contains("unexpected vector column type: TEXT"));
    exec(&conn, "CREATE INDEX e_two ON e (libsql_vector_idx(v), t)");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('e_two', vector32('[1,2]'), 1)"
    )
    .contains("exactly one column"));
}

#[test]
fn search_argument_errors() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    for (args, expected) in [
        ("'i', vector32('[1,2,3,4]'), 0", "positive integer"),
        ("'i', vector32('[1,2,3,4]'), -1", "positive integer"),
        ("'i', vector32('[1,2,3,4]'), 100000", "maximum"),
        ("'i', vector32('[1,2,3,4]'), 'a'", "must be an integer"),
        (
            "'i', vector32('[1,2,3,4]'), 2.5",
            "a float value was provided",
        ),
        (
            "'i', vector32('[1,2,3]'), 3",
            "dimensions are different: 3 != 4",
        ),
        (
            "'i', vector64('[1,2,3,4]'), 3",
            "vector type differs from column type: FLOAT64 != FLOAT32",
        ),
        ("'i', 5, 3", "unexpected value type"),
        ("'nope', vector32('[1,2,3,4]'), 3", "no such index: nope"),
        ("'i', vector32('[1,2,3,4]')", "expected 3 arguments"),
    ] {
        let e = err(&conn, &format!("SELECT * FROM vector_top_k({args})"));
        assert!(e.contains(expected), "{args}: {e}");
    }
    // A query in libSQL's text form is read as the column's type.
    assert_eq!(
        ids(
            &conn,
            "SELECT id FROM vector_top_k('i', '[0.379, 0.637, 0.011, 0.647]', 1)"
        ),
        [4]
    );
}

#[test]
fn writes_are_checked_and_name_the_index() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX movies_idx ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "movies_idx", 1).len(), 1);
    let e = err(
        &conn,
        "INSERT INTO movies VALUES ('x', 1, vector32('[1,2,3]'))",
    );
    assert!(
        e.contains("movies_idx") && e.contains("dimensions are different: 3 != 4"),
        "{e}"
    );
    let e = err(
        &conn,
        "INSERT INTO movies VALUES ('x', 1, vector64('[1,2,3,4]'))",
    );
    assert!(
        e.contains("movies_idx") && e.contains("FLOAT64 != FLOAT32"),
        "{e}"
    );
    let e = err(&conn, "INSERT INTO movies VALUES ('x', 1, 5)");
    assert!(e.contains("unexpected value type"), "{e}");
    // NULL vectors are not indexed; text vectors are read as the column type.
    exec(&conn, "INSERT INTO movies VALUES ('null', 1, NULL)");
    exec(
        &conn,
        "INSERT INTO movies VALUES ('text', 1, '[0.064, 0.777, 0.661, 0.687]')",
    );
    assert_eq!(top(&conn, "movies_idx", 10)[0], "text");
    assert_eq!(top(&conn, "movies_idx", 10).len(), 5);
}

#[test]
fn every_vector_type_can_be_indexed() {
    for (ty, ctor) in [
        ("FLOAT64", "vector64"),
        ("F32_BLOB", "vector32"),
        ("FLOAT16", "vector16"),
        ("FB16_BLOB", "vectorb16"),
        ("FLOAT8", "vector8"),
        ("FLOAT1BIT", "vector1bit"),
    ] {
        let conn = open();
        exec(&conn, &format!("CREATE TABLE t (v {ty}(8))"));
        exec(&conn, "CREATE INDEX t_idx ON t (libsql_vector_idx(v))");
        let mut vectors = Vec::new();
        for i in 0..40 {
            let v: Vec<String> = (0..8)
                .map(|j| format!("{}", (((i * 7 + j * 13) % 17) as f32 - 8.0) / 4.0))
                .collect();
            let text = format!("[{}]", v.join(","));
            exec(
                &conn,
                &format!("INSERT INTO t(rowid, v) VALUES ({i}, {ctor}('{text}'))"),
            );
            vectors.push(text);
        }
        for q in &vectors[..5] {
            let got = ids(
                &conn,
                &format!("SELECT id FROM vector_top_k('t_idx', {ctor}('{q}'), 5)"),
            );
            // Brute force with libSQL's own distance on the stored vectors.
            let want = ids(
                &conn,
                &format!(
                    "SELECT rowid FROM t ORDER BY vector_distance_cos(v, {ctor}('{q}')), rowid LIMIT 5"
                ),
            );
            let d = |id: i64| -> f64 {
                conn.query_row(
                    &format!(
                        "SELECT vector_distance_cos(v, {ctor}('{q}')) FROM t WHERE rowid = {id}"
                    ),
                    [],
                    |r| r.get::<_, Option<f64>>(0),
                )
                .unwrap()
                .unwrap_or(f64::NAN)
            };
            let got_d: Vec<f64> = got.iter().map(|&i| d(i)).collect();
            let want_d: Vec<f64> = want.iter().map(|&i| d(i)).collect();
            for (g, w) in got_d.iter().zip(&want_d) {
                assert!(
                    (g - w).abs() < 1e-3 || (g.is_nan() && w.is_nan()),
                    "{ty}: {got_d:?} vs {want_d:?}"
                );
            }
        }
        let e = err(
            &conn,
            "SELECT * FROM vector_top_k('t_idx', vector32('[1,2,3]'), 1)",
        );
        assert!(
            e.contains("dimensions are different") || e.contains("type differs"),
            "{e}"
        );
    }
}

#[test]
fn partial_index_follows_updates_of_any_column() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX recent ON movies (libsql_vector_idx(embedding)) WHERE year >= 2000",
    );
    assert_eq!(top(&conn, "recent", 10).len(), 3);
    exec(
        &conn,
        "UPDATE movies SET year = 2020 WHERE title = 'Blade Runner'",
    );
    assert_eq!(top(&conn, "recent", 10)[0], "Blade Runner");
    exec(
        &conn,
        "UPDATE movies SET year = 1990 WHERE title = 'Napoleon'",
    );
    assert!(!top(&conn, "recent", 10).contains(&"Napoleon".to_string()));
    exec(&conn, "UPDATE movies SET embedding = vector32('[0.064, 0.777, 0.661, 0.687]') WHERE title = 'Gladiator'");
    assert_eq!(top(&conn, "recent", 1), ["Gladiator"]);
    exec(
        &conn,
        "UPDATE movies SET rowid = 100 WHERE title = 'Gladiator'",
    );
    assert_eq!(
        ids(
            &conn,
            "SELECT id FROM vector_top_k('recent', vector32('[0.064, 0.777, 0.661, 0.687]'), 1)"
        ),
        [100]
    );
}

#[test]
fn delete_without_where_and_identical_vectors() {
    let conn = open();
    exec(&conn, "CREATE TABLE t (v F32_BLOB(2))");
    exec(&conn, "CREATE INDEX t_idx ON t (libsql_vector_idx(v))");
    for i in 1..=5 {
        exec(
            &conn,
            &format!("INSERT INTO t(rowid, v) VALUES ({i}, vector32('[1, 1]'))"),
        );
    }
    let q = "SELECT id FROM vector_top_k('t_idx', vector32('[1,1]'), 10)";
    assert_eq!(ids(&conn, q), [1, 2, 3, 4, 5]);
    exec(&conn, "DELETE FROM t WHERE rowid = 3");
    assert_eq!(ids(&conn, q), [1, 2, 4, 5]);
    exec(&conn, "DELETE FROM t");
    assert_eq!(ids(&conn, q), Vec::<i64>::new());
    exec(
        &conn,
        "INSERT INTO t(rowid, v) VALUES (9, vector32('[1, 0]'))",
    );
    assert_eq!(ids(&conn, q), [9]);
}

#[test]
fn transactions_and_savepoints_undo_index_changes() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "i", 10).len(), 4);
    exec(
        &conn,
        "BEGIN; INSERT INTO movies VALUES ('Tmp', 2024, vector32('[0.064, 0.777, 0.661, 0.687]'));",
    );
    assert_eq!(top(&conn, "i", 1), ["Tmp"]);
    exec(&conn, "ROLLBACK");
    assert_eq!(top(&conn, "i", 1), ["Blade Runner"]);
    exec(
        &conn,
        "BEGIN; DELETE FROM movies WHERE title = 'Blade Runner'; SAVEPOINT s; DELETE FROM movies;",
    );
    assert!(top(&conn, "i", 10).is_empty());
    exec(&conn, "ROLLBACK TO s");
    assert_eq!(top(&conn, "i", 10).len(), 3);
    exec(&conn, "COMMIT");
    assert_eq!(top(&conn, "i", 1), ["Napoleon"]);
}

#[test]
fn rolled_back_ddl_and_index_created_inside_a_transaction() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "BEGIN; CREATE INDEX i ON movies (libsql_vector_idx(embedding));",
    );
    assert_eq!(top(&conn, "i", 1), ["Blade Runner"]);
    exec(&conn, "ROLLBACK");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('i', vector32('[1,2,3,4]'), 1)"
    )
    .contains("no such index"));
    assert_eq!(
        ids(
            &conn,
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE '__vecsql%'"
        ),
        [0]
    );
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "i", 1), ["Blade Runner"]);
    exec(&conn, "BEGIN; DROP INDEX i; INSERT INTO movies VALUES ('Tmp', 2024, vector32('[0.064, 0.777, 0.661, 0.687]')); ROLLBACK;");
    assert_eq!(top(&conn, "i", 10).len(), 4);
}

#[test]
fn drop_and_recreate_never_reads_stale_state() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "i", 1), ["Blade Runner"]);
    // Writes while the index is dropped, then the identical index again.
    exec(&conn, "DROP INDEX i");
    exec(
        &conn,
        "INSERT INTO movies VALUES ('Tmp', 2024, vector32('[0.064, 0.777, 0.661, 0.687]'))",
    );
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "i", 1), ["Tmp"]);
    // Other settings on the same name: a different hidden table; the old triggers go.
    exec(
        &conn,
        "DROP INDEX i; CREATE INDEX i ON movies (libsql_vector_idx(embedding, 'metric=l2'))",
    );
    assert_eq!(top(&conn, "i", 1), ["Tmp"]);
    assert_eq!(
        ids(
            &conn,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
        ),
        [3]
    );
    // DROP TABLE, a new table of the same name and the same index text.
    exec(&conn, "DROP TABLE movies");
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding, 'metric=l2'))",
    );
    assert_eq!(top(&conn, "i", 10).len(), 4);
    // DROP INDEX leaves no triggers once the next search in the schema cleans up.
    exec(
        &conn,
        "CREATE INDEX j ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "j", 1), ["Blade Runner"]);
    exec(&conn, "DROP INDEX i");
    exec(
        &conn,
        "DROP INDEX j; CREATE INDEX j ON movies (libsql_vector_idx(embedding)) WHERE year > 0",
    );
    assert_eq!(top(&conn, "j", 1), ["Blade Runner"]);
    assert_eq!(
        ids(
            &conn,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
        ),
        [3]
    );
}

#[test]
fn rename_table_and_column() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&conn, "i", 1), ["Blade Runner"]);
    exec(&conn, "ALTER TABLE movies RENAME TO films");
    exec(&conn, "ALTER TABLE films RENAME COLUMN embedding TO e");
    exec(
        &conn,
        "INSERT INTO films VALUES ('Tmp', 2024, vector32('[0.064, 0.777, 0.661, 0.687]'))",
    );
    let got = strings(
        &conn,
        "SELECT title FROM vector_top_k('i', vector32('[0.064, 0.777, 0.661, 0.687]'), 2) JOIN films ON films.rowid = id",
    );
    assert_eq!(got, ["Tmp", "Blade Runner"]);
    exec(&conn, "DELETE FROM films WHERE title = 'Tmp'");
    let got = strings(
        &conn,
        "SELECT title FROM vector_top_k('i', vector32('[0.064, 0.777, 0.661, 0.687]'), 1) JOIN films ON films.rowid = id",
    );
    assert_eq!(got, ["Blade Runner"]);
}

#[test]
fn without_rowid_tables_return_their_primary_key() {
    let conn = open();
    exec(
        &conn,
        "CREATE TABLE w (name TEXT PRIMARY KEY, v F32_BLOB(2)) WITHOUT ROWID",
    );
    exec(
        &conn,
        "INSERT INTO w VALUES ('a', vector32('[1,0]')), ('b', vector32('[0,1]'))",
    );
    exec(&conn, "CREATE INDEX w_idx ON w (libsql_vector_idx(v))");
    assert_eq!(
        strings(
            &conn,
            "SELECT id FROM vector_top_k('w_idx', vector32('[0.1,1]'), 2)"
        ),
        ["b", "a"]
    );
    exec(&conn, "UPDATE w SET name = 'c' WHERE name = 'b'");
    assert_eq!(
        strings(
            &conn,
            "SELECT id FROM vector_top_k('w_idx', vector32('[0.1,1]'), 2)"
        ),
        ["c", "a"]
    );
    exec(
        &conn,
        "CREATE TABLE n (k INTEGER PRIMARY KEY, v F32_BLOB(2)) WITHOUT ROWID",
    );
    exec(&conn, "INSERT INTO n VALUES (7, vector32('[1,0]'))");
    exec(&conn, "CREATE INDEX n_idx ON n (libsql_vector_idx(v))");
    assert_eq!(
        ids(
            &conn,
            "SELECT id FROM vector_top_k('n_idx', vector32('[1,0]'), 1)"
        ),
        [7]
    );
    exec(
        &conn,
        "CREATE TABLE c (a INT, b INT, v F32_BLOB(2), PRIMARY KEY (a, b)) WITHOUT ROWID",
    );
    exec(&conn, "CREATE INDEX c_idx ON c (libsql_vector_idx(v))");
    assert!(err(
        &conn,
        "SELECT * FROM vector_top_k('c_idx', vector32('[1,0]'), 1)"
    )
    .contains("single-column PRIMARY KEY"));
}

#[test]
fn another_connection_sees_and_maintains_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let a = Connection::open(&path).unwrap();
    vecsql::register(&a).unwrap();
    exec(&a, MOVIES);
    exec(
        &a,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    assert_eq!(top(&a, "i", 1), ["Blade Runner"]);
    let b = Connection::open(&path).unwrap();
    vecsql::register(&b).unwrap();
    exec(
        &b,
        "INSERT INTO movies VALUES ('Tmp', 2024, vector32('[0.064, 0.777, 0.661, 0.687]'))",
    );
    assert_eq!(top(&a, "i", 1), ["Tmp"]);
    exec(&b, "DELETE FROM movies WHERE title = 'Tmp'");
    assert_eq!(top(&a, "i", 1), ["Blade Runner"]);
    exec(
        &b,
        "DROP INDEX i; CREATE INDEX i ON movies (libsql_vector_idx(embedding)) WHERE year < 2000",
    );
    assert_eq!(top(&a, "i", 10), ["Blade Runner"]);
}

#[test]
fn an_index_over_many_rows_finds_the_nearest() {
    let conn = open();
    exec(&conn, "CREATE TABLE t (v F32_BLOB(16))");
    let mut state = 12345u64;
    let mut rnd = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let tx = conn.unchecked_transaction().unwrap();
    for _ in 0..3000 {
        let v: Vec<String> = (0..16).map(|_| rnd().to_string()).collect();
        conn.execute(
            "INSERT INTO t(v) VALUES (vector32(?))",
            [format!("[{}]", v.join(","))],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    exec(
        &conn,
        "CREATE INDEX t_idx ON t (libsql_vector_idx(v, 'metric=l2'))",
    );
    let mut hits = 0;
    for q in 1..=20 {
        let got = ids(
            &conn,
            &format!(
                "SELECT id FROM vector_top_k('t_idx', (SELECT v FROM t WHERE rowid = {q}), 10)"
            ),
        );
        let want = ids(&conn, &format!("SELECT rowid FROM t ORDER BY vector_distance_l2(v, (SELECT v FROM t WHERE rowid = {q})) LIMIT 10"));
        assert_eq!(got[0], q);
        hits += got.iter().filter(|g| want.contains(g)).count();
    }
    assert!(hits >= 190, "recall {hits}/200");
}

#[derive(Debug, Clone)]
enum Op {
    Insert(i64, [i8; 3]),
    Update(i64, [i8; 3]),
    Delete(i64),
    DeleteAll,
    Begin,
    Rollback,
    Commit,
}

fn op() -> impl Strategy<Value = Op> {
    let v = prop::array::uniform3(-3i8..=3);
    prop_oneof![
        4 => (1i64..20, v.clone()).prop_map(|(r, v)| Op::Insert(r, v)),
        2 => (1i64..20, v).prop_map(|(r, v)| Op::Update(r, v)),
        2 => (1i64..20).prop_map(Op::Delete),
        1 => Just(Op::DeleteAll),
        1 => Just(Op::Begin),
        1 => Just(Op::Rollback),
        1 => Just(Op::Commit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    #[test]
    fn random_writes_with_rollbacks_match_brute_force(ops in prop::collection::vec(op(), 1..40)) {
        let conn = open();
        exec(&conn, "CREATE TABLE t (v F32_BLOB(3), tag INT)");
        exec(&conn, "CREATE INDEX t_idx ON t (libsql_vector_idx(v, 'metric=l2'))");
        exec(&conn, "CREATE INDEX t_part ON t (libsql_vector_idx(v, 'metric=l2')) WHERE tag % 2 = 0");
        let vec = |v: &[i8; 3]| format!("vector32('[{},{},{}]')", v[0], v[1], v[2]);
        for (n, op) in ops.iter().enumerate() {
            let sql = match op {
                Op::Insert(r, v) => format!("INSERT OR IGNORE INTO t(rowid, v, tag) VALUES ({r}, {}, {r})", vec(v)),
                Op::Update(r, v) => format!("UPDATE t SET v = {}, tag = tag + 1 WHERE rowid = {r}", vec(v)),
                Op::Delete(r) => format!("DELETE FROM t WHERE rowid = {r}"),
                Op::DeleteAll => "DELETE FROM t".into(),
                Op::Begin => "BEGIN".into(),
                Op::Rollback => "ROLLBACK".into(),
                Op::Commit => "COMMIT".into(),
            };
            let _ = conn.execute_batch(&sql); // BEGIN inside BEGIN etc. may fail; fine
            if n % 3 == 0 || n + 1 == ops.len() {
                for (index, filter) in [("t_idx", "1"), ("t_part", "tag % 2 = 0")] {
                    let got = ids(&conn, &format!(
                        "SELECT id FROM vector_top_k('{index}', vector32('[0.5,0.25,0.125]'), 20)"));
                    let want = ids(&conn, &format!(
                        "SELECT rowid FROM t WHERE {filter} ORDER BY vector_distance_l2(v, vector32('[0.5,0.25,0.125]')), rowid"));
                    let mut g = got.clone(); g.sort();
                    let mut w = want.clone(); w.sort();
                    prop_assert_eq!(g, w, "{} after {:?}", index, &ops[..=n]);
                }
            }
        }
    }
}

#[test]
fn an_optional_fourth_argument_sets_the_search_size() {
    let conn = open();
    exec(&conn, MOVIES);
    exec(
        &conn,
        "CREATE INDEX i ON movies (libsql_vector_idx(embedding))",
    );
    let q = "SELECT id FROM vector_top_k('i', vector32('[0.064, 0.777, 0.661, 0.687]'), 2, 200)";
    assert_eq!(ids(&conn, q), [4, 1]);
    let e = err(
        &conn,
        "SELECT id FROM vector_top_k('i', vector32('[0.064, 0.777, 0.661, 0.687]'), 2, 0)",
    );
    assert!(e.contains("search_l"), "{e}");
}

fn hidden_objects(conn: &Connection) -> Vec<String> {
    strings(
        conn,
        "SELECT type || ' ' || name FROM sqlite_schema
          WHERE substr(name, 1, 13) = '__vecsql_idx_' AND (length(name) = 29 OR type = 'trigger')
          ORDER BY 1",
    )
}

#[test]
fn hidden_tables_of_dropped_indexes_go_when_vecsql_is_next_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drop.db");
    {
        let conn = Connection::open(&path).unwrap();
        vecsql::register(&conn).unwrap();
        exec(&conn, MOVIES);
        exec(
            &conn,
            "CREATE INDEX i ON movies (libsql_vector_idx(embedding));
                     CREATE INDEX j ON movies (libsql_vector_idx(embedding, 'metric=l2'))",
        );
        assert_eq!(top(&conn, "i", 1), ["Blade Runner"]);
        assert_eq!(top(&conn, "j", 1).len(), 1);
        assert_eq!(hidden_objects(&conn).len(), 8);
        exec(&conn, "DROP INDEX i");
        // A reload inside a transaction changes nothing (it would join the user's transaction).
        exec(&conn, "BEGIN");
        vecsql::register(&conn).unwrap();
        exec(&conn, "COMMIT");
        assert_eq!(hidden_objects(&conn).len(), 8);
    }
    let conn = Connection::open(&path).unwrap();
    vecsql::register(&conn).unwrap();
    // Only j's table and triggers remain, and j still answers; writes still work.
    let left = hidden_objects(&conn);
    assert_eq!(left.len(), 4, "{left:?}");
    assert_eq!(
        ids(&conn, "SELECT count(*) FROM sqlite_schema WHERE substr(name, 1, 13) = '__vecsql_idx_' AND name LIKE '%_chunks'"),
        [1]
    );
    exec(
        &conn,
        "INSERT INTO movies VALUES ('Tmp', 2024, vector32('[0.064, 0.777, 0.661, 0.687]'))",
    );
    assert_eq!(top(&conn, "j", 1), ["Tmp"]);
    // DROP TABLE: everything goes at the next load.
    exec(&conn, "DROP TABLE movies");
    vecsql::register(&conn).unwrap();
    assert_eq!(hidden_objects(&conn), Vec::<String>::new());
}

#[test]
fn or_replace_through_another_unique_constraint_leaves_nothing_stale() {
    let conn = open();
    exec(
        &conn,
        "CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT UNIQUE, v F32_BLOB(2));
         CREATE INDEX u_idx ON u (libsql_vector_idx(v));
         INSERT INTO u VALUES (1, 'a', vector32('[1, 0]')), (2, 'b', vector32('[0, 1]')),
                              (3, 'c', vector32('[1, 1]'));",
    );
    let q = "SELECT id FROM vector_top_k('u_idx', vector32('[1, 0]'), 3)";
    assert_eq!(ids(&conn, q), [1, 3, 2]);
    // Deletes row 1 through name's UNIQUE constraint: no DELETE trigger runs.
    exec(
        &conn,
        "INSERT OR REPLACE INTO u VALUES (4, 'a', vector32('[0, 1]'))",
    );
    assert_eq!(ids(&conn, q), [3, 2, 4]);
    // UPDATE OR REPLACE deletes row 3; the stale entry left the hidden table at the search.
    exec(&conn, "UPDATE OR REPLACE u SET name = 'c' WHERE id = 2");
    assert_eq!(ids(&conn, q), [2, 4]);
    let hidden: String = conn
        .query_row(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND substr(name, 1, 13) = '__vecsql_idx_' AND length(name) = 29",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        ids(&conn, &format!("SELECT count(*) FROM \"{hidden}\"")),
        [2]
    );
}

#[test]
fn replace_of_the_key_by_a_row_outside_the_index_removes_it() {
    let conn = open();
    exec(
        &conn,
        "CREATE TABLE p (id INTEGER PRIMARY KEY, year INT, v F32_BLOB(2));
         CREATE INDEX p_all ON p (libsql_vector_idx(v));
         CREATE INDEX p_new ON p (libsql_vector_idx(v)) WHERE year >= 2000;
         INSERT INTO p VALUES (1, 2020, vector32('[1, 0]')), (2, 2020, vector32('[0, 1]'));",
    );
    let all = "SELECT id FROM vector_top_k('p_all', vector32('[1, 0]'), 5)";
    let new = "SELECT id FROM vector_top_k('p_new', vector32('[1, 0]'), 5)";
    assert_eq!(ids(&conn, all), [1, 2]);
    assert_eq!(ids(&conn, new), [1, 2]);
    exec(
        &conn,
        "INSERT OR REPLACE INTO p VALUES (1, 1990, vector32('[1, 0]'))",
    );
    exec(&conn, "REPLACE INTO p VALUES (2, 2021, NULL)");
    assert_eq!(ids(&conn, all), [1]);
    assert_eq!(ids(&conn, new), Vec::<i64>::new());
}

#[test]
fn forms_from_libsqls_own_tests() {
    // libsql_vector_index.test: `SELECT rowid FROM vector_top_k(...)` is the id, k may be an
    // integral REAL, and 'type=diskann' is a setting.
    let conn = open();
    exec(
        &conn,
        "CREATE TABLE t (v FLOAT32(3));
         CREATE INDEX t_idx ON t (libsql_vector_idx(v, 'type=diskann', 'metric=cos'));
         INSERT INTO t VALUES (vector('[1,2,3]')), (vector('[2,3,4]')), (vector('[3,4,5]')), (vector('[4,5,6]'));",
    );
    assert_eq!(
        ids(
            &conn,
            "SELECT rowid FROM vector_top_k('t_idx', vector('[3,4,5]'), 4)"
        ),
        [3, 4, 2, 1]
    );
    assert_eq!(
        ids(
            &conn,
            "SELECT id FROM vector_top_k('t_idx', '[1,2,3]', CAST(1 AS REAL))"
        ),
        [1]
    );
}

/// The hidden table's node rows (rowid, links blob), in rowid order.
fn hidden_nodes(conn: &Connection) -> Vec<(i64, Vec<u8>)> {
    let tables = strings(
        conn,
        "select name from sqlite_master where name like '\\_\\_vecsql\\_idx\\_%\\_hnsw00\\_nodes' escape '\\'",
    );
    assert_eq!(tables.len(), 1, "{tables:?}");
    let mut s = conn
        .prepare(&format!(
            "select rowid, links from \"{}\" order by rowid",
            tables[0]
        ))
        .unwrap();
    let rows = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>();
    rows.unwrap()
}

#[test]
fn an_index_on_a_filled_table_is_linked_in_one_batch_build_on_any_thread_count() {
    use vecsql::vec0::index::hnsw::{set_build_threads, BATCH_BUILD_ROWS};
    let n = BATCH_BUILD_ROWS as i64 + 500;
    let vector = |i: i64| -> String {
        let v: Vec<String> = (0..6)
            .map(|d| {
                format!(
                    "{:.5}",
                    ((i * 7919 + d * 104_729) % 10_007) as f64 / 10_007.0
                )
            })
            .collect();
        format!("[{}]", v.join(","))
    };
    let build = |threads: usize| {
        set_build_threads(threads);
        let conn = open();
        exec(
            &conn,
            "create table m(id integer primary key, e F32_BLOB(6))",
        );
        let tx = conn.unchecked_transaction().unwrap();
        for i in 1..=n {
            tx.execute("insert into m values (?, vector32(?))", (i, vector(i)))
                .unwrap();
        }
        tx.commit().unwrap();
        exec(
            &conn,
            "create index m_idx on m(libsql_vector_idx(e, 'metric=l2'))",
        );
        // Every row is found by its own vector (the hidden table is filled on first use).
        for i in [1, n / 2, n] {
            let got = ids(
                &conn,
                &format!(
                    "select id from vector_top_k('m_idx', vector32('{}'), 1)",
                    vector(i)
                ),
            );
            assert_eq!(got, [i]);
        }
        let nodes = hidden_nodes(&conn);
        assert_eq!(
            nodes.iter().map(|r| r.0).collect::<Vec<_>>(),
            (1..=n).collect::<Vec<_>>()
        );
        // One build, not one link (and one generation) per row.
        let meta = strings(
            &conn,
            "select name from sqlite_master where name like '\\_\\_vecsql\\_idx\\_%\\_hnsw00\\_meta' escape '\\'",
        );
        let generation = ids(
            &conn,
            &format!("select value from \"{}\" where key = 'generation'", meta[0]),
        );
        assert!(generation[0] < 10, "generation {generation:?}");
        // REINDEX builds it again, to the same bytes.
        exec(&conn, "reindex m_idx");
        ids(
            &conn,
            &format!(
                "select id from vector_top_k('m_idx', vector32('{}'), 1)",
                vector(1)
            ),
        );
        assert!(hidden_nodes(&conn) == nodes, "REINDEX built another graph");
        nodes
    };
    let one = build(1);
    let two = build(2);
    set_build_threads(0);
    assert!(one == two, "1 and 2 threads built other graphs");
}
