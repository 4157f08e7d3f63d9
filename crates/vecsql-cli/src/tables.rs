//! What the CLI needs to know about a database's vec0 tables: their definitions (parsed with
//! the extension's own parser from the `CREATE VIRTUAL TABLE` text in `sqlite_schema`), row
//! counts and index status.

use anyhow::{anyhow, bail, Context, Result};
use rusqlite::{Connection, OptionalExtension};
use vecsql::vec0::schema::{
    parse_definition, vector_type_name, AuxiliaryType, Column, ColumnKind, KeyType, MetadataType,
    TableDefinition, VectorColumn,
};

/// One vec0 table of a database.
#[derive(Debug, Clone)]
pub struct Vec0Table {
    pub name: String,
    pub sql: String,
    pub def: TableDefinition,
}

/// Quotes an SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Splits the text between the outer parentheses of `USING vec0(...)` on top-level commas, as
/// SQLite does before handing the arguments to the module.
pub fn module_arguments(sql: &str) -> Option<Vec<String>> {
    let open = sql.find('(')?;
    let close = sql.rfind(')')?;
    if close <= open {
        return None;
    }
    let inner = &sql[open + 1..close];
    let (mut args, mut current, mut depth, mut quote_char) = (Vec::new(), String::new(), 0, None);
    for c in inner.chars() {
        match quote_char {
            Some(q) => {
                if c == q {
                    quote_char = None;
                }
                current.push(c);
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote_char = Some(c);
                    current.push(c);
                }
                '(' => {
                    depth += 1;
                    current.push(c);
                }
                ')' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_string()),
                _ => current.push(c),
            },
        }
    }
    args.push(current.trim().to_string());
    Some(args)
}

/// Whether `sql` is a `CREATE VIRTUAL TABLE ... USING vec0(...)` statement.
fn is_vec0(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).any(|w| w[0] == "using" && w[1] == "vec0")
}

/// Every vec0 table in the main schema, by name.
pub fn list(conn: &Connection) -> Result<Vec<Vec0Table>> {
    let mut stmt = conn.prepare(
        "select name, sql from sqlite_master where type = 'table' and sql like 'create virtual table%' order by name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut tables = Vec::new();
    for row in rows {
        let (name, sql) = row?;
        if !is_vec0(&sql) {
            continue;
        }
        let args = module_arguments(&sql)
            .ok_or_else(|| anyhow!("cannot read the definition of {name}: {sql}"))?;
        let def = parse_definition(&args)
            .map_err(|e| anyhow!("cannot parse the definition of {name}: {e}"))?;
        tables.push(Vec0Table { name, sql, def });
    }
    Ok(tables)
}

/// The vec0 table `name` (compared case-insensitively), or an error listing those there are.
pub fn find(conn: &Connection, name: &str) -> Result<Vec0Table> {
    let tables = list(conn)?;
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    tables
        .into_iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            if names.is_empty() {
                anyhow!("no vec0 table named {name:?}: the database has no vec0 tables")
            } else {
                anyhow!(
                    "no vec0 table named {name:?}; vec0 tables here: {}",
                    names.join(", ")
                )
            }
        })
}

/// Whether a table (of any kind) named `name` exists.
pub fn exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "select 1 from sqlite_master where type = 'table' and name = ?1 collate nocase",
            [name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

impl Vec0Table {
    /// The key column's name: the declared primary key, or `rowid`.
    pub fn key_name(&self) -> String {
        self.def
            .primary_key()
            .map(|k| k.name.to_string())
            .unwrap_or_else(|| "rowid".to_string())
    }

    pub fn key_is_text(&self) -> bool {
        matches!(self.def.primary_key(), Some(k) if k.def == KeyType::Text)
    }

    /// The vector column `name`, or the first one.
    pub fn vector_column(&self, name: Option<&str>) -> Result<(String, VectorColumn)> {
        let mut columns = self.def.vector_columns();
        let found = match name {
            Some(name) => self
                .def
                .vector_columns()
                .find(|c| c.name.eq_ignore_ascii_case(name)),
            None => columns.next(),
        };
        match found {
            Some(c) => Ok((c.name.to_string(), c.def.clone())),
            None => {
                let names: Vec<&str> = self.def.vector_columns().map(|c| c.name).collect();
                bail!(
                    "{} has no vector column {:?}; its vector columns: {}",
                    self.name,
                    name.unwrap_or(""),
                    names.join(", ")
                )
            }
        }
    }

    /// The columns whose kind `pick` accepts, in declaration order.
    pub fn columns_where<'a>(
        &'a self,
        pick: impl Fn(&ColumnKind) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Column> + 'a {
        self.def.columns.iter().filter(move |c| pick(&c.kind))
    }

    /// The text column to store or match texts in: `name` if given, else an auxiliary or
    /// metadata text column named `text`, else the first auxiliary/metadata text column.
    pub fn text_column(&self, name: Option<&str>) -> Option<String> {
        let texts: Vec<&str> = self
            .columns_where(|kind| {
                matches!(
                    kind,
                    ColumnKind::Auxiliary(AuxiliaryType::Text | AuxiliaryType::Any)
                        | ColumnKind::Metadata(MetadataType::Text)
                )
            })
            .map(|c| c.name.as_str())
            .collect();
        match name {
            Some(name) => texts
                .iter()
                .find(|c| c.eq_ignore_ascii_case(name))
                .map(|c| c.to_string()),
            None => texts
                .iter()
                .find(|c| c.eq_ignore_ascii_case("text"))
                .or(texts.first())
                .map(|c| c.to_string()),
        }
    }

    /// Columns shown next to search results: every non-vector, non-key column, in the order
    /// `select *` shows them.
    pub fn display_columns(&self) -> Vec<String> {
        self.def
            .vtab_columns()
            .filter(|c| !matches!(c.kind, ColumnKind::Vector(_) | ColumnKind::PrimaryKey(_)))
            .map(|c| c.name.clone())
            .collect()
    }

    /// Rows in the table, from the `_rowids` shadow table (one row per vec0 row).
    pub fn row_count(&self, conn: &Connection) -> Result<i64> {
        conn.query_row(
            &format!(
                "select count(*) from {}",
                quote(&format!("{}_rowids", self.name))
            ),
            [],
            |r| r.get(0),
        )
        .with_context(|| format!("counting the rows of {}", self.name))
    }
}

/// The error for an index knob (`--ef-search`, `--exact`) on a column without an ANN index.
pub fn no_index(table: &str, column: &str, option: &str) -> String {
    format!(
        "{table} has no ANN index (its column {column} is searched by an exact scan), so \
         {option} does not apply; add one with `vecsql index DB {table}` (or declare it with \
         `indexed by hnsw()`: `vecsql import --index hnsw` on a new table)"
    )
}

/// `float[384]`, `int8[8]`... as written in a definition.
pub fn vector_type(v: &VectorColumn) -> String {
    format!("{}[{}]", vector_type_name(v.element), v.dimensions)
}

/// One entry of `vec_index_status(table)`, if the function exists and reports this column.
#[derive(Debug, Clone, Default)]
pub struct IndexStatus {
    pub column: String,
    pub kind: String,
    pub state: String,
    pub rows: Option<i64>,
    pub indexed: Option<i64>,
    pub bytes: Option<i64>,
    pub params: String,
}

/// `vec_index_status(table)`, parsed; `None` when the function is missing or fails (builds
/// without ANN indexes), an empty list when the table has no index.
pub fn index_status(conn: &Connection, table: &str) -> Option<Vec<IndexStatus>> {
    let text: String = conn
        .query_row("select vec_index_status(?1)", [table], |r| r.get(0))
        .ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let entries = value.as_array()?;
    Some(
        entries
            .iter()
            .map(|e| IndexStatus {
                column: e["column"].as_str().unwrap_or("").to_string(),
                kind: e["kind"].as_str().unwrap_or("?").to_string(),
                state: e["state"].as_str().unwrap_or("").to_string(),
                rows: e["rows"].as_i64(),
                indexed: e["indexed"].as_i64(),
                bytes: e["bytes"].as_i64(),
                params: match &e["params"] {
                    serde_json::Value::Object(map) => map
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "column" | "declared_as"))
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => format!("{k}={s}"),
                            other => format!("{k}={other}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => String::new(),
                },
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_on_top_level_commas_only() {
        let sql = "CREATE VIRTUAL TABLE t USING vec0(id integer primary key, \
                   e float[4] distance_metric=cosine indexed by hnsw(m=16, ef_construction=200), \
                   +note text)";
        assert_eq!(
            module_arguments(sql).unwrap(),
            vec![
                "id integer primary key",
                "e float[4] distance_metric=cosine indexed by hnsw(m=16, ef_construction=200)",
                "+note text"
            ]
        );
        assert!(is_vec0(sql));
        assert!(is_vec0("create virtual table x using VEC0 (e float[2])"));
        assert!(!is_vec0("create virtual table x using fts5(a)"));
    }
}
