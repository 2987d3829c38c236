#!/usr/bin/env bash
# Configures and builds into build/ (or build-sanitize/ with --sanitize). Installs nothing.
# --no-debug-info keeps -O2 but drops -g, for a shorter build (what the tests use).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-sanitize
  flags=(-DCMAKE_BUILD_TYPE=Debug -DLOOKOUT_SANITIZE=ON)
elif [ "${1:-}" = "--no-debug-info" ]; then
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
else
  flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g -DNDEBUG")
fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" > /dev/null
cmake --build "$dir" -j "$(nproc)"
