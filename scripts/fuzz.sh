#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan) into build-fuzz/ and runs each from its
# seed corpus in tests/fuzz/corpus/TARGET. New inputs go to build-fuzz/corpus/TARGET, not the
# repo, so a later run on the same machine goes on from what an earlier one found; a crash, leak
# or sanitizer report fails the run and leaves its input in build-fuzz/artifacts/.
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

run_one() {
  local t=$1
  mkdir -p "build-fuzz/corpus/$t"
  local log="build-fuzz/logs/$t.log"
  local start=$SECONDS
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/tests/fuzz/fuzz_$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$t-" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    printf '%-16s ok    %12s executions in %4d s\n' "$t" "${runs:-?}" $((SECONDS - start))
  else
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
