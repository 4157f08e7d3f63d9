//! JSON lines: per line a bare array of numbers, or an object with a `vector` (or
//! `embedding`) key and, optionally, `id`, `text` and the fields of the requested columns.
//! Blank lines are skipped.

use std::io::BufRead;

use serde_json::Value as Json;

use super::fields::{self, Cell, ColumnSpec, Named};
use super::{Location, Parse, Parsed, ReadError};

pub(super) fn parse(reader: impl BufRead + 'static, columns: Vec<ColumnSpec>) -> impl Parse {
    let mut lines = reader.lines();
    let mut line_no = 0u64;
    move || loop {
        line_no += 1;
        let location = Location::Line(line_no);
        let line = match lines.next()? {
            Ok(line) => line,
            Err(e) => return Some(Err(ReadError::new(location, format!("read error: {e}")))),
        };
        if !line.trim().is_empty() {
            return Some(
                record(&line, &columns)
                    .map_err(|m| ReadError::new(location, m))
                    .map(|(vector, named)| Parsed {
                        location,
                        vector,
                        named,
                    }),
            );
        }
    }
}

fn record(line: &str, columns: &[ColumnSpec]) -> Result<(Vec<f32>, Named), String> {
    let value: Json = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    match value {
        Json::Array(items) if columns.is_empty() => {
            Ok((fields::numbers(&items)?, Named::default()))
        }
        Json::Array(_) => Err(fields::unnamed(columns, "a bare array")),
        Json::Object(map) => {
            let (key, cell) = ["vector", "embedding"]
                .iter()
                .find_map(|k| map.get(*k).map(|v| (*k, Cell::Json(v))))
                .ok_or("object has no \"vector\" (or \"embedding\") key")?;
            let vector = fields::vector(cell, &format!("{key:?}"))?;
            Ok((vector, fields::named(&map, columns)?))
        }
        _ => Err("expected an array of numbers or an object with a \"vector\" key".into()),
    }
}
