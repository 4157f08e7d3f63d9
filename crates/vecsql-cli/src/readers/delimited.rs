//! CSV and TSV: numbers per row, or, under a header, one column per vector component
//! (`v0, v1...`) or a `vector` column holding a JSON array, with optional `id`, `text` and the
//! requested columns. A first row is a header when declared (`--header`) or when every field
//! of it is a name; a first row mixing numbers and other fields is an error unless declared.

use std::io::Read;

use super::fields::{self, ColumnSpec, Header, Row};
use super::{Location, Parse, Parsed, ReadError};

/// Where a row's vector is.
#[derive(Debug, Clone)]
enum Vector {
    /// Every field of a header-less file.
    AllFields,
    /// The fields at these positions, one component each.
    Components(Vec<usize>),
    /// One field holding a JSON array.
    Json(usize),
}

/// What the first row said about the rest.
struct Layout {
    header: Header,
    vector: Vector,
    width: usize,
}

pub(super) fn parse(
    reader: impl Read + 'static,
    delimiter: u8,
    header: Option<bool>,
    columns: Vec<ColumnSpec>,
) -> impl Parse {
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(reader);
    let mut layout: Option<Layout> = None;
    let mut row = csv::StringRecord::new();
    move || loop {
        let read = csv_reader.read_record(&mut row);
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        match read {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                return Some(Err(ReadError::new(
                    Location::Line(line),
                    format!("unreadable CSV: {e}"),
                )));
            }
        }
        let location = Location::Line(line);
        if row.len() == 1 && row[0].trim().is_empty() {
            continue;
        }
        let error = |message: String| Some(Err(ReadError::new(location, message)));
        let layout = match &layout {
            Some(layout) => layout,
            None => {
                let is_header = match header.map_or_else(|| guess_header(&row), Ok) {
                    Ok(is_header) => is_header,
                    Err((i, value)) => {
                        return error(format!(
                            "{}; pass --header if this line is a header (one is recognised on \
                             its own only when every field is a name), or fix the row",
                            not_a_number(i, &value)
                        ))
                    }
                };
                if is_header {
                    match header_layout(&row, &columns) {
                        Ok(l) => layout = Some(l),
                        Err(message) => return error(message),
                    }
                    continue;
                }
                if !columns.is_empty() {
                    return error(fields::unnamed(&columns, "a CSV file without a header"));
                }
                layout.insert(Layout {
                    header: Header::default(),
                    vector: Vector::AllFields,
                    width: row.len(),
                })
            }
        };
        return Some(
            record(&row, layout, &columns)
                .map_err(|m| ReadError::new(location, m))
                .map(|(vector, named)| Parsed {
                    location,
                    vector,
                    named,
                }),
        );
    }
}

/// Whether a first row is a header when the user did not say: `Ok(true)` when every field is
/// a non-empty, non-numeric name, `Ok(false)` when every field is a number, else the first
/// field that is neither (it could be a header or a malformed row).
fn guess_header(row: &csv::StringRecord) -> Result<bool, (usize, String)> {
    let is_number = |f: &str| f.trim().parse::<f32>().is_ok();
    if row.iter().all(is_number) {
        return Ok(false);
    }
    if row.iter().all(|f| !f.trim().is_empty() && !is_number(f)) {
        return Ok(true);
    }
    let (i, field) = row
        .iter()
        .enumerate()
        .find(|(_, f)| !is_number(f))
        .expect("some field is not a number");
    Err((i, field.to_string()))
}

/// The message for a field that should be a number.
fn not_a_number(i: usize, value: &str) -> String {
    if value.trim().is_empty() {
        format!("field {} is empty", i + 1)
    } else {
        format!("field {} is not a number: {value:?}", i + 1)
    }
}

/// Whether a header name is one of a vector component (`v0`, `dim_3`, a number, nothing).
fn is_component(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n.is_empty()
        || n.parse::<f64>().is_ok()
        || (n.starts_with(['v', 'x', 'e', 'd', 'f', 'c']) && n[1..].parse::<u32>().is_ok())
        || (n.starts_with("dim") && n[3..].trim_start_matches('_').parse::<u32>().is_ok())
}

fn header_layout(row: &csv::StringRecord, columns: &[ColumnSpec]) -> Result<Layout, String> {
    let header = Header::new(row.iter());
    let names = || format!("{:?}", row.iter().collect::<Vec<_>>());
    let missing: Vec<&str> = columns
        .iter()
        .filter(|c| header.position(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "header {} has no column {}",
            names(),
            missing.join(", ")
        ));
    }
    let json = ["vector", "embedding"]
        .iter()
        .find_map(|name| header.position(name));
    // A requested column is never a component, whatever its name.
    let components: Vec<usize> = (0..row.len())
        .filter(|&i| {
            is_component(&row[i]) && !columns.iter().any(|c| header.position(&c.name) == Some(i))
        })
        .collect();
    let vector = match (json, components.is_empty()) {
        (Some(i), true) => Vector::Json(i),
        (None, false) => Vector::Components(components),
        (None, true) => {
            return Err(format!(
                "header {} names no vector: add a \"vector\" column (JSON array) or one column \
                 per component (v0, v1, ...)",
                names()
            ))
        }
        (Some(_), false) => {
            return Err("header has both a \"vector\" column and component columns".into())
        }
    };
    Ok(Layout {
        header,
        vector,
        width: row.len(),
    })
}

fn record(
    row: &csv::StringRecord,
    layout: &Layout,
    columns: &[ColumnSpec],
) -> Result<(Vec<f32>, fields::Named), String> {
    if row.len() != layout.width {
        return Err(format!(
            "{} fields, but the first row has {}",
            row.len(),
            layout.width
        ));
    }
    let component = |i: usize| {
        row[i]
            .trim()
            .parse::<f32>()
            .map_err(|_| not_a_number(i, &row[i]))
    };
    let vector = match &layout.vector {
        Vector::AllFields => (0..row.len()).map(component).collect::<Result<_, _>>()?,
        Vector::Components(positions) => positions
            .iter()
            .map(|&i| component(i))
            .collect::<Result<_, _>>()?,
        Vector::Json(i) => {
            fields::vector(fields::Cell::Text(&row[*i]), &format!("field {}", i + 1))?
        }
    };
    if matches!(layout.vector, Vector::AllFields) {
        return Ok((vector, fields::Named::default()));
    }
    let named = fields::named(
        &Row {
            header: &layout.header,
            row,
        },
        columns,
    )?;
    Ok((vector, named))
}
