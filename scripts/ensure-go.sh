#!/usr/bin/env bash
# Makes sure the Go toolchain make test uses is there and new enough: the
# go directive of go.mod (go 1.26) or later. It installs nothing (Go comes
# from go.dev/dl, not from Debian, whose golang is older); it says what is
# missing, in seconds, before any build or test.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
need=$(sed -n 's/^go[[:space:]]\{1,\}\([0-9][0-9.]*\).*/\1/p' go.mod | head -1)
if ! command -v "$go" >/dev/null 2>&1; then
  echo "ensure-go: $go not found: install Go $need or later (https://go.dev/dl/) and put it on PATH" >&2
  exit 1
fi
# GOTOOLCHAIN=local: report the go on PATH, not one it would download.
have=$(GOTOOLCHAIN=local "$go" env GOVERSION 2>/dev/null || true)
have=${have#go}
version_ge() { # $1 >= $2, dotted numbers
  local IFS=.
  local -a a=($1) b=($2)
  for i in 0 1 2; do
    local x=${a[i]:-0} y=${b[i]:-0}
    x=${x%%[!0-9]*} y=${y%%[!0-9]*}
    ((10#${x:-0} > 10#${y:-0})) && return 0
    ((10#${x:-0} < 10#${y:-0})) && return 1
  done
  return 0
}
if [[ -z $have ]] || ! version_ge "$have" "$need"; then
  echo "ensure-go: $(command -v "$go") is Go ${have:-of unknown version}; go.mod needs $need or later (https://go.dev/dl/)" >&2
  exit 1
fi
