package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrBuild classifies a failed `go build`.
var ErrBuild = errors.New("deploy: build failed")

// BuildTags are the tags every bootstrap is built with; each cuts code the
// functions never run (measured in README.md, "One zip and what is in it"):
//   - lambda.norpc: aws-lambda-go without its RPC mode (the retired go1.x
//     runtime's _LAMBDA_SERVER_PORT); it links net/rpc, whose use of
//     reflect's Method keeps every exported method of every type alive;
//   - nethttpomithttp2: net/http without its bundled HTTP/2; the only
//     outbound calls are to the IdP's token, revocation and introspection
//     endpoints, which all speak HTTP/1.1.
var BuildTags = []string{"lambda.norpc", "nethttpomithttp2"}

// Builder cross-compiles function packages into Lambda bootstraps.
type Builder struct {
	// Root is the module root the package paths are relative to.
	Root string
	// Go is the go command; default "go" from PATH.
	Go string
	// GOARCH is the target architecture; default amd64, the only one
	// Lambda@Edge accepts. Tests set the host's to run the binary.
	GOARCH string
}

// Build compiles pkg to out as a static linux binary with BuildTags,
// stripped and without build ids or VCS stamps, so the same sources give the
// same bytes.
func (b *Builder) Build(ctx context.Context, pkg, out string) error {
	goCmd := b.Go
	if goCmd == "" {
		goCmd = "go"
	}
	arch := b.GOARCH
	if arch == "" {
		arch = "amd64"
	}
	cmd := exec.CommandContext(ctx, goCmd, "build",
		"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-tags="+strings.Join(BuildTags, ","),
		"-o", out, pkg)
	cmd.Dir = b.Root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		// Compiler output names files and lines, never config values.
		return fmt.Errorf("%w: %s: %w\n%s", ErrBuild, pkg, err, strings.TrimSpace(output.String()))
	}
	return nil
}
