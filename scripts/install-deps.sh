#!/usr/bin/env bash
# Installs every Debian package lookout needs to build, run and test. Idempotent: packages
# already present are left alone, and apt is only asked when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build git ca-certificates
  libcurl4-openssl-dev libssl-dev zlib1g-dev libsqlite3-dev sqlite3 libuv1-dev libc-ares-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libre2-dev
  libcli11-dev libsystemd-dev libcpp-httplib-dev libgtest-dev libgmock-dev
  libhowardhinnant-date-dev tzdata libpsl-dev publicsuffix
  # The dnssec kind: libunbound (whose pkg-config file also wants libevent's and nettle's)
  # and the root's trust anchor.
  libunbound-dev libevent-dev nettle-dev dns-root-data
  # libpq for cluster mode's PostgreSQL.
  libpq-dev
  openssl python3 curl procps
)
# Any of the options below, together: CI installs everything in one apt call up front, so that
# the steps it runs side by side never wait on apt's lock.
for option in "$@"; do
case "$option" in
--test)
  # clang builds the sanitized programs (ASan + UBSan, TSan): it compiles them in half of
  # GCC's time (docs/testing.md), and its runtimes are in libclang-rt.
  packages+=(clang-14 libclang-rt-14-dev)
  # Test peers: a real SMTP server, a real authoritative DNS server, a browser, systemd tools,
  # promtool (in prometheus) for the metrics format, unshare, setpriv (util-linux) and ip
  # (iproute2) for the ping tests' private network namespaces, a gRPC and a WebSocket server,
  # real Nagios plugins for the exec kind, expat to read the XML lookout writes, and a
  # PostgreSQL server that the cluster tests start as throwaway instances of their own.
  packages+=(python3-aiosmtpd knot knot-dnsutils systemd chromium prometheus util-linux iproute2
             python3-grpcio python3-websockets monitoring-plugins-basic libexpat1-dev
             postgresql-15) ;;
--lint)
  # clang for the compile commands, clang-format and clang-tidy of the same release.
  packages+=(clang-14 clang-format-14 clang-tidy-14) ;;
--package)
  # Debian's packaging tools, the man page generator and the package checker.
  packages+=(dpkg-dev debhelper help2man lintian) ;;
--fuzz)
  # clang and libFuzzer for the fuzz targets.
  packages+=(clang-14 libclang-rt-14-dev) ;;
*)
  echo "usage: scripts/install-deps.sh [--test] [--lint] [--package] [--fuzz]" >&2
  exit 2 ;;
esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
