#!/usr/bin/env bash
# Writes the man page lookout(1) from the CLI's own help: help2man for the synopsis and the
# options, and one section per command from `lookout COMMAND --help`, so the page cannot drift
# from the binary it documents.
#   scripts/manpage.sh BINARY OUT
set -euo pipefail
binary=$1
out=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
version=$("$binary" version | head -n 1)

{
  echo "[COMMANDS]"
  # The commands, as the top-level help lists them under "Subcommands:".
  "$binary" --help | awk '/^Subcommands:/ { on = 1; next } on && NF { print $1 }' |
    while read -r cmd; do
      echo ".SS $cmd"
      echo ".nf"
      "$binary" "$cmd" --help | sed -e 's|^Usage: [^ ]*lookout |Usage: lookout |' -e 's/\\/\\e/g' -e 's/^\./\\\&./'
      echo ".fi"
    done
  echo "[FILES]"
  echo ".TP"
  echo ".I /etc/lookout/lookout.toml"
  echo "The service's config (readable by root and the lookout group only)."
  echo ".TP"
  echo ".I /var/lib/lookout/lookout.db"
  echo "Results, incidents and the alert outbox (SQLite)."
  echo "[SEE ALSO]"
  echo "The full documentation is in /usr/share/doc/lookout/, examples of every monitor kind and"
  echo "channel in /usr/share/doc/lookout/examples/."
} > "$include"

help2man --no-info --no-discard-stderr --section=1 \
  --name="uptime and synthetic monitoring daemon with a status page" \
  --version-string="$version" --include="$include" --output="$out" "$binary"
