//! Creating, dropping and renaming the shadow tables listed in [`super::layout`].

use super::error::reword;
use super::index::hnsw;
use super::layout::{quote, Layout, MetadataKind};
use crate::ffi::connection::Connection;
use crate::ffi::{OwnedValue, SqlValue};
use crate::vec0::error::Vec0Result;

/// The on-disk format version vecsql writes into `{t}_info`; a newer major is refused.
pub const FORMAT_VERSION: i64 = 1;

/// Suffixes of every shadow table a vec0 table can have, for xShadowName. Numbered tables are
/// matched by prefix.
pub fn is_shadow_suffix(suffix: &str) -> bool {
    let numbered = |prefix: &str| {
        suffix
            .strip_prefix(prefix)
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let index_table = |name: &str| {
        suffix
            .strip_prefix("hnsw")
            .and_then(|rest| rest.strip_suffix(name))
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(
        suffix,
        "info" | "chunks" | "rowids" | "auxiliary" | "free" | "chunk_versions"
    ) || numbered("vector_chunks")
        || numbered("metadatachunks")
        || numbered("metadatatext")
        || index_table("_nodes")
        || index_table("_meta")
}

/// Every shadow table this layout has, as suffixes.
pub fn suffixes(layout: &Layout) -> Vec<String> {
    let mut out: Vec<String> = ["info", "chunks", "rowids", "free", "chunk_versions"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    out.extend((0..layout.vectors.len()).map(Layout::vector_chunks));
    for (i, m) in layout.metadata.iter().enumerate() {
        out.push(Layout::metadata_chunks(i));
        if m.kind == MetadataKind::Text {
            out.push(Layout::metadata_text(i));
        }
    }
    if !layout.auxiliary.is_empty() {
        out.push("auxiliary".to_string());
    }
    for (i, v) in layout.vectors.iter().enumerate() {
        if v.index.is_some() {
            out.push(hnsw::nodes_suffix(i));
            out.push(hnsw::meta_suffix(i));
        }
    }
    out
}

pub fn create(conn: &Connection, layout: &Layout) -> Vec0Result<()> {
    let t = |s: &str| layout.qualified(s);
    // (what sqlite-vec calls the table in its "Could not create" message, SQL)
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut step = |label: String, sql: String| steps.push((label, sql));
    step(
        "'_info'".into(),
        format!(
            "CREATE TABLE {info}(key TEXT PRIMARY KEY, value ANY);\
             INSERT INTO {info}(key, value) VALUES ('CREATE_VERSION', 'vecsql {}'), \
             ('VECSQL_FORMAT', {FORMAT_VERSION}); {};",
            crate::VERSION,
            new_cache_id_sql(layout),
            info = t("info"),
        ),
    );
    let partitions: String = (0..layout.partitions.len())
        .map(|i| format!("{},", Layout::partition_column(i)))
        .collect();
    step(
        "'_chunks'".into(),
        format!(
            "CREATE TABLE {}(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, \
             sequence_id INTEGER, {partitions} validity BLOB NOT NULL, rowids BLOB NOT NULL);",
            t("chunks")
        ),
    );
    let id = if layout.text_primary_key() {
        "id TEXT UNIQUE NOT NULL"
    } else {
        "id"
    };
    step(
        "'_rowids'".into(),
        format!(
            "CREATE TABLE {}(rowid INTEGER PRIMARY KEY AUTOINCREMENT, {id}, chunk_id INTEGER, \
             chunk_offset INTEGER);",
            t("rowids")
        ),
    );
    if is_leftover(conn, layout, "free", FREE_COLUMNS)? {
        // sqlite-vec's DROP TABLE does not know `{t}_free` and leaves it behind; it is ours
        // (the same single column), so start it afresh instead of failing on the name.
        step("'_free'".into(), format!("DELETE FROM {};", t("free")));
    } else {
        step(
            "'_free'".into(),
            format!("CREATE TABLE {}(chunk_id INTEGER PRIMARY KEY);", t("free")),
        );
    }
    if is_leftover(conn, layout, "chunk_versions", VERSIONS_COLUMNS)? {
        // Left behind by sqlite-vec's DROP TABLE, like `{t}_free`: versions of chunks that
        // are gone, and chunk ids start again from 1.
        step(
            "'_chunk_versions'".into(),
            format!("DELETE FROM {};", t("chunk_versions")),
        );
    } else {
        step(
            "'_chunk_versions'".into(),
            format!("{};", versions_table_sql(layout)),
        );
    }
    for i in 0..layout.vectors.len() {
        let suffix = Layout::vector_chunks(i);
        step(
            format!("'_{suffix}'"),
            format!(
                "CREATE TABLE {}(rowid INTEGER PRIMARY KEY, vectors BLOB NOT NULL);",
                t(&suffix)
            ),
        );
    }
    for (i, m) in layout.metadata.iter().enumerate() {
        let suffix = Layout::metadata_chunks(i);
        step(
            format!("'_{suffix}'"),
            format!(
                "CREATE TABLE {}(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL);",
                t(&suffix)
            ),
        );
        if m.kind == MetadataKind::Text {
            let suffix = Layout::metadata_text(i);
            step(
                format!("'_{suffix}'"),
                format!(
                    "CREATE TABLE {}(rowid INTEGER PRIMARY KEY, data TEXT);",
                    t(&suffix)
                ),
            );
        }
    }
    if !layout.auxiliary.is_empty() {
        let cols: Vec<String> = (0..layout.auxiliary.len())
            .map(Layout::auxiliary_column)
            .collect();
        step(
            "auxiliary".into(),
            format!(
                "CREATE TABLE {}(rowid INTEGER PRIMARY KEY, {});",
                t("auxiliary"),
                cols.join(", ")
            ),
        );
    }
    for (i, v) in layout.vectors.iter().enumerate() {
        if let Some(config) = &v.index {
            step(
                format!("'_{}'", hnsw::nodes_suffix(i)),
                hnsw::create_sql(layout, i, config),
            );
        }
    }
    for (label, sql) in steps {
        // sqlite-vec's wording when SQLite refuses one (an authorizer, a name in use).
        conn.execute_batch(&sql)
            .map_err(|e| reword(e, &format!("Could not create {label} shadow table"), true))?;
    }
    Ok(())
}

/// The index tables of vector columns that have no index now: left, emptied, by
/// 'drop-index' (which cannot drop tables while its statement runs).
fn dropped_index_suffixes(layout: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    for (i, v) in layout.vectors.iter().enumerate() {
        if v.index.is_none() {
            out.push(hnsw::nodes_suffix(i));
            out.push(hnsw::meta_suffix(i));
        }
    }
    out
}

pub fn drop_all(conn: &Connection, layout: &Layout) -> Vec0Result<()> {
    let sql: String = suffixes(layout)
        .iter()
        .chain(&dropped_index_suffixes(layout))
        .map(|s| format!("DROP TABLE IF EXISTS {};", layout.qualified(s)))
        .collect();
    Ok(conn.execute_batch(&sql)?)
}

/// The columns (name, declared type, pk) of shadow table `suffix`; empty if it does not exist.
fn table_columns(
    conn: &Connection,
    layout: &Layout,
    suffix: &str,
) -> Vec0Result<Vec<Vec<OwnedValue>>> {
    Ok(conn
        .prepare("SELECT name, type, pk FROM pragma_table_info(?1, ?2)")?
        .query(&[
            SqlValue::Text(layout.shadow(suffix).as_bytes()),
            SqlValue::Text(layout.schema.as_bytes()),
        ])?)
}

/// vecsql's own shadow tables, which tables written by sqlite-vec lack: their columns as
/// (name, declared type, position in the primary key).
const FREE_COLUMNS: &[(&str, &str, i64)] = &[("chunk_id", "INTEGER", 1)];
const VERSIONS_COLUMNS: &[(&str, &str, i64)] =
    &[("chunk_id", "INTEGER", 1), ("version", "INTEGER", 0)];

/// `CREATE TABLE {t}_chunk_versions(...)`, without the semicolon.
pub fn versions_table_sql(layout: &Layout) -> String {
    format!(
        "CREATE TABLE {}(chunk_id INTEGER PRIMARY KEY, version INTEGER)",
        layout.qualified("chunk_versions")
    )
}

/// Gives the table a new random `VECSQL_CACHE_ID` in `{t}_info`, without the semicolon: the
/// id under which connections of a process share its chunks (see `storage/vectors.rs`).
pub fn new_cache_id_sql(layout: &Layout) -> String {
    format!(
        "INSERT OR REPLACE INTO {}(key, value) VALUES ('VECSQL_CACHE_ID', random())",
        layout.qualified("info")
    )
}

/// Whether shadow table `suffix` exists with exactly the columns vecsql gives it.
fn is_leftover(
    conn: &Connection,
    layout: &Layout,
    suffix: &str,
    columns: &[(&str, &str, i64)],
) -> Vec0Result<bool> {
    let expected: Vec<Vec<OwnedValue>> = columns
        .iter()
        .map(|&(name, ty, pk)| {
            vec![
                OwnedValue::Text(name.into()),
                OwnedValue::Text(ty.into()),
                OwnedValue::Integer(pk),
            ]
        })
        .collect();
    Ok(table_columns(conn, layout, suffix)? == expected)
}

/// Whether `{t}_chunk_versions` exists and is vecsql's (a table of that name with other
/// columns is someone else's, and chunk versions are then not kept).
pub fn has_versions_table(conn: &Connection, layout: &Layout) -> Vec0Result<bool> {
    is_leftover(conn, layout, "chunk_versions", VERSIONS_COLUMNS)
}

pub fn rename(conn: &Connection, layout: &Layout, new_name: &str) -> Vec0Result<()> {
    // `{t}_free` and `{t}_chunk_versions` are vecsql's own and created lazily for tables
    // sqlite-vec wrote (see `Storage::ensure_free_table` and
    // `Storage::bump_chunk_version`), so they may not exist yet; every other table must.
    let mut missing = Vec::new();
    for own in ["free", "chunk_versions"] {
        if table_columns(conn, layout, own)?.is_empty() {
            missing.push(own);
        }
    }
    let mut renamed = suffixes(layout);
    for s in dropped_index_suffixes(layout) {
        if !table_columns(conn, layout, &s)?.is_empty() {
            renamed.push(s);
        }
    }
    let sql: String = renamed
        .iter()
        .filter(|s| !missing.contains(&s.as_str()))
        .map(|s| {
            format!(
                "ALTER TABLE {} RENAME TO {};",
                layout.qualified(s),
                quote(&format!("{new_name}_{s}"))
            )
        })
        .collect();
    Ok(conn.execute_batch(&sql)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_every_shadow_suffix_and_nothing_else() {
        for s in [
            "info",
            "chunks",
            "rowids",
            "auxiliary",
            "free",
            "chunk_versions",
            "vector_chunks00",
            "metadatachunks15",
            "metadatatext03",
            "hnsw00_nodes",
            "hnsw15_meta",
        ] {
            assert!(is_shadow_suffix(s), "{s}");
        }
        for s in [
            "",
            "vector_chunks",
            "vector_chunks1",
            "vector_chunks001",
            "metadata",
            "other",
            "hnsw_nodes",
            "hnsw0_meta",
            "hnsw00_links",
        ] {
            assert!(!is_shadow_suffix(s), "{s}");
        }
    }
}
