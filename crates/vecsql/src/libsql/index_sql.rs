//! Reading a libSQL vector index back from the `CREATE INDEX` text SQLite keeps in
//! `sqlite_schema`: which column, which settings, which partial-index `WHERE`. SQLite stores
//! the statement as written, so this is a small tokenizer over SQLite's lexical rules
//! (quoted identifiers, string literals, comments), not a full SQL parser.

use crate::error::{SqlError, SqlResult};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word or a quoted identifier, unquoted.
    Ident {
        text: String,
        quoted: bool,
    },
    Str(String),
    Num(String),
    Punct(char),
}

/// Tokens with the byte offset where each starts.
fn tokenize(sql: &str) -> SqlResult<Vec<(usize, Tok)>> {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let unterminated = || SqlError::new("vector index: unterminated token in the index definition");
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(b.len());
            }
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                let mut text = Vec::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(unterminated()),
                        Some(&x) if x == close => {
                            if close != b']' && b.get(i + 1) == Some(&close) {
                                text.push(close);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&x) => {
                            text.push(x);
                            i += 1;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&text).into_owned();
                out.push((
                    start,
                    if c == b'\'' {
                        Tok::Str(text)
                    } else {
                        Tok::Ident { text, quoted: true }
                    },
                ));
            }
            b'0'..=b'9' | b'.' if c != b'.' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push((start, Tok::Num(sql[start..i].to_string())));
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push((
                    start,
                    Tok::Ident {
                        text: sql[start..i].to_string(),
                        quoted: false,
                    },
                ));
            }
            _ => {
                out.push((start, Tok::Punct(c as char)));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// What a libSQL vector index says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDefinition {
    pub unique: bool,
    pub column: String,
    /// Arguments after the column; `Err` holds the first argument that is not a string.
    pub settings: Vec<String>,
    /// The partial index condition, as written (bare column names of the table).
    pub where_clause: Option<String>,
}

fn is_kw(t: Option<&(usize, Tok)>, kw: &str) -> bool {
    matches!(t, Some((_, Tok::Ident { text, quoted: false })) if text.eq_ignore_ascii_case(kw))
}

/// Whether the `CREATE INDEX` text uses `libsql_vector_idx` (cheap pre-filter).
pub fn mentions_vector_idx(sql: &str) -> bool {
    sql.to_ascii_lowercase().contains("libsql_vector_idx")
}

/// Parses `CREATE [UNIQUE] INDEX [IF NOT EXISTS] [s.]name ON tbl (libsql_vector_idx(col,
/// 'k=v', ...)) [WHERE expr]`. Returns None when the index is not a vector index.
pub fn parse(sql: &str) -> SqlResult<Option<IndexDefinition>> {
    if !mentions_vector_idx(sql) {
        return Ok(None);
    }
    let toks = tokenize(sql)?;
    let mut i = 0;
    let malformed = || SqlError::new("vector index: could not read the index definition");
    if !is_kw(toks.get(i), "create") {
        return Err(malformed());
    }
    i += 1;
    let unique = is_kw(toks.get(i), "unique");
    if unique {
        i += 1;
    }
    if !is_kw(toks.get(i), "index") {
        return Err(malformed());
    }
    // Skip to ON at depth 0 (IF NOT EXISTS, schema.name).
    while i < toks.len() && !is_kw(toks.get(i), "on") {
        i += 1;
    }
    i += 2; // ON tbl
    if !matches!(toks.get(i), Some((_, Tok::Punct('(')))) {
        return Err(malformed());
    }
    // The indexed expressions: split the parenthesised list on top-level commas.
    let open = i;
    let mut depth = 0;
    let mut items: Vec<(usize, usize)> = Vec::new();
    let mut item_start = open + 1;
    let mut close = None;
    for (j, (_, t)) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    items.push((item_start, j));
                    close = Some(j);
                    break;
                }
            }
            Tok::Punct(',') if depth == 1 => {
                items.push((item_start, j));
                item_start = j + 1;
            }
            _ => {}
        }
    }
    let close = close.ok_or_else(malformed)?;
    let one_column = || {
        SqlError::new(
            "vector index: must contain exactly one column wrapped into the libsql_vector_idx \
             function",
        )
    };
    let &[(a, b)] = items.as_slice() else {
        return Err(one_column());
    };
    let expr = &toks[a..b];
    let is_fn = matches!(expr.first(), Some((_, Tok::Ident { text, quoted: false })) if text.eq_ignore_ascii_case("libsql_vector_idx"))
        && matches!(expr.get(1), Some((_, Tok::Punct('('))));
    if !is_fn {
        return Err(one_column());
    }
    // Arguments: column, then strings, then ')' (optionally followed by COLLATE/ASC/DESC).
    let mut k = 2;
    let column = match (expr.get(k), expr.get(k + 1)) {
        (Some((_, Tok::Ident { text, .. })), Some((_, Tok::Punct(',' | ')')))) => text.clone(),
        (Some((_, Tok::Punct(')'))), _) => {
            return Err(SqlError::new(
                "vector index: libsql_vector_idx needs the vector column as its first argument",
            ))
        }
        _ => return Err(SqlError::new(
            "vector index: the first argument of libsql_vector_idx must be a column of the table",
        )),
    };
    k += 1;
    let mut settings = Vec::new();
    loop {
        match expr.get(k) {
            Some((_, Tok::Punct(')'))) => break,
            Some((_, Tok::Punct(','))) => {
                match (expr.get(k + 1), expr.get(k + 2)) {
                    (Some((_, Tok::Str(s))), Some((_, Tok::Punct(',' | ')')))) => {
                        settings.push(s.clone())
                    }
                    _ => {
                        return Err(SqlError::new(
                            "vector index: all arguments after first must be strings",
                        ))
                    }
                }
                k += 2;
            }
            _ => return Err(malformed()),
        }
    }
    let where_clause = match toks.get(close + 1) {
        None => None,
        Some(t) if is_kw(Some(t), "where") => {
            let from = toks.get(close + 2).map(|(p, _)| *p).ok_or_else(malformed)?;
            let text = sql[from..].trim().trim_end_matches(';').trim();
            Some(text.to_string())
        }
        Some(_) => return Err(malformed()),
    };
    Ok(Some(IndexDefinition {
        unique,
        column,
        settings,
        where_clause,
    }))
}

/// libSQL's vector element types, by the names its column types use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibsqlType {
    Float64,
    Float32,
    Float16,
    FloatB16,
    Float8,
    Float1Bit,
}

impl LibsqlType {
    pub fn name(self) -> &'static str {
        match self {
            LibsqlType::Float64 => "FLOAT64",
            LibsqlType::Float32 => "FLOAT32",
            LibsqlType::Float16 => "FLOAT16",
            LibsqlType::FloatB16 => "FLOATB16",
            LibsqlType::Float8 => "FLOAT8",
            LibsqlType::Float1Bit => "FLOAT1BIT",
        }
    }

    pub fn from_name(name: &str) -> Option<LibsqlType> {
        Some(match name.to_ascii_uppercase().as_str() {
            "FLOAT64" | "F64_BLOB" => LibsqlType::Float64,
            "FLOAT32" | "F32_BLOB" => LibsqlType::Float32,
            "FLOAT16" | "F16_BLOB" => LibsqlType::Float16,
            "FLOATB16" | "FB16_BLOB" => LibsqlType::FloatB16,
            "FLOAT8" | "F8_BLOB" => LibsqlType::Float8,
            "FLOAT1BIT" | "F1BIT_BLOB" => LibsqlType::Float1Bit,
            _ => return None,
        })
    }

    pub fn element(self) -> vecsql_core::ElementType {
        use vecsql_core::ElementType as E;
        match self {
            LibsqlType::Float64 => E::Float64,
            LibsqlType::Float32 => E::Float32,
            LibsqlType::Float16 => E::Float16,
            LibsqlType::FloatB16 => E::BFloat16,
            LibsqlType::Float8 => E::Float8,
            LibsqlType::Float1Bit => E::Bit,
        }
    }
}

/// Reads a column type such as `F32_BLOB(4)` or `FLOAT32 ( 768 )`.
pub fn column_type(decl: &str) -> SqlResult<(LibsqlType, usize)> {
    let bad = || {
        SqlError::new(format!(
            "vector index: unexpected vector column type: {}",
            if decl.is_empty() { "(none)" } else { decl }
        ))
    };
    let (name, rest) = decl.split_once('(').ok_or_else(bad)?;
    let ty = LibsqlType::from_name(name.trim()).ok_or_else(bad)?;
    let dims = rest.trim().strip_suffix(')').ok_or_else(bad)?.trim();
    let dims: usize = dims.parse().map_err(|_| bad())?;
    if dims == 0 || dims > vecsql_core::MAX_DIMENSIONS {
        return Err(bad());
    }
    Ok((ty, dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_column_settings_and_where() {
        let d = parse(
            "CREATE INDEX \"my idx\" ON movies ( libsql_vector_idx( [embedding] , 'metric=l2', \
             'compress_neighbors=float8') ) WHERE year >= 2000 -- c",
        )
        .unwrap()
        .unwrap();
        assert_eq!(d.column, "embedding");
        assert_eq!(d.settings, ["metric=l2", "compress_neighbors=float8"]);
        assert_eq!(d.where_clause.as_deref(), Some("year >= 2000 -- c"));
        assert!(!d.unique);
        assert!(
            parse("CREATE UNIQUE INDEX i ON t(libsql_vector_idx(e))")
                .unwrap()
                .unwrap()
                .unique
        );
        assert_eq!(parse("CREATE INDEX i ON t(a)").unwrap(), None);
    }

    #[test]
    fn refuses_what_libsql_refuses() {
        for (sql, msg) in [
            (
                "CREATE INDEX i ON t(libsql_vector_idx(e), y)",
                "exactly one column",
            ),
            (
                "CREATE INDEX i ON t(libsql_vector_idx(e, 1))",
                "must be strings",
            ),
            (
                "CREATE INDEX i ON t(libsql_vector_idx(e || x))",
                "must be a column",
            ),
        ] {
            let e = parse(sql).unwrap_err().message;
            assert!(e.contains(msg), "{sql}: {e}");
        }
    }

    #[test]
    fn column_types() {
        assert_eq!(
            column_type("F32_BLOB(4)").unwrap(),
            (LibsqlType::Float32, 4)
        );
        assert_eq!(
            column_type("float1bit ( 16 )").unwrap(),
            (LibsqlType::Float1Bit, 16)
        );
        assert!(column_type("TEXT").is_err());
        assert!(column_type("F32_BLOB(0)").is_err());
    }
}
