#!/usr/bin/env bash
# Configures and builds. Installs nothing.
#   (no option)      build/: -O2 -g, what benchmarks and `lookout run` use
#   --no-debug-info  build/: -O2 without -g, what the tests use (shorter)
#   --sanitize       build-sanitize/: AddressSanitizer + UndefinedBehaviorSanitizer, -O0 -g1
#                    (line tables: a report still names file and line; the build is shorter),
#                    not position independent, unity batches of 16 files; compiled by clang
#   --tsan           build-tsan/: ThreadSanitizer, -O1 -g1, only the daemon (the tests of
#                    build-sanitize/ run it through LOOKOUT_TEST_BINARY); compiled by clang
# The sanitized builds use clang-14: it compiles them in about half of GCC 12's time, and GCC
# still builds what ships (build/, the package).
#   --unity          also: compile the sources in batches (CMake unity build), which shares
#                    the template instantiations of json, fmt and spdlog; about 35 % faster
#                    from scratch, slower for one changed file
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
# The build `lookout run` uses does not stop at a warning: GCC 12's -O2 flow analysis reports
# out-of-bounds copies inside libstdc++ that cannot happen (one stopped a fresh clone's build at
# `std::string + const char*`). The test, sanitizer and lint builds keep warnings as errors.
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g -DNDEBUG"
       -DLOOKOUT_WERROR=OFF)
target=()
unity=()
for arg in "$@"; do
  case "$arg" in
    --sanitize)
      dir=build-sanitize
      flags=(-DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1
             -DLOOKOUT_SANITIZE=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16) ;;
    --tsan)
      dir=build-tsan
      flags=(-DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo
             "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DLOOKOUT_TSAN=ON -DLOOKOUT_TESTS=OFF)
      target=(--target lookout) ;;
    --no-debug-info)
      flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"
             -DLOOKOUT_WERROR=ON) ;;
    --unity)
      unity=(-DCMAKE_UNITY_BUILD=ON) ;;
    *)
      echo "usage: scripts/build.sh [--no-debug-info | --sanitize | --tsan] [--unity]" >&2
      exit 2 ;;
  esac
done
cmake -S . -B "$dir" -G Ninja "${flags[@]}" "${unity[@]}" > /dev/null
cmake --build "$dir" -j "$(nproc)" "${target[@]}"
