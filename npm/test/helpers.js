"use strict";
// Shared by the *.test.js files: the scratch project made by test/prepare.js (vecsql installed
// from its packed tarball, better-sqlite3 built from source), sqlite-vec 0.1.9 for
// comparison, seeded random data, and brute-force KNN oracles.

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");
const assert = require("node:assert/strict");

const packageDir = path.resolve(__dirname, "..");
const repoDir = path.resolve(packageDir, "..");
const scratch = path.resolve(process.env.VECSQL_NODE_SCRATCH || path.join(packageDir, ".scratch"));
const packInfoFile = path.join(scratch, "pack.json");
if (!fs.existsSync(packInfoFile)) {
  throw new Error(`vecsql tests: ${packInfoFile} is missing; run \`node test/prepare.js\` first (or scripts/node_tests.sh)`);
}
const packInfo = JSON.parse(fs.readFileSync(packInfoFile, "utf8"));
// Resolve modules exactly as code in the scratch project would.
const projectRequire = createRequire(path.join(packInfo.project, "package.json"));
const vecsql = projectRequire("vecsql");
const Database = projectRequire("better-sqlite3");

function findSqliteVec() {
  if (process.env.SQLITE_VEC_PATH) return path.resolve(process.env.SQLITE_VEC_PATH);
  const venvLib = path.join(repoDir, ".venv", "lib");
  if (!fs.existsSync(venvLib)) return null;
  for (const python of fs.readdirSync(venvLib)) {
    const candidate = path.join(venvLib, python, "site-packages", "sqlite_vec", "vec0.so");
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}
const sqliteVecPath = findSqliteVec();
const SKIP_SQLITE_VEC = sqliteVecPath
  ? false
  : "sqlite-vec 0.1.9 not found: set SQLITE_VEC_PATH to its vec0.so (scripts/setup.sh installs it in .venv)";

/** The engines compared: vecsql from the installed package, and sqlite-vec's own library. */
const engines = [
  {
    name: "vecsql",
    skip: false,
    open() {
      const db = new Database(":memory:");
      vecsql.load(db);
      return db;
    },
  },
  {
    name: "sqlite-vec 0.1.9",
    skip: SKIP_SQLITE_VEC,
    open() {
      const db = new Database(":memory:");
      db.loadExtension(sqliteVecPath);
      return db;
    },
  },
];

/** A seeded generator (mulberry32) so failures reproduce. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomVector(next, dims) {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = next() * 2 - 1;
  return v;
}

const metrics = {
  l2(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
    return Math.sqrt(s);
  },
  cosine(a, b) {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return 1 - dot / Math.sqrt(na * nb);
  },
  l1(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
    return s;
  },
};

/**
 * Brute force: the k rows (objects with `id` and `vector`) nearest to `query` among those
 * passing `filter`, as [{ id, distance }] ordered by distance then id.
 */
function bruteForce(rows, query, k, { metric = "l2", filter = () => true } = {}) {
  return rows
    .filter(filter)
    .map((row) => ({ id: row.id, distance: metrics[metric](row.vector, query) }))
    .sort((x, y) => x.distance - y.distance || x.id - y.id)
    .slice(0, k);
}

function close(a, b) {
  return Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);
}

/** Same ids in the same order, distances within float32 rounding. */
function assertNeighbours(actual, expected, message = "") {
  const ids = actual.map((r) => r.id);
  assert.deepEqual(ids, expected.map((r) => r.id), `${message} ids (got distances ${actual.map((r) => r.distance).join(", ")})`);
  actual.forEach((row, i) => {
    assert.ok(close(row.distance, expected[i].distance), `${message} distance of id ${row.id}: ${row.distance} vs ${expected[i].distance}`);
  });
}

module.exports = {
  Database,
  vecsql,
  packInfo,
  projectRequire,
  sqliteVecPath,
  SKIP_SQLITE_VEC,
  engines,
  rng,
  randomVector,
  metrics,
  bruteForce,
  assertNeighbours,
  close,
};
