# edgeauth — see README.md. Every target installs or builds what it needs.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := check-auth parse-callback sign-out
FUZZTIME ?= 5s
CONFIG ?=
JWKS ?=
INVOKE ?= in-process
IDP ?=

.PHONY: all build test unit e2e bench fuzz run package dex chromium node vet fmt clean

all: build

## build: the three functions' bootstrap binaries (linux/amd64) and the local edge
build:
	@for f in $(FUNCTIONS); do \
	  echo "build bin/$$f/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags="-s -w -buildid=" -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done
	$(GO) build -o bin/localedge ./cmd/localedge

## dex: the demo IdP, pinned in tools/go.mod and built once
dex:
	@scripts/ensure-dex.sh

## chromium: Debian's chromium for the browser tests (installed when missing and running as root)
chromium:
	@scripts/ensure-chromium.sh

## node: Node.js and npm for the bridge tests and oidc-provider (installed when missing and running as root)
node:
	@scripts/ensure-node.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

## test: every test, the browser tests included; fuzz targets run their seed corpora (make fuzz explores)
# node first: a missing or too old Node.js fails in seconds, not after the Go tests.
test: node dex chromium vet build
	$(GO) test -race -cover -timeout 30m ./...
	@if command -v node >/dev/null; then node --test deploy/bridge/*.test.mjs; else echo "node missing: bridge tests need Node.js" >&2; exit 1; fi

## bench: the benchmarks, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: every fuzz target for FUZZTIME (make fuzz FUZZTIME=30s)
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

## run: the demo — local edge on http://localhost:8080 with Dex and the demo site (IDP=oidc-provider for panva's oidc-provider, CONFIG= for your own IdP, EDGE= for another edge config, INVOKE=runtime-api)
run: $(if $(filter oidc-provider,$(IDP)),node,dex) build
	bin/localedge $(if $(CONFIG),-config $(CONFIG)) $(if $(IDP),-idp $(IDP)) $(if $(EDGE),-edge $(EDGE)) -invoke $(INVOKE)

## package: dist/<function>.zip for Lambda@Edge (make package CONFIG=prod.json [JWKS=jwks.json])
package:
	@test -n "$(CONFIG)" || { echo "usage: make package CONFIG=prod.json [JWKS=jwks.json]"; exit 2; }
	$(GO) run ./cmd/package -config $(CONFIG) $(if $(JWKS),-jwks $(JWKS)) -out dist

clean:
	rm -rf bin dist
