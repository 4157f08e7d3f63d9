//! The arguments of `CREATE VIRTUAL TABLE t USING vec0(...)`, parsed into a [`TableDefinition`].
//!
//! SQLite hands the module the text between the parentheses already split on top-level commas;
//! [`parse_definition`] takes those pieces. Nothing here touches SQLite.
//!
//! The grammar, limits and every message, next to sqlite-vec 0.1.9's, are tabulated in
//! `docs/vec0-definition.md`. The guiding rules:
//!
//! - The `CREATE VIRTUAL TABLE` text is stored in the database file and parsed again by
//!   whichever extension opens it, so definitions sqlite-vec reads as written are accepted
//!   with the same meaning, including its case-insensitive keywords, free whitespace, leading
//!   zeros, empty arguments and `NOT NULL` on non-vector columns (common in the wild;
//!   sqlite-vec ignores it, and so do we). Only the misreadings listed below are refused.
//! - Messages start with sqlite-vec's text where it has a useful one, so code matching on it
//!   keeps working; where sqlite-vec's is vague or wrong, the message keeps its prefix and adds
//!   which argument failed and what was expected.
//!
//! Deliberate differences from sqlite-vec 0.1.9 (it compares keywords by prefix and ignores
//! whatever follows a non-vector column's type, so it accepts much that it then misreads):
//!
//! 1. Extensions: `float16[N]`/`f16[N]` and `bfloat16[N]`/`bf16[N]` vector columns
//!    (sqlite-vec reads `float16[N]` as float32 and rejects the rest); `distance_metric=dot`;
//!    `distance_metric=hamming` on bit columns (sqlite-vec rejects every metric on bit columns,
//!    hamming being the only one they have); an `indexed by kind(key=value, ...)` clause on
//!    vector columns; an auxiliary column without a type (`+name`, any value).
//! 2. Keywords must be spelled in full: sqlite-vec takes `distance=cos` for
//!    `distance_metric=cosine`, `chunk=8` for `chunk_size=8`, `n t` for `n text`, and any word
//!    starting with `float`/`f32`/`int8`/`i8`/`bit` (`float64[4]`, `bitmap[8]`) as that type.
//! 3. Words after a non-vector column's type other than `NOT NULL` (and `AUTOINCREMENT` on an
//!    integer primary key) are errors. sqlite-vec ignores them, which silently turns
//!    `id int64 primary key` or `p boolean partition key` into metadata columns.
//! 4. A primary key or partition key of another type than integer/text is an error (sqlite-vec
//!    makes it a metadata column or reports a vector-column error).
//! 5. `bit[N]` needs N divisible by 8: sqlite-vec accepts other N but no vector then fits.
//! 6. A repeated `distance_metric`, `indexed by` or `chunk_size` is an error; sqlite-vec keeps
//!    the last one.
//! 7. Dimensions and `chunk_size` too large to fit an `int` are reported as too large;
//!    sqlite-vec's `atoi` wraps them (`float[99999999999]` "provided 1215752191").
//! 8. Messages that were misleading are replaced: a bad auxiliary type no longer reports
//!    "chunk_size must be a non-zero positive integer", `n real` no longer reports "Unknown
//!    table option: n", `=8` is no longer silently ignored.

mod error;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use error::{ArgumentForm, SchemaError};

pub use vecsql_core::distance::Metric;
pub use vecsql_core::ElementType;

/// Most vector columns in one table (sqlite-vec's `VEC0_MAX_VECTOR_COLUMNS`).
pub const MAX_VECTOR_COLUMNS: usize = 16;
/// Most partition key columns (sqlite-vec's `VEC0_MAX_PARTITION_COLUMNS`).
pub const MAX_PARTITION_KEYS: usize = 4;
/// Most metadata columns (sqlite-vec's `VEC0_MAX_METADATA_COLUMNS`).
pub const MAX_METADATA_COLUMNS: usize = 16;
/// Most auxiliary columns (sqlite-vec's `VEC0_MAX_AUXILIARY_COLUMNS`).
pub const MAX_AUXILIARY_COLUMNS: usize = 16;
/// Most dimensions of a vec0 vector column; the SQL functions allow more, but a chunk holds
/// `chunk_size` vectors in one blob, so vec0 keeps sqlite-vec's smaller limit.
pub const MAX_DIMENSIONS: usize = 8192;
/// Rows per chunk when the definition does not say.
pub const DEFAULT_CHUNK_SIZE: usize = 1024;
/// Largest `chunk_size` sqlite-vec accepts.
pub const MAX_CHUNK_SIZE: usize = 4096;

/// A parsed `vec0(...)` argument list.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDefinition {
    /// Every column argument, in declaration order (table options are not columns).
    pub columns: Vec<Column>,
    /// Rows per chunk: a positive multiple of 8, at most [`MAX_CHUNK_SIZE`].
    pub chunk_size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// As written: ASCII letters, digits and underscores, starting with a letter. SQLite
    /// compares column names case-insensitively, and so does [`TableDefinition::column`].
    pub name: String,
    pub kind: ColumnKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    /// `name integer primary key` or `name text primary key`.
    PrimaryKey(KeyType),
    /// `name float[384] ...`.
    Vector(VectorColumn),
    /// `name text partition key` or `name integer partition key`.
    PartitionKey(KeyType),
    /// `name text|integer|float|boolean`: stored per chunk, usable in KNN `WHERE` filters.
    Metadata(MetadataType),
    /// `+name [type]`: stored per row, returned but not filterable.
    Auxiliary(AuxiliaryType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Integer,
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorColumn {
    /// Float32, Int8, Bit, Float16 or BFloat16 (the parser refuses the others).
    pub element: ElementType,
    /// 1..=[`MAX_DIMENSIONS`]; a multiple of 8 for bit columns.
    pub dimensions: usize,
    /// The metric KNN queries rank by; `L2` by default, `Hamming` for bit columns.
    pub distance_metric: Metric,
    /// `indexed by kind(...)`, parsed but not validated: the ANN layer owns kinds and params.
    pub index: Option<IndexSpec>,
}

/// The spelling of `element` in a column definition (`float[4]`, `int8[4]`, ...): the first
/// of the names the parser accepts for it. vec0 columns hold only these five element types.
pub fn vector_type_name(element: ElementType) -> &'static str {
    match element {
        ElementType::Float32 => "float",
        ElementType::Int8 => "int8",
        ElementType::Bit => "bit",
        ElementType::Float16 => "float16",
        ElementType::BFloat16 => "bfloat16",
        // Never parsed into a vec0 column; the core's name is the closest spelling.
        ElementType::Float64 | ElementType::Float8 => element.name(),
    }
}

/// `indexed by kind(key=value, ...)` on a vector column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    /// Lower-cased, e.g. `hnsw`.
    pub kind: String,
    /// In written order; keys lower-cased and distinct, values as written (a quoted value
    /// without its quotes, a number with its sign).
    pub params: Vec<(String, String)>,
}

impl IndexSpec {
    /// The value of `key` (lower-case), if given.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataType {
    /// `text`
    Text,
    /// `integer`, `int`, `int64`, `integer64`
    Integer,
    /// `float`, `double`, `float64`, `f64`
    Float,
    /// `boolean`, `bool`
    Boolean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuxiliaryType {
    /// No type given: any value is stored as is.
    Any,
    Text,
    Integer,
    /// `float` or `double`
    Float,
    Blob,
}

/// One column of a given kind, with where it sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnRef<'a, T> {
    /// Index in [`TableDefinition::columns`] (declaration order).
    pub position: usize,
    /// Index among the columns of its kind: the `NN` of `{t}_vector_chunksNN`,
    /// `{t}_metadatachunksNN`, `partitionNN`, `valueNN`.
    pub index: usize,
    pub name: &'a str,
    pub def: T,
}

/// Parses the arguments of `vec0(...)`, one string per top-level comma-separated argument.
pub fn parse_definition(args: &[String]) -> Result<TableDefinition, SchemaError> {
    parser::parse(args)
}

impl TableDefinition {
    fn of_kind<'a, T: 'a>(
        &'a self,
        pick: impl Fn(&'a ColumnKind) -> Option<T> + 'a,
    ) -> impl Iterator<Item = ColumnRef<'a, T>> + 'a {
        self.columns
            .iter()
            .enumerate()
            .filter_map(move |(position, c)| Some((position, &c.name, pick(&c.kind)?)))
            .enumerate()
            .map(|(index, (position, name, def))| ColumnRef {
                position,
                index,
                name,
                def,
            })
    }

    pub fn vector_columns(&self) -> impl Iterator<Item = ColumnRef<'_, &VectorColumn>> {
        self.of_kind(|k| match k {
            ColumnKind::Vector(v) => Some(v),
            _ => None,
        })
    }

    pub fn metadata_columns(&self) -> impl Iterator<Item = ColumnRef<'_, MetadataType>> {
        self.of_kind(|k| match k {
            ColumnKind::Metadata(t) => Some(*t),
            _ => None,
        })
    }

    pub fn partition_keys(&self) -> impl Iterator<Item = ColumnRef<'_, KeyType>> {
        self.of_kind(|k| match k {
            ColumnKind::PartitionKey(t) => Some(*t),
            _ => None,
        })
    }

    pub fn auxiliary_columns(&self) -> impl Iterator<Item = ColumnRef<'_, AuxiliaryType>> {
        self.of_kind(|k| match k {
            ColumnKind::Auxiliary(t) => Some(*t),
            _ => None,
        })
    }

    /// The declared primary key; without one, rows are keyed by an integer `rowid`.
    pub fn primary_key(&self) -> Option<ColumnRef<'_, KeyType>> {
        self.of_kind(|k| match k {
            ColumnKind::PrimaryKey(t) => Some(*t),
            _ => None,
        })
        .next()
    }

    /// The column named `name`, compared as SQLite compares column names (ASCII case folded).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The columns in the order the virtual table declares them to SQLite, which is what
    /// `select *` shows: sqlite-vec moves the primary key first and keeps the rest in
    /// declaration order. Not included: the implicit leading `rowid` of a table without a
    /// primary key, and the trailing hidden `distance` and `k`.
    pub fn vtab_columns(&self) -> impl Iterator<Item = &Column> {
        let key = |c: &&Column| matches!(c.kind, ColumnKind::PrimaryKey(_));
        self.columns
            .iter()
            .filter(key)
            .chain(self.columns.iter().filter(move |c| !key(c)))
    }
}
