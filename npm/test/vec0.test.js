"use strict";
// vec0 tables through better-sqlite3 with vecsql from the packed package: inserts from
// Float32Arrays, KNN with metadata and partition filters, an HNSW-indexed table, int8 and
// cosine columns, and libSQL's vector functions, all checked against brute force in JS.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { Database, vecsql, engines, rng, randomVector, bruteForce, assertNeighbours, close } = require("./helpers");
// better-sqlite3 binds every JS number as a REAL; vec0 (vecsql and sqlite-vec alike) wants
// INTEGER ids and INTEGER metadata values, so those are bound as BigInt.

const DIMS = 8;
const CATEGORIES = ["news", "blog", "paper"];

function makeRows(n, seed) {
  const next = rng(seed);
  const rows = [];
  for (let id = 1; id <= n; id++) {
    rows.push({
      id,
      vector: randomVector(next, DIMS),
      category: CATEGORIES[Math.floor(next() * CATEGORIES.length)],
      year: 2000 + Math.floor(next() * 25),
      score: Math.round(next() * 1000) / 1000,
      label: `item ${id}`,
    });
  }
  return rows;
}

function openWithItems(rows, column = `embedding float[${DIMS}]`, engine = engines[0]) {
  const db = engine.open();
  db.exec(`create virtual table items using vec0(
    id integer primary key, ${column},
    category text partition key, year integer, score float, +label text)`);
  const insert = db.prepare("insert into items(id, embedding, category, year, score, label) values (?, ?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (const r of rows) {
      // Half bound as Float32Array, half through serializeFloat32(): both are float32 blobs.
      const blob = r.id % 2 ? r.vector : vecsql.serializeFloat32(r.vector);
      insert.run(BigInt(r.id), blob, r.category, BigInt(r.year), r.score, r.label);
    }
  })();
  return db;
}

const rows = makeRows(300, 1);
const queries = [0, 1, 2, 3].map((i) => randomVector(rng(100 + i), DIMS));

for (const engine of engines) {
test(`vec0 (${engine.name}): plain KNN equals brute force, with k = ? and LIMIT`, { skip: engine.skip }, () => {
  const db = openWithItems(rows, undefined, engine);
  assert.equal(db.prepare("select count(*) as n from items").get().n, rows.length);
  const byK = db.prepare("select id, distance, label from items where embedding match ? and k = ? order by distance");
  const byLimit = db.prepare("select id, distance from items where embedding match ? order by distance limit ?");
  for (const q of queries) {
    const expected = bruteForce(rows, q, 10);
    const got = byK.all(q, 10);
    assertNeighbours(got, expected, "k = 10");
    assert.deepEqual(got.map((r) => r.label), expected.map((r) => `item ${r.id}`));
    assertNeighbours(byLimit.all(q, 7), expected.slice(0, 7), "limit 7");
  }
  db.close();
});

test(`vec0 (${engine.name}): KNN with metadata and partition filters equals filtered brute force`, { skip: engine.skip }, () => {
  const db = openWithItems(rows, undefined, engine);
  const cases = [
    { sql: "year >= 2015", params: [], filter: (r) => r.year >= 2015 },
    { sql: "category = ?", params: ["blog"], filter: (r) => r.category === "blog" },
    { sql: "category = ? and year between ? and ?", params: ["paper", 2005, 2012], filter: (r) => r.category === "paper" && r.year >= 2005 && r.year <= 2012 },
    { sql: "score < ? and category != ?", params: [0.5, "news"], filter: (r) => r.score < 0.5 && r.category !== "news" },
    { sql: "year in (2001, 2010, 2020)", params: [], filter: (r) => [2001, 2010, 2020].includes(r.year) },
    { sql: "year = ?", params: [2010n], filter: (r) => r.year === 2010 },
  ];
  for (const c of cases) {
    const stmt = db.prepare(`select id, distance from items where embedding match ? and k = 8 and ${c.sql} order by distance`);
    for (const q of queries) {
      assertNeighbours(stmt.all(q, ...c.params), bruteForce(rows, q, 8, { filter: c.filter }), c.sql);
    }
  }
  db.close();
});
}

test("vec0: updates and deletes are seen by the next KNN", () => {
  const local = makeRows(60, 2);
  const db = openWithItems(local);
  const q = queries[0];
  const nearest = bruteForce(local, q, 1)[0].id;
  db.prepare("delete from items where id = ?").run(nearest);
  const moved = local.find((r) => r.id === 7);
  moved.vector = Float32Array.from(q);
  db.prepare("update items set embedding = ? where id = ?").run(moved.vector, 7n);
  const remaining = local.filter((r) => r.id !== nearest);
  const got = db.prepare("select id, distance from items where embedding match ? and k = 5").all(q);
  assertNeighbours(got, bruteForce(remaining, q, 5));
  assert.equal(got[0].id, 7);
  db.close();
});

test("vec0: cosine and int8 columns", () => {
  const db = openWithItems(rows, `embedding float[${DIMS}] distance_metric=cosine`);
  for (const q of queries) {
    assertNeighbours(
      db.prepare("select id, distance from items where embedding match ? and k = 6 and category = 'news'").all(q),
      bruteForce(rows, q, 6, { metric: "cosine", filter: (r) => r.category === "news" }),
      "cosine",
    );
  }
  db.close();

  const int8 = new Database(":memory:");
  vecsql.load(int8);
  int8.exec("create virtual table q8 using vec0(embedding int8[4])");
  const next = rng(3);
  const small = [];
  for (let id = 1; id <= 50; id++) {
    small.push({ id, vector: Int8Array.from({ length: 4 }, () => Math.floor(next() * 256) - 128) });
  }
  const insert = int8.prepare("insert into q8(rowid, embedding) values (?, vec_int8(?))");
  for (const r of small) insert.run(BigInt(r.id), vecsql.serializeInt8(r.vector));
  const q = [10, -20, 30, -40];
  const got = int8.prepare("select rowid as id, distance from q8 where embedding match vec_int8(?) and k = 5").all(vecsql.serializeInt8(q));
  assertNeighbours(got, bruteForce(small, q, 5));
  int8.close();
});

test("vec0 with indexed by hnsw(): exact on small tables, high recall when walking", () => {
  const big = makeRows(800, 4);
  const db = new Database(":memory:");
  vecsql.load(db);
  db.exec(`create virtual table docs using vec0(
    embedding float[${DIMS}] distance_metric=cosine indexed by hnsw(), year integer)`);
  const insert = db.prepare("insert into docs(rowid, embedding, year) values (?, ?, ?)");
  db.transaction(() => big.forEach((r) => insert.run(BigInt(r.id), r.vector, BigInt(r.year))))();
  const status = JSON.parse(db.prepare("select vec_index_status('docs') as s").get().s);
  assert.ok(JSON.stringify(status).includes(String(big.length)), JSON.stringify(status));

  const knn = db.prepare("select rowid as id, distance from docs where embedding match ? and k = 10");
  const exact = db.prepare("select rowid as id, distance from docs where embedding match ? and k = 10 and exact = 1");
  const walk = db.prepare("select rowid as id, distance from docs where embedding match ? and k = 10 and ef_search = 100");
  const filtered = db.prepare("select rowid as id, distance from docs where embedding match ? and k = 10 and year < 2010 and ef_search = 100");
  let found = 0;
  let wanted = 0;
  for (let i = 0; i < 20; i++) {
    const q = randomVector(rng(500 + i), DIMS);
    const expected = bruteForce(big, q, 10, { metric: "cosine" });
    assertNeighbours(exact.all(q), expected, "exact = 1");
    assertNeighbours(knn.all(q), expected, "default (a small table is scanned)");
    const walked = walk.all(q);
    assert.equal(walked.length, 10);
    for (const row of walked) {
      const r = big.find((x) => x.id === row.id);
      assert.ok(close(row.distance, bruteForce([r], q, 1, { metric: "cosine" })[0].distance), "walk distances are exact");
    }
    const ids = new Set(expected.map((r) => r.id));
    found += walked.filter((r) => ids.has(r.id)).length;
    wanted += 10;
    const expectedFiltered = bruteForce(big, q, 10, { metric: "cosine", filter: (r) => r.year < 2010 });
    const gotFiltered = filtered.all(q);
    assert.equal(gotFiltered.length, 10);
    assert.ok(gotFiltered.every((row) => big.find((x) => x.id === row.id).year < 2010), "filter holds");
    found += gotFiltered.filter((r) => expectedFiltered.some((e) => e.id === r.id)).length;
    wanted += 10;
  }
  assert.ok(found / wanted >= 0.9, `recall@10 ${found / wanted}`);
  db.close();
});

test("libSQL-style vectors: vector32() and vector_distance_cos() over an ordinary table", () => {
  const db = new Database(":memory:");
  vecsql.load(db);
  assert.equal(db.prepare("select vector_extract(vector32('[1, 2.5, -3]')) as t").get().t, "[1,2.5,-3]");
  assert.ok(Math.abs(db.prepare("select vector_distance_cos(vector32('[1,0]'), vector32('[0,1]')) as d").get().d - 1) < 1e-6);
  db.exec("create table movies(id integer primary key, title text, embedding F32_BLOB(8))");
  const insert = db.prepare("insert into movies(id, title, embedding) values (?, ?, vector32(?))");
  const local = rows.slice(0, 100);
  for (const r of local) insert.run(r.id, r.label, `[${Array.from(r.vector).join(",")}]`);
  for (const q of queries) {
    const json = `[${Array.from(q).join(",")}]`;
    const cos = db.prepare("select id, vector_distance_cos(embedding, vector32(?)) as distance from movies order by distance limit 5").all(json);
    assertNeighbours(cos, bruteForce(local, q, 5, { metric: "cosine" }), "vector_distance_cos");
    const l2 = db.prepare("select id, vector_distance_l2(embedding, vector32(?)) as distance from movies order by distance limit 5").all(json);
    assertNeighbours(l2, bruteForce(local, q, 5), "vector_distance_l2");
  }
  db.close();
});
