//! vec0 answers filters as an ordinary table with the same declared column types would:
//! SQLite's affinity turns `'3'` into 3 for integer columns and 3 into `'3'` for text ones,
//! then values compare in SQLite's order (NULL matches nothing, numbers < text < blobs).
//! Property test: random typed values in point lookups, IN lists and KNN filters on the key,
//! metadata and partition columns, against an ordinary table holding the same rows.

mod vec0_support;

use proptest::prelude::*;
use rusqlite::types::Value;
use vec0_support::*;

const ROWS: i64 = 24;

fn fixture() -> rusqlite::Connection {
    let conn = db();
    exec(
        &conn,
        "create virtual table v using vec0(
            p integer partition key, tp text partition key, emb float[2],
            n integer, f float, b boolean, tag text, chunk_size = 8);
         create table o(rowid integer primary key, p integer, tp text, emb blob,
            n integer, f float, b boolean, tag text);
         create virtual table vt using vec0(id text primary key, emb float[2]);
         create table ot(id text primary key, emb blob);",
    );
    let tags = [
        "3",
        "-1",
        "1.5",
        "abc",
        "",
        "10",
        "a longer text over twelve bytes",
    ];
    for i in 1..=ROWS {
        let emb = f32_blob(&[i as f32, (i % 5) as f32]);
        let row = rusqlite::params![
            i,
            i % 3,
            ["1", "2", "x"][(i % 3) as usize],
            emb,
            i % 7 - 3,
            (i % 6) as f64 / 2.0 - 1.0,
            i % 2,
            tags[(i % tags.len() as i64) as usize],
        ];
        conn.execute(
            "insert into v(rowid, p, tp, emb, n, f, b, tag) values (?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        .unwrap();
        conn.execute("insert into o values (?, ?, ?, ?, ?, ?, ?, ?)", row)
            .unwrap();
        let key =
            ["3", "10", "2.5", "abc", "-4", "1e2"][(i % 6) as usize].to_string() + &i.to_string();
        let key = if i % 4 == 0 { i.to_string() } else { key };
        conn.execute(
            "insert into vt(id, emb) values (?, ?)",
            rusqlite::params![key, f32_blob(&[i as f32, 0.0])],
        )
        .unwrap();
        conn.execute(
            "insert into ot values (?, ?)",
            rusqlite::params![key, f32_blob(&[i as f32, 0.0])],
        )
        .unwrap();
    }
    conn
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (-4i64..30).prop_map(Value::Integer),
        (-8i64..60).prop_map(|x| Value::Real(x as f64 / 2.0)),
        (-4i64..30).prop_map(|x| Value::Text(x.to_string())),
        (-8i64..60).prop_map(|x| Value::Text(format!("{}", x as f64 / 2.0))),
        prop::sample::select(vec![
            " 3 ",
            "+4",
            "3.0",
            "1e1",
            "0x10",
            "abc",
            "",
            "x",
            "1",
            "2",
            "-1",
            "1.5",
            "10",
            "a longer text over twelve bytes",
            "40",
            "100",
            "4",
            "8",
            "12",
        ])
        .prop_map(|s| Value::Text(s.to_string())),
        prop::collection::vec(any::<u8>(), 0..3).prop_map(Value::Blob),
    ]
}

fn op() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="])
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort();
    v
}

proptest! {
    // 256 cases unless PROPTEST_CASES says otherwise (memcheck runs 4 under valgrind).
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn filters_compare_like_an_ordinary_table(
        column in prop::sample::select(vec!["n", "f", "b", "tag", "p", "tp", "rowid"]),
        op in op(),
        a in value(),
        b in value(),
        c in value(),
    ) {
        let conn = fixture();
        let query = Value::Blob(f32_blob(&[0.0, 0.0]));
        // ?1 is the query vector in every statement (unused by the ordinary table).
        let run = |sql: &str, values: &[&Value]| {
            sorted(ints_with(
                &conn,
                sql,
                rusqlite::params_from_iter(std::iter::once(&query).chain(values.iter().copied())),
            ))
        };
        let check = |cond: &str, values: &[&Value]| -> Result<(), TestCaseError> {
            let want = run(&format!("select rowid from o where ?1 is not null and {cond}"), values);
            // A KNN with k covering every row, so the filter alone decides the answer.
            let knn = run(&format!("select rowid from v where emb match ?1 and k = 100 and {cond}"), values);
            prop_assert_eq!(&knn, &want, "KNN: {} with {:?}", cond, values);
            // Point lookups and scans follow the same rules.
            let scan = run(&format!("select rowid from v where ?1 is not null and {cond}"), values);
            prop_assert_eq!(&scan, &want, "scan: {} with {:?}", cond, values);
            Ok(())
        };
        check(&format!("{column} {op} ?2"), &[&a])?;
        check(&format!("{column} in (?2, ?3, ?4)"), &[&a, &b, &c])?;
        check(&format!("{column} in (?2, ?3) and {column} {op} ?4"), &[&a, &b, &c])?;
    }

    #[test]
    fn text_primary_keys_compare_like_an_ordinary_table(
        op in op(),
        a in value(),
        b in value(),
    ) {
        let conn = fixture();
        let query = Value::Blob(f32_blob(&[0.0, 0.0]));
        let run = |sql: &str, values: &[&Value]| {
            let mut keys: Vec<String> = rows_with(
                &conn,
                sql,
                rusqlite::params_from_iter(std::iter::once(&query).chain(values.iter().copied())),
            )
            .into_iter()
            .map(|r| text(&r[0]).to_string())
            .collect();
            keys.sort();
            keys
        };
        for (cond, values) in [
            (format!("id {op} ?2"), vec![&a]),
            ("id in (?2, ?3)".to_string(), vec![&a, &b]),
            ("id = ?2".to_string(), vec![&a]),
        ] {
            let want = run(&format!("select id from ot where ?1 is not null and {cond}"), &values);
            let knn = run(&format!("select id from vt where emb match ?1 and k = 100 and {cond}"), &values);
            prop_assert_eq!(&knn, &want, "KNN: {} with {:?}", cond, values);
            let scan = run(&format!("select id from vt where ?1 is not null and {cond}"), &values);
            prop_assert_eq!(&scan, &want, "scan: {} with {:?}", cond, values);
        }
    }
}

#[test]
fn the_reported_cases() {
    let conn = fixture();
    assert_eq!(
        ints(&conn, "select rowid from v where rowid = '3'"),
        vec![3]
    );
    assert_eq!(
        ints(&conn, "select rowid from v where rowid = 3.0"),
        vec![3]
    );
    assert_eq!(
        ints(&conn, "select rowid from v where rowid in ('2', '3')"),
        vec![2, 3]
    );
    assert_eq!(
        sorted(ints(
            &conn,
            "select rowid from v where emb match '[0,0]' and k = 5 and rowid in ('2', '3')"
        )),
        vec![2, 3]
    );
    assert_eq!(
        ints(
            &conn,
            "select count(*) from v where emb match '[0,0]' and k = 100 and tag = 3"
        ),
        ints(&conn, "select count(*) from o where tag = 3")
    );
}
