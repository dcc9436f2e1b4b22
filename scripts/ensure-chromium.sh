#!/usr/bin/env bash
# Makes sure Chromium is installed for the browser tests: Debian's chromium
# package, installed when missing and we are root. Idempotent and quiet.
# Without root it says what to run; then it fails with --require (what
# make test passes: its browser tests must run) or under CI (CI set, not
# false/0), and otherwise succeeds, so the browser tests skip.
set -euo pipefail
require=false
[[ ${1:-} == --require ]] && require=true
for c in chromium chromium-browser; do
  if command -v "$c" >/dev/null 2>&1; then
    exit 0
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-chromium: chromium missing: run 'sudo apt-get install -y chromium' (the browser tests need it)" >&2
  $require && exit 1
  case "${CI:-}" in
    "" | false | 0) exit 0 ;;
    *) exit 1 ;;
  esac
fi
echo "ensure-chromium: installing chromium (Debian package)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null || { echo "ensure-chromium: chromium still missing after apt-get install" >&2; exit 1; }
