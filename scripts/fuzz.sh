#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 5s).
# Seeds come from the f.Add calls and testdata/fuzz corpora.
# Each run's output goes to a private temporary folder, removed at exit.
set -euo pipefail
fuzztime="${1:-5s}"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgeauth-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/fuzz.log
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1 || { cat "$log"; exit 1; }
  done
done
