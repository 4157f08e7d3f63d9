//! The KNN query, from `MATCH` to the kernels, in the order it runs:
//!
//! 1. [`plan`]: xBestIndex picks the constraints a KNN consumes (never a value from another
//!    table's row: `k` is the statement's top k) and serialises the plan into `idxStr`;
//! 2. [`request`]: xFilter's arguments are bound to a typed [`request::KnnRequest`] (query
//!    vector, k, filters with the columns' affinity, search knobs);
//! 3. [`filter`]: the pre-filters, evaluated per chunk before any vector is read (and
//!    rendered to SQL once, for partition keys and text keys);
//! 4. [`strategy`]: on an indexed column, an HNSW walk or an exact scan, by cost;
//! 5. [`scan`]: the exact scan, chunk by chunk, on up to four threads, into a bounded
//!    `(distance, rowid)` heap.

pub mod filter;
pub mod plan;
pub mod request;
pub mod scan;
pub mod strategy;

use request::KnnRequest;
use scan::{KnnSearch, Neighbour};

use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::index::hnsw::HnswIndex;
use crate::vec0::storage::Storage;

/// The k nearest rows for `request`, `index` being the column's ANN index if it has one.
pub fn run(
    storage: &Storage,
    index: Option<&HnswIndex>,
    request: KnnRequest,
) -> Vec0Result<Vec<Neighbour>> {
    let layout = &storage.layout;
    if request.ef_search.is_some() && index.is_none() {
        return Err(Vec0Error::plan(format!(
            "ef_search applies to indexed vector columns; \"{}\" has no index",
            layout.vectors[request.vector_column].name
        )));
    }
    let mut filter = request.filter;
    if !request.text_key.is_empty() {
        filter.allow_only(storage.rowids_with_text_key(&request.text_key)?);
    }
    let search = KnnSearch {
        storage,
        vector_column: request.vector_column,
        query: request.query,
        k: request.k as usize,
        filter,
        distance_bounds: request.distance_bounds,
    };
    let neighbours = match index {
        // Distance bounds (range search, pagination) need every row's distance.
        Some(index) if !request.exact && search.distance_bounds.is_empty() => {
            strategy::approximate(storage, index, &search, request.ef_search)?
        }
        Some(index) => strategy::exact(storage, index, &search)?,
        None => search.run()?,
    };
    // A result found in a chunk must be the row `{t}_rowids` has there: a damaged file must
    // not answer with a rowid whose other columns are another row's.
    let unconfirmed: Vec<_> = neighbours
        .iter()
        .filter(|n| !n.confirmed)
        .map(|n| n.location)
        .collect();
    storage.check_chunk_rows(&unconfirmed)?;
    Ok(neighbours)
}
