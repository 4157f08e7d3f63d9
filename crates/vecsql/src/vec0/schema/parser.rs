//! Parses each argument by its first tokens: `+` starts an auxiliary column, `key =` a table
//! option, `name type` a column whose kind the following tokens decide. Errors are reported in
//! the order sqlite-vec reports them: arguments left to right, and within a vector column its
//! syntax, then the column count, then the dimension limit; the need for a vector column and
//! duplicate names are checked once every argument has parsed.

use super::error::{ArgumentForm as Form, SchemaError};
use super::lexer::{tokenize, Token};
use super::{
    AuxiliaryType, Column, ColumnKind, ElementType, IndexSpec, KeyType, MetadataType, Metric,
    TableDefinition, VectorColumn, DEFAULT_CHUNK_SIZE, MAX_AUXILIARY_COLUMNS, MAX_CHUNK_SIZE,
    MAX_DIMENSIONS, MAX_METADATA_COLUMNS, MAX_PARTITION_KEYS, MAX_VECTOR_COLUMNS,
};

const NAME_RULE: &str =
    "column names must start with a letter and contain only letters, digits and underscores";

pub(super) fn parse(args: &[String]) -> Result<TableDefinition, SchemaError> {
    let mut def = Definition::default();
    for arg in args {
        def.argument(arg)?;
    }
    def.finish()
}

#[derive(Default)]
struct Definition {
    columns: Vec<Column>,
    chunk_size: Option<usize>,
}

/// The tokens of one argument, and what it is being parsed as (for messages).
struct Cursor<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    form: Form,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += usize::from(token.is_some());
        token
    }

    fn eat_word(&mut self, keyword: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_word(keyword));
        self.pos += usize::from(hit);
        hit
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(&Token::Punct(c));
        self.pos += usize::from(hit);
        hit
    }

    fn fail(&self, reason: impl Into<String>) -> SchemaError {
        SchemaError::syntax(self.form, self.text, reason)
    }
}

/// A token for "found ..." in messages.
fn describe(token: Option<&Token>) -> String {
    match token {
        None => "nothing".to_string(),
        Some(t @ Token::Str(_)) => format!("the string {t}"),
        Some(t) => format!("'{t}'"),
    }
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
}

impl Definition {
    fn argument(&mut self, text: &str) -> Result<(), SchemaError> {
        let mut a = Cursor {
            text,
            tokens: tokenize(text),
            pos: 0,
            form: Form::Unknown,
        };
        let Some(first) = a.next() else {
            // sqlite-vec skips an empty argument, as in `vec0(emb float[4],)`.
            return Ok(());
        };
        match first {
            Token::Punct('+') => {
                a.form = Form::Auxiliary;
                // The count first, as sqlite-vec does: one past the limit is refused whatever
                // follows it.
                if self.count(|k| matches!(k, ColumnKind::Auxiliary(_))) >= MAX_AUXILIARY_COLUMNS {
                    return Err(SchemaError::TooManyAuxiliaryColumns);
                }
                self.auxiliary(&mut a)
            }
            Token::Word(key) if a.peek() == Some(&Token::Punct('=')) => {
                a.form = Form::TableOption;
                a.next();
                self.table_option(&mut a, key)
            }
            Token::Word(name) if !valid_name(name) => Err(a.fail(NAME_RULE)),
            Token::Word(name) => match a.next() {
                Some(Token::Word(ty)) => self.column(&mut a, name, ty),
                None => Err(a.fail(format!(
                    "column '{name}' has no type; expected e.g. '{name} float[4]' for a vector \
                     or '{name} text' for metadata"
                ))),
                Some(t) => Err(a.fail(format!(
                    "expected a type after the column name, found {}",
                    describe(Some(&t))
                ))),
            },
            Token::Str(_) | Token::Punct('"' | '`' | '[') => Err(a.fail(format!(
                "quoted column names are not supported; {NAME_RULE}"
            ))),
            _ => Err(a.fail(
                "expected a column definition such as 'embedding float[4]' or a table option \
                 such as 'chunk_size=256'",
            )),
        }
    }

    fn finish(self) -> Result<TableDefinition, SchemaError> {
        let def = TableDefinition {
            columns: self.columns,
            chunk_size: self.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE),
        };
        if def.vector_columns().next().is_none() {
            return Err(SchemaError::NoVectorColumn);
        }
        // Walk the names in the order the declaration lists them, so the first clash reported
        // is the one SQLite itself would report to sqlite-vec.
        let implicit_rowid = def.primary_key().is_none();
        let mut seen: Vec<String> = Vec::new();
        if implicit_rowid {
            seen.push("rowid".to_string());
        }
        for column in def.vtab_columns() {
            let folded = column.name.to_ascii_lowercase();
            if seen.contains(&folded) {
                let name = column.name.clone();
                return Err(if implicit_rowid && folded == "rowid" {
                    SchemaError::ReservedColumnName { name }
                } else {
                    SchemaError::DuplicateColumn { name }
                });
            }
            seen.push(folded);
        }
        for hidden in ["distance", "k"] {
            if seen.iter().any(|s| s == hidden) {
                return Err(SchemaError::ReservedColumnName {
                    name: hidden.to_string(),
                });
            }
        }
        Ok(def)
    }

    fn count(&self, is: impl Fn(&ColumnKind) -> bool) -> usize {
        self.columns.iter().filter(|c| is(&c.kind)).count()
    }

    /// Adds a non-vector column, refusing one past its kind's limit.
    fn push(&mut self, name: &str, kind: ColumnKind) -> Result<(), SchemaError> {
        let (limit, error) = match kind {
            ColumnKind::PrimaryKey(_) => (1, SchemaError::MultiplePrimaryKeys),
            ColumnKind::PartitionKey(_) => (MAX_PARTITION_KEYS, SchemaError::TooManyPartitionKeys),
            ColumnKind::Metadata(_) => (MAX_METADATA_COLUMNS, SchemaError::TooManyMetadataColumns),
            ColumnKind::Auxiliary(_) => {
                (MAX_AUXILIARY_COLUMNS, SchemaError::TooManyAuxiliaryColumns)
            }
            ColumnKind::Vector(_) => (MAX_VECTOR_COLUMNS, SchemaError::TooManyVectorColumns),
        };
        let same = std::mem::discriminant(&kind);
        if self.count(|k| std::mem::discriminant(k) == same) >= limit {
            return Err(error);
        }
        self.columns.push(Column {
            name: name.to_string(),
            kind,
        });
        Ok(())
    }

    fn table_option(&mut self, a: &mut Cursor, key: &str) -> Result<(), SchemaError> {
        let value = match a.next() {
            Some(Token::Word(v) | Token::Number(v)) => v.to_string(),
            Some(Token::Punct('-')) if matches!(a.peek(), Some(Token::Number(_))) => {
                format!("-{}", a.next().map(|t| t.to_string()).unwrap_or_default())
            }
            Some(Token::Str(_)) => return Err(a.fail("option values are written without quotes")),
            other => {
                return Err(a.fail(format!(
                    "expected a value after '=', found {}",
                    describe(other.as_ref())
                )))
            }
        };
        if let Some(extra) = a.peek() {
            return Err(a.fail(format!(
                "unexpected {} after the value",
                describe(Some(extra))
            )));
        }
        if !key.eq_ignore_ascii_case("chunk_size") {
            return Err(SchemaError::UnknownTableOption {
                key: key.to_string(),
            });
        }
        if self.chunk_size.is_some() {
            return Err(SchemaError::ChunkSizeRepeated);
        }
        self.chunk_size = Some(chunk_size(&value)?);
        Ok(())
    }

    fn column(&mut self, a: &mut Cursor, name: &str, ty: &str) -> Result<(), SchemaError> {
        if a.eat_punct('[') {
            a.form = Form::Vector;
            return self.vector(a, name, ty);
        }
        for (keyword, form) in [
            ("primary", Form::PrimaryKey),
            ("partition", Form::PartitionKey),
        ] {
            if !a.eat_word(keyword) {
                continue;
            }
            a.form = form;
            if !a.eat_word("key") {
                return Err(a.fail(format!(
                    "expected 'key' after '{keyword}', found {}",
                    describe(a.peek())
                )));
            }
            let key_type = key_type(ty).ok_or_else(|| {
                a.fail(format!(
                    "{keyword} keys must be integer or text, found '{ty}'"
                ))
            })?;
            let primary = form == Form::PrimaryKey;
            constraints(a, primary && key_type == KeyType::Integer)?;
            let kind = if primary {
                ColumnKind::PrimaryKey(key_type)
            } else {
                ColumnKind::PartitionKey(key_type)
            };
            return self.push(name, kind);
        }
        let Some(metadata) = metadata_type(ty) else {
            return Err(if vector_element(ty).is_some() {
                a.form = Form::Vector;
                a.fail(format!(
                    "expected '[' and the number of dimensions after '{ty}', as in '{name} {ty}[8]'"
                ))
            } else {
                a.fail(format!(
                    "unknown type '{ty}'; expected text, integer, float or boolean for a \
                     metadata column, or a vector type with dimensions such as float[4]"
                ))
            });
        };
        a.form = Form::Metadata;
        // The count before the rest of the argument (see auxiliary columns).
        if self.count(|k| matches!(k, ColumnKind::Metadata(_))) >= MAX_METADATA_COLUMNS {
            return Err(SchemaError::TooManyMetadataColumns);
        }
        constraints(a, false)?;
        self.push(name, ColumnKind::Metadata(metadata))
    }

    fn auxiliary(&mut self, a: &mut Cursor) -> Result<(), SchemaError> {
        let name = match a.next() {
            Some(Token::Word(name)) if valid_name(name) => name,
            Some(Token::Word(_)) => return Err(a.fail(NAME_RULE)),
            other => {
                return Err(a.fail(format!(
                    "expected a column name after '+', found {}",
                    describe(other.as_ref())
                )))
            }
        };
        let mut ty = AuxiliaryType::Any;
        if let Some(Token::Word(word)) = a.peek() {
            if !word.eq_ignore_ascii_case("not") {
                ty = auxiliary_type(word).ok_or_else(|| {
                    a.fail(format!(
                        "unknown type '{word}'; expected text, integer, float, double or blob, \
                         or no type for any value"
                    ))
                })?;
                a.next();
            }
        }
        constraints(a, false)?;
        self.push(name, ColumnKind::Auxiliary(ty))
    }

    fn vector(&mut self, a: &mut Cursor, name: &str, ty: &str) -> Result<(), SchemaError> {
        let element = vector_element(ty).ok_or_else(|| {
            a.fail(format!(
                "unknown vector type '{ty}'; expected float, f32, int8, i8, bit, float16, f16, \
                 bfloat16 or bf16"
            ))
        })?;
        let not_positive =
            |found: String| format!("the dimension must be a positive integer, found {found}");
        let digits = match a.next() {
            Some(Token::Number(d)) if !d.contains('.') => d.trim_start_matches('0'),
            Some(Token::Punct(']')) => {
                return Err(a.fail("missing the number of dimensions inside '[...]'"))
            }
            Some(Token::Punct('-')) => {
                let rest = a.next().map(|t| t.to_string()).unwrap_or_default();
                return Err(a.fail(not_positive(format!("'-{rest}'"))));
            }
            other => return Err(a.fail(not_positive(describe(other.as_ref())))),
        };
        if digits.is_empty() {
            return Err(a.fail(not_positive("0".to_string())));
        }
        if !a.eat_punct(']') {
            return Err(a.fail(format!(
                "expected ']' after the dimension, found {}",
                describe(a.peek())
            )));
        }
        let mut distance_metric = None;
        let mut index = None;
        while let Some(token) = a.next() {
            if token.is_word("distance_metric") {
                if distance_metric.is_some() {
                    return Err(a.fail("distance_metric was given more than once"));
                }
                if !a.eat_punct('=') {
                    return Err(a.fail(format!(
                        "expected '=' after distance_metric, found {}",
                        describe(a.peek())
                    )));
                }
                let metric = match a.next() {
                    Some(Token::Word(value)) => {
                        metric(value, element).map_err(|r| a.fail(r.to_string()))?
                    }
                    other => {
                        return Err(a.fail(format!(
                            "expected a metric after 'distance_metric=', found {}",
                            describe(other.as_ref())
                        )))
                    }
                };
                distance_metric = Some(metric);
            } else if token.is_word("indexed") {
                if index.is_some() {
                    return Err(a.fail("indexed by was given more than once"));
                }
                index = Some(index_clause(a)?);
            } else {
                return Err(a.fail(format!(
                    "unexpected {} after the vector type; expected distance_metric=... or \
                     indexed by ...(...)",
                    describe(Some(&token))
                )));
            }
        }
        if self.count(|k| matches!(k, ColumnKind::Vector(_))) >= MAX_VECTOR_COLUMNS {
            return Err(SchemaError::TooManyVectorColumns);
        }
        let dimensions = match digits.parse::<usize>() {
            Ok(n) if n <= MAX_DIMENSIONS => n,
            _ => {
                return Err(SchemaError::DimensionsTooLarge {
                    column: name.to_string(),
                    provided: digits.to_string(),
                })
            }
        };
        if element == ElementType::Bit && !dimensions.is_multiple_of(8) {
            return Err(a.fail(format!(
                "bit vector dimensions must be divisible by 8, found {dimensions}"
            )));
        }
        let distance_metric = distance_metric.unwrap_or(match element {
            ElementType::Bit => Metric::Hamming,
            _ => Metric::L2,
        });
        self.push(
            name,
            ColumnKind::Vector(VectorColumn {
                element,
                dimensions,
                distance_metric,
                index,
            }),
        )
    }
}

/// The `NOT NULL` (and, on an integer primary key, `AUTOINCREMENT`) that may follow a
/// non-vector column's type. Both are accepted for sqlite-vec compatibility and have no effect
/// (vec0 rowids never repeat anyway).
fn constraints(a: &mut Cursor, autoincrement: bool) -> Result<(), SchemaError> {
    while let Some(token) = a.next() {
        let reason = match token {
            t if t.is_word("not") && a.eat_word("null") => continue,
            t if autoincrement && t.is_word("autoincrement") => continue,
            t if t.is_word("not") => {
                format!("expected NULL after NOT, found {}", describe(a.peek()))
            }
            t if t.is_word("autoincrement") => {
                "AUTOINCREMENT is only allowed on an integer primary key".to_string()
            }
            t if t.is_word("distance_metric") => {
                "distance_metric applies only to vector columns".to_string()
            }
            t if t.is_word("indexed") => "indexed by applies only to vector columns".to_string(),
            t if t.is_word("primary") || t.is_word("partition") => {
                format!("'{t} key' must come directly after the column type")
            }
            t => format!(
                "unexpected {} after the column type; only NOT NULL may follow it",
                describe(Some(&t))
            ),
        };
        return Err(a.fail(reason));
    }
    Ok(())
}

/// `indexed by kind(key=value, ...)`, after `indexed`.
fn index_clause(a: &mut Cursor) -> Result<IndexSpec, SchemaError> {
    if !a.eat_word("by") {
        return Err(a.fail(format!(
            "expected 'by' after 'indexed', found {}",
            describe(a.peek())
        )));
    }
    let kind = match a.next() {
        Some(Token::Word(kind)) => kind.to_ascii_lowercase(),
        other => {
            return Err(a.fail(format!(
                "expected an index type after 'indexed by', as in 'indexed by hnsw()', found {}",
                describe(other.as_ref())
            )))
        }
    };
    if !a.eat_punct('(') {
        return Err(a.fail(format!(
            "expected '(' after 'indexed by {kind}', found {}; write '{kind}()' for the default \
             parameters",
            describe(a.peek())
        )));
    }
    let mut params: Vec<(String, String)> = Vec::new();
    if a.eat_punct(')') {
        return Ok(IndexSpec { kind, params });
    }
    loop {
        let key = match a.next() {
            Some(Token::Word(key)) => key.to_ascii_lowercase(),
            other => {
                return Err(a.fail(format!(
                    "expected a parameter name in {kind}(...), found {}",
                    describe(other.as_ref())
                )))
            }
        };
        if params.iter().any(|(k, _)| *k == key) {
            return Err(a.fail(format!("{kind} parameter '{key}' was given more than once")));
        }
        if !a.eat_punct('=') {
            return Err(a.fail(format!(
                "expected '=' after {kind} parameter '{key}', found {}",
                describe(a.peek())
            )));
        }
        let value = match a.next() {
            Some(Token::Word(v) | Token::Number(v)) => v.to_string(),
            Some(Token::Str(v)) => v,
            Some(Token::Punct(sign @ ('-' | '+')))
                if matches!(a.peek(), Some(Token::Number(_))) =>
            {
                format!(
                    "{sign}{}",
                    a.next().map(|t| t.to_string()).unwrap_or_default()
                )
            }
            other => {
                return Err(a.fail(format!(
                    "expected a value for {kind} parameter '{key}', found {}",
                    describe(other.as_ref())
                )))
            }
        };
        params.push((key, value));
        match a.next() {
            Some(Token::Punct(',')) => {}
            Some(Token::Punct(')')) => return Ok(IndexSpec { kind, params }),
            None => return Err(a.fail(format!("missing ')' to close '{kind}(...)'"))),
            Some(t) => {
                return Err(a.fail(format!(
                    "expected ',' or ')' after {kind} parameter '{}', found {}",
                    params[params.len() - 1].0,
                    describe(Some(&t))
                )))
            }
        }
    }
}

/// sqlite-vec's checks in its order: positive (`atoi` reads anything else as 0), divisible by
/// 8, at most [`MAX_CHUNK_SIZE`].
fn chunk_size(value: &str) -> Result<usize, SchemaError> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SchemaError::ChunkSizeNotPositive);
    }
    let digits = value.trim_start_matches('0');
    if digits.is_empty() {
        return Err(SchemaError::ChunkSizeNotPositive);
    }
    // Divisibility by 8 depends on the last three digits only, so any length is checked.
    let last_three = &digits[digits.len().saturating_sub(3)..];
    if last_three
        .parse::<usize>()
        .map_or(true, |n| !n.is_multiple_of(8))
    {
        return Err(SchemaError::ChunkSizeNotMultipleOf8);
    }
    match digits.parse::<usize>() {
        Ok(n) if n <= MAX_CHUNK_SIZE => Ok(n),
        _ => Err(SchemaError::ChunkSizeTooLarge {
            provided: digits.to_string(),
        }),
    }
}

/// Why a `distance_metric=` value does not fit its column.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BadMetric {
    /// Bit columns are compared by Hamming distance only.
    BitNeedsHamming {
        found: String,
    },
    HammingNeedsBit {
        element: ElementType,
    },
    Unknown {
        found: String,
    },
}

impl std::fmt::Display for BadMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadMetric::BitNeedsHamming { found } => write!(
                f,
                "bit vector columns only support distance_metric=hamming, found '{found}'"
            ),
            BadMetric::HammingNeedsBit { element } => write!(
                f,
                "distance_metric=hamming needs a bit vector column, but this column is {}",
                element.name()
            ),
            BadMetric::Unknown { found } => write!(
                f,
                "unknown distance_metric '{found}'; expected l2, cosine, l1 or dot"
            ),
        }
    }
}

fn metric(value: &str, element: ElementType) -> Result<Metric, BadMetric> {
    let known = Metric::from_name(value);
    match (known, element) {
        (Some(Metric::Hamming), ElementType::Bit) => Ok(Metric::Hamming),
        (_, ElementType::Bit) => Err(BadMetric::BitNeedsHamming {
            found: value.to_string(),
        }),
        (Some(Metric::Hamming), other) => Err(BadMetric::HammingNeedsBit { element: other }),
        (Some(m), _) => Ok(m),
        (None, _) => Err(BadMetric::Unknown {
            found: value.to_string(),
        }),
    }
}

fn lower(word: &str) -> String {
    word.to_ascii_lowercase()
}

fn vector_element(ty: &str) -> Option<ElementType> {
    Some(match lower(ty).as_str() {
        "float" | "f32" => ElementType::Float32,
        "int8" | "i8" => ElementType::Int8,
        "bit" => ElementType::Bit,
        "float16" | "f16" => ElementType::Float16,
        "bfloat16" | "bf16" => ElementType::BFloat16,
        _ => return None,
    })
}

fn key_type(ty: &str) -> Option<KeyType> {
    Some(match lower(ty).as_str() {
        "integer" | "int" => KeyType::Integer,
        "text" => KeyType::Text,
        _ => return None,
    })
}

fn metadata_type(ty: &str) -> Option<MetadataType> {
    Some(match lower(ty).as_str() {
        "text" => MetadataType::Text,
        "integer" | "int" | "int64" | "integer64" => MetadataType::Integer,
        "float" | "double" | "float64" | "f64" => MetadataType::Float,
        "boolean" | "bool" => MetadataType::Boolean,
        _ => return None,
    })
}

fn auxiliary_type(ty: &str) -> Option<AuxiliaryType> {
    Some(match lower(ty).as_str() {
        "text" => AuxiliaryType::Text,
        "integer" | "int" => AuxiliaryType::Integer,
        "float" | "double" => AuxiliaryType::Float,
        "blob" => AuxiliaryType::Blob,
        _ => return None,
    })
}
