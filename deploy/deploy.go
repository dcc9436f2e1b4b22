// Package deploy ships the suite to AWS: it completes a deployment config
// (JWKS fetched from the issuer, session keys generated once and kept),
// cross-compiles each function to a linux/amd64 bootstrap, and writes one
// deterministic Lambda@Edge zip per function holding the Node.js bridge,
// the bootstrap and the completed config.json.
//
// Lambda@Edge runs only Node.js and Python, so the Go binary runs as a child
// of the bridge (bridge/index.mjs), which serves it the Lambda Runtime API on
// loopback. template.yaml is the CloudFormation stack that deploys the zips.
package deploy

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed bridge/index.mjs
var bridgeFS embed.FS

// BridgeName is the bridge's file name inside each zip; with the handler
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

// Function is one Lambda@Edge function: its name (the zip's base name) and
// the Go package that builds its bootstrap, relative to the module root.
type Function struct {
	Name    string
	Package string
}

// Functions returns the suite's three functions.
func Functions() []Function {
	return []Function{
		{Name: "check-auth", Package: "./functions/check-auth"},
		{Name: "parse-callback", Package: "./functions/parse-callback"},
		{Name: "sign-out", Package: "./functions/sign-out"},
	}
}

// Package size limits of Lambda@Edge, zipped.
const (
	ViewerLimit = 1 << 20  // viewer-request and viewer-response triggers
	OriginLimit = 50 << 20 // origin-request and origin-response triggers
)
