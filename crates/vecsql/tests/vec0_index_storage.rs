//! The index in the file: reopen, one node row per vector, drop, rename, defensive mode,
//! damaged tables, `vec_index_status`, and byte-identical tables from the same statements.

mod vec0_support;

#[allow(unused_imports)]
use std::collections::{BTreeMap, HashSet};

#[allow(unused_imports)]
use rusqlite::config::DbConfig;
#[allow(unused_imports)]
use rusqlite::types::Value;
#[allow(unused_imports)]
use rusqlite::{params, Connection};
use vec0_support::index::*;
use vec0_support::*;

// ---------------------------------------------------------------------------------------------
// Persistence and the shadow tables

#[test]
fn index_is_stored_in_the_file_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idx.db");
    let dims = 8;
    let mut rng = Rng::new(17);
    let mut rows = gaussian_rows(&mut rng, 600, dims);
    let qs = queries(&mut rng, 30, dims);
    let before: Vec<Vec<(i64, f64)>>;
    let tables_before;
    {
        let conn = open(&path);
        create(
            &conn,
            "t",
            &format!("emb float[{dims}] indexed by hnsw(ef_construction=64)"),
        );
        fill(&conn, "t", &rows);
        exec(&conn, "delete from t where rowid % 7 = 0");
        rows.retain(|r, _| r % 7 != 0);
        assert_eq!(node_rowids(&conn, "t"), table_rowids(&conn, "t"));
        // Besides these, the change log: `log:<generation>` rows (see vec0_index_scale.rs).
        let keys: Vec<String> = rows_with(
            &conn,
            "select key from t_hnsw00_meta where key not like 'log:%' order by key",
            [],
        )
        .iter()
        .map(|r| text(&r[0]).to_string())
        .collect();
        assert_eq!(keys, ["config", "generation", "header"]);
        before = qs
            .iter()
            .map(|q| walk_knn(&conn, "t", "emb", &blob(q), 10, ""))
            .collect();
        tables_before = index_tables(&conn, "t", 0);
    }
    let conn = open(&path);
    // The first query after reopening answers from the stored graph, identically.
    for (q, b) in qs.iter().zip(&before) {
        assert_eq!(&walk_knn(&conn, "t", "emb", &blob(q), 10, ""), b);
    }
    // Reading did not rewrite the index.
    assert_eq!(index_tables(&conn, "t", 0), tables_before);
    let r = oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
    assert!(r >= 0.95, "recall after reopen {r}");
    // Writes continue on the loaded graph.
    let more: Rows = (1001..=1100).map(|i| (i, rng.vector(dims))).collect();
    fill(&conn, "t", &more);
    rows.extend(more);
    assert_eq!(node_rowids(&conn, "t"), table_rowids(&conn, "t"));
    let r = oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
    assert!(r >= 0.95, "recall after more inserts {r}");
    assert_every_row_findable(&conn, "t", &rows);
}

#[test]
fn one_node_row_per_vector_through_every_kind_of_write() {
    let conn = db();
    create(
        &conn,
        "t",
        "emb float[4] indexed by hnsw(ef_construction=32), p integer partition key, chunk_size=8",
    );
    let check = |step: &str| {
        assert_eq!(
            node_rowids(&conn, "t"),
            table_rowids(&conn, "t"),
            "after {step}"
        );
    };
    check("create");
    exec(
        &conn,
        "insert into t(rowid, emb, p) values (1, '[1, 0, 0, 0]', 0)",
    );
    check("first insert");
    let links = rows(&conn, "select links from t_hnsw00_nodes");
    assert!(matches!(&links[0][0], Value::Blob(b) if !b.is_empty()));
    for i in 2..=60 {
        conn.execute(
            "insert into t(rowid, emb, p) values (?, ?, ?)",
            params![
                i,
                f32_blob(&[i as f32, (i % 5) as f32, 1.0, -(i as f32)]),
                i % 3
            ],
        )
        .unwrap();
    }
    check("inserts");
    exec(&conn, "delete from t where rowid % 4 = 0");
    check("deletes");
    exec(
        &conn,
        "update t set emb = '[9, 9, 9, 9]' where rowid % 5 = 0",
    );
    check("vector updates");
    exec(&conn, "update t set p = 7 where rowid % 3 = 0");
    check("partition moves");
    exec(
        &conn,
        "update t set rowid = rowid + 1000 where rowid between 10 and 14",
    );
    check("key changes");
    exec(&conn, "insert or replace into t(rowid, emb, p) values (1, '[0, 1, 0, 0]', 1), (500, '[0, 0, 1, 0]', 2)");
    check("insert or replace");
    exec(&conn, "insert into t(t) values ('optimize')");
    check("optimize");
    exec(&conn, "insert into t(t) values ('rebuild-index')");
    check("rebuild-index");
    exec(&conn, "delete from t");
    check("delete all");
    assert_eq!(int(&conn, "select count(*) from t_hnsw00_nodes"), 0);
    // An empty index answers with nothing, and takes rows again.
    assert!(walk_knn(&conn, "t", "emb", &blob(&[1.0, 0.0, 0.0, 0.0]), 5, "").is_empty());
    exec(
        &conn,
        "insert into t(rowid, emb, p) values (3, '[1, 0, 0, 0]', 0)",
    );
    check("insert into the emptied table");
    assert_eq!(
        walk_knn(&conn, "t", "emb", &blob(&[1.0, 0.0, 0.0, 0.0]), 5, ""),
        [(3, 0.0)]
    );
}

#[test]
fn drop_table_removes_the_index_tables() {
    let conn = db();
    create(
        &conn,
        "t",
        "emb float[4] indexed by hnsw(), other float[2] indexed by hnsw()",
    );
    exec(
        &conn,
        "insert into t(rowid, emb, other) values (1, '[1, 2, 3, 4]', '[1, 1]')",
    );
    let shadows = shadow_tables(&conn, "t");
    for name in [
        "t_hnsw00_nodes",
        "t_hnsw00_meta",
        "t_hnsw01_nodes",
        "t_hnsw01_meta",
    ] {
        assert!(shadows.contains(&name.to_string()), "{shadows:?}");
    }
    exec(&conn, "drop table t");
    assert_eq!(shadow_tables(&conn, "t"), Vec::<String>::new());
    // The name is free again, with or without an index.
    create(&conn, "t", "emb float[4] indexed by hnsw()");
    exec(
        &conn,
        "insert into t(rowid, emb) values (1, '[1, 2, 3, 4]')",
    );
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[1,2,3,4]' and k = 1"
        ),
        [1]
    );
}

#[test]
fn only_the_indexed_column_gets_index_tables_named_after_its_position() {
    let conn = db();
    create(
        &conn,
        "t",
        "a float[2], emb float[4] distance_metric=cosine indexed by hnsw(ef_construction=32)",
    );
    let shadows = shadow_tables(&conn, "t");
    assert!(
        shadows.contains(&"t_hnsw01_nodes".to_string()),
        "{shadows:?}"
    );
    assert!(
        !shadows.iter().any(|s| s.starts_with("t_hnsw00")),
        "{shadows:?}"
    );
    let mut rng = Rng::new(4);
    let mut rows = Rows::new();
    for i in 1..=300 {
        let v = rng.vector(4);
        conn.execute(
            "insert into t(rowid, a, emb) values (?, ?, ?)",
            params![i, f32_blob(&rng.vector(2)), f32_blob(&v)],
        )
        .unwrap();
        rows.insert(i, v);
    }
    assert_eq!(
        ints(&conn, "select rowid from t_hnsw01_nodes order by rowid"),
        (1..=300).collect::<Vec<_>>()
    );
    let qs = queries(&mut rng, 20, 4);
    let r = oracle_recall(&conn, "t", &rows, Metric::Cosine, &qs, 10, "");
    assert!(r >= 0.95, "{r}");
    // Updating only the unindexed column leaves the index alone.
    let before = index_tables(&conn, "t", 1);
    exec(&conn, "update t set a = '[5, 5]' where rowid < 50");
    assert_eq!(index_tables(&conn, "t", 1), before);
}

#[test]
fn rename_keeps_the_index_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rename.db");
    let mut rng = Rng::new(8);
    let mut rows = gaussian_rows(&mut rng, 300, 6);
    let qs = queries(&mut rng, 20, 6);
    {
        let conn = open(&path);
        create(
            &conn,
            "t",
            "emb float[6] indexed by hnsw(ef_construction=32)",
        );
        fill(&conn, "t", &rows);
        // Query first, so the renamed table has a cached graph.
        oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
        exec(&conn, "alter table t rename to u");
        let shadows = shadow_tables(&conn, "u");
        assert!(
            shadows.contains(&"u_hnsw00_nodes".to_string()),
            "{shadows:?}"
        );
        assert!(
            shadows.contains(&"u_hnsw00_meta".to_string()),
            "{shadows:?}"
        );
        assert_eq!(shadow_tables(&conn, "t"), Vec::<String>::new());
        let r = oracle_recall(&conn, "u", &rows, Metric::L2, &qs, 10, "");
        assert!(r >= 0.95, "{r}");
        // Writes go to the renamed index tables.
        exec(&conn, "delete from u where rowid <= 100");
        rows.retain(|r, _| *r > 100);
        let more: Rows = (1001..=1050).map(|i| (i, rng.vector(6))).collect();
        fill(&conn, "u", &more);
        rows.extend(more);
        assert_eq!(node_rowids(&conn, "u"), table_rowids(&conn, "u"));
        let r = oracle_recall(&conn, "u", &rows, Metric::L2, &qs, 10, "");
        assert!(r >= 0.95, "{r}");
    }
    let conn = open(&path);
    let r = oracle_recall(&conn, "u", &rows, Metric::L2, &qs, 10, "");
    assert!(r >= 0.95, "{r}");
    assert_every_row_findable(&conn, "u", &rows);
}

#[test]
fn index_tables_are_read_only_in_defensive_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("def.db");
    {
        let conn = open(&path);
        create(&conn, "t", "emb float[2] indexed by hnsw()");
        exec(
            &conn,
            "insert into t(rowid, emb) values (1, '[1, 0]'), (2, '[0, 1]')",
        );
    }
    let conn = open(&path);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .unwrap();
    exec(&conn, "select count(*) from t");
    for sql in [
        "delete from t_hnsw00_nodes",
        "update t_hnsw00_nodes set links = x''",
        "insert into t_hnsw00_nodes(rowid, links) values (9, x'00')",
        "update t_hnsw00_meta set value = 0 where key = 'generation'",
        "delete from t_hnsw00_meta",
    ] {
        let message = error(&conn, sql);
        assert!(message.contains("may not be modified"), "{sql}: {message}");
    }
    let message = error(&conn, "drop table t_hnsw00_nodes");
    assert!(message.contains("may not be dropped"), "{message}");
    // The table itself still maintains its index.
    exec(
        &conn,
        "insert into t(rowid, emb) values (3, '[1, 1]'); delete from t where rowid = 1",
    );
    assert_eq!(node_rowids(&conn, "t"), [2, 3]);
    assert_eq!(
        ints(
            &conn,
            "select rowid from t where emb match '[1, 0.9]' and k = 3"
        ),
        [3, 2]
    );
}

#[test]
fn damaged_or_emptied_index_tables_are_repaired_or_reported() {
    let conn = db();
    create(
        &conn,
        "t",
        "emb float[4] indexed by hnsw(ef_construction=32)",
    );
    let mut rng = Rng::new(31);
    let rows = gaussian_rows(&mut rng, 200, 4);
    fill(&conn, "t", &rows);
    let qs = queries(&mut rng, 10, 4);
    let built = index_tables(&conn, "t", 0)[0].clone();
    // Emptied index tables (no header, no nodes): the rows are linked again, in rowid
    // order, and 'rebuild-index' writes the same graph a fresh build would.
    exec(
        &conn,
        "delete from t_hnsw00_nodes; delete from t_hnsw00_meta where key = 'header';
                 update t_hnsw00_meta set value = value + 1 where key = 'generation'",
    );
    let r = oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
    assert!(r >= 0.95, "{r}");
    exec(&conn, "insert into t(t) values ('rebuild-index')");
    assert_eq!(index_tables(&conn, "t", 0)[0], built);
    // A damaged node row: the error names the table and the way out.
    exec(
        &conn,
        "update t_hnsw00_nodes set links = x'ff' where rowid = 5;
                 update t_hnsw00_meta set value = value + 1 where key = 'generation'",
    );
    let message = error(
        &conn,
        "select rowid from t where emb match '[1,2,3,4]' and k = 3",
    );
    assert!(
        message.contains("damaged") && message.contains("rebuild-index"),
        "{message}"
    );
    exec(&conn, "insert into t(t) values ('rebuild-index')");
    assert_eq!(index_tables(&conn, "t", 0)[0], built);
    let r = oracle_recall(&conn, "t", &rows, Metric::L2, &qs, 10, "");
    assert!(r >= 0.95, "{r}");
}

#[test]
fn vec_index_status_counts_the_indexed_rows() {
    let conn = db();
    create(&conn, "t", "emb float[4] indexed by hnsw(m=8)");
    exec(
        &conn,
        "insert into t(rowid, emb) values (1, '[1,0,0,0]'), (2, '[0,1,0,0]'), (3, '[0,0,1,0]')",
    );
    let status = text(&one(&conn, "select vec_index_status('t')")).to_string();
    for want in [
        "\"rows\":3",
        "\"indexed\":3",
        "\"state\":\"ready\"",
        "\"m\":8",
    ] {
        assert!(status.contains(want), "{status} lacks {want}");
    }
    exec(&conn, "delete from t where rowid = 2");
    let status = text(&one(&conn, "select vec_index_status('t')")).to_string();
    assert!(status.contains("\"indexed\":2"), "{status}");
}

// ---------------------------------------------------------------------------------------------
// Determinism

/// One sequence of statements of every kind, with a hook between its halves.
fn scripted_workload(
    conn: &Connection,
    index: &str,
    between: &dyn Fn(&Connection) -> Option<Connection>,
) -> Option<Connection> {
    let mut rng = Rng::new(107);
    create(
        conn,
        "t",
        &format!("emb float[6] distance_metric=cosine indexed by {index}, cat integer, p integer partition key, chunk_size=16"),
    );
    let insert = |conn: &Connection, rng: &mut Rng, from: i64, to: i64| {
        for i in from..=to {
            conn.execute(
                "insert into t(rowid, emb, cat, p) values (?, ?, ?, ?)",
                params![i, f32_blob(&rng.vector(6)), i % 7, i % 3],
            )
            .unwrap();
        }
    };
    insert(conn, &mut rng, 1, 120);
    // Duplicates.
    for i in 201..=230 {
        conn.execute(
            "insert into t(rowid, emb, cat, p) values (?, '[1,2,3,4,5,6]', 0, 0)",
            [i],
        )
        .unwrap();
    }
    exec(conn, "delete from t where rowid % 5 = 0; update t set emb = '[6,5,4,3,2,1]' where rowid % 11 = 0");
    let replaced = between(conn);
    let conn = replaced.as_ref().unwrap_or(conn);
    exec(
        conn,
        "update t set p = 9 where rowid % 13 = 0; insert into t(t) values ('optimize')",
    );
    exec(conn, "begin");
    insert(conn, &mut rng, 300, 320);
    exec(conn, "rollback");
    insert(conn, &mut rng, 400, 450);
    let _ = conn.execute(
        "insert into t(rowid, emb, cat, p) values (401, '[1,1,1,1,1,1]', 0, 0)",
        [],
    );
    exec(conn, "update t set rowid = rowid + 1000 where rowid between 100 and 110; delete from t where rowid between 215 and 225");
    replaced
}

#[test]
fn the_same_statements_build_byte_identical_index_tables() {
    for index in [
        "hnsw(m=6, ef_construction=24)",
        "hnsw(m=6, ef_construction=24, quantizer=int8)",
        "hnsw(m=6, ef_construction=24, quantizer=binary)",
    ] {
        let a = db();
        scripted_workload(&a, index, &|_| None);
        let ta = index_tables(&a, "t", 0);
        assert!(!ta[0].is_empty());
        let b = db();
        scripted_workload(&b, index, &|_| None);
        assert_eq!(
            ta,
            index_tables(&b, "t", 0),
            "{index}: two fresh in-memory databases"
        );
        // A connection closed and reopened half way (its cache rebuilt from the tables after a
        // warm one was used) must not change what is written either: replicas of a
        // statement-replicating engine restart at arbitrary points.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("det.db");
        let c = open(&path);
        // Durability is not under test: no fsync per statement.
        exec(&c, "pragma synchronous = off");
        let reopened = scripted_workload(&c, index, &|conn| {
            walk_knn(conn, "t", "emb", &blob(&[1.0; 6]), 5, "");
            let fresh = open(&path);
            exec(&fresh, "pragma synchronous = off");
            Some(fresh)
        });
        drop(c);
        let c = reopened.expect("reopened");
        assert_eq!(
            ta,
            index_tables(&c, "t", 0),
            "{index}: a database reopened half way"
        );
    }
}
