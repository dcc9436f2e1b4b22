package deploy_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/shared/config"
)

// issuer is a fake OIDC issuer serving a JWKS and a discovery document, and
// counting what it was asked.
type issuer struct {
	jwks   []byte
	status int // for the JWKS; 0 means 200
	mu     sync.Mutex
	paths  []string
}

func (s *issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.Host+r.URL.Path)
	s.mu.Unlock()
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]string{"issuer": "http://" + r.Host, "jwks_uri": "http://" + r.Host + "/discovered/keys"})
	case "/keys", "/discovered/keys", "/us-east-1_AbCdEf123/.well-known/jwks.json":
		if s.status != 0 {
			w.WriteHeader(s.status)
			return
		}
		w.Write(s.jwks)
	default:
		http.NotFound(w, r)
	}
}

func (s *issuer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// baseConfig is testdata/config.json as a map, to edit per case.
func baseConfig(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, "config.json"), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func oidcConfig(t *testing.T, issuerURL string, jwksURI bool) map[string]any {
	m := baseConfig(t)
	delete(m, "cognito")
	delete(m, "jwks")
	o := map[string]any{
		"issuerUrl":             issuerURL,
		"authorizationEndpoint": issuerURL + "/auth",
		"tokenEndpoint":         issuerURL + "/token",
	}
	if jwksURI {
		o["jwksUri"] = issuerURL + "/keys"
	}
	m["oidc"] = o
	return m
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func without(m map[string]any, keys ...string) map[string]any {
	c := maps.Clone(m)
	for _, k := range keys {
		delete(c, k)
	}
	return c
}

// counter is a deterministic stand-in for crypto/rand.
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

// cognitoClient sends every request, whatever its host, to the TLS server:
// a real transport with the dial redirected, so the Cognito JWKS URL can be
// fetched offline.
func cognitoClient(ts *httptest.Server) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, ts.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // test server's certificate
	}}
}

func TestComplete(t *testing.T) {
	jwksFile := readTestdata(t, "jwks.json")
	iss := &issuer{jwks: jwksFile}
	ts := httptest.NewServer(iss)
	t.Cleanup(ts.Close)
	tlsIss := &issuer{jwks: jwksFile}
	tlsTS := httptest.NewTLSServer(tlsIss)
	t.Cleanup(tlsTS.Close)
	saved := []config.KeyPair{{Hash: bytes.Repeat([]byte{7}, 32), Block: bytes.Repeat([]byte{8}, 16)}}

	tests := []struct {
		name         string
		config       map[string]any
		jwks         []byte
		saved        []config.KeyPair
		client       *http.Client
		wantKeys     string
		wantJWKS     string
		wantURL      string
		wantJWKSKids int
	}{
		{name: "complete config is kept", config: baseConfig(t), wantKeys: deploy.FromConfig, wantJWKS: deploy.FromConfig, wantJWKSKids: 2},
		{name: "no keys: generated", config: without(baseConfig(t), "keys"), wantKeys: deploy.FromGenerated, wantJWKS: deploy.FromConfig, wantJWKSKids: 2},
		{name: "empty keys: generated", config: func() map[string]any { m := baseConfig(t); m["keys"] = []any{}; return m }(), wantKeys: deploy.FromGenerated, wantJWKS: deploy.FromConfig, wantJWKSKids: 2},
		{name: "no keys: saved ones reused", config: without(baseConfig(t), "keys"), saved: saved, wantKeys: deploy.FromKeysFile, wantJWKS: deploy.FromConfig, wantJWKSKids: 2},
		{name: "config keys win over saved", config: baseConfig(t), saved: saved, wantKeys: deploy.FromConfig, wantJWKS: deploy.FromConfig, wantJWKSKids: 2},
		// The set is embedded as published, its EC key too: the verifier is
		// the one authority on which keys it uses, and skips that one.
		{name: "jwks file replaces the config's, EC key kept", config: baseConfig(t), jwks: jwksFile, wantKeys: deploy.FromConfig, wantJWKS: deploy.FromJWKSFile, wantJWKSKids: 3},
		{name: "oidc jwksUri fetched", config: oidcConfig(t, ts.URL, true), wantKeys: deploy.FromConfig, wantJWKS: deploy.FromIssuer, wantURL: ts.URL + "/keys", wantJWKSKids: 3},
		{name: "oidc without jwksUri: discovery", config: oidcConfig(t, ts.URL, false), wantKeys: deploy.FromConfig, wantJWKS: deploy.FromIssuer, wantURL: ts.URL + "/discovered/keys", wantJWKSKids: 3},
		{name: "cognito: issuer's well-known jwks", config: without(baseConfig(t), "jwks"), client: cognitoClient(tlsTS), wantKeys: deploy.FromConfig, wantJWKS: deploy.FromIssuer,
			wantURL: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json", wantJWKSKids: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &deploy.Completer{HTTPClient: tt.client, Rand: &counter{}}
			got, err := c.Complete(context.Background(), deploy.ConfigInput{Config: marshal(t, tt.config), JWKS: tt.jwks, SavedKeys: tt.saved})
			if err != nil {
				t.Fatalf("Complete() error = %v", err)
			}
			if got.KeysFrom != tt.wantKeys || got.JWKSFrom != tt.wantJWKS || got.JWKSURL != tt.wantURL {
				t.Errorf("Complete() from keys=%q jwks=%q url=%q, want %q %q %q", got.KeysFrom, got.JWKSFrom, got.JWKSURL, tt.wantKeys, tt.wantJWKS, tt.wantURL)
			}
			// The completed JSON is what the functions will load.
			cfg, err := config.Parse(got.JSON)
			if err != nil {
				t.Fatalf("config.Parse(completed) = %v", err)
			}
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal(cfg.JWKS, &set); err != nil || len(set.Keys) != tt.wantJWKSKids {
				t.Errorf("completed jwks has %d keys (%v), want %d", len(set.Keys), err, tt.wantJWKSKids)
			}
			switch tt.wantKeys {
			case deploy.FromGenerated:
				if len(got.GeneratedKeys) != 1 || len(cfg.Keys) != 1 ||
					!bytes.Equal(cfg.Keys[0].Hash, got.GeneratedKeys[0].Hash) || !bytes.Equal(cfg.Keys[0].Block, got.GeneratedKeys[0].Block) {
					t.Errorf("generated keys %v not the config's %v", got.GeneratedKeys, cfg.Keys)
				}
				if len(cfg.Keys[0].Hash) != 64 || len(cfg.Keys[0].Block) != 32 {
					t.Errorf("generated key sizes %d/%d, want 64/32", len(cfg.Keys[0].Hash), len(cfg.Keys[0].Block))
				}
			case deploy.FromKeysFile:
				if len(got.GeneratedKeys) != 0 || !bytes.Equal(cfg.Keys[0].Hash, tt.saved[0].Hash) {
					t.Errorf("saved keys not used: %v", cfg.Keys)
				}
			default:
				if len(got.GeneratedKeys) != 0 {
					t.Errorf("generated keys although the config has some")
				}
			}
			// Everything the operator wrote is kept as written.
			var completed map[string]any
			if err := json.Unmarshal(got.JSON, &completed); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.config {
				if k == "keys" || k == "jwks" {
					continue
				}
				if !bytes.Equal(marshal(t, v), marshal(t, completed[k])) {
					t.Errorf("member %q = %s, want %s", k, marshal(t, completed[k]), marshal(t, v))
				}
			}
		})
	}
	if got := tlsIss.requested(); len(got) != 1 || got[0] != "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json" {
		t.Errorf("cognito fetches = %q", got)
	}
}

func TestCompleteDeterministic(t *testing.T) {
	in := deploy.ConfigInput{Config: marshal(t, without(baseConfig(t), "keys"))}
	a, err := (&deploy.Completer{Rand: &counter{}}).Complete(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&deploy.Completer{Rand: &counter{}}).Complete(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.JSON, b.JSON) {
		t.Errorf("same inputs gave different configs:\n%s\n%s", a.JSON, b.JSON)
	}
}

func TestCompleteErrors(t *testing.T) {
	iss := &issuer{jwks: []byte(`{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"AA"}]}`)}
	ts := httptest.NewServer(iss)
	t.Cleanup(ts.Close)
	down := &issuer{status: http.StatusInternalServerError}
	downTS := httptest.NewServer(down)
	t.Cleanup(downTS.Close)

	tests := []struct {
		name    string
		config  []byte
		jwks    []byte
		wantIs  error
		wantMsg string
	}{
		{name: "not an object", config: []byte(`[]`), wantMsg: "config"},
		{name: "not JSON", config: []byte(`{"clientId":`), wantMsg: "config"},
		{name: "missing client id fails before any fetch", config: marshal(t, without(oidcConfig(t, ts.URL, true), "clientId")), wantIs: config.ErrInvalid, wantMsg: "clientId"},
		{name: "unknown field", config: marshal(t, func() map[string]any { m := baseConfig(t); m["clientSecrets"] = "x"; return m }()), wantMsg: "clientSecrets"},
		{name: "short key", config: marshal(t, func() map[string]any {
			m := baseConfig(t)
			m["keys"] = []any{map[string]any{"hash": "c2hvcnQ=", "block": "c2hvcnQ="}}
			return m
		}()), wantIs: config.ErrInvalid, wantMsg: "keys[0].hash"},
		{name: "issuer has no RSA key", config: marshal(t, oidcConfig(t, ts.URL, true)), wantIs: deploy.ErrJWKS, wantMsg: "no signing key for the allowed algorithms (RS256)"},
		{name: "issuer down", config: marshal(t, oidcConfig(t, downTS.URL, true)), wantIs: deploy.ErrJWKS, wantMsg: "500"},
		{name: "jwks file without keys", config: marshal(t, baseConfig(t)), jwks: []byte(`{"keys":[]}`), wantMsg: "no signing key for the allowed algorithms (RS256)"},
		{name: "jwks file with a private key", config: marshal(t, baseConfig(t)),
			jwks: []byte(`{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB","d":"AQAB"}]}`), wantIs: config.ErrInvalid, wantMsg: "private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(iss.requested())
			_, err := (&deploy.Completer{Rand: &counter{}}).Complete(context.Background(), deploy.ConfigInput{Config: tt.config, JWKS: tt.jwks})
			if err == nil {
				t.Fatal("Complete() succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Complete() error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Complete() error = %q, want it to mention %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "test-only-client-secret") {
				t.Errorf("error leaks the client secret: %v", err)
			}
			if errors.Is(err, config.ErrInvalid) && len(iss.requested()) != before {
				t.Errorf("an invalid config still fetched the JWKS")
			}
		})
	}
}

func TestKeysFile(t *testing.T) {
	dir := t.TempDir()
	if got, want := deploy.KeysFilePath(filepath.Join(dir, "prod.json")), filepath.Join(dir, "prod.keys.json"); got != want {
		t.Errorf("KeysFilePath = %q, want %q", got, want)
	}
	path := filepath.Join(dir, "prod.keys.json")
	if keys, err := deploy.ReadKeysFile(path); err != nil || keys != nil {
		t.Fatalf("ReadKeysFile(missing) = %v, %v; want nil, nil", keys, err)
	}
	keys, err := deploy.NewKeys(&counter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := deploy.WriteKeysFile(path, keys); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("keys file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	got, err := deploy.ReadKeysFile(path)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Hash, keys[0].Hash) || !bytes.Equal(got[0].Block, keys[0].Block) {
		t.Errorf("ReadKeysFile = %v, %v; want %v", got, err, keys)
	}
	if err := deploy.WriteKeysFile(path, keys); !errors.Is(err, os.ErrExist) {
		t.Errorf("WriteKeysFile over an existing file = %v, want os.ErrExist", err)
	}
	if _, err := deploy.NewKeys(io.LimitReader(&counter{}, 10)); err == nil {
		t.Error("NewKeys with a short random source succeeded")
	}
}

func TestParseKeysRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `{"keys":[]}`, `{"keys":[{"hash":"!!"}]}`, `{"key":[]}`, `[]`} {
		if _, err := deploy.ParseKeys([]byte(in)); err == nil {
			t.Errorf("ParseKeys(%q) succeeded", in)
		}
	}
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","kid":"b"},{"kty":"RSA","use":"enc"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"keys":[], "other": 1}`))
	if b, err := os.ReadFile("testdata/jwks.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := deploy.ParseJWKS(in)
		if err != nil {
			return
		}
		// Reading is idempotent, keeps every key, and yields a key set.
		again, err := deploy.ParseJWKS(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("ParseJWKS not idempotent: %s -> %s (%v)", out, again, err)
		}
		var set, orig struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(out, &set); err != nil || set.Keys == nil {
			t.Fatalf("ParseJWKS output %s: %v", out, err)
		}
		if err := json.Unmarshal(in, &orig); err != nil || len(orig.Keys) != len(set.Keys) {
			t.Fatalf("ParseJWKS kept %d of %d keys", len(set.Keys), len(orig.Keys))
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add([]byte(`{"keys":[{"hash":"AAAA","block":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"hash":"x"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		keys, err := deploy.ParseKeys(in)
		if err == nil && len(keys) == 0 {
			t.Fatal("ParseKeys returned no keys and no error")
		}
		// Errors are fixed texts (plus an offset), so they never echo a key.
		if err != nil && !strings.HasPrefix(err.Error(), "keys file: invalid JSON at byte ") &&
			err.Error() != "keys file: holds no keys" && !strings.HasPrefix(err.Error(), "keys file: want {") {
			t.Fatalf("unexpected error text %q", err)
		}
	})
}
