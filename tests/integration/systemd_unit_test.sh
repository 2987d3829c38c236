#!/usr/bin/env bash
# The unit file passes `systemd-analyze verify` and rates 2.0 or lower (lower is safer) in
# `systemd-analyze security`. Run on a copy that points at the built binary, since verify
# checks that ExecStart exists.
set -euo pipefail
unit_src="$1"
binary="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/bin/lookout|$binary|g" "$unit_src" > "$work/lookout.service"

# --man=no: the man page the unit names is installed by the package (its test verifies it).
systemd-analyze verify --man=no "$work/lookout.service"

rating=$(systemd-analyze security --offline=true "$work/lookout.service" 2>&1 |
  sed -n 's/.*Overall exposure level for lookout.service: \([0-9.]*\).*/\1/p')
echo "exposure level: ${rating:-none}"
[ -n "$rating" ] || { echo "no rating printed"; exit 1; }
awk -v r="$rating" 'BEGIN { exit !(r <= 2.0) }' || { echo "exposure $rating is above 2.0"; exit 1; }

# The unit speaks the notify protocol lookout implements, runs as its own user, keeps state.
for line in 'Type=notify' 'WatchdogSec=' 'User=lookout' 'StateDirectory=lookout' 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qF "$line" "$work/lookout.service" || { echo "missing: $line"; exit 1; }
done
