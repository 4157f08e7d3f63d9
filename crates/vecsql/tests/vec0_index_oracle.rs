//! Random workloads on a vec0 table with an ANN index, against a brute-force oracle: inserts
//! (single and multi-row, some failing on a duplicate key half way), updates of the vector, of
//! metadata and of the partition key, deletes, 'optimize', transactions (BEGIN, COMMIT,
//! ROLLBACK) and savepoints (SAVEPOINT, ROLLBACK TO, RELEASE), and KNN queries with random k,
//! ef_search and filters.
//!
//! Every KNN answer must hold only live rows that satisfy the filter, each once, ascending by
//! (distance, rowid), each with its exact distance, and min(k, matching rows) of them; its
//! recall (ties counted as hits) must stay above a floor on average. After every workload the
//! index holds exactly one node per row.

mod vec0_support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::index::{assert_ordered, oracle_knn, recall, unreachable, Metric};
use vec0_support::*;

/// Rowids are drawn from this range, so inserts collide with live rows now and then.
const MAX_ROWID: i64 = 400;
/// Partitions and metadata buckets.
const PARTS: i64 = 4;
const CATS: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantizer {
    None,
    Int8,
    Binary,
}

impl Quantizer {
    fn sql(self) -> &'static str {
        match self {
            Quantizer::None => "none",
            Quantizer::Int8 => "int8",
            Quantizer::Binary => "binary",
        }
    }
}

#[derive(Debug, Clone)]
struct Config {
    dims: usize,
    metric: Metric,
    quantizer: Quantizer,
    m: usize,
    ef_construction: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    emb: Vec<f32>,
    cat: i64,
    part: i64,
}

#[derive(Debug, Clone)]
enum Filter {
    CatLt(i64),
    CatEq(i64),
    CatNe(i64),
    CatBetween(i64, i64),
    PartEq(i64),
    PartIn(Vec<i64>),
    RowidIn(Vec<i64>),
    RowidGt(i64),
    PartAndCat(i64, i64),
}

impl Filter {
    fn sql(&self) -> String {
        let list = |v: &[i64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Filter::CatLt(c) => format!("and cat < {c}"),
            Filter::CatEq(c) => format!("and cat = {c}"),
            Filter::CatNe(c) => format!("and cat != {c}"),
            Filter::CatBetween(a, b) => format!("and cat between {a} and {b}"),
            Filter::PartEq(p) => format!("and part = {p}"),
            Filter::PartIn(v) => format!("and part in ({})", list(v)),
            Filter::RowidIn(v) => format!("and rowid in ({})", list(v)),
            Filter::RowidGt(r) => format!("and rowid > {r}"),
            Filter::PartAndCat(p, c) => format!("and part = {p} and cat <= {c}"),
        }
    }

    fn accepts(&self, rowid: i64, row: &Row) -> bool {
        match self {
            Filter::CatLt(c) => row.cat < *c,
            Filter::CatEq(c) => row.cat == *c,
            Filter::CatNe(c) => row.cat != *c,
            Filter::CatBetween(a, b) => *a <= row.cat && row.cat <= *b,
            Filter::PartEq(p) => row.part == *p,
            Filter::PartIn(v) => v.contains(&row.part),
            Filter::RowidIn(v) => v.contains(&rowid),
            Filter::RowidGt(r) => rowid > *r,
            Filter::PartAndCat(p, c) => row.part == *p && row.cat <= *c,
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// One multi-row INSERT; `replace` uses INSERT OR REPLACE. Without it, a rowid that is
    /// live (or repeated within the statement) fails the whole statement half way.
    Insert {
        rows: Vec<(i64, Row)>,
        replace: bool,
    },
    UpdateEmb {
        pick: usize,
        emb: Vec<f32>,
    },
    UpdateCat {
        pick: usize,
        cat: i64,
    },
    UpdatePart {
        pick: usize,
        part: i64,
    },
    /// Vector and partition in one statement.
    UpdateBoth {
        pick: usize,
        emb: Vec<f32>,
        part: i64,
    },
    Delete {
        pick: usize,
    },
    /// `delete from t where cat = ?`: several rows in one statement.
    DeleteCat(i64),
    Optimize,
    Begin,
    Commit,
    Rollback,
    Savepoint,
    RollbackTo(usize),
    Release(usize),
    Knn {
        query: Vec<f32>,
        k: i64,
        ef: Option<i64>,
        filter: Option<Filter>,
    },
}

/// A vector: small integers (ties, duplicates) or floats; never all zero (cosine).
fn emb(dims: usize) -> impl Strategy<Value = Vec<f32>> {
    prop_oneof![
        proptest::collection::vec((-3i8..=3).prop_map(|x| x as f32), dims),
        proptest::collection::vec(-1.0f32..1.0, dims),
    ]
    .prop_map(|mut v| {
        if v.iter().all(|&x| x == 0.0) {
            v[0] = 1.0;
        }
        v
    })
}

fn row(dims: usize) -> impl Strategy<Value = Row> {
    (emb(dims), 0..CATS, 0..PARTS).prop_map(|(emb, cat, part)| Row { emb, cat, part })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (0..=CATS).prop_map(Filter::CatLt),
        (0..CATS).prop_map(Filter::CatEq),
        (0..CATS).prop_map(Filter::CatNe),
        (0..CATS, 0..CATS).prop_map(|(a, b)| Filter::CatBetween(a.min(b), a.max(b))),
        (0..PARTS).prop_map(Filter::PartEq),
        proptest::collection::vec(0..PARTS, 1..3).prop_map(Filter::PartIn),
        // Two values at least: SQLite turns a one-value IN into `=`, which filters the k
        // nearest afterwards (vec0_oracle.rs covers that case).
        proptest::collection::vec(1..=MAX_ROWID, 2..20).prop_map(Filter::RowidIn),
        (0..MAX_ROWID).prop_map(Filter::RowidGt),
        (0..PARTS, 0..CATS).prop_map(|(p, c)| Filter::PartAndCat(p, c)),
    ]
}

fn op(dims: usize) -> impl Strategy<Value = Op> {
    let rows = proptest::collection::vec((1..=MAX_ROWID, row(dims)), 1..40);
    prop_oneof![
        6 => (rows, proptest::bool::weighted(0.2))
            .prop_map(|(rows, replace)| Op::Insert { rows, replace }),
        2 => (any::<usize>(), emb(dims)).prop_map(|(pick, emb)| Op::UpdateEmb { pick, emb }),
        1 => (any::<usize>(), 0..CATS).prop_map(|(pick, cat)| Op::UpdateCat { pick, cat }),
        2 => (any::<usize>(), 0..PARTS).prop_map(|(pick, part)| Op::UpdatePart { pick, part }),
        1 => (any::<usize>(), emb(dims), 0..PARTS)
            .prop_map(|(pick, emb, part)| Op::UpdateBoth { pick, emb, part }),
        3 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        1 => (0..CATS).prop_map(Op::DeleteCat),
        1 => Just(Op::Optimize),
        1 => Just(Op::Begin),
        1 => Just(Op::Commit),
        1 => Just(Op::Rollback),
        1 => Just(Op::Savepoint),
        1 => any::<usize>().prop_map(Op::RollbackTo),
        1 => any::<usize>().prop_map(Op::Release),
        6 => (
            emb(dims),
            prop_oneof![1i64..=10, 10i64..=50, 50i64..=400],
            // Tables this small are scanned unless the query gives ef_search (the planner's
            // rule), so most queries give it: the walk is what is under test.
            proptest::option::weighted(0.8, prop_oneof![1 => 1i64..=8, 3 => 16i64..=200]),
            proptest::option::weighted(0.6, filter()),
        )
            .prop_map(|(query, k, ef, filter)| Op::Knn { query, k, ef, filter }),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        4usize..=16,
        prop_oneof![
            Just(Metric::L2),
            Just(Metric::Cosine),
            Just(Metric::Dot),
            Just(Metric::L1)
        ],
        prop_oneof![
            3 => Just(Quantizer::None),
            2 => Just(Quantizer::Int8),
            1 => Just(Quantizer::Binary)
        ],
        prop_oneof![Just(8usize), Just(16)],
        prop_oneof![Just(16usize), Just(40)],
    )
        .prop_map(|(dims, metric, quantizer, m, ef_construction)| Config {
            dims,
            metric,
            // The quantizers do not approximate l1 (refused at create time).
            quantizer: if metric == Metric::L1 {
                Quantizer::None
            } else {
                quantizer
            },
            m,
            ef_construction,
        })
}

fn workload() -> impl Strategy<Value = (Config, Vec<Op>)> {
    config().prop_flat_map(|c| {
        let dims = c.dims;
        (Just(c), proptest::collection::vec(op(dims), 1..80))
    })
}

/// One open savepoint: its name and the rows it would roll back to.
struct Savepoint {
    name: String,
    rows: BTreeMap<i64, Row>,
}

struct Harness {
    conn: Connection,
    config: Config,
    rows: BTreeMap<i64, Row>,
    /// Open transaction: the rows at its start, and whether BEGIN (not SAVEPOINT) opened it.
    txn: Option<(BTreeMap<i64, Row>, bool)>,
    savepoints: Vec<Savepoint>,
    next_savepoint: usize,
    /// Recall of queries run at a recall-worthy ef with a full-precision-ranked quantizer.
    recalls: Vec<f64>,
    /// Whether KNN must return min(k, matching) rows even when the graph cannot reach some.
    strict: bool,
    /// Rows missing from answers because the graph could not reach them (non-strict runs).
    lost: usize,
}

fn fail(op: &Op, e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{op:?}: {e}"))
}

impl Harness {
    fn new(config: Config, strict: bool) -> Harness {
        let conn = db();
        exec(
            &conn,
            &format!(
                "create virtual table t using vec0(
                    emb float[{}] distance_metric={} indexed by hnsw(m={}, ef_construction={}, quantizer={}),
                    cat integer, part integer partition key, chunk_size=8)",
                config.dims,
                config.metric.sql(),
                config.m,
                config.ef_construction,
                config.quantizer.sql()
            ),
        );
        Harness {
            conn,
            config,
            rows: BTreeMap::new(),
            txn: None,
            savepoints: Vec::new(),
            next_savepoint: 0,
            recalls: Vec::new(),
            strict,
            lost: 0,
        }
    }

    fn pick(&self, pick: usize) -> Option<i64> {
        if self.rows.is_empty() {
            None
        } else {
            self.rows.keys().nth(pick % self.rows.len()).copied()
        }
    }

    fn run(&self, op: &Op, sql: &str, params: Vec<Value>) -> Result<usize, TestCaseError> {
        self.conn
            .execute(sql, rusqlite::params_from_iter(params))
            .map_err(|e| fail(op, format!("{sql}: {e}")))
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Insert { rows, replace } => {
                let marks: Vec<&str> = rows.iter().map(|_| "(?, ?, ?, ?)").collect();
                let verb = if *replace {
                    "insert or replace"
                } else {
                    "insert"
                };
                let sql = format!(
                    "{verb} into t(rowid, emb, cat, part) values {}",
                    marks.join(", ")
                );
                let mut params = Vec::new();
                for (rowid, r) in rows {
                    params.extend([
                        Value::Integer(*rowid),
                        Value::Blob(f32_blob(&r.emb)),
                        Value::Integer(r.cat),
                        Value::Integer(r.part),
                    ]);
                }
                let result = self.conn.execute(&sql, rusqlite::params_from_iter(params));
                let mut after = self.rows.clone();
                let mut conflict = false;
                for (rowid, r) in rows {
                    if !replace && after.contains_key(rowid) {
                        conflict = true;
                        break;
                    }
                    after.insert(*rowid, r.clone());
                }
                if conflict {
                    let e = result.expect_err("a duplicate rowid must fail the statement");
                    prop_assert!(e.to_string().contains("UNIQUE"), "{}", e);
                } else {
                    result.map_err(|e| fail(op, e))?;
                    self.rows = after;
                }
            }
            Op::UpdateEmb { pick, emb } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                self.run(
                    op,
                    "update t set emb = ? where rowid = ?",
                    vec![Value::Blob(f32_blob(emb)), Value::Integer(id)],
                )?;
                self.rows.get_mut(&id).expect("picked").emb = emb.clone();
            }
            Op::UpdateCat { pick, cat } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                self.run(
                    op,
                    "update t set cat = ? where rowid = ?",
                    vec![Value::Integer(*cat), Value::Integer(id)],
                )?;
                self.rows.get_mut(&id).expect("picked").cat = *cat;
            }
            Op::UpdatePart { pick, part } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                self.run(
                    op,
                    "update t set part = ? where rowid = ?",
                    vec![Value::Integer(*part), Value::Integer(id)],
                )?;
                self.rows.get_mut(&id).expect("picked").part = *part;
            }
            Op::UpdateBoth { pick, emb, part } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                self.run(
                    op,
                    "update t set emb = ?, part = ? where rowid = ?",
                    vec![
                        Value::Blob(f32_blob(emb)),
                        Value::Integer(*part),
                        Value::Integer(id),
                    ],
                )?;
                let r = self.rows.get_mut(&id).expect("picked");
                r.emb = emb.clone();
                r.part = *part;
            }
            Op::Delete { pick } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                self.run(
                    op,
                    "delete from t where rowid = ?",
                    vec![Value::Integer(id)],
                )?;
                self.rows.remove(&id);
            }
            Op::DeleteCat(cat) => {
                self.run(
                    op,
                    "delete from t where cat = ?",
                    vec![Value::Integer(*cat)],
                )?;
                self.rows.retain(|_, r| r.cat != *cat);
            }
            Op::Optimize => {
                self.run(op, "insert into t(t) values ('optimize')", vec![])?;
            }
            Op::Begin => {
                if self.txn.is_none() {
                    self.run(op, "begin", vec![])?;
                    self.txn = Some((self.rows.clone(), true));
                }
            }
            Op::Commit => {
                if self.txn.is_some() {
                    self.run(op, "commit", vec![])?;
                    self.txn = None;
                    self.savepoints.clear();
                }
            }
            Op::Rollback => {
                if let Some((start, _)) = self.txn.take() {
                    self.run(op, "rollback", vec![])?;
                    self.rows = start;
                    self.savepoints.clear();
                }
            }
            Op::Savepoint => {
                let name = format!("sp{}", self.next_savepoint);
                self.next_savepoint += 1;
                self.run(op, &format!("savepoint {name}"), vec![])?;
                if self.txn.is_none() {
                    self.txn = Some((self.rows.clone(), false));
                }
                self.savepoints.push(Savepoint {
                    name,
                    rows: self.rows.clone(),
                });
            }
            Op::RollbackTo(i) => {
                if self.savepoints.is_empty() {
                    return Ok(());
                }
                let i = i % self.savepoints.len();
                let sp = &self.savepoints[i];
                self.run(op, &format!("rollback to {}", sp.name), vec![])?;
                self.rows = sp.rows.clone();
                // The savepoint stays open; the ones after it are gone.
                self.savepoints.truncate(i + 1);
            }
            Op::Release(i) => {
                if self.savepoints.is_empty() {
                    return Ok(());
                }
                let i = i % self.savepoints.len();
                self.run(op, &format!("release {}", self.savepoints[i].name), vec![])?;
                self.savepoints.truncate(i);
                if self.savepoints.is_empty() {
                    if let Some((_, false)) = self.txn {
                        // The outermost savepoint opened the transaction: released, committed.
                        self.txn = None;
                    }
                }
            }
            Op::Knn {
                query,
                k,
                ef,
                filter,
            } => self.check_knn(op, query, *k, *ef, filter.as_ref())?,
        }
        Ok(())
    }

    fn check_knn(
        &mut self,
        op: &Op,
        query: &[f32],
        k: i64,
        ef: Option<i64>,
        filter: Option<&Filter>,
    ) -> Result<(), TestCaseError> {
        let metric = self.config.metric;
        let mut extra = filter.map(|f| f.sql()).unwrap_or_default();
        if let Some(ef) = ef {
            extra.push_str(&format!(" and ef_search = {ef}"));
        }
        let sql = format!("select rowid, distance from t where emb match ?1 and k = ?2 {extra}");
        let got: Vec<(i64, f64)> =
            try_rows(&self.conn, &sql, rusqlite::params![f32_blob(query), k])
                .map_err(|e| fail(op, e))?
                .into_iter()
                .map(|r| match (&r[0], &r[1]) {
                    (Value::Integer(id), d) => (*id, number(d)),
                    other => panic!("{other:?}"),
                })
                .collect();
        let matching: Vec<(i64, &Row)> = self
            .rows
            .iter()
            .filter(|(id, r)| filter.is_none_or(|f| f.accepts(**id, r)))
            .map(|(id, r)| (*id, r))
            .collect();
        let context = format!("{op:?} -> {got:?}");
        assert_ordered(&got, &context);
        for &(id, d) in &got {
            let row = self.rows.get(&id);
            prop_assert!(row.is_some(), "row {} is not live: {}", id, context);
            let row = row.expect("checked");
            prop_assert!(
                filter.is_none_or(|f| f.accepts(id, row)),
                "row {} fails the filter: {}",
                id,
                context
            );
            let want = metric.distance(query, &row.emb);
            prop_assert!(
                (d - want).abs() <= 1e-4 * (1.0 + want.abs()),
                "row {}: distance {} but exactly {}: {}",
                id,
                d,
                want,
                context
            );
        }
        let want = (k as usize).min(matching.len());
        if got.len() != want {
            let lost = unreachable(&self.conn, "t");
            if !self.strict {
                // Rows the graph cannot reach (see the ignored strict test) are tolerated here,
                // and nothing else: the walk must still return every reachable match.
                let reachable = matching
                    .iter()
                    .filter(|(id, _)| lost.binary_search(id).is_err())
                    .count();
                prop_assert!(
                    got.len() >= (k as usize).min(reachable) && got.len() <= want,
                    "count {} with {} matching rows of which {} reachable: {}",
                    got.len(),
                    matching.len(),
                    reachable,
                    context
                );
                self.lost += want - got.len();
                return Ok(());
            }
            prop_assert_eq!(
                got.len(),
                want,
                "count must be min(k, matching = {}); unreachable nodes {:?}: {}",
                matching.len(),
                lost,
                context
            );
        }
        let exact = oracle_knn(
            matching.iter().map(|(id, r)| (*id, r.emb.as_slice())),
            k as usize,
            |v| metric.distance(query, v),
        );
        let r = recall(
            &got,
            &exact,
            |id| metric.distance(query, &self.rows[&id].emb),
            1e-5,
        );
        // Recall is held to the floor where the query walked with a useful ef and ranks in
        // full precision or int8 (queries without ef_search are scans here); ef_search = 1..8
        // and binary codes in 4 to 16 dimensions are checked for validity only.
        if ef.is_some_and(|e| e >= 16) && self.config.quantizer != Quantizer::Binary {
            self.recalls.push(r);
        }
        Ok(())
    }

    /// After the workload: commit, then one node per live row.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        if self.txn.is_some() {
            exec(&self.conn, "commit");
            self.txn = None;
        }
        let nodes = ints(
            &self.conn,
            "select rowid from t_hnsw00_nodes order by rowid",
        );
        let live: Vec<i64> = self.rows.keys().copied().collect();
        prop_assert_eq!(nodes, live.clone(), "index nodes vs live rows");
        prop_assert_eq!(ints(&self.conn, "select rowid from t order by rowid"), live);
        if !self.recalls.is_empty() {
            let mean = self.recalls.iter().sum::<f64>() / self.recalls.len() as f64;
            prop_assert!(
                mean >= 0.9,
                "mean recall {} over {} queries: {:?}",
                mean,
                self.recalls.len(),
                self.recalls
            );
        }
        Ok(())
    }
}

fn run_workload(config: Config, ops: &[Op], strict: bool) -> Result<(), TestCaseError> {
    let mut h = Harness::new(config, strict);
    for op in ops {
        h.apply(op)?;
    }
    // A final walk for every row, so each case checks completeness at least once.
    let n = h.rows.len().max(1) as i64;
    h.apply(&Op::Knn {
        query: vec![1.0; h.config.dims],
        k: n,
        ef: Some(64),
        filter: None,
    })?;
    h.finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// Everything but completeness is exact; rows the graph cannot reach from its entry point
    /// may be missing from an answer (the strict test below demands them).
    #[test]
    fn indexed_knn_matches_the_oracle_under_random_workloads((config, ops) in workload()) {
        run_workload(config, &ops, false)?;
    }

    /// The SQL contract in full: min(k, matching rows) rows, whatever the graph looks like.
    #[test]
    fn indexed_knn_returns_min_k_matching_rows_under_random_workloads((config, ops) in workload()) {
        run_workload(config, &ops, true)?;
    }
}
