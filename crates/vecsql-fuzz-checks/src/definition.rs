//! The vec0 definition parser (`vecsql::vec0::schema::parse_definition`) on arbitrary text,
//! then the same text through SQLite's `CREATE VIRTUAL TABLE`, and, for small tables, a row
//! written, scanned, searched, deleted, and the table dropped.

use rusqlite::types::Value;
use vecsql::vec0::schema::{
    parse_definition, AuxiliaryType, ColumnKind, ElementType, KeyType, MetadataType,
    TableDefinition, MAX_AUXILIARY_COLUMNS, MAX_CHUNK_SIZE, MAX_DIMENSIONS, MAX_METADATA_COLUMNS,
    MAX_PARTITION_KEYS, MAX_VECTOR_COLUMNS,
};

use super::sql;

/// Splits the text between `vec0(` and `)` into arguments the way SQLite does: on commas
/// outside parentheses and quotes (`'...'`, `"..."`, `` `...` ``, `[...]`), each trimmed.
pub fn split_arguments(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    args.push(current.trim().to_string());
                    current.clear();
                    continue;
                }
                _ => {}
            },
        }
        current.push(c);
    }
    args.push(current.trim().to_string());
    args
}

fn check_limits(def: &TableDefinition, args: &[String]) {
    let count = |f: fn(&ColumnKind) -> bool| def.columns.iter().filter(|c| f(&c.kind)).count();
    let vectors = count(|k| matches!(k, ColumnKind::Vector(_)));
    assert!(
        (1..=MAX_VECTOR_COLUMNS).contains(&vectors),
        "{args:?}: {vectors} vector columns"
    );
    assert!(
        count(|k| matches!(k, ColumnKind::PrimaryKey(_))) <= 1,
        "{args:?}"
    );
    assert!(count(|k| matches!(k, ColumnKind::PartitionKey(_))) <= MAX_PARTITION_KEYS);
    assert!(count(|k| matches!(k, ColumnKind::Metadata(_))) <= MAX_METADATA_COLUMNS);
    assert!(count(|k| matches!(k, ColumnKind::Auxiliary(_))) <= MAX_AUXILIARY_COLUMNS);
    assert!(
        def.chunk_size > 0 && def.chunk_size.is_multiple_of(8) && def.chunk_size <= MAX_CHUNK_SIZE
    );
    for column in &def.columns {
        let name = &column.name;
        assert!(
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{args:?}: column name {name:?}"
        );
        if let ColumnKind::Vector(v) = &column.kind {
            assert!((1..=MAX_DIMENSIONS).contains(&v.dimensions), "{args:?}");
            if v.element == ElementType::Bit {
                assert_eq!(v.dimensions % 8, 0, "{args:?}");
            }
        }
    }
    let mut names: Vec<String> = def
        .columns
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        def.columns.len(),
        "{args:?}: duplicate column names accepted"
    );
}

/// A value column `kind` accepts, for the one row the check inserts.
fn sample(kind: &ColumnKind) -> Value {
    match kind {
        ColumnKind::PrimaryKey(KeyType::Integer) | ColumnKind::PartitionKey(KeyType::Integer) => {
            Value::Integer(7)
        }
        ColumnKind::PrimaryKey(KeyType::Text) | ColumnKind::PartitionKey(KeyType::Text) => {
            Value::Text("key".into())
        }
        ColumnKind::Vector(v) => {
            let bytes = v.element.packed_bytes(v.dimensions);
            Value::Blob((0..bytes).map(|i| (i % 5) as u8).collect())
        }
        ColumnKind::Metadata(MetadataType::Text) => Value::Text("a metadata text over 12".into()),
        ColumnKind::Metadata(MetadataType::Integer) => Value::Integer(-3),
        ColumnKind::Metadata(MetadataType::Float) => Value::Real(0.5),
        ColumnKind::Metadata(MetadataType::Boolean) => Value::Integer(1),
        ColumnKind::Auxiliary(AuxiliaryType::Blob) => Value::Blob(vec![1, 2, 3]),
        ColumnKind::Auxiliary(AuxiliaryType::Integer) => Value::Integer(42),
        ColumnKind::Auxiliary(AuxiliaryType::Float) => Value::Real(4.25),
        ColumnKind::Auxiliary(_) => Value::Text("aux".into()),
    }
}

/// Bytes one chunk of the table takes: above this the insert is skipped, to keep each run
/// fast (8192 dimensions x 4096 rows is 128 MiB per vector column).
const MAX_CHUNK_BYTES: usize = 1 << 20;

fn chunk_bytes(def: &TableDefinition) -> usize {
    def.vector_columns()
        .map(|c| c.def.dimensions * 4 * def.chunk_size)
        .sum()
}

pub fn definition(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let args = split_arguments(&text);
    let parsed = parse_definition(&args);
    if let Ok(def) = &parsed {
        check_limits(def, &args);
        // Parsing is a pure function of the arguments.
        assert_eq!(parse_definition(&args).as_ref(), Ok(def));
    }
    if text.contains('\0') {
        return;
    }
    let conn = sql::connection();
    let create = format!("create virtual table t using vec0({text})");
    // `prepare` compiles only the first statement, so text such as `x); drop ...` cannot go
    // further than this in-memory database anyway.
    let created = sql::execute(&conn, &create, []);
    let Ok(def) = parsed else {
        return;
    };
    if created.is_err() || chunk_bytes(&def) > MAX_CHUNK_BYTES {
        return;
    }
    // Our splitter agreed with SQLite's closely enough for the table to exist: write one row
    // through every column, read it back, search it, delete it.
    let columns: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
    let values: Vec<Value> = def.columns.iter().map(|c| sample(&c.kind)).collect();
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
    let insert = format!(
        "insert into t({}) values ({})",
        quoted.join(", "),
        placeholders.join(", ")
    );
    if sql::execute(&conn, &insert, rusqlite::params_from_iter(values.iter())).is_err() {
        return;
    }
    let rows = sql::query(&conn, "select * from t", []).expect("scan after insert");
    assert_eq!(rows.len(), 1, "{args:?}: one row inserted");
    if let Some(v) = def.vector_columns().next() {
        let query = sample(&ColumnKind::Vector(v.def.clone()));
        let knn = format!(
            "select distance from t where \"{}\" match ?1 and k = 5",
            v.name
        );
        let hits = sql::query(&conn, &knn, [query]);
        if def.partition_keys().next().is_none() {
            assert_eq!(hits.expect("KNN over one row").len(), 1, "{args:?}");
        }
    }
    sql::execute(&conn, "delete from t", []).expect("delete");
    assert_eq!(sql::query(&conn, "select * from t", []).unwrap().len(), 0);
    let integrity = sql::query(&conn, "pragma integrity_check", []).expect("integrity_check");
    assert_eq!(integrity, vec![vec![Value::Text("ok".into())]], "{args:?}");
    sql::execute(&conn, "drop table t", []).expect("drop");
}
