#!/usr/bin/env bash
# Makes sure Chromium is installed for the browser tests: Debian's chromium
# package, installed when missing and we are root. Idempotent and quiet.
# Without root it only says what to run and succeeds, so the browser tests
# skip; under CI (CI set, not false/0) a missing browser is an error.
set -euo pipefail
for c in chromium chromium-browser; do
  if command -v "$c" >/dev/null 2>&1; then
    exit 0
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "chromium missing: run 'sudo apt-get install -y chromium'" >&2
  case "${CI:-}" in
    "" | false | 0) exit 0 ;;
    *) exit 1 ;;
  esac
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
