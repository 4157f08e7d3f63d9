//! The `vec0` virtual table: vector search over chunked shadow tables, like sqlite-vec's, and
//! readable by it (the shadow tables have sqlite-vec's names and layouts).
//!
//! - [`schema`] parses `CREATE VIRTUAL TABLE ... USING vec0(...)`;
//! - [`layout`] derives the shadow tables and byte offsets from the definition;
//! - [`shadow`] creates, drops and renames them; [`storage`] reads and writes rows;
//! - [`values`] turns SQL values into stored bytes; [`affinity`] applies SQLite's type
//!   affinity and comparison rules, as an ordinary table with the same declared types would;
//! - [`query`] is the KNN query, from xBestIndex's plan to the exact scan or the graph walk;
//!   [`index`] holds the ANN (HNSW) index of `indexed by` columns;
//! - [`table`] implements the virtual table's callbacks, [`write`] its INSERT/UPDATE/DELETE,
//!   [`commands`] its `insert into t(t) values (...)` commands, [`cursor`] its reads;
//! - [`error`] is what can go wrong, by layer, and the one place that picks SQLite's result
//!   code for it.

pub mod affinity;
pub mod commands;
pub mod cursor;
pub mod error;
pub mod format;
pub mod index;
pub mod layout;
pub mod query;
pub mod schema;
pub mod shadow;
pub mod storage;
pub mod table;
pub mod values;
pub mod write;
