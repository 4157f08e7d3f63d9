//! Scenario tests: recall against brute force, determinism, duplicates, removal quality,
//! filtered search, persistence round trips and corrupt input. Sizes are chosen to run in a few
//! seconds in debug builds; the 20k removal test is `#[ignore]`d (run it with
//! `cargo test --release -p vecsql-core hnsw -- --ignored`), and a 4k version always runs.

use std::collections::{BTreeMap, HashSet};

use half::f16;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::distance::Metric;

// ---------------------------------------------------------------- helpers (shared with props)

/// `n` vectors of `dims` uniform values in [-1, 1).
pub(super) fn random_vectors(n: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dims).map(|_| rng.gen_range(-1.0f32..1.0)).collect())
        .collect()
}

/// A graph and its vectors, kept in step like the vec0 table will.
pub(super) struct Index {
    pub g: Hnsw,
    pub space: F32Space,
}

impl Index {
    pub fn new(dims: usize, metric: Metric, params: HnswParams) -> Self {
        Index {
            g: Hnsw::new(params),
            space: F32Space::new(dims, metric),
        }
    }

    pub fn insert(&mut self, rowid: i64, v: &[f32]) -> NodeId {
        let id = self.g.reserve(rowid);
        self.space.set(id, v);
        self.g.connect(id, &self.space);
        id
    }

    pub fn remove(&mut self, rowid: i64) -> Option<NodeId> {
        self.g.remove(rowid, &self.space)
    }

    pub fn search(&self, q: &[f32], k: usize, ef: usize) -> Vec<(f32, i64)> {
        let f = self.space.query_distance(q);
        self.g
            .search(f, k, ef, None)
            .into_iter()
            .map(|(d, id)| (d, self.g.rowid_of(id)))
            .collect()
    }

    pub fn search_filtered(
        &self,
        q: &[f32],
        k: usize,
        ef: usize,
        accept: &dyn Fn(i64) -> bool,
    ) -> Vec<(f32, i64)> {
        let f = self.space.query_distance(q);
        let acc = |id: NodeId| accept(self.g.rowid_of(id));
        self.g
            .search(f, k, ef, Some(&acc))
            .into_iter()
            .map(|(d, id)| (d, self.g.rowid_of(id)))
            .collect()
    }

    /// Brute force over linked nodes, ascending by (distance, rowid).
    pub fn exact(&self, q: &[f32], k: usize, accept: &dyn Fn(i64) -> bool) -> Vec<(f32, i64)> {
        let f = self.space.query_distance(q);
        let mut all: Vec<(f32, i64)> = (0..self.g.capacity() as NodeId)
            .filter(|&id| self.g.is_linked(id) && accept(self.g.rowid_of(id)))
            .map(|id| (f(id), self.g.rowid_of(id)))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.truncate(k);
        all
    }
}

/// Mean recall@k of `got` against `want` over queries, by rowid.
pub(super) fn recall(got: &[Vec<(f32, i64)>], want: &[Vec<(f32, i64)>]) -> f64 {
    let mut hit = 0usize;
    let mut total = 0usize;
    for (g, w) in got.iter().zip(want) {
        let w: HashSet<i64> = w.iter().map(|x| x.1).collect();
        hit += g.iter().filter(|x| w.contains(&x.1)).count();
        total += w.len();
    }
    if total == 0 {
        1.0
    } else {
        hit as f64 / total as f64
    }
}

/// Every stored row: header and node blobs by rowid.
pub(super) fn dump(g: &Hnsw) -> (Vec<u8>, BTreeMap<i64, Vec<u8>>) {
    let nodes = (0..g.capacity() as NodeId)
        .filter(|&id| g.is_linked(id))
        .map(|id| (g.rowid_of(id), g.node_blob(id)))
        .collect();
    (g.header_blob(), nodes)
}

/// A `.npy` file of `<f2` or `<f4` in C order, as (rows, dims, values).
pub(super) fn read_npy(path: &str) -> (usize, usize, Vec<f32>) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&b[..6], b"\x93NUMPY");
    let (hlen, start) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    let h = std::str::from_utf8(&b[start..start + hlen]).unwrap();
    let shape = &h[h.find("'shape': (").unwrap() + 10..];
    let shape: Vec<usize> = shape[..shape.find(')').unwrap()]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let data = &b[start + hlen..];
    let v: Vec<f32> = if h.contains("<f2") {
        data.chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect()
    } else {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    assert_eq!(v.len(), shape[0] * shape[1]);
    (shape[0], shape[1], v)
}

pub(super) fn repo_data(name: &str) -> String {
    format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))
}

impl Hnsw {
    /// Structural invariants: states, counts, list bounds, no self links or repeats, every
    /// neighbour linked and present on the layer, entry point of the top level, the rowid map,
    /// the free set, and (when built) the reverse index as a multiset of the forward edges.
    pub(super) fn check_invariants(&self) {
        let cap = self.capacity();
        let mut linked = 0;
        let mut top = 0;
        let mut rev_want: Vec<Vec<NodeId>> = vec![Vec::new(); cap];
        for id in 0..cap as NodeId {
            let i = id as usize;
            match self.state[i] {
                LINKED => {
                    linked += 1;
                    top = top.max(self.level_of(id));
                    assert_eq!(self.ids.get(&self.rowids[i]), Some(&id));
                    for layer in 0..=self.level_of(id) {
                        let l = self.links(id, layer);
                        assert!(l.len() <= self.max_links(layer));
                        let set: HashSet<_> = l.iter().collect();
                        assert_eq!(set.len(), l.len(), "repeated neighbour");
                        for &n in l {
                            assert_ne!(n, id, "self link");
                            assert!(self.is_linked(n), "link to a non-linked node");
                            assert!(self.level_of(n) >= layer, "link above a node's level");
                            rev_want[n as usize].push(id);
                        }
                    }
                    assert!(!self.free.contains(&id));
                }
                RESERVED => assert_eq!(self.ids.get(&self.rowids[i]), Some(&id)),
                _ => assert!(self.free.contains(&id)),
            }
        }
        assert_eq!(linked, self.linked);
        if linked == 0 {
            assert_eq!(self.entry, None);
        } else {
            let e = self.entry.expect("entry point");
            assert!(self.is_linked(e));
            assert_eq!(self.level_of(e), top);
            assert_eq!(self.max_level, top);
        }
        if self.rev_built {
            for (i, mut want) in rev_want.into_iter().enumerate() {
                let mut have = self.rev[i].clone();
                have.sort_unstable();
                want.sort_unstable();
                assert_eq!(have, want, "reverse index of id {i}");
            }
        }
    }
}

fn small_params() -> HnswParams {
    HnswParams {
        m: 8,
        ef_construction: 64,
        seed: 7,
    }
}

fn build_random(n: usize, dims: usize, seed: u64, params: HnswParams) -> (Index, Vec<Vec<f32>>) {
    let vs = random_vectors(n, dims, seed);
    let mut ix = Index::new(dims, Metric::L2, params);
    for (i, v) in vs.iter().enumerate() {
        ix.insert(i as i64 * 3 + 1, v);
    }
    (ix, vs)
}

fn recall_at(ix: &Index, queries: &[Vec<f32>], k: usize, ef: usize) -> f64 {
    let got: Vec<_> = queries.iter().map(|q| ix.search(q, k, ef)).collect();
    let want: Vec<_> = queries.iter().map(|q| ix.exact(q, k, &|_| true)).collect();
    recall(&got, &want)
}

// ---------------------------------------------------------------- basics

#[test]
fn empty_graph_returns_nothing() {
    let ix = Index::new(4, Metric::L2, HnswParams::default());
    assert!(ix.g.is_empty());
    assert!(ix.search(&[0.0; 4], 10, 10).is_empty());
    ix.g.check_invariants();
}

#[test]
fn reserve_is_idempotent_and_ids_are_reused_smallest_first() {
    let mut ix = Index::new(2, Metric::L2, small_params());
    for r in 0..10 {
        assert_eq!(ix.insert(r * 10, &[r as f32, 0.0]), r as NodeId);
    }
    assert_eq!(ix.g.reserve(30), 3, "a present rowid keeps its id");
    assert_eq!(ix.g.len(), 10);
    assert_eq!(ix.remove(70), Some(7));
    assert_eq!(ix.remove(20), Some(2));
    assert_eq!(ix.remove(20), None);
    assert_eq!(ix.insert(1000, &[5.5, 0.0]), 2);
    assert_eq!(ix.insert(1001, &[6.5, 0.0]), 7);
    assert_eq!(ix.insert(1002, &[7.5, 0.0]), 10);
    assert_eq!(ix.g.node_of(1001), Some(7));
    assert_eq!(ix.g.rowid_of(7), 1001);
    // A reserved node that is never connected can be removed, and is not searchable.
    let id = ix.g.reserve(5000);
    ix.space.set(id, &[100.0, 0.0]);
    assert!(!ix.g.is_linked(id));
    assert!(ix.search(&[100.0, 0.0], 1, 10)[0].1 != 5000);
    assert_eq!(ix.remove(5000), Some(id));
    ix.g.check_invariants();
    assert_eq!(ix.g.len(), 11);
    assert_eq!(ix.g.reserve(5001), id, "the freed id comes back first");
}

#[test]
fn node_of_near_agrees_with_node_of_whatever_the_hint() {
    let mut ix = Index::new(2, Metric::L2, small_params());
    for r in 0..10 {
        ix.insert(r * 10, &[r as f32, 0.0]);
    }
    // Node 4's id is freed with its rowid still in the slot: the hint must not revive it.
    assert_eq!(ix.remove(40), Some(4));
    let reserved = ix.g.reserve(500);
    assert_eq!(reserved, 4);
    for rowid in [0, 10, 40, 90, 500, 12345, -1] {
        for hint in [0, 1, 4, 5, 9, 10, 11, NodeId::MAX] {
            assert_eq!(
                ix.g.node_of_near(rowid, hint),
                ix.g.node_of(rowid),
                "rowid {rowid}, hint {hint}"
            );
        }
    }
    assert_eq!(ix.remove(500), Some(4));
    assert_eq!(ix.g.node_of_near(500, 4), None);
    assert_eq!(ix.g.node_of_near(30, 3), Some(3));
}

#[test]
fn recall_on_random_vectors() {
    let (ix, _) = build_random(3000, 16, 1, small_params());
    ix.g.check_invariants();
    let queries = random_vectors(100, 16, 2);
    let r = recall_at(&ix, &queries, 10, 64);
    assert!(r >= 0.95, "recall@10 at ef 64: {r}");
    // Results are ascending and distinct.
    for q in &queries {
        let res = ix.search(q, 10, 32);
        assert_eq!(res.len(), 10);
        assert!(res.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn recall_on_real_embeddings_all_metrics() {
    let (n, dims, data) = read_npy(&repo_data("pypi-5k.f16.npy"));
    let (nq, _, qdata) = read_npy(&repo_data("queries-100.f16.npy"));
    let n = n.min(800);
    let queries: Vec<Vec<f32>> = (0..nq.min(50))
        .map(|i| qdata[i * dims..(i + 1) * dims].to_vec())
        .collect();
    for metric in [Metric::Cosine, Metric::L2, Metric::Dot, Metric::L1] {
        let mut ix = Index::new(dims, metric, small_params());
        for i in 0..n {
            ix.insert(i as i64, &data[i * dims..(i + 1) * dims]);
        }
        let r = recall_at(&ix, &queries, 10, 64);
        assert!(r >= 0.95, "{metric:?} recall@10 at ef 64: {r}");
    }
}

// ---------------------------------------------------------------- determinism

fn scripted(seed_rows: u64) -> Index {
    let vs = random_vectors(1200, 8, seed_rows);
    let mut ix = Index::new(8, Metric::L2, small_params());
    for (i, v) in vs.iter().enumerate().take(800) {
        ix.insert(i as i64 * 7 - 300, v);
    }
    for i in (0..800).step_by(3) {
        ix.remove(i as i64 * 7 - 300);
    }
    for (i, v) in vs.iter().enumerate().skip(800) {
        ix.insert(i as i64 * 7 - 300, v);
    }
    ix
}

#[test]
fn same_calls_give_identical_graphs_and_blobs() {
    let a = scripted(11);
    let b = scripted(11);
    assert_eq!(dump(&a.g), dump(&b.g));
    let q = random_vectors(20, 8, 12);
    for q in &q {
        assert_eq!(a.search(q, 10, 40), b.search(q, 10, 40));
    }
    a.g.check_invariants();
}

// ---------------------------------------------------------------- duplicates

#[test]
fn duplicates_stay_findable_after_removals() {
    let dims = 16;
    let dup: Vec<f32> = (0..dims).map(|i| (i as f32 * 0.37).sin()).collect();
    let others = random_vectors(1000, dims, 5);
    let mut ix = Index::new(dims, Metric::L2, HnswParams::default());
    // Interleave: duplicates arrive among other rows, rowids not in insertion order.
    let mut row = 0i64;
    for (i, v) in others.iter().enumerate() {
        ix.insert(100_000 + i as i64, v);
        if i % 5 == 0 {
            ix.insert(5000 - row, &dup);
            row += 1;
        }
    }
    assert_eq!(row, 200);
    let dup_rows: Vec<i64> = (0..200).map(|r| 5000 - r).collect();
    let found = |ix: &Index| -> HashSet<i64> {
        ix.search(&dup, 200, 400)
            .into_iter()
            .filter(|x| x.0 == 0.0)
            .map(|x| x.1)
            .collect()
    };
    assert_eq!(found(&ix).len(), 200, "all duplicates found before removal");
    let removed: HashSet<i64> = dup_rows.iter().copied().step_by(3).collect();
    for &r in &removed {
        ix.remove(r);
    }
    ix.g.check_invariants();
    let want: HashSet<i64> = dup_rows
        .iter()
        .copied()
        .filter(|r| !removed.contains(r))
        .collect();
    assert_eq!(found(&ix), want, "every remaining duplicate is found");
    // Every duplicate is still found from its own rowid's perspective, i.e. reachable.
    let res = ix.search(&dup, 250, 400);
    assert!(res.iter().all(|x| !removed.contains(&x.1)));
}

// ---------------------------------------------------------------- removal quality

/// Build `n` rows, remove half (every other), insert `n / 2` new rows; compare recall with a
/// graph built from scratch over the same final rows (inserted in rowid order).
fn removal_vs_fresh(
    n: usize,
    dims: usize,
    params: HnswParams,
    efs: &[usize],
    nq: usize,
) -> Vec<(f64, f64)> {
    let vs = random_vectors(n + n / 2, dims, 21);
    let mut ix = Index::new(dims, Metric::L2, params);
    for (i, v) in vs.iter().enumerate().take(n) {
        ix.insert(i as i64, v);
    }
    for i in (0..n).step_by(2) {
        assert!(ix.remove(i as i64).is_some());
    }
    for (i, v) in vs.iter().enumerate().skip(n) {
        ix.insert(i as i64, v);
    }
    let mut fresh = Index::new(dims, Metric::L2, params);
    for (i, v) in vs.iter().enumerate() {
        if i >= n || i % 2 == 1 {
            fresh.insert(i as i64, v);
        }
    }
    assert_eq!(ix.g.len(), fresh.g.len());
    let queries = random_vectors(nq, dims, 22);
    efs.iter()
        .map(|&ef| {
            (
                recall_at(&ix, &queries, 10, ef),
                recall_at(&fresh, &queries, 10, ef),
            )
        })
        .collect()
}

#[test]
fn removal_keeps_recall_of_a_fresh_graph() {
    let r = removal_vs_fresh(4000, 16, small_params(), &[16, 32], 500);
    for ((after, fresh), ef) in r.into_iter().zip([16, 32]) {
        eprintln!("4k random 16-d, ef {ef}: after removals {after:.4}, fresh {fresh:.4}");
        assert!(
            after >= fresh - 0.01,
            "ef {ef}: after removals {after}, fresh {fresh}"
        );
    }
}

/// The full-size version of the requirement: 20k rows, M=16, ef_construction=200. About a
/// minute in debug, a few seconds in release.
#[test]
#[ignore]
fn removal_keeps_recall_of_a_fresh_graph_20k() {
    let efs = [10, 16, 32, 64];
    let r = removal_vs_fresh(20_000, 24, HnswParams::default(), &efs, 2000);
    for ((after, fresh), ef) in r.into_iter().zip(efs) {
        eprintln!("20k random 24-d, ef {ef}: after removals {after:.4}, fresh {fresh:.4}");
        assert!(
            after >= fresh - 0.01,
            "ef {ef}: after removals {after}, fresh {fresh}"
        );
    }
}

#[test]
fn removing_every_node_one_by_one_keeps_the_graph_valid() {
    let (mut ix, vs) = build_random(
        300,
        4,
        9,
        HnswParams {
            m: 4,
            ..small_params()
        },
    );
    let mut order: Vec<i64> = (0..300).map(|i| i * 3 + 1).collect();
    let mut rng = StdRng::seed_from_u64(3);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    for (n, r) in order.iter().enumerate() {
        let entry = ix.g.entry_rowid();
        ix.remove(*r).unwrap();
        if n % 37 == 0 || entry == Some(*r) {
            ix.g.check_invariants();
            let q = &vs[n % vs.len()];
            let res = ix.search(q, 5, 300);
            let want = ix.exact(q, 5, &|_| true);
            assert_eq!(res.len(), want.len());
        }
    }
    assert!(ix.g.is_empty());
    assert_eq!(ix.g.entry_rowid(), None);
    ix.g.check_invariants();
    // And it grows again.
    ix.insert(1, &[0.0; 4]);
    assert_eq!(ix.search(&[0.0; 4], 1, 1), vec![(0.0, 1)]);
}

// ---------------------------------------------------------------- filters

/// Smallest ef from a ladder reaching recall@10 >= 0.95 against exact filtered search.
fn ef_needed(ix: &Index, queries: &[Vec<f32>], modulo: i64) -> Option<usize> {
    let accept = move |r: i64| r % modulo == 0;
    let want: Vec<_> = queries.iter().map(|q| ix.exact(q, 10, &accept)).collect();
    for ef in [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512] {
        let got: Vec<_> = queries
            .iter()
            .map(|q| ix.search_filtered(q, 10, ef, &accept))
            .collect();
        for g in &got {
            assert!(
                g.iter().all(|x| accept(x.1)),
                "a rejected node was returned"
            );
        }
        if recall(&got, &want) >= 0.95 {
            return Some(ef);
        }
    }
    None
}

#[test]
fn filtered_search_returns_only_accepted_rows_with_recall() {
    let (ix, _) = build_random(3000, 16, 31, small_params());
    let queries = random_vectors(60, 16, 32);
    let mut report = Vec::new();
    for (pct, modulo) in [(50, 2), (10, 10), (5, 20)] {
        let ef = ef_needed(&ix, &queries, modulo);
        report.push(format!("{pct}%: ef {ef:?}"));
        assert!(ef.is_some_and(|ef| ef <= 256), "{pct}%: no ef reached 0.95");
    }
    eprintln!("filtered recall@10 >= 0.95 needs: {}", report.join(", "));
    // A filter that accepts nothing returns nothing; one accepting a single row finds it.
    assert!(ix
        .search_filtered(&[0.0; 16], 10, 50, &|_| false)
        .is_empty());
    let one = ix.search_filtered(&[0.0; 16], 10, 10, &|r| r == 3 * 1234 + 1);
    assert_eq!(
        one.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![3 * 1234 + 1]
    );
}

// ---------------------------------------------------------------- quantised spaces

#[test]
fn quantised_navigation_with_rescoring() {
    let (n, dims, data) = read_npy(&repo_data("pypi-5k.f16.npy"));
    let (nq, _, qdata) = read_npy(&repo_data("queries-100.f16.npy"));
    let n = n.min(1500);
    let row = |i: usize| &data[i * dims..(i + 1) * dims];
    let mut exact = F32Space::new(dims, Metric::Cosine);
    let mut i8s = Int8Space::new(dims, Metric::Cosine);
    let mut bits = BinarySpace::new(dims);
    let mut g8 = Hnsw::new(small_params());
    let mut gb = Hnsw::new(small_params());
    for i in 0..n {
        let id = g8.reserve(i as i64);
        exact.set(id, row(i));
        i8s.set(id, row(i));
        bits.set(id, row(i));
        g8.connect(id, &i8s);
        // The binary graph is built with exact distances and walked with bits.
        let id2 = gb.reserve(i as i64);
        assert_eq!(id, id2);
        gb.connect(id2, &exact);
    }
    let mut want = Vec::new();
    let mut got8 = Vec::new();
    let mut gotb = Vec::new();
    let ix = Index {
        g: Hnsw::new(small_params()),
        space: exact.clone(),
    };
    for qi in 0..nq.min(50) {
        let q = &qdata[qi * dims..(qi + 1) * dims];
        let f = exact.query_distance(q);
        let all: Vec<(f32, i64)> = {
            let mut v: Vec<_> = (0..n as NodeId).map(|id| (f(id), id as i64)).collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v.truncate(10);
            v
        };
        want.push(all);
        got8.push(rescored(&g8, i8s.query_distance(q), &exact, q, 10, 64));
        gotb.push(rescored(&gb, bits.query_distance(q), &exact, q, 10, 200));
    }
    drop(ix);
    let (r8, rb) = (recall(&got8, &want), recall(&gotb, &want));
    eprintln!("int8 walk ef 64 rescored: {r8:.3}; binary walk ef 200 rescored: {rb:.3}");
    assert!(r8 >= 0.93, "int8 {r8}");
    assert!(rb >= 0.80, "binary {rb}");
    // Rescored distances are exact.
    let q = &qdata[..dims];
    let res = rescored(&g8, i8s.query_distance(q), &exact, q, 5, 64);
    let f = exact.query_distance(q);
    assert!(res.iter().all(|&(d, id)| d == f(id as NodeId)));
}

/// `search_rescored` with `exact`'s own distances as the exact ones, as (distance, rowid).
fn rescored(
    g: &Hnsw,
    nav: impl Fn(NodeId) -> f32,
    exact: &F32Space,
    q: &[f32],
    k: usize,
    ef: usize,
) -> Vec<(f32, i64)> {
    let f = exact.query_distance(q);
    let nav = Nav {
        distance: nav,
        touch: |_| {},
        is_exact: false,
    };
    g.search_rescored(
        nav,
        |id| Ok::<_, std::convert::Infallible>(Some(f(id) as f64)),
        k,
        ef,
        None,
    )
    .unwrap_or_else(|never| match never {})
    .into_iter()
    .map(|r| (r.distance as f32, r.item as i64))
    .collect()
}

#[test]
fn spaces_compute_their_metrics() {
    let a = [1.0f32, 2.0, -2.0, 0.5];
    let b = [0.5f32, -1.0, 1.0, 2.0];
    let dist = |m: Metric| {
        let mut s = F32Space::new(4, m);
        s.set(0, &a);
        s.set(3, &b);
        assert_eq!(s.len(), 4);
        let q = s.query_distance(&a)(3);
        (s.distance(0, 3), q)
    };
    let l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
    let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    let l1: f32 = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    let close = |x: f32, y: f32| (x - y).abs() < 1e-5;
    for (m, want) in [
        (Metric::L2, l2),
        (Metric::Dot, -dot),
        (Metric::L1, l1),
        (Metric::Cosine, 1.0 - dot / (na * nb)),
    ] {
        let (d, q) = dist(m);
        assert!(close(d, want) && close(q, want), "{m:?}: {d} {q} vs {want}");
        let mut s8 = Int8Space::new(4, m);
        s8.set(0, &a);
        s8.set(1, &b);
        let e = s8.distance(0, 1);
        assert!(
            (e - want).abs() < 0.05 * want.abs().max(1.0),
            "{m:?} int8: {e} vs {want}"
        );
    }
    let mut bs = BinarySpace::new(4);
    bs.set(0, &a);
    bs.set(1, &b);
    // Signs of a: + + - +, of b: + - + +.
    assert_eq!(bs.distance(0, 1), 2.0);
    // Zero vectors do not produce NaN under cosine.
    let mut s = F32Space::new(2, Metric::Cosine);
    s.set(0, &[0.0, 0.0]);
    s.set(1, &[1.0, 0.0]);
    assert_eq!(s.distance(0, 1), 1.0);
}

// ---------------------------------------------------------------- persistence

#[test]
fn load_round_trips_to_an_identical_graph() {
    let ix = scripted(41);
    let (header, nodes) = dump(&ix.g);
    let loaded = Hnsw::load(&header, nodes.clone().into_iter().rev()).unwrap();
    loaded.check_invariants();
    assert_eq!(loaded.len(), ix.g.len());
    assert_eq!(loaded.capacity(), ix.g.capacity());
    assert_eq!(dump(&loaded), (header, nodes));
    let mut b = Index {
        g: loaded,
        space: ix.space.clone(),
    };
    let mut a = ix;
    for q in random_vectors(30, 8, 42) {
        assert_eq!(a.search(&q, 10, 40), b.search(&q, 10, 40));
    }
    // The same further calls on both give the same graph (ids, free slots, entry point).
    let more = random_vectors(200, 8, 43);
    for (i, v) in more.iter().enumerate() {
        let r = 50_000 + i as i64;
        assert_eq!(a.insert(r, v), b.insert(r, v));
        if i % 2 == 0 {
            let victim = -300 + 7 * (i as i64 * 5 + 1);
            assert_eq!(a.remove(victim), b.remove(victim));
        }
    }
    assert_eq!(dump(&a.g), dump(&b.g));
    b.g.check_invariants();
}

#[test]
fn dirty_tracking_keeps_a_row_store_in_sync() {
    let vs = random_vectors(900, 6, 51);
    let mut ix = Index::new(
        6,
        Metric::L2,
        HnswParams {
            m: 4,
            ..small_params()
        },
    );
    let mut header = Vec::new();
    let mut store: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
    let sync = |g: &mut Hnsw, header: &mut Vec<u8>, store: &mut BTreeMap<i64, Vec<u8>>| {
        let d = g.take_dirty();
        for r in &d.removed {
            store.remove(r);
        }
        for &id in &d.changed {
            store.insert(g.rowid_of(id), g.node_blob(id));
        }
        if d.header_changed {
            *header = g.header_blob();
        }
        assert!(g.take_dirty().is_empty());
    };
    for (i, v) in vs.iter().enumerate() {
        ix.insert(i as i64, v);
        if i % 3 == 2 {
            ix.remove(i as i64 - 1);
        }
        if i % 50 == 0 {
            // Remove and re-insert the same rowid within one batch.
            ix.remove(i as i64);
            ix.insert(i as i64, v);
        }
        if i % 7 == 0 {
            sync(&mut ix.g, &mut header, &mut store);
            assert_eq!(
                (header.clone(), store.clone()),
                dump(&ix.g),
                "after row {i}"
            );
        }
    }
    sync(&mut ix.g, &mut header, &mut store);
    assert_eq!((header.clone(), store.clone()), dump(&ix.g));
    let loaded = Hnsw::load(&header, store.into_iter()).unwrap();
    assert_eq!(dump(&loaded), dump(&ix.g));
    // An insert touches the new node and its neighbours, not the whole graph.
    ix.insert(10_000, &[0.1; 6]);
    let d = ix.g.take_dirty();
    assert!(d.changed.len() <= 1 + 8 * (ix.g.level_of(ix.g.node_of(10_000).unwrap()) + 1));
    assert!(d.header_changed);
}

#[test]
fn corrupt_rows_are_errors_not_panics() {
    let (ix, _) = build_random(
        60,
        4,
        61,
        HnswParams {
            m: 4,
            ..small_params()
        },
    );
    let (header, nodes) = dump(&ix.g);
    let load = |h: &[u8], n: &BTreeMap<i64, Vec<u8>>| Hnsw::load(h, n.clone().into_iter());
    assert!(load(&header, &nodes).is_ok());
    // Every truncation and every single-byte change of the header.
    for len in 0..header.len() {
        assert!(load(&header[..len], &nodes).is_err(), "header cut to {len}");
    }
    let mut long = header.clone();
    long.push(0);
    assert!(load(&long, &nodes).is_err());
    for i in 0..header.len() {
        for x in [1u8, 0x80, 0xff] {
            let mut h = header.clone();
            h[i] ^= x;
            let _ = load(&h, &nodes); // may be valid (e.g. the seed); must not panic
        }
    }
    // Every truncation of one node blob; byte flips anywhere.
    let (&r0, b0) = nodes.iter().find(|(_, b)| b.len() > 30).unwrap();
    for len in 0..b0.len() {
        let mut n = nodes.clone();
        n.insert(r0, b0[..len].to_vec());
        let e = load(&header, &n).unwrap_err();
        assert!(e.to_string().contains(&format!("rowid {r0}")), "{e}");
    }
    for (&r, b) in nodes.iter().step_by(15) {
        for i in 0..b.len() {
            for x in [1u8, 0xff] {
                let mut n = nodes.clone();
                let mut b = b.clone();
                b[i] ^= x;
                n.insert(r, b);
                if let Ok(g) = load(&header, &n) {
                    g.check_invariants();
                }
            }
        }
    }
    // Missing and extra rows.
    let mut n = nodes.clone();
    let first = *n.keys().next().unwrap();
    n.remove(&first);
    assert!(load(&header, &n).is_err());
    let mut n = nodes.clone();
    n.insert(999_999, nodes[&first].clone());
    assert!(load(&header, &n).is_err(), "duplicate id");
    let e = Hnsw::load(b"nope", std::iter::empty::<(i64, Vec<u8>)>()).unwrap_err();
    assert!(matches!(e, HnswError::CorruptHeader(_)), "{e}");
}

#[test]
fn bytes_per_node_matches_blobs() {
    let (ix, _) = build_random(500, 4, 71, small_params());
    let (h, nodes) = dump(&ix.g);
    let total: usize = h.len() + nodes.values().map(Vec::len).sum::<usize>();
    let want = total as f64 / nodes.len() as f64;
    assert!((ix.g.bytes_per_node() - want).abs() < 1e-9);
}

#[test]
fn capacity_is_one_more_than_the_largest_id_and_reloads_agree() {
    let mut ix = Index::new(2, Metric::L2, small_params());
    for r in 0..20 {
        ix.insert(r, &[r as f32, 1.0]);
    }
    for r in [19, 17, 18, 3] {
        ix.remove(r);
    }
    // Ids 17..19 were trailing and are gone; 3 is a gap.
    assert_eq!(ix.g.capacity(), 17);
    // A reserved, unlinked node at the end is not part of the stored id space.
    let pending = ix.g.reserve(500);
    assert_eq!(pending, 3, "the gap is reused first");
    let pending2 = ix.g.reserve(501);
    assert_eq!(pending2, 17);
    let (h, nodes) = dump(&ix.g);
    let loaded = Hnsw::load(&h, nodes.clone().into_iter()).unwrap();
    assert_eq!(loaded.capacity(), 17);
    loaded.check_invariants();
    // A header whose capacity disagrees with the rows is refused before allocating.
    let mut bad = h.clone();
    let at = bad.len() - 4;
    bad[at..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Hnsw::load(&bad, nodes.clone().into_iter()).is_err());
    // Removing everything empties the id space.
    ix.remove(500);
    ix.remove(501);
    for r in 0..17 {
        ix.remove(r);
    }
    assert_eq!(ix.g.capacity(), 0);
    ix.g.check_invariants();
    let (h, nodes) = dump(&ix.g);
    assert!(nodes.is_empty());
    assert!(Hnsw::load(&h, std::iter::empty::<(i64, Vec<u8>)>())
        .unwrap()
        .is_empty());
}

#[test]
fn patching_a_stale_copy_with_the_changed_rows_equals_a_reload() {
    // A writer graph changes in batches; a reader copy taken at some point is patched with
    // each batch's changed rows and must equal the writer (ids, free slots, blobs), and then
    // keep evolving identically when it becomes the writer.
    let vs = random_vectors(700, 5, 77);
    let params = HnswParams {
        m: 4,
        ..small_params()
    };
    let mut ix = Index::new(5, Metric::L2, params);
    for (i, v) in vs.iter().take(200).enumerate() {
        ix.insert(i as i64, v);
    }
    ix.g.take_dirty();
    let mut reader = Index {
        g: ix.g.clone(),
        space: ix.space.clone(),
    };
    let mut rng = StdRng::seed_from_u64(3);
    let mut next = 200usize;
    for batch in 0..40 {
        let mut changed_rows: Vec<i64> = Vec::new();
        for _ in 0..rng.gen_range(1..12) {
            if rng.gen_bool(0.4) && ix.g.len() > 10 {
                let ids: Vec<NodeId> = (0..ix.g.capacity() as NodeId)
                    .filter(|&id| ix.g.is_linked(id))
                    .collect();
                let r = ix.g.rowid_of(ids[rng.gen_range(0..ids.len())]);
                ix.remove(r);
                changed_rows.push(r);
            } else if next < vs.len() {
                ix.insert(next as i64, &vs[next]);
                changed_rows.push(next as i64);
                next += 1;
            }
        }
        let d = ix.g.take_dirty();
        let mut rowids: Vec<i64> = d.removed.clone();
        rowids.extend(d.changed.iter().map(|&id| ix.g.rowid_of(id)));
        rowids.sort_unstable();
        rowids.dedup();
        let rows: Vec<(i64, Option<Vec<u8>>)> = rowids
            .iter()
            .map(|&r| (r, ix.g.node_of(r).map(|id| ix.g.node_blob(id))))
            .collect();
        let new = reader.g.patch(&ix.g.header_blob(), &rows).unwrap();
        // Vectors of new nodes (and of rows whose vector changed) come from the row store.
        for &id in &new {
            let r = reader.g.rowid_of(id) as usize;
            reader.space.set(id, &vs[r]);
        }
        for r in changed_rows {
            if let Some(id) = reader.g.node_of(r) {
                reader.space.set(id, &vs[r as usize]);
            }
        }
        assert_eq!(dump(&reader.g), dump(&ix.g), "after batch {batch}");
        reader.g.check_invariants();
        let q = &vs[batch];
        assert_eq!(reader.search(q, 5, 32), ix.search(q, 5, 32));
    }
    // The patched copy now evolves exactly like the original.
    for i in 0..30i64 {
        let v = [i as f32 * 0.01; 5];
        ix.insert(5000 + i, &v);
        reader.insert(5000 + i, &v);
        if i % 4 == 0 {
            ix.remove(i * 3);
            reader.remove(i * 3);
        }
    }
    assert_eq!(dump(&reader.g), dump(&ix.g));
    // A parameter change is refused (the caller then loads in full).
    let other = Hnsw::new(HnswParams { m: 5, ..params });
    assert!(reader.g.patch(&other.header_blob(), &[]).is_err());
}
