//! libSQL's vector functions: `vector()` and its typed variants, `vector_extract()`,
//! `vector_distance_cos()` and `vector_distance_l2()`. Parsing, conversion, printing and the
//! distance arithmetic are libSQL's own rules, reproduced in `vecsql_core::format::libsql`, so
//! results match libSQL bit for bit; this module only adapts SQL arguments and messages.

use vecsql_core::format::libsql;
use vecsql_core::{ElementType, Vector, VectorError};

use crate::error::{SqlError, SqlResult};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};

fn sql_error(e: VectorError) -> SqlError {
    SqlError::new(e.to_string())
}

/// A vector from libSQL's text form (parsed as `text_type`) or any libSQL blob. libSQL rejects
/// NULL and numbers rather than passing NULL through, and so does vecsql.
fn input(fname: &str, arg: &SqlArg<'_>, text_type: ElementType) -> SqlResult<Vector> {
    let v = match arg.value {
        SqlValue::Text(t) => {
            let text = std::str::from_utf8(t)
                .map_err(|_| SqlError::new(format!("{fname}: vector text is not valid UTF-8")))?;
            libsql::vector_from_text(text, text_type).map_err(sql_error)?
        }
        SqlValue::Blob(b) => libsql::decode(b).map_err(sql_error)?,
        other => {
            return Err(SqlError::new(format!(
                "vector: unexpected value type: got {}, expected TEXT or BLOB",
                other.storage_class()
            )))
        }
    };
    if v.dimensions() > vecsql_core::MAX_DIMENSIONS {
        return Err(SqlError::new(format!(
            "{fname}: vector has {} dimensions, more than the maximum of {}",
            v.dimensions(),
            vecsql_core::MAX_DIMENSIONS
        )));
    }
    Ok(v)
}

fn typed(fname: &str, ty: ElementType, args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let v = input(fname, &args[0], ty)?;
    let v = libsql::convert(&v, ty).map_err(sql_error)?;
    Ok(SqlOutput::blob(libsql::encode(&v).map_err(sql_error)?))
}

pub fn vector(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector", ElementType::Float32, args)
}

pub fn vector32(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector32", ElementType::Float32, args)
}

pub fn vector64(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector64", ElementType::Float64, args)
}

pub fn vector16(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector16", ElementType::Float16, args)
}

pub fn vectorb16(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vectorb16", ElementType::BFloat16, args)
}

pub fn vector8(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector8", ElementType::Float8, args)
}

pub fn vector1bit(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector1bit", ElementType::Bit, args)
}

pub fn vector_extract(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let v = input("vector_extract", &args[0], ElementType::Float32)?;
    Ok(SqlOutput::Text(libsql::format_text(&v)))
}

/// libSQL passes distances through f32; NaN (a zero vector) reads as NULL in SQL.
fn distance_output(d: f64) -> SqlOutput {
    if d.is_nan() {
        SqlOutput::Null
    } else {
        SqlOutput::Real(d)
    }
}

pub fn vector_distance_cos(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let a = input("vector_distance_cos", &args[0], ElementType::Float32)?;
    let b = input("vector_distance_cos", &args[1], ElementType::Float32)?;
    Ok(distance_output(
        libsql::distance_cos(&a, &b).map_err(sql_error)?,
    ))
}

pub fn vector_distance_l2(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let a = input("vector_distance_l2", &args[0], ElementType::Float32)?;
    let b = input("vector_distance_l2", &args[1], ElementType::Float32)?;
    Ok(distance_output(
        libsql::distance_l2(&a, &b).map_err(sql_error)?,
    ))
}
