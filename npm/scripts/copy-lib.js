#!/usr/bin/env node
// Copies the built vecsql extension into lib/, and the repository's licence files next to
// package.json (npm packs no symbolic links), so that `npm pack` / `npm publish` ship them.
// Runs as the package's `prepack` step. The library comes from $VECSQL_LIB, or else from the
// Cargo workspace's release build (../target/release/libvecsql.so, .dylib or vecsql.dll);
// build that first with `cargo build --release -p vecsql`. On Linux the copy's debug info is
// stripped (about 23 MB -> 2 MB), as the Python wheel does. lib/platform.json records which
// platform the file is for, so that getLoadablePath() can refuse a foreign one clearly.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const LIB_NAMES = { darwin: "libvecsql.dylib", win32: "vecsql.dll" };
const libName = LIB_NAMES[process.platform] || "libvecsql.so";

const packageDir = path.resolve(__dirname, "..");
const source = process.env.VECSQL_LIB
  ? path.resolve(process.env.VECSQL_LIB)
  : path.resolve(packageDir, "..", "target", "release", libName);

if (!fs.existsSync(source) || !fs.statSync(source).isFile()) {
  console.error(
    `vecsql: ${source} is missing. Build it with \`cargo build --release -p vecsql\` in the ` +
      "repository root, or set VECSQL_LIB=/path/to/" + libName,
  );
  process.exit(1);
}

const libDir = path.join(packageDir, "lib");
fs.rmSync(libDir, { recursive: true, force: true });
fs.mkdirSync(libDir, { recursive: true });
const destination = path.join(libDir, libName);
fs.copyFileSync(source, destination);
fs.chmodSync(destination, 0o755);

if (process.platform === "linux") {
  const strip = spawnSync("strip", ["--strip-debug", destination], { stdio: "inherit" });
  if (strip.error) console.error(`vecsql: strip not run (${strip.error.code}); shipping as is`);
}

fs.writeFileSync(
  path.join(libDir, "platform.json"),
  JSON.stringify({ platform: process.platform, arch: process.arch, file: libName }) + "\n",
);
for (const licence of ["LICENSE-MIT", "LICENSE-APACHE"]) {
  fs.copyFileSync(path.resolve(packageDir, "..", licence), path.join(packageDir, licence));
}
const size = (fs.statSync(destination).size / 1e6).toFixed(1);
console.error(`vecsql: copied ${source} -> lib/${libName} (${size} MB)`);
