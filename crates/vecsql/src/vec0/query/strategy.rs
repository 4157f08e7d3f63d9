//! Walk or scan: how a KNN request on an indexed column is answered, with its cost model
//! (qdrant keeps the same choice beside its HNSW index, in `dispatch.rs`).

use super::filter::RowMatcher;
use super::scan::{Candidates, KnnSearch, Neighbour};
use crate::vec0::error::Vec0Result;
use crate::vec0::index::hnsw::{Accept, HnswIndex, IndexStats};
use crate::vec0::storage::Storage;

/// Graph-walk cost, in distance computations per accepted candidate, used to choose between a
/// filtered walk and an exact scan of the matching rows (measured on the 100k x 384 set).
const WALK_COST_PER_CANDIDATE: f64 = 50.0;

/// The same for a filtered walk against an exact scan of the rows that pass: the scan's
/// rows are scattered through the chunks, so each costs about twice a walk's distance (at
/// 100k x 384 and 10% passing: walk 1.2 ms at recall 0.97, scan 1.8-2.3 ms).
const FILTERED_WALK_COST_PER_CANDIDATE: f64 = 25.0;

/// Chunks whose rows are tested to estimate a filter's selectivity before choosing a plan.
const SAMPLE_CHUNKS: usize = 16;

/// KNN on an indexed column: an HNSW walk, or an exact scan of the matching rows when the table
/// is small or a filter leaves so few rows that the scan is cheaper than a walk that must skip
/// the rest. A query that gives `ef_search` always walks.
pub fn approximate(
    storage: &Storage,
    index: &HnswIndex,
    search: &KnnSearch<'_>,
    ef_search: Option<usize>,
) -> Vec0Result<Vec<Neighbour>> {
    let stats = index.stats(storage)?;
    let ef = ef_search.unwrap_or(stats.ef_search).max(search.k);
    let f = &search.filter;
    if f.is_empty() {
        // A small table (or a k close to its size) is cheaper, and complete, to scan.
        let total = stats.nodes;
        if ef_search.is_none() && total as f64 <= WALK_COST_PER_CANDIDATE * ef as f64 {
            return search.run();
        }
        return complete_or_scan(
            index.search(storage, &stats, &search.query, search.k, ef, None)?,
            search.k.min(total),
            storage,
            index,
            &stats,
            search,
        );
    }
    let total = stats.nodes.max(1);
    // Filters decided row by row as the walk meets rows, when a sample says the walk is the
    // plan: deciding every row of the table first costs more than the walk at 100k rows.
    if f.partitions.is_empty() && f.allowed_rowids.is_none() {
        let selectivity = search.sampled_selectivity(SAMPLE_CHUNKS)?;
        let (walk_ef, walk_cost) = filtered_walk(ef, selectivity, search.k);
        if selectivity > 0.0 && (ef_search.is_some() || selectivity * total as f64 > walk_cost) {
            let matcher = RowMatcher::new(f, storage);
            let found = index.search(
                storage,
                &stats,
                &search.query,
                search.k,
                walk_ef,
                Some(&matcher),
            )?;
            matcher.finish()?;
            // The walk cannot count the matching rows: fewer than k found may be all there
            // are, or rows it could not reach; the exact scan says which.
            return complete_or_scan(found, search.k, storage, index, &stats, search);
        }
    }
    let candidates = search.candidates()?;
    let matching: usize = candidates.iter().map(|(_, slots)| slots.len()).sum();
    let (walk_ef, walk_cost) = filtered_walk(ef, matching as f64 / total as f64, search.k);
    // An explicit `ef_search` asks for the walk (and is how tests exercise it on small tables).
    if matching == 0 || (ef_search.is_none() && (matching as f64) <= walk_cost) {
        return scan(storage, index, &stats, search, &candidates);
    }
    let mut accept = Accept::new();
    for (chunk, slots) in &candidates {
        accept.allow(chunk.chunk_id, slots, storage.layout.chunk_size);
    }
    complete_or_scan(
        index.search(
            storage,
            &stats,
            &search.query,
            search.k,
            walk_ef,
            Some(&accept),
        )?,
        search.k.min(matching),
        storage,
        index,
        &stats,
        search,
    )
}

/// The candidate list of a filtered walk. Only accepted rows enter it, so a walk already
/// explores about 1/selectivity times more of the graph to fill it; the list itself can
/// shrink with the selectivity's square root and keep about the recall the same `ef` gives an
/// unfiltered walk (100k MiniLM vectors: 0.96-0.97 at 50% and 10% against 0.962 unfiltered;
/// 20k x 32 Gaussian vectors: 0.94-0.98 against 0.92), where the full list would double the
/// cost at 10% to reach 0.99. A list 7/8 of that size was 9-15% faster but fell to 0.950 at
/// 10% on the benchmark's 200 queries, the edge of the 0.95 the filtered benchmark holds to.
///
/// Returns that list's size and the walk's cost in distance computations, to compare with an
/// exact scan of the rows that pass.
fn filtered_walk(ef: usize, selectivity: f64, k: usize) -> (usize, f64) {
    let selectivity = selectivity.clamp(1e-9, 1.0);
    let walk_ef = ((ef as f64 * selectivity.sqrt()).ceil() as usize)
        .clamp(k.max(1), crate::vec0::index::MAX_EF);
    let cost = FILTERED_WALK_COST_PER_CANDIDATE * walk_ef as f64 / selectivity;
    (walk_ef, cost)
}

/// A walk that found fewer than `expected` rows (a node the graph cannot reach, or a filter
/// that the walk's candidate list could not satisfy) is answered by an exact scan instead:
/// KNN always returns min(k, matching rows).
fn complete_or_scan(
    found: Vec<Neighbour>,
    expected: usize,
    storage: &Storage,
    index: &HnswIndex,
    stats: &IndexStats,
    search: &KnnSearch<'_>,
) -> Vec0Result<Vec<Neighbour>> {
    if found.len() >= expected {
        Ok(found)
    } else {
        scan(storage, index, stats, search, &search.candidates()?)
    }
}

/// `exact = 1`, or distance bounds, on an indexed column: an exact scan, on the index's copy
/// when this process holds it at the stored generation (a million rows' vectors outgrow the
/// vector cache's default budget, and the chunks would be read again for every query).
pub fn exact(
    storage: &Storage,
    index: &HnswIndex,
    search: &KnnSearch<'_>,
) -> Vec0Result<Vec<Neighbour>> {
    if search.k == 0 {
        return Ok(Vec::new());
    }
    // The exact scan answers whatever state the index is in: a damaged index (an unreadable
    // generation, say) only means the chunks are read.
    let Ok(Some(stats)) = index.held_copy(storage) else {
        return search.run();
    };
    scan(storage, index, &stats, search, &search.candidates()?)
}

/// The exact k nearest of the rows that pass, scored on the index's copy where it can vouch
/// for them (no vector chunk read), else on the chunks.
fn scan(
    storage: &Storage,
    index: &HnswIndex,
    stats: &IndexStats,
    search: &KnnSearch<'_>,
    candidates: &Candidates,
) -> Vec0Result<Vec<Neighbour>> {
    let bounds = &search.distance_bounds;
    match index.score_candidates(storage, stats, &search.query, search.k, candidates, bounds) {
        Some(found) => Ok(found),
        None => search.run_on(candidates),
    }
}
