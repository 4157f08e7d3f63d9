//! `vecsql bench`: recall@k and latency of a table's default KNN query (the ANN index when the
//! column has one, an exact scan otherwise) against an exact search.
//!
//! The ground truth does not rely on any query knob of the index: the table's vectors are read
//! once with a plain scan and searched by brute force in memory with `vecsql_core`'s distance
//! kernels (the same kernels vec0 uses), so the benchmark means the same with or without an
//! index. A returned row counts as a hit when its exact distance is within a small tolerance
//! of the k-th exact distance, so ties (duplicate vectors) at the boundary are not misses.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use half::{bf16, f16};
use rusqlite::types::Value;
use serde_json::json;
use vecsql::vec0::schema::{DistanceMetric, VectorColumn, VectorElement};
use vecsql_core::distance;

use crate::output;
use crate::readers;
use crate::tables::{self, quote};
use crate::BenchArgs;

/// The table's vectors in memory, row-major, in one of the kernels' element types.
enum Base {
    /// float32, and float16/bfloat16 widened exactly.
    F32(Vec<f32>),
    I8(Vec<i8>),
    Bits(Vec<u8>),
}

/// A row key (integer or text primary key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Text(String),
    Other,
}

impl From<Value> for Key {
    fn from(v: Value) -> Self {
        match v {
            Value::Integer(i) => Key::Int(i),
            Value::Text(t) => Key::Text(t),
            _ => Key::Other,
        }
    }
}

struct Dataset {
    keys: Vec<Key>,
    base: Base,
    /// Elements per vector in `base` (bytes for bit vectors).
    stride: usize,
    metric: DistanceMetric,
}

/// A query: what is bound to `MATCH`, and the same vector in the base's representation.
struct Query {
    param: Vec<u8>,
    vector: QueryVector,
}

enum QueryVector {
    F32(Vec<f32>),
    I8(Vec<i8>),
    Bits(Vec<u8>),
}

impl Dataset {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn distance(&self, query: &QueryVector, row: usize) -> f32 {
        let range = row * self.stride..(row + 1) * self.stride;
        match (&self.base, query) {
            (Base::F32(base), QueryVector::F32(q)) => {
                let v = &base[range];
                match self.metric {
                    DistanceMetric::L2 => distance::l2_f32(q, v),
                    DistanceMetric::Cosine => distance::cosine_f32(q, v),
                    DistanceMetric::L1 => distance::l1_f32(q, v),
                    DistanceMetric::Dot => -distance::dot_f32(q, v),
                    DistanceMetric::Hamming => f32::NAN,
                }
            }
            (Base::I8(base), QueryVector::I8(q)) => {
                let v = &base[range];
                match self.metric {
                    DistanceMetric::L2 => distance::l2_i8(q, v),
                    DistanceMetric::Cosine => distance::cosine_i8(q, v),
                    DistanceMetric::L1 => distance::l1_i8(q, v),
                    DistanceMetric::Dot => -distance::dot_i8(q, v),
                    DistanceMetric::Hamming => f32::NAN,
                }
            }
            (Base::Bits(base), QueryVector::Bits(q)) => {
                distance::hamming_bits(q, &base[range]) as f32
            }
            _ => f32::NAN,
        }
    }

    /// The exact k nearest rows (indexes), nearest first, ties broken by position.
    fn exact(&self, query: &QueryVector, k: usize) -> Vec<(f32, usize)> {
        let mut all: Vec<(f32, usize)> = (0..self.len())
            .map(|i| (self.distance(query, i), i))
            .collect();
        let order = |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let k = k.min(all.len());
        if k < all.len() {
            all.select_nth_unstable_by(k, order);
            all.truncate(k);
        }
        all.sort_by(order);
        all
    }

    /// The vector of row `i` as a query.
    fn row_query(&self, i: usize) -> Query {
        let range = i * self.stride..(i + 1) * self.stride;
        match &self.base {
            Base::F32(b) => {
                let v = b[range].to_vec();
                Query {
                    param: f32_bytes(&v),
                    vector: QueryVector::F32(v),
                }
            }
            Base::I8(b) => {
                let v = b[range].to_vec();
                Query {
                    param: v.iter().map(|&x| x as u8).collect(),
                    vector: QueryVector::I8(v),
                }
            }
            Base::Bits(b) => {
                let v = b[range].to_vec();
                Query {
                    param: v.clone(),
                    vector: QueryVector::Bits(v),
                }
            }
        }
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Reads every row's key and vector with a plain scan.
fn load(
    conn: &rusqlite::Connection,
    table: &str,
    key: &str,
    name: &str,
    column: &VectorColumn,
) -> Result<Dataset> {
    let dims = column.dimensions;
    let (mut f32s, mut i8s, mut bits) = (Vec::new(), Vec::new(), Vec::new());
    let mut keys = Vec::new();
    let mut stmt = conn.prepare(&format!(
        "select {}, {} from {}",
        quote(key),
        quote(name),
        quote(table)
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        keys.push(Key::from(row.get::<_, Value>(0)?));
        let blob = row
            .get_ref(1)?
            .as_blob()
            .context("reading a stored vector")?;
        let bad = || {
            anyhow!(
                "a stored vector of {} bytes does not fit {name}",
                blob.len()
            )
        };
        match column.element {
            VectorElement::Float32 => {
                if blob.len() != dims * 4 {
                    return Err(bad());
                }
                f32s.extend(
                    blob.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
            }
            VectorElement::Float16 | VectorElement::BFloat16 if blob.len() == dims * 4 => {
                f32s.extend(
                    blob.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
            }
            VectorElement::Float16 if blob.len() == dims * 2 => f32s.extend(
                blob.chunks_exact(2)
                    .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()),
            ),
            VectorElement::BFloat16 if blob.len() == dims * 2 => f32s.extend(
                blob.chunks_exact(2)
                    .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32()),
            ),
            VectorElement::Float16 | VectorElement::BFloat16 => return Err(bad()),
            VectorElement::Int8 => {
                if blob.len() != dims {
                    return Err(bad());
                }
                i8s.extend(blob.iter().map(|&b| b as i8));
            }
            VectorElement::Bit => {
                if blob.len() != dims / 8 {
                    return Err(bad());
                }
                bits.extend_from_slice(blob);
            }
        }
    }
    let (base, stride) = match column.element {
        VectorElement::Int8 => (Base::I8(i8s), dims),
        VectorElement::Bit => (Base::Bits(bits), dims / 8),
        _ => (Base::F32(f32s), dims),
    };
    Ok(Dataset {
        keys,
        base,
        stride,
        metric: column.distance_metric,
    })
}

/// Queries from a file, rounded as the column stores them.
fn file_queries(
    args: &BenchArgs,
    column: &VectorColumn,
    path: &std::path::Path,
) -> Result<Vec<Query>> {
    if matches!(column.element, VectorElement::Int8 | VectorElement::Bit) {
        bail!(
            "--queries holds float vectors, but the column is {}; leave out --queries to use \
             rows of the table as queries",
            tables::vector_type(column)
        );
    }
    let reader = readers::open(path, args.format, readers::Options::default())
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut queries = Vec::new();
    for record in reader.take(args.count) {
        let record = record.map_err(|e| anyhow!("{}: {e}", path.display()))?;
        if record.vector.len() != column.dimensions {
            bail!(
                "{}: query vectors have {} dimensions, the column {}",
                path.display(),
                record.vector.len(),
                column.dimensions
            );
        }
        let rounded: Vec<f32> = match column.element {
            VectorElement::Float16 => record
                .vector
                .iter()
                .map(|&x| f16::from_f32(x).to_f32())
                .collect(),
            VectorElement::BFloat16 => record
                .vector
                .iter()
                .map(|&x| bf16::from_f32(x).to_f32())
                .collect(),
            _ => record.vector.clone(),
        };
        queries.push(Query {
            param: f32_bytes(&record.vector),
            vector: QueryVector::F32(rounded),
        });
    }
    if queries.is_empty() {
        bail!("{}: no query vectors", path.display());
    }
    Ok(queries)
}

struct Stats {
    recall: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    mean: f64,
    qps: f64,
}

fn stats(mut millis: Vec<f64>, recall: f64) -> Stats {
    millis.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let i = ((millis.len() as f64 - 1.0) * p).round() as usize;
        millis[i.min(millis.len() - 1)]
    };
    let mean = millis.iter().sum::<f64>() / millis.len() as f64;
    Stats {
        recall,
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        mean,
        qps: 1000.0 / mean,
    }
}

pub fn run(args: &BenchArgs) -> Result<()> {
    if args.k == 0 || args.count == 0 {
        bail!("-k and -n must be at least 1");
    }
    let conn = crate::open(&args.db, false)?;
    let table = tables::find(&conn, &args.table)?;
    let (name, column) = table.vector_column(args.column.as_deref())?;
    if args.ef_search.is_some() && column.index.is_none() {
        bail!(tables::no_index(&table.name, &name, "--ef-search"));
    }
    let key = table.key_name();

    let started = Instant::now();
    let data = load(&conn, &table.name, &key, &name, &column)?;
    let load_s = started.elapsed().as_secs_f64();
    if data.len() == 0 {
        bail!("{} is empty", table.name);
    }
    let positions: HashMap<&Key, usize> =
        data.keys.iter().enumerate().map(|(i, k)| (k, i)).collect();

    let (queries, source) = match &args.queries {
        Some(path) => (
            file_queries(args, &column, path)?,
            path.display().to_string(),
        ),
        None => {
            let n = args.count.min(data.len());
            let queries = (0..n).map(|i| data.row_query(i * data.len() / n)).collect();
            (queries, "rows of the table".to_string())
        }
    };
    let k = args.k;

    // Exact search, timed per query on this thread.
    let mut exact_ms = Vec::with_capacity(queries.len());
    let mut truth = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        let nearest = data.exact(&q.vector, k);
        exact_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        truth.push(nearest);
    }

    let status = tables::index_status(&conn, &table.name);
    let index = status
        .as_ref()
        .and_then(|list| list.iter().find(|i| i.column.eq_ignore_ascii_case(&name)));
    let index_desc = match (index, &status, &column.index) {
        (Some(i), _, _) => format!("{}({}) {}", i.kind, i.params, i.state)
            .trim()
            .to_string(),
        (None, None, Some(spec)) => format!("{} (status unavailable)", spec.kind),
        _ => "none".to_string(),
    };
    let knob = args
        .ef_search
        .map(|ef| format!(" and ef_search = {ef}"))
        .unwrap_or_default();
    let run = Run {
        conn: &conn,
        table: &table.name,
        key: &key,
        column: &name,
        k,
        data: &data,
        positions: &positions,
    };

    // The table's own KNN query, as an application would run it; with an index, also the
    // same query forced to an exact scan (`exact = 1`).
    let mut methods = Vec::new();
    let label = match (index, &column.index) {
        (Some(i), _) => format!("vec0 KNN ({} index{})", i.kind, knob.replace(" and ", ", ")),
        (None, Some(spec)) => format!("vec0 KNN ({} index)", spec.kind),
        (None, None) => "vec0 KNN (exact scan)".to_string(),
    };
    methods.push((label, run.time(&knob, &queries, &truth)?));
    if column.index.is_some() {
        methods.push((
            "vec0 KNN (exact = 1)".to_string(),
            run.time(" and exact = 1", &queries, &truth)?,
        ));
    }
    methods.push((
        "exact (brute force in memory)".to_string(),
        stats(exact_ms, 1.0),
    ));

    if args.json {
        let row = |s: &Stats| {
            json!({"recall": s.recall, "p50_ms": s.p50, "p90_ms": s.p90, "p99_ms": s.p99,
                   "mean_ms": s.mean, "qps": s.qps})
        };
        let report = json!({
            "table": table.name, "column": name, "rows": data.len(), "queries": queries.len(),
            "k": k, "index": index_desc, "knn": row(&methods[0].1),
            "exact_scan": (methods.len() == 3).then(|| row(&methods[1].1)),
            "exact": row(&methods[methods.len() - 1].1),
            "load_seconds": load_s,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}.{} ({} {}), {} rows, index: {}; {} queries from {}, k = {k}; \
         vectors loaded for exact search in {:.2} s",
        table.name,
        name,
        tables::vector_type(&column),
        column.distance_metric.name(),
        output::count(data.len() as u64),
        index_desc,
        queries.len(),
        source,
        load_s
    );
    let mut out = output::table(&[
        "method",
        &format!("recall@{k}"),
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "mean ms",
        "QPS",
    ]);
    for (label, s) in &methods {
        out.add_row(vec![
            label.to_string(),
            format!("{:.4}", s.recall),
            output::millis(s.p50),
            output::millis(s.p90),
            output::millis(s.p99),
            output::millis(s.mean),
            format!("{:.0}", s.qps),
        ]);
    }
    output::align_right(&mut out, &[1, 2, 3, 4, 5, 6]);
    println!("{out}");
    Ok(())
}

/// What one timed run of KNN queries needs.
struct Run<'a> {
    conn: &'a rusqlite::Connection,
    table: &'a str,
    key: &'a str,
    column: &'a str,
    k: usize,
    data: &'a Dataset,
    positions: &'a HashMap<&'a Key, usize>,
}

impl Run<'_> {
    /// Runs every query with `extra` constraints (after one untimed warm-up query) and
    /// scores the results against `truth`.
    fn time(&self, extra: &str, queries: &[Query], truth: &[Vec<(f32, usize)>]) -> Result<Stats> {
        let sql = format!(
            "select {}, distance from {} where {} match ?1 and k = ?2{extra}",
            quote(self.key),
            quote(self.table),
            quote(self.column)
        );
        let mut stmt = self
            .conn
            .prepare(&sql)
            .with_context(|| format!("preparing {sql}"))?;
        let mut run_query = |q: &Query| -> Result<Vec<Key>> {
            let mut rows = stmt.query(rusqlite::params![&q.param[..], self.k as i64])?;
            let mut keys = Vec::with_capacity(self.k);
            while let Some(row) = rows.next()? {
                keys.push(Key::from(row.get::<_, Value>(0)?));
            }
            Ok(keys)
        };
        run_query(&queries[0]).context("warm-up query")?;
        let expected = self.k.min(self.data.len());
        let mut millis = Vec::with_capacity(queries.len());
        let mut hits = 0usize;
        for (q, nearest) in queries.iter().zip(truth) {
            let t = Instant::now();
            let keys = run_query(q)?;
            millis.push(t.elapsed().as_secs_f64() * 1000.0);
            let kth = nearest.last().map_or(f32::INFINITY, |n| n.0);
            let tolerance = 1e-5 * kth.abs().max(1.0);
            hits += keys
                .iter()
                .filter_map(|key| self.positions.get(key))
                .filter(|&&i| self.data.distance(&q.vector, i) <= kth + tolerance)
                .count()
                .min(expected);
        }
        Ok(stats(
            millis,
            hits as f64 / (expected * queries.len()) as f64,
        ))
    }
}
