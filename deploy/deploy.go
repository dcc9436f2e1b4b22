// Package deploy ships the suite to AWS: it completes a deployment config
// (JWKS fetched from the issuer, session keys generated once and kept),
// cross-compiles the one bootstrap that holds the three functions
// (cmd/bootstrap) for linux/amd64, and writes one deterministic Lambda@Edge
// zip holding the Node.js bridge, the bootstrap and the completed
// config.json, which the three functions share.
//
// Lambda@Edge runs only Node.js and Python, so the Go binary runs as a
// long-lived child of the bridge (bridge/index.mjs), which relays each event
// to it as frames over its stdin/stdout (package bridge). template.yaml is
// the CloudFormation stack that deploys the zip.
package deploy

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed bridge/index.mjs
var bridgeFS embed.FS

// BridgeName is the bridge's file name inside the zip; with the handler
// setting index.handler, Lambda loads it as an ES module.
const BridgeName = "index.mjs"

// Bridge returns the Node.js bridge handler's source.
func Bridge() []byte {
	b, err := fs.ReadFile(bridgeFS, "bridge/"+BridgeName)
	if err != nil {
		// The file is embedded at build time: failing here is a broken build.
		panic(fmt.Sprintf("deploy: embedded bridge missing: %v", err))
	}
	return b
}

// FunctionNames are the suite's three functions, as cmd/bootstrap knows
// them: each Lambda function's name must be one of these or end in
// -<one of these> (lambdafn.Select).
func FunctionNames() []string { return []string{"check-auth", "parse-callback", "sign-out"} }

// Package size limits of Lambda@Edge, zipped.
const (
	ViewerLimit = 1 << 20  // viewer-request and viewer-response triggers
	OriginLimit = 50 << 20 // origin-request and origin-response triggers
)
