"use strict";
// The packed package itself: what the tarball holds, getLoadablePath(), load(), and the
// serialize helpers (checked against the extension's own vec_f32()/vec_int8()).

const { test } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { Database, vecsql, packInfo } = require("./helpers");

test("the tarball carries the library, the code, the types and the licences, and nothing else", () => {
  assert.deepEqual([...packInfo.files].sort(), [
    "LICENSE-APACHE",
    "LICENSE-MIT",
    "index.d.ts",
    "index.js",
    "lib/libvecsql.so",
    "lib/platform.json",
    "package.json",
  ]);
  assert.ok(packInfo.size < 5e6, `tarball is ${packInfo.size} bytes; debug info should be stripped`);
  const installed = path.join(packInfo.project, "node_modules", "vecsql");
  for (const licence of ["LICENSE-MIT", "LICENSE-APACHE"]) {
    assert.deepEqual(
      fs.readFileSync(path.join(installed, licence)),
      fs.readFileSync(path.join(__dirname, "..", "..", licence)),
      licence,
    );
  }
});

test("index.d.ts declares every export", () => {
  const dts = fs.readFileSync(path.join(path.dirname(require.resolve("../index.js")), "index.d.ts"), "utf8");
  for (const name of Object.keys(vecsql)) {
    assert.match(dts, new RegExp(`export declare (function|const) ${name}\\b`), name);
  }
});

test("getLoadablePath() is the installed package's library", () => {
  const file = vecsql.getLoadablePath();
  assert.ok(path.isAbsolute(file));
  assert.equal(fs.realpathSync(file), fs.realpathSync(path.join(packInfo.project, "node_modules", "vecsql", "lib", "libvecsql.so")));
  assert.ok(fs.statSync(file).size > 100000);
});

test("load() into better-sqlite3", () => {
  const db = new Database(":memory:");
  vecsql.load(db);
  const row = db.prepare("select vec_version() as v, vecsql_version() as own, sqlite_version() as sqlite").get();
  assert.equal(row.v, "v0.1.9");
  assert.match(row.own, /\d+\.\d+/);
  assert.ok(Math.abs(db.prepare("select vec_distance_cosine('[1,2]', '[2,4]') as d").get().d) < 1e-6);
  // Loading twice is harmless (as with sqlite-vec).
  vecsql.load(db);
  db.close();
});

test("load() refuses things that are not databases", () => {
  for (const bad of [null, undefined, {}, "db", 42]) {
    assert.throws(() => vecsql.load(bad), { name: "TypeError", message: /better-sqlite3 Database/ });
  }
});

test("serializeFloat32() matches vec_f32() for arrays, typed arrays and iterables", () => {
  const db = new Database(":memory:");
  vecsql.load(db);
  const values = [0.5, -1.25, 3, 1e-3, 0];
  const expected = db.prepare("select vec_f32(?) as b").get(JSON.stringify(values)).b;
  for (const input of [values, new Float32Array(values), new Float64Array(values), new Set(values), values.values()]) {
    const blob = vecsql.serializeFloat32(input);
    assert.ok(Buffer.isBuffer(blob));
    assert.deepEqual(blob, expected);
  }
  // A Float32Array bound directly is the same blob.
  assert.equal(db.prepare("select vec_to_json(?) as j").get(new Float32Array(values)).j,
    db.prepare("select vec_to_json(?) as j").get(vecsql.serializeFloat32(values)).j);
  assert.deepEqual([...vecsql.deserializeFloat32(expected)], values.map(Math.fround));
  // The result is a copy, not a view of the caller's memory.
  const source = new Float32Array([1, 2]);
  const blob = vecsql.serializeFloat32(source);
  source[0] = 9;
  assert.deepEqual([...vecsql.deserializeFloat32(blob)], [1, 2]);
  db.close();
});

test("serializeFloat32() rejects what would not be a valid vector", () => {
  for (const bad of [[], new Float32Array(0)]) assert.throws(() => vecsql.serializeFloat32(bad), RangeError);
  for (const bad of [[NaN], [1, Infinity], [-Infinity], [1e39], new Float32Array([NaN])]) {
    assert.throws(() => vecsql.serializeFloat32(bad), { name: "RangeError", message: /not a finite float32/ });
  }
  for (const bad of [["1"], [1, null], [{}], "abc", 3, null, {}, Buffer.from([0, 0, 128, 63])]) {
    assert.throws(() => vecsql.serializeFloat32(bad), TypeError);
  }
});

test("serializeInt8() matches vec_int8() and rejects non-int8 values", () => {
  const db = new Database(":memory:");
  vecsql.load(db);
  const values = [-128, -1, 0, 5, 127];
  const expected = db.prepare("select vec_int8(?) as b").get(JSON.stringify(values)).b;
  for (const input of [values, new Int8Array(values), new Int32Array(values)]) {
    assert.deepEqual(vecsql.serializeInt8(input), expected);
  }
  assert.equal(db.prepare("select vec_type(vec_int8(?)) as t").get(vecsql.serializeInt8(values)).t, "int8");
  assert.throws(() => vecsql.serializeInt8([1.5]), TypeError);
  assert.throws(() => vecsql.serializeInt8(["1"]), TypeError);
  assert.throws(() => vecsql.serializeInt8([128]), RangeError);
  assert.throws(() => vecsql.serializeInt8([-129]), RangeError);
  assert.throws(() => vecsql.serializeInt8([]), RangeError);
  db.close();
});

test("deserializeFloat32() checks the blob length", () => {
  assert.throws(() => vecsql.deserializeFloat32(Buffer.alloc(6)), RangeError);
  assert.throws(() => vecsql.deserializeFloat32("[1,2]"), TypeError);
  assert.deepEqual([...vecsql.deserializeFloat32(new Float32Array([1, 2]).buffer)], [1, 2]);
});

// node:sqlite's DatabaseSync gained loadExtension() in Node 23.5 (behind allowExtension).
let sqliteModule = null;
try {
  sqliteModule = require("node:sqlite");
} catch (_) {
  // Node without node:sqlite (before 22.5).
}
const nodeSqliteSkip =
  sqliteModule && typeof sqliteModule.DatabaseSync.prototype.loadExtension === "function"
    ? false
    : `node:sqlite with DatabaseSync#loadExtension needs Node 23.5+ (this is ${process.version})`;

test("load() into node:sqlite DatabaseSync", { skip: nodeSqliteSkip }, () => {
  const db = new sqliteModule.DatabaseSync(":memory:", { allowExtension: true });
  vecsql.load(db);
  assert.equal(db.prepare("select vec_version() as v").get().v, "v0.1.9");
  db.exec("create virtual table v using vec0(embedding float[2])");
  const insert = db.prepare("insert into v(rowid, embedding) values (?, ?)");
  insert.run(1, vecsql.serializeFloat32([0, 0]));
  insert.run(2, vecsql.serializeFloat32([1, 1]));
  const rows = db.prepare("select rowid, distance from v where embedding match ? and k = 1").all(vecsql.serializeFloat32([0.9, 0.9]));
  assert.equal(rows[0].rowid, 2);
  db.close();
  const locked = new sqliteModule.DatabaseSync(":memory:");
  assert.throws(() => vecsql.load(locked));
  locked.close();
});

test("load() calls each host's loadExtension the way it takes it (stand-ins)", () => {
  const calls = [];
  class DatabaseSync {
    loadExtension(...args) {
      calls.push(["DatabaseSync", ...args]);
    }
  }
  class Database {
    loadExtension(...args) {
      calls.push(["Database", ...args]);
    }
  }
  vecsql.load(new DatabaseSync());
  vecsql.load(new Database());
  const file = vecsql.getLoadablePath();
  assert.deepEqual(calls, [["DatabaseSync", file], ["Database", file, "sqlite3_vecsql_init"]]);

  // node:sqlite's refusal when the database was opened without allowExtension gets a hint.
  class Locked {
    loadExtension() {
      throw new Error("Cannot load SQLite extensions because they are disabled.");
    }
  }
  Object.defineProperty(Locked, "name", { value: "DatabaseSync" });
  assert.throws(() => vecsql.load(new Locked()), /allowExtension: true/);
});
