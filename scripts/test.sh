#!/usr/bin/env bash
# Runs vecsql's checks and tests, all of them (what CI runs, through .ci/run) or some parts:
#
#   scripts/test.sh                   every part, in the order below
#   scripts/test.sh rust python       only these parts (the build runs first when one needs it)
#   scripts/test.sh --list            the parts and what each runs
#
# Every selected part runs even when an earlier one fails; at the end a table gives each
# part's result and wall time, and the exit status is 1 if any part failed. A failed build
# stops the run. docs/testing.md describes each part and how to run its tests one by one.
set -euo pipefail
cd "$(dirname "$0")/.."

all_parts=(lint rust python clients plugins node fuzz memcheck)

describe() {
  cat <<'EOF'
lint      cargo fmt --check; cargo clippy --workspace --all-targets -D warnings
rust      cargo nextest/test --workspace (unit, integration, differential, fuzz replays)
python    pytest tests/python python/tests: the .so in sqlite3, apsw, the shell, next to
          sqlite-vec, libSQL and sqlite-vss; the CLI; crash safety; concurrency
clients   pytest tests/clients: langchain, sqlite-vec-client, datasette, sqlite-utils
plugins   pytest tests/plugins: vecsql's Datasette and sqlite-utils plugins
node      scripts/node_tests.sh: the npm package in better-sqlite3, next to sqlite-vec
fuzz      scripts/fuzz.sh: every fuzz target for a short fixed time
memcheck  scripts/memcheck.sh: Rust tests and the extension under valgrind
EOF
  echo "(build: cargo build --release and pip install ./python, before any part but lint/fuzz)"
}

# --- parts ------------------------------------------------------------------------------

part_lint() {
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets -- -D warnings
}

# The whole workspace in one build (the library and the vecsql binary for test_cli.py):
# building one package alone resolves other dependency features and rebuilds what the other
# one built.
part_build() {
  cargo build --release
  .venv/bin/pip install -q ./python       # the Python package (wheel with the built library)
}

part_rust() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
  else
    cargo test --workspace --no-fail-fast
  fi
}

part_python() { .venv/bin/python -m pytest tests/python python/tests -q; }
# Real clients (langchain-community, sqlite-vec-client, datasette, sqlite-utils) on vecsql and
# on sqlite-vec, against brute force; see docs/testing.md.
part_clients() { .venv/bin/python -m pytest tests/clients -q; }
# vecsql's own Datasette and sqlite-utils plugins (plugins/), against brute force.
part_plugins() { .venv/bin/python -m pytest tests/plugins -q; }
part_node() { scripts/node_tests.sh; }
# Reliability (docs/testing.md): every fuzz target for a short fixed time, then the Rust tests
# and the loaded extension under valgrind.
part_fuzz() { scripts/fuzz.sh; }
part_memcheck() { scripts/memcheck.sh; }

# --- arguments --------------------------------------------------------------------------

parts=()
for arg in "$@"; do
  case "$arg" in
    -h|--help|--list) describe; exit 0 ;;
    all) parts+=("${all_parts[@]}") ;;
    *)
      if ! declare -F "part_$arg" >/dev/null || [ "$arg" = build ]; then
        echo "test.sh: unknown part '$arg'; parts: ${all_parts[*]} (or none for all)" >&2
        exit 2
      fi
      parts+=("$arg") ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=("${all_parts[@]}")

needs_build=0
for p in "${parts[@]}"; do
  case "$p" in lint|fuzz) ;; *) needs_build=1 ;; esac
done

export VECSQL_EXT="$PWD/target/release/libvecsql"

# --- run and time -----------------------------------------------------------------------

names=(); results=(); times=()
start_all=$SECONDS

fmt_time() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

report() {
  local total=$((SECONDS - start_all)) i
  echo
  echo "== scripts/test.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
  printf '%-10s %-6s %8s\n' part result time
  for i in "${!names[@]}"; do
    printf '%-10s %-6s %8s\n' "${names[$i]}" "${results[$i]}" "$(fmt_time "${times[$i]}")"
  done
  printf '%-10s %-6s %8s\n' total "" "$(fmt_time "$total")"
  local passed=0 failed_parts=0
  for i in "${!results[@]}"; do
    if [ "${results[$i]}" = ok ]; then passed=$((passed + 1)); else failed_parts=$((failed_parts + 1)); fi
  done
  # The plain closing line CI reads: parts, not tests (each part's runner printed its own).
  echo "parts: $passed passed, $failed_parts failed"
}

# Runs one part in a subshell with errexit, so its first failing command ends it, and sets
# $last_rc. Call it as a plain command: inside `if`, `||` or `!` bash ignores errexit in
# everything the call runs, subshells included, and a failing command would not end the part.
run_part() {
  local name=$1 start=$SECONDS
  echo "== $name"
  set +e
  ( set -euo pipefail; "part_$name" )
  last_rc=$?
  set -e
  names+=("$name"); times+=($((SECONDS - start)))
  if [ $last_rc -eq 0 ]; then results+=(ok); else results+=(FAIL); fi
}

names+=(setup); start=$SECONDS
scripts/setup.sh
results+=(ok); times+=($((SECONDS - start)))

failed=0
if [ $needs_build -eq 1 ]; then
  run_part build
  if [ $last_rc -ne 0 ]; then
    report
    echo "test.sh: the build failed; nothing else ran" >&2
    exit 1
  fi
fi
for p in "${parts[@]}"; do
  run_part "$p"
  [ $last_rc -eq 0 ] || failed=1
done
report
exit $failed
