package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/shared/config"
)

// counter is a deterministic stand-in for crypto/rand.
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

func root(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// writeConfig writes deploy/testdata/config.json without its keys and JWKS,
// as an operator would start.
func writeConfig(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "testdata", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "keys")
	delete(m, "jwks")
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prod.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	jwks := filepath.Join(root(t), "deploy", "testdata", "jwks.json")
	out := filepath.Join(dir, "dist")
	a := &app{bootstrap: "./deploy/testdata/echo", rand: &counter{}}
	args := []string{"-config", cfgPath, "-jwks", jwks, "-out", out, "-root", root(t)}

	var stdout, stderr bytes.Buffer
	if err := a.run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	keysPath := filepath.Join(dir, "prod.keys.json")
	keys, err := deploy.ReadKeysFile(keysPath)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys file: %v, %v", keys, err)
	}
	completed, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(completed)
	if err != nil {
		t.Fatalf("dist/config.json does not load: %v", err)
	}
	if !bytes.Equal(cfg.Keys[0].Hash, keys[0].Hash) {
		t.Error("dist/config.json does not carry the saved keys")
	}
	if _, err := os.Stat(filepath.Join(out, deploy.ZipName+".zip")); err != nil {
		t.Error(err)
	}
	for _, want := range []string{"generated a new pair", keysPath, "jwks: from the -jwks file", deploy.ZipName + ".zip", "origin trigger", "three functions share",
		deploy.ViewerFunctionName, deploy.ViewerKVSName, "of 10240 bytes"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	noSecrets(t, stdout.String()+stderr.String(), cfg)
	checkViewerFiles(t, out, cfg, false)
	first, err := os.ReadFile(filepath.Join(out, deploy.ZipName+".zip"))
	if err != nil {
		t.Fatal(err)
	}

	// The second run reuses the saved keys: same config, same zip.
	stdout.Reset()
	a.rand = &counter{n: 100}
	if err := a.run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(stdout.String(), "from "+keysPath) {
		t.Errorf("second run did not reuse the keys file:\n%s", stdout.String())
	}
	again, err := os.ReadFile(filepath.Join(out, deploy.ZipName+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("repackaging the same inputs changed the zip")
	}

	// -viewer-inline-keys: the keys move into the function.
	stdout.Reset()
	if err := a.run(context.Background(), append(args, "-viewer-inline-keys"), &stdout, &stderr); err != nil {
		t.Fatalf("inline run: %v", err)
	}
	noSecrets(t, stdout.String()+stderr.String(), cfg)
	checkViewerFiles(t, out, cfg, true)
}

// checkViewerFiles: out holds the viewer-level mode's function (and its
// store file unless the keys are inline) and the template with it inline,
// generated from the completed config: the hash keys are where the mode
// says.
func checkViewerFiles(t *testing.T, out string, cfg *config.Config, inline bool) {
	t.Helper()
	code, err := os.ReadFile(filepath.Join(out, deploy.ViewerFunctionName))
	if err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString(cfg.Keys[0].Hash)
	if got := strings.Contains(string(code), key); got != inline {
		t.Errorf("inline=%v: function holds the hash key: %v", inline, got)
	}
	// The template to deploy in viewer mode carries this function.
	tpl, err := os.ReadFile(filepath.Join(out, deploy.TemplateName))
	if err != nil {
		t.Fatalf("make package wrote no %s: %v", deploy.TemplateName, err)
	}
	inlined := "        " + strings.ReplaceAll(strings.TrimRight(string(code), "\n"), "\n", "\n        ")
	if !strings.Contains(string(tpl), "ViewerAuthFunction:") || !strings.Contains(strings.ReplaceAll(string(tpl), "\n        \n", "\n\n"), strings.ReplaceAll(inlined, "\n        \n", "\n\n")) {
		t.Errorf("%s does not hold the generated function", deploy.TemplateName)
	}
	kvs, err := os.ReadFile(filepath.Join(out, deploy.ViewerKVSName))
	switch {
	case inline && !os.IsNotExist(err):
		t.Errorf("inline keys left %s (%v)", deploy.ViewerKVSName, err)
	case !inline && (err != nil || !strings.Contains(string(kvs), key) || !strings.Contains(string(kvs), viewerfn.KVSKey)):
		t.Errorf("%s = %v, want the hash key under %s", deploy.ViewerKVSName, err, viewerfn.KVSKey)
	}
}

// noSecrets fails if any key or the client secret appears in s.
func noSecrets(t *testing.T, s string, cfg *config.Config) {
	t.Helper()
	secrets := []string{cfg.ClientSecret}
	for _, k := range cfg.Keys {
		for _, b := range [][]byte{k.Hash, k.Block} {
			secrets = append(secrets, base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b))
		}
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("output contains a secret")
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"cognito":{"region":"us-east-1","userPoolId":"us-east-1_Abc","domain":"a.example.com"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		wantIs error
		want   string
	}{
		{name: "no config", args: nil, want: "-config is required"},
		{name: "help", args: []string{"-h"}, wantIs: flag.ErrHelp},
		{name: "missing file", args: []string{"-config", filepath.Join(dir, "nope.json")}, wantIs: os.ErrNotExist},
		{name: "invalid config names the field", args: []string{"-config", bad, "-root", dir}, wantIs: config.ErrInvalid, want: "clientId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := (&app{rand: &counter{}}).run(context.Background(), tt.args, &stdout, &stderr)
			if err == nil {
				t.Fatal("run succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("run error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.keys.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an invalid config still wrote a keys file (%v)", err)
	}
}

// TestRunColdStartCheck: a config that config.Parse accepts but from which
// the functions cannot build their parts (so every cold start would fail)
// stops the packaging with the parts' message, before any keys file, build
// or zip is written.
func TestRunColdStartCheck(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"jwks with encryption keys only", func(m map[string]any) {
			for _, k := range m["jwks"].(map[string]any)["keys"].([]any) {
				k.(map[string]any)["use"] = "enc"
			}
		}, "signing key"},
		{"cookie domain the session store refuses", func(m map[string]any) {
			m["cookies"].(map[string]any)["domain"] = "example..com"
		}, "domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := os.ReadFile(filepath.Join(root(t), "deploy", "testdata", "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "keys") // so a run that went on would generate and save keys
			tt.mutate(m)
			if b, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			cfgPath := filepath.Join(dir, "prod.json")
			if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "dist")
			a := &app{bootstrap: "./deploy/testdata/echo", rand: &counter{}}
			args := []string{"-config", cfgPath, "-out", out, "-root", root(t)}

			var stdout, stderr bytes.Buffer
			err = a.run(context.Background(), args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("run succeeded on a config no function can start with:\n%s", stdout.String())
			}
			// The case is only meaningful while config.Parse lets it through;
			// if the loader learns to refuse it, the run must still fail.
			withKeys := map[string]any{}
			maps.Copy(withKeys, m)
			withKeys["keys"] = []map[string]string{{
				"hash":  base64.StdEncoding.EncodeToString(make([]byte, 64)),
				"block": base64.StdEncoding.EncodeToString(make([]byte, 32)),
			}}
			wb, _ := json.Marshal(withKeys)
			if _, perr := config.Parse(wb); perr == nil {
				for _, want := range []string{"cold start", tt.want} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("run error = %q, want it to mention %q", err, want)
					}
				}
			} else {
				t.Logf("config.Parse now refuses this config itself (%v)", perr)
			}
			if _, err := os.Stat(filepath.Join(dir, "prod.keys.json")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a config no function can start with still wrote a keys file (%v)", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a config no function can start with still wrote %s (%v)", out, err)
			}
			noSecrets(t, stdout.String()+stderr.String()+err.Error(), &config.Config{ClientSecret: "test-only-client-secret"})
		})
	}
}

// make package warns when it packages the repository's test keys: the
// example configs' session keys, or a JWKS key of testdata/keys. A config
// with its own keys and its issuer's JWKS gets no warning.
func TestWarnsAboutTestKeys(t *testing.T) {
	dir := t.TempDir()
	a := &app{bootstrap: "./deploy/testdata/echo", rand: &counter{}}
	b, err := os.ReadFile(filepath.Join(root(t), "testdata", "config", "cognito.json"))
	if err != nil {
		t.Fatal(err)
	}
	withTestKeys := filepath.Join(dir, "test-keys.json")
	if err := os.WriteFile(withTestKeys, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := a.run(context.Background(), []string{"-config", withTestKeys, "-out", filepath.Join(dir, "d1"), "-root", root(t)}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"WARNING: keys[0] is the test key pair of testdata/config/cognito.json", `WARNING: jwks key "test-key-1" is a test key`, `jwks key "test-key-2"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}

	// Own keys (generated) and a JWKS that is not the test one: quiet.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	own, err := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "own", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": "AQAB"}}})
	if err != nil {
		t.Fatal(err)
	}
	jwks := filepath.Join(dir, "own-jwks.json")
	if err := os.WriteFile(jwks, own, 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if err := a.run(context.Background(), []string{"-config", writeConfig(t, dir), "-jwks", jwks, "-out", filepath.Join(dir, "d2"), "-root", root(t)}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("warned about own keys:\n%s", stderr.String())
	}
	noSecrets(t, stdout.String()+stderr.String(), parsed(t, b))
}

func parsed(t *testing.T, b []byte) *config.Config {
	t.Helper()
	c, err := config.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
