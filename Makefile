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

.PHONY: all build test unit e2e bench fuzz run package prereqs dex chromium node go vet fmt clean

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

## go: the Go toolchain go.mod asks for (checked, not installed)
go:
	@scripts/ensure-go.sh

## prereqs: everything make test needs, checked before anything is built or tested, the quick checks first:
## Node.js, Go, Chromium (required: the browser tests must run), then Dex (built once: 148 s of CPU time with an empty build cache)
prereqs:
	@scripts/ensure-node.sh
	@scripts/ensure-go.sh
	@scripts/ensure-chromium.sh --require
	@scripts/ensure-dex.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./scripts/wasmbench

## test: every test, the browser tests included; fuzz targets run their seed corpora (make fuzz explores)
# prereqs first: anything missing fails in seconds, with what to do, not after the Go tests.
test: prereqs
	@$(MAKE) --no-print-directory vet build
	$(GO) test -race -cover -timeout 30m ./...
	node --test deploy/bridge/*.test.mjs

## bench: issue 10's table in one run (scripts/bench: bridge, in-process, WebAssembly, cold start, check-auth paths, package; a few minutes)
bench:
	$(GO) run ./scripts/bench

## fuzz: every fuzz target for FUZZTIME (make fuzz FUZZTIME=30s), or those whose name matches FUZZ (make fuzz FUZZ=FuzzFastPathAgreesWithJWX FUZZTIME=10m)
fuzz:
	@scripts/fuzz.sh $(or $(FUZZTIME),5s) '$(FUZZ)'

## run: the demo — local edge on http://localhost:8080 with Dex and the demo site (IDP=oidc-provider for panva's oidc-provider, CONFIG= for your own IdP, EDGE= for another edge config: a file, or aws / viewer for testdata/demo/localedge-aws.json / localedge-viewer.json, INVOKE=runtime-api)
run: $(if $(filter oidc-provider,$(IDP)),node,dex) build
	bin/localedge $(if $(CONFIG),-config $(CONFIG)) $(if $(IDP),-idp $(IDP)) $(if $(EDGE),-edge $(EDGE)) -invoke $(INVOKE)

## package: dist/edgeauth.zip, the one zip the three Lambda@Edge functions share, and the viewer mode's dist/viewer-function.js + dist/viewer-kvs.json (make package CONFIG=prod.json [JWKS=jwks.json] [VIEWER_INLINE_KEYS=1])
package:
	@test -n "$(CONFIG)" || { echo "usage: make package CONFIG=prod.json [JWKS=jwks.json] [VIEWER_INLINE_KEYS=1]"; exit 2; }
	$(GO) run ./cmd/package -config $(CONFIG) $(if $(JWKS),-jwks $(JWKS)) $(if $(VIEWER_INLINE_KEYS),-viewer-inline-keys) -out dist

clean:
	rm -rf bin dist
