#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan) into build-fuzz/ and runs each from its
# seed corpus in tests/fuzz/corpus/TARGET. New inputs go to build-fuzz/corpus/TARGET, not the
# repo, so a later run on the same machine goes on from what an earlier one found; a crash, leak
# or sanitizer report fails the run and leaves its input in build-fuzz/artifacts/. Every run,
# also one stopped with Ctrl-C, adds a line to build-fuzz/logs/runs.tsv (date, target,
# executions, seconds, outcome), and `scripts/fuzz.sh --totals` sums it per target.
#
#   scripts/fuzz.sh [--seconds N | --runs N] [--jobs J] [TARGET...]
#
# Default: every target for 30 seconds, as many at once as there are cores.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=(-max_total_time=30)
jobs=$(nproc)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) limit=(-max_total_time="$2"); shift 2 ;;
    --runs) limit=(-runs="$2"); shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --totals)
      [ -f build-fuzz/logs/runs.tsv ] || { echo "no runs recorded yet"; exit 0; }
      awk -F'\t' '$5 != "FAIL" { n[$2] += $3; t[$2] += $4 } $5 == "FAIL" { f[$2]++ }
        END { for (k in n) printf "%-16s %12d executions in %6d s%s\n", k, n[k], t[k], f[k] ? "  (" f[k] " failed runs)" : "" }' \
        build-fuzz/logs/runs.tsv | sort
      exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

scripts/install-deps.sh --fuzz
CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOKOUT_FUZZ=ON -DCMAKE_UNITY_BUILD=ON \
  > /dev/null
cmake --build build-fuzz -j "$(nproc)"

mkdir -p build-fuzz/artifacts build-fuzz/logs

executions() { sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1; }
record() {
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$1" "$(executions "$2")" "$3" "$4" >> build-fuzz/logs/runs.tsv
}

run_one() {
  trap '' INT  # Ctrl-C stops the fuzzer, which prints its count; this still records the run
  local t=$1
  mkdir -p "build-fuzz/corpus/$t"
  # One log per run: two runs of a target at once (on one growing corpus) keep their own counts.
  local log="build-fuzz/logs/$t-$(date -u +%Y%m%dT%H%M%SZ)-$BASHPID.log"
  local start=$SECONDS
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/tests/fuzz/fuzz_$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$t-" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
    record "$t" "$log" $((SECONDS - start)) ok
    printf '%-16s ok    %12s executions in %4d s\n' "$t" "$(executions "$log")" $((SECONDS - start))
  elif grep -q 'libFuzzer: run interrupted' "$log"; then
    record "$t" "$log" $((SECONDS - start)) stopped
    printf '%-16s stopped after %s executions in %d s\n' "$t" "$(executions "$log")" $((SECONDS - start))
    return 1
  else
    record "$t" "$log" $((SECONDS - start)) FAIL
    printf '%-16s FAIL  (log below)\n' "$t"
    grep -E 'ERROR|SUMMARY|==[0-9]+==|runtime error|Test unit written' "$log" | head -20
    return 1
  fi
}

failed=0
pids=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
  run_one "$t" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
