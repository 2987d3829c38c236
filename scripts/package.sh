#!/usr/bin/env bash
# Builds the Debian package with Debian's own tooling (debian/, debhelper, dh) and puts the
# .deb files in dist/:
#   scripts/package.sh         then: sudo apt-get install ./dist/lookout_*_amd64.deb
#   --unoptimised  without -O2 and -g (dpkg's noopt): the same package to check the packaging
#                  with, built in 1 min 40 s instead of 3 min on 2 cores, as CI does
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --package
# dpkg-buildpackage writes its results beside the source folder; they are moved to dist/.
rm -rf dist
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
options="parallel=$(nproc)"
if [ "${1:-}" = "--unoptimised" ]; then
  options+=" noopt"
  export DEB_CXXFLAGS_STRIP="-g"
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/package.sh [--unoptimised]" >&2
  exit 2
fi
DEB_BUILD_OPTIONS="$options" dpkg-buildpackage -us -uc -b
mkdir -p dist
for f in "lookout_${version}_${arch}.deb" "lookout-dbgsym_${version}_${arch}.deb" \
    "lookout_${version}_${arch}.buildinfo" "lookout_${version}_${arch}.changes"; do
  [ -e "../$f" ] && mv "../$f" dist/
done
ls dist
