#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 5s).
# Seeds come from the f.Add calls and testdata/fuzz corpora.
set -euo pipefail
fuzztime="${1:-5s}"
cd "$(dirname "$0")/.."
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/edgeauth-fuzz.log 2>&1 || { cat /tmp/edgeauth-fuzz.log; exit 1; }
  done
done
