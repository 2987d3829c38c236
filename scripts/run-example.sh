#!/usr/bin/env bash
# Installs what is missing, builds, and runs the daemon with config.example.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/lookout run -c config.example.toml "$@"
