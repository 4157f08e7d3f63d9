//! Helpers for the ANN index tests (`vec0_index*.rs`): a seeded generator, a brute-force
//! oracle in f64, KNN through SQL, recall that tolerates ties, and the index shadow tables.
//!
//! Reached as `vec0_support::index`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};

use rusqlite::types::Value;
use rusqlite::Connection;

use super::*;

/// How this process got its copies of table `t`'s index: (full loads, refreshes, adoptions),
/// from `vec_index_status`.
pub fn process_counters(conn: &Connection) -> (i64, i64, i64) {
    let get = |what: &str| {
        int(
            conn,
            &format!("select json_extract(vec_index_status('t'), '$[0].process.{what}')"),
        )
    };
    (get("full_loads"), get("refreshes"), get("adoptions"))
}

/// splitmix64: a small seeded generator, so every test sees the same data on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Standard normal (Box-Muller).
    pub fn gauss(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// A Gaussian vector, rounded to f32.
    pub fn vector(&mut self, dims: usize) -> Vec<f32> {
        (0..dims).map(|_| self.gauss() as f32).collect()
    }

    /// A vector of small integers in `-range..=range` (never all zero).
    pub fn small_ints(&mut self, dims: usize, range: i64) -> Vec<f32> {
        loop {
            let v: Vec<f32> = (0..dims)
                .map(|_| (self.below(2 * range as u64 + 1) as i64 - range) as f32)
                .collect();
            if v.iter().any(|&x| x != 0.0) {
                return v;
            }
        }
    }

    /// Random bytes (bit vectors).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// A distance metric of a float column, computed in f64 as the oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    L2,
    Cosine,
    Dot,
    L1,
}

impl Metric {
    pub const ALL: [Metric; 4] = [Metric::L2, Metric::Cosine, Metric::Dot, Metric::L1];

    pub fn sql(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::Cosine => "cosine",
            Metric::Dot => "dot",
            Metric::L1 => "l1",
        }
    }

    pub fn distance(self, a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
        match self {
            Metric::L2 => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
                .sum::<f64>()
                .sqrt(),
            Metric::L1 => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| (x as f64 - y as f64).abs())
                .sum(),
            Metric::Dot => -dot + 0.0,
            Metric::Cosine => {
                let na = a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
                let nb = b.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
                1.0 - dot / (na * nb)
            }
        }
    }
}

/// Hamming distance of two bit vectors.
pub fn hamming(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x ^ y).count_ones())
        .sum::<u32>() as f64
}

/// The exact k nearest `(rowid, distance)` of `query` among `rows`, ascending by
/// (distance, rowid): what any correct KNN must return, up to ties.
pub fn oracle_knn<'a, V: 'a + ?Sized>(
    rows: impl IntoIterator<Item = (i64, &'a V)>,
    k: usize,
    distance: impl Fn(&V) -> f64,
) -> Vec<(i64, f64)> {
    let mut all: Vec<(i64, f64)> = rows.into_iter().map(|(r, v)| (r, distance(v))).collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

/// Recall of `got` against the exact answer `exact` (both the first k): a returned row counts
/// when its true distance is no larger than the exact k-th distance (plus `eps`), so any
/// choice among tied rows is right. `true_distance` gives the oracle's distance of a rowid.
/// An empty exact answer has recall 1.
pub fn recall(
    got: &[(i64, f64)],
    exact: &[(i64, f64)],
    true_distance: impl Fn(i64) -> f64,
    eps: f64,
) -> f64 {
    if exact.is_empty() {
        return 1.0;
    }
    let worst = exact.last().expect("not empty").1;
    let mut seen = HashSet::new();
    let hits = got
        .iter()
        .filter(|(r, _)| seen.insert(*r) && true_distance(*r) <= worst + eps)
        .count();
    hits.min(exact.len()) as f64 / exact.len() as f64
}

/// Plain set recall (no tie tolerance): |got ∩ exact| / |exact|.
pub fn set_recall(got: &[(i64, f64)], exact: &[(i64, f64)]) -> f64 {
    if exact.is_empty() {
        return 1.0;
    }
    let want: HashSet<i64> = exact.iter().map(|r| r.0).collect();
    got.iter().filter(|r| want.contains(&r.0)).count() as f64 / exact.len() as f64
}

/// `select rowid, distance from {table} where {column} match ?1 and k = ?2 {extra}`.
pub fn knn(
    conn: &Connection,
    table: &str,
    column: &str,
    query: &Value,
    k: i64,
    extra: &str,
) -> Vec<(i64, f64)> {
    try_knn(conn, table, column, query, k, extra)
        .unwrap_or_else(|e| panic!("knn on {table} ({extra}): {e}"))
}

pub fn try_knn(
    conn: &Connection,
    table: &str,
    column: &str,
    query: &Value,
    k: i64,
    extra: &str,
) -> rusqlite::Result<Vec<(i64, f64)>> {
    let sql =
        format!("select rowid, distance from {table} where {column} match ?1 and k = ?2 {extra}");
    Ok(try_rows(conn, &sql, rusqlite::params![query, k])?
        .into_iter()
        .map(|r| {
            let rowid = match &r[0] {
                Value::Integer(i) => *i,
                other => panic!("rowid {other:?}"),
            };
            (rowid, number(&r[1]))
        })
        .collect())
}

/// Asserts that results are strictly ascending by (distance, rowid): sorted, no duplicate.
pub fn assert_ordered(got: &[(i64, f64)], context: &str) {
    for w in got.windows(2) {
        assert!(
            w[0].1 < w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0),
            "{context}: results not ascending by (distance, rowid): {:?} then {:?}\nall: {got:?}",
            w[0],
            w[1]
        );
    }
    let ids: HashSet<i64> = got.iter().map(|r| r.0).collect();
    assert_eq!(
        ids.len(),
        got.len(),
        "{context}: a row returned twice: {got:?}"
    );
}

pub fn blob(v: &[f32]) -> Value {
    Value::Blob(f32_blob(v))
}

/// The contents of an index's shadow tables: `{t}_hnswNN_nodes` then `{t}_hnswNN_meta`.
pub fn index_tables(conn: &Connection, table: &str, column: usize) -> Vec<Vec<Vec<Value>>> {
    vec![
        rows(
            conn,
            &format!("select rowid, links from {table}_hnsw{column:02}_nodes order by rowid"),
        ),
        rows(
            conn,
            &format!("select key, value from {table}_hnsw{column:02}_meta order by key"),
        ),
    ]
}

/// Rowids in `{t}_hnsw00_nodes`.
pub fn node_rowids(conn: &Connection, table: &str) -> Vec<i64> {
    ints(
        conn,
        &format!("select rowid from {table}_hnsw00_nodes order by rowid"),
    )
}

/// Rowids of the table, ascending.
pub fn table_rowids(conn: &Connection, table: &str) -> Vec<i64> {
    ints(conn, &format!("select rowid from {table} order by rowid"))
}

/// Inserts `(rowid, vector)` pairs into `table(rowid, emb)` in one transaction.
pub fn insert_vectors(conn: &Connection, table: &str, rows: &[(i64, Vec<f32>)]) {
    exec(conn, "savepoint fill");
    {
        let mut stmt = conn
            .prepare(&format!("insert into {table}(rowid, emb) values (?, ?)"))
            .unwrap();
        for (rowid, v) in rows {
            stmt.execute(rusqlite::params![rowid, f32_blob(v)]).unwrap();
        }
    }
    exec(conn, "release fill");
}

/// Mean of a non-empty slice.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The links of one `{t}_hnswNN_nodes` blob, per layer, as rowids (node blob version 1:
/// version u8, node id u32, layer count u8, then per layer a u16 count and that many i64).
pub fn node_links(blob: &[u8]) -> Vec<Vec<i64>> {
    assert_eq!(blob.first(), Some(&1), "node blob version");
    let layers = blob[5] as usize;
    let mut at = 6;
    let mut out = Vec::with_capacity(layers);
    for _ in 0..layers {
        let n = u16::from_le_bytes([blob[at], blob[at + 1]]) as usize;
        at += 2;
        out.push(
            (0..n)
                .map(|i| i64::from_le_bytes(blob[at + 8 * i..at + 8 * i + 8].try_into().unwrap()))
                .collect(),
        );
        at += 8 * n;
    }
    out
}

/// For every node of `{table}_hnsw00_nodes`: the nodes linking to it (on any layer).
pub fn in_links(conn: &Connection, table: &str) -> std::collections::HashMap<i64, Vec<i64>> {
    let mut out: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for r in rows(
        conn,
        &format!("select rowid, links from {table}_hnsw00_nodes"),
    ) {
        let (Value::Integer(id), Value::Blob(b)) = (&r[0], &r[1]) else {
            panic!("node row {r:?}")
        };
        out.entry(*id).or_default();
        for layer in node_links(b) {
            for n in layer {
                out.entry(n).or_default().push(*id);
            }
        }
    }
    out
}

/// Nodes of `{table}_hnsw00` that no other node links to (unreachable unless the entry point).
pub fn orphans(conn: &Connection, table: &str) -> Vec<i64> {
    let mut v: Vec<i64> = in_links(conn, table)
        .into_iter()
        .filter(|(_, ins)| ins.is_empty())
        .map(|(id, _)| id)
        .collect();
    v.sort();
    v
}

/// Live nodes of `{table}_hnsw00` that no walk from the entry point can reach (following the
/// links of every layer), ascending. Such rows are invisible to any unfiltered indexed query.
pub fn unreachable(conn: &Connection, table: &str) -> Vec<i64> {
    let mut links: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for r in rows(
        conn,
        &format!("select rowid, links from {table}_hnsw00_nodes"),
    ) {
        let (Value::Integer(id), Value::Blob(b)) = (&r[0], &r[1]) else {
            panic!("node row {r:?}")
        };
        links.insert(*id, node_links(b).into_iter().flatten().collect());
    }
    let header = rows(
        conn,
        &format!("select value from {table}_hnsw00_meta where key = 'header'"),
    );
    let entry = match header.first().map(|r| &r[0]) {
        // Header v1: magic 4, version 1, m 2, ef_construction 4, seed 8, max level 1,
        // has entry 1, entry rowid 8.
        Some(Value::Blob(h)) if h[20] == 1 => {
            Some(i64::from_le_bytes(h[21..29].try_into().unwrap()))
        }
        _ => None,
    };
    let mut seen: HashSet<i64> = HashSet::new();
    let mut stack: Vec<i64> = entry.into_iter().collect();
    while let Some(x) = stack.pop() {
        if seen.insert(x) {
            stack.extend(links.get(&x).into_iter().flatten().copied());
        }
    }
    let mut out: Vec<i64> = links
        .keys()
        .copied()
        .filter(|id| !seen.contains(id))
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Fixtures and checks shared by the vec0_index_*.rs files

/// Rows of a float table as the oracle knows them.
pub type Rows = BTreeMap<i64, Vec<f32>>;

/// The query options that make a KNN query walk the graph. The planner scans tables of up to
/// 50 x ef_search rows (and every table here is that small) unless the query gives
/// `ef_search`, so queries meant to exercise the index give it: 64, the default.
pub fn walk(extra: &str) -> String {
    if extra.contains("ef_search") || extra.contains("exact") {
        extra.to_string()
    } else {
        format!("{extra} and ef_search = 64")
    }
}

/// KNN through the graph walk (see [`walk`]).
pub fn walk_knn(
    conn: &Connection,
    table: &str,
    column: &str,
    query: &Value,
    k: i64,
    extra: &str,
) -> Vec<(i64, f64)> {
    knn(conn, table, column, query, k, &walk(extra))
}

/// KNN as the planner chooses (a scan on small tables, a walk on large ones).
pub fn planned_knn(
    conn: &Connection,
    table: &str,
    column: &str,
    query: &Value,
    k: i64,
    extra: &str,
) -> Vec<(i64, f64)> {
    knn(conn, table, column, query, k, extra)
}

/// `n` Gaussian rows with rowids `1..=n`.
pub fn gaussian_rows(rng: &mut Rng, n: i64, dims: usize) -> Rows {
    (1..=n).map(|i| (i, rng.vector(dims))).collect()
}

pub fn create(conn: &Connection, table: &str, columns: &str) {
    exec(
        conn,
        &format!("create virtual table {table} using vec0({columns})"),
    );
}

pub fn fill(conn: &Connection, table: &str, rows: &Rows) {
    let v: Vec<(i64, Vec<f32>)> = rows.iter().map(|(r, v)| (*r, v.clone())).collect();
    insert_vectors(conn, table, &v);
}

/// Distances from the f32 kernels and the f64 oracle agree to this (relative) tolerance.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
}

/// Runs the KNN query `extra` for each of `queries` on `table.emb`, through the graph walk and
/// (when `extra` gives no ef_search or exact) as the planner chooses, and checks it against the
/// oracle of `rows`: every result is a live row with its exact distance, results ascend by
/// (distance, rowid) without repeats, there are min(k, rows) of them. Returns the lower of the
/// two mean tie-tolerant recalls.
pub fn oracle_recall(
    conn: &Connection,
    table: &str,
    rows: &Rows,
    metric: Metric,
    queries: &[Vec<f32>],
    k: usize,
    extra: &str,
) -> f64 {
    let mut variants = vec![walk(extra)];
    if walk(extra) != extra {
        variants.push(extra.to_string());
    }
    let mut worst = f64::INFINITY;
    for extra in &variants {
        worst = worst.min(oracle_recall_of(
            conn, table, rows, metric, queries, k, extra,
        ));
    }
    worst
}

/// [`oracle_recall`] of exactly the query `extra` (no ef_search added).
pub fn oracle_recall_of(
    conn: &Connection,
    table: &str,
    rows: &Rows,
    metric: Metric,
    queries: &[Vec<f32>],
    k: usize,
    extra: &str,
) -> f64 {
    let mut recalls = Vec::new();
    for (qi, q) in queries.iter().enumerate() {
        let got = planned_knn(conn, table, "emb", &blob(q), k as i64, extra);
        let context = format!("{table} query {qi} ({extra})");
        assert_ordered(&got, &context);
        assert_eq!(
            got.len(),
            k.min(rows.len()),
            "{context}: count must be min(k, rows)"
        );
        for &(rowid, d) in &got {
            let v = rows
                .get(&rowid)
                .unwrap_or_else(|| panic!("{context}: returned row {rowid}, which does not exist"));
            let want = metric.distance(q, v);
            assert!(
                close(d, want),
                "{context}: row {rowid} distance {d}, exact {want}"
            );
        }
        let exact = oracle_knn(rows.iter().map(|(r, v)| (*r, v.as_slice())), k, |v| {
            metric.distance(q, v)
        });
        recalls.push(recall(
            &got,
            &exact,
            |r| metric.distance(q, &rows[&r]),
            1e-6,
        ));
    }
    mean(&recalls)
}

/// Every returned row's `distance` equals, bit for bit, what `exact = 1` reports for it.
pub fn assert_distances_equal_exact_scan(conn: &Connection, table: &str, query: &Value, k: i64) {
    let approx = walk_knn(conn, table, "emb", query, k, "");
    let exact: BTreeMap<i64, f64> = walk_knn(conn, table, "emb", query, 4096, "and exact = 1")
        .into_iter()
        .collect();
    for (rowid, d) in approx {
        assert_eq!(
            Some(&d),
            exact.get(&rowid),
            "{table}: row {rowid}: indexed distance differs from the exact scan's"
        );
    }
}

/// Mean recall of the indexed query `extra` against `exact = 1` on the same table (tie-tolerant:
/// a result counts when its distance is within the exact k-th distance).
pub fn recall_vs_exact_scan(
    conn: &Connection,
    table: &str,
    queries: &[Value],
    k: i64,
    extra: &str,
) -> f64 {
    let mut recalls = Vec::new();
    for (qi, q) in queries.iter().enumerate() {
        let got = walk_knn(conn, table, "emb", q, k, extra);
        let exact = walk_knn(conn, table, "emb", q, k, &format!("{extra} and exact = 1"));
        let context = format!("{table} query {qi} ({extra})");
        assert_ordered(&got, &context);
        assert_eq!(got.len(), exact.len(), "{context}: count");
        let worst = exact.last().map_or(f64::INFINITY, |e| e.1);
        let hits = got.iter().filter(|g| g.1 <= worst + 1e-9).count();
        recalls.push(if exact.is_empty() {
            1.0
        } else {
            hits as f64 / exact.len() as f64
        });
    }
    mean(&recalls)
}

pub fn queries(rng: &mut Rng, n: usize, dims: usize) -> Vec<Vec<f32>> {
    (0..n).map(|_| rng.vector(dims)).collect()
}

/// The row is among the k = 10 nearest of its own vector (nothing is lost from the graph).
pub fn assert_every_row_findable(conn: &Connection, table: &str, rows: &Rows) {
    let mut lost = Vec::new();
    for (rowid, v) in rows {
        let got = walk_knn(conn, table, "emb", &blob(v), 10, "");
        if !got.iter().any(|g| g.0 == *rowid) {
            lost.push(*rowid);
        }
    }
    assert!(
        lost.is_empty(),
        "{table}: {} of {} rows are not found by their own vector: {:?}",
        lost.len(),
        rows.len(),
        &lost[..lost.len().min(20)]
    );
}

/// A table `t(emb float[4] indexed, cat integer, p integer partition key)` with rows 1..=n.
pub fn tx_fixture(conn: &Connection, rng: &mut Rng, n: i64) -> Rows {
    create(
        conn,
        "t",
        "emb float[4] indexed by hnsw(ef_construction=32), cat integer, p integer partition key, chunk_size=16",
    );
    let rows = gaussian_rows(rng, n, 4);
    exec(conn, "begin");
    for (r, v) in &rows {
        conn.execute(
            "insert into t(rowid, emb, cat, p) values (?, ?, ?, ?)",
            rusqlite::params![r, f32_blob(v), r % 10, r % 3],
        )
        .unwrap();
    }
    exec(conn, "commit");
    rows
}

/// Everything a KNN query can show matches the oracle `rows`, no rolled-back row appears, and
/// every surviving row can still be found.
pub fn assert_matches_oracle(conn: &Connection, rows: &Rows, rng: &mut Rng, context: &str) {
    let qs = queries(rng, 15, 4);
    let r = oracle_recall(conn, "t", rows, Metric::L2, &qs, 10, "");
    assert!(r >= 0.95, "{context}: recall {r}");
    // All rows at once: exactly the surviving ones.
    let all = walk_knn(conn, "t", "emb", &blob(&qs[0]), 4096, "");
    let got: Vec<i64> = {
        let mut v: Vec<i64> = all.iter().map(|r| r.0).collect();
        v.sort();
        v
    };
    assert_eq!(
        got,
        rows.keys().copied().collect::<Vec<_>>(),
        "{context}: k covering the table must return exactly the surviving rows"
    );
    // Rows a transaction writes are linked when it commits: until then the stored graph has
    // none of them, and nothing it lost.
    let nodes = node_rowids(conn, "t");
    if conn.is_autocommit() {
        assert_eq!(nodes, rows.keys().copied().collect::<Vec<_>>(), "{context}");
    } else {
        assert!(
            nodes.iter().all(|r| rows.contains_key(r)),
            "{context}: a node of a row that is gone: {nodes:?}"
        );
    }
    for (rowid, v) in rows {
        let got = walk_knn(conn, "t", "emb", &blob(v), 1, "");
        assert_eq!(
            got.first().map(|g| g.1),
            Some(0.0),
            "{context}: row {rowid}"
        );
    }
}
