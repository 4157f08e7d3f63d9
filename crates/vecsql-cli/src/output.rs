//! Printing: tables (comfy-table, fitted to the terminal when there is one), JSON lines for
//! scripts, and SQL values as text.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use rusqlite::types::ValueRef;

/// A table with vecsql's look: rounded UTF-8 borders, fitted to the terminal's width.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED.with_rounded_corners())
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

/// Right-aligns the columns at `indexes` (numbers).
pub fn align_right(table: &mut Table, indexes: &[usize]) {
    for &i in indexes {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Cuts `text` to at most `max` characters (not bytes), marking the cut with `…`, and puts
/// it on one line.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if max == 0 || one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// An SQL value as a table cell: NULL as `NULL`, floats with up to 6 significant decimals,
/// blobs as their size (and the first bytes in hex).
pub fn cell(value: ValueRef<'_>, max_width: usize) -> String {
    match value {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => format_real(f),
        ValueRef::Text(t) => truncate(&String::from_utf8_lossy(t), max_width),
        ValueRef::Blob(b) => {
            let hex: String = b.iter().take(8).map(|x| format!("{x:02x}")).collect();
            let more = if b.len() > 8 { "…" } else { "" };
            format!("blob[{}] x'{hex}{more}'", b.len())
        }
    }
}

/// A float with 6 significant decimals, without trailing noise.
pub fn format_real(f: f64) -> String {
    if f == 0.0 || (f.abs() >= 1e-4 && f.abs() < 1e9) {
        let s = format!("{f:.6}");
        let s = s.trim_end_matches('0');
        let s = s
            .strip_suffix('.')
            .map(|x| format!("{x}.0"))
            .unwrap_or(s.to_string());
        s
    } else {
        format!("{f:e}")
    }
}

/// An SQL value as JSON: blobs become lowercase hex strings.
pub fn json(value: ValueRef<'_>) -> serde_json::Value {
    match value {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
            .into(),
    }
}

/// Milliseconds with a precision that suits their size.
pub fn millis(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 100.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.0}")
    }
}

/// Bytes as B, KiB, MiB or GiB.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// An integer with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(truncate("héllo world", 5), "héll…");
        assert_eq!(truncate("a\nb", 10), "a b");
        assert_eq!(format_real(0.25), "0.25");
        assert_eq!(format_real(1.0), "1.0");
        assert_eq!(format_real(0.0), "0.0");
        assert_eq!(format_real(1.5e-7), "1.5e-7");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(cell(ValueRef::Blob(&[1, 2]), 10), "blob[2] x'0102'");
    }
}
