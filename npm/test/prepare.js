#!/usr/bin/env node
// Prepares what the tests under npm/test/ run against, the way a user would get it:
//  1. better-sqlite3@12 built from source against this Node's headers, once, cached in
//     npm/.cache/ (or $VECSQL_NODE_CACHE), keyed by Node version and platform;
//  2. `npm pack` of this package (its prepack step copies the library from $VECSQL_LIB or
//     ../target/release), and the tarball installed into a fresh scratch project,
//     npm/.scratch/project (or $VECSQL_NODE_SCRATCH/project), next to a link to the cached
//     better-sqlite3.
// Usage: node test/prepare.js   (then: node --test test/*.test.js)
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const packageDir = path.resolve(__dirname, "..");
const cacheRoot = path.resolve(process.env.VECSQL_NODE_CACHE || path.join(packageDir, ".cache"));
const scratch = path.resolve(process.env.VECSQL_NODE_SCRATCH || path.join(packageDir, ".scratch"));
const BETTER_SQLITE3 = process.env.BETTER_SQLITE3_SPEC || "better-sqlite3@12";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const quiet = ["--no-audit", "--no-fund", "--loglevel=error"];

function run(args, cwd, extraEnv = {}) {
  execFileSync(npm, args, { cwd, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...extraEnv } });
}

function nodeHeadersPrefix() {
  const candidates = [
    process.env.NODE_HEADERS_DIR,
    path.dirname(path.dirname(process.execPath)),
    "/usr",
    "/usr/local",
  ].filter(Boolean);
  for (const prefix of candidates) {
    if (fs.existsSync(path.join(prefix, "include", "node", "node_api.h"))) return prefix;
  }
  throw new Error(
    "vecsql tests: Node's C headers (include/node/node_api.h) were not found under " +
      candidates.join(", ") +
      "; install them (Debian: the nodejs package from NodeSource carries them, Debian's " +
      "own nodejs needs libnode-dev) or set NODE_HEADERS_DIR",
  );
}

function ensureBetterSqlite3() {
  const key = `${BETTER_SQLITE3.replace(/[^A-Za-z0-9.]+/g, "-")}-node${process.versions.node}-${process.platform}-${process.arch}`;
  const dir = path.join(cacheRoot, key);
  const stamp = path.join(dir, ".built");
  if (fs.existsSync(stamp)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ private: true }) + "\n");
  const prefix = nodeHeadersPrefix();
  const started = Date.now();
  console.error(`vecsql tests: building ${BETTER_SQLITE3} from source (headers in ${prefix}/include/node) into ${dir}`);
  run(["install", BETTER_SQLITE3, "--build-from-source", `--nodedir=${prefix}`, ...quiet], dir, {
    npm_config_build_from_source: "true",
    JOBS: process.env.JOBS || "max",
  });
  // Proves it was compiled here and loads in this Node.
  const built = path.join(dir, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
  if (!fs.existsSync(built)) throw new Error(`vecsql tests: ${built} was not built`);
  execFileSync(process.execPath, ["-e", "new (require('better-sqlite3'))(':memory:').close()"], { cwd: dir });
  fs.writeFileSync(stamp, `${new Date().toISOString()} ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  console.error(`vecsql tests: better-sqlite3 built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

function packAndInstall(betterDir) {
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  const out = execFileSync(npm, ["pack", "--json", "--pack-destination", scratch, "--loglevel=error"], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  const info = JSON.parse(out.slice(out.indexOf("[")))[0]; // lifecycle banners may precede the JSON
  const tarball = path.join(scratch, info.filename);
  const project = path.join(scratch, "project");
  fs.mkdirSync(project);
  fs.writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "vecsql-node-test", private: true, version: "0.0.0" }, null, 2) + "\n",
  );
  run(["install", tarball, "--offline", ...quiet], project);
  // The cached build, linked in as if installed here (its own dependencies resolve from the cache).
  fs.symlinkSync(
    path.join(betterDir, "node_modules", "better-sqlite3"),
    path.join(project, "node_modules", "better-sqlite3"),
    "dir",
  );
  fs.writeFileSync(
    path.join(scratch, "pack.json"),
    JSON.stringify({ tarball, project, files: info.files.map((f) => f.path), size: info.size }, null, 2) + "\n",
  );
  console.error(`vecsql tests: packed ${info.filename} (${(info.size / 1e6).toFixed(1)} MB), installed into ${project}`);
}

packAndInstall(ensureBetterSqlite3());
