//! The text form: `vector_extract()`'s printing and the `[...]` parser.

use crate::error::LibsqlTextError;
use crate::vector::{ElementType, Vector, MAX_DIMENSIONS};
use crate::VectorError;

use super::convert::*;

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
        return Err(LibsqlTextError::MissingOpen.into());
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
                return Err(LibsqlTextError::NumberTooLong {
                    token: String::from_utf8_lossy(&token).into_owned(),
                    max: MAX_NUMBER_CHARS,
                }
                .into());
            }
            token.push(b);
            continue;
        }
        if b == b']' && values.is_empty() && token.is_empty() {
            closed = true;
            break;
        }
        let Some(value) = parse_sqlite_number(&token) else {
            return Err(LibsqlTextError::InvalidNumber {
                position: values.len(),
                token: String::from_utf8_lossy(&token).into_owned(),
            }
            .into());
        };
        if values.len() >= MAX_DIMENSIONS {
            return Err(LibsqlTextError::TooManyDimensions {
                max: MAX_DIMENSIONS,
            }
            .into());
        }
        values.push(value);
        token.clear();
        if b == b']' {
            closed = true;
            break;
        }
    }
    if !closed {
        return Err(LibsqlTextError::MissingClose.into());
    }
    if bytes[pos..].iter().any(|&b| !is_sqlite_space(b)) {
        return Err(LibsqlTextError::TrailingSymbols.into());
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
