# edgeauth — see README.md. Every target installs or builds what it needs.
SHELL := /bin/bash
GO ?= go
# The flags deploy.Builder packages with (deploy/build.go says why each tag).
BUILDFLAGS := -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -tags=lambda.norpc,nethttpomithttp2
FUZZTIME ?= 5s
CONFIG ?=
JWKS ?=
INVOKE ?= in-process
IDP ?=

.PHONY: all build test unit e2e bench fuzz run package dex chromium node vet fmt clean

all: build

## build: the one bootstrap the three functions share (cmd/bootstrap, linux/amd64, as packaged) and the local edge
build:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build $(BUILDFLAGS) -o bin/bootstrap ./cmd/bootstrap
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
	GOOS=js GOARCH=wasm $(GO) vet ./scripts/wasmbench

## test: every test, the browser tests included; fuzz targets run their seed corpora (make fuzz explores)
# node first: a missing or too old Node.js fails in seconds, not after the Go tests.
test: node dex chromium vet build
	$(GO) test -race -cover -timeout 30m ./...
	@if command -v node >/dev/null; then node --test deploy/bridge/*.test.mjs; else echo "node missing: bridge tests need Node.js" >&2; exit 1; fi

## bench: issue 10's table in one run (scripts/bench: bridge, in-process, WebAssembly, cold start, check-auth paths, package; a few minutes)
bench:
	$(GO) run ./scripts/bench

## fuzz: every fuzz target for FUZZTIME (make fuzz FUZZTIME=30s)
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

## run: the demo — local edge on http://localhost:8080 with Dex and the demo site (IDP=oidc-provider for panva's oidc-provider, CONFIG= for your own IdP, EDGE= for another edge config, INVOKE=runtime-api)
run: $(if $(filter oidc-provider,$(IDP)),node,dex) build
	bin/localedge $(if $(CONFIG),-config $(CONFIG)) $(if $(IDP),-idp $(IDP)) $(if $(EDGE),-edge $(EDGE)) -invoke $(INVOKE)

## package: dist/edgeauth.zip, the one zip the three Lambda@Edge functions share (make package CONFIG=prod.json [JWKS=jwks.json])
package:
	@test -n "$(CONFIG)" || { echo "usage: make package CONFIG=prod.json [JWKS=jwks.json]"; exit 2; }
	$(GO) run ./cmd/package -config $(CONFIG) $(if $(JWKS),-jwks $(JWKS)) -out dist

clean:
	rm -rf bin dist
