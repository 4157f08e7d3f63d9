#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, the Rust suites, and the Python/sqlite3-shell
# suites that load the built extension into real hosts next to sqlite-vec and libSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The whole workspace in one build (the library and the vecsql binary for test_cli.py): building
# one package alone resolves other dependency features and rebuilds what the other one built.
cargo build --release
.venv/bin/pip install -q ./python       # the Python package (wheel with the built library)
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

export VECSQL_EXT="$PWD/target/release/libvecsql"
.venv/bin/python -m pytest tests/python python/tests -q
# Real clients (langchain-community, sqlite-vec-client, datasette, sqlite-utils) on vecsql and
# on sqlite-vec, against brute force; see docs/testing.md.
.venv/bin/python -m pytest tests/clients -q
# vecsql's own Datasette and sqlite-utils plugins (plugins/), against brute force.
.venv/bin/python -m pytest tests/plugins -q
scripts/node_tests.sh                 # the npm package (npm/) in better-sqlite3, next to sqlite-vec

# Reliability (docs/testing.md): every fuzz target for a short fixed time, then the Rust tests
# and the loaded extension under valgrind.
scripts/fuzz.sh
scripts/memcheck.sh
