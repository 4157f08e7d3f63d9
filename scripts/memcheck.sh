#!/usr/bin/env bash
# Runs vecsql under valgrind memcheck: the vecsql crate's test binaries (release build, with
# symbols; build with `--profile profiling` for line numbers) and the loadable extension inside
# the sqlite3 shell. Fails on any invalid read or write, use of uninitialised memory, bad
# free, or definite leak.
#
#   scripts/memcheck.sh                 what CI runs (about 3 minutes on 2 cores after the build)
#   MEMCHECK_ALL=1 scripts/memcheck.sh  every test, none skipped (about 10 minutes)
#   MEMCHECK_JOBS=4 PROPTEST_CASES=64 scripts/memcheck.sh   more parallel, more cases
#
# Why valgrind and not AddressSanitizer: ASan needs nightly Rust (-Zsanitizer) and CI has only
# stable. valgrind sees the C side too (SQLite, our sqlite3_api_routines calls) without any
# rebuild. It runs all threads of a process on one core, so binaries run two at a time. It
# does not emulate AVX-512, so the distance kernels run their AVX2 variant here (the AVX-512
# ones are checked against the scalar reference in the normal test run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null
fi

export PROPTEST_CASES=${PROPTEST_CASES:-4}
jobs=${MEMCHECK_JOBS:-2}
logs=$(mktemp -d)
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes --num-callers=30)

# Tests whose run under valgrind takes minutes (large recall and selectivity sweeps) are
# skipped by default; fuzz_regressions replays long random workloads that the fuzz targets
# and vec0_oracle already cover.
skip_binaries=" fuzz_regressions "
skip_tests=(filtered_knn_returns_only recall_after_churn each_quantizer_walks
            every_element_type_can_be duplicate_vectors_stay)
if [ -n "${MEMCHECK_ALL:-}" ]; then skip_binaries=""; skip_tests=(); fi
skip_args=()
for t in "${skip_tests[@]}"; do skip_args+=(--skip "$t"); done

start=$(date +%s)
cargo test --release -p vecsql --no-run --message-format=json 2>/dev/null \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"], m["executable"])
' >"$logs/binaries"
echo "memcheck: test binaries built in $(( $(date +%s) - start )) s"

run_one() {
  local name=$1 exe=$2
  if "${vg[@]}" "$exe" -q --test-threads=2 "${skip_args[@]}" >"$logs/$name.log" 2>&1; then
    echo "memcheck: $name ok"
  else
    echo "memcheck: $name FAILED"
    return 1
  fi
}

start=$(date +%s)
failed=0
pids=()
names=()
while read -r name exe; do
  case "$skip_binaries" in *" $name "*) continue ;; esac
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
  run_one "$name" "$exe" &
  pids+=($!)
  names+=("$name")
done <"$logs/binaries"
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed=1
    echo "----- ${names[$i]} -----"
    grep -v '^\.*$' "$logs/${names[$i]}.log" | head -120
  fi
done

# The loadable extension in a C host: every function, vec0 with every column kind, KNN, the
# ANN index, transactions, errors (whose messages SQLite frees), and DROP.
ext="${CARGO_TARGET_DIR:-target}/release/libvecsql"
cargo build --release >/dev/null 2>&1
set +e
"${vg[@]}" sqlite3 :memory: >"$logs/shell.log" 2>&1 <<SQL
.bail off
.load $ext
select vec_version(), vec_length('[1,2,3]'), vec_to_json(vec_normalize('[3,4]'));
select vec_distance_l2('[1,2]', '[3,4]'), vec_distance_cosine(vec_int8('[1,2]'), vec_int8('[3,4]'));
select vec_distance_hamming(vec_bit(x'ff00'), vec_bit(x'0f0f')), hex(vec_quantize_binary('[1,-1,2,-2,0,1,1,1]'));
select vector_extract(vector8('[1,2,3]')), vector_extract(vector1bit('[1,-1,1]')), vector_distance_cos(vector16('[1,2]'), vector16('[2,1]'));
select hex(vec_slice('[1,2,3,4]', 1, 3)), vec_to_json(vec_add('[1,2]', '[3,4]')), count(*) from vec_each('[1,2,3]');
select vec_f32('[1,');
select vec_f32(x'010203');
select vector_extract(x'0102');
select vec_slice('[1,2]', 2, 1);
create virtual table t using vec0(id integer primary key, emb float[4] distance_metric=cosine,
  b bit[8], p text partition key, n integer, f float, tag text, ok boolean, +note text, chunk_size=8);
with recursive c(i) as (select 1 union all select i + 1 from c where i < 60)
insert into t(id, emb, b, p, n, f, tag, ok, note)
  select i, vec_f32(json_array(i % 7, i % 5 - 2, 1, -i % 3)), vec_bit(x'0f'), 'p' || (i % 3), i % 10,
         i / 7.0, 'a tag longer than twelve bytes ' || (i % 4), i % 2, 'note ' || i from c;
select id, distance from t where emb match '[1,0,1,0]' and k = 5 and p = 'p1' and n > 3 and tag != 'x';
update t set emb = '[0,1,0,1]', p = 'p2', tag = 'short' where id % 4 = 0;
delete from t where id % 5 = 0;
begin; insert into t(id, emb, b, p, n, f, tag, ok) values (1000, '[1,1,1,1]', vec_bit(x'01'), 'p0', 1, 1, 'x', 0); rollback;
savepoint s; delete from t; rollback to s; release s;
insert into t(t) values ('optimize');
select count(*), sum(n) from t;
insert into t(id, emb, b, p, n, f, tag, ok) values (1, '[1,1,1,1]', vec_bit(x'01'), 'p0', 1, 1, 'x', 0);
select id from t where emb match '[1]' and k = 3;
create virtual table h using vec0(emb float[8] indexed by hnsw(m=4, ef_construction=16));
with recursive c(i) as (select 1 union all select i + 1 from c where i < 300)
insert into h(rowid, emb) select i, vec_f32(json_array(i % 7, i % 5, i % 3, i % 11, 1, 2, i % 13, 0)) from c;
delete from h where rowid % 3 = 0;
select rowid, distance from h where emb match '[1,2,3,4,1,2,3,0]' and k = 5 and ef_search = 64;
create virtual table bad using vec0(emb float[4], m integer, m integer);
drop table h; drop table t;
select 'memcheck done';
SQL
rc=$?
set -e
# The script makes some statements fail on purpose, so the shell's own exit status is 1;
# valgrind's 99 means it found an error, and the last statement must have run.
if [ "$rc" -ne 99 ] && grep -q '^memcheck done$' "$logs/shell.log" && ! grep -q '^==[0-9]*==' "$logs/shell.log"; then
  echo "memcheck: loadable extension in the sqlite3 shell ok"
else
  echo "memcheck: loadable extension in the sqlite3 shell FAILED"
  cat "$logs/shell.log" | head -120
  failed=1
fi
echo "memcheck: valgrind runs took $(( $(date +%s) - start )) s"
rm -rf "$logs"
exit "$failed"
