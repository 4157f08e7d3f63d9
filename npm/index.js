"use strict";
/**
 * vecsql: vector similarity search inside SQLite, for Node.js.
 *
 * This package carries the compiled vecsql extension (a drop-in replacement for sqlite-vec
 * 0.1.9) and loads it into better-sqlite3 databases, or node:sqlite DatabaseSync ones where
 * Node has DatabaseSync#loadExtension (23.5+, opened with { allowExtension: true }):
 *
 *   const Database = require("better-sqlite3");
 *   const vecsql = require("vecsql");
 *   const db = new Database(":memory:");
 *   vecsql.load(db);
 *   db.prepare("select vec_version() as v").get();
 *
 * Vectors are bound as blobs: a Float32Array can be passed as it is to better-sqlite3;
 * serializeFloat32() and serializeInt8() make Buffers from arrays or typed arrays, with
 * checks (non-numbers, empty vectors, NaN/infinity, out-of-range int8 values are errors).
 */

const fs = require("node:fs");
const path = require("node:path");

/** The extension's entry point (the library also exports sqlite-vec's sqlite3_vec_init). */
const ENTRY_POINT = "sqlite3_vecsql_init";

const LIB_NAMES = { darwin: "libvecsql.dylib", win32: "vecsql.dll" };
const LIB_NAME = LIB_NAMES[process.platform] || "libvecsql.so";
const FLOAT32_MAX = 3.4028234663852886e38;

/** The full path of the extension library shipped in this package. */
function getLoadablePath() {
  const libDir = path.join(__dirname, "lib");
  let built = null;
  try {
    built = JSON.parse(fs.readFileSync(path.join(libDir, "platform.json"), "utf8"));
  } catch (_) {
    // No record: a hand-made lib/ directory; just look for the file.
  }
  if (built && (built.platform !== process.platform || built.arch !== process.arch)) {
    throw new Error(
      `vecsql: this package carries a library built for ${built.platform}-${built.arch}, ` +
        `not ${process.platform}-${process.arch}; pack it on this platform ` +
        "(cargo build --release -p vecsql, then npm pack in npm/)",
    );
  }
  const file = path.join(libDir, LIB_NAME);
  if (!fs.existsSync(file)) {
    throw new Error(
      `vecsql: the extension library ${file} is missing; install the packed tarball ` +
        "(npm pack in the repository's npm/ directory copies it in), or set VECSQL_LIB " +
        "when packing",
    );
  }
  return file;
}

function describe(value) {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value.constructor && value.constructor.name) || "object";
}

/**
 * Loads vecsql into `db`: a better-sqlite3 Database, or a node:sqlite DatabaseSync opened
 * with { allowExtension: true } (Node 23.5+).
 */
function load(db) {
  if (db === null || typeof db !== "object" || typeof db.loadExtension !== "function") {
    throw new TypeError(
      "vecsql.load() needs a better-sqlite3 Database or a node:sqlite DatabaseSync with " +
        `loadExtension() (Node 23.5+), got ${describe(db)}`,
    );
  }
  const file = getLoadablePath();
  if (describe(db) === "DatabaseSync") {
    try {
      db.loadExtension(file);
    } catch (err) {
      if (/extension/i.test(String(err && err.message)) && /disabled|not allowed|allowExtension/i.test(String(err.message))) {
        err.message +=
          " (vecsql: open the database with new DatabaseSync(file, { allowExtension: true }))";
      }
      throw err;
    }
    return;
  }
  db.loadExtension(file, ENTRY_POINT);
}

function elementsOf(vector, what) {
  if (
    typeof vector === "string" ||
    vector === null ||
    vector === undefined ||
    Buffer.isBuffer(vector) ||
    vector instanceof ArrayBuffer ||
    vector instanceof DataView
  ) {
    throw new TypeError(
      `vecsql: ${what} takes an array or typed array of numbers, not ${describe(vector)}` +
        (Buffer.isBuffer(vector) ? " (a Buffer is already a blob: bind it as it is)" : ""),
    );
  }
  let elements;
  if (ArrayBuffer.isView(vector) || Array.isArray(vector)) {
    elements = vector;
  } else if (typeof vector[Symbol.iterator] === "function") {
    elements = Array.from(vector);
  } else {
    throw new TypeError(
      `vecsql: ${what} takes an array or typed array of numbers, not ${describe(vector)}`,
    );
  }
  if (elements.length === 0) throw new RangeError(`vecsql: ${what} got an empty vector`);
  return elements;
}

function numberAt(elements, i, what) {
  let x = elements[i];
  if (typeof x === "bigint") x = Number(x);
  if (typeof x !== "number") {
    throw new TypeError(`vecsql: ${what}: element ${i} is not a number: ${String(x)}`);
  }
  return x;
}

/**
 * A float32 vector blob (little-endian, 4 bytes per element), as vec_f32() makes, from an
 * array, a typed array or an iterable of numbers. TypeError for non-numbers; RangeError for
 * an empty vector, NaN, infinities and values beyond the float32 range.
 */
function serializeFloat32(vector) {
  const what = "serializeFloat32()";
  const elements = elementsOf(vector, what);
  const out = Buffer.alloc(elements.length * 4);
  for (let i = 0; i < elements.length; i++) {
    const x = numberAt(elements, i, what);
    if (!Number.isFinite(x) || Math.abs(x) > FLOAT32_MAX) {
      throw new RangeError(`vecsql: ${what}: element ${i} (${x}) is not a finite float32 number`);
    }
    out.writeFloatLE(x, i * 4);
  }
  return out;
}

/**
 * An int8 vector blob (one byte per element) for int8 columns or vec_int8(?), from an array,
 * a typed array or an iterable of integers in -128..127. TypeError for non-integers;
 * RangeError for an empty vector and values out of range.
 */
function serializeInt8(vector) {
  const what = "serializeInt8()";
  const elements = elementsOf(vector, what);
  const out = Buffer.alloc(elements.length);
  for (let i = 0; i < elements.length; i++) {
    const x = numberAt(elements, i, what);
    if (!Number.isInteger(x)) {
      throw new TypeError(`vecsql: ${what}: element ${i} (${x}) is not an integer`);
    }
    if (x < -128 || x > 127) {
      throw new RangeError(`vecsql: ${what}: element ${i} (${x}) is outside -128..127`);
    }
    out.writeInt8(x, i);
  }
  return out;
}

/** Reads a float32 vector blob (a Buffer, Uint8Array or ArrayBuffer) into a Float32Array. */
function deserializeFloat32(blob) {
  let bytes;
  if (blob instanceof ArrayBuffer) bytes = new Uint8Array(blob);
  else if (ArrayBuffer.isView(blob)) bytes = new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
  else throw new TypeError(`vecsql: deserializeFloat32() takes a Buffer or Uint8Array, not ${describe(blob)}`);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(
      `vecsql: deserializeFloat32(): a float32 blob's length is a multiple of 4, got ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

module.exports = {
  ENTRY_POINT,
  getLoadablePath,
  load,
  serializeFloat32,
  serializeInt8,
  deserializeFloat32,
};
