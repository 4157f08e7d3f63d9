//! sqlite-vec's second and third entry points through a real SQLite connection: the numpy
//! functions (`vec_npy_file`, `vec_npy_each`) and the static blobs (`vec_static_blob_from_raw`,
//! `vec_static_blobs`, `vec_static_blob_entries`).

use rusqlite::types::Value;
use rusqlite::{params, Connection};

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A version-1 `.npy` file of float32 `rows`, padded like numpy pads its header.
fn npy(rows: &[&[f32]], shape: &str) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for r in rows {
        out.extend_from_slice(&f32_bytes(r));
    }
    out
}

fn numpy_db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    vecsql::register(&conn).unwrap();
    vecsql::register_numpy(&conn).unwrap();
    conn
}

fn rows(conn: &Connection, sql: &str, arg: Value) -> rusqlite::Result<Vec<(i64, Vec<u8>)>> {
    let mut stmt = conn.prepare(sql)?;
    let out = stmt
        .query_map([arg], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect();
    out
}

fn err_text(r: rusqlite::Result<impl std::fmt::Debug>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn vec_npy_each_reads_blobs() {
    let conn = numpy_db();
    let sql = "select rowid, vector from vec_npy_each(?)";
    let two = npy(&[&[1.1, 2.2, 3.3], &[9.9, 8.8, 7.7]], "(2, 3)");
    assert_eq!(
        rows(&conn, sql, Value::Blob(two)).unwrap(),
        vec![
            (0, f32_bytes(&[1.1, 2.2, 3.3])),
            (1, f32_bytes(&[9.9, 8.8, 7.7]))
        ]
    );
    // A one-dimensional array is a single vector; an empty one has no rows.
    let one = npy(&[&[1.0, 2.0]], "(2,)");
    assert_eq!(
        rows(&conn, sql, Value::Blob(one)).unwrap(),
        vec![(0, f32_bytes(&[1.0, 2.0]))]
    );
    assert!(rows(&conn, sql, Value::Blob(npy(&[], "(0,)")))
        .unwrap()
        .is_empty());
    // The vectors carry sqlite-vec's float32 subtype into vec_* functions.
    let json: String = conn
        .query_row(
            "select vec_to_json(vector) from vec_npy_each(?)",
            [npy(&[&[0.5]], "(1, 1)")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(json, "[0.500000]");
}

#[test]
fn vec_npy_each_errors_match_sqlite_vec() {
    let conn = numpy_db();
    let sql = "select rowid, vector from vec_npy_each(?)";
    let e = |b: Vec<u8>| err_text(rows(&conn, sql, Value::Blob(b)));
    assert!(e(vec![]).contains("numpy array too short"));
    assert!(e(b"\x93NUMPX\x01\x00v\x00".to_vec())
        .contains("numpy array does not contain the 'magic' header"));
    assert!(e(b"\x93NUMPY\x01\x00v\x00".to_vec()).contains("numpy array header length is invalid"));
    let mut short = npy(&[&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0]], "(2, 4)");
    short.pop();
    assert!(e(short).contains("numpy array error: Expected a data size of 32, found 31"));
    let mut f8 = npy(&[&[1.0]], "(1, 1)");
    let at = f8.windows(5).position(|w| w == b"'<f4'").unwrap();
    f8[at + 2] = b'f';
    f8[at + 3] = b'8';
    assert!(e(f8).contains(
        "Error parsing numpy array: Only '<f4' values are supported in sqlite-vec numpy functions"
    ));
    assert!(
        err_text(conn.prepare("select * from vec_npy_each")).contains("input argument is required")
    );
}

#[test]
fn vec_npy_each_streams_files() {
    let conn = numpy_db();
    let dir = std::env::temp_dir().join(format!("vecsql-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.npy");
    // More vectors than one read buffer holds.
    let data: Vec<Vec<f32>> = (0..2500).map(|i| vec![i as f32, -(i as f32)]).collect();
    let refs: Vec<&[f32]> = data.iter().map(|v| v.as_slice()).collect();
    std::fs::write(&path, npy(&refs, "(2500, 2)")).unwrap();
    let sql = "select rowid, vector from vec_npy_each(vec_npy_file(?))";
    let got = rows(&conn, sql, Value::Text(path.to_string_lossy().into())).unwrap();
    assert_eq!(got.len(), 2500);
    assert_eq!(got[2499], (2499, f32_bytes(&[2499.0, -2499.0])));

    let missing = dir.join("missing.npy");
    assert!(err_text(rows(
        &conn,
        sql,
        Value::Text(missing.to_string_lossy().into())
    ))
    .contains("Could not open numpy file"));
    assert!(err_text(rows(&conn, sql, Value::Null)).contains("Could not open numpy file"));
    std::fs::write(&path, b"\x93NUMPY\x01\x00v").unwrap();
    assert!(
        err_text(rows(&conn, sql, Value::Text(path.to_string_lossy().into())))
            .contains("numpy array file too short")
    );
    // vec_npy_file() is an SQL NULL to everything but vec_npy_each.
    let t: String = conn
        .query_row("select typeof(vec_npy_file('x'))", [], |r| r.get(0))
        .unwrap();
    assert_eq!(t, "null");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn static_db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    vecsql::register(&conn).unwrap();
    vecsql::register_static_blobs(&conn).unwrap();
    conn
}

fn register(conn: &Connection, name: &str, data: &[f32], dims: usize) {
    conn.execute(
        "insert into temp.vec_static_blobs(name, data) select ?, vec_static_blob_from_raw(?, 'f32', ?, ?)",
        params![name, data.as_ptr() as i64, dims as i64, (data.len() / dims) as i64],
    )
    .unwrap();
    conn.execute_batch(&format!(
        "create virtual table \"{name}\" using vec_static_blob_entries({name})"
    ))
    .unwrap();
}

#[test]
fn static_blobs_scan_and_knn() {
    let conn = static_db();
    let z: Vec<f32> = (1..=5).flat_map(|i| [i as f32 / 10.0; 4]).collect();
    let y = vec![0.2f32, 0.3, 0.9, 0.8, 0.6, 0.5];
    register(&conn, "z", &z, 4);
    register(&conn, "y", &y, 2);
    let listed: Vec<(String, i64, i64)> = conn
        .prepare("select name, dimensions, count from vec_static_blobs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listed, vec![("z".into(), 4, 5), ("y".into(), 2, 3)]);

    let scan = rows(
        &conn,
        "select rowid, vector from y where ?1 is null",
        Value::Null,
    )
    .unwrap();
    assert_eq!(scan.len(), 3);
    assert_eq!(scan[1], (1, f32_bytes(&[0.9, 0.8])));

    let knn = |sql: &str| -> Vec<i64> {
        conn.prepare(sql)
            .unwrap()
            .query_map([f32_bytes(&[0.3; 4])], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    // Rows 1 and 3 are equally far from the query: sqlite-vec returns the higher one first.
    assert_eq!(
        knn("select rowid from z where vector match ? and k = 3 order by distance"),
        vec![2, 3, 1]
    );
    assert_eq!(
        knn("select rowid from z where vector match ? order by distance limit 2"),
        vec![2, 3]
    );
    assert_eq!(
        knn("select rowid from z where vector match ? and k = 100 order by distance").len(),
        5
    );
    let e = conn
        .query_row(
            "select rowid from z where vector match '[1, 2]' and k = 1 order by distance",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("dimension mismatch"), "{e}");
}

#[test]
fn static_blob_misuse_is_an_error_not_a_crash() {
    let conn = static_db();
    let e = |sql: &str| err_text(conn.execute_batch(sql));
    assert!(
        e("create virtual table nope using vec_static_blob_entries(nope)")
            .contains("no static blob named 'nope'")
    );
    assert!(
        e("insert into vec_static_blobs(name, data) values ('a', 1)")
            .contains("vec_static_blob_from_raw() value")
    );
    assert!(e("select vec_static_blob_from_raw(0, 'f32', 1, 1)").contains("address"));
    let data = [1.0f32; 4];
    for i in 0..16 {
        conn.execute(
            "insert into vec_static_blobs(name, data) select ?, vec_static_blob_from_raw(?, 'f32', 4, 1)",
            params![format!("b{i}"), data.as_ptr() as i64],
        )
        .unwrap();
    }
    let full = conn
        .execute(
            "insert into vec_static_blobs(name, data) select 'x', vec_static_blob_from_raw(?, 'f32', 4, 1)",
            [data.as_ptr() as i64],
        )
        .unwrap_err()
        .to_string();
    assert!(full.contains("at most 16"), "{full}");
    assert!(e("delete from vec_static_blobs").contains("cannot be deleted"));
}
