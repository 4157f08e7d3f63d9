//! sqlite-vss's scalar functions: the `vector_*` functions of its `vector0` extension and the
//! `vss_*` functions of its `vss0` extension, with its results and error texts. Distances are
//! computed in float32 as Faiss does, so results match sqlite-vss's to the last bit in the
//! usual case.

use std::ffi::CStr;

use super::vectors::{
    from_header_blob, from_json, from_raw_blob, pointer_output, to_json, to_raw, value_as_vector,
    BLOB_HEADER, BLOB_TYPE_F32,
};
use crate::error::{SqlError, SqlResult};
use crate::ffi::function::PointerArg;
use crate::ffi::pointer::PointerValue;
use crate::ffi::{SqlOutput, SqlValue};

/// The sqlite-vss release whose SQL API this implements, reported by `vss_version()` and
/// `vector_version()` (tools check it for features).
pub const SQLITE_VSS_API_VERSION: &str = "v0.1.2";

/// Pointer type of `vss_search_params()` values.
pub const SEARCH_PARAMS_POINTER: &CStr = c"vss0_searchparams";
/// Pointer type of `vss_range_search_params()` values.
pub const RANGE_SEARCH_PARAMS_POINTER: &CStr = c"vss0_rangesearchparams";

/// What `vss_search_params(vector, k)` carries to the `vss0` table.
#[derive(Debug, Clone)]
pub struct SearchParams {
    pub vector: Vec<f32>,
    pub k: i64,
}

/// What `vss_range_search_params(vector, distance)` carries to the `vss0` table.
#[derive(Debug, Clone)]
pub struct RangeSearchParams {
    pub vector: Vec<f32>,
    pub distance: f32,
}

/// The bytes SQLite's `sqlite3_value_blob`/`_text` would give for a value.
fn value_bytes(value: &SqlValue<'_>) -> Vec<u8> {
    match value {
        SqlValue::Blob(b) | SqlValue::Text(b) => b.to_vec(),
        SqlValue::Integer(i) => i.to_string().into_bytes(),
        SqlValue::Real(f) => format!("{f:.1}").into_bytes(),
        SqlValue::Null => Vec::new(),
    }
}

pub fn vector_version(_: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Text(SQLITE_VSS_API_VERSION.to_string()))
}

pub fn vss_version(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    vector_version(args)
}

/// Three lines, as sqlite-vss's (whose second and third name Faiss's version and options).
pub fn vss_debug(_: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Text(format!(
        "version: {}\nengine: vecsql {} (no Faiss)\nindex: vss0 columns are vec0 tables, \
         approximate factories use vec0's HNSW index",
        SQLITE_VSS_API_VERSION,
        crate::VERSION
    )))
}

/// `vector0(ptr)`: sqlite-vss's handshake through which `vss0` found `vector0`'s C API. vecsql
/// needs none; kept so code calling it gets NULL, as from sqlite-vss.
pub fn vector0(_: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Null)
}

/// C's `%f` for one float.
fn c_float(f: f32) -> String {
    if f.is_nan() {
        if f.is_sign_negative() { "-nan" } else { "nan" }.to_string()
    } else if f.is_infinite() {
        if f < 0.0 { "-inf" } else { "inf" }.to_string()
    } else {
        format!("{:.6}", f as f64)
    }
}

pub fn vector_debug(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let v = value_as_vector(&args[0]).ok_or_else(|| SqlError::new("Value not a vector"))?;
    let items: Vec<String> = v.iter().map(|&f| c_float(f)).collect();
    Ok(SqlOutput::Text(format!(
        "size: {} [{}]",
        v.len(),
        items.join(", ")
    )))
}

/// sqlite-vss answers NULL (no error) when these functions get something that is not a
/// vector.
macro_rules! vector_or_null {
    ($arg:expr) => {
        match value_as_vector($arg) {
            Some(v) => v,
            None => return Ok(SqlOutput::Null),
        }
    };
}

pub fn vector_length(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector_or_null!(&args[0]);
    Ok(SqlOutput::Integer(v.len() as i64))
}

pub fn vector_value_at(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector_or_null!(&args[0]);
    let pos = crate::sql_vector::as_c_int(&args[1].arg.value);
    match usize::try_from(pos).ok().and_then(|i| v.get(i)) {
        Some(&f) => Ok(SqlOutput::Real(f as f64)),
        // The text of libstdc++'s std::out_of_range from vector::at, which sqlite-vss
        // forwards; a negative position is a huge size_t there.
        None => Err(SqlError::new(format!(
            "{pos} out of range: vector::_M_range_check: __n (which is {}) >= this->size() \
             (which is {})",
            pos as i64 as u64,
            v.len()
        ))),
    }
}

pub fn vector_to_json(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector_or_null!(&args[0]);
    Ok(SqlOutput::Json(to_json(&v)))
}

pub fn vector_from_json(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    from_json(&value_bytes(&args[0].arg.value))
        .map(pointer_output)
        .ok_or_else(|| SqlError::new("input not valid json, or contains non-float data"))
}

pub fn vector_to_blob(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector_or_null!(&args[0]);
    let mut out = vec![BLOB_HEADER, BLOB_TYPE_F32];
    out.extend(to_raw(&v));
    Ok(SqlOutput::blob(out))
}

pub fn vector_from_blob(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    from_header_blob(&value_bytes(&args[0].arg.value))
        .map(pointer_output)
        .map_err(SqlError::new)
}

pub fn vector_to_raw(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let v = vector_or_null!(&args[0]);
    if v.is_empty() {
        // sqlite-vss returns a zero-length sqlite3_malloc result, which SQLite reads as NULL.
        return Ok(SqlOutput::Null);
    }
    Ok(SqlOutput::blob(to_raw(&v)))
}

pub fn vector_from_raw(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    from_raw_blob(&value_bytes(&args[0].arg.value))
        .map(pointer_output)
        .map_err(SqlError::new)
}

/// Both sides of a two-vector function, with sqlite-vss's errors.
fn pair(args: &[PointerArg<'_>]) -> SqlResult<(Vec<f32>, Vec<f32>)> {
    let lhs = value_as_vector(&args[0]).ok_or_else(|| SqlError::new("LHS is not a vector"))?;
    let rhs = value_as_vector(&args[1]).ok_or_else(|| SqlError::new("RHS is not a vector"))?;
    if lhs.len() != rhs.len() {
        return Err(SqlError::new(
            "LHS and RHS are not vectors of the same size",
        ));
    }
    Ok((lhs, rhs))
}

/// Squared L2 distance in float32, as Faiss's `fvec_L2sqr`.
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

pub fn linf(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Faiss's Canberra distance, except that a coordinate where both values are 0 adds 0 (Faiss
/// divides 0 by 0 there, and a NaN distance sorts nowhere).
pub fn canberra(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let den = x.abs() + y.abs();
            if den == 0.0 {
                0.0
            } else {
                (x - y).abs() / den
            }
        })
        .sum()
}

/// Faiss's Bray-Curtis distance (0 for two zero vectors, where Faiss gives NaN).
pub fn bray_curtis(a: &[f32], b: &[f32]) -> f32 {
    let (num, den) = a.iter().zip(b).fold((0.0f32, 0.0f32), |(n, d), (x, y)| {
        (n + (x - y).abs(), d + (x + y).abs())
    });
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// Faiss's "Jensen-Shannon" metric, which is the divergence (not its square root), for
/// probability vectors. A zero coordinate contributes its limit, 0 (Faiss computes
/// `0 * log(m / 0)`, a NaN).
pub fn jensen_shannon(a: &[f32], b: &[f32]) -> f32 {
    let term = |p: f32, m: f32| if p == 0.0 { 0.0 } else { -p * (m / p).ln() };
    0.5 * a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let m = 0.5 * (x + y);
            term(x, m) + term(y, m)
        })
        .sum::<f32>()
}

pub fn inner_product(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn vss_distance_l1(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    Ok(SqlOutput::Real(l1(&a, &b) as f64))
}

pub fn vss_distance_l2(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    Ok(SqlOutput::Real(l2_squared(&a, &b) as f64))
}

pub fn vss_distance_linf(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    Ok(SqlOutput::Real(linf(&a, &b) as f64))
}

pub fn vss_inner_product(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    Ok(SqlOutput::Real(inner_product(&a, &b) as f64))
}

pub fn vss_cosine_similarity(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    let ip = inner_product(&a, &b);
    let (na, nb) = (inner_product(&a, &a), inner_product(&b, &b));
    if na == 0.0 || nb == 0.0 {
        return Err(SqlError::new("One or both vectors are zero-vectors"));
    }
    Ok(SqlOutput::Real((ip / (na.sqrt() * nb.sqrt())) as f64))
}

pub fn vss_fvec_add(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    let sum: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    Ok(SqlOutput::blob(to_raw(&sum)))
}

pub fn vss_fvec_sub(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let (a, b) = pair(args)?;
    let diff: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    Ok(SqlOutput::blob(to_raw(&diff)))
}

/// Resident memory of the process in kB, as Faiss's `get_mem_usage_kb` reports it (0 where
/// `/proc/self/status` is not available).
pub fn vss_memory_usage(_: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<i64>().ok())
        })
        .unwrap_or(0);
    Ok(SqlOutput::Integer(kb))
}

pub fn vss_search_params(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let vector =
        value_as_vector(&args[0]).ok_or_else(|| SqlError::new("1st argument is not a vector"))?;
    let k = match args[1].arg.value {
        SqlValue::Integer(i) => i,
        SqlValue::Real(f) => f as i64,
        SqlValue::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .unwrap_or(0),
        _ => 0,
    };
    Ok(SqlOutput::Pointer(PointerValue::new(
        SEARCH_PARAMS_POINTER,
        SearchParams { vector, k },
    )))
}

pub fn vss_range_search_params(args: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    let vector =
        value_as_vector(&args[0]).ok_or_else(|| SqlError::new("1st argument is not a vector"))?;
    let distance = match args[1].arg.value {
        SqlValue::Integer(i) => i as f32,
        SqlValue::Real(f) => f as f32,
        SqlValue::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|t| t.trim().parse::<f32>().ok())
            .unwrap_or(0.0),
        _ => 0.0,
    };
    Ok(SqlOutput::Pointer(PointerValue::new(
        RANGE_SEARCH_PARAMS_POINTER,
        RangeSearchParams { vector, distance },
    )))
}

/// `vss_search(col, q)` and `vss_range_search(col, p)` outside a `vss0` table's WHERE
/// clause: NULL, as in sqlite-vss (inside one, the table answers them; see `table.rs`).
pub fn vss_search_placeholder(_: &[PointerArg<'_>]) -> SqlResult<SqlOutput> {
    Ok(SqlOutput::Null)
}
