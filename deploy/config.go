package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

// ErrJWKS classifies a failure to obtain the issuer's key set.
var ErrJWKS = errors.New("deploy: cannot obtain the JWKS")

// Where a completed value came from, for the operator's summary.
const (
	FromConfig    = "config"
	FromKeysFile  = "keys file"
	FromGenerated = "generated"
	FromJWKSFile  = "jwks file"
	FromIssuer    = "issuer"
)

// maxJWKSBytes bounds what is read from the issuer; real sets are a few KB.
const maxJWKSBytes = 1 << 20

// ConfigInput is what the operator supplies.
type ConfigInput struct {
	// Config is the deployment config file as written by the operator.
	Config []byte
	// JWKS, when set, is used instead of fetching (offline packaging).
	JWKS []byte
	// SavedKeys are the keys a previous packaging generated; used when the
	// config has none, so sessions survive a re-deploy.
	SavedKeys []config.KeyPair
}

// Completed is a config with everything derivable filled in.
type Completed struct {
	// JSON is the completed file, indented, keys sorted: deterministic.
	JSON []byte
	// Config is JSON as every cold start reads it: it passed the whole check
	// (lambdafn.CheckConfig), so every function starts with it.
	Config *config.Config
	// GeneratedKeys holds keys made now; the caller must save them.
	GeneratedKeys []config.KeyPair
	// KeysFrom and JWKSFrom say where the keys and the JWKS came from
	// (FromConfig, FromKeysFile, FromGenerated; FromConfig, FromJWKSFile,
	// FromIssuer).
	KeysFrom, JWKSFrom string
	// JWKSURL is the URL fetched when JWKSFrom is FromIssuer.
	JWKSURL string
}

// Completer fills in a deployment config.
type Completer struct {
	// HTTPClient fetches the JWKS; default http.DefaultClient.
	HTTPClient *http.Client
	// Rand is the source of new session keys; must be crypto/rand.Reader
	// outside tests.
	Rand io.Reader
}

// placeholderJWKS stands in for a missing JWKS while the rest of the config
// gets the whole check, so a bad config fails before any network call and
// the JWKS URL comes from config.Parse itself. Its one key is a well-formed
// 2048-bit RSA public key (the verifier takes no less) whose private half
// was thrown away; it never reaches a completed config.
const placeholderJWKS = `{"keys":[{"kty":"RSA","kid":"edgeauth-placeholder","use":"sig","alg":"RS256","e":"AQAB",` +
	`"n":"uzpsQFVw6wigum8_qBYMpw5jFPv-lPW08RvHMYPhdr5meb_a7bCNfSxLJhCin7a7XAtjkWeXxzZhmAi7Hh8tnpufa_efWy8FMQjF5942hgVIjCShCTP0Jkl0MbxaZVqJBdQjgSx561KZH4cuPyFKE1id3HurAYp7pd3SvgLmTAWhXzuxTM7cXEKQUiMDRKyNlLT4ovAQVhn805iqDJBJz1jbMaNDmIsMpvsuAJ-1D5ZBgTHTzAvAB58xarSyWu00npmCC11Ile8hbSWXzDTkaRoCdsd_DgojwQsPspMy8mDfmGMs3U6POUIVnyzkTOefgi1wt2h6FSXAVPqgCwJc7Q"}]}`

// Complete gives in.Config the whole check a cold start makes
// (lambdafn.CheckConfig: config.Parse, then every part's constructor) after
// filling what the operator may leave out: the keys (from the config, else
// in.SavedKeys, else fresh random ones) and the JWKS (in.JWKS, else the
// config's, else fetched from the issuer, as the issuer publishes it: the
// verifier skips the keys it cannot use). Every other field is kept as
// written. The check's errors are returned as they are (errors.Is
// config.ErrInvalid), except that a fetched key set the verifier refuses is
// ErrJWKS.
func (c *Completer) Complete(ctx context.Context, in ConfigInput) (*Completed, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(in.Config, &doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if doc == nil {
		return nil, errors.New("config: want a JSON object")
	}
	out := &Completed{}

	switch {
	case present(doc["keys"]):
		out.KeysFrom = FromConfig
	case len(in.SavedKeys) > 0:
		if err := setJSON(doc, "keys", in.SavedKeys); err != nil {
			return nil, err
		}
		out.KeysFrom = FromKeysFile
	default:
		keys, err := NewKeys(c.Rand)
		if err != nil {
			return nil, err
		}
		if err := setJSON(doc, "keys", keys); err != nil {
			return nil, err
		}
		out.KeysFrom, out.GeneratedKeys = FromGenerated, keys
	}

	fetch := false
	switch {
	case len(in.JWKS) > 0:
		set, err := ParseJWKS(in.JWKS)
		if err != nil {
			return nil, err
		}
		doc["jwks"] = set
		out.JWKSFrom = FromJWKSFile
	case present(doc["jwks"]):
		out.JWKSFrom = FromConfig
	default:
		doc["jwks"] = json.RawMessage(placeholderJWKS)
		fetch = true
	}

	cfg, err := parse(doc)
	if err != nil {
		return nil, err
	}
	if fetch {
		url, set, err := c.fetchJWKS(ctx, cfg)
		if err != nil {
			return nil, err
		}
		doc["jwks"] = set
		out.JWKSFrom, out.JWKSURL = FromIssuer, url
		if cfg, err = parse(doc); err != nil {
			// Only the key set changed: the issuer published nothing the
			// verifier can use. Not the operator's file: no ErrInvalid.
			return nil, fmt.Errorf("%w: from %s: %v", ErrJWKS, url, err)
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out.JSON = append(b, '\n')
	out.Config = cfg
	return out, nil
}

func present(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t != "" && t != "null" && t != "[]"
}

func setJSON(doc map[string]json.RawMessage, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	doc[key] = b
	return nil
}

func parse(doc map[string]json.RawMessage) (*config.Config, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return lambdafn.CheckConfig(b)
}

// fetchJWKS gets the key set from cfg.Endpoints.JWKS, or, for an OIDC
// issuer without jwksUri, from the jwks_uri of its discovery document.
func (c *Completer) fetchJWKS(ctx context.Context, cfg *config.Config) (string, json.RawMessage, error) {
	url := cfg.Endpoints.JWKS
	if url == "" {
		disc := strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/openid-configuration"
		b, err := c.get(ctx, disc)
		if err != nil {
			return "", nil, fmt.Errorf("%w: no oidc.jwksUri, and discovery failed: %w (set oidc.jwksUri or pass -jwks)", ErrJWKS, err)
		}
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(b, &meta); err != nil || meta.JWKSURI == "" {
			return "", nil, fmt.Errorf("%w: discovery document at %s has no jwks_uri", ErrJWKS, disc)
		}
		url = meta.JWKSURI
	}
	b, err := c.get(ctx, url)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w (pass -jwks to package offline)", ErrJWKS, err)
	}
	set, err := ParseJWKS(b)
	if err != nil {
		return "", nil, fmt.Errorf("%w: from %s: %w", ErrJWKS, url, err)
	}
	return url, set, nil
}

func (c *Completer) get(ctx context.Context, url string) ([]byte, error) {
	client := c.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("get %s: larger than %d bytes", url, maxJWKSBytes)
	}
	return b, nil
}

// ParseJWKS reads a JSON Web Key Set to embed: an object with a "keys"
// list, returned compact with every key as the issuer wrote it. It does not
// choose keys: the verifier is the one authority on which keys it uses (it
// skips EC and OKP keys, "use":"enc" keys and keys for other algorithms,
// and refuses private ones or a set with none it can use), and the whole
// check that Complete runs reaches it.
func ParseJWKS(b []byte) (json.RawMessage, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: not a JSON Web Key Set: %w", err)
	}
	if set.Keys == nil {
		return nil, errors.New(`jwks: not a JSON Web Key Set: no "keys" list`)
	}
	out, err := json.Marshal(map[string][]json.RawMessage{"keys": set.Keys})
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return out, nil
}

// NewKeys returns one fresh session key pair: a 64-byte HMAC key and a
// 32-byte AES-256 key, read from r (crypto/rand.Reader).
func NewKeys(r io.Reader) ([]config.KeyPair, error) {
	if r == nil {
		return nil, errors.New("deploy: no random source for session keys")
	}
	k := config.KeyPair{Hash: make([]byte, 64), Block: make([]byte, 32)}
	if _, err := io.ReadFull(r, k.Hash); err != nil {
		return nil, fmt.Errorf("deploy: generate keys: %w", err)
	}
	if _, err := io.ReadFull(r, k.Block); err != nil {
		return nil, fmt.Errorf("deploy: generate keys: %w", err)
	}
	return []config.KeyPair{k}, nil
}

// keysFile is the on-disk form of saved keys: the config's "keys" member,
// so an operator can paste it into the config as is.
type keysFile struct {
	Keys []config.KeyPair `json:"keys"`
}

// KeysFilePath returns where the keys generated for configPath are kept:
// beside it, "prod.json" -> "prod.keys.json".
func KeysFilePath(configPath string) string {
	dir, base := filepath.Split(configPath)
	return filepath.Join(dir, strings.TrimSuffix(base, filepath.Ext(base))+".keys.json")
}

// ReadKeysFile reads saved keys. A missing file is (nil, nil): nothing
// saved yet.
func ReadKeysFile(path string) ([]config.KeyPair, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	return ParseKeys(b)
}

// ParseKeys decodes a keys file: {"keys":[{"hash":"…","block":"…"}]}.
// Key lengths are checked later by the session store, through the whole
// check (lambdafn.CheckConfig), with field names.
func ParseKeys(b []byte) ([]config.KeyPair, error) {
	var f keysFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// The decoder's message may quote the file; keep only its kind.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("keys file: invalid JSON at byte %d", se.Offset)
		}
		return nil, errors.New(`keys file: want {"keys":[{"hash":"<base64>","block":"<base64>"}]}`)
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("keys file: holds no keys")
	}
	return f.Keys, nil
}

// WriteKeysFile saves keys readable by the owner only. It never replaces an
// existing file: those keys may sign live sessions.
func WriteKeysFile(path string, keys []config.KeyPair) error {
	b, err := json.MarshalIndent(keysFile{Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("keys file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	return nil
}
