//! Random workloads against a brute-force oracle: inserts (explicit and automatic rowids, OR
//! REPLACE, duplicate keys), updates of every column including partition moves and key
//! changes, deletes, and KNN queries with random filters and k, on a table whose chunks hold 8
//! rows so that they fill, empty and get deleted all the time. After every workload the shadow
//! tables are checked for consistency (locations, validity bitmaps, free list, side tables).

mod vec0_support;

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use rusqlite::types::Value;
use rusqlite::Connection;
use vec0_support::oracle::{cmp, emb, quote, Cmp, Metric};
use vec0_support::*;

const TAGS: [&str; 8] = [
    "",
    "a",
    "abc",
    "b",
    "exactly12byt",
    "thirteen byte",
    "a longer text kept apart 1",
    "a longer text kept apart 2",
];

#[derive(Debug, Clone, PartialEq)]
struct Row {
    emb: [i8; 3],
    n: i64,
    tag: usize,
    b: bool,
    p: i64,
    note: Value,
}

impl Row {
    fn emb_f64(&self) -> Vec<f64> {
        self.emb.iter().map(|&x| x as f64).collect()
    }
    fn emb_blob(&self) -> Vec<u8> {
        f32_blob(&self.emb.map(|x| x as f32))
    }
}

#[derive(Debug, Clone)]
enum Filter {
    N(Cmp, i64),
    NBetween(i64, i64),
    NIn(Vec<i64>),
    Tag(Cmp, usize),
    TagIn(Vec<usize>),
    B(bool),
    P(Cmp, i64),
    PIn(Vec<i64>),
    RowidIn(Vec<i64>),
    Rowid(Cmp, i64),
    Distance(Cmp, f64),
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
            Filter::N(c, v) => format!("n {} {v}", c.sql()),
            Filter::NBetween(a, b) => format!("n between {a} and {b}"),
            Filter::NIn(v) => format!("n in ({})", list(v)),
            Filter::Tag(c, t) => format!("tag {} {}", c.sql(), quote(TAGS[*t])),
            Filter::TagIn(v) => format!(
                "tag in ({})",
                v.iter()
                    .map(|t| quote(TAGS[*t]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Filter::B(b) => format!("b = {}", *b as i64),
            Filter::P(c, v) => format!("p {} {v}", c.sql()),
            Filter::PIn(v) => format!("p in ({})", list(v)),
            Filter::RowidIn(v) => format!("rowid in ({})", list(v)),
            Filter::Rowid(c, v) => format!("rowid {} {v}", c.sql()),
            Filter::Distance(c, v) => format!("distance {} {v:?}", c.sql()),
        }
    }

    /// `key = x` inside a KNN filters the k nearest rows (as in sqlite-vec: it is how SQLite
    /// passes a join value); every other filter narrows the candidates first.
    /// SQLite turns a one-value IN list into `=`.
    fn after_top_k(&self) -> bool {
        match self {
            Filter::Rowid(Cmp::Eq, _) => true,
            Filter::RowidIn(list) => list.len() == 1,
            _ => false,
        }
    }

    fn accepts(&self, rowid: i64, row: &Row, distance: f64) -> bool {
        match self {
            Filter::N(c, v) => c.test(row.n, *v),
            Filter::NBetween(a, b) => *a <= row.n && row.n <= *b,
            Filter::NIn(v) => v.contains(&row.n),
            Filter::Tag(c, t) => c.test(TAGS[row.tag].as_bytes(), TAGS[*t].as_bytes()),
            Filter::TagIn(v) => v.iter().any(|t| TAGS[*t] == TAGS[row.tag]),
            Filter::B(b) => row.b == *b,
            Filter::P(c, v) => c.test(row.p, *v),
            Filter::PIn(v) => v.contains(&row.p),
            Filter::RowidIn(v) => v.contains(&rowid),
            Filter::Rowid(c, v) => c.test(rowid, *v),
            Filter::Distance(c, v) => c.test(distance, *v),
        }
    }
}

#[derive(Debug, Clone)]
enum Change {
    Emb([i8; 3]),
    N(i64),
    Tag(usize),
    B(bool),
    P(i64),
    Note(Value),
    Rowid(i64),
    Everything(Row),
}

#[derive(Debug, Clone)]
enum Op {
    Insert {
        rowid: Option<i64>,
        row: Row,
        replace: bool,
    },
    Update {
        pick: usize,
        change: Change,
    },
    Delete {
        pick: usize,
    },
    Knn {
        query: [i8; 3],
        k: i64,
        filters: Vec<Filter>,
        limit_form: bool,
    },
}

fn note() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Integer),
        "[a-z ]{0,20}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(Value::Blob),
        (-1e6f64..1e6).prop_map(Value::Real),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (
        emb(),
        -3i64..=3,
        0..TAGS.len(),
        any::<bool>(),
        0i64..4,
        note(),
    )
        .prop_map(|(emb, n, tag, b, p, note)| Row {
            emb,
            n,
            tag,
            b,
            p,
            note,
        })
}

fn filter(metric: Metric) -> BoxedStrategy<Filter> {
    let small = proptest::collection::vec(-3i64..=3, 1..4);
    let mut options = vec![
        (cmp(), -3i64..=3)
            .prop_map(|(c, v)| Filter::N(c, v))
            .boxed(),
        (-3i64..=3, -3i64..=3)
            .prop_map(|(a, b)| Filter::NBetween(a, b))
            .boxed(),
        small.clone().prop_map(Filter::NIn).boxed(),
        (cmp(), 0..TAGS.len())
            .prop_map(|(c, t)| Filter::Tag(c, t))
            .boxed(),
        proptest::collection::vec(0..TAGS.len(), 1..4)
            .prop_map(Filter::TagIn)
            .boxed(),
        any::<bool>().prop_map(Filter::B).boxed(),
        (cmp(), 0i64..4).prop_map(|(c, v)| Filter::P(c, v)).boxed(),
        proptest::collection::vec(0i64..4, 1..3)
            .prop_map(Filter::PIn)
            .boxed(),
        proptest::collection::vec(1i64..90, 1..12)
            .prop_map(Filter::RowidIn)
            .boxed(),
        (cmp(), 1i64..90)
            .prop_map(|(c, v)| Filter::Rowid(c, v))
            .boxed(),
    ];
    if metric.exact() {
        // Bounds on cosine distances would sit on f32 rounding; the exact metrics hit them
        // exactly (integer and square-root-of-integer distances).
        let bound = prop_oneof![
            Just(-4.0),
            Just(0.0),
            Just(1.0),
            Just(2.0),
            Just(3.0),
            Just(4.5)
        ];
        let op = prop_oneof![Just(Cmp::Lt), Just(Cmp::Le), Just(Cmp::Gt), Just(Cmp::Ge)];
        options.push(
            (op, bound)
                .prop_map(|(c, v)| Filter::Distance(c, v))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn op(metric: Metric) -> impl Strategy<Value = Op> {
    let change = prop_oneof![
        emb().prop_map(Change::Emb),
        (-3i64..=3).prop_map(Change::N),
        (0..TAGS.len()).prop_map(Change::Tag),
        any::<bool>().prop_map(Change::B),
        (0i64..4).prop_map(Change::P),
        note().prop_map(Change::Note),
        (1i64..90).prop_map(Change::Rowid),
        row().prop_map(Change::Everything),
    ];
    prop_oneof![
        5 => (proptest::option::weighted(0.6, 1i64..90), row(), proptest::bool::weighted(0.2))
            .prop_map(|(rowid, row, replace)| Op::Insert { rowid, row, replace }),
        3 => (any::<usize>(), change).prop_map(|(pick, change)| Op::Update { pick, change }),
        2 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        3 => (emb(), prop_oneof![0i64..4, 4i64..30, 30i64..100], proptest::collection::vec(filter(metric), 0..4), any::<bool>())
            .prop_map(|(query, k, filters, limit_form)| Op::Knn { query, k, filters, limit_form }),
    ]
}

fn workload() -> impl Strategy<Value = (Metric, Vec<Op>)> {
    prop_oneof![
        Just(Metric::L2),
        Just(Metric::L1),
        Just(Metric::Cosine),
        Just(Metric::Dot)
    ]
    .prop_flat_map(|metric| (Just(metric), proptest::collection::vec(op(metric), 1..100)))
}

struct Harness {
    conn: Connection,
    metric: Metric,
    rows: BTreeMap<i64, Row>,
    /// The largest rowid ever used: automatic rowids come after it (AUTOINCREMENT).
    max_rowid: i64,
}

fn row_params(row: &Row) -> [Value; 6] {
    [
        Value::Blob(row.emb_blob()),
        Value::Integer(row.n),
        Value::Text(TAGS[row.tag].to_string()),
        Value::Integer(row.b as i64),
        Value::Integer(row.p),
        row.note.clone(),
    ]
}

impl Harness {
    fn new(metric: Metric) -> Harness {
        let conn = db();
        exec(
            &conn,
            &format!(
                "create virtual table t using vec0(emb float[3] distance_metric={}, n integer,
                    tag text, b boolean, p integer partition key, +note, chunk_size=8)",
                metric.sql()
            ),
        );
        Harness {
            conn,
            metric,
            rows: BTreeMap::new(),
            max_rowid: 0,
        }
    }

    fn pick(&self, pick: usize) -> Option<i64> {
        if self.rows.is_empty() {
            None
        } else {
            self.rows.keys().nth(pick % self.rows.len()).copied()
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Insert {
                rowid,
                row,
                replace,
            } => {
                let verb = if *replace {
                    "insert or replace"
                } else {
                    "insert"
                };
                let mut params: Vec<Value> = vec![rowid.map_or(Value::Null, Value::Integer)];
                params.extend(row_params(row));
                let result = self.conn.execute(
                    &format!("{verb} into t(rowid, emb, n, tag, b, p, note) values (?, ?, ?, ?, ?, ?, ?)"),
                    rusqlite::params_from_iter(params),
                );
                let exists = rowid.is_some_and(|r| self.rows.contains_key(&r));
                if exists && !replace {
                    let e = result.expect_err("a duplicate rowid must fail");
                    prop_assert_eq!(
                        e.to_string(),
                        "UNIQUE constraint failed on t primary key".to_string()
                    );
                    return Ok(());
                }
                result.map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
                let id = self.conn.last_insert_rowid();
                match rowid {
                    Some(r) => prop_assert_eq!(id, *r),
                    None => prop_assert_eq!(id, self.max_rowid + 1, "automatic rowid"),
                }
                self.max_rowid = self.max_rowid.max(id);
                self.rows.insert(id, row.clone());
            }
            Op::Update { pick, change } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                let mut row = self.rows[&id].clone();
                let (set, value) = match change {
                    Change::Emb(e) => {
                        row.emb = *e;
                        ("emb = ?", Value::Blob(row.emb_blob()))
                    }
                    Change::N(n) => {
                        row.n = *n;
                        ("n = ?", Value::Integer(*n))
                    }
                    Change::Tag(t) => {
                        row.tag = *t;
                        ("tag = ?", Value::Text(TAGS[*t].into()))
                    }
                    Change::B(b) => {
                        row.b = *b;
                        ("b = ?", Value::Integer(*b as i64))
                    }
                    Change::P(p) => {
                        row.p = *p;
                        ("p = ?", Value::Integer(*p))
                    }
                    Change::Note(v) => {
                        row.note = v.clone();
                        ("note = ?", v.clone())
                    }
                    Change::Rowid(new) => {
                        let result = self.conn.execute(
                            "update t set rowid = ? where rowid = ?",
                            rusqlite::params![new, id],
                        );
                        if *new != id && self.rows.contains_key(new) {
                            let e = result.expect_err("a duplicate rowid must fail");
                            prop_assert_eq!(
                                e.to_string(),
                                "UNIQUE constraint failed on t primary key".to_string()
                            );
                        } else {
                            result.map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
                            let row = self.rows.remove(&id).expect("picked");
                            self.rows.insert(*new, row);
                            self.max_rowid = self.max_rowid.max(*new);
                        }
                        return Ok(());
                    }
                    Change::Everything(new) => {
                        let mut params: Vec<Value> = row_params(new).to_vec();
                        params.push(Value::Integer(id));
                        self.conn
                            .execute(
                                "update t set emb = ?, n = ?, tag = ?, b = ?, p = ?, note = ? where rowid = ?",
                                rusqlite::params_from_iter(params),
                            )
                            .map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
                        self.rows.insert(id, new.clone());
                        return Ok(());
                    }
                };
                self.conn
                    .execute(
                        &format!("update t set {set} where rowid = ?"),
                        rusqlite::params![value, id],
                    )
                    .map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
                self.rows.insert(id, row);
            }
            Op::Delete { pick } => {
                let Some(id) = self.pick(*pick) else {
                    return Ok(());
                };
                self.conn
                    .execute("delete from t where rowid = ?", [id])
                    .map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
                self.rows.remove(&id);
            }
            Op::Knn {
                query,
                k,
                filters,
                limit_form,
            } => self.check_knn(query, *k, filters, *limit_form)?,
        }
        Ok(())
    }

    fn check_knn(
        &self,
        query: &[i8; 3],
        k: i64,
        filters: &[Filter],
        limit_form: bool,
    ) -> Result<(), TestCaseError> {
        let where_filters: String = filters
            .iter()
            .map(|f| format!(" and {}", f.sql()))
            .collect();
        // A filter SQLite checks itself takes LIMIT away from the virtual table.
        let sql = if limit_form && !filters.iter().any(Filter::after_top_k) {
            format!("select rowid, distance from t where emb match ?1{where_filters} limit ?2")
        } else {
            format!("select rowid, distance from t where emb match ?1 and k = ?2{where_filters}")
        };
        let q: Vec<f64> = query.iter().map(|&x| x as f64).collect();
        let got: Vec<(i64, f64)> = rows_with(
            &self.conn,
            &sql,
            rusqlite::params![f32_blob(&query.map(|x| x as f32)), k],
        )
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Integer(id), Value::Real(d)) => (*id, *d),
            other => panic!("{sql}: {other:?}"),
        })
        .collect();

        let mut expected: Vec<(i64, f64)> = self
            .rows
            .iter()
            .map(|(id, row)| (*id, row, self.metric.distance(&q, &row.emb_f64())))
            .filter(|(id, row, d)| {
                filters
                    .iter()
                    .filter(|f| !f.after_top_k())
                    .all(|f| f.accepts(*id, row, *d))
            })
            .map(|(id, _, d)| (id, d))
            .collect();
        expected.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let passes_after = |&(id, d): &(i64, f64)| {
            let row = &self.rows[&id];
            filters
                .iter()
                .filter(|f| f.after_top_k())
                .all(|f| f.accepts(id, row, d))
        };
        let all_matching: HashMap<i64, f64> =
            expected.iter().copied().filter(passes_after).collect();
        expected.truncate(k as usize);
        expected.retain(passes_after);

        let context =
            || format!("{sql} k={k} q={query:?}\n  got      {got:?}\n  expected {expected:?}");
        prop_assert_eq!(got.len(), expected.len(), "row count: {}", context());
        let tolerance = |d: f64| 1e-4 * d.abs().max(1.0);
        for (i, (id, d)) in got.iter().enumerate() {
            let truth = all_matching.get(id);
            prop_assert!(
                truth.is_some(),
                "row {} does not match the filters: {}",
                id,
                context()
            );
            let truth = *truth.unwrap();
            prop_assert!(
                (d - truth).abs() <= tolerance(truth),
                "distance of {}: {}",
                id,
                context()
            );
            prop_assert!(
                (d - expected[i].1).abs() <= tolerance(truth),
                "rank {}: {}",
                i,
                context()
            );
            if i > 0 {
                let (pid, pd) = got[i - 1];
                prop_assert!(
                    pd < *d || (pd == *d && pid < *id),
                    "order at {}: {}",
                    i,
                    context()
                );
            }
        }
        if self.metric.exact() {
            prop_assert_eq!(
                got.iter().map(|r| r.0).collect::<Vec<_>>(),
                expected.iter().map(|r| r.0).collect::<Vec<_>>(),
                "{}",
                context()
            );
        } else if let Some(&(_, kth)) = expected.last() {
            // Every row clearly nearer than the k-th must be there.
            let got_ids: HashSet<i64> = got.iter().map(|r| r.0).collect();
            for (id, d) in &all_matching {
                if *d < kth - tolerance(kth) {
                    prop_assert!(got_ids.contains(id), "missing {}: {}", id, context());
                }
            }
        }
        Ok(())
    }

    /// `select *` holds exactly the oracle's rows.
    fn check_contents(&self) -> Result<(), TestCaseError> {
        let got = rows(&self.conn, "select rowid, emb, n, tag, b, p, note from t");
        let expected: Vec<Vec<Value>> = self
            .rows
            .iter()
            .map(|(id, row)| {
                let mut r = vec![Value::Integer(*id)];
                r.extend(row_params(row));
                r
            })
            .collect();
        prop_assert_eq!(got, expected);
        Ok(())
    }

    /// The shadow tables agree with each other: every row's location holds its rowid with the
    /// validity bit set, no other bit is set, no chunk is empty, the free list holds exactly
    /// the chunks with room, and side tables have one entry per row that needs one.
    fn check_storage(&self) -> Result<(), TestCaseError> {
        let conn = &self.conn;
        let chunks: HashMap<i64, (Vec<u8>, Vec<u8>, i64)> = rows(
            conn,
            "select chunk_id, validity, rowids, partition00 from t_chunks",
        )
        .into_iter()
        .map(|r| match (&r[0], &r[1], &r[2], &r[3]) {
            (Value::Integer(c), Value::Blob(v), Value::Blob(ids), Value::Integer(p)) => {
                (*c, (v.clone(), ids.clone(), *p))
            }
            other => panic!("{other:?}"),
        })
        .collect();
        let mut used: HashSet<(i64, i64)> = HashSet::new();
        let locations = rows(conn, "select rowid, chunk_id, chunk_offset from t_rowids");
        prop_assert_eq!(locations.len(), self.rows.len());
        for r in locations {
            let (Value::Integer(id), Value::Integer(chunk), Value::Integer(offset)) =
                (&r[0], &r[1], &r[2])
            else {
                panic!("{r:?}")
            };
            let (validity, ids, p) = chunks.get(chunk).expect("the row's chunk exists");
            let o = *offset as usize;
            prop_assert!(
                validity[o / 8] >> (o % 8) & 1 == 1,
                "row {} not marked valid",
                id
            );
            prop_assert_eq!(
                i64::from_le_bytes(ids[o * 8..o * 8 + 8].try_into().unwrap()),
                *id
            );
            prop_assert_eq!(
                *p,
                self.rows[id].p,
                "row {} in a chunk of another partition",
                id
            );
            used.insert((*chunk, *offset));
        }
        let mut with_room = Vec::new();
        for (chunk, (validity, _, _)) in &chunks {
            let set: Vec<usize> = (0..8)
                .filter(|o| validity[o / 8] >> (o % 8) & 1 == 1)
                .collect();
            prop_assert!(!set.is_empty(), "chunk {} is empty but kept", chunk);
            for o in &set {
                prop_assert!(
                    used.contains(&(*chunk, *o as i64)),
                    "chunk {} slot {} valid but unused",
                    chunk,
                    o
                );
            }
            if set.len() < 8 {
                with_room.push(*chunk);
            }
        }
        with_room.sort();
        prop_assert_eq!(
            ints(conn, "select chunk_id from t_free order by chunk_id"),
            with_room
        );
        for table in [
            "t_vector_chunks00",
            "t_metadatachunks00",
            "t_metadatachunks02",
        ] {
            prop_assert_eq!(
                int(conn, &format!("select count(*) from {table}")) as usize,
                chunks.len(),
                "{}",
                table
            );
        }
        let long = self
            .rows
            .values()
            .filter(|r| TAGS[r.tag].len() > 12)
            .count();
        prop_assert_eq!(
            int(conn, "select count(*) from t_metadatatext01") as usize,
            long
        );
        prop_assert_eq!(
            int(conn, "select count(*) from t_auxiliary") as usize,
            self.rows.len()
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_workloads_match_a_brute_force_oracle((metric, ops) in workload()) {
        let mut h = Harness::new(metric);
        for (i, op) in ops.iter().enumerate() {
            h.apply(op)?;
            if i % 16 == 15 {
                h.check_contents()?;
            }
        }
        h.check_contents()?;
        h.check_storage()?;
        // A final unfiltered KNN over everything left.
        h.check_knn(&[1, -1, 2], 100, &[], false)?;
    }
}
