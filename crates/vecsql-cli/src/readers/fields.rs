//! The named fields of a record: a JSON object's keys or a CSV row under its header. Both
//! formats hand their fields to the functions here, so the id, the text, a vector written as
//! one JSON array and the columns the import fills (metadata, partition keys, auxiliary
//! columns) are read, converted and checked the same way whatever the file's format.

use std::collections::HashMap;
use std::fmt;

use rusqlite::types::Value;
use serde_json::Value as Json;

/// A field's value as the file holds it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cell<'a> {
    Json(&'a Json),
    /// A CSV field: always text, converted by the column's type.
    Text(&'a str),
}

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Json(v) => write!(f, "{v}"),
            Cell::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A record's fields by name; `None` when the record has no such field.
pub(super) trait Fields {
    fn get(&self, name: &str) -> Option<Cell<'_>>;
}

/// A JSON object. Keys match exactly, else ignoring ASCII case (SQL column names do).
impl Fields for serde_json::Map<String, Json> {
    fn get(&self, name: &str) -> Option<Cell<'_>> {
        serde_json::Map::get(self, name)
            .or_else(|| {
                self.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .map(Cell::Json)
    }
}

/// A CSV header: the position of each name, lower-cased (the first of repeated names wins).
#[derive(Debug, Clone, Default)]
pub(super) struct Header {
    positions: HashMap<String, usize>,
}

impl Header {
    pub(super) fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let mut positions = HashMap::new();
        for (i, name) in names.enumerate() {
            positions
                .entry(name.trim().to_ascii_lowercase())
                .or_insert(i);
        }
        Header { positions }
    }

    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.positions.get(&name.to_ascii_lowercase()).copied()
    }
}

/// A CSV row under its header.
pub(super) struct Row<'a> {
    pub header: &'a Header,
    pub row: &'a csv::StringRecord,
}

impl Fields for Row<'_> {
    fn get(&self, name: &str) -> Option<Cell<'_>> {
        self.row.get(self.header.position(name)?).map(Cell::Text)
    }
}

/// The type a column's values must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Integer,
    Float,
    /// Stored as 0 or 1: JSON `true`/`false`/0/1, CSV `true`/`false`/`1`/`0`.
    Boolean,
    Text,
    /// Any value as the file holds it (JSON numbers, strings...; CSV fields as text).
    Any,
}

impl ValueType {
    fn expected(self) -> &'static str {
        match self {
            ValueType::Integer => "an integer",
            ValueType::Float => "a number",
            ValueType::Boolean => "a boolean (true, false, 1 or 0)",
            ValueType::Text => "text",
            ValueType::Any => "a value",
        }
    }
}

/// A table column the import fills from the record field of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: ValueType,
    /// Whether a missing field, JSON null or an empty CSV number becomes NULL (auxiliary
    /// columns) instead of an error (metadata and partition keys, which vec0 keeps non-NULL).
    pub nullable: bool,
}

/// What a record with named fields carries besides its vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Named {
    /// `id`: an integer, or none (JSON null, empty CSV field).
    pub id: Option<i64>,
    /// `text`.
    pub text: Option<String>,
    /// One value per requested column, in the order asked.
    pub columns: Vec<Value>,
}

/// Reads `id`, `text` and every requested column from `fields`. The error names the field.
pub(super) fn named(fields: &impl Fields, columns: &[ColumnSpec]) -> Result<Named, String> {
    let id = match fields.get("id") {
        None => None,
        Some(cell) => match convert(cell, "id", ValueType::Integer, true)? {
            Value::Integer(i) => Some(i),
            _ => None,
        },
    };
    let text = match fields.get("text") {
        None | Some(Cell::Json(Json::Null)) => None,
        Some(Cell::Json(Json::String(s))) => Some(s.clone()),
        Some(Cell::Json(other)) => Some(other.to_string()),
        Some(Cell::Text(s)) => Some(s.to_string()),
    };
    let columns = columns
        .iter()
        .map(|c| match fields.get(&c.name) {
            Some(cell) => convert(cell, &c.name, c.ty, c.nullable),
            None if c.nullable => Ok(Value::Null),
            None => Err(format!("no {:?} field", c.name)),
        })
        .collect::<Result<_, _>>()?;
    Ok(Named { id, text, columns })
}

/// `cell` as a value of type `ty` for the field `name`.
fn convert(cell: Cell<'_>, name: &str, ty: ValueType, nullable: bool) -> Result<Value, String> {
    let wrong = || format!("{name:?} must be {}, found {cell}", ty.expected());
    let text = match cell {
        Cell::Json(Json::Null) if nullable => return Ok(Value::Null),
        Cell::Json(Json::Null) => return Err(format!("{name:?} is null")),
        Cell::Json(json) => {
            return match (ty, json) {
                (ValueType::Integer, Json::Number(n)) => n.as_i64().map(Value::Integer),
                (ValueType::Float, Json::Number(n)) => n.as_f64().map(Value::Real),
                (ValueType::Boolean, Json::Bool(b)) => Some(Value::Integer(i64::from(*b))),
                (ValueType::Boolean, Json::Number(n)) => match n.as_i64() {
                    Some(i @ (0 | 1)) => Some(Value::Integer(i)),
                    _ => None,
                },
                (ValueType::Text | ValueType::Any, Json::String(s)) => Some(Value::Text(s.clone())),
                (ValueType::Any, Json::Number(n)) => n
                    .as_i64()
                    .map(Value::Integer)
                    .or_else(|| n.as_f64().map(Value::Real)),
                (ValueType::Any, Json::Bool(b)) => Some(Value::Integer(i64::from(*b))),
                (ValueType::Any, other) => Some(Value::Text(other.to_string())),
                _ => None,
            }
            .ok_or_else(wrong);
        }
        Cell::Text(text) => text,
    };
    if matches!(ty, ValueType::Text | ValueType::Any) {
        return Ok(Value::Text(text.to_string()));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return if nullable {
            Ok(Value::Null)
        } else {
            Err(format!("{name:?} is empty"))
        };
    }
    match ty {
        ValueType::Integer => trimmed.parse().map(Value::Integer).ok(),
        ValueType::Float => trimmed
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Value::Real),
        _ => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Value::Integer(1)),
            "false" | "0" => Some(Value::Integer(0)),
            _ => None,
        },
    }
    .ok_or_else(wrong)
}

/// The vector of a `vector` (or `embedding`) field: a JSON array of numbers, or such an array
/// written as a string (a CSV field, or JSON text inside JSON). `name` says which field, for
/// messages.
pub(super) fn vector(cell: Cell<'_>, name: &str) -> Result<Vec<f32>, String> {
    let text = match cell {
        Cell::Json(Json::Array(items)) => return numbers(items),
        Cell::Json(Json::String(s)) => s.as_str(),
        Cell::Text(s) => s,
        Cell::Json(_) => return Err(format!("{name} must be an array of numbers")),
    };
    let items: Vec<Json> = serde_json::from_str(text)
        .map_err(|e| format!("{name} is not a JSON array of numbers: {e}"))?;
    numbers(&items)
}

/// The elements of a JSON array as float32s.
pub(super) fn numbers(items: &[Json]) -> Result<Vec<f32>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| format!("element {i} is not a number: {v}"))
        })
        .collect()
}

/// The error for a record without field names when columns were asked for.
pub(super) fn unnamed(columns: &[ColumnSpec], what: &str) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    format!(
        "{what} has no field names, so the columns {} cannot be filled; they come from a CSV \
         header or the keys of JSON objects",
        names.join(", ")
    )
}
