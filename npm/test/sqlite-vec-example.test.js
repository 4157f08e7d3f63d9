"use strict";
// What sqlite-vec 0.1.9's own Node examples do (examples/simple-node: better-sqlite3, five
// 4-d vectors inserted in a transaction with BigInt rowids, a MATCH ... ORDER BY distance
// LIMIT 3 query; examples/simple-node2: the same over node:sqlite, plus vec_length of a
// Uint8Array), run with vecsql and with sqlite-vec: both must give the same rows.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { vecsql, engines, bruteForce, assertNeighbours } = require("./helpers");

const items = [0.1, 0.2, 0.3, 0.4, 0.5].map((x, i) => ({ id: i + 1, vector: new Float32Array(4).fill(x) }));
const query = new Float32Array(4).fill(0.3);

function runExample(db) {
  const versions = db.prepare("select sqlite_version() as sqlite_version, vec_version() as vec_version").get();
  db.exec("create virtual table vec_items using vec0(embedding float[4])");
  const insert = db.prepare("insert into vec_items(rowid, embedding) values (?, ?)");
  db.transaction((all) => {
    for (const item of all) insert.run(BigInt(item.id), item.vector);
  })(items);
  const rows = db
    .prepare("select rowid, distance from vec_items where embedding match ? order by distance limit 3")
    .all(query);
  const length = db.prepare("select vec_length(?) as result").get(new Uint8Array(new Float32Array([0.1, 0.2, 0.3, 0.4]).buffer)).result;
  return { versions, rows, length };
}

const results = {};
for (const engine of engines) {
  test(`sqlite-vec's Node example with ${engine.name}`, { skip: engine.skip }, () => {
    const db = engine.open();
    const out = runExample(db);
    db.close();
    assert.equal(out.versions.vec_version, "v0.1.9");
    assert.equal(out.length, 4);
    assert.equal(out.rows.length, 3);
    assert.equal(out.rows[0].rowid, 3);
    // 2 and 4 are equally far from 0.3 in exact arithmetic; only their set is certain.
    assertNeighbours(out.rows.slice(0, 1).map((r) => ({ id: r.rowid, distance: r.distance })), bruteForce(items, query, 1));
    assert.deepEqual(out.rows.slice(1).map((r) => r.rowid).sort(), [2, 4]);
    results[engine.name] = out;
  });
}

test("vecsql gives sqlite-vec's rows and distances for the example", { skip: engines[1].skip }, () => {
  const [ours, theirs] = engines.map((e) => results[e.name]);
  assert.ok(ours && theirs, "both example runs passed");
  assert.deepEqual(ours.rows.map((r) => r.rowid), theirs.rows.map((r) => r.rowid));
  ours.rows.forEach((r, i) => assert.ok(Math.abs(r.distance - theirs.rows[i].distance) < 1e-6));
});

let sqliteModule = null;
try {
  sqliteModule = require("node:sqlite");
} catch (_) {
  // No node:sqlite in this Node.
}
const skipNodeSqlite =
  sqliteModule && typeof sqliteModule.DatabaseSync.prototype.loadExtension === "function"
    ? false
    : `needs node:sqlite with DatabaseSync#loadExtension (Node 23.5+; this is ${process.version})`;

test("sqlite-vec's node:sqlite example with vecsql", { skip: skipNodeSqlite }, () => {
  const db = new sqliteModule.DatabaseSync(":memory:", { allowExtension: true });
  vecsql.load(db);
  db.exec("create virtual table vec_items using vec0(embedding float[4])");
  const insert = db.prepare("insert into vec_items(rowid, embedding) values (?, ?)");
  // node:sqlite takes Uint8Array (Buffer) blobs, not Float32Array.
  for (const item of items) insert.run(BigInt(item.id), vecsql.serializeFloat32(item.vector));
  const rows = db
    .prepare("select rowid, distance from vec_items where embedding match ? order by distance limit 3")
    .all(vecsql.serializeFloat32(query));
  assert.equal(rows[0].rowid, 3);
  assert.deepEqual(rows.slice(1).map((r) => Number(r.rowid)).sort(), [2, 4]);
  db.close();
});
