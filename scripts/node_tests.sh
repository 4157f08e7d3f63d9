#!/usr/bin/env bash
# The Node.js package's tests (npm/, see README "Node.js"): packs the package with the built
# library (npm pack; its prepack step copies and strips $VECSQL_LIB), installs the tarball
# into a scratch project (npm/.scratch) next to better-sqlite3@12 built from source, and runs
# npm/test/*.test.js with node's test runner, comparing with sqlite-vec 0.1.9 from .venv
# ($SQLITE_VEC_PATH overrides). better-sqlite3 is compiled once (about a minute on 2 cores)
# and cached in npm/.cache, keyed by Node version and platform; later runs take seconds.
# Assumes the library is built (cargo build --release -p vecsql). Needs Node 20+ with its C
# headers, npm, make, g++ and python3 (scripts/setup.sh installs what is missing). Without
# Node 20+ it says so and exits 0, unless VECSQL_REQUIRE_NODE=1.
set -euo pipefail
cd "$(dirname "$0")/.."

lib=${VECSQL_LIB:-target/release/libvecsql.so}
if [ ! -f "$lib" ]; then
  echo "node_tests.sh: $lib is missing; run cargo build --release -p vecsql first" >&2
  exit 1
fi
export VECSQL_LIB="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
  msg="node_tests.sh: SKIPPED: needs Node.js 20+ and npm (better-sqlite3 12), found $(node --version 2>/dev/null || echo none)"
  if [ "${VECSQL_REQUIRE_NODE:-0}" = 1 ]; then echo "$msg" >&2; exit 1; fi
  echo "$msg" >&2
  exit 0
fi

start=$SECONDS
cd npm
node test/prepare.js
prepared=$SECONDS
node --test --test-reporter=spec test/*.test.js
echo "node_tests.sh: prepare $((prepared - start)) s, tests $((SECONDS - prepared)) s" >&2
