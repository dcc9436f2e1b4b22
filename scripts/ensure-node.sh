#!/usr/bin/env bash
# Makes sure Node.js and npm are there for the tests: the bridge tests
# (deploy/bridge) and oidc-provider, the second test IdP
# (internal/oidcprovider), which needs the Node.js major version in
# internal/oidcprovider/js/package.json "engines" or later. Installs Debian's
# nodejs and npm when missing and we are root (Debian 12's nodejs is 18.x,
# enough). Idempotent and quiet when all is well. `make test` needs Node
# whatever CI says, so anything missing or too old is an error here, with
# what to do; it runs before any Go test, so that shows in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

engines=$(sed -n 's/.*"node"[[:space:]]*:[[:space:]]*">=[[:space:]]*\([0-9][0-9]*\)".*/\1/p' internal/oidcprovider/js/package.json)
need=${engines:-18}

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-node: ${missing[*]} missing: run 'sudo apt-get install -y ${missing[*]}' (Node.js $need or later)" >&2
    exit 1
  fi
  echo "ensure-node: installing ${missing[*]} (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for c in node npm; do
    command -v "$c" >/dev/null 2>&1 || { echo "ensure-node: $c still missing after apt-get install" >&2; exit 1; }
  done
fi

version=$(node --version 2>/dev/null || true)
major=${version#v}
major=${major%%.*}
if ! [[ $major =~ ^[0-9]+$ ]] || ((major < need)); then
  echo "ensure-node: $(command -v node) is Node.js ${version:-of unknown version}; oidc-provider (internal/oidcprovider) needs $need or later." >&2
  echo "ensure-node: install a newer nodejs (Debian 12's own is 18.x: apt-get install nodejs npm) and put it first on PATH." >&2
  exit 1
fi
