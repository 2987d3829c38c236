#!/usr/bin/env bash
# Installs the package built by scripts/package.sh on this machine and checks what an operator
# relies on: the binary, the user, the unit, the config and its modes, lintian, and that remove
# keeps the state and the config while purge removes them. Needs root; leaves the package
# purged. CI runs it after the tests.
#   scripts/package-test.sh [DEB]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "package-test.sh installs a package: run it as root" >&2; exit 2; }
deb=${1:-$(ls dist/lookout_*_"$(dpkg --print-architecture)".deb)}
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1" >&2; failures=$((failures + 1)); }
check() {  # check "what" command...
  local what=$1
  shift
  if "$@" > /tmp/lookout-package-check.log 2>&1; then pass "$what"; else
    fail "$what"
    sed 's/^/     /' /tmp/lookout-package-check.log >&2
  fi
}
mode_of() { stat -c '%a %U:%G' "$1"; }

echo "== lintian"
check "lintian finds no error or warning" lintian --fail-on error,warning "$deb"

echo "== install"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "./$deb" > /tmp/lookout-package-install.log 2>&1 ||
  { cat /tmp/lookout-package-install.log >&2; exit 1; }
check "lookout version runs" /usr/bin/lookout version
check "the lookout user exists" id lookout
check "the unit is where systemd looks" test -f /lib/systemd/system/lookout.service
check "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/lookout.service
check "systemd-analyze verify accepts the unit" systemd-analyze verify /lib/systemd/system/lookout.service
check "the man page is installed" test -f /usr/share/man/man1/lookout.1.gz
check "the docs are installed" test -f /usr/share/doc/lookout/docs/configuration.md.gz
check "the examples are installed" test -f /usr/share/doc/lookout/examples/channels.toml
check "/etc/lookout is 750 root:lookout" test "$(mode_of /etc/lookout)" = "750 root:lookout"
check "the config is 640 root:lookout" test "$(mode_of /etc/lookout/lookout.toml)" = "640 root:lookout"
check "the config is a conffile" grep -qx ' */etc/lookout/lookout.toml [0-9a-f]*' \
  <(dpkg-query -W -f='${Conffiles}\n' lookout)
check "the shipped config passes lookout check as the lookout user" \
  runuser -u lookout -- /usr/bin/lookout check -c /etc/lookout/lookout.toml
check "others cannot read the config" \
  sh -c '! runuser -u nobody -- cat /etc/lookout/lookout.toml'
check "Depends holds ca-certificates and the linked libraries" \
  sh -c 'dpkg-query -W -f="\${Depends}" lookout | grep -q ca-certificates &&
         dpkg-query -W -f="\${Depends}" lookout | grep -q libcurl4'

echo "== an upgrade restarts only onto a config the new version accepts"
cp /etc/lookout/lookout.toml /tmp/lookout-package-config.toml
echo "not toml [" >> /etc/lookout/lookout.toml
dpkg -i "$deb" > /tmp/lookout-package-upgrade.log 2>&1 || true
check "a config lookout check refuses is named, and nothing is restarted" \
  grep -q "does not accept /etc/lookout/lookout.toml" /tmp/lookout-package-upgrade.log
check "the operator's config is left as it was" grep -q "not toml \[" /etc/lookout/lookout.toml
cp /tmp/lookout-package-config.toml /etc/lookout/lookout.toml
dpkg -i "$deb" > /tmp/lookout-package-upgrade.log 2>&1
check "an accepted config upgrades quietly" \
  sh -c '! grep -q "does not accept" /tmp/lookout-package-upgrade.log'
check "the config keeps 640 root:lookout after an upgrade" \
  test "$(mode_of /etc/lookout/lookout.toml)" = "640 root:lookout"

echo "== remove keeps the state and the config"
mkdir -p /var/lib/lookout
echo state > /var/lib/lookout/marker
echo "# an operator's edit" >> /etc/lookout/lookout.toml
apt-get remove -y -qq lookout > /dev/null 2>&1
check "the binary is gone" test ! -e /usr/bin/lookout
check "/var/lib/lookout is kept" test -f /var/lib/lookout/marker
check "the edited config is kept" grep -q "an operator's edit" /etc/lookout/lookout.toml

echo "== purge removes them"
apt-get purge -y -qq lookout > /dev/null 2>&1
check "/var/lib/lookout is gone" test ! -e /var/lib/lookout
check "/etc/lookout is gone" test ! -e /etc/lookout

if [ "$failures" -gt 0 ]; then
  echo "$failures package checks failed" >&2
  exit 1
fi
echo "every package check passed"
