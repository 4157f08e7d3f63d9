//! The JSON vector parser (`vecsql_core::vector::json`), libSQL's text parser, and the SQL
//! functions that read JSON text.

use rusqlite::types::Value;
use vecsql_core::format::libsql;
use vecsql_core::vector::json::{
    format_json_array, parse_json_array, parse_json_integers, starts_like_array,
};
use vecsql_core::{VectorError, MAX_DIMENSIONS};

use super::{bits64, sql, LIBSQL_CONSTRUCTORS, LIBSQL_TYPES};

pub fn json(data: &[u8]) {
    let parsed = parse_json_array(data);
    match &parsed {
        Ok(values) => {
            assert!(
                values.iter().all(|v| v.is_finite()),
                "non-finite value accepted"
            );
            assert!(
                starts_like_array(data),
                "accepted text that does not start with '['"
            );
            let text = format_json_array(values);
            let again = parse_json_array(text.as_bytes())
                .unwrap_or_else(|e| panic!("formatted {text} does not parse: {e}"));
            assert_eq!(bits64(values), bits64(&again), "{text} does not round-trip");
        }
        Err(VectorError::Json { offset, reason }) => {
            assert!(
                *offset <= data.len(),
                "offset {offset} past the input: {reason}"
            );
        }
        Err(other) => panic!("the JSON parser returned a non-JSON error: {other:?}"),
    }
    match parse_json_integers(data) {
        Ok(ints) => {
            let floats = parsed.as_ref().expect("integers parse as numbers too");
            assert_eq!(
                bits64(&ints),
                bits64(floats),
                "integer and number parses differ"
            );
            assert!(ints.iter().all(|v| v.fract() == 0.0), "fractional integer");
        }
        Err(VectorError::Json { offset, .. }) => assert!(offset <= data.len()),
        Err(other) => panic!("the JSON parser returned a non-JSON error: {other:?}"),
    }

    // libSQL's text form: laxer, no byte offsets; it must never panic, and every conversion
    // of what it accepts must succeed.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(values) = libsql::parse_text(text) {
            for ty in LIBSQL_TYPES {
                if let Ok(v) = libsql::vector_from_text(text, ty) {
                    assert_eq!(v.dimensions(), values.len(), "{ty:?} from {text:?}");
                    let blob = libsql::encode(&v).expect("libSQL types encode");
                    let back = libsql::decode(&blob).expect("encoded blob decodes");
                    assert_eq!(back.dimensions(), v.dimensions());
                    let _ = libsql::format_text(&v);
                }
            }
        }
    }

    sql::with_shared_connection(|conn| check_sql(conn, data, &parsed));
}

/// `vec_f32`/`vec_int8` of the text succeed exactly when the Rust parser accepts it and the
/// numbers fit the type, and give the parsed numbers; the libSQL functions never fail
/// internally.
fn check_sql(conn: &rusqlite::Connection, data: &[u8], parsed: &Result<Vec<f64>, VectorError>) {
    // CAST(blob AS TEXT) hands the bytes to the function unchanged, even invalid UTF-8.
    let f32_result = sql::value(conn, "select vec_f32(cast(?1 as text))", [data]);
    let no_nul = !data.contains(&0);
    let f32_expected = parsed.as_ref().ok().filter(|v| {
        !v.is_empty() && v.len() <= MAX_DIMENSIONS && v.iter().all(|&x| (x as f32).is_finite())
    });
    match (&f32_result, f32_expected) {
        (Ok(Value::Blob(blob)), Some(values)) => {
            let want: Vec<u8> = values
                .iter()
                .flat_map(|&x| (x as f32).to_le_bytes())
                .collect();
            assert_eq!(blob, &want, "vec_f32 differs from the parser");
        }
        (Ok(other), _) => {
            panic!("vec_f32 accepted {data:?} giving {other:?}; parser said {parsed:?}")
        }
        (Err(message), Some(_)) if no_nul => {
            panic!("vec_f32 refused {data:?} ({message}) that the parser accepts")
        }
        (Err(message), _) => assert!(!message.is_empty()),
    }

    let i8_result = sql::value(conn, "select vec_int8(cast(?1 as text))", [data]);
    let i8_expected = parse_json_integers(data).ok().filter(|v| {
        !v.is_empty() && v.len() <= MAX_DIMENSIONS && v.iter().all(|x| (-128.0..=127.0).contains(x))
    });
    match (&i8_result, i8_expected) {
        (Ok(Value::Blob(blob)), Some(values)) => {
            let want: Vec<u8> = values.iter().map(|&x| x as i8 as u8).collect();
            assert_eq!(blob, &want, "vec_int8 differs from the parser");
        }
        (Ok(other), _) => panic!("vec_int8 accepted {data:?} giving {other:?}"),
        (Err(message), Some(_)) if no_nul => {
            panic!("vec_int8 refused {data:?} ({message}) that the parser accepts")
        }
        (Err(_), _) => {}
    }

    for function in LIBSQL_CONSTRUCTORS {
        let sql_text = format!("select vector_extract({function}(cast(?1 as text)))");
        let _ = sql::value(conn, &sql_text, [data]);
    }
    let _ = sql::query(
        conn,
        "select rowid, value from vec_each(cast(?1 as text))",
        [data],
    );
    let _ = sql::value(conn, "select vec_to_json(cast(?1 as text))", [data]);
}
