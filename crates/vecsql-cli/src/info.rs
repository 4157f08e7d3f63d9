//! `vecsql info`: the database file, then per vec0 table its row count, storage size, chunk
//! size and columns, with the index of each vector column as `vec_index_status()` reports it
//! (`-` when there is none, or when this build has no ANN indexes).

use anyhow::Result;
use rusqlite::Connection;
use serde_json::json;
use vecsql::vec0::schema::{AuxiliaryType, ColumnKind, KeyType, MetadataType};

use crate::output;
use crate::tables::{self, IndexStatus, Vec0Table};
use crate::InfoArgs;

struct TableReport {
    table: Vec0Table,
    rows: i64,
    /// Pages of the table's shadow tables and their indexes, from `dbstat`.
    bytes: Option<u64>,
    /// `None`: `vec_index_status` is missing or failed.
    indexes: Option<Vec<IndexStatus>>,
}

pub fn run(args: &InfoArgs) -> Result<()> {
    let conn = crate::open(&args.db, false)?;
    let file_bytes = std::fs::metadata(&args.db).map(|m| m.len()).unwrap_or(0);
    let journal: String = conn.query_row("pragma journal_mode", [], |r| r.get(0))?;
    let page_size: i64 = conn.query_row("pragma page_size", [], |r| r.get(0))?;
    let vecsql_version: String = conn.query_row("select vecsql_version()", [], |r| r.get(0))?;
    let reports = tables::list(&conn)?
        .into_iter()
        .map(|table| {
            Ok(TableReport {
                rows: table.row_count(&conn)?,
                bytes: storage_bytes(&conn, &table.name),
                indexes: tables::index_status(&conn, &table.name),
                table,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    if args.json {
        let tables: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                let columns: Vec<serde_json::Value> = r
                    .table
                    .def
                    .vtab_columns()
                    .map(|c| {
                        let (role, kind) = describe(&c.kind);
                        let index = index_of(r, &c.name);
                        json!({
                            "name": c.name,
                            "role": role,
                            "type": kind,
                            "index": index.map(|i| json!({
                                "kind": i.kind, "state": i.state, "params": i.params,
                                "rows": i.rows, "indexed": i.indexed, "bytes": i.bytes,
                            })),
                        })
                    })
                    .collect();
                json!({
                    "name": r.table.name,
                    "rows": r.rows,
                    "bytes": r.bytes,
                    "chunk_size": r.table.def.chunk_size,
                    "columns": columns,
                    "sql": r.table.sql,
                })
            })
            .collect();
        let report = json!({
            "file": args.db.display().to_string(),
            "bytes": file_bytes,
            "page_size": page_size,
            "journal_mode": journal,
            "vecsql_version": vecsql_version,
            "tables": tables,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }

    println!(
        "{}: {}, page size {page_size}, journal_mode={journal}, vecsql {vecsql_version}",
        args.db.display(),
        output::bytes(file_bytes)
    );
    if reports.is_empty() {
        println!("no vec0 tables");
        return Ok(());
    }
    let mut summary = output::table(&["table", "rows", "size", "chunk size", "vectors", "index"]);
    for r in &reports {
        let vectors: Vec<String> = r
            .table
            .def
            .vector_columns()
            .map(|v| {
                format!(
                    "{} {}",
                    v.name,
                    describe(&ColumnKind::Vector(v.def.clone())).1
                )
            })
            .collect();
        let index: Vec<String> = r
            .table
            .def
            .vector_columns()
            .map(|v| index_cell(r, v.name, false))
            .collect();
        summary.add_row(vec![
            r.table.name.clone(),
            output::count(r.rows.max(0) as u64),
            r.bytes.map_or("-".to_string(), output::bytes),
            r.table.def.chunk_size.to_string(),
            vectors.join("\n"),
            index.join("\n"),
        ]);
    }
    output::align_right(&mut summary, &[1, 2, 3]);
    println!("{summary}");
    for r in &reports {
        println!("\n{}", r.table.name);
        let mut columns = output::table(&["column", "role", "type", "index"]);
        for c in r.table.def.vtab_columns() {
            let (role, kind) = describe(&c.kind);
            let index = match c.kind {
                ColumnKind::Vector(_) => index_cell(r, &c.name, true),
                _ => String::new(),
            };
            columns.add_row(vec![c.name.clone(), role.to_string(), kind, index]);
        }
        println!("{columns}");
    }
    Ok(())
}

fn index_of<'a>(r: &'a TableReport, column: &str) -> Option<&'a IndexStatus> {
    r.indexes
        .as_ref()?
        .iter()
        .find(|i| i.column.eq_ignore_ascii_case(column))
}

/// `hnsw(m=16, ...), ready, 1,000/1,000 rows, 1.2 MiB` (without the parameters unless
/// `params`), `none`, or `-` when the status is unknown.
fn index_cell(r: &TableReport, column: &str, params: bool) -> String {
    if r.indexes.is_none() {
        return "-".to_string();
    }
    let Some(i) = index_of(r, column) else {
        return "none".to_string();
    };
    let mut parts = vec![if params {
        format!("{}({})", i.kind, i.params)
    } else {
        i.kind.clone()
    }];
    if !i.state.is_empty() {
        parts.push(i.state.clone());
    }
    if let (Some(indexed), Some(rows)) = (i.indexed, i.rows) {
        parts.push(format!(
            "{}/{} rows",
            output::count(indexed.max(0) as u64),
            output::count(rows.max(0) as u64)
        ));
    }
    if let Some(bytes) = i.bytes {
        parts.push(output::bytes(bytes.max(0) as u64));
    }
    parts.join(", ")
}

/// (role, type) of a column for display.
fn describe(kind: &ColumnKind) -> (&'static str, String) {
    let key = |k: &KeyType| match k {
        KeyType::Integer => "integer".to_string(),
        KeyType::Text => "text".to_string(),
    };
    match kind {
        ColumnKind::PrimaryKey(k) => ("primary key", key(k)),
        ColumnKind::PartitionKey(k) => ("partition key", key(k)),
        ColumnKind::Vector(v) => (
            "vector",
            format!("{} {}", tables::vector_type(v), v.distance_metric.name()),
        ),
        ColumnKind::Metadata(m) => (
            "metadata",
            match m {
                MetadataType::Text => "text",
                MetadataType::Integer => "integer",
                MetadataType::Float => "float",
                MetadataType::Boolean => "boolean",
            }
            .to_string(),
        ),
        ColumnKind::Auxiliary(a) => (
            "auxiliary",
            match a {
                AuxiliaryType::Any => "any",
                AuxiliaryType::Text => "text",
                AuxiliaryType::Integer => "integer",
                AuxiliaryType::Float => "float",
                AuxiliaryType::Blob => "blob",
            }
            .to_string(),
        ),
    }
}

/// Bytes of pages used by `table`'s shadow tables and their indexes (`dbstat`).
fn storage_bytes(conn: &Connection, table: &str) -> Option<u64> {
    let prefix = format!("{table}_");
    conn.query_row(
        "select sum(d.pgsize) from dbstat d join sqlite_master m on m.name = d.name \
         where substr(m.tbl_name, 1, length(?1)) = ?1 collate nocase",
        [&prefix],
        |r| r.get::<_, Option<i64>>(0),
    )
    .ok()
    .flatten()
    .map(|b| b.max(0) as u64)
}
