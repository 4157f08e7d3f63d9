//! libSQL's vector blobs, text and arithmetic, reproduced bit for bit.
//!
//! Everything here was measured against libSQL itself (the `libsql` Python package 0.1.11,
//! which bundles SQLite 3.45.1 with libSQL's vector extension) and cross-checked with libSQL's
//! public sources. `tests/python/fixtures/libsql_oracle.json` holds the captured answers and
//! `tests/python/test_libsql_compat.py` replays them against vecsql's loadable extension.
//!
//! # Blob layouts
//!
//! All numbers are little-endian. A blob of **even** length is FLOAT32 with no type byte; a blob
//! of **odd** length ends with a type byte: 1 FLOAT32, 2 FLOAT64, 3 FLOAT1BIT, 4 FLOAT8,
//! 5 FLOAT16, 6 FLOATB16. `n` is the number of dimensions.
//!
//! ```text
//! FLOAT32   [f32 × n]                                          (libSQL never writes type 1,
//!           [f32 × n][01]                                       but reads it)
//! FLOAT64   [f64 × n][02]
//! FLOAT16   [IEEE binary16 × n][05]
//! FLOATB16  [bfloat16 × n][06]
//! FLOAT8    [u8 code × n][00 × p][alpha f32][shift f32][00][p][04]      p = (4 - n % 4) % 4
//! FLOAT1BIT [bits, LSB first, ⌈n/8⌉ bytes][00 if ⌈n/8⌉ is even][t][03]
//!           t = 8 × (bytes before the type byte) − n, always 8..=23
//! ```
//!
//! Examples: `vector16('[1,2]')` = `003C 0040 05`; `vector8('[1,2,3]')` =
//! `00 7F FF | 00 | 8180003C | 0000803F | 00 01 | 04`; `vector1bit('[1,1,1]')` = `07 0D 03`;
//! `vector1bit('[1]'×9)` = `FF 01 | 00 | 17 | 03`. Empty vectors exist: `vector('[]')` is the
//! empty blob, `vector64('[]')` is `02`, `vector1bit('[]')` is `00 10 03`, `vector8('[]')` is
//! eight zero bytes then `00 00 04`.
//!
//! Reading, libSQL derives `n` from the length alone: FLOAT1BIT `n = 8 × body − t`, FLOAT8
//! `n = body − 10 − p` (body = blob without the type byte), then checks FLOAT8's data size. It
//! is laxer than this module in two places, both refused here with a message: an even-length
//! blob whose length is not a multiple of 4 (libSQL silently drops the tail bytes), and a
//! trailing-count byte that makes `n` negative (libSQL answers "out of memory"). The pad byte
//! before FLOAT8's `p` is never checked, by libSQL or here. libSQL never initialises FLOAT8's
//! `p` alignment bytes, so its blobs carry heap garbage there; [`encode`] writes zeros, and
//! byte comparisons with libSQL must skip those bytes.
//!
//! # Conversions (`vectorNN(x)`)
//!
//! Text is parsed into FLOAT64 for `vector64()` and into FLOAT32 for every other function
//! (f64 → f32 rounds to nearest even), then converted:
//!
//! | to        | rule |
//! |-----------|------|
//! | FLOAT32   | from f64: round to nearest; from f16/bf16: exact; FLOAT8: `alpha*code + shift` in f32; bit: ±1 |
//! | FLOAT64   | widen the FLOAT32 value (FLOAT8 dequantises in f32 first); bit: ±1 |
//! | FLOAT16   | value → f32 → binary16, round to nearest even; overflow → ±Inf; subnormal results truncate the shifted mantissa before rounding, so they can be one ulp below the correctly rounded value ([`f16_from_f32`]) |
//! | FLOATB16  | value → f32, then **truncate** to the top 16 bits (`-1.99999` → `-1.99219`, NaN payloads can turn into Inf) ([`bf16_from_f32`]) |
//! | FLOAT1BIT | bit = value > 0 in the source's precision (f64 for FLOAT64, so `1e-50` is 1 there but 0 through FLOAT32); `-0` and NaN → 0 |
//! | FLOAT8    | `shift = min`, `alpha = (max − min) / 255` in f32, `code = clip((v − shift) / alpha)` where clip gives 0 below 0, 255 above 255, 0 for NaN (all-equal vectors: 0/0), else ⌊q + 0.5⌋ ([`quantize_float8`]); from FLOAT64 the min/max comparisons and the division happen in f64 ([`quantize_float8_f64`]) |
//!
//! Same-type conversions copy the data unchanged (FLOAT8 keeps its codes, alpha and shift).
//!
//! # Text
//!
//! `vector_extract()` prints FLOAT32 and FLOAT64 directly and converts the other types to
//! FLOAT32 first; each element is SQLite's `printf("%g")`: six significant digits rounded half
//! away from zero (glibc rounds half to even: `123456.5` → `123457`, not `123456`), `-0` prints
//! `0`, infinities `Inf`/`-Inf`, NaN `NaN` ([`format_g`]).
//!
//! Input is `[` numbers separated by `,` `]`, with these quirks ([`parse_text`]): whitespace
//! anywhere is dropped, even inside a number (`[1 2]` is `[12]`); numbers are SQLite's
//! (`+3`, `.5`, `5.`, `1E5`, no hex, no `inf`/`nan`; `1e400` is Inf); `[]` is an empty vector;
//! text ends at the first NUL. SQLite 3.45's decimal conversion is not always correctly rounded:
//! about 1 in 2500 six-digit decimals (and more with large exponents) lands one ulp away in
//! FLOAT64. This module rounds correctly, so `vector64()` of such text can differ from libSQL in
//! the last bit; FLOAT32 and narrower types are not affected in practice.
//!
//! # Distances
//!
//! Both arguments must have the same type (text counts as FLOAT32) and then the same length;
//! the type check comes first. Results pass through `float` before becoming SQL doubles, even for
//! FLOAT64. A NaN result (cosine with a zero vector) becomes SQL NULL in SQLite.
//!
//! | type | `vector_distance_cos` | `vector_distance_l2` |
//! |------|----------------------|---------------------|
//! | FLOAT32, FLOAT16, FLOATB16 | f32 sums of `x*y`, `x*x`, `y*y`; `1 − dot / sqrt(f64(n1*n2))`, `n1*n2` in f32, so it can overflow (distance 1, or NULL when `dot` overflows too) or underflow to 0 (distance ±Inf) | f32 sum of squared differences, sqrt |
//! | FLOAT64 | same in f64, then rounded to f32 | same in f64, rounded to f32 |
//! | FLOAT8 | from integer sums of codes: `dot = a1*a2*Σxy + a1*s2*Σx + a2*s1*Σy + s1*s2*n`, norms likewise, all f32 | per element dequantised difference, f32 |
//! | FLOAT1BIT | **Hamming distance** (number of differing bits), not a cosine | error |
//!
//! The f32 arithmetic is part of the answer: `[1e20,2e20,-3e20]` against `[-1e20,5e19,3e20]`
//! gives cosine NULL and L2 Inf for FLOAT32, `[1e-20,2e-20]` against `[3e-20,-1e-20]` gives
//! cosine −Inf; FLOAT8's cosine of near-identical vectors is off by ~1e-6 absolute. libSQL's
//! Hamming distance would also count stray bits past `n` in a hand-made blob; [`decode`] clears
//! them, and libSQL never writes any.
//!
//! Error messages, verbatim: `vector_distance: vectors must have the same type: 1 != 2`,
//! `vector_distance: vectors must have the same length: 2 != 3`,
//! `vector_distance: l2 distance is not supported for float1bit vectors`,
//! `vector: unexpected value type: got NULL, expected TEXT or BLOB`,
//! `vector: max size exceeded 65536` (text) / `vector: max size exceeded: 65537 > 65536` (blob).
//! The maximum is 65536 dimensions.

use half::{bf16, f16};

use crate::vector::{BitVector, ElementType, Float8Vector, Vector, MAX_DIMENSIONS};
use crate::VectorError;

/// Type bytes libSQL appends to non-FLOAT32 blobs.
pub const TYPE_FLOAT32: u8 = 1;
pub const TYPE_FLOAT64: u8 = 2;
pub const TYPE_FLOAT1BIT: u8 = 3;
pub const TYPE_FLOAT8: u8 = 4;
pub const TYPE_FLOAT16: u8 = 5;
pub const TYPE_FLOATB16: u8 = 6;

/// The numeric code libSQL uses for `ty` in blobs and in its error messages.
pub fn type_code(ty: ElementType) -> Option<u8> {
    match ty {
        ElementType::Float32 => Some(TYPE_FLOAT32),
        ElementType::Float64 => Some(TYPE_FLOAT64),
        ElementType::Bit => Some(TYPE_FLOAT1BIT),
        ElementType::Float8 => Some(TYPE_FLOAT8),
        ElementType::Float16 => Some(TYPE_FLOAT16),
        ElementType::BFloat16 => Some(TYPE_FLOATB16),
        ElementType::Int8 => None,
    }
}

pub fn type_from_code(code: u8) -> Option<ElementType> {
    match code {
        TYPE_FLOAT32 => Some(ElementType::Float32),
        TYPE_FLOAT64 => Some(ElementType::Float64),
        TYPE_FLOAT1BIT => Some(ElementType::Bit),
        TYPE_FLOAT8 => Some(ElementType::Float8),
        TYPE_FLOAT16 => Some(ElementType::Float16),
        TYPE_FLOATB16 => Some(ElementType::BFloat16),
        _ => None,
    }
}

fn int8_unsupported() -> VectorError {
    VectorError::Unsupported(
        "libSQL has no int8 vector type; convert to float8 (vector8) or float32 first".into(),
    )
}

fn blob_error(message: String) -> VectorError {
    VectorError::BlobLength(message)
}

/// FLOAT8 codes are followed by padding up to a multiple of four so that alpha and shift are
/// 4-byte aligned inside the blob.
fn float8_padding(dims: usize) -> usize {
    (4 - dims % 4) % 4
}

/// libSQL's blob for `v`. Int8 has no libSQL encoding.
pub fn encode(v: &Vector) -> Result<Vec<u8>, VectorError> {
    let mut out;
    match v {
        Vector::Float32(values) => {
            out = Vec::with_capacity(values.len() * 4);
            for x in values {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Vector::Float64(values) => {
            out = Vec::with_capacity(values.len() * 8 + 1);
            for x in values {
                out.extend_from_slice(&x.to_le_bytes());
            }
            out.push(TYPE_FLOAT64);
        }
        Vector::Float16(values) => {
            out = Vec::with_capacity(values.len() * 2 + 1);
            for x in values {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            out.push(TYPE_FLOAT16);
        }
        Vector::BFloat16(values) => {
            out = Vec::with_capacity(values.len() * 2 + 1);
            for x in values {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            out.push(TYPE_FLOATB16);
        }
        Vector::Float8(f8) => {
            let dims = f8.codes.len();
            let pad = float8_padding(dims);
            out = Vec::with_capacity(dims + pad + 11);
            out.extend_from_slice(&f8.codes);
            out.resize(dims + pad, 0);
            out.extend_from_slice(&f8.alpha.to_le_bytes());
            out.extend_from_slice(&f8.shift.to_le_bytes());
            out.extend_from_slice(&[0, pad as u8, TYPE_FLOAT8]);
        }
        Vector::Bit(bits) => {
            let data = bits.bytes();
            // The body (everything before the type byte) must have even length so that the whole
            // blob is odd and cannot be mistaken for FLOAT32.
            let body_len = (data.len() + 1).next_multiple_of(2);
            out = Vec::with_capacity(body_len + 1);
            out.extend_from_slice(data);
            out.resize(body_len - 1, 0);
            out.push((8 * body_len - bits.dims()) as u8);
            out.push(TYPE_FLOAT1BIT);
        }
        Vector::Int8(_) => return Err(int8_unsupported()),
    }
    Ok(out)
}

fn check_blob_dims(dims: usize) -> Result<(), VectorError> {
    if dims > MAX_DIMENSIONS {
        Err(blob_error(format!(
            "vector: max size exceeded: {dims} > {MAX_DIMENSIONS}"
        )))
    } else {
        Ok(())
    }
}

fn f32_at(bytes: &[u8], offset: usize) -> f32 {
    f32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

/// Reads a libSQL blob, telling the type apart the way libSQL does (odd length: trailing type
/// byte; even length: FLOAT32). Zero-dimension vectors are returned as such, since libSQL
/// produces them (`vector('[]')`); callers that refuse them do so themselves.
pub fn decode(blob: &[u8]) -> Result<Vector, VectorError> {
    if blob.len() & 1 == 0 {
        if blob.len() & 3 != 0 {
            return Err(blob_error(format!(
                "vector: float32 vector blob length must be divisible by 4: length={}",
                blob.len()
            )));
        }
        return decode_float32(blob);
    }
    let (&code, body) = blob.split_last().expect("odd length is never zero");
    match code {
        TYPE_FLOAT32 => {
            if body.len() & 3 != 0 {
                return Err(blob_error(format!(
                    "vector: float32 vector blob length must be divisible by 4 (excluding optional 'type'-byte): length={}",
                    body.len()
                )));
            }
            decode_float32(body)
        }
        TYPE_FLOAT64 => {
            if body.len() & 7 != 0 {
                return Err(blob_error(format!(
                    "vector: float64 vector blob length must be divisible by 8 (excluding 'type'-byte): length={}",
                    body.len()
                )));
            }
            check_blob_dims(body.len() / 8)?;
            Ok(Vector::Float64(
                body.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ))
        }
        TYPE_FLOAT16 | TYPE_FLOATB16 => {
            if body.len() & 1 != 0 {
                let name = if code == TYPE_FLOAT16 {
                    "float16"
                } else {
                    "floatb16"
                };
                return Err(blob_error(format!(
                    "vector: {name} vector blob length must be divisible by 2 (excluding 'type'-byte): length={}",
                    body.len()
                )));
            }
            check_blob_dims(body.len() / 2)?;
            let bits = body
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            Ok(if code == TYPE_FLOAT16 {
                Vector::Float16(bits.map(f16::from_bits).collect())
            } else {
                Vector::BFloat16(bits.map(bf16::from_bits).collect())
            })
        }
        TYPE_FLOAT1BIT => decode_bits(body),
        TYPE_FLOAT8 => decode_float8(body),
        other => Err(VectorError::Format(format!(
            "vector: unexpected binary type: {other}"
        ))),
    }
}

fn decode_float32(data: &[u8]) -> Result<Vector, VectorError> {
    check_blob_dims(data.len() / 4)?;
    Ok(Vector::Float32(
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect(),
    ))
}

fn decode_bits(body: &[u8]) -> Result<Vector, VectorError> {
    if body.is_empty() || body.len() & 1 != 0 {
        return Err(blob_error(format!(
            "vector: float1bit vector blob length must be divisible by 2 and not be empty (excluding 'type'-byte): length={}",
            body.len()
        )));
    }
    let unused = body[body.len() - 1] as usize;
    let capacity = 8 * body.len();
    if unused > capacity {
        return Err(blob_error(format!(
            "vector: float1bit vector blob says {unused} of its {capacity} bits are unused"
        )));
    }
    let dims = capacity - unused;
    check_blob_dims(dims)?;
    // libSQL reads the bits from the start of the body wherever the count says they end, so a
    // hand-made blob whose count is below 8 has its count byte read as data; do the same.
    BitVector::new(body[..dims.div_ceil(8)].to_vec(), dims).map(Vector::Bit)
}

fn decode_float8(body: &[u8]) -> Result<Vector, VectorError> {
    if body.len() < 2 || body.len() & 1 != 0 {
        return Err(blob_error(format!(
            "vector: float8 vector blob length must be divisible by 2 and has at least 2 bytes (excluding 'type'-byte): length={}",
            body.len()
        )));
    }
    let pad = body[body.len() - 1] as usize;
    let data_len = body.len() - 2;
    let Some(dims) = data_len.checked_sub(8 + pad) else {
        return Err(blob_error(format!(
            "vector: float8 vector blob of {} bytes is too short for {pad} padding bytes, alpha and shift",
            body.len() + 1
        )));
    };
    check_blob_dims(dims)?;
    let codes_len = dims + float8_padding(dims);
    if codes_len + 8 != data_len {
        return Err(blob_error(format!(
            "vector: float8 vector blob of {dims} dimensions needs {} data bytes, found {data_len} (padding byte says {pad})",
            codes_len + 8
        )));
    }
    Ok(Vector::Float8(Float8Vector {
        codes: body[..dims].to_vec(),
        alpha: f32_at(body, codes_len),
        shift: f32_at(body, codes_len + 4),
    }))
}

// ---------------------------------------------------------------------------------------------
// Element conversions
// ---------------------------------------------------------------------------------------------

/// libSQL's f32 → binary16 conversion. It rounds to nearest even, except that for results in the
/// subnormal range the mantissa is shifted right (dropping bits) before rounding, which loses the
/// sticky bits: a value just above a halfway point can round down. `half::f16::from_f32` rounds
/// correctly, hence this copy of libSQL's rule.
pub fn f16_from_f32(x: f32) -> f16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = bits & 0x7f_ffff;
    let (half_exp, mut m) = if exp == 128 {
        // Inf stays Inf; every NaN becomes the canonical quiet NaN.
        (16, if mantissa != 0 { 1 << 22 } else { 0 })
    } else if exp > 15 {
        (16, 0)
    } else if exp >= -14 {
        (exp, mantissa)
    } else if exp >= -25 {
        (-15, (mantissa | 0x80_0000) >> (-exp - 14))
    } else {
        (-15, 0)
    };
    let low = m & 0x1fff;
    let odd = (m >> 13) & 1;
    if low > 0x1000 - odd {
        m += 0x2000;
    }
    let m = m >> 13;
    // A carry out of the mantissa bumps the exponent, which is how rounding reaches Inf or the
    // smallest normal.
    let e = (half_exp + 15 + (m >> 10) as i32) as u16;
    f16::from_bits(sign | (e << 10) | (m & 0x3ff) as u16)
}

/// binary16 → f32 as libSQL does it: exact, with every NaN widened to the quiet NaN `0x7FC00000`
/// (sign kept) rather than carrying its payload.
pub fn f16_to_f32(x: f16) -> f32 {
    if x.is_nan() {
        let sign = ((x.to_bits() & 0x8000) as u32) << 16;
        f32::from_bits(sign | 0x7fc0_0000)
    } else {
        x.to_f32()
    }
}

/// bfloat16 → f32 as libSQL does it: the bits shifted into place, so NaN payloads (signalling
/// ones included) survive unchanged, where `half::bf16::to_f32` quiets them.
pub fn bf16_to_f32(x: bf16) -> f32 {
    f32::from_bits((x.to_bits() as u32) << 16)
}

/// libSQL's f32 → bfloat16 conversion: the top 16 bits, truncated rather than rounded.
pub fn bf16_from_f32(x: f32) -> bf16 {
    bf16::from_bits((x.to_bits() >> 16) as u16)
}

/// Clip-and-round of a FLOAT8 quotient. NaN (an all-equal vector gives 0/0) falls through both
/// comparisons in libSQL and its integer conversion yields a code of 0 on the platforms libSQL
/// ships for.
fn float8_code(q: f32) -> u8 {
    if q < 0.0 {
        0
    } else if q > 255.0 {
        255
    } else if q.is_nan() {
        0
    } else {
        (q as f64 + 0.5) as u8
    }
}

fn float8_params(min: f32, max: f32) -> (f32, f32) {
    ((max - min) / 255.0, min)
}

/// FLOAT8 quantisation exactly as libSQL's `vector8()` does it for FLOAT32, FLOAT16, FLOATB16
/// and FLOAT1BIT sources (and text, which is parsed as FLOAT32). `Float8Vector::quantize`
/// differs for empty input (libSQL uses alpha = shift = 0) and in which zero's sign `shift`
/// takes when the minimum is ±0.
pub fn quantize_float8(values: &[f32]) -> Float8Vector {
    let (min, max) = match values.split_first() {
        None => (0.0, 0.0),
        Some((&first, rest)) => rest.iter().fold((first, first), |(lo, hi), &v| {
            // Comparisons written the way libSQL's MIN/MAX are, so ties (-0 vs 0) and NaN
            // resolve to the same operand.
            (if lo < v { lo } else { v }, if hi > v { hi } else { v })
        }),
    };
    let (alpha, shift) = float8_params(min, max);
    Float8Vector {
        codes: values
            .iter()
            .map(|&v| float8_code((v - shift) / alpha))
            .collect(),
        alpha,
        shift,
    }
}

/// FLOAT8 quantisation of a FLOAT64 source, where libSQL compares against the running f32
/// minimum/maximum in f64 and divides in f64 before narrowing the quotient.
pub fn quantize_float8_f64(values: &[f64]) -> Float8Vector {
    let (min, max) = match values.split_first() {
        None => (0.0f32, 0.0f32),
        Some((&first, rest)) => rest
            .iter()
            .fold((first as f32, first as f32), |(lo, hi), &v| {
                (
                    if (lo as f64) < v { lo } else { v as f32 },
                    if (hi as f64) > v { hi } else { v as f32 },
                )
            }),
    };
    let (alpha, shift) = float8_params(min, max);
    Float8Vector {
        codes: values
            .iter()
            .map(|&v| float8_code(((v - shift as f64) / alpha as f64) as f32))
            .collect(),
        alpha,
        shift,
    }
}

fn bit_value(b: bool) -> f32 {
    if b {
        1.0
    } else {
        -1.0
    }
}

/// The elements as libSQL's conversion to FLOAT32 produces them; the common currency of
/// `vector_extract()` and of every conversion except the FLOAT64 ones.
pub fn to_f32_values(v: &Vector) -> Vec<f32> {
    match v {
        Vector::Float32(x) => x.clone(),
        Vector::Float64(x) => x.iter().map(|&e| e as f32).collect(),
        Vector::Float16(x) => x.iter().map(|&e| f16_to_f32(e)).collect(),
        Vector::BFloat16(x) => x.iter().map(|&e| bf16_to_f32(e)).collect(),
        Vector::Int8(x) => x.iter().map(|&e| e as f32).collect(),
        Vector::Float8(f8) => f8.dequantize(),
        Vector::Bit(bits) => bits.iter().map(bit_value).collect(),
    }
}

/// Converts `v` to `to` with libSQL's rules (see the module docs), as `vector32()`,
/// `vector64()`, `vector16()`, `vectorb16()`, `vector8()` and `vector1bit()` do for blobs.
pub fn convert(v: &Vector, to: ElementType) -> Result<Vector, VectorError> {
    if to == ElementType::Int8 {
        return Err(int8_unsupported());
    }
    if v.element_type() == to {
        return Ok(v.clone());
    }
    Ok(match (v, to) {
        (Vector::Float64(x), ElementType::Float8) => Vector::Float8(quantize_float8_f64(x)),
        (Vector::Float64(x), ElementType::Bit) => {
            Vector::Bit(BitVector::from_bools(x.iter().map(|&e| e > 0.0)))
        }
        (_, ElementType::Float64) => {
            Vector::Float64(to_f32_values(v).into_iter().map(f64::from).collect())
        }
        (_, _) => {
            let values = to_f32_values(v);
            match to {
                ElementType::Float32 => Vector::Float32(values),
                ElementType::Float16 => {
                    Vector::Float16(values.into_iter().map(f16_from_f32).collect())
                }
                ElementType::BFloat16 => {
                    Vector::BFloat16(values.into_iter().map(bf16_from_f32).collect())
                }
                ElementType::Float8 => Vector::Float8(quantize_float8(&values)),
                ElementType::Bit => {
                    Vector::Bit(BitVector::from_bools(values.into_iter().map(|e| e > 0.0)))
                }
                ElementType::Float64 | ElementType::Int8 => unreachable!("handled above"),
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/// SQLite's `printf("%g")` of one double: six significant digits, ties away from zero.
pub fn format_g(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-Inf" } else { "Inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let (mut digits, mut exp) = round_to_six_digits(x.abs());
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if digits == 1_000_000 {
        digits = 100_000;
        exp += 1;
    }
    let mut text = digits.to_string().into_bytes();
    while text.len() > 1 && text.last() == Some(&b'0') {
        text.pop();
    }
    if !(-4..=5).contains(&exp) {
        out.push(text[0] as char);
        if text.len() > 1 {
            out.push('.');
            out.extend(text[1..].iter().map(|&b| b as char));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.extend(text.iter().map(|&b| b as char));
    } else {
        let int_len = exp as usize + 1;
        for i in 0..int_len {
            out.push(text.get(i).map_or('0', |&b| b as char));
        }
        if text.len() > int_len {
            out.push('.');
            out.extend(text[int_len..].iter().map(|&b| b as char));
        }
    }
    out
}

/// The six leading significant digits of a positive finite `x`, rounded half up on its exact
/// decimal expansion, as an integer in 100000..=1000000, with the decimal exponent of the first
/// digit.
fn round_to_six_digits(x: f64) -> (u32, i32) {
    let (digits, exp) = scientific_digits(x, 16);
    // Seventeen correctly rounded digits decide the sixth-digit rounding unless they read
    // exactly "…5000…0", which may be a true tie (round up) or an expansion just below one that
    // rounded up into it; only the exact expansion tells.
    let round_up = if digits[6] == b'5' && digits[7..].iter().all(|&d| d == b'0') {
        let (exact, _) = scientific_digits(x, 800);
        exact[6] >= b'5'
    } else {
        digits[6] >= b'5'
    };
    let mut six = digits[..6]
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + (d - b'0') as u32);
    if round_up {
        six += 1;
    }
    (six, exp)
}

/// `precision + 1` decimal digits of `x` (correctly rounded) and the exponent of the first.
fn scientific_digits(x: f64, precision: usize) -> (Vec<u8>, i32) {
    let s = format!("{x:.precision$e}");
    let (mantissa, exp) = s
        .split_once('e')
        .expect("scientific format has an exponent");
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    (digits, exp.parse().expect("exponent is an integer"))
}

/// libSQL's `vector_extract()` text for `v`.
pub fn format_text(v: &Vector) -> String {
    let mut out = String::from("[");
    let mut push = |s: String, i: usize| {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&s);
    };
    match v {
        Vector::Float64(values) => {
            for (i, &x) in values.iter().enumerate() {
                push(format_g(x), i);
            }
        }
        other => {
            for (i, x) in to_f32_values(other).into_iter().enumerate() {
                push(format_g(x as f64), i);
            }
        }
    }
    out.push(']');
    out
}

/// Longest number token libSQL accepts before giving up on a vector's text.
const MAX_NUMBER_CHARS: usize = 1024;

fn is_sqlite_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A number in SQLite's grammar: `[+-]digits[.digits][(e|E)[+-]digits]` with at least one
/// mantissa digit on either side of the point. Anything else, including `inf` and `nan`, is not
/// a number.
fn parse_sqlite_number(token: &[u8]) -> Option<f64> {
    let mut i = 0;
    if matches!(token.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while token.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa_digits = digits(&mut i);
    if token.get(i) == Some(&b'.') {
        i += 1;
        mantissa_digits += digits(&mut i);
    }
    if mantissa_digits == 0 {
        return None;
    }
    if matches!(token.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(token.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != token.len() {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

fn text_error(message: String) -> VectorError {
    VectorError::Format(message)
}

/// Parses vector text the way libSQL does, with libSQL's error messages. The values are f64;
/// libSQL keeps them for `vector64()` and narrows them to f32 for every other type (see
/// [`vector_from_text`]). `[]` gives an empty vector.
pub fn parse_text(text: &str) -> Result<Vec<f64>, VectorError> {
    let bytes = text.as_bytes();
    let bytes = &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())];
    let mut pos = 0;
    while pos < bytes.len() && is_sqlite_space(bytes[pos]) {
        pos += 1;
    }
    if bytes.get(pos) != Some(&b'[') {
        return Err(text_error("vector: must start with '['".into()));
    }
    pos += 1;
    let mut values = Vec::new();
    let mut token: Vec<u8> = Vec::new();
    let mut closed = false;
    while pos < bytes.len() {
        let b = bytes[pos];
        pos += 1;
        if is_sqlite_space(b) {
            continue;
        }
        if b != b',' && b != b']' {
            if token.len() > MAX_NUMBER_CHARS {
                return Err(text_error(format!(
                    "vector: float string length exceeded {MAX_NUMBER_CHARS} characters: '{}'",
                    String::from_utf8_lossy(&token)
                )));
            }
            token.push(b);
            continue;
        }
        if b == b']' && values.is_empty() && token.is_empty() {
            closed = true;
            break;
        }
        let Some(value) = parse_sqlite_number(&token) else {
            return Err(text_error(format!(
                "vector: invalid float at position {}: '{}'",
                values.len(),
                String::from_utf8_lossy(&token)
            )));
        };
        if values.len() >= MAX_DIMENSIONS {
            return Err(text_error(format!(
                "vector: max size exceeded {MAX_DIMENSIONS}"
            )));
        }
        values.push(value);
        token.clear();
        if b == b']' {
            closed = true;
            break;
        }
    }
    if !closed {
        return Err(text_error("vector: must end with ']'".into()));
    }
    if bytes[pos..].iter().any(|&b| !is_sqlite_space(b)) {
        return Err(text_error(
            "vector: non-space symbols after closing ']' are forbidden".into(),
        ));
    }
    Ok(values)
}

/// `vectorNN(text)`: parse as FLOAT64 for `vector64()`, as FLOAT32 otherwise, then convert.
pub fn vector_from_text(text: &str, to: ElementType) -> Result<Vector, VectorError> {
    let values = parse_text(text)?;
    if to == ElementType::Float64 {
        return Ok(Vector::Float64(values));
    }
    convert(
        &Vector::Float32(values.into_iter().map(|x| x as f32).collect()),
        to,
    )
}

// ---------------------------------------------------------------------------------------------
// Distances
// ---------------------------------------------------------------------------------------------

fn check_pair(a: &Vector, b: &Vector) -> Result<(), VectorError> {
    let (ta, tb) = (a.element_type(), b.element_type());
    let (Some(ca), Some(cb)) = (type_code(ta), type_code(tb)) else {
        return Err(int8_unsupported());
    };
    if ca != cb {
        return Err(VectorError::Format(format!(
            "vector_distance: vectors must have the same type: {ca} != {cb}"
        )));
    }
    if a.dimensions() != b.dimensions() {
        return Err(VectorError::Format(format!(
            "vector_distance: vectors must have the same length: {} != {}",
            a.dimensions(),
            b.dimensions()
        )));
    }
    Ok(())
}

fn cos_f32(pairs: impl Iterator<Item = (f32, f32)>) -> f32 {
    let (mut dot, mut n1, mut n2) = (0f32, 0f32, 0f32);
    for (x, y) in pairs {
        dot += x * y;
        n1 += x * x;
        n2 += y * y;
    }
    (1.0 - dot as f64 / ((n1 * n2) as f64).sqrt()) as f32
}

fn l2_f32(pairs: impl Iterator<Item = (f32, f32)>) -> f32 {
    let mut sum = 0f32;
    for (x, y) in pairs {
        let d = x - y;
        sum += d * d;
    }
    (sum as f64).sqrt() as f32
}

fn float8_cos(a: &Float8Vector, b: &Float8Vector) -> f32 {
    let (mut sum1, mut sum2, mut sumsq1, mut sumsq2, mut doti) = (0u32, 0u32, 0u32, 0u32, 0u32);
    for (&x, &y) in a.codes.iter().zip(&b.codes) {
        let (x, y) = (x as u32, y as u32);
        sum1 = sum1.wrapping_add(x);
        sum2 = sum2.wrapping_add(y);
        sumsq1 = sumsq1.wrapping_add(x * x);
        sumsq2 = sumsq2.wrapping_add(y * y);
        doti = doti.wrapping_add(x * y);
    }
    let n = a.codes.len() as i32 as f32;
    let (a1, s1, a2, s2) = (a.alpha, a.shift, b.alpha, b.shift);
    let dot = a1 * a2 * doti as f32 + a1 * s2 * sum1 as f32 + a2 * s1 * sum2 as f32 + s1 * s2 * n;
    let norm1 = a1 * a1 * sumsq1 as f32 + 2.0 * a1 * s1 * sum1 as f32 + s1 * s1 * n;
    let norm2 = a2 * a2 * sumsq2 as f32 + 2.0 * a2 * s2 * sum2 as f32 + s2 * s2 * n;
    (1.0 - dot as f64 / ((norm1 * norm2) as f64).sqrt()) as f32
}

fn hamming(a: &BitVector, b: &BitVector) -> u32 {
    a.bytes()
        .iter()
        .zip(b.bytes())
        .map(|(x, y)| (x ^ y).count_ones())
        .sum()
}

fn dequantized(f8: &Float8Vector) -> impl Iterator<Item = f32> + '_ {
    f8.codes
        .iter()
        .map(move |&c| f8.alpha * c as f32 + f8.shift)
}

/// `vector_distance_cos(a, b)` with libSQL's arithmetic. FLOAT1BIT gives the Hamming distance.
/// A zero vector gives NaN, which SQLite turns into NULL.
pub fn distance_cos(a: &Vector, b: &Vector) -> Result<f64, VectorError> {
    check_pair(a, b)?;
    let d = match (a, b) {
        (Vector::Float32(x), Vector::Float32(y)) => {
            cos_f32(x.iter().copied().zip(y.iter().copied()))
        }
        (Vector::Float64(x), Vector::Float64(y)) => {
            let (mut dot, mut n1, mut n2) = (0f64, 0f64, 0f64);
            for (&p, &q) in x.iter().zip(y) {
                dot += p * q;
                n1 += p * p;
                n2 += q * q;
            }
            (1.0 - dot / (n1 * n2).sqrt()) as f32
        }
        (Vector::Float16(x), Vector::Float16(y)) => cos_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (f16_to_f32(p), f16_to_f32(q))),
        ),
        (Vector::BFloat16(x), Vector::BFloat16(y)) => cos_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (bf16_to_f32(p), bf16_to_f32(q))),
        ),
        (Vector::Float8(x), Vector::Float8(y)) => float8_cos(x, y),
        (Vector::Bit(x), Vector::Bit(y)) => hamming(x, y) as f32,
        _ => unreachable!("check_pair ensures equal libSQL types"),
    };
    Ok(d as f64)
}

/// `vector_distance_l2(a, b)` with libSQL's arithmetic; FLOAT1BIT is refused as in libSQL.
pub fn distance_l2(a: &Vector, b: &Vector) -> Result<f64, VectorError> {
    check_pair(a, b)?;
    let d = match (a, b) {
        (Vector::Float32(x), Vector::Float32(y)) => {
            l2_f32(x.iter().copied().zip(y.iter().copied()))
        }
        (Vector::Float64(x), Vector::Float64(y)) => {
            let mut sum = 0f64;
            for (&p, &q) in x.iter().zip(y) {
                let d = p - q;
                sum += d * d;
            }
            sum.sqrt() as f32
        }
        (Vector::Float16(x), Vector::Float16(y)) => l2_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (f16_to_f32(p), f16_to_f32(q))),
        ),
        (Vector::BFloat16(x), Vector::BFloat16(y)) => l2_f32(
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (bf16_to_f32(p), bf16_to_f32(q))),
        ),
        (Vector::Float8(x), Vector::Float8(y)) => l2_f32(dequantized(x).zip(dequantized(y))),
        (Vector::Bit(_), Vector::Bit(_)) => {
            return Err(VectorError::Unsupported(
                "vector_distance: l2 distance is not supported for float1bit vectors".into(),
            ))
        }
        _ => unreachable!("check_pair ensures equal libSQL types"),
    };
    Ok(d as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Compares by bit pattern so NaN payloads and the sign of zero count.
    fn same_bits(a: &Vector, b: &Vector) -> bool {
        match (a, b) {
            (Vector::Float32(x), Vector::Float32(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            (Vector::Float64(x), Vector::Float64(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            (Vector::Float16(x), Vector::Float16(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            (Vector::BFloat16(x), Vector::BFloat16(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            (Vector::Float8(x), Vector::Float8(y)) => {
                x.codes == y.codes
                    && x.alpha.to_bits() == y.alpha.to_bits()
                    && x.shift.to_bits() == y.shift.to_bits()
            }
            (Vector::Bit(x), Vector::Bit(y)) => x == y,
            _ => false,
        }
    }

    /// (function, text, libSQL's hex blob, libSQL's vector_extract) captured from libsql 0.1.11.
    const GOLDEN: &[(&str, &str, &str, &str)] = &[
        ("vector32", "[1]", "0000803F", "[1]"),
        ("vector32", "[1,2,3]", "0000803F0000004000004040", "[1,2,3]"),
        ("vector32", "[]", "", "[]"),
        ("vector32", "[-0]", "00000080", "[0]"),
        (
            "vector32",
            "[1e-40,3e-7,123456.5,1e39]",
            "C2160100B00FA1344020F1470000807F",
            "[9.99995e-41,3e-07,123457,Inf]",
        ),
        ("vector64", "[1]", "000000000000F03F02", "[1]"),
        (
            "vector64",
            "[1,2]",
            "000000000000F03F000000000000004002",
            "[1,2]",
        ),
        ("vector64", "[1.1]", "9A9999999999F13F02", "[1.1]"),
        ("vector64", "[]", "02", "[]"),
        (
            "vector64",
            "[1e300,-1e-310,0.0009765625]",
            "9C7500883CE4377E2BE6708B68120080000000000000503F02",
            "[1e+300,-1e-310,0.000976563]",
        ),
        ("vector16", "[1]", "003C05", "[1]"),
        ("vector16", "[1,2,3]", "003C0040004205", "[1,2,3]"),
        ("vector16", "[-0]", "008005", "[0]"),
        ("vector16", "[]", "05", "[]"),
        (
            "vector16",
            "[65504,65520,1e-7,-3.3e-8,0.1]",
            "FF7B007C02000180662E05",
            "[65504,Inf,1.19209e-07,-5.96046e-08,0.0999756]",
        ),
        ("vectorb16", "[1]", "803F06", "[1]"),
        ("vectorb16", "[1,2,3]", "803F0040404006", "[1,2,3]"),
        ("vectorb16", "[-1.99999]", "FFBF06", "[-1.99219]"),
        ("vectorb16", "[3.14159]", "494006", "[3.14063]"),
        ("vector8", "[1]", "00000000000000000000803F000304", "[1]"),
        (
            "vector8",
            "[1,2]",
            "00FF00008180803B0000803F000204",
            "[1,2]",
        ),
        (
            "vector8",
            "[1,2,3]",
            "007FFF008180003C0000803F000104",
            "[1,1.99608,3]",
        ),
        (
            "vector8",
            "[1,2,3,4]",
            "0055AAFFC1C0403C0000803F000004",
            "[1,2,3,4]",
        ),
        (
            "vector8",
            "[1,2,3,4,5]",
            "00407FBFFF0000008180803C0000803F000304",
            "[1,2.00392,2.99216,3.99608,5]",
        ),
        (
            "vector8",
            "[1,2,3,4,5,6,7,8,9]",
            "002040607F9FBFDFFF0000008180003D0000803F000304",
            "[1,2.00392,3.00784,4.01177,4.98431,5.98824,6.99216,7.99608,9]",
        ),
        (
            "vector8",
            "[5,5,5]",
            "00000000000000000000A040000104",
            "[5,5,5]",
        ),
        (
            "vector8",
            "[-1,2]",
            "00FF0000C1C0403C000080BF000204",
            "[-1,2]",
        ),
        (
            "vector8",
            "[3e38,-3e38]",
            "000000000000807FE6B161FF000204",
            "[NaN,NaN]",
        ),
        (
            "vector8",
            "[-0,0]",
            "000000000000000000000000000204",
            "[0,0]",
        ),
        ("vector8", "[]", "0000000000000000000004", "[]"),
        (
            "vector8",
            "[0.1,-0.25,7.5,-3]",
            "4B43FF00A9A8283D000040C0000004",
            "[0.0882354,-0.241176,7.5,-3]",
        ),
        ("vector1bit", "[1]", "010F03", "[1]"),
        ("vector1bit", "[1,1,1]", "070D03", "[1,1,1]"),
        (
            "vector1bit",
            "[1,1,1,1,1,1,1,1]",
            "FF0803",
            "[1,1,1,1,1,1,1,1]",
        ),
        (
            "vector1bit",
            "[1,1,1,1,1,1,1,1,1]",
            "FF01001703",
            "[1,1,1,1,1,1,1,1,1]",
        ),
        (
            "vector1bit",
            "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
            "FFFF010F03",
            "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
        ),
        (
            "vector1bit",
            "[-0,0,1e-45,-1e-45]",
            "040C03",
            "[-1,-1,1,-1]",
        ),
        ("vector1bit", "[]", "001003", "[]"),
        (
            "vector1bit",
            "[1,-1,1,-1,1,-1,1,-1,1,-1,1,-1,1,-1,1,-1]",
            "5555001003",
            "[1,-1,1,-1,1,-1,1,-1,1,-1,1,-1,1,-1,1,-1]",
        ),
    ];

    fn function_type(name: &str) -> ElementType {
        match name {
            "vector32" => ElementType::Float32,
            "vector64" => ElementType::Float64,
            "vector16" => ElementType::Float16,
            "vectorb16" => ElementType::BFloat16,
            "vector8" => ElementType::Float8,
            "vector1bit" => ElementType::Bit,
            _ => unreachable!(),
        }
    }

    #[test]
    fn golden_blobs_from_libsql() {
        for &(func, text, blob, extract) in GOLDEN {
            let v = vector_from_text(text, function_type(func)).unwrap();
            assert_eq!(hex(&encode(&v).unwrap()), blob, "{func}('{text}')");
            let back = decode(&unhex(blob)).unwrap();
            assert!(same_bits(&back, &v), "{func}('{text}') decodes to {back:?}");
            assert_eq!(
                format_text(&back),
                extract,
                "vector_extract({func}('{text}'))"
            );
        }
    }

    #[test]
    fn conversions_between_types_match_libsql() {
        let cases: &[(&str, ElementType, &str)] = &[
            (
                "007FFF008180003C0000803F000104",
                ElementType::Float16,
                "003CFC3F004205",
            ),
            ("000000000000F0BF02", ElementType::Float32, "000080BF"),
            ("9A9999999999F13F02", ElementType::Float32, "CDCC8C3F"),
            (
                "0000803F000080BF",
                ElementType::Float64,
                "000000000000F03F000000000000F0BF02",
            ),
            (
                "050D03",
                ElementType::Float64,
                "000000000000F03F000000000000F0BF000000000000F03F02",
            ),
            (
                "050D03",
                ElementType::Float8,
                "FF00FF008180003C000080BF000104",
            ),
            (
                "007FFF008180003C0000803F000104",
                ElementType::Float8,
                "007FFF008180003C0000803F000104",
            ),
            ("0100807F", ElementType::BFloat16, "807F06"),
            ("0100807F", ElementType::Float16, "007E05"),
            ("0000C0FF", ElementType::Float16, "00FE05"),
            ("0000803F01", ElementType::Float32, "0000803F"),
            ("BD7F06", ElementType::Float32, "0000BD7F"),
            ("003C00BC007C05", ElementType::BFloat16, "803F80BF807F06"),
            ("803F80BF06", ElementType::Float16, "003C00BC05"),
            ("007FFF008180003C0000803F000104", ElementType::Bit, "070D03"),
            (
                "007FFF008180003C0000803F000104",
                ElementType::Float64,
                "000000000000F03F00000000F0EFFF3F000000000000084002",
            ),
        ];
        for &(from, to, want) in cases {
            let v = decode(&unhex(from)).unwrap();
            let got = encode(&convert(&v, to).unwrap()).unwrap();
            assert_eq!(hex(&got), want, "{from} -> {to:?}");
        }
        // FLOAT64 → FLOAT8 divides in f64: same codes here, but alpha/shift come from f32.
        let v = vector_from_text("[1,2,3]", ElementType::Float64).unwrap();
        assert_eq!(
            hex(&encode(&convert(&v, ElementType::Float8).unwrap()).unwrap()),
            "007FFF008180003C0000803F000104"
        );
        // FLOAT64 → bit compares in f64.
        let v = Vector::Float64(vec![1e-50, -1e-50, 0.0]);
        assert_eq!(
            hex(&encode(&convert(&v, ElementType::Bit).unwrap()).unwrap()),
            "010D03"
        );
    }

    #[test]
    fn format_g_matches_sqlite_printf() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.9960784, "1.99608"),
            (3e-7, "3e-07"),
            (123456789.0, "1.23457e+08"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (999999.5, "1e+06"),
            (123456.5, "123457"),
            (-203236.5, "-203237"),
            (96592.25, "96592.3"),
            (0.0009765625, "0.000976563"),
            (1e300, "1e+300"),
            (1e-310, "1e-310"),
            (1.401298464324817e-45, "1.4013e-45"),
            (-0.0, "0"),
            (f64::INFINITY, "Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (-1.5, "-1.5"),
            (0.000123456789, "0.000123457"),
            (12.5, "12.5"),
        ];
        for &(x, want) in cases {
            assert_eq!(format_g(x), want, "{x:e}");
        }
    }

    #[test]
    fn f16_and_bf16_follow_libsql() {
        assert_eq!(f16_from_f32(1.0).to_bits(), 0x3c00);
        assert_eq!(f16_from_f32(65504.0).to_bits(), 0x7bff);
        assert_eq!(f16_from_f32(65520.0).to_bits(), 0x7c00);
        assert_eq!(f16_from_f32(1e10).to_bits(), 0x7c00);
        assert_eq!(f16_from_f32(-1e-10).to_bits(), 0x8000);
        // Ties to even in the normal range.
        assert_eq!(f16_from_f32(1.0 + 2f32.powi(-11)).to_bits(), 0x3c00);
        assert_eq!(f16_from_f32(1.0 + 3.0 * 2f32.powi(-11)).to_bits(), 0x3c02);
        // The subnormal quirk: 2^-25 plus a sticky bit rounds down in libSQL, up when correct.
        let x = f32::from_bits(0x3300_0001);
        assert_eq!(f16_from_f32(x).to_bits(), 0x0000);
        assert_eq!(f16::from_f32(x).to_bits(), 0x0001);
        assert_eq!(bf16_from_f32(-1.99999).to_bits(), 0xbfff);
        // libSQL widens bfloat16 by shifting, so a signalling NaN stays signalling.
        assert_eq!(bf16_to_f32(bf16::from_bits(0x7fbd)).to_bits(), 0x7fbd_0000);
        assert_eq!(bf16_from_f32(f32::from_bits(0x7f80_0001)).to_bits(), 0x7f80);
    }

    #[test]
    fn float8_quantisation_rule() {
        let q = quantize_float8(&[1.0, 2.0, 3.0]);
        // 1 / (2/255) is 127.49999 in f32, so the middle code is 127, not 128.
        assert_eq!(q.codes, vec![0, 127, 255]);
        let q = quantize_float8(&[0.0, -0.0]);
        assert_eq!(q.shift.to_bits(), (-0.0f32).to_bits());
        let q = quantize_float8(&[-0.0, 0.0]);
        assert_eq!(q.shift.to_bits(), 0);
        let q = quantize_float8(&[]);
        assert_eq!((q.alpha, q.shift), (0.0, 0.0));
        let q = quantize_float8(&[3e38, -3e38]);
        assert_eq!(q.codes, vec![0, 0]);
        assert!(q.alpha.is_infinite());
    }

    #[test]
    fn distances_match_libsql() {
        let t = |s: &str, ty| vector_from_text(s, ty).unwrap();
        let f32t = ElementType::Float32;
        let cos = |a: &Vector, b: &Vector| distance_cos(a, b).unwrap();
        let l2 = |a: &Vector, b: &Vector| distance_l2(a, b).unwrap();
        assert_eq!(
            cos(&t("[1,2]", f32t), &t("[3,4]", f32t)),
            0.01613008975982666
        );
        assert_eq!(
            cos(&t("[1,2]", f32t), &t("[3,5.1]", f32t)),
            0.0023162870202213526
        );
        let f64t = ElementType::Float64;
        assert_eq!(
            cos(&t("[1,2]", f64t), &t("[3,5.1]", f64t)),
            0.0023163072764873505
        );
        assert_eq!(l2(&t("[1,2]", f64t), &t("[3,5]", f64t)), 3.605551242828369);
        let f8 = ElementType::Float8;
        assert_eq!(
            cos(&t("[1,2,3]", f8), &t("[1,2,4]", f8)),
            0.008442153222858906
        );
        assert_eq!(l2(&t("[1,2,3]", f8), &t("[1,2,4]", f8)), 1.0000076293945312);
        let bit = ElementType::Bit;
        assert_eq!(cos(&t("[1,2,-3]", bit), &t("[1,-2,3]", bit)), 2.0);
        assert!(cos(&t("[0,0]", f32t), &t("[1,2]", f32t)).is_nan());
        assert_eq!(l2(&t("[0,0]", f32t), &t("[0,0]", f32t)), 0.0);

        let err = |r: Result<f64, VectorError>| r.unwrap_err().to_string();
        assert_eq!(
            err(distance_cos(&t("[1,2]", f32t), &t("[1,2]", f64t))),
            "vector_distance: vectors must have the same type: 1 != 2"
        );
        assert_eq!(
            err(distance_l2(&t("[1,2]", f32t), &t("[1,2,3]", f32t))),
            "vector_distance: vectors must have the same length: 2 != 3"
        );
        assert_eq!(
            err(distance_l2(&t("[1,2]", bit), &t("[1,-2]", bit))),
            "vector_distance: l2 distance is not supported for float1bit vectors"
        );
    }

    #[test]
    fn distances_overflow_in_f32_like_libsql() {
        let large = ("[1e20,2e20,-3e20]", "[-1e20,5e19,3e20]");
        let small = ("[1e-20,2e-20]", "[3e-20,-1e-20]");
        // (function, pair, cos, l2) as libSQL answers; NaN stands for SQL NULL.
        let cases = [
            ("vector32", large, f64::NAN, f64::INFINITY),
            ("vector32", small, f64::NEG_INFINITY, 3.605551366265363e-20),
            ("vector64", large, 1.7513054609298706, 6.500000306187563e+20),
            ("vector64", small, 0.858578622341156, 3.605551366265363e-20),
            ("vector16", large, f64::NAN, f64::NAN),
            ("vector16", small, f64::NAN, 0.0),
            ("vectorb16", large, f64::NAN, f64::INFINITY),
            ("vectorb16", small, f64::NEG_INFINITY, 3.588474287142691e-20),
            ("vector8", large, f64::NAN, f64::INFINITY),
            ("vector8", small, f64::NEG_INFINITY, 3.605551366265363e-20),
        ];
        let same = |got: f64, want: f64| got == want || (got.is_nan() && want.is_nan());
        for (func, (a, b), cos, l2) in cases {
            let ty = function_type(func);
            let (a, b) = (
                vector_from_text(a, ty).unwrap(),
                vector_from_text(b, ty).unwrap(),
            );
            let got = distance_cos(&a, &b).unwrap();
            assert!(same(got, cos), "{func} cos: {got} vs {cos}");
            let got = distance_l2(&a, &b).unwrap();
            assert!(same(got, l2), "{func} l2: {got} vs {l2}");
        }
    }

    #[test]
    fn decode_errors_name_the_problem() {
        let err = |h: &str| decode(&unhex(h)).unwrap_err().to_string();
        assert_eq!(
            err("000001"),
            "vector: float32 vector blob length must be divisible by 4 (excluding optional 'type'-byte): length=2"
        );
        assert_eq!(
            err("010203040506070809"),
            "vector: unexpected binary type: 9"
        );
        assert_eq!(err("00"), "vector: unexpected binary type: 0");
        assert_eq!(
            err("03"),
            "vector: float1bit vector blob length must be divisible by 2 and not be empty (excluding 'type'-byte): length=0"
        );
        assert_eq!(
            err("04"),
            "vector: float8 vector blob length must be divisible by 2 and has at least 2 bytes (excluding 'type'-byte): length=0"
        );
        assert_eq!(
            err("0102030405060708000002"),
            "vector: float64 vector blob length must be divisible by 8 (excluding 'type'-byte): length=10"
        );
        assert!(err("0102").contains("divisible by 4"));
        assert!(err("FF1103").contains("17 of its 16 bits"));
        assert!(err("000004").contains("too short"));
        // Twelve data bytes hold 1..=4 codes; a padding count of 4 claims 0.
        assert!(err(&format!("{}000404", "00".repeat(12))).contains("needs 8 data bytes, found 12"));
        let mut big = vec![0u8; (MAX_DIMENSIONS + 1) * 4];
        assert_eq!(
            decode(&big).unwrap_err().to_string(),
            "vector: max size exceeded: 65537 > 65536"
        );
        big.truncate(MAX_DIMENSIONS * 4);
        assert_eq!(decode(&big).unwrap().dimensions(), MAX_DIMENSIONS);
        assert!(matches!(
            encode(&Vector::Int8(vec![1])),
            Err(VectorError::Unsupported(_))
        ));
    }

    #[test]
    fn decode_reads_what_libsql_reads() {
        // An explicit FLOAT32 type byte.
        assert!(same_bits(
            &decode(&unhex("0000803F01")).unwrap(),
            &Vector::Float32(vec![1.0])
        ));
        assert_eq!(decode(&[]).unwrap(), Vector::Float32(vec![]));
        assert_eq!(decode(&[1]).unwrap(), Vector::Float32(vec![]));
        assert_eq!(decode(&[2]).unwrap(), Vector::Float64(vec![]));
        // A FLOAT1BIT count below 8 makes the count byte itself data, as in libSQL.
        let v = decode(&unhex("FF0003")).unwrap();
        assert_eq!(format_text(&v), "[1,1,1,1,1,1,1,1,-1,-1,-1,-1,-1,-1,-1,-1]");
        // FLOAT8 padding counts 0..=3 all fit twelve data bytes; the count picks the length.
        for (count, dims) in [(0, 4), (1, 3), (2, 2), (3, 1)] {
            let blob = unhex(&format!("010203040000803F00000040000{count}04"));
            assert_eq!(decode(&blob).unwrap().dimensions(), dims);
        }
    }

    #[test]
    fn text_parsing_follows_libsql() {
        assert_eq!(
            parse_text("[1e2, .5, 5., +3, -0.0]").unwrap(),
            vec![100.0, 0.5, 5.0, 3.0, -0.0]
        );
        assert_eq!(parse_text("[1 2]").unwrap(), vec![12.0]);
        assert_eq!(parse_text("  [ 1 , 2 ]\n").unwrap(), vec![1.0, 2.0]);
        assert_eq!(parse_text("[ ]").unwrap(), Vec::<f64>::new());
        assert_eq!(parse_text("[1e400]").unwrap(), vec![f64::INFINITY]);
        assert_eq!(parse_text("[1,2]\0junk").unwrap(), vec![1.0, 2.0]);
        let err = |s: &str| parse_text(s).unwrap_err().to_string();
        assert_eq!(err("[1,2"), "vector: must end with ']'");
        assert_eq!(err("1,2]"), "vector: must start with '['");
        assert_eq!(err(""), "vector: must start with '['");
        assert_eq!(
            err("[1,2] x"),
            "vector: non-space symbols after closing ']' are forbidden"
        );
        assert_eq!(err("[1,,2]"), "vector: invalid float at position 1: ''");
        assert_eq!(err("[1,2,]"), "vector: invalid float at position 2: ''");
        assert_eq!(err("[inf]"), "vector: invalid float at position 0: 'inf'");
        assert_eq!(err("[NaN]"), "vector: invalid float at position 0: 'NaN'");
        assert_eq!(err("[0x10]"), "vector: invalid float at position 0: '0x10'");
        assert_eq!(
            err("[1.5e+]"),
            "vector: invalid float at position 0: '1.5e+'"
        );
        assert_eq!(err("[[1]]"), "vector: invalid float at position 0: '[1'");
        assert_eq!(err("[.]"), "vector: invalid float at position 0: '.'");
        let ok = format!("[{}]", "1".repeat(1025));
        assert_eq!(parse_text(&ok).unwrap(), vec![f64::INFINITY]);
        let long = format!("[{}]", "1".repeat(1026));
        assert!(
            err(&long).starts_with("vector: float string length exceeded 1024 characters: '111")
        );
        let max = format!("[{}]", vec!["1"; MAX_DIMENSIONS].join(","));
        assert_eq!(parse_text(&max).unwrap().len(), MAX_DIMENSIONS);
        let over = format!("[{}]", vec!["1"; MAX_DIMENSIONS + 1].join(","));
        assert_eq!(err(&over), "vector: max size exceeded 65536");
    }

    fn any_f32() -> impl Strategy<Value = f32> {
        any::<u32>().prop_map(f32::from_bits)
    }

    fn any_vector() -> impl Strategy<Value = Vector> {
        let len = 1usize..=200;
        prop_oneof![
            prop::collection::vec(any_f32(), len.clone()).prop_map(Vector::Float32),
            prop::collection::vec(any::<u64>().prop_map(f64::from_bits), len.clone())
                .prop_map(Vector::Float64),
            prop::collection::vec(any::<u16>().prop_map(f16::from_bits), len.clone())
                .prop_map(Vector::Float16),
            prop::collection::vec(any::<u16>().prop_map(bf16::from_bits), len.clone())
                .prop_map(Vector::BFloat16),
            (
                prop::collection::vec(any::<u8>(), len.clone()),
                any_f32(),
                any_f32()
            )
                .prop_map(|(codes, alpha, shift)| Vector::Float8(Float8Vector {
                    codes,
                    alpha,
                    shift
                })),
            prop::collection::vec(any::<bool>(), len)
                .prop_map(|b| Vector::Bit(BitVector::from_bools(b))),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(v in any_vector()) {
            let blob = encode(&v).unwrap();
            // Only FLOAT32 may have an even length; everything else carries its type byte.
            prop_assert_eq!(blob.len() & 1 == 0, matches!(v, Vector::Float32(_)));
            let back = decode(&blob).unwrap();
            prop_assert!(same_bits(&back, &v), "{:?} -> {:?}", v, back);
        }

        #[test]
        fn quantize_float8_matches_its_own_definition(values in prop::collection::vec(-1e6f32..1e6, 1..200)) {
            let q = quantize_float8(&values);
            let deq = q.dequantize();
            for (x, y) in values.iter().zip(&deq) {
                prop_assert!((x - y).abs() <= q.alpha * 0.5 + q.alpha.abs() * 1e-3 + 1e-3);
            }
        }

        #[test]
        fn format_g_agrees_with_rust_except_on_ties(x in any::<u64>().prop_map(f64::from_bits)) {
            prop_assume!(x.is_finite() && x != 0.0);
            // Away from exact ties, SQLite's %g is C's %g; compare the digits with Rust's
            // correctly rounded (ties-to-even) formatting.
            let exact = format!("{:.800e}", x.abs());
            let (mantissa, _) = exact.split_once('e').unwrap();
            let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            prop_assume!(!(digits.as_bytes()[6] == b'5' && digits[7..].bytes().all(|d| d == b'0')));
            let ours = format_g(x);
            let reparsed: f64 = ours.parse().unwrap();
            let rust: f64 = format!("{x:.5e}").parse().unwrap();
            prop_assert_eq!(reparsed, rust);
        }
    }
}
