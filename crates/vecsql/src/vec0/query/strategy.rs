//! Walk or scan: how a KNN request on an indexed column is answered, with its cost model
//! (qdrant keeps the same choice beside its HNSW index, in `dispatch.rs`).

use super::scan::{KnnSearch, Neighbour};
use crate::vec0::error::Vec0Result;
use crate::vec0::index::hnsw::{Accept, HnswIndex};
use crate::vec0::storage::Storage;

/// Graph-walk cost, in distance computations per accepted candidate, used to choose between a
/// filtered walk and an exact scan of the matching rows (measured on the 100k x 384 set).
const WALK_COST_PER_CANDIDATE: f64 = 50.0;

/// KNN on an indexed column: an HNSW walk, or an exact scan of the matching rows when the table
/// is small or a filter leaves so few rows that the scan is cheaper than a walk that must skip
/// the rest. A query that gives `ef_search` always walks.
pub fn approximate(
    storage: &Storage,
    index: &HnswIndex,
    search: &KnnSearch<'_>,
    ef_search: Option<usize>,
) -> Vec0Result<Vec<Neighbour>> {
    let ef = ef_search
        .unwrap_or(index.tuning(storage)?.ef_search)
        .max(search.k);
    let f = &search.filter;
    let unfiltered = f.partitions.is_empty()
        && f.metadata.is_empty()
        && f.rowid.is_empty()
        && f.allowed_rowids.is_none();
    if unfiltered {
        // A small table (or a k close to its size) is cheaper, and complete, to scan.
        let total = index.stats(storage)?.nodes;
        if ef_search.is_none() && total as f64 <= WALK_COST_PER_CANDIDATE * ef as f64 {
            return search.run();
        }
        return complete_or_scan(
            index.search(storage, &search.query, search.k, ef, None)?,
            search.k.min(total),
            search,
        );
    }
    let candidates = search.candidates()?;
    let matching: usize = candidates.iter().map(|(_, slots)| slots.len()).sum();
    let total = index.stats(storage)?.nodes.max(1);
    let selectivity = (matching as f64 / total as f64).clamp(1e-9, 1.0);
    let walk_cost = WALK_COST_PER_CANDIDATE * ef as f64 / selectivity;
    // An explicit `ef_search` asks for the walk (and is how tests exercise it on small tables).
    if matching == 0 || (ef_search.is_none() && (matching as f64) <= walk_cost) {
        return search.run_on(&candidates);
    }
    let mut accept = Accept::new();
    for (chunk, slots) in &candidates {
        accept.allow(chunk.chunk_id, slots, storage.layout.chunk_size);
    }
    let ef = ((ef as f64 / selectivity).ceil() as usize).min(crate::vec0::index::MAX_EF);
    complete_or_scan(
        index.search(storage, &search.query, search.k, ef, Some(&accept))?,
        search.k.min(matching),
        search,
    )
}

/// A walk that found fewer than `expected` rows (a node the graph cannot reach, or a filter
/// that the walk's candidate list could not satisfy) is answered by an exact scan instead:
/// KNN always returns min(k, matching rows).
fn complete_or_scan(
    found: Vec<Neighbour>,
    expected: usize,
    search: &KnnSearch<'_>,
) -> Vec0Result<Vec<Neighbour>> {
    if found.len() >= expected {
        Ok(found)
    } else {
        search.run()
    }
}
