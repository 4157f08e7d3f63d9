//! Vectors as JSON text: `'[0.1, 2, -3e-2]'`.
//!
//! The parser is strict where sqlite-vec's is lenient: sqlite-vec reads `[1,` as `[1]`, skips
//! garbage after `]` and accepts `nan`/`inf`, which silently stores data nobody meant. vecsql
//! rejects malformed arrays with the byte offset of the problem, and refuses NaN and infinity.
//! It keeps the number forms C's `strtod` users rely on (`+1`, `.5`, `5.`) since they are
//! unambiguous.

use crate::VectorError;

fn error(offset: usize, reason: impl Into<String>) -> VectorError {
    VectorError::Json {
        offset,
        reason: reason.into(),
    }
}

struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn skip_whitespace(&mut self) {
        while matches!(self.text.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            None => "end of input".to_string(),
            Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
            Some(b) => format!("byte 0x{b:02x}"),
        }
    }

    /// Reads one number in the forms `[+-]digits[.digits][(e|E)[+-]digits]`, `.5` and `5.`;
    /// with `integer_only`, just `[+-]digits`.
    fn number(&mut self, integer_only: bool) -> Result<f64, VectorError> {
        let start = self.pos;
        let bytes = self.text;
        let mut i = self.pos;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let int_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += int_digits;
        let mut frac_digits = 0;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            frac_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            i += frac_digits;
        }
        if int_digits + frac_digits == 0 {
            let word: String = bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic() || matches!(b, b'+' | b'-'))
                .map(|&b| b as char)
                .collect();
            let lower = word.trim_start_matches(['+', '-']).to_ascii_lowercase();
            if lower.starts_with("nan") || lower.starts_with("inf") {
                return Err(error(start, format!("{word} is not a finite number")));
            }
            self.pos = start;
            return Err(error(
                start,
                format!("expected a number, found {}", self.describe_here()),
            ));
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(bytes.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let exp_digits = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
            if exp_digits == 0 {
                return Err(error(j, "exponent has no digits"));
            }
            i = j + exp_digits;
        }
        // The slice is ASCII by construction, and every accepted form parses as f64.
        let literal = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
        if integer_only && (frac_digits > 0 || i != start + int_digits + sign_len(bytes, start)) {
            return Err(error(start, format!("{literal} is not an integer")));
        }
        let value: f64 = literal
            .parse()
            .map_err(|_| error(start, format!("{literal} is not a number")))?;
        let mantissa_nonzero = literal
            .split(['e', 'E'])
            .next()
            .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
        if !value.is_finite() || (value == 0.0 && mantissa_nonzero) {
            return Err(error(start, format!("{literal} is out of range")));
        }
        self.pos = i;
        Ok(value)
    }
}

fn sign_len(bytes: &[u8], start: usize) -> usize {
    matches!(bytes.get(start), Some(b'+' | b'-')) as usize
}

/// Parses a JSON array of numbers. Whitespace may surround any token; nothing may follow `]`.
pub fn parse_json_array(text: &[u8]) -> Result<Vec<f64>, VectorError> {
    parse(text, false)
}

/// Parses a JSON array of integers (no fraction or exponent), e.g. for int8 vectors.
pub fn parse_json_integers(text: &[u8]) -> Result<Vec<f64>, VectorError> {
    parse(text, true)
}

fn parse(text: &[u8], integer_only: bool) -> Result<Vec<f64>, VectorError> {
    let mut c = Cursor { text, pos: 0 };
    c.skip_whitespace();
    if c.peek() != Some(b'[') {
        return Err(error(
            c.pos,
            format!("expected '[', found {}", c.describe_here()),
        ));
    }
    c.pos += 1;
    let mut values = Vec::new();
    c.skip_whitespace();
    if c.peek() == Some(b']') {
        c.pos += 1;
    } else {
        loop {
            c.skip_whitespace();
            values.push(c.number(integer_only)?);
            c.skip_whitespace();
            match c.peek() {
                Some(b',') => c.pos += 1,
                Some(b']') => {
                    c.pos += 1;
                    break;
                }
                _ => {
                    return Err(error(
                        c.pos,
                        format!("expected ',' or ']', found {}", c.describe_here()),
                    ))
                }
            }
        }
    }
    c.skip_whitespace();
    if c.pos != text.len() {
        return Err(error(
            c.pos,
            format!("unexpected {} after the closing ']'", c.describe_here()),
        ));
    }
    Ok(values)
}

/// Whether `text` starts (after whitespace) with `[`: sqlite-vec reports text that does not
/// with its own message, which users may match on.
pub fn starts_like_array(text: &[u8]) -> bool {
    text.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|&b| b == b'[')
}

/// Shortest text that parses back to exactly `values` (Rust's round-trip float formatting).
pub fn format_json_array(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_format_parse_is_identity(
            values in proptest::collection::vec(
                any::<f64>().prop_filter("finite", |v| v.is_finite()), 0..100),
            spaces in 0usize..3,
        ) {
            let text = format_json_array(&values);
            let padded = text.replace(',', &format!("{},{}", " ".repeat(spaces), "\t".repeat(spaces)));
            let parsed = parse_json_array(padded.as_bytes()).unwrap();
            prop_assert_eq!(
                parsed.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            prop_assert_eq!(format_json_array(&parsed), text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_json_array(&bytes);
        }
    }

    fn ok(s: &str) -> Vec<f64> {
        parse_json_array(s.as_bytes()).unwrap()
    }

    fn offset(s: &str) -> usize {
        match parse_json_array(s.as_bytes()) {
            Err(VectorError::Json { offset, .. }) => offset,
            other => panic!("{s}: expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_json_and_strtod_number_forms() {
        assert_eq!(ok("[1, 2.5, -3e-2]"), vec![1.0, 2.5, -0.03]);
        assert_eq!(ok(" \n[ 1 ,\t2 ] \n"), vec![1.0, 2.0]);
        assert_eq!(ok("[+1,.5,5.,1E+3]"), vec![1.0, 0.5, 5.0, 1000.0]);
        assert_eq!(ok("[]"), Vec::<f64>::new());
        assert_eq!(ok("[-0]")[0].to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn reports_the_byte_offset_of_malformed_input() {
        assert_eq!(offset("[1,"), 3);
        assert_eq!(offset("[1"), 2);
        assert_eq!(offset("[1,2,]"), 5);
        assert_eq!(offset("[,1]"), 1);
        assert_eq!(offset("[1 2]"), 3);
        assert_eq!(offset("[1]x"), 3);
        assert_eq!(offset("[[1]]"), 1);
        assert_eq!(offset("abc"), 0);
        assert_eq!(offset("  x"), 2);
        assert_eq!(offset("[1e]"), 3);
        assert_eq!(offset("[0x10]"), 2);
        assert_eq!(offset("[\"1\"]"), 1);
    }

    #[test]
    fn refuses_non_finite_numbers() {
        for s in [
            "[nan]",
            "[NaN]",
            "[-inf]",
            "[Infinity]",
            "[1e309]",
            "[1e-400]",
            "[-0.1e-999]",
        ] {
            assert_eq!(offset(s), 1, "{s}");
        }
        let msg = parse_json_array(b"[1, nan]").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid JSON array at byte 4: nan is not a finite number"
        );
    }

    #[test]
    fn integer_mode_refuses_fractions_and_exponents() {
        assert_eq!(
            parse_json_integers(b"[-128, +7, 007]").unwrap(),
            vec![-128.0, 7.0, 7.0]
        );
        for s in ["[1.0]", "[1e2]", "[0.]", "[.5]"] {
            assert!(parse_json_integers(s.as_bytes()).is_err(), "{s}");
        }
        assert_eq!(
            parse_json_array(b"[0e5, 0.0e-999]").unwrap(),
            vec![0.0, 0.0]
        );
    }
}
