#!/usr/bin/env bash
# Builds the Debian package with Debian's own tooling (debian/, debhelper, dh) and puts the
# .deb files in dist/:
#   scripts/package.sh         then: sudo apt-get install ./dist/lookout_*_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --package
# dpkg-buildpackage writes its results beside the source folder; they are moved to dist/.
rm -rf dist
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b
mkdir -p dist
for f in "lookout_${version}_${arch}.deb" "lookout-dbgsym_${version}_${arch}.deb" \
    "lookout_${version}_${arch}.buildinfo" "lookout_${version}_${arch}.changes"; do
  [ -e "../$f" ] && mv "../$f" dist/
done
ls dist
