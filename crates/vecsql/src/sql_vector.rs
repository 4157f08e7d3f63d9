//! Reading vectors out of SQL arguments with sqlite-vec's rules: the subtype picks the element
//! type (none or float32's means float32), a blob is the compact form, text is JSON.

use vecsql_core::format::sqlite_vec;
use vecsql_core::vector::json::{parse_json_array, parse_json_integers, starts_like_array};
use vecsql_core::vector::{SUBTYPE_BIT, SUBTYPE_FLOAT32, SUBTYPE_INT8};
use vecsql_core::{Vector, VectorError};

use crate::error::{SqlError, SqlResult};
use crate::ffi::value::SUBTYPE_JSON;
use crate::ffi::{SqlArg, SqlOutput, SqlValue};

/// Parses JSON text into numbers, with sqlite-vec's message for text that is not an array.
pub fn json_numbers(text: &[u8]) -> SqlResult<Vec<f64>> {
    json_values(text, parse_json_array)
}

fn json_values(
    text: &[u8],
    parse: fn(&[u8]) -> Result<Vec<f64>, VectorError>,
) -> SqlResult<Vec<f64>> {
    if text.is_empty() {
        return Err(VectorError::Empty.into());
    }
    if !starts_like_array(text) {
        return Err(SqlError::new(
            "JSON array parsing error: Input does not start with '['",
        ));
    }
    match parse(text) {
        Ok(values) if values.is_empty() => Err(VectorError::Empty.into()),
        Ok(values) => Ok(values),
        Err(VectorError::Json { offset, reason }) => Err(SqlError::new(format!(
            "JSON parsing error at byte {offset}: {reason}"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Refuses empty vectors. There is no upper bound: sqlite-vec's functions take vectors of any
/// length (its own tests use a million elements), so vecsql's do too; libSQL's `vector*`
/// functions keep libSQL's 65,536 (see `libsql.rs`).
fn check_dims(dims: usize) -> SqlResult<()> {
    if dims == 0 {
        Err(VectorError::Empty.into())
    } else {
        Ok(())
    }
}

/// A float32 vector from a blob (any subtype) or JSON text.
pub fn f32_vector(value: &SqlValue<'_>) -> SqlResult<Vec<f32>> {
    let values = match value {
        SqlValue::Blob(b) => sqlite_vec::decode_f32(b)?,
        SqlValue::Text(t) => json_numbers(t)?
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                let f = x as f32;
                if f.is_finite() {
                    Ok(f)
                } else {
                    Err(SqlError::new(format!(
                        "JSON parsing error: element {i} ({x}) is out of float32 range"
                    )))
                }
            })
            .collect::<SqlResult<Vec<f32>>>()?,
        other => {
            return Err(SqlError::new(format!(
                "Input must have type BLOB (compact format) or TEXT (JSON), found {}",
                other.storage_class()
            )))
        }
    };
    check_dims(values.len())?;
    Ok(values)
}

/// An int8 vector from a blob or JSON text of integers in -128..=127.
pub fn i8_vector(value: &SqlValue<'_>) -> SqlResult<Vec<i8>> {
    let values = match value {
        SqlValue::Blob(b) => sqlite_vec::decode_i8(b)?,
        SqlValue::Text(t) => json_values(t, parse_json_integers)?
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                if !(-128.0..=127.0).contains(&x) {
                    Err(SqlError::new(format!(
                        "JSON parsing error: value out of range for int8 (element {i} is {x})"
                    )))
                } else {
                    Ok(x as i8)
                }
            })
            .collect::<SqlResult<Vec<i8>>>()?,
        _ => return Err(SqlError::new("Unknown type for int8 vector.")),
    };
    check_dims(values.len())?;
    Ok(values)
}

/// Any sqlite-vec vector, typed by the argument's subtype.
pub fn vector(arg: &SqlArg<'_>) -> SqlResult<Vector> {
    match arg.subtype {
        0 | SUBTYPE_FLOAT32 | SUBTYPE_JSON => Ok(Vector::Float32(f32_vector(&arg.value)?)),
        SUBTYPE_INT8 => Ok(Vector::Int8(i8_vector(&arg.value)?)),
        SUBTYPE_BIT => match arg.value {
            SqlValue::Blob(b) => {
                let bits = sqlite_vec::decode_bit(b)?;
                check_dims(bits.dims())?;
                Ok(Vector::Bit(bits))
            }
            _ => Err(SqlError::new("Unknown type for bitvector.")),
        },
        other => Err(SqlError::new(format!("Unknown subtype: {other}"))),
    }
}

/// Two vectors of one type and length, with sqlite-vec's messages naming which was wrong.
pub fn vector_pair(a: &SqlArg<'_>, b: &SqlArg<'_>) -> SqlResult<(Vector, Vector)> {
    let a = vector(a).map_err(|e| e.context("Error reading 1st vector"))?;
    let b = vector(b).map_err(|e| e.context("Error reading 2nd vector"))?;
    if a.element_type() != b.element_type() {
        return Err(SqlError::new(format!(
            "Vector type mistmatch. First vector has type {}, while the second has type {}.",
            a.element_type().name(),
            b.element_type().name()
        )));
    }
    if a.dimensions() != b.dimensions() {
        return Err(SqlError::new(format!(
            "Vector dimension mistmatch. First vector has {} dimensions, while the second has {} dimensions.",
            a.dimensions(),
            b.dimensions()
        )));
    }
    Ok((a, b))
}

/// A vector as sqlite-vec returns it: its compact blob with the type's subtype.
pub fn vector_output(v: &Vector) -> SqlResult<SqlOutput> {
    let bytes = match v {
        Vector::Float32(x) => sqlite_vec::encode_f32(x),
        Vector::Int8(x) => sqlite_vec::encode_i8(x),
        Vector::Bit(x) => x.bytes().to_vec(),
        other => {
            return Err(SqlError::new(format!(
                "{} vectors have no sqlite-vec blob form",
                other.element_type().name()
            )))
        }
    };
    Ok(SqlOutput::Blob {
        bytes,
        subtype: v.element_type().sqlite_vec_subtype(),
    })
}

/// SQLite's `sqlite3_value_int` conversion, which sqlite-vec uses for integer arguments:
/// NULL and non-numeric text read as 0, reals truncate, 64-bit values wrap to 32 bits.
pub fn as_c_int(value: &SqlValue<'_>) -> i32 {
    let wide: i64 = match value {
        SqlValue::Integer(i) => *i,
        SqlValue::Real(f) => *f as i64,
        SqlValue::Text(t) | SqlValue::Blob(t) => leading_number(t) as i64,
        SqlValue::Null => 0,
    };
    wide as i32
}

/// The numeric prefix of text, as SQLite reads it when converting text to a number.
fn leading_number(text: &[u8]) -> f64 {
    let s = std::str::from_utf8(text).unwrap_or("").trim_start();
    let end = s
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0))
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    s[..end].parse().unwrap_or(0.0)
}
