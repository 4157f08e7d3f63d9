//! Batch linking ([`Hnsw::connect_batch`]): the same graph for every thread count, recall of a
//! one-at-a-time build, and a graph that removal, filters and reloads treat like any other.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::tests::{dump, random_vectors, recall, Index};
use super::*;
use crate::distance::Metric;

fn params() -> HnswParams {
    HnswParams {
        m: 8,
        ef_construction: 64,
        seed: 7,
    }
}

/// `n` points around 20 centres (a spread of 0.05 around centres in [-1, 1)): clustered data
/// is where a graph that loses its long links shows it first.
/// Points of one seed share centres, whatever `draw` picks around them.
fn clustered(n: usize, dims: usize, seed: u64, draw: u64) -> Vec<Vec<f32>> {
    let centres = random_vectors(20, dims, seed);
    let mut rng = StdRng::seed_from_u64(draw);
    (0..n)
        .map(|_| {
            let c = &centres[rng.gen_range(0..centres.len())];
            c.iter()
                .map(|x| x + rng.gen_range(-0.05f32..0.05))
                .collect()
        })
        .collect()
}

fn rowid(i: usize) -> i64 {
    i as i64 * 3 + 1
}

/// One node at a time, as a statement links a row.
fn build_sequential(vs: &[Vec<f32>], metric: Metric) -> Index {
    let mut ix = Index::new(vs[0].len(), metric, params());
    for (i, v) in vs.iter().enumerate() {
        ix.insert(rowid(i), v);
    }
    ix
}

/// Every node reserved first, then linked by one `connect_batch` call.
fn build_batched(vs: &[Vec<f32>], metric: Metric, threads: usize) -> Index {
    let mut ix = Index::new(vs[0].len(), metric, params());
    let ids = reserve_all(&mut ix, vs, 0);
    ix.g.connect_batch(&ids, &ix.space, threads);
    ix
}

fn reserve_all(ix: &mut Index, vs: &[Vec<f32>], from: usize) -> Vec<NodeId> {
    vs.iter()
        .enumerate()
        .map(|(i, v)| {
            let id = ix.g.reserve(rowid(from + i));
            ix.space.set(id, v);
            id
        })
        .collect()
}

fn recall_at(ix: &Index, queries: &[Vec<f32>], ef: usize) -> f64 {
    let got: Vec<_> = queries.iter().map(|q| ix.search(q, 10, ef)).collect();
    let want: Vec<_> = queries.iter().map(|q| ix.exact(q, 10, &|_| true)).collect();
    recall(&got, &want)
}

#[test]
fn the_graph_does_not_depend_on_the_thread_count() {
    let vs = random_vectors(3000, 12, 41);
    let one = build_batched(&vs, Metric::L2, 1);
    one.g.check_invariants();
    assert_eq!(one.g.len(), vs.len());
    let want = dump(&one.g);
    for threads in [2, 3, 4] {
        let other = build_batched(&vs, Metric::L2, threads);
        assert!(
            dump(&other.g) == want,
            "{threads} threads built another graph"
        );
    }
    // Not vacuous: the batches really ran (a one-at-a-time build links differently).
    assert!(
        dump(&build_sequential(&vs, Metric::L2).g) != want,
        "connect_batch linked node by node"
    );
}

#[test]
fn a_small_graph_is_linked_node_by_node() {
    // Below 2 * BATCH_DIVISOR linked nodes every batch holds one node: `connect` exactly.
    let vs = random_vectors(120, 6, 3);
    let a = build_batched(&vs, Metric::L2, 4);
    assert!(dump(&a.g) == dump(&build_sequential(&vs, Metric::L2).g));
}

#[test]
fn batched_recall_matches_a_one_at_a_time_build() {
    for (name, vs, queries) in [
        (
            "random",
            random_vectors(3000, 16, 42),
            random_vectors(200, 16, 43),
        ),
        (
            "clustered",
            clustered(3000, 16, 44, 1),
            clustered(200, 16, 44, 2),
        ),
    ] {
        let seq = build_sequential(&vs, Metric::L2);
        let bat = build_batched(&vs, Metric::L2, 2);
        bat.g.check_invariants();
        for ef in [16, 64] {
            let (rs, rb) = (recall_at(&seq, &queries, ef), recall_at(&bat, &queries, ef));
            eprintln!("{name} ef {ef}: recall@10 one at a time {rs:.4}, batched {rb:.4}");
            assert!(rb >= rs - 0.01, "{name} ef {ef}: batched {rb} vs {rs}");
        }
        // A floor of its own, so a slow drift of both builds does not go unnoticed.
        let r = recall_at(&bat, &queries, 64);
        assert!(r >= 0.95, "{name}: batched recall@10 at ef 64 is {r}");
    }
}

#[test]
fn every_node_of_a_batched_graph_is_reachable() {
    // k = every row must return every row: no node lost all its in-links in a merge.
    let vs = clustered(2000, 8, 45, 1);
    let ix = build_batched(&vs, Metric::L2, 2);
    let all = ix.search(&vs[0], vs.len(), vs.len());
    assert_eq!(all.len(), vs.len());
}

#[test]
fn batches_extend_a_graph_with_removals_and_reverse_links() {
    // A stored graph (with freed ids and the reverse index built by removals) gets the rows
    // it lacks linked at once, as a load does; then removal and filters work as usual.
    let vs = random_vectors(3000, 10, 46);
    let mut ix = build_sequential(&vs[..1000], Metric::L2);
    for i in (0..1000).step_by(5) {
        ix.remove(rowid(i));
    }
    let ids = reserve_all(&mut ix, &vs[1000..], 1000);
    // Repeats and ids that are not reserved are skipped.
    let linked = ix.g.node_of(rowid(1)).unwrap();
    let mut call = ids.clone();
    call.extend_from_slice(&ids[..10]);
    call.push(linked);
    let mut again = ix.g.clone();
    ix.g.connect_batch(&call, &ix.space, 3);
    again.connect_batch(&ids, &ix.space, 1);
    assert!(dump(&ix.g) == dump(&again), "repeats changed the graph");
    ix.g.check_invariants();
    assert_eq!(ix.g.len(), 800 + 2000);

    let queries = random_vectors(100, 10, 47);
    let r = recall_at(&ix, &queries, 64);
    assert!(r >= 0.95, "recall@10 at ef 64 after a batch: {r}");
    let accept = |r: i64| r % 2 == 0;
    for q in &queries {
        let got = ix.search_filtered(q, 10, 128, &accept);
        assert!(got.iter().all(|x| accept(x.1)));
        let want = ix.exact(q, 10, &accept);
        assert!(recall(&[got], &[want]) >= 0.7);
    }
    for i in (1000..3000).step_by(3) {
        assert!(ix.remove(rowid(i)).is_some());
    }
    ix.g.check_invariants();
    let r = recall_at(&ix, &queries, 64);
    assert!(r >= 0.95, "recall@10 at ef 64 after removals: {r}");
    // And the stored form reloads to the same graph.
    let (header, nodes) = dump(&ix.g);
    let back = Hnsw::load(&header, nodes.into_iter()).unwrap();
    assert!(dump(&back) == dump(&ix.g));
}

#[test]
fn an_empty_call_or_graph_is_fine() {
    let mut ix = Index::new(4, Metric::Cosine, params());
    ix.g.connect_batch(&[], &ix.space, 4);
    assert!(ix.g.is_empty());
    let vs = random_vectors(500, 4, 48);
    let ids = reserve_all(&mut ix, &vs, 0);
    ix.g.connect_batch(&ids, &ix.space, 0);
    ix.g.check_invariants();
    assert_eq!(ix.g.len(), 500);
}

#[test]
fn quantised_spaces_build_the_same_graph_on_any_thread_count() {
    // Duplicates too: many equal codes make ties, which must not be broken by thread timing.
    let mut vs = random_vectors(1200, 16, 49);
    vs.extend(vs[..300].to_vec());
    let build = |threads: usize, binary: bool| {
        let mut g = Hnsw::new(params());
        let mut int8 = Int8Space::new(16, Metric::Cosine);
        let mut bits = BinarySpace::new(16);
        let ids: Vec<NodeId> = vs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let id = g.reserve(rowid(i));
                int8.set(id, v);
                bits.set(id, v);
                id
            })
            .collect();
        if binary {
            g.connect_batch(&ids, &bits, threads);
        } else {
            g.connect_batch(&ids, &int8, threads);
        }
        g.check_invariants();
        dump(&g)
    };
    for binary in [false, true] {
        let one = build(1, binary);
        assert!(build(2, binary) == one, "binary {binary}: 2 threads");
        assert!(build(4, binary) == one, "binary {binary}: 4 threads");
    }
}
