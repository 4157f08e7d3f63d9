//! SQLite's type affinity and comparison rules, for the filters vec0 evaluates itself.
//!
//! A constraint vec0 consumes never reaches SQLite's own comparison code, so vec0 must answer
//! as an ordinary table with the same declared column types would: the value compared with a
//! column first gets the column's affinity (`rowid = '3'` finds row 3, `tag = 3` finds the
//! text `'3'`), then values compare in SQLite's order (NULL matches nothing; numbers < text <
//! blobs; integers and reals by value; text and blobs bytewise).

use std::cmp::Ordering;

use crate::ffi::OwnedValue;

/// The affinity of a declared column type (SQLite's "Determination Of Column Affinity").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Real,
    Numeric,
    Text,
    Blob,
}

impl Affinity {
    /// SQLite's rules, in their order: INT, then CHAR/CLOB/TEXT, then BLOB or no type, then
    /// REAL/FLOA/DOUB, else NUMERIC.
    pub fn of_declared_type(declared: &str) -> Affinity {
        let t = declared.to_ascii_uppercase();
        if t.contains("INT") {
            Affinity::Integer
        } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
            Affinity::Text
        } else if t.contains("BLOB") || t.trim().is_empty() {
            Affinity::Blob
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }

    /// The value as SQLite converts it before comparing it with a column of this affinity.
    pub fn apply(self, value: OwnedValue) -> OwnedValue {
        match (self, value) {
            (Affinity::Integer | Affinity::Real | Affinity::Numeric, OwnedValue::Text(t)) => {
                parse_number(&t).unwrap_or(OwnedValue::Text(t))
            }
            (Affinity::Text, OwnedValue::Integer(i)) => OwnedValue::Text(i.to_string()),
            (Affinity::Text, OwnedValue::Real(f)) => OwnedValue::Text(real_to_text(f)),
            (_, value) => value,
        }
    }
}

impl Affinity {
    /// The value as an ordinary table column of this affinity stores it: [`Affinity::apply`],
    /// then a whole real within 64-bit range becomes an integer in INTEGER and NUMERIC
    /// columns, and an integer becomes a real in REAL columns.
    pub fn store(self, value: OwnedValue) -> OwnedValue {
        match (self, self.apply(value)) {
            (Affinity::Integer | Affinity::Numeric, OwnedValue::Real(f))
                if f.fract() == 0.0 && f.abs() < 9.2e18 =>
            {
                OwnedValue::Integer(f as i64)
            }
            (Affinity::Real, OwnedValue::Integer(i)) => OwnedValue::Real(i as f64),
            (_, value) => value,
        }
    }
}

/// Text that SQLite's numeric affinity turns into a number: an integer literal that fits in
/// 64 bits, or a decimal real, with optional surrounding whitespace; hex and words stay text.
fn parse_number(text: &str) -> Option<OwnedValue> {
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty() {
        return None;
    }
    if body.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = t.parse::<i64>() {
            return Some(OwnedValue::Integer(i));
        }
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let digits = mantissa.bytes().filter(|b| b.is_ascii_digit()).count();
    let well_formed = digits > 0
        && mantissa.bytes().filter(|&b| b == b'.').count() <= 1
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && exponent.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        });
    if !well_formed {
        return None;
    }
    let f: f64 = t.parse().ok()?;
    // Numeric affinity keeps a real that is a whole number within range as an integer.
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        Some(OwnedValue::Integer(f as i64))
    } else {
        Some(OwnedValue::Real(f))
    }
}

/// A real as SQLite renders it when text affinity applies (`%!.15g`: 15 significant
/// digits, always a decimal point).
pub fn real_to_text(f: f64) -> String {
    if f.is_nan() {
        return String::new();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Round to 15 significant digits first: the exponent is that of the rounded value.
    let sci = format!("{:.14e}", f);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if negative { "-" } else { "" };
    if (-4..15).contains(&exp) {
        let (int_part, frac_part) = if exp >= 0 {
            let e = exp as usize;
            let padded = format!("{digits:0<width$}", width = e + 1);
            (padded[..e + 1].to_string(), padded[e + 1..].to_string())
        } else {
            let zeros = "0".repeat((-exp - 1) as usize);
            ("0".to_string(), format!("{zeros}{digits}"))
        };
        let frac = if frac_part.is_empty() {
            "0".to_string()
        } else {
            frac_part
        };
        format!("{sign}{int_part}.{frac}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}.{rest}e{exp_sign}{:02}", exp.abs())
    }
}

fn class(v: &OwnedValue) -> u8 {
    match v {
        OwnedValue::Null => 0,
        OwnedValue::Integer(_) | OwnedValue::Real(_) => 1,
        OwnedValue::Text(_) => 2,
        OwnedValue::Blob(_) => 3,
    }
}

/// An integer and a real compared exactly (not through a lossy cast of a large integer).
fn compare_int_real(i: i64, r: f64) -> Ordering {
    if r.is_nan() {
        return Ordering::Greater;
    }
    if r < -9.223_372_036_854_776e18 {
        return Ordering::Greater;
    }
    if r >= 9.223_372_036_854_776e18 {
        return Ordering::Less;
    }
    let truncated = r.trunc() as i64;
    match i.cmp(&truncated) {
        Ordering::Equal => 0.0f64.partial_cmp(&r.fract()).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// SQLite's ordering of two values, or None when either is NULL (the comparison is NULL, so
/// no operator accepts it).
pub fn compare(a: &OwnedValue, b: &OwnedValue) -> Option<Ordering> {
    use OwnedValue::*;
    Some(match (a, b) {
        (Null, _) | (_, Null) => return None,
        (Integer(x), Integer(y)) => x.cmp(y),
        (Integer(x), Real(y)) => compare_int_real(*x, *y),
        (Real(x), Integer(y)) => compare_int_real(*y, *x).reverse(),
        (Real(x), Real(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Text(x), Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Blob(x), Blob(y)) => x.cmp(y),
        (x, y) => class(x).cmp(&class(y)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use OwnedValue::*;

    #[test]
    fn declared_types_get_sqlites_affinities() {
        for (t, a) in [
            ("integer", Affinity::Integer),
            ("BIGINT", Affinity::Integer),
            ("text", Affinity::Text),
            ("varchar(10)", Affinity::Text),
            ("", Affinity::Blob),
            ("blob", Affinity::Blob),
            ("float", Affinity::Real),
            ("double", Affinity::Real),
            ("boolean", Affinity::Numeric),
            ("numeric", Affinity::Numeric),
        ] {
            assert_eq!(Affinity::of_declared_type(t), a, "{t}");
        }
    }

    #[test]
    fn numeric_affinity_converts_only_well_formed_numbers() {
        let n = |s: &str| Affinity::Integer.apply(Text(s.into()));
        assert_eq!(n("3"), Integer(3));
        assert_eq!(n(" 3 "), Integer(3));
        assert_eq!(n("+3"), Integer(3));
        assert_eq!(n("-3"), Integer(-3));
        assert_eq!(n("3.0"), Integer(3));
        assert_eq!(n("1e3"), Integer(1000));
        assert_eq!(n("3.5"), Real(3.5));
        assert_eq!(n(".5"), Real(0.5));
        assert_eq!(n("99999999999999999999"), Real(1e20));
        for text in [
            "", "abc", "0x10", "3a", "inf", "nan", "1e", "1.2.3", "- 3", "e5",
        ] {
            assert_eq!(n(text), Text(text.into()), "{text:?}");
        }
        assert_eq!(Affinity::Blob.apply(Text("3".into())), Text("3".into()));
        assert_eq!(Affinity::Integer.apply(Blob(vec![51])), Blob(vec![51]));
    }

    #[test]
    fn text_affinity_renders_numbers_as_sqlite_does() {
        let t = |v| Affinity::Text.apply(v);
        assert_eq!(t(Integer(3)), Text("3".into()));
        assert_eq!(t(Integer(-12)), Text("-12".into()));
        for (f, s) in [
            (3.0, "3.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e20, "1.0e+20"),
            (1.5e-7, "1.5e-07"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (1e15, "1.0e+15"),
            (1e14, "100000000000000.0"),
        ] {
            assert_eq!(t(Real(f)), Text(s.into()), "{f}");
        }
    }

    #[test]
    fn values_compare_in_sqlites_order() {
        assert_eq!(compare(&Integer(3), &Real(3.0)), Some(Ordering::Equal));
        assert_eq!(compare(&Integer(3), &Real(3.5)), Some(Ordering::Less));
        assert_eq!(compare(&Real(-3.5), &Integer(-3)), Some(Ordering::Less));
        assert_eq!(
            compare(&Integer(i64::MAX), &Real(9.223_372_036_854_776e18)),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(&Integer(5), &Text("1".into())),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(&Text("z".into()), &Blob(vec![0])),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&Null, &Integer(1)), None);
        assert_eq!(compare(&Integer(1), &Null), None);
        assert_eq!(
            compare(&Text("ab".into()), &Text("b".into())),
            Some(Ordering::Less)
        );
    }
}
