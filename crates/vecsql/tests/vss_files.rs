//! Database files written by real sqlite-vss 0.1.2 (tests/python/gen_sqlite_vss_fixture.py)
//! open in vecsql: every row of Flat,IDMap2 (two columns, deleted rows), IVF and HNSW tables
//! is read out of the Faiss streams on first use, searches agree with sqlite-vss's answers,
//! and the PQ table (lossy codes) gives a clear error.

mod vec0_support;

use rusqlite::types::Value;
use vec0_support::*;

fn fixture() -> (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vss.db");
    std::fs::copy(here.join("sqlite_vss_0.1.2.db"), &path).unwrap();
    let answers: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(here.join("sqlite_vss_0.1.2.json")).unwrap())
            .unwrap();
    (dir, path, answers)
}

fn floats(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn sqlite_vss_files_are_converted_keeping_every_row() {
    let (_dir, path, answers) = fixture();
    let conn = open(&path);
    for (table, expected) in answers["rows"].as_object().unwrap() {
        let expected = expected.as_object().unwrap();
        let columns: Vec<&String> = expected
            .values()
            .next()
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .collect();
        let got = rows(
            &conn,
            &format!(
                "select rowid, {} from {table} order by rowid",
                columns
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        assert_eq!(got.len(), expected.len(), "{table}");
        for row in got {
            let Value::Integer(id) = row[0] else { panic!() };
            let want = &expected[&id.to_string()];
            for (i, c) in columns.iter().enumerate() {
                let Value::Blob(b) = &row[i + 1] else {
                    panic!("{table}.{c} of {id}: {:?}", row[i + 1])
                };
                let want: Vec<f32> = want[c.as_str()]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                assert_eq!(floats(b), want, "{table}.{c} of row {id}");
            }
        }
    }
    for search in answers["searches"].as_array().unwrap() {
        let q: Vec<f32> = search["query"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let blob: Vec<u8> = q.iter().flat_map(|f| f.to_le_bytes()).collect();
        let got = rows_with(
            &conn,
            &format!(
                "select rowid, distance from {} where vss_search({}, vss_search_params(?, {}))",
                search["table"].as_str().unwrap(),
                search["column"].as_str().unwrap(),
                search["k"]
            ),
            [blob],
        );
        let want = search["answer"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g[0], Value::Integer(w[0].as_i64().unwrap()), "{search}");
            let Value::Real(d) = g[1] else { panic!() };
            assert!((d - w[1].as_f64().unwrap()).abs() < 1e-5, "{search}: {d}");
        }
    }
    // Converted once: the Faiss copies are gone and writes work.
    assert_eq!(int(&conn, "select count(*) from two_index"), 0);
    exec(&conn, "insert into two(rowid, a) values (100, '[0,0,0,0]')");
    drop(conn);
    let conn = open(&path);
    assert_eq!(
        ints(
            &conn,
            "select rowid from two where vss_search(a, vss_search_params('[0,0,0,0]', 1))"
        ),
        vec![100]
    );
    assert_eq!(int(&conn, "select count(*) from ivf"), 30);
    assert_eq!(int(&conn, "select count(*) from hnsw"), 25);
}

#[test]
fn lossy_faiss_indexes_get_a_clear_error() {
    let (_dir, path, _) = fixture();
    let conn = open(&path);
    let message = error(&conn, "select count(*) from pq");
    assert!(message.contains("vss0 table \"pq\""), "{message}");
    assert!(message.contains("IVF2,PQ2x4"), "{message}");
    assert!(message.contains("compressed codes"), "{message}");
    // The table is left as it was.
    assert_eq!(int(&conn, "select count(*) from pq_index"), 1);
}
