#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (labels unit, integration, browser),
# then does the same in a build with AddressSanitizer and UndefinedBehaviorSanitizer.
# --quick skips the sanitizer build. The fuzz targets run with scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

scripts/build.sh --no-debug-info
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 300

if [ "${1:-}" != "--quick" ]; then
  scripts/build.sh --sanitize
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" --timeout 600
fi
