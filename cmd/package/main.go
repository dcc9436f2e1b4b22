// Command package turns a deployment config into the Lambda@Edge zip:
//
//	go run ./cmd/package -config prod.json [-jwks jwks.json] [-out dist]
//
// It gives the config the whole check every cold start makes
// (lambdafn.CheckConfig: the functions' own loader, then every shared part
// built from it, the path rules included), so a config that could never
// start a function (a JWKS without a signing key, a cookie attribute the
// session store refuses, a rule authz refuses) stops here, not on Lambda,
// with the field named, and before anything is written. It fills in what
// can be derived — the issuer's JWKS (fetched, or read from
// -jwks for offline packaging) and session keys (generated once, saved
// beside the config as <name>.keys.json, and reused by every later run) —
// writes the completed config to <out>/config.json, the viewer-level
// mode's CloudFront Function to <out>/viewer-function.js and its
// KeyValueStore content (the session hash keys) to <out>/viewer-kvs.json
// (with -viewer-inline-keys the keys go into the function instead, and no
// store file is written) and the template with that function inline to
// <out>/template.yaml (what to deploy with ViewerMode=true), builds the one bootstrap
// that holds the three functions (cmd/bootstrap) for linux/amd64 and writes
// <out>/edgeauth.zip holding the Node.js bridge (index.mjs), bootstrap and
// config.json, which the three functions share. It prints the zip's size
// against the Lambda@Edge limits, and never prints a key or the client
// secret. It warns when the config carries the repository's test keys (the
// example configs' session keys, testdata/keys in the JWKS), whose secrets
// are public.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/shared/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	a := &app{
		rand:   rand.Reader,
		client: &http.Client{Timeout: 30 * time.Second},
	}
	if err := a.run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "package:", err)
		}
		os.Exit(1)
	}
}

// app holds what tests replace: the bootstrap package to build, the
// random source and the HTTP client.
type app struct {
	bootstrap string // "": deploy.BootstrapPackage
	rand      io.Reader
	client    *http.Client
}

func (a *app) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("package", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "deployment config `file` (required)")
	jwksPath := fl.String("jwks", "", "JWKS `file` to embed instead of fetching it from the issuer")
	keysPath := fl.String("keys", "", "session keys `file` (default: <config name>.keys.json beside the config)")
	out := fl.String("out", "dist", "output `directory`")
	root := fl.String("root", "", "module root holding ./functions (default: the nearest go.mod upwards)")
	inlineKeys := fl.Bool("viewer-inline-keys", false, "put the session hash keys in viewer-function.js instead of viewer-kvs.json (see deploy/README.md: who can read them)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *configPath == "" || fl.NArg() > 0 {
		fl.Usage()
		return errors.New("-config is required, and no arguments are taken")
	}
	if *keysPath == "" {
		*keysPath = deploy.KeysFilePath(*configPath)
	}
	if *root == "" {
		r, err := findModuleRoot()
		if err != nil {
			return err
		}
		*root = r
	}

	in := deploy.ConfigInput{}
	var err error
	if in.Config, err = os.ReadFile(*configPath); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if *jwksPath != "" {
		if in.JWKS, err = os.ReadFile(*jwksPath); err != nil {
			return fmt.Errorf("jwks: %w", err)
		}
	}
	if in.SavedKeys, err = deploy.ReadKeysFile(*keysPath); err != nil {
		return fmt.Errorf("%s: %w", *keysPath, err)
	}

	c := &deploy.Completer{HTTPClient: a.client, Rand: a.rand}
	done, err := c.Complete(ctx, in)
	if errors.Is(err, config.ErrInvalid) {
		return fmt.Errorf("config %s: every function would fail its cold start: %w", *configPath, err)
	}
	if err != nil {
		return err
	}
	// Save generated keys before anything else can fail, so a retry reuses
	// them instead of minting another pair.
	if len(done.GeneratedKeys) > 0 {
		if err := deploy.WriteKeysFile(*keysPath, done.GeneratedKeys); err != nil {
			return err
		}
	}
	summarize(stdout, *configPath, *keysPath, done)
	for _, w := range testKeyWarnings(*root, done.Config) {
		fmt.Fprintln(stderr, "package: WARNING:", w)
	}

	p := &deploy.Packager{Builder: &deploy.Builder{Root: *root}, Out: *out, Bootstrap: a.bootstrap}
	// Before the build: a config whose rules do not fit the function stops
	// here.
	tpl, err := os.ReadFile(filepath.Join(*root, "deploy", deploy.TemplateName))
	if err != nil {
		return fmt.Errorf("package: the template: %w", err)
	}
	va, err := p.WriteViewerFunction(done.Config, viewerfn.Options{InlineKeys: *inlineKeys}, tpl)
	if err != nil {
		return err
	}
	art, err := p.Package(ctx, done.JSON)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (holds the session keys and client secret: keep it private)\n", filepath.Join(*out, config.FileName))
	summarizeViewer(stdout, va)
	fmt.Fprintln(stdout)
	if err := deploy.WriteSizeTable(stdout, []deploy.Artifact{art}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nThe three functions share this zip; Lambda@Edge takes it on origin-request (50 MiB). See deploy/README.md.")
	return nil
}

// summarizeViewer names the viewer-level mode's files (used when the
// template's ViewerMode is on) and the function's size against CloudFront's
// limit.
func summarizeViewer(w io.Writer, a deploy.ViewerArtifact) {
	keys := "its KeyValueStore holds the session hash keys"
	if a.InlineKeys {
		keys = "holds the session hash keys inline: keep it private"
	}
	fmt.Fprintf(w, "wrote %s for the viewer-level mode (%d of %d bytes; %s)\n", a.FunctionPath, a.FunctionSize, viewerfn.MaxCodeSize, keys)
	deployHow := "deploy it with aws cloudformation deploy --template-file"
	if a.TemplateSize > deploy.MaxTemplateBody {
		deployHow = fmt.Sprintf("over CloudFormation's %d-byte inline limit: deploy it with --s3-bucket", deploy.MaxTemplateBody)
	}
	fmt.Fprintf(w, "wrote %s, the template with that function inline (%d bytes; %s)\n", a.TemplatePath, a.TemplateSize, deployHow)
	if a.KVSPath != "" {
		fmt.Fprintf(w, "wrote %s (the function's KeyValueStore: holds the session hash keys, keep it private)\n", a.KVSPath)
	}
}

// summarize says where each derived value came from, naming files and URLs
// only: never a key or the client secret.
func summarize(w io.Writer, configPath, keysPath string, d *deploy.Completed) {
	fmt.Fprintf(w, "config %s: valid (issuer %s, client %s)\n", configPath, d.Config.Issuer, d.Config.ClientID)
	switch d.KeysFrom {
	case deploy.FromGenerated:
		fmt.Fprintf(w, "session keys: generated a new pair and saved it to %s\n", keysPath)
		fmt.Fprintf(w, "  KEEP THAT FILE, and keep it secret: the next package reuses it; losing it signs everyone out.\n")
	case deploy.FromKeysFile:
		fmt.Fprintf(w, "session keys: %d pair(s) from %s\n", len(d.Config.Keys), keysPath)
	default:
		fmt.Fprintf(w, "session keys: %d pair(s) from the config\n", len(d.Config.Keys))
	}
	switch d.JWKSFrom {
	case deploy.FromIssuer:
		fmt.Fprintf(w, "jwks: fetched from %s\n", d.JWKSURL)
	case deploy.FromJWKSFile:
		fmt.Fprintln(w, "jwks: from the -jwks file")
	default:
		fmt.Fprintln(w, "jwks: from the config")
	}
}

// findModuleRoot walks up from the working directory to the go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: pass -root")
		}
		dir = parent
	}
}
