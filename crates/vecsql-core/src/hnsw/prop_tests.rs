//! Property tests against a brute-force oracle: random insert/remove sequences over small
//! graphs on a coarse integer grid (so duplicates and distance ties are common), small `m` (so
//! lists overflow and prune), checking structure, search results, persistence round trips and
//! resistance to corrupt bytes.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::tests::{dump, Index};
use super::*;
use crate::distance::Metric;

#[derive(Debug, Clone)]
enum Op {
    Insert(i64, Vec<f32>),
    Remove(i64),
}

const DIMS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let rowid = -20i64..60;
    prop_oneof![
        3 => (rowid.clone(), prop::collection::vec(-3i8..=3, DIMS))
            .prop_map(|(r, v)| Op::Insert(r, v.into_iter().map(f32::from).collect())),
        1 => rowid.prop_map(Op::Remove),
    ]
}

fn params() -> impl Strategy<Value = HnswParams> {
    (3usize..8, 3usize..40, any::<u64>()).prop_map(|(m, ef_construction, seed)| HnswParams {
        m,
        ef_construction,
        seed,
    })
}

fn run(params: HnswParams, ops: &[Op]) -> Index {
    let mut ix = Index::new(DIMS, Metric::L2, params);
    for op in ops {
        match op {
            Op::Insert(r, v) => {
                if ix.g.node_of(*r).is_some() {
                    ix.remove(*r);
                }
                ix.insert(*r, v);
            }
            Op::Remove(r) => {
                let had = ix.g.node_of(*r).is_some();
                assert_eq!(ix.remove(*r).is_some(), had);
            }
        }
    }
    ix
}

/// Checks every result is live, distinct, ascending by (distance, rowid), correctly scored,
/// and returns how many results are within the exact k-th distance (tie-aware recall).
fn check_results(
    ix: &Index,
    q: &[f32],
    k: usize,
    got: &[(f32, i64)],
    exact: &[(f32, i64)],
) -> usize {
    let f = ix.space.query_distance(q);
    let mut rows: Vec<i64> = got.iter().map(|x| x.1).collect();
    for &(d, r) in got {
        let id = ix.g.node_of(r).expect("result is a present rowid");
        assert!(ix.g.is_linked(id), "result is linked");
        assert_eq!(d, f(id), "reported distance");
    }
    assert!(
        got.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
        "ascending"
    );
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows.len(), got.len(), "no duplicates");
    assert!(got.len() <= k);
    let kth = exact.last().map_or(f32::INFINITY, |x| x.0);
    got.iter().filter(|x| x.0 <= kth).count()
}

/// Random operations, then per case the exact properties (live, distinct, ordered, correctly
/// scored results; filters honoured) and, summed over every case, recall at `ef` >= the node
/// count. Recall is a property of the sample, not of each graph: with `m` = 3 and
/// `ef_construction` = 3 a few removals can leave a node unreachable on layer 0 (hnswlib's graphs
/// do the same), so one case may miss 7 of 40 while the sum stays far above the bound.
#[test]
fn random_operations_against_brute_force() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;

    let hits = Cell::new(0usize);
    let total = Cell::new(0usize);
    let strategy = (
        params(),
        prop::collection::vec(op(), 1..160),
        prop::collection::vec(prop::collection::vec(-4i8..=4, DIMS), 4),
    );
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(params, ops, queries)| {
            let ix = run(params, &ops);
            ix.g.check_invariants();
            for q in &queries {
                let q: Vec<f32> = q.iter().map(|&x| f32::from(x)).collect();
                for (k, ef) in [(1, 1), (5, 8), (10, 80)] {
                    let got = ix.search(&q, k, ef);
                    let exact = ix.exact(&q, k, &|_| true);
                    let h = check_results(&ix, &q, k, &got, &exact);
                    if ef >= 80 {
                        hits.set(hits.get() + h);
                        total.set(total.get() + exact.len());
                    }
                }
                let got = ix.search_filtered(&q, 5, 40, &|r| r % 3 == 0);
                let exact = ix.exact(&q, 5, &|r| r % 3 == 0);
                prop_assert!(got.iter().all(|x| x.1 % 3 == 0));
                check_results(&ix, &q, 5, &got, &exact);
            }
            Ok(())
        })
        .unwrap();
    // Measured over eight runs: 0.9994 to 1.0 (3,556 to 3,740 results each). The bound leaves room
    // for unlucky samples only; one bad case costs at most 40 of about 3,600.
    let (hits, total) = (hits.get(), total.get());
    assert!(hits * 100 >= total * 98, "recall {hits}/{total}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn load_round_trips_and_replays_identically(
        params in params(),
        ops in prop::collection::vec(op(), 1..120),
        more in prop::collection::vec(op(), 0..40),
    ) {
        let mut a = run(params, &ops);
        let (header, nodes) = dump(&a.g);
        let loaded = Hnsw::load(&header, nodes.clone().into_iter()).expect("load");
        loaded.check_invariants();
        prop_assert_eq!(dump(&loaded), (header, nodes));
        let mut b = Index { g: loaded, space: a.space.clone() };
        for q in [[0.0f32, 0.0, 0.0], [1.0, -2.0, 3.0], [-3.0, 3.0, 0.5]] {
            prop_assert_eq!(a.search(&q, 7, 10), b.search(&q, 7, 10));
        }
        // Further operations on the original and the reloaded copy stay identical.
        for op in &more {
            match op {
                Op::Insert(r, v) => {
                    if a.g.node_of(*r).is_some() {
                        prop_assert_eq!(a.remove(*r), b.remove(*r));
                    }
                    prop_assert_eq!(a.insert(*r, v), b.insert(*r, v));
                }
                Op::Remove(r) => prop_assert_eq!(a.remove(*r), b.remove(*r)),
            }
        }
        prop_assert_eq!(dump(&a.g), dump(&b.g));
    }

    #[test]
    fn corrupt_bytes_never_panic(
        params in params(),
        ops in prop::collection::vec(op(), 1..80),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 1..6),
    ) {
        let ix = run(params, &ops);
        let (mut header, mut nodes) = dump(&ix.g);
        let keys: Vec<i64> = nodes.keys().copied().collect();
        for (which, at, byte, truncate) in edits {
            // Index 0 of `which` over keys+1 picks the header, others a node blob.
            let pick = which.index(keys.len() + 1);
            let blob: &mut Vec<u8> = if pick == keys.len() {
                &mut header
            } else {
                nodes.get_mut(&keys[pick]).unwrap()
            };
            if blob.is_empty() {
                continue;
            }
            let i = at.index(blob.len());
            if truncate {
                blob.truncate(i);
            } else {
                blob[i] ^= byte.max(1);
            }
        }
        let nodes: BTreeMap<i64, Vec<u8>> = nodes;
        if let Ok(g) = Hnsw::load(&header, nodes.into_iter()) {
            g.check_invariants();
            let s = F32Space::new(DIMS, Metric::L2);
            // Searching a graph that loaded is safe even with a store that lacks vectors
            // for it, as long as the store covers its ids.
            let mut s = s;
            if g.capacity() > 0 {
                s.set(g.capacity() as NodeId - 1, &[0.0; DIMS]);
            }
            let _ = g.search(s.query_distance(&[0.0; DIMS]), 5, 10, None);
        }
    }
}
