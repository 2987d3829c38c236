#!/usr/bin/env bash
# Installs what is missing, checks the house style (scripts/lint.sh: the layer rule,
# clang-format, clang-tidy), builds, and runs every test (labels unit, integration, browser) in
# a build with AddressSanitizer and UndefinedBehaviorSanitizer; then the tests of the daemon's
# threads (store, web, loop) against a ThreadSanitizer build of it; then the Debian package,
# built and installed on this machine (scripts/package-test.sh: it leaves it purged); then every
# fuzz target for 5 seconds from its corpus (longer runs: docs/hardening.md). This is what CI
# runs.
#   --quick  instead: the optimised build (build/, what benchmarks and `lookout run` use) and
#            every test once against it, in about a third of the time
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

phase() { echo "== $1 ($(date -u +%H:%M:%S), ${SECONDS} s in)"; }

if [ "${1:-}" = "--quick" ]; then
  phase "build"
  scripts/build.sh --no-debug-info --unity
  phase "tests"
  ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 300
  phase "done"
  exit 0
fi

phase "lint: layers, clang-format, clang-tidy"
scripts/lint.sh

phase "AddressSanitizer + UndefinedBehaviorSanitizer build"
scripts/build.sh --sanitize --unity
phase "tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" --timeout 600

phase "ThreadSanitizer build"
scripts/build.sh --tsan --unity
phase "threaded tests under TSan"
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
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

phase "Debian package: built, installed, checked, removed and purged"
# Unoptimised: what is checked is the packaging; the code was tested above.
scripts/package.sh --unoptimised
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo scripts/package-test.sh

phase "fuzz targets, 5 s each"
scripts/fuzz.sh --seconds 5
phase "done"
