#!/usr/bin/env bash
# Sets up, builds the extension and runs the semantic-search demo on the shipped data.
# Usage: scripts/demo.sh ["text of a package description"]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p vecsql
exec .venv/bin/python examples/semantic_search.py "${1:-web framework}" "${@:2}"
