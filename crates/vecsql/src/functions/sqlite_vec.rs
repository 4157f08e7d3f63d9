//! sqlite-vec's scalar functions, with its results, subtypes and error messages (see
//! docs/sqlite-vec-behaviour.md), plus `vec_distance_dot` and a ranged `vec_quantize_int8`.

use vecsql_core::distance::{self, Metric};
use vecsql_core::quantize;
use vecsql_core::Vector;

use crate::error::{SqlError, SqlResult};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};
use crate::sql_vector::{as_c_int, f32_vector, i8_vector, vector, vector_output, vector_pair};

/// The sqlite-vec API level vecsql implements: tools that check `vec_version()` for features
/// must see a version that has them. `vecsql_version()` and `vec_debug()` name vecsql itself.
pub fn vec_version(_: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Text(crate::SQLITE_VEC_API_VERSION.to_string()))
}

pub fn vecsql_version(_: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Text(crate::VERSION.to_string()))
}

pub fn vec_debug(_: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Text(format!(
        "Version: {}\nEngine: vecsql {} (Rust)\nKernels: {}\nBuild: {}",
        crate::SQLITE_VEC_API_VERSION,
        crate::VERSION,
        distance::kernel_backend(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    )))
}

pub fn vec_f32(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    vector_output(&Vector::Float32(f32_vector(&args[0].value)?))
}

pub fn vec_int8(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    vector_output(&Vector::Int8(i8_vector(&args[0].value)?))
}

pub fn vec_bit(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    match args[0].value {
        SqlValue::Blob(b) => vector_output(&Vector::Bit(
            vecsql_core::format::sqlite_vec::decode_bit(b)?,
        )),
        _ => Err(SqlError::new("Unknown type for bitvector.")),
    }
}

pub fn vec_length(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Integer(vector(&args[0])?.dimensions() as i64))
}

pub fn vec_type(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Text(
        vector(&args[0])?.element_type().name().to_string(),
    ))
}

/// sqlite-vec prints floats with `%f` and NaN as `null`; the text carries the JSON subtype so
/// SQLite's JSON functions nest it instead of quoting it.
pub fn vec_to_json(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector(&args[0])?;
    let items: Vec<String> = match &v {
        Vector::Float32(x) => x
            .iter()
            .map(|&f| {
                if f.is_nan() {
                    "null".to_string()
                } else {
                    crate::ffi::sqlite_format_f(f as f64)
                }
            })
            .collect(),
        Vector::Int8(x) => x.iter().map(|i| i.to_string()).collect(),
        Vector::Bit(b) => b.iter().map(|bit| (bit as u8).to_string()).collect(),
        other => other
            .to_f64()
            .iter()
            .map(|&f| crate::ffi::sqlite_format_f(f))
            .collect(),
    };
    Ok(SqlOutput::Json(format!("[{}]", items.join(","))))
}

#[derive(Clone, Copy)]
enum Arithmetic {
    Add,
    Sub,
}

fn arithmetic(args: &[SqlArg<'_>], op: Arithmetic) -> SqlResult<SqlOutput> {
    let (a, b) = vector_pair(&args[0], &args[1])?;
    let out = match (a, b) {
        (Vector::Float32(a), Vector::Float32(b)) => Vector::Float32(
            a.iter()
                .zip(&b)
                .map(|(x, y)| match op {
                    Arithmetic::Add => x + y,
                    Arithmetic::Sub => x - y,
                })
                .collect(),
        ),
        // sqlite-vec wraps on overflow (two's complement), and users comparing results with
        // it expect the same bytes.
        (Vector::Int8(a), Vector::Int8(b)) => Vector::Int8(
            a.iter()
                .zip(&b)
                .map(|(x, y)| match op {
                    Arithmetic::Add => x.wrapping_add(*y),
                    Arithmetic::Sub => x.wrapping_sub(*y),
                })
                .collect(),
        ),
        _ => {
            return Err(SqlError::new(match op {
                Arithmetic::Add => "Cannot add two bitvectors together.",
                Arithmetic::Sub => "Cannot subtract two bitvectors together.",
            }))
        }
    };
    vector_output(&out)
}

pub fn vec_add(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    arithmetic(args, Arithmetic::Add)
}

pub fn vec_sub(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    arithmetic(args, Arithmetic::Sub)
}

/// Divides by the L2 norm in f32 without rescaling, as sqlite-vec does: a zero vector gives
/// NaN elements rather than an error.
pub fn vec_normalize(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    match vector(&args[0])? {
        Vector::Float32(v) => {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            vector_output(&Vector::Float32(v.iter().map(|x| x / norm).collect()))
        }
        _ => Err(SqlError::new(
            "only float32 vectors are supported when normalizing",
        )),
    }
}

pub fn vec_slice(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector(&args[0])?;
    let start = as_c_int(&args[1].value);
    let end = as_c_int(&args[2].value);
    let dims = v.dimensions() as i64;
    if start < 0 {
        return Err(SqlError::new(
            "slice 'start' index must be a postive number.",
        ));
    }
    if end < 0 {
        return Err(SqlError::new("slice 'end' index must be a postive number."));
    }
    if start as i64 > dims {
        return Err(SqlError::new(
            "slice 'start' index is greater than the number of dimensions",
        ));
    }
    if end as i64 > dims {
        return Err(SqlError::new(
            "slice 'end' index is greater than the number of dimensions",
        ));
    }
    if start > end {
        return Err(SqlError::new(
            "slice 'start' index is greater than 'end' index",
        ));
    }
    if start == end {
        return Err(SqlError::new(
            "slice 'start' index is equal to the 'end' index, vectors must have non-zero length",
        ));
    }
    let (start, end) = (start as usize, end as usize);
    let out = match v {
        Vector::Float32(x) => Vector::Float32(x[start..end].to_vec()),
        Vector::Int8(x) => Vector::Int8(x[start..end].to_vec()),
        Vector::Bit(b) => {
            if start % 8 != 0 {
                return Err(SqlError::new("start index must be divisible by 8."));
            }
            if end % 8 != 0 {
                return Err(SqlError::new("end index must be divisible by 8."));
            }
            Vector::Bit(vecsql_core::format::sqlite_vec::decode_bit(
                &b.bytes()[start / 8..end / 8],
            )?)
        }
        other => other,
    };
    vector_output(&out)
}

pub fn vec_quantize_binary(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let bits = match vector(&args[0])? {
        Vector::Float32(v) => quantize::binary_slice(&v)?,
        Vector::Int8(v) => quantize::binary(v.into_iter().map(f32::from))?,
        _ => {
            return Err(SqlError::new(
                "Can only binary quantize float or int8 vectors",
            ))
        }
    };
    vector_output(&Vector::Bit(bits))
}

/// `vec_quantize_int8(v, 'unit')` as in sqlite-vec; `vec_quantize_int8(v, min, max)` is
/// vecsql's addition for embeddings whose range is not [-1, 1].
pub fn vec_quantize_int8(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let v = f32_vector(&args[0].value)?;
    let out = match args {
        [_, mode] => match mode.value {
            SqlValue::Text(t) if t.eq_ignore_ascii_case(b"unit") => quantize::int8_unit(&v),
            _ => {
                return Err(SqlError::new(
                    "2nd argument to vec_quantize_int8() must be 'unit'.",
                ))
            }
        },
        [_, min, max] => {
            let bound = |a: &SqlArg<'_>, name: &str| match a.value {
                SqlValue::Integer(i) => Ok(i as f32),
                SqlValue::Real(f) => Ok(f as f32),
                _ => Err(SqlError::new(format!(
                    "vec_quantize_int8: '{name}' must be a number"
                ))),
            };
            quantize::int8_range(&v, bound(min, "min")?, bound(max, "max")?)
                .map_err(|e| SqlError::from(e).context("vec_quantize_int8"))?
        }
        _ => unreachable!("registered with 2 and 3 arguments"),
    };
    vector_output(&Vector::Int8(out))
}

/// How sqlite-vec's messages name a metric ("Cannot calculate L2 distance ...").
fn label(metric: Metric) -> &'static str {
    match metric {
        Metric::L2 => "L2",
        Metric::L1 => "L1",
        other => other.name(),
    }
}

/// A float distance as SQL sees it: SQLite stores NaN as NULL, so say so explicitly.
fn real(x: f64) -> SqlOutput {
    if x.is_nan() {
        SqlOutput::Null
    } else {
        SqlOutput::Real(x)
    }
}

fn distance(args: &[SqlArg<'_>], metric: Metric) -> SqlResult<SqlOutput> {
    let (a, b) = vector_pair(&args[0], &args[1])?;
    match (&a, &b, metric) {
        (Vector::Bit(a), Vector::Bit(b), Metric::Hamming) => {
            Ok(real(distance::hamming_bits(a.bytes(), b.bytes()) as f64))
        }
        (Vector::Bit(_), _, _) => Err(SqlError::new(format!(
            "Cannot calculate {} distance between two bitvectors.",
            label(metric)
        ))),
        (_, _, Metric::Hamming) => Err(SqlError::new(format!(
            "Cannot calculate hamming distance between two {} vectors.",
            a.element_type().name()
        ))),
        (Vector::Float32(a), Vector::Float32(b), _) => Ok(real(match metric {
            Metric::L2 => distance::l2_f32(a, b) as f64,
            // sqlite-vec does not round float32 L1 to float here (vec0 does).
            Metric::L1 => distance::l1_f32_f64(a, b),
            Metric::Cosine => distance::cosine_f32(a, b) as f64,
            Metric::Dot => -(distance::dot_f32(a, b) as f64),
            Metric::Hamming => unreachable!(),
        })),
        // sqlite-vec returns int8 L1 as an integer; the other int8 distances are reals.
        (Vector::Int8(a), Vector::Int8(b), _) => Ok(match metric {
            Metric::L1 => SqlOutput::Integer(distance::l1_i8(a, b) as i64),
            Metric::L2 => real(distance::l2_i8(a, b) as f64),
            Metric::Cosine => real(distance::cosine_i8(a, b) as f64),
            Metric::Dot => real(-(distance::dot_i8(a, b) as f64)),
            Metric::Hamming => unreachable!(),
        }),
        _ => unreachable!("vector_pair returns vectors of one sqlite-vec type"),
    }
}

pub fn vec_distance_l2(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    distance(args, Metric::L2)
}

pub fn vec_distance_l1(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    distance(args, Metric::L1)
}

pub fn vec_distance_cosine(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    distance(args, Metric::Cosine)
}

pub fn vec_distance_dot(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    distance(args, Metric::Dot)
}

pub fn vec_distance_hamming(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    distance(args, Metric::Hamming)
}
