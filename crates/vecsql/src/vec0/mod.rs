//! The `vec0` virtual table: vector search over chunked shadow tables, like sqlite-vec's, and
//! readable by it (the shadow tables have sqlite-vec's names and layouts).
//!
//! - [`schema`] parses `CREATE VIRTUAL TABLE ... USING vec0(...)`;
//! - [`layout`] derives the shadow tables and byte offsets from the definition;
//! - [`shadow`] creates, drops and renames them; [`storage`] reads and writes rows;
//! - [`affinity`] applies SQLite's type affinity and comparison rules to filter values;
//! - [`plan`] turns xBestIndex constraints into a [`plan::QueryPlan`];
//! - [`filter`] and [`knn`] run exact KNN with filters; [`index`] holds the ANN (HNSW) index
//!   of `indexed by` columns; [`values`] converts SQL values;
//! - [`table`] implements the virtual table on top of all of them.

pub mod affinity;
pub mod filter;
pub mod index;
pub mod knn;
pub mod layout;
pub mod plan;
pub mod schema;
pub mod shadow;
pub mod storage;
pub mod table;
pub mod values;
