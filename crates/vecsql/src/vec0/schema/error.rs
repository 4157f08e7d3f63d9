//! Why a `vec0(...)` definition was refused. The `Display` text is what the user sees, so it
//! follows sqlite-vec's wording (see `docs/vec0-definition.md`).

use std::fmt;

use super::{
    MAX_AUXILIARY_COLUMNS, MAX_CHUNK_SIZE, MAX_DIMENSIONS, MAX_METADATA_COLUMNS,
    MAX_PARTITION_KEYS, MAX_VECTOR_COLUMNS,
};

/// sqlite-vec prefixes every constructor error with this.
const PREFIX: &str = "vec0 constructor error: ";

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    NoVectorColumn,
    TooManyVectorColumns,
    TooManyPartitionKeys,
    TooManyMetadataColumns,
    TooManyAuxiliaryColumns,
    MultiplePrimaryKeys,
    /// `provided` is the digits as written (leading zeros dropped), which may not fit a usize.
    DimensionsTooLarge {
        column: String,
        provided: String,
    },
    ChunkSizeNotPositive,
    ChunkSizeNotMultipleOf8,
    ChunkSizeTooLarge {
        provided: String,
    },
    ChunkSizeRepeated,
    /// `key` as written.
    UnknownTableOption {
        key: String,
    },
    /// Two columns whose names differ only in ASCII case; `name` is the later one as written.
    DuplicateColumn {
        name: String,
    },
    /// A column named like the hidden `distance`/`k` columns, or `rowid` in a table whose
    /// implicit first column is `rowid`.
    ReservedColumnName {
        name: String,
    },
    /// One argument that does not parse as the form it started like.
    Syntax {
        form: ArgumentForm,
        /// The argument, trimmed.
        argument: String,
        reason: String,
    },
}

/// What an argument was being parsed as when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentForm {
    /// Not recognisably any form.
    Unknown,
    TableOption,
    Vector,
    PrimaryKey,
    PartitionKey,
    Metadata,
    Auxiliary,
}

impl SchemaError {
    pub(super) fn syntax(form: ArgumentForm, argument: &str, reason: impl Into<String>) -> Self {
        SchemaError::Syntax {
            form,
            argument: argument.trim().to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        match self {
            SchemaError::NoVectorColumn => f.write_str("At least one vector column is required"),
            SchemaError::TooManyVectorColumns => write!(
                f,
                "Too many provided vector columns, maximum {MAX_VECTOR_COLUMNS}"
            ),
            SchemaError::TooManyPartitionKeys => write!(
                f,
                "More than {MAX_PARTITION_KEYS} partition key columns were provided"
            ),
            SchemaError::TooManyMetadataColumns => write!(
                f,
                "More than {MAX_METADATA_COLUMNS} metadata columns were provided"
            ),
            SchemaError::TooManyAuxiliaryColumns => write!(
                f,
                "More than {MAX_AUXILIARY_COLUMNS} auxiliary columns were provided"
            ),
            // "suports" is sqlite-vec's spelling, kept so matching on the message still works.
            SchemaError::MultiplePrimaryKeys => f.write_str(
                "More than one primary key definition was provided, vec0 only suports a single \
                 primary key column",
            ),
            SchemaError::DimensionsTooLarge { column, provided } => write!(
                f,
                "Dimension on vector column too large, provided {provided}, maximum \
                 {MAX_DIMENSIONS} (column \"{column}\")"
            ),
            SchemaError::ChunkSizeNotPositive => {
                f.write_str("chunk_size must be a non-zero positive integer")
            }
            SchemaError::ChunkSizeNotMultipleOf8 => {
                f.write_str("chunk_size must be divisible by 8")
            }
            SchemaError::ChunkSizeTooLarge { provided } => write!(
                f,
                "chunk_size too large, provided {provided}, maximum {MAX_CHUNK_SIZE}"
            ),
            SchemaError::ChunkSizeRepeated => f.write_str("chunk_size was given more than once"),
            SchemaError::UnknownTableOption { key } => {
                write!(f, "Unknown table option: {key}")?;
                if key.eq_ignore_ascii_case("distance_metric") {
                    write!(
                        f,
                        " (distance_metric belongs to a vector column: write it after the \
                         column's type, as in 'embedding float[4] {}=cosine')",
                        key
                    )
                } else {
                    f.write_str(" (the only table option is chunk_size)")
                }
            }
            SchemaError::DuplicateColumn { name } => write!(
                f,
                "could not declare virtual table, 'duplicate column name: {name}'"
            ),
            SchemaError::ReservedColumnName { name } => {
                let hidden =
                    name.eq_ignore_ascii_case("distance") || name.eq_ignore_ascii_case("k");
                write!(
                    f,
                    "could not declare virtual table, 'duplicate column name: {name}' ({})",
                    if hidden {
                        "distance and k are the hidden columns of KNN queries"
                    } else {
                        "a table without a primary key has an implicit rowid column; \
                         declare 'rowid integer primary key' to name it"
                    }
                )
            }
            SchemaError::Syntax {
                form,
                argument,
                reason,
            } => {
                let what = match form {
                    ArgumentForm::Unknown => "Could not parse",
                    ArgumentForm::TableOption => "could not parse table option",
                    ArgumentForm::Vector => "could not parse vector column",
                    ArgumentForm::PrimaryKey => "could not parse primary key column",
                    ArgumentForm::PartitionKey => "could not parse partition key column",
                    ArgumentForm::Metadata => "could not parse metadata column",
                    ArgumentForm::Auxiliary => "could not parse auxiliary column",
                };
                write!(f, "{what} '{argument}': {reason}")
            }
        }
    }
}

impl std::error::Error for SchemaError {}
