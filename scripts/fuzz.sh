#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 5s), or,
# with a second argument, only the targets whose name matches that regular
# expression (make fuzz FUZZ=FuzzFastPathAgreesWithJWX FUZZTIME=10m).
# Seeds come from the f.Add calls and testdata/fuzz corpora.
# Each run's output goes to a private temporary folder, removed at exit.
# A failing target does not stop the others: its log is printed, the
# failures are listed at the end, and the exit status is 1.
set -euo pipefail
fuzztime="${1:-5s}"
only="${2:-}"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgeauth-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/fuzz.log
failed=()
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    if [[ -n $only && ! $target =~ $only ]]; then
      continue
    fi
    echo "fuzz $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
      cat "$log"
      failed+=("$pkg $target")
    else
      grep 'fuzz: elapsed' "$log" | tail -1 || true
    fi
  done
done
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "every fuzz target${only:+ matching $only} passed ($fuzztime each)"
