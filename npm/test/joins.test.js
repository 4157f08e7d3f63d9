"use strict";
// KNN joined to a base table, in the shapes applications write: the vec0 table on either side
// of an inner JOIN, a LEFT JOIN from the KNN rows to the base table, and the KNN in a CTE
// joined afterwards. The KNN's k applies to the vec0 table (k rows, then the join), so every
// shape must give the brute-force k nearest joined to their base rows. Each shape runs with
// vecsql and with sqlite-vec 0.1.9.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { engines, rng, randomVector, bruteForce, assertNeighbours } = require("./helpers");

const DIMS = 4;
const N = 40;
const MISSING_IN_BASE = new Set([5, 10, 17]); // vectors with no base row (for the LEFT JOIN)
const next = rng(42);
const vectors = [];
for (let id = 1; id <= N; id++) {
  vectors.push({ id, vector: randomVector(next, DIMS), genre: id % 3 === 0 ? "jazz" : "rock" });
}
const base = [];
for (let id = 1; id <= N + 10; id++) {
  if (!MISSING_IN_BASE.has(id)) base.push({ id, title: `title ${id}`, year: 1990 + (id % 30) });
}
const baseById = new Map(base.map((b) => [b.id, b]));
// Queries: each missing row's own vector (so it is among the nearest), and random ones.
const queries = [...MISSING_IN_BASE].map((id) => vectors[id - 1].vector)
  .concat([0, 1, 2, 3].map((i) => randomVector(rng(900 + i), DIMS)));

function open(engine, vecColumns) {
  const db = engine.open();
  db.exec("create table e(id integer primary key, title text, year integer)");
  db.exec(`create virtual table v using vec0(${vecColumns})`);
  db.exec(`create virtual table vh using vec0(embedding float[${DIMS}] indexed by hnsw(), genre text)`.replace(
    "indexed by hnsw()", engine.name === "vecsql" ? "indexed by hnsw()" : "")); // sqlite-vec 0.1.9 has no ANN index
  const insertBase = db.prepare("insert into e(id, title, year) values (?, ?, ?)");
  const hasId = vecColumns.startsWith("id ");
  const insertVec = db.prepare(`insert into v(${hasId ? "id" : "rowid"}, embedding, genre) values (?, ?, ?)`);
  const insertH = db.prepare("insert into vh(rowid, embedding, genre) values (?, ?, ?)");
  db.transaction(() => {
    for (const b of base) insertBase.run(BigInt(b.id), b.title, BigInt(b.year));
    for (const r of vectors) {
      insertVec.run(BigInt(r.id), r.vector, r.genre);
      insertH.run(BigInt(r.id), r.vector, r.genre);
    }
  })();
  return db;
}

/** Oracle: the k nearest vectors (after vec0-side filters), joined, then base-side filters. */
function expected(q, k, { left = false, vecFilter = () => true, baseFilter = () => true } = {}) {
  return bruteForce(vectors, q, k, { filter: vecFilter })
    .filter((r) => left || baseById.has(r.id))
    .filter((r) => !baseById.has(r.id) || baseFilter(baseById.get(r.id)))
    .map((r) => ({ id: r.id, distance: r.distance, title: baseById.has(r.id) ? baseById.get(r.id).title : null }));
}

const K = 2;
const shapes = [
  {
    name: "e JOIN v ON v.rowid = e.id",
    sql: "select e.id, v.distance, e.title from e join v on v.rowid = e.id where v.embedding match ? and k = 2 order by distance",
  },
  {
    name: "v JOIN e ON v.rowid = e.id",
    sql: "select e.id, v.distance, e.title from v join e on v.rowid = e.id where v.embedding match ? and k = 2 order by distance",
  },
  {
    name: "e, v (comma join) WHERE v.rowid = e.id",
    sql: "select e.id, v.distance, e.title from e, v where v.rowid = e.id and v.embedding match ? and k = 2 order by distance",
  },
  {
    name: "v LEFT JOIN e (KNN rows kept without a base row)",
    sql: "select v.rowid as id, v.distance, e.title from v left join e on e.id = v.rowid where v.embedding match ? and k = 2 order by distance",
    left: true,
  },
  {
    name: "CTE knn JOIN e",
    sql: "with knn as (select rowid, distance from v where embedding match ? and k = 2) select e.id, knn.distance, e.title from knn join e on e.id = knn.rowid order by knn.distance",
  },
  {
    name: "CTE e JOIN knn (base table first)",
    sql: "with knn as (select rowid, distance from v where embedding match ? and k = 2) select e.id, knn.distance, e.title from e join knn on e.id = knn.rowid order by knn.distance",
  },
  {
    name: "subquery in FROM joined to e",
    sql: "select e.id, knn.distance, e.title from (select rowid, distance from v where embedding match ? and k = 2) as knn join e on e.id = knn.rowid order by knn.distance",
  },
  {
    name: "e JOIN v with a metadata filter on v",
    sql: "select e.id, v.distance, e.title from e join v on v.rowid = e.id where v.embedding match ? and k = 2 and v.genre = 'rock' order by distance",
    vecFilter: (r) => r.genre === "rock",
  },
  {
    name: "e JOIN v with a filter on e (applied after the k nearest)",
    sql: "select e.id, v.distance, e.title from e join v on v.rowid = e.id where v.embedding match ? and k = 4 and e.year >= 2000 order by distance",
    k: 4,
    baseFilter: (b) => b.year >= 2000,
  },
  {
    name: "e JOIN v where v has an id integer primary key column",
    sql: "select e.id, v.distance, e.title from e join v on v.id = e.id where v.embedding match ? and k = 2 order by distance",
    vecColumns: `id integer primary key, embedding float[${DIMS}], genre text`,
  },
  {
    name: "e JOIN vh (indexed by hnsw() for vecsql)",
    sql: "select e.id, vh.distance, e.title from e join vh on vh.rowid = e.id where vh.embedding match ? and k = 2 order by distance",
  },
  {
    name: "CTE over vh (indexed by hnsw() for vecsql) JOIN e",
    sql: "with knn as (select rowid, distance from vh where embedding match ? and k = 2) select e.id, knn.distance, e.title from knn join e on e.id = knn.rowid order by knn.distance",
  },
];

for (const engine of engines) {
  for (const shape of shapes) {
    test(`${engine.name}: ${shape.name}`, { skip: engine.skip }, () => {
      const db = open(engine, shape.vecColumns || `embedding float[${DIMS}], genre text`);
      try {
        const stmt = db.prepare(shape.sql);
        for (const [i, q] of queries.entries()) {
          const got = stmt.all(q);
          const want = expected(q, shape.k || K, shape);
          const plan = db.prepare(`explain query plan ${shape.sql}`).all(q).map((r) => r.detail).join("; ");
          assertNeighbours(got, want, `query ${i} (plan: ${plan})`);
          assert.deepEqual(got.map((r) => r.title), want.map((r) => r.title), `titles, query ${i}`);
        }
      } finally {
        db.close();
      }
    });
  }

  // MATCH on the right-hand table of a LEFT JOIN is not a KNN that SQLite can hand to vec0:
  // sqlite-vec fails with SQLite's own message, and vecsql must fail the same way.
  test(`${engine.name}: e LEFT JOIN v with MATCH on v is refused like sqlite-vec`, { skip: engine.skip }, () => {
    const db = open(engine, `embedding float[${DIMS}], genre text`);
    try {
      assert.throws(
        () => db.prepare("select e.id, v.distance from e left join v on v.rowid = e.id where v.embedding match ? and k = 2 order by distance").all(queries[0]),
        /unable to use function MATCH in the requested context/,
      );
    } finally {
      db.close();
    }
  });
}
