//! libSQL's vector functions: `vector()` and its typed variants, `vector_extract()`,
//! `vector_distance_cos()` and `vector_distance_l2()`, over libSQL's blob layouts.

use vecsql_core::format::libsql;
use vecsql_core::vector::json::parse_json_array;
use vecsql_core::{distance, ElementType, Vector, VectorError};

use crate::error::{SqlError, SqlResult};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};

/// A vector from libSQL's text form or any of its blob layouts; None for NULL.
fn input(fname: &str, arg: &SqlArg<'_>) -> SqlResult<Option<Vector>> {
    let v = match arg.value {
        SqlValue::Null => return Ok(None),
        SqlValue::Text(t) => {
            let values = parse_json_array(t).map_err(|e| match e {
                VectorError::Json { offset, reason } => SqlError::new(format!(
                    "{fname}: invalid vector text at byte {offset}: {reason}"
                )),
                other => SqlError::from(other).context(fname),
            })?;
            Vector::Float64(values)
        }
        SqlValue::Blob(b) => libsql::decode(b).map_err(|e| SqlError::from(e).context(fname))?,
        other => {
            return Err(SqlError::new(format!(
                "{fname}: expected a vector as TEXT or BLOB, found {}",
                other.type_name()
            )))
        }
    };
    Vector::check_dimensions(v.dimensions()).map_err(|e| SqlError::from(e).context(fname))?;
    Ok(Some(v))
}

/// Converts `v` to `ty`; FLOAT8 and FLOAT1BIT inputs go through their real values.
fn convert(fname: &str, v: Vector, ty: ElementType) -> SqlResult<Vector> {
    if v.element_type() == ty {
        return Ok(v);
    }
    Vector::from_f64(ty, &v.to_f64()).map_err(|e| SqlError::from(e).context(fname))
}

fn typed(fname: &str, ty: ElementType, args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    match input(fname, &args[0])? {
        None => Ok(SqlOutput::Null),
        Some(v) => {
            let v = convert(fname, v, ty)?;
            Ok(SqlOutput::blob(
                libsql::encode(&v).map_err(|e| SqlError::from(e).context(fname))?,
            ))
        }
    }
}

pub fn vector32(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector32", ElementType::Float32, args)
}

pub fn vector(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    typed("vector", ElementType::Float32, args)
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
    Ok(match input("vector_extract", &args[0])? {
        None => SqlOutput::Null,
        Some(v) => SqlOutput::Text(libsql::format_text(&v)),
    })
}

fn pair(fname: &str, args: &[SqlArg<'_>]) -> SqlResult<Option<(Vector, Vector)>> {
    let (Some(a), Some(b)) = (input(fname, &args[0])?, input(fname, &args[1])?) else {
        return Ok(None);
    };
    if a.element_type() != b.element_type() {
        return Err(SqlError::new(format!(
            "{fname}: vectors must have the same type: {} vs {}",
            a.element_type().name(),
            b.element_type().name()
        )));
    }
    if a.dimensions() != b.dimensions() {
        return Err(SqlError::new(format!(
            "{fname}: dimension mismatch: {} vs {}",
            a.dimensions(),
            b.dimensions()
        )));
    }
    Ok(Some((a, b)))
}

pub fn vector_distance_cos(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let Some((a, b)) = pair("vector_distance_cos", args)? else {
        return Ok(SqlOutput::Null);
    };
    let d = match (&a, &b) {
        (Vector::Float64(x), Vector::Float64(y)) => distance::cosine_f64(x, y),
        (Vector::Float32(x), Vector::Float32(y)) => distance::cosine_f32(x, y) as f64,
        (Vector::Float16(x), Vector::Float16(y)) => distance::cosine_f16(x, y) as f64,
        (Vector::BFloat16(x), Vector::BFloat16(y)) => distance::cosine_bf16(x, y) as f64,
        _ => distance::cosine_f64(&a.to_f64(), &b.to_f64()),
    };
    Ok(if d.is_nan() {
        SqlOutput::Null
    } else {
        SqlOutput::Real(d)
    })
}

pub fn vector_distance_l2(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let Some((a, b)) = pair("vector_distance_l2", args)? else {
        return Ok(SqlOutput::Null);
    };
    let d = match (&a, &b) {
        (Vector::Float64(x), Vector::Float64(y)) => distance::l2_f64(x, y),
        (Vector::Float32(x), Vector::Float32(y)) => distance::l2_f32(x, y) as f64,
        (Vector::Float16(x), Vector::Float16(y)) => distance::l2_f16(x, y) as f64,
        (Vector::BFloat16(x), Vector::BFloat16(y)) => distance::l2_bf16(x, y) as f64,
        _ => distance::l2_f64(&a.to_f64(), &b.to_f64()),
    };
    Ok(SqlOutput::Real(d))
}
