//! HNSW build and query benchmark on real sentence embeddings (all-MiniLM-L6-v2, 384-d).
//!
//! ```text
//! cargo bench -p vecsql-core --bench hnsw
//! VECSQL_DATA=/path/to/dir VECSQL_HNSW_N=20000 VECSQL_HNSW_Q=200 cargo bench ... --bench hnsw
//! ```
//!
//! Reads `minilm-pypi-dev-base.f16.npy` / `minilm-pypi-dev-queries.f16.npy` from `$VECSQL_DATA`
//! (default: `shared/data` next to the workspace, else `/work/shared/data`), falling back to the
//! repository's 5k slice. Builds a cosine graph (M=16, ef_construction=200, one thread; override
//! with `VECSQL_HNSW_M` / `VECSQL_HNSW_EFC`; `VECSQL_HNSW_THREADS=t` builds with
//! `Hnsw::connect_batch` on `t` threads and prints a digest of the blobs to compare), then reports build seconds, recall@10 against
//! exact search and query latency at ef 16..128 (each query rescored as vec0 rescores it,
//! through `Hnsw::search_rescored`), the ef that filtered searches need, the int8 walk with
//! rescoring, persistence (blob bytes, load time) and removal speed.
//! `VECSQL_HNSW_STAGES=recall,filter,int8,persist,remove` picks stages (default: all; an empty
//! value stops after the build, for profiling it).
//!
//! A plain `main` rather than criterion: a build takes tens of seconds and is measured once.

use std::time::{Duration, Instant};

use half::f16;
use vecsql_core::distance::{batch, Metric};
use vecsql_core::hnsw::{F32Space, Hnsw, HnswParams, Int8Space, Nav, NodeId};

/// The 10 nearest node ids as vec0 finds them on an indexed float32 column: the one rescoring
/// path of the core (`Hnsw::search_rescored`), exact distances from the batch kernel on the
/// vectors the space holds.
fn knn(
    g: &Hnsw,
    nav: impl FnMut(NodeId) -> f32,
    nav_is_exact: bool,
    space: &F32Space,
    q: &[f32],
    ef: usize,
    accept: Option<&dyn Fn(NodeId) -> bool>,
) -> Vec<NodeId> {
    let query = batch::Query::Float32(q.to_vec());
    let exact = |id: NodeId| {
        let mut d = None;
        let bytes: &[u8] = bytemuck::cast_slice(space.get(id));
        batch::distances(&query, space.metric(), bytes.len(), bytes, &[0], |_, x| {
            d = Some(x)
        })?;
        Ok::<_, batch::BatchError>(d)
    };
    // VECSQL_HNSW_NO_TOUCH=1: measure without starting the neighbours' loads early.
    let touching = std::env::var_os("VECSQL_HNSW_NO_TOUCH").is_none();
    let touch = |id: NodeId| {
        if touching {
            vecsql_core::hnsw::Space::touch(space, id)
        }
    };
    let nav = Nav {
        distance: nav,
        touch,
        is_exact: nav_is_exact,
    };
    g.search_rescored(nav, exact, 10, ef, accept)
        .expect("float32 vectors and a float metric")
        .into_iter()
        .map(|r| r.item)
        .collect()
}

fn read_npy(path: &str) -> Option<Matrix> {
    let b = std::fs::read(path).ok()?;
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return None;
    }
    let (hlen, start) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    let h = std::str::from_utf8(&b[start..start + hlen]).ok()?;
    let shape = &h[h.find("'shape': (")? + 10..];
    let shape: Vec<usize> = shape[..shape.find(')')?]
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
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    (v.len() == shape[0] * shape[1]).then_some((shape[0], shape[1], v))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Rows, dimensions and values of one matrix.
type Matrix = (usize, usize, Vec<f32>);

fn load_data() -> (Matrix, Matrix, String) {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let mut dirs: Vec<String> = Vec::new();
    if let Ok(d) = std::env::var("VECSQL_DATA") {
        dirs.push(d);
    }
    dirs.push(format!("{manifest}/../../shared/data"));
    dirs.push("/work/shared/data".into());
    for d in &dirs {
        let base = read_npy(&format!("{d}/minilm-pypi-dev-base.f16.npy"));
        let queries = read_npy(&format!("{d}/minilm-pypi-dev-queries.f16.npy"));
        if let (Some(b), Some(q)) = (base, queries) {
            return (b, q, d.clone());
        }
    }
    let d = format!("{manifest}/../../data");
    let b = read_npy(&format!("{d}/pypi-5k.f16.npy")).expect("no benchmark data found");
    let q = read_npy(&format!("{d}/queries-100.f16.npy")).expect("no query data found");
    (b, q, d)
}

/// CPU time of the whole process (every thread, live or joined) in seconds, from
/// `/proc/self/stat` (utime + stime, at the usual 100 ticks per second).
fn process_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name, which may itself hold spaces.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU time of this thread in seconds (Linux `schedstat`), so build times can be compared on a
/// busy machine where wall time also counts waiting for a core.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    v.sort_unstable();
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i].as_secs_f64() * 1e6
}

fn recall(got: &[NodeId], want: &[NodeId]) -> usize {
    got.iter().filter(|g| want.contains(g)).count()
}

/// A stage runs when `VECSQL_HNSW_STAGES` is unset or names it (comma-separated).
fn stage(name: &str) -> bool {
    std::env::var("VECSQL_HNSW_STAGES").map_or(true, |v| v.split(',').any(|s| s.trim() == name))
}

/// Exact top `k` among ids accepted by `accept`, ascending by (distance, id).
fn exact_top(
    f: &impl Fn(NodeId) -> f32,
    n: usize,
    k: usize,
    accept: impl Fn(NodeId) -> bool,
) -> Vec<NodeId> {
    let mut all: Vec<(f32, NodeId)> = (0..n as NodeId)
        .filter(|&id| accept(id))
        .map(|id| (f(id), id))
        .collect();
    let cmp = |a: &(f32, NodeId), b: &(f32, NodeId)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if all.len() > k {
        all.select_nth_unstable_by(k - 1, cmp);
        all.truncate(k);
    }
    all.sort_unstable_by(cmp);
    all.into_iter().map(|x| x.1).collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no such flag and
    // expects a quick exit.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let ((n_all, dims, base), (nq_all, _, qdata), dir) = load_data();
    let n = env_usize("VECSQL_HNSW_N", n_all).min(n_all);
    let nq = env_usize("VECSQL_HNSW_Q", nq_all).min(nq_all);
    let params = HnswParams {
        m: env_usize("VECSQL_HNSW_M", 16),
        ef_construction: env_usize("VECSQL_HNSW_EFC", 200),
        ..HnswParams::default()
    };
    println!(
        "data {dir}: {n} x {dims}, {nq} queries; cosine, M={}, ef_construction={}, kernels {}",
        params.m,
        params.ef_construction,
        vecsql_core::distance::kernel_backend()
    );
    let row = |i: usize| &base[i * dims..(i + 1) * dims];
    let query = |i: usize| &qdata[i * dims..(i + 1) * dims];

    let mut space = F32Space::new(dims, Metric::Cosine);
    let mut g = Hnsw::new(params);
    let threads = env_usize("VECSQL_HNSW_THREADS", 0);
    let t = Instant::now();
    let cpu0 = process_cpu_seconds();
    if threads == 0 {
        for i in 0..n {
            let id = g.reserve(i as i64);
            space.set(id, row(i));
            g.connect(id, &space);
        }
    } else {
        let ids: Vec<NodeId> = (0..n)
            .map(|i| {
                let id = g.reserve(i as i64);
                space.set(id, row(i));
                id
            })
            .collect();
        g.connect_batch(&ids, &space, threads);
    }
    let build = t.elapsed().as_secs_f64();
    let cpu = cpu0
        .zip(process_cpu_seconds())
        .map_or(f64::NAN, |(a, b)| b - a);
    // A digest of every stored blob: equal across thread counts when the build is
    // deterministic.
    let digest = (0..g.capacity() as NodeId)
        .flat_map(|id| g.node_blob(id))
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    println!(
        "build ({}): {build:.2} s wall, {cpu:.2} s cpu ({:.1} us/insert), max level {}, \
         digest {digest:016x}",
        if threads == 0 {
            "connect".to_string()
        } else {
            format!("connect_batch, {threads} threads")
        },
        build * 1e6 / n as f64,
        g.level_of(g.node_of(g.entry_rowid().unwrap()).unwrap())
    );

    // Ids equal rowids here: inserted in order, nothing removed yet.
    let needs_truth = stage("recall") || stage("int8");
    let t = Instant::now();
    let truth: Vec<Vec<NodeId>> = if needs_truth {
        (0..nq)
            .map(|qi| exact_top(&space.query_distance(query(qi)), n, 10, |_| true))
            .collect()
    } else {
        Vec::new()
    };
    if needs_truth {
        println!(
            "exact search: {:.0} us/query",
            t.elapsed().as_secs_f64() * 1e6 / nq as f64
        );
    }

    if stage("recall") {
        println!("   ef  recall@10  p50 us  p99 us  mean us");
        for ef in [10, 16, 32, 64, 128, 256] {
            let mut lat = Vec::with_capacity(nq);
            let mut hits = 0;
            for (qi, want) in truth.iter().enumerate() {
                let t = Instant::now();
                let ids = knn(
                    &g,
                    space.query_distance(query(qi)),
                    true,
                    &space,
                    query(qi),
                    ef,
                    None,
                );
                lat.push(t.elapsed());
                hits += recall(&ids, want);
            }
            let mean = lat.iter().sum::<Duration>().as_secs_f64() * 1e6 / nq as f64;
            println!(
                "{ef:5}  {:9.4}  {:6.1}  {:6.1}  {mean:7.1}",
                hits as f64 / (nq * 10) as f64,
                percentile(&mut lat, 0.5),
                percentile(&mut lat, 0.99)
            );
        }
    }

    // Filtered: the smallest ef reaching recall@10 >= 0.95 at a few selectivities.
    if stage("filter") {
        for (pct, modulo) in [(50, 2u32), (10, 10), (5, 20), (1, 100)] {
            let accept = move |id: NodeId| id.is_multiple_of(modulo);
            let want: Vec<Vec<NodeId>> = (0..nq)
                .map(|qi| exact_top(&space.query_distance(query(qi)), n, 10, accept))
                .collect();
            let mut line = format!("filter {pct:2}%:");
            for ef in [10, 16, 32, 64, 128, 256] {
                let t = Instant::now();
                let mut hits = 0;
                for (qi, w) in want.iter().enumerate() {
                    let f = space.query_distance(query(qi));
                    let ids = knn(&g, f, true, &space, query(qi), ef, Some(&accept));
                    assert!(ids.iter().all(|&id| accept(id)));
                    hits += recall(&ids, w);
                }
                let r = hits as f64 / (nq * 10) as f64;
                let us = t.elapsed().as_secs_f64() * 1e6 / nq as f64;
                line += &format!("  ef {ef}: {r:.3} ({us:.0} us)");
                if r >= 0.95 {
                    break;
                }
            }
            println!("{line}");
        }
    }

    // Int8 codes for the walk, exact rescoring of the ef candidates.
    if stage("int8") {
        let mut i8s = Int8Space::new(dims, Metric::Cosine);
        for i in 0..n {
            i8s.set(i as NodeId, row(i));
        }
        let mut line = String::from("int8 walk + rescore:");
        for ef in [32, 64, 128] {
            let t = Instant::now();
            let mut hits = 0;
            for (qi, want) in truth.iter().enumerate() {
                let nav = i8s.query_distance(query(qi));
                let ids = knn(&g, nav, false, &space, query(qi), ef, None);
                hits += recall(&ids, want);
            }
            let us = t.elapsed().as_secs_f64() * 1e6 / nq as f64;
            line += &format!(
                "  ef {ef}: {:.4} ({us:.0} us)",
                hits as f64 / (nq * 10) as f64
            );
        }
        println!("{line}");
    }

    // Persistence: serialise every node, load them back (the rows as a caller reads them).
    if stage("persist") {
        let t = Instant::now();
        let header = g.header_blob();
        let rows: Vec<(i64, Vec<u8>)> = (0..n as NodeId)
            .map(|id| (g.rowid_of(id), g.node_blob(id)))
            .collect();
        let ser = t.elapsed().as_secs_f64() * 1e3;
        let mut best = f64::INFINITY;
        let mut best_cpu = f64::INFINITY;
        for _ in 0..5 {
            let copy = rows.clone();
            let t = Instant::now();
            let c = cpu_seconds();
            let loaded = Hnsw::load(&header, copy.into_iter()).expect("load");
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            best_cpu = best_cpu.min(
                c.zip(cpu_seconds())
                    .map_or(f64::NAN, |(a, b)| (b - a) * 1e3),
            );
            assert_eq!(loaded.len(), g.len());
        }
        println!(
            "persist: {:.1} bytes/node, serialise {ser:.0} ms, load {best:.0} ms wall, {best_cpu:.0} ms cpu (best of 5)",
            g.bytes_per_node()
        );
    }

    // Removal: 10% of the rows, then recall at ef 64 against exact search over what is left.
    if stage("remove") {
        let t = Instant::now();
        let mut removed = 0;
        for r in (0..n as i64).step_by(10) {
            g.remove(r, &space);
            removed += 1;
        }
        let rm = t.elapsed().as_secs_f64();
        let dirty = g.take_dirty();
        let mut hits = 0;
        for qi in 0..nq {
            let f = space.query_distance(query(qi));
            let want = exact_top(&f, n, 10, |id| g.is_linked(id));
            let ids = knn(&g, &f, true, &space, query(qi), 64, None);
            hits += recall(&ids, &want);
        }
        println!(
            "remove {removed}: {rm:.2} s ({:.0} us each), {} node rows to rewrite; recall@10 ef 64 after: {:.4}",
            rm * 1e6 / removed as f64,
            dirty.changed.len(),
            hits as f64 / (nq * 10) as f64
        );
    }
}
