// Command package turns a deployment config into Lambda@Edge zips:
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
// writes the completed config to <out>/config.json, builds each function for
// linux/amd64 and writes <out>/<function>.zip holding the Node.js bridge
// (index.mjs), bootstrap and config.json. It prints each zip's size against
// the Lambda@Edge limits, and never prints a key or the client secret.
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

// app holds what tests replace: the functions to build, the random source
// and the HTTP client.
type app struct {
	functions []deploy.Function // nil: deploy.Functions()
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

	p := &deploy.Packager{Builder: &deploy.Builder{Root: *root}, Out: *out, Functions: a.functions}
	arts, err := p.Package(ctx, done.JSON)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (holds the session keys and client secret: keep it private)\n\n", filepath.Join(*out, config.FileName))
	if err := deploy.WriteSizeTable(stdout, arts); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nLambda@Edge takes these on origin-request (50 MiB); see deploy/README.md.")
	return nil
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
