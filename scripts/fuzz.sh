#!/usr/bin/env bash
# Builds vecsql's fuzz targets (fuzz/) on stable Rust and runs each for a fixed time.
#
#   scripts/fuzz.sh                  every target, FUZZ_SECONDS (default 25) seconds each (CI)
#   scripts/fuzz.sh 3600 sql_diff    one target for an hour
#   FUZZ_JOBS=2 scripts/fuzz.sh 600  two fuzzing processes per target
#
# No cargo-fuzz and no nightly: libfuzzer-sys builds libFuzzer with the C++ compiler and rustc
# instruments the code with stable SanitizerCoverage flags (what `cargo fuzz build -s none`
# passes). There is no AddressSanitizer here (nightly only); scripts/memcheck.sh runs the test
# suite under valgrind instead. With cargo-fuzz installed, `cd fuzz && cargo fuzz run sql_diff`
# works as well.
#
# Inputs: fuzz/seeds/<target> (committed) and fuzz/regressions/<target> (committed crashes)
# are read, new coverage goes to fuzz/corpus/<target> (git-ignored, kept between local runs).
# A crash is saved to fuzz/artifacts/<target>/ and fails the script; copy it into
# fuzz/regressions/<target>/ once fixed, and crates/vecsql/tests/fuzz_regressions.rs replays
# it in every `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${FUZZ_SECONDS:-25}}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(json blob definition sql_diff shadow)
fi
jobs=${FUZZ_JOBS:-1}

triple=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
# --target keeps these flags off build scripts; they match cargo-fuzz's defaults without a
# sanitizer, plus debug assertions and overflow checks.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
start=$(date +%s)
cargo build --release --manifest-path fuzz/Cargo.toml --target "$triple" \
  $(printf -- '--bin %s ' "${targets[@]}")
echo "fuzz: built in $(( $(date +%s) - start )) s"

bin="$CARGO_TARGET_DIR/$triple/release"
summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  dirs=("fuzz/corpus/$t" "fuzz/seeds/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  log="fuzz/artifacts/$t/last-run.log"
  echo "fuzz: $t for ${seconds} s"
  set +e
  if [ "$jobs" -gt 1 ]; then
    "$bin/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
      -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 \
      -jobs="$jobs" -workers="$jobs" "${dirs[@]}" >"$log" 2>&1
  else
    "$bin/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
      -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 \
      "${dirs[@]}" >"$log" 2>&1
  fi
  rc=$?
  set -e
  [ "$jobs" -gt 1 ] && cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log
  runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
    echo "fuzz: $t FAILED (full log: $log)"
    summary+=("$t: FAILED after $runs executions")
  else
    summary+=("$t: $runs executions, corpus $corpus inputs")
  fi
done
echo "fuzz summary (${seconds} s per target):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
