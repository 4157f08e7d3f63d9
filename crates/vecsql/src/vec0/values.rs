//! Converting SQL values into what a vec0 column stores, with sqlite-vec's messages naming the
//! column and the expected shape.

use half::{bf16, f16};
use vecsql_core::format::sqlite_vec;
use vecsql_core::Vector;

use super::layout::{ColumnRole, ElementType, Layout, MetadataKind, VectorColumn};
use super::query::scan::Query;
use super::schema::AuxiliaryType;
use crate::error::SqlError;
use crate::ffi::value::SUBTYPE_JSON;
use crate::ffi::{OwnedValue, SqlArg, SqlValue};
use crate::sql_vector;
use crate::vec0::error::{ArgumentError, Vec0Error, Vec0Result};

/// Whether a vector is being inserted, updated or used as a query, for messages (each has
/// its own wording in sqlite-vec).
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Insert,
    Update,
    Query,
}

impl Purpose {
    /// For "Dimension mismatch for {noun} for the ... column".
    fn noun(self) -> &'static str {
        match self {
            Purpose::Insert => "inserted vector",
            Purpose::Update => "new updated vector",
            Purpose::Query => "query vector",
        }
    }

    /// For "{word} vector for the ... column is expected to be of type ...".
    fn word(self) -> &'static str {
        match self {
            Purpose::Insert => "Inserted",
            Purpose::Update => "Updated",
            Purpose::Query => "Query",
        }
    }

    /// sqlite-vec's prefix for a value that is not a readable vector at all, so the message
    /// names the column ("invalid float32 vector BLOB length" alone does not).
    fn invalid(self, column: &VectorColumn, err: SqlError) -> Vec0Error {
        let subject = match self {
            Purpose::Insert => "Inserted vector for",
            Purpose::Update => "Updated vector for",
            Purpose::Query => "Query vector on",
        };
        ArgumentError::new(
            format!("the {} of column \"{}\"", self.noun(), column.name),
            format!("a {} vector", column.element.name()),
            err.message.clone(),
        )
        .worded(format!(
            "{subject} the \"{}\" column is invalid: {}",
            column.name, err.message
        ))
        .into()
    }
}

fn dimension_error(column: &VectorColumn, purpose: Purpose, got: usize) -> Vec0Error {
    ArgumentError::new(
        format!("the {} of column \"{}\"", purpose.noun(), column.name),
        format!("{} dimensions", column.dims),
        got.to_string(),
    )
    .worded(format!(
        "Dimension mismatch for {} for the \"{}\" column. Expected {} dimensions but received {}.",
        purpose.noun(),
        column.name,
        column.dims,
        got
    ))
    .into()
}

/// The bytes column `column` stores for `arg`. A plain blob of exactly the column's size is
/// taken as the column's type (so bound raw int8/bit/float16 buffers work); otherwise the
/// argument's subtype decides its type, as in sqlite-vec, and floats convert to float16 and
/// bfloat16 columns.
pub fn vector_bytes(
    column: &VectorColumn,
    arg: &SqlArg<'_>,
    purpose: Purpose,
) -> Vec0Result<Vec<u8>> {
    if let SqlValue::Blob(b) = arg.value {
        // Only an untagged blob, or one tagged with the column's own type, is taken as is: a
        // blob tagged float32 (`vec_f32(...)`) is a float32 vector even when its length
        // happens to match an int8, bit or float16 column, and must be refused or converted.
        if (arg.subtype == 0 || column.element.sqlite_vec_subtype() == Some(arg.subtype))
            && b.len() == column.vector_bytes()
            && !b.is_empty()
        {
            return Ok(b.to_vec());
        }
    }
    if matches!(arg.value, SqlValue::Null) {
        return Err(purpose.invalid(
            column,
            SqlError::new("Input must have type BLOB (compact format) or TEXT (JSON), found NULL"),
        ));
    }
    let vector = match (column.element, arg.subtype) {
        // JSON text for a non-float32 column is read in the column's type.
        (ElementType::Int8, 0 | SUBTYPE_JSON) if matches!(arg.value, SqlValue::Text(_)) => {
            sql_vector::i8_vector(&arg.value).map(Vector::Int8)
        }
        _ => sql_vector::vector(arg),
    }
    .map_err(|e| purpose.invalid(column, e))?;
    let got = vector.element_type();
    let bytes = match (column.element, vector) {
        (ElementType::Float32, Vector::Float32(v)) => {
            check_len(column, purpose, v.len(), sqlite_vec::encode_f32(&v))?
        }
        (ElementType::Int8, Vector::Int8(v)) => {
            check_len(column, purpose, v.len(), sqlite_vec::encode_i8(&v))?
        }
        (ElementType::Bit, Vector::Bit(v)) => {
            check_len(column, purpose, v.dims(), v.bytes().to_vec())?
        }
        (ElementType::Float16, Vector::Float32(v)) => check_len(
            column,
            purpose,
            v.len(),
            v.iter()
                .flat_map(|&x| f16::from_f32(x).to_le_bytes())
                .collect(),
        )?,
        (ElementType::BFloat16, Vector::Float32(v)) => check_len(
            column,
            purpose,
            v.len(),
            v.iter()
                .flat_map(|&x| bf16::from_f32(x).to_le_bytes())
                .collect(),
        )?,
        (element, _) => {
            return Err(ArgumentError::new(
                format!("the {} of column \"{}\"", purpose.noun(), column.name),
                element.name(),
                got.name(),
            )
            .worded(format!(
                "{} vector for the \"{}\" column is expected to be of type {}, but a {} vector was provided.",
                purpose.word(),
                column.name,
                element.name(),
                got.name()
            ))
            .into());
        }
    };
    Ok(bytes)
}

fn check_len(
    column: &VectorColumn,
    purpose: Purpose,
    dims: usize,
    bytes: Vec<u8>,
) -> Vec0Result<Vec<u8>> {
    if dims != column.dims {
        return Err(dimension_error(column, purpose, dims));
    }
    Ok(bytes)
}

/// The query for a KNN search on `column`, decoded to the column's element type.
pub fn query(column: &VectorColumn, arg: &SqlArg<'_>) -> Vec0Result<Query> {
    let bytes = vector_bytes(column, arg, Purpose::Query)?;
    Query::from_packed(column.element, &bytes).ok_or_else(|| {
        Vec0Error::internal(format!(
            "vec0 columns never hold {} vectors",
            column.element.name()
        ))
    })
}

/// The value metadata column `column` stores for `value`, after the column's affinity (as an
/// ordinary table with the same declared type converts `1.0` or `'1'` for an INTEGER column).
pub fn metadata_value(
    layout: &Layout,
    column: usize,
    value: &SqlValue<'_>,
) -> Vec0Result<OwnedValue> {
    let meta = &layout.metadata[column];
    let stored = layout
        .affinity(ColumnRole::Metadata(column))
        .store(value.to_owned_value());
    let value = &stored.as_value();
    let got = value.storage_class();
    let argument =
        |what: &str| ArgumentError::new(format!("metadata column {}", meta.name), what, got);
    let expected = |what: &str| -> Vec0Error {
        argument(what)
            .worded(format!(
                "Expected {what} for {} metadata column {}, received {got}",
                meta.kind.sql_name(),
                meta.name
            ))
            .into()
    };
    Ok(match (meta.kind, value) {
        (MetadataKind::Integer, SqlValue::Integer(i)) => OwnedValue::Integer(*i),
        (MetadataKind::Integer, _) => return Err(expected("integer")),
        (MetadataKind::Float, SqlValue::Real(f)) => OwnedValue::Real(*f),
        (MetadataKind::Float, SqlValue::Integer(i)) => OwnedValue::Real(*i as f64),
        (MetadataKind::Float, _) => return Err(expected("float")),
        (MetadataKind::Boolean, SqlValue::Integer(i @ (0 | 1))) => OwnedValue::Integer(*i),
        // sqlite-vec's text has no "received ..." here.
        (MetadataKind::Boolean, _) => {
            return Err(argument("0 or 1")
                .worded(format!(
                    "Expected 0 or 1 for BOOLEAN metadata column {}",
                    meta.name
                ))
                .into())
        }
        (MetadataKind::Text, SqlValue::Text(t)) => {
            OwnedValue::Text(String::from_utf8_lossy(t).into_owned())
        }
        (MetadataKind::Text, _) => return Err(expected("text")),
    })
}

/// A partition key value: text or integer as declared, after the column's affinity.
pub fn partition_value(
    layout: &Layout,
    column: usize,
    value: &SqlValue<'_>,
) -> Vec0Result<OwnedValue> {
    let part = &layout.partitions[column];
    let stored = layout
        .affinity(ColumnRole::Partition(column))
        .store(value.to_owned_value());
    let argument = |got: &str| {
        ArgumentError::new(
            format!("partition key column {}", part.name),
            if part.integer { "INTEGER" } else { "TEXT" },
            got,
        )
    };
    match (part.integer, stored) {
        (true, v @ OwnedValue::Integer(_)) | (false, v @ OwnedValue::Text(_)) => Ok(v),
        // sqlite-vec stores NULL; vecsql refuses it (README, "Differences from sqlite-vec").
        (_, OwnedValue::Null) => Err(argument("NULL")
            .worded(format!(
                "Expected {} for partition key column {}, received NULL",
                if part.integer { "integer" } else { "text" },
                part.name
            ))
            .into()),
        // "Parition" is sqlite-vec's spelling, kept so matching on the message still works.
        (_, other) => {
            let got = other.as_value().storage_class();
            Err(argument(got)
                .worded(format!(
                    "Parition key type mismatch: The partition key column {} has type {}, but \
                     {got} was provided.",
                    part.name,
                    if part.integer { "INTEGER" } else { "TEXT" },
                ))
                .into())
        }
    }
}

/// An auxiliary column's value: any value for an untyped column; for a typed one NULL or a
/// value of the declared type after the column's affinity (sqlite-vec refuses any other
/// storage class; vecsql converts as an ordinary table would, then refuses what remains).
pub fn auxiliary_value(
    layout: &Layout,
    column: usize,
    value: OwnedValue,
) -> Vec0Result<OwnedValue> {
    let ty = layout.auxiliary_types[column];
    let stored = layout.affinity(ColumnRole::Auxiliary(column)).store(value);
    let fits = matches!(
        (ty, &stored),
        (_, OwnedValue::Null)
            | (AuxiliaryType::Any, _)
            | (AuxiliaryType::Text, OwnedValue::Text(_))
            | (AuxiliaryType::Integer, OwnedValue::Integer(_))
            | (AuxiliaryType::Float, OwnedValue::Real(_))
            | (AuxiliaryType::Blob, OwnedValue::Blob(_))
    );
    if fits {
        return Ok(stored);
    }
    Err(Vec0Error::Constraint(format!(
        "Auxiliary column type mismatch: The auxiliary column {} has type {}, but {} was \
             provided.",
        layout.auxiliary[column],
        match ty {
            AuxiliaryType::Text => "TEXT",
            AuxiliaryType::Integer => "INTEGER",
            AuxiliaryType::Float => "FLOAT",
            _ => "BLOB",
        },
        stored.as_value().storage_class()
    )))
}
