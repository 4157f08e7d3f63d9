//! A differential test of vec0 against SQLite itself. The input bytes drive a sequence of
//! statements (single and multi-row inserts with and without keys and with OR REPLACE / OR
//! IGNORE, updates of every column and of the key, deletes by key and by filter, savepoints,
//! BEGIN / COMMIT / ROLLBACK, the `optimize` command) that run on a vec0 table `v` and on an
//! ordinary table `m` with the same columns, in the same connection and so in the same
//! transactions. After every change both must hold the same rows, both must accept or refuse
//! each statement alike, and every KNN query (k or LIMIT, random filters on the partition key,
//! metadata and key) must give what brute force over `m` with `vec_distance_*` gives.
//! Vectors have small integer elements, so every distance is exact and the answers must be
//! equal, not close.

use rusqlite::types::Value;
use rusqlite::Connection;

use super::choices::Choices;
use super::sql;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Element {
    Float32,
    Int8,
    Bit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Integer,
    Text,
    Rowid,
}

#[derive(Debug, Clone, Copy)]
struct Config {
    element: Element,
    metric: &'static str,
    key: Key,
    /// The ANN index clause on the vector column, if any.
    index: &'static str,
}

impl Config {
    fn from(c: &mut Choices<'_>) -> Config {
        let (element, metric) = match c.below(6) {
            0 => (Element::Float32, "l2"),
            1 => (Element::Float32, "l1"),
            2 => (Element::Float32, "dot"),
            3 => (Element::Int8, "l2"),
            4 => (Element::Int8, "l1"),
            _ => (Element::Bit, "hamming"),
        };
        let key = match c.below(3) {
            0 => Key::Integer,
            1 => Key::Text,
            _ => Key::Rowid,
        };
        // The smallest graph degree and build effort make the most fragile graphs.
        let index = [
            "",
            "",
            " indexed by hnsw()",
            " indexed by hnsw(m=4, ef_construction=8)",
            " indexed by hnsw(m=4, ef_construction=8, quantizer=int8)",
            " indexed by hnsw(m=4, ef_construction=8, quantizer=binary)",
        ][c.below(6)];
        Config {
            element,
            metric,
            key,
            index,
        }
    }

    /// The key column's name in both tables.
    fn key(&self) -> &'static str {
        match self.key {
            Key::Rowid => "rowid",
            _ => "id",
        }
    }

    fn vec0_sql(&self) -> String {
        let key = match self.key {
            Key::Integer => "id integer primary key, ",
            Key::Text => "id text primary key, ",
            Key::Rowid => "",
        };
        let column = match self.element {
            Element::Float32 => format!("float[4] distance_metric={}", self.metric),
            Element::Int8 => format!("int8[4] distance_metric={}", self.metric),
            Element::Bit => "bit[8]".to_string(),
        } + self.index;
        format!(
            "create virtual table v using vec0({key}emb {column}, p integer partition key, \
             n integer, t text, b boolean, f float, +aux text, chunk_size=8)"
        )
    }

    fn model_sql(&self) -> String {
        let key = match self.key {
            Key::Integer => "id integer primary key, ",
            Key::Text => "id text primary key not null, ",
            Key::Rowid => "",
        };
        format!(
            "create table m({key}emb blob not null, p integer not null, n integer not null, \
             t text not null, b integer not null, f real not null, aux text)"
        )
    }

    /// The brute-force distance of `m.emb` to the query `?1`, as SQL.
    fn distance_sql(&self) -> String {
        match self.element {
            Element::Float32 => format!("vec_distance_{}(emb, ?1)", self.metric),
            Element::Int8 => format!("vec_distance_{}(vec_int8(emb), vec_int8(?1))", self.metric),
            Element::Bit => "vec_distance_hamming(vec_bit(emb), vec_bit(?1))".to_string(),
        }
    }

    fn key_value(&self, c: &mut Choices<'_>) -> Value {
        let n = 1 + c.below(16) as i64;
        match self.key {
            Key::Text => Value::Text(format!("k{n}")),
            _ => Value::Integer(n),
        }
    }

    /// A vector with elements in -3..=3 (or 8 random bits), as the bytes both tables store.
    fn vector(&self, c: &mut Choices<'_>) -> Value {
        Value::Blob(match self.element {
            Element::Float32 => (0..4)
                .flat_map(|_| ((c.below(7) as f32) - 3.0).to_le_bytes())
                .collect(),
            Element::Int8 => (0..4).map(|_| (c.below(7) as i8 - 3) as u8).collect(),
            Element::Bit => vec![c.byte()],
        })
    }
}

const TAGS: [&str; 6] = [
    "",
    "a",
    "b",
    "exactly12byt",
    "a text longer than twelve bytes 1",
    "a text longer than twelve bytes 2",
];
const FLOATS: [f64; 4] = [-1.5, 0.0, 0.25, 2.0];

/// The non-key columns, in the order of [`row`].
const COLUMNS: [&str; 7] = ["emb", "p", "n", "t", "b", "f", "aux"];

fn column_value(config: &Config, column: usize, c: &mut Choices<'_>) -> Value {
    match column {
        0 => config.vector(c),
        1 => Value::Integer(c.below(3) as i64),
        2 => Value::Integer(c.below(7) as i64 - 3),
        3 => Value::Text(TAGS[c.below(TAGS.len())].to_string()),
        4 => Value::Integer(c.below(2) as i64),
        5 => Value::Real(FLOATS[c.below(FLOATS.len())]),
        _ => match c.below(3) {
            0 => Value::Null,
            n => Value::Text(format!("aux {n}")),
        },
    }
}

fn row(config: &Config, c: &mut Choices<'_>) -> Vec<Value> {
    (0..COLUMNS.len())
        .map(|i| column_value(config, i, c))
        .collect()
}

/// What a KNN query that walks an ANN graph must return.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnnCheck {
    /// Real rows that pass the filters, at their exact distances, in order, as many as
    /// brute force finds: what vec0 documents for an approximate index.
    Sound,
    /// Exactly the brute-force answer. Tables here have at most a few dozen rows and walks use
    /// `ef_search = 256`, so a walk that visits every reachable node is exact: a miss means a
    /// row the graph cannot reach.
    Exact,
}

struct Diff {
    conn: Connection,
    config: Config,
    ann: AnnCheck,
    /// Every statement run so far, for the failure message.
    log: Vec<String>,
}

impl Diff {
    fn fail(&self, what: String) -> ! {
        panic!(
            "vec0 and the model disagree: {what}\nconfig: {:?}\nstatements:\n{}",
            self.config,
            self.log.join("\n")
        )
    }

    /// Runs `template` (with `{T}` for the table) on `v` then on `m`; both must succeed or
    /// both fail.
    fn both(&mut self, template: &str, params: &[Value]) {
        let (on_v, on_m) = (template.replace("{T}", "v"), template.replace("{T}", "m"));
        self.log.push(format!("{on_v}  -- {params:?}"));
        let rv = sql::execute(&self.conn, &on_v, rusqlite::params_from_iter(params));
        let rm = sql::execute(&self.conn, &on_m, rusqlite::params_from_iter(params));
        match (&rv, &rm) {
            (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
            _ => self.fail(format!("{on_v}: vec0 {rv:?}, model {rm:?}")),
        }
    }

    /// One statement on both tables (each is one SQL statement, so the transaction state
    /// is shared); errors such as "no such savepoint" are the same for both.
    fn control(&mut self, sql_text: &str) {
        self.log.push(sql_text.to_string());
        let _ = sql::execute(&self.conn, sql_text, []);
    }

    fn rows(&self, sql_text: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, String> {
        sql::query(&self.conn, sql_text, rusqlite::params_from_iter(params))
    }

    fn insert(&mut self, c: &mut Choices<'_>) {
        let verb = ["insert", "insert or replace", "insert or ignore"][c.below(3)];
        let auto = self.config.key != Key::Text && c.below(4) == 0;
        let values = row(&self.config, c);
        let columns = COLUMNS.join(", ");
        if auto {
            // The key is chosen by vec0; the model gets the same one.
            let sql_v = format!("insert into v({columns}) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            self.log.push(format!("{sql_v}  -- {values:?}"));
            if let Err(e) = sql::execute(&self.conn, &sql_v, rusqlite::params_from_iter(&values)) {
                self.fail(format!("{sql_v}: automatic key refused: {e}"));
            }
            let id = self.conn.last_insert_rowid();
            let key = self.config.key();
            let sql_m =
                format!("insert into m({key}, {columns}) values (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            let mut params = values;
            params.push(Value::Integer(id));
            if let Err(e) = sql::execute(&self.conn, &sql_m, rusqlite::params_from_iter(&params)) {
                self.fail(format!("vec0 chose key {id}, which the model refuses: {e}"));
            }
            return;
        }
        let n_rows = if c.below(4) == 0 { 2 + c.below(2) } else { 1 };
        let mut params = Vec::new();
        let mut tuples = Vec::new();
        for r in 0..n_rows {
            params.push(self.config.key_value(c));
            params.extend(row(&self.config, c));
            let base = r * 8;
            tuples.push(format!(
                "({})",
                (1..=8)
                    .map(|i| format!("?{}", base + i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let key = self.config.key();
        let template = format!(
            "{verb} into {{T}}({key}, {columns}) values {}",
            tuples.join(", ")
        );
        self.both(&template, &params);
    }

    fn update(&mut self, c: &mut Choices<'_>) {
        let key = self.config.key();
        match c.below(3) {
            0 => {
                // One or two columns of one row.
                let first = c.below(COLUMNS.len());
                let second = c.below(COLUMNS.len());
                let mut params = vec![column_value(&self.config, first, c)];
                let mut sets = format!("{} = ?1", COLUMNS[first]);
                if second != first {
                    params.push(column_value(&self.config, second, c));
                    sets.push_str(&format!(", {} = ?2", COLUMNS[second]));
                }
                params.push(self.config.key_value(c));
                let template = format!("update {{T}} set {sets} where {key} = ?{}", params.len());
                self.both(&template, &params);
            }
            1 => {
                // Many rows, chosen by a metadata or partition filter.
                let column = c.below(COLUMNS.len());
                let params = vec![
                    column_value(&self.config, column, c),
                    Value::Integer(c.below(3) as i64),
                ];
                let filter = ["p = ?2", "n >= ?2", "b = ?2 % 2"][c.below(3)];
                let template = format!("update {{T}} set {} = ?1 where {filter}", COLUMNS[column]);
                self.both(&template, &params);
            }
            _ => {
                // The key itself (may collide with another row: both must refuse).
                let params = vec![self.config.key_value(c), self.config.key_value(c)];
                let template = format!("update {{T}} set {key} = ?1 where {key} = ?2");
                self.both(&template, &params);
            }
        }
    }

    fn delete(&mut self, c: &mut Choices<'_>) {
        let key = self.config.key();
        match c.below(4) {
            0 | 1 => {
                let params = vec![self.config.key_value(c)];
                self.both(&format!("delete from {{T}} where {key} = ?1"), &params);
            }
            2 => {
                let filter = ["p = ?1", "n >= ?1", "t = 'a'", "b = ?1 % 2"][c.below(4)];
                let params = vec![Value::Integer(c.below(4) as i64 - 1)];
                self.both(&format!("delete from {{T}} where {filter}"), &params);
            }
            _ => {
                if c.below(4) == 0 {
                    self.both("delete from {T}", &[]);
                }
            }
        }
    }

    fn knn(&mut self, c: &mut Choices<'_>) {
        let key = self.config.key();
        let query = self.config.vector(c);
        let k = c.below(13) as i64;
        let mut params = vec![query, Value::Integer(k)];
        let mut filters = String::new();
        let mut model_filters = String::new();
        let n_filters = c.below(4);
        for _ in 0..n_filters {
            let i = params.len() + 1;
            let (text, values): (String, Vec<Value>) = match c.below(11) {
                0 => (format!("p = ?{i}"), vec![Value::Integer(c.below(3) as i64)]),
                1 => (
                    format!("n >= ?{i}"),
                    vec![Value::Integer(c.below(7) as i64 - 3)],
                ),
                2 => (
                    format!("n < ?{i}"),
                    vec![Value::Integer(c.below(7) as i64 - 3)],
                ),
                3 => (
                    format!("n != ?{i}"),
                    vec![Value::Integer(c.below(7) as i64 - 3)],
                ),
                4 => (
                    format!("t = ?{i}"),
                    vec![Value::Text(TAGS[c.below(TAGS.len())].into())],
                ),
                5 => (
                    format!("t in (?{i}, ?{})", i + 1),
                    vec![
                        Value::Text(TAGS[c.below(TAGS.len())].into()),
                        Value::Text(TAGS[c.below(TAGS.len())].into()),
                    ],
                ),
                6 => (
                    format!("t > ?{i}"),
                    vec![Value::Text(TAGS[c.below(TAGS.len())].into())],
                ),
                7 => (format!("b = ?{i}"), vec![Value::Integer(c.below(2) as i64)]),
                8 => (
                    format!("f <= ?{i}"),
                    vec![Value::Real(FLOATS[c.below(FLOATS.len())])],
                ),
                9 => (
                    format!("{key} in (?{i}, ?{}, ?{})", i + 1, i + 2),
                    vec![
                        self.config.key_value(c),
                        self.config.key_value(c),
                        self.config.key_value(c),
                    ],
                ),
                _ => {
                    // A distance bound (range search): on the model, the same bound on the
                    // brute-force distance.
                    let op = ["<", "<=", ">", ">="][c.below(4)];
                    let bound = [-4.0, 0.0, 2.0, 3.5, 6.0][c.below(5)];
                    filters.push_str(&format!(" and distance {op} ?{i}"));
                    model_filters
                        .push_str(&format!(" and {} {op} ?{i}", self.config.distance_sql()));
                    params.push(Value::Real(bound));
                    continue;
                }
            };
            filters.push_str(" and ");
            filters.push_str(&text);
            model_filters.push_str(" and ");
            model_filters.push_str(&text);
            params.extend(values);
        }
        // With an index: walk the graph (ef_search above the row count must find every row),
        // or let vec0 choose, or force the exact scan.
        let options = if self.config.index.is_empty() {
            ""
        } else {
            [" and ef_search = 256", "", " and exact = 1"][c.below(3)]
        };
        let knn_sql = if c.flag() {
            format!("select {key}, distance from v where emb match ?1 and k = ?2{filters}{options} order by distance")
        } else {
            format!("select {key}, distance from v where emb match ?1{filters}{options} order by distance limit ?2")
        };
        let tie = if self.config.key == Key::Text {
            "rowid"
        } else {
            key
        };
        let model_sql = format!(
            "select {key}, {} as d from m where ?2 = ?2{model_filters} order by d, {tie}",
            self.config.distance_sql()
        );
        self.log.push(format!("{knn_sql}  -- {params:?}"));
        let got = match self.rows(&knn_sql, &params) {
            Ok(rows) => rows,
            Err(e) => self.fail(format!("{knn_sql}: {e}")),
        };
        let all = self
            .rows(&model_sql, &params)
            .unwrap_or_else(|e| self.fail(format!("model query {model_sql}: {e}")));
        let want: Vec<Vec<Value>> = all.iter().take(k as usize).cloned().collect();
        let distance = |v: &Value| match v {
            Value::Real(f) => *f,
            Value::Integer(i) => *i as f64,
            other => self.fail(format!("distance {other:?}")),
        };
        if got.len() != want.len() {
            self.fail(format!(
                "{knn_sql}: {} rows, brute force {}: {got:?} vs {want:?}",
                got.len(),
                want.len()
            ));
        }
        let got_d: Vec<f64> = got.iter().map(|r| distance(&r[1])).collect();
        let want_d: Vec<f64> = want.iter().map(|r| distance(&r[1])).collect();
        // A graph walk (any indexed query not forced to scan) is approximate unless the check
        // asks for exact answers: then it must still return real, matching rows at their true
        // distances, in order, min(k, matching) of them.
        let approximate = !self.config.index.is_empty()
            && options != " and exact = 1"
            && self.ann == AnnCheck::Sound;
        if approximate {
            if got_d.windows(2).any(|w| w[0] > w[1]) {
                self.fail(format!("{knn_sql}: distances out of order {got_d:?}"));
            }
        } else if got_d != want_d {
            self.fail(format!(
                "{knn_sql}: distances {got_d:?}, brute force {want_d:?}"
            ));
        }
        for r in &got {
            match all.iter().find(|m| m[0] == r[0]) {
                Some(m) if distance(&m[1]) == distance(&r[1]) => {}
                other => self.fail(format!("{knn_sql}: row {r:?} is not the model's {other:?}")),
            }
        }
        let mut keys: Vec<String> = got.iter().map(|r| format!("{:?}", r[0])).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != got.len() {
            self.fail(format!("{knn_sql}: duplicate rows {got:?}"));
        }
        // With numeric keys ties are broken by key, so the order is fully determined.
        let got_keys: Vec<&Value> = got.iter().map(|r| &r[0]).collect();
        let want_keys: Vec<&Value> = want.iter().map(|r| &r[0]).collect();
        if !approximate && self.config.key != Key::Text && got_keys != want_keys {
            self.fail(format!("{knn_sql}: {got:?}, brute force {want:?}"));
        }
    }

    fn transaction(&mut self, c: &mut Choices<'_>) {
        let n = c.below(3);
        let statement = match c.below(6) {
            0 | 1 => format!("savepoint s{n}"),
            2 => format!("release s{n}"),
            3 => format!("rollback to s{n}"),
            4 => ["begin", "commit", "rollback"][c.below(3)].to_string(),
            _ => "commit".to_string(),
        };
        self.control(&statement);
    }

    fn optimize(&mut self) {
        let sql_text = "insert into v(v) values ('optimize')";
        self.log.push(sql_text.to_string());
        if let Err(e) = sql::execute(&self.conn, sql_text, []) {
            self.fail(format!("optimize: {e}"));
        }
    }

    /// Both tables hold the same rows, and point lookups by key agree.
    fn compare(&mut self, c: &mut Choices<'_>) {
        let key = self.config.key();
        let columns = COLUMNS.join(", ");
        let v = self.rows(
            &format!("select {key}, {columns} from v order by {key}"),
            &[],
        );
        let m = self.rows(
            &format!("select {key}, {columns} from m order by {key}"),
            &[],
        );
        match (&v, &m) {
            (Ok(a), Ok(b)) if a == b => {}
            _ => self.fail(format!("contents differ:\nvec0  {v:?}\nmodel {m:?}")),
        }
        let probe = vec![self.config.key_value(c)];
        let v = self.rows(
            &format!("select {key}, {columns} from v where {key} = ?1"),
            &probe,
        );
        let m = self.rows(
            &format!("select {key}, {columns} from m where {key} = ?1"),
            &probe,
        );
        if v != m {
            self.fail(format!("lookup {probe:?}: vec0 {v:?}, model {m:?}"));
        }
    }
}

/// The fuzz target: ANN answers are checked for soundness (see [`AnnCheck`]).
pub fn sql_diff(data: &[u8]) {
    run(data, AnnCheck::Sound);
}

/// The same run, with graph walks held to the exact answer.
pub fn sql_diff_exact_ann(data: &[u8]) {
    run(data, AnnCheck::Exact);
}

fn run(data: &[u8], ann: AnnCheck) {
    let mut c = Choices::new(data);
    let config = Config::from(&mut c);
    let conn = sql::connection();
    if let Err(e) = conn.execute_batch(&config.vec0_sql()) {
        // Some index options exclude some metrics (int8/binary quantizers and L1, say).
        assert!(!config.index.is_empty(), "{}: {e}", config.vec0_sql());
        return;
    }
    conn.execute_batch(&config.model_sql())
        .expect("model table");
    let mut diff = Diff {
        conn,
        config,
        ann,
        log: vec![config.vec0_sql()],
    };
    let mut ops = 0;
    while !c.done() && ops < 64 {
        ops += 1;
        match c.below(16) {
            0..=3 => diff.insert(&mut c),
            4..=6 => diff.update(&mut c),
            7..=8 => diff.delete(&mut c),
            9..=11 => diff.knn(&mut c),
            12..=13 => diff.transaction(&mut c),
            14 => diff.optimize(),
            _ => {}
        }
        diff.compare(&mut c);
    }
    // Whatever transaction is open is committed or rolled back; both tables must agree after
    // either, and the shadow tables must pass vec0's own integrity check.
    let end = if c.flag() { "commit" } else { "rollback" };
    diff.control(end);
    diff.compare(&mut c);
    let integrity = diff.rows("pragma integrity_check", &[]);
    if integrity != Ok(vec![vec![Value::Text("ok".into())]]) {
        diff.fail(format!("integrity_check: {integrity:?}"));
    }
}
