#!/usr/bin/env bash
# Builds the vecsql CLI and runs a semantic search over the shipped data: 5,000 PyPI package
# descriptions with their all-MiniLM-L6-v2 embeddings, imported into target/demo.db.
# Usage: scripts/demo.sh ["text of a package description"] [more `vecsql search` options, e.g. -k 5]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q             # the workspace: the same build as the tests and pip install
vecsql="${CARGO_TARGET_DIR:-target}/release/vecsql"
db=target/demo.db
rm -f "$db" "$db-wal" "$db-shm"   # importing 5,000 vectors takes a fraction of a second
"$vecsql" import "$db" packages --vectors data/pypi-5k.f16.npy --texts data/pypi-5k.txt \
  --metric cosine --quiet
exec "$vecsql" search "$db" packages --text "${1:-web framework}" "${@:2}"
