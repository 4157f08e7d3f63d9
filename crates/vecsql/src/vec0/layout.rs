//! The physical layout of one vec0 table: which shadow tables exist, what each chunk holds and
//! at which byte offsets. Derived from the parsed definition on every connect, so it is never
//! stored and can never disagree with the `CREATE VIRTUAL TABLE` statement.
//!
//! Shadow tables (the same names and columns sqlite-vec 0.1.x uses, so each can read the
//! other's files):
//!
//! | table | one row per | holds |
//! |---|---|---|
//! | `{t}_info` | key | format version and creator |
//! | `{t}_chunks` | chunk | capacity, partition key values, validity bitmap, rowids (i64 LE) |
//! | `{t}_rowids` | row | (text primary key,) chunk id and offset of the row |
//! | `{t}_vector_chunksNN` | chunk | `chunk_size` vectors of column NN, back to back |
//! | `{t}_metadatachunksNN` | chunk | metadata column NN: i64/f64 LE, a bitmap, or 16-byte text slots |
//! | `{t}_metadatatextNN` | row | full text of text metadata longer than 12 bytes |
//! | `{t}_auxiliary` | row | auxiliary columns, as ordinary SQLite values |
//! | `{t}_free` | chunk | vecsql only: chunks with free slots left by deletes, reused first |
//! | `{t}_hnswNN_nodes`, `{t}_hnswNN_meta` | indexed row / key | vecsql only: the HNSW index of vector column NN (see [`super::index::hnsw`]) |

use super::affinity::Affinity;
use super::error::DefinitionError;
use super::index::IndexConfig;
use super::schema::{AuxiliaryType, ColumnKind, KeyType, TableDefinition};
pub use super::schema::{ElementType, MetadataType as MetadataKind, Metric};

pub use super::format::{TEXT_INLINE_BYTES, TEXT_SLOT_BYTES};

impl MetadataKind {
    /// Bytes a chunk of `chunk_size` rows takes for this kind.
    pub fn chunk_bytes(self, chunk_size: usize) -> usize {
        match self {
            MetadataKind::Integer | MetadataKind::Float => chunk_size * 8,
            MetadataKind::Boolean => chunk_size.div_ceil(8),
            MetadataKind::Text => chunk_size * TEXT_SLOT_BYTES,
        }
    }

    pub fn sql_name(self) -> &'static str {
        match self {
            MetadataKind::Integer => "INTEGER",
            MetadataKind::Float => "FLOAT",
            MetadataKind::Boolean => "BOOLEAN",
            MetadataKind::Text => "TEXT",
        }
    }
}

#[derive(Debug, Clone)]
pub struct VectorColumn {
    pub name: String,
    pub element: ElementType,
    pub dims: usize,
    pub metric: Metric,
    /// The column's ANN index (`indexed by ...`), if any.
    pub index: Option<IndexConfig>,
}

impl VectorColumn {
    pub fn vector_bytes(&self) -> usize {
        self.element.packed_bytes(self.dims)
    }
}

#[derive(Debug, Clone)]
pub struct MetadataColumn {
    pub name: String,
    pub kind: MetadataKind,
}

#[derive(Debug, Clone)]
pub struct PartitionColumn {
    pub name: String,
    /// True for `integer partition key`, false for text.
    pub integer: bool,
}

/// What a column of the virtual table is, in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// The `rowid` column of a table without a declared primary key, or the primary key.
    Key,
    Vector(usize),
    Metadata(usize),
    Partition(usize),
    Auxiliary(usize),
    Distance,
    K,
    /// The hidden column named after the table, for commands: `insert into t(t) values
    /// ('optimize')`, as FTS5 does.
    Command,
    /// Hidden `ef_search`, in tables with an ANN index: `and ef_search = 100` sets a KNN
    /// query's candidate list size.
    EfSearch,
    /// Hidden `exact`, in tables with an ANN index: `and exact = 1` scans every row instead.
    Exact,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub schema: String,
    pub table: String,
    pub chunk_size: usize,
    /// The declared primary key: its name and whether it is text.
    pub primary_key: Option<(String, bool)>,
    pub vectors: Vec<VectorColumn>,
    pub metadata: Vec<MetadataColumn>,
    pub partitions: Vec<PartitionColumn>,
    pub auxiliary: Vec<String>,
    /// The declared type of each auxiliary column.
    pub auxiliary_types: Vec<AuxiliaryType>,
    /// Column roles in the order declared to SQLite (key first, hidden columns last).
    pub columns: Vec<ColumnRole>,
}

/// Quotes an SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Layout {
    /// The layout of table `table` in database `schema` declared by `def`; fails on an
    /// invalid `indexed by` clause or a column name an index reserves.
    pub fn new(
        schema: &str,
        table: &str,
        def: &TableDefinition,
    ) -> Result<Layout, DefinitionError> {
        let mut layout = Layout {
            schema: schema.to_string(),
            table: table.to_string(),
            chunk_size: def.chunk_size,
            primary_key: def
                .primary_key()
                .map(|k| (k.name.to_string(), k.def == KeyType::Text)),
            vectors: Vec::new(),
            metadata: Vec::new(),
            partitions: Vec::new(),
            auxiliary: Vec::new(),
            auxiliary_types: Vec::new(),
            columns: vec![ColumnRole::Key],
        };
        for column in def.vtab_columns() {
            let role = match &column.kind {
                ColumnKind::PrimaryKey(_) => continue,
                ColumnKind::Vector(v) => {
                    let index = match &v.index {
                        Some(spec) => Some(
                            IndexConfig::from_spec(spec, v.element, v.distance_metric).map_err(
                                |reason| DefinitionError::IndexOnColumn {
                                    column: column.name.clone(),
                                    reason,
                                },
                            )?,
                        ),
                        None => None,
                    };
                    layout.vectors.push(VectorColumn {
                        name: column.name.clone(),
                        element: v.element,
                        dims: v.dimensions,
                        metric: v.distance_metric,
                        index,
                    });
                    ColumnRole::Vector(layout.vectors.len() - 1)
                }
                ColumnKind::Metadata(kind) => {
                    layout.metadata.push(MetadataColumn {
                        name: column.name.clone(),
                        kind: *kind,
                    });
                    ColumnRole::Metadata(layout.metadata.len() - 1)
                }
                ColumnKind::PartitionKey(key) => {
                    layout.partitions.push(PartitionColumn {
                        name: column.name.clone(),
                        integer: *key == KeyType::Integer,
                    });
                    ColumnRole::Partition(layout.partitions.len() - 1)
                }
                ColumnKind::Auxiliary(ty) => {
                    layout.auxiliary.push(column.name.clone());
                    layout.auxiliary_types.push(*ty);
                    ColumnRole::Auxiliary(layout.auxiliary.len() - 1)
                }
            };
            layout.columns.push(role);
        }
        layout.columns.push(ColumnRole::Distance);
        layout.columns.push(ColumnRole::K);
        layout.columns.push(ColumnRole::Command);
        if layout.has_index() {
            for reserved in ["ef_search", "exact"] {
                if let Some(c) = def.column(reserved) {
                    return Err(DefinitionError::ReservedByIndex {
                        column: c.name.clone(),
                        reserved,
                    });
                }
            }
            layout.columns.push(ColumnRole::EfSearch);
            layout.columns.push(ColumnRole::Exact);
        }
        Ok(layout)
    }

    /// The name of a column called `ef_search` or `exact`, which tables with an ANN index
    /// declare as hidden query options.
    pub fn reserved_name_in_use(&self) -> Option<&str> {
        let names = self
            .vectors
            .iter()
            .map(|v| v.name.as_str())
            .chain(self.metadata.iter().map(|m| m.name.as_str()))
            .chain(self.partitions.iter().map(|p| p.name.as_str()))
            .chain(self.auxiliary.iter().map(|a| a.as_str()))
            .chain(self.primary_key.iter().map(|(name, _)| name.as_str()));
        names
            .into_iter()
            .find(|n| n.eq_ignore_ascii_case("ef_search") || n.eq_ignore_ascii_case("exact"))
    }

    /// Declares the hidden query options of tables with an ANN index, for an index that the
    /// declaration lacks ('create-index', applied by [`super::index::added`]).
    pub fn declare_query_options(&mut self) {
        if self.has_index() && !self.columns.contains(&ColumnRole::EfSearch) {
            self.columns.push(ColumnRole::EfSearch);
            self.columns.push(ColumnRole::Exact);
        }
    }

    /// Whether any vector column has an ANN index.
    pub fn has_index(&self) -> bool {
        self.vectors.iter().any(|v| v.index.is_some())
    }

    pub fn text_primary_key(&self) -> bool {
        matches!(self.primary_key, Some((_, true)))
    }

    pub fn shadow(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.table)
    }

    /// `"schema"."table_suffix"`, for SQL text.
    pub fn qualified(&self, suffix: &str) -> String {
        format!("{}.{}", quote(&self.schema), quote(&self.shadow(suffix)))
    }

    pub fn vector_chunks(i: usize) -> String {
        format!("vector_chunks{i:02}")
    }

    pub fn metadata_chunks(i: usize) -> String {
        format!("metadatachunks{i:02}")
    }

    pub fn metadata_text(i: usize) -> String {
        format!("metadatatext{i:02}")
    }

    pub fn partition_column(i: usize) -> String {
        format!("partition{i:02}")
    }

    pub fn auxiliary_column(i: usize) -> String {
        format!("value{i:02}")
    }

    fn column_of(&self, role: ColumnRole) -> usize {
        self.columns
            .iter()
            .position(|r| *r == role)
            .expect("every layout has its hidden columns")
    }

    /// Index of the hidden `distance` column.
    pub fn distance_column(&self) -> usize {
        self.column_of(ColumnRole::Distance)
    }

    pub fn k_column(&self) -> usize {
        self.column_of(ColumnRole::K)
    }

    pub fn command_column(&self) -> usize {
        self.column_of(ColumnRole::Command)
    }

    /// Bytes of the validity bitmap of one chunk.
    pub fn validity_bytes(&self) -> usize {
        self.chunk_size.div_ceil(8)
    }

    /// The statement declaring the virtual table's columns to SQLite: like sqlite-vec, a table
    /// with a primary key is WITHOUT ROWID with the key first; otherwise the first column is
    /// named `rowid`, so `select *` shows it.
    /// The SQL type a column is declared with, so that SQLite's own checks of the column
    /// (conditions vec0 leaves to it) apply the same affinity as an ordinary table would.
    /// Vector columns stay untyped: `float[4]` would read as REAL affinity.
    pub fn declared_type(&self, role: ColumnRole) -> Option<&'static str> {
        match role {
            ColumnRole::Key => Some(if self.text_primary_key() {
                "text"
            } else {
                "integer"
            }),
            ColumnRole::Metadata(i) => Some(match self.metadata[i].kind {
                MetadataKind::Integer => "integer",
                MetadataKind::Float => "float",
                MetadataKind::Boolean => "boolean",
                MetadataKind::Text => "text",
            }),
            // Not declared to SQLite (sqlite-vec declares auxiliary columns untyped), but
            // stored values get the type's affinity as in an ordinary table.
            ColumnRole::Auxiliary(i) => match self.auxiliary_types[i] {
                AuxiliaryType::Text => Some("text"),
                AuxiliaryType::Integer => Some("integer"),
                AuxiliaryType::Float => Some("float"),
                AuxiliaryType::Blob | AuxiliaryType::Any => None,
            },
            ColumnRole::Partition(i) => Some(if self.partitions[i].integer {
                "integer"
            } else {
                "text"
            }),
            _ => None,
        }
    }

    /// The affinity a value compared with column `role` gets.
    pub fn affinity(&self, role: ColumnRole) -> Affinity {
        self.declared_type(role)
            .map_or(Affinity::Blob, Affinity::of_declared_type)
    }

    pub fn declaration(&self) -> String {
        let mut cols = Vec::new();
        for role in &self.columns {
            let typed = |name: &str| match self.declared_type(*role) {
                Some(t) => format!("{} {t}", quote(name)),
                None => quote(name),
            };
            cols.push(match *role {
                ColumnRole::Key => match &self.primary_key {
                    Some((name, _)) => format!("{} primary key", typed(name)),
                    None => "rowid integer".to_string(),
                },
                ColumnRole::Vector(i) => quote(&self.vectors[i].name),
                ColumnRole::Metadata(i) => typed(&self.metadata[i].name),
                ColumnRole::Partition(i) => typed(&self.partitions[i].name),
                ColumnRole::Auxiliary(i) => quote(&self.auxiliary[i]),
                ColumnRole::Distance => "distance hidden".to_string(),
                ColumnRole::K => "k hidden".to_string(),
                ColumnRole::Command => format!("{} hidden", quote(&self.table)),
                ColumnRole::EfSearch => "ef_search hidden".to_string(),
                ColumnRole::Exact => "exact hidden".to_string(),
            });
        }
        let mut sql = format!("CREATE TABLE x({})", cols.join(", "));
        if self.primary_key.is_some() {
            sql.push_str(" WITHOUT ROWID");
        }
        sql
    }
}
