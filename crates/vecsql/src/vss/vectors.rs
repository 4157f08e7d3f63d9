//! sqlite-vss's vector values: how its functions and its `vss0` table read a vector out of an
//! SQL value, and the pointer value its `vector_from_*` functions return.
//!
//! Accepted, in sqlite-vss's order: a `vectorf32v0` pointer value (what `vector_from_json()`
//! and friends return), a blob with sqlite-vss's two-byte header (`76 01`, i.e. `'v'` then
//! type 1) followed by float32s, a raw float32 blob (length divisible by 4), and JSON text
//! holding an array of numbers. Anything else is "not a vector" (`None`).

use std::ffi::CStr;

use crate::ffi::function::PointerArg;
use crate::ffi::pointer::PointerValue;
use crate::ffi::{SqlOutput, SqlValue};

/// sqlite-vss's pointer type name for float32 vectors.
pub const VECTOR_POINTER: &CStr = c"vectorf32v0";

/// The header byte and type byte of sqlite-vss's vector blobs.
pub const BLOB_HEADER: u8 = b'v';
pub const BLOB_TYPE_F32: u8 = 1;

/// A vector from any of sqlite-vss's forms, or None.
pub fn value_as_vector(arg: &PointerArg<'_>) -> Option<Vec<f32>> {
    if let Some(v) = arg.pointer::<Vec<f32>>(VECTOR_POINTER) {
        return Some(v.as_ref().clone());
    }
    plain_value_as_vector(&arg.arg.value)
}

/// As [`value_as_vector`] for a value that cannot be a pointer.
pub fn plain_value_as_vector(value: &SqlValue<'_>) -> Option<Vec<f32>> {
    match value {
        SqlValue::Blob(b) => from_header_blob(b).ok().or_else(|| from_raw_blob(b).ok()),
        SqlValue::Text(t) => from_json(t),
        _ => None,
    }
}

/// A blob in sqlite-vss's `76 01`-headed form, with its error texts.
pub fn from_header_blob(b: &[u8]) -> Result<Vec<f32>, &'static str> {
    if b.len() < 2 {
        return Err("Vector blob size less than header length");
    }
    if b[0] != BLOB_HEADER {
        return Err("Blob not well-formatted vector blob");
    }
    if b[1] != BLOB_TYPE_F32 {
        return Err("Blob type not right");
    }
    Ok(floats(&b[2..]))
}

/// A raw little-endian float32 blob, with sqlite-vss's error text.
pub fn from_raw_blob(b: &[u8]) -> Result<Vec<f32>, &'static str> {
    if !b.len().is_multiple_of(4) {
        return Err("Invalid raw blob length, blob must be divisible by 4");
    }
    Ok(floats(b))
}

/// Whole float32s in `b` (a trailing partial float is ignored, as sqlite-vss does).
fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// JSON text holding an array of numbers.
pub fn from_json(text: &[u8]) -> Option<Vec<f32>> {
    let parsed: serde_json::Value = serde_json::from_slice(text).ok()?;
    parsed
        .as_array()?
        .iter()
        .map(|v| v.as_f64().map(|f| f as f32))
        .collect()
}

/// Raw float32 bytes.
pub fn to_raw(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// A vector as sqlite-vss's functions return it: a `vectorf32v0` pointer value, which reads
/// as NULL anywhere but in another vector function.
pub fn pointer_output(v: Vec<f32>) -> SqlOutput {
    SqlOutput::Pointer(PointerValue::new(VECTOR_POINTER, v))
}

/// `json(vector)` as sqlite-vss prints it (nlohmann::json: shortest round-trip float text,
/// integral values with `.0`, NaN and infinities as `null`).
pub fn to_json(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|&f| json_float(f)).collect();
    format!("[{}]", items.join(","))
}

fn json_float(f: f32) -> String {
    if !f.is_finite() {
        return "null".to_string();
    }
    let text = format!("{f}");
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}
