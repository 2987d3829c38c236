#!/usr/bin/env bash
# What CI runs. Installs what is missing, checks the layer rule and clang-format, builds with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs every test (labels unit, integration,
# browser) against that build; then the tests of the daemon's threads (store, web, loop) against
# a ThreadSanitizer build of it; then the Debian package, installed on this machine
# (scripts/package-test.sh: it leaves it purged). Beside the tests, at the lowest priority:
# the ThreadSanitizer build, the package's build and every fuzz target for 5 seconds from its
# corpus (longer runs: docs/hardening.md). clang-tidy is not run here, for CI's time: it is
# scripts/lint.sh, run before each commit (docs/testing.md).
#   --quick  instead: the optimised build (build/, what benchmarks and `lookout run` use) and
#            every test once against it, in about a third of the time
set -euo pipefail
cd "$(dirname "$0")/.."

phase() { echo "== $1 ($(date -u +%H:%M:%S), ${SECONDS} s in)"; }

if [ "${1:-}" = "--quick" ]; then
  scripts/install-deps.sh --test
  phase "build"
  scripts/build.sh --no-debug-info --unity
  phase "tests"
  ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 300
  phase "done"
  exit 0
fi

# Everything any step needs, in one apt call: the steps that run side by side below never wait
# on apt's lock.
scripts/install-deps.sh --test --lint --package --fuzz

phase "style: the layer rule and clang-format"
scripts/lint.sh --style

phase "AddressSanitizer + UndefinedBehaviorSanitizer build"
scripts/build.sh --sanitize --unity

# The tests mostly wait on their monitors' intervals: two at a time keep the two cores about
# half busy, and more at once starve the timing tests (docs/testing.md). The other steps, which
# only compute, run beside them at the lowest CPU and I/O priority and so take only the idle
# half; each leaves its output in build-logs/STEP.log and its exit code in build-logs/STEP.rc.
rm -rf build-logs
mkdir -p build-logs
beside() {
  local step
  for step in tsan package fuzz; do
    local rc=0
    case "$step" in
      tsan) scripts/build.sh --tsan --unity ;;
      # Unoptimised: what is checked is the packaging; the code is tested by the other steps.
      package) scripts/package.sh --unoptimised ;;
      fuzz) scripts/fuzz.sh --seconds 5 ;;
    esac > "build-logs/$step.log" 2>&1 || rc=$?
    echo "$rc" > "build-logs/$step.rc"
  done
}
beside_pid=""
stop_beside() { [ -z "$beside_pid" ] || kill -- -"$beside_pid" 2> /dev/null || true; }
# Its own process group (set -m), so that a failure here stops all of it.
set -m
nice -n 19 ionice -c 3 bash -c "$(declare -f beside); beside" &
beside_pid=$!
set +m
trap 'stop_beside; rm -rf "${reports:-}"' EXIT

# Waits for a step run beside the tests, shows its output, and fails when it failed.
joined() {
  while [ ! -f "build-logs/$1.rc" ]; do
    kill -0 "$beside_pid" 2> /dev/null || { echo "the steps beside the tests stopped early" >&2; exit 1; }
    sleep 2
  done
  phase "$2 (ran beside the tests)"
  cat "build-logs/$1.log"
  [ "$(cat "build-logs/$1.rc")" = 0 ] || { echo "$2 failed: output above" >&2; exit 1; }
}

phase "tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" --timeout 600

joined tsan "ThreadSanitizer build"
phase "threaded tests under TSan"
reports=$(mktemp -d)
# The sanitized build's test programs drive the ThreadSanitizer daemon: one build of the tests.
LOOKOUT_TEST_BINARY="$PWD/build-tsan/lookout" \
TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp log_path=$reports/race second_deadlock_stack=1" \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" --timeout 600 \
    -R '^((Lifecycle|Alerting|History|Secrets|StatusPage|JourneyProbe)\.|HostileClients\.OneAddress)'
if compgen -G "$reports/race*" > /dev/null; then
  cat "$reports"/race*
  echo "ThreadSanitizer reported the data races above" >&2
  exit 1
fi

joined package "Debian package build"
phase "Debian package: installed, checked, removed and purged"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo scripts/package-test.sh

joined fuzz "fuzz targets, 5 s each"
phase "done"
