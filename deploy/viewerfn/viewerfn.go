// Package viewerfn generates the viewer-level mode's CloudFront Function
// (cloudfront-js-2.0) from the suite's config: at viewer-request it checks
// the session cookie and the path rules, so that every signed-in user the
// rules allow shares one cached copy of an object, and leaves every other
// decision to the Go check-auth at origin-request.
//
// # The invariant
//
// The shared cache entry (CacheKeyHeader "shared") is only ever reached by
// a request the function verified: a path the rules make public, or a
// session cookie whose securecookie MAC verifies under a configured hash
// key, that has not expired (the session's own expiry, "x"), and whose
// identity the path's rule allows, judged on the rewritten URI exactly as
// shared/authz judges it. Every other request, and every request the
// function cannot read (an Authorization header, a deflated session, a
// path outside printable ASCII, a KeyValueStore read failure, an
// exception), gets "c-" + hex SHA-256 of its credentials (every
// Authorization value and every session cookie value): an entry that only
// check-auth at origin-request can fill, for that credential alone. The
// function always replaces the header, value and multiValue, so a
// viewer-sent value never survives.
//
// # What it answers
//
// Nothing: it always returns the request. A refused identity, an expired
// session, a missing credential and a malformed path all go on under
// their per-credential key to check-auth, whose 302, 401, 403 and 400 are
// the suite's answers byte for byte (no second copy of the pages, the
// login, the refresh redirect or the CORS rules in JavaScript). Its
// generated answers carry Cache-Control: no-store, so CloudFront keeps
// none of them.
//
// # Keys
//
// The function needs the session cookie's HMAC keys (the hash keys, never
// the AES block keys). With Options.InlineKeys they are in the code: whoever
// can read the function (cloudfront:DescribeFunction, GetFunction) can
// forge sessions. Otherwise the code holds none and reads them from the
// KeyValueStore associated with the function, key [KVSKey], whose value is
// a JSON array of base64 keys in config order, so a rotation is an update
// of the store, not a redeploy; whoever can read the store
// (cloudfront-keyvaluestore:GetKey, or the import file) can forge
// sessions then.
//
// # Comparing MACs
//
// JavaScript has no constant-time compare; the function compares the hex
// digests without stopping at the first difference. CloudFront Functions'
// interpreter adds timing noise far above a per-character difference, and
// the MAC is 256 bits under a key the viewer never sees, so a timing
// attack would have to guess it a character at a time over the network
// against that noise.
package viewerfn

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

// CacheKeyHeader is the header the function always sets (overwriting the
// viewer's): "shared" for a request it verified, "c-" + hex SHA-256 of the
// credential material otherwise.
const CacheKeyHeader = "X-Edgeauth-Cache-Key"

// Shared is CacheKeyHeader's value for a request the function verified.
const Shared = "shared"

// KVSKey is the KeyValueStore key holding the session hash keys: a JSON
// array of standard base64 strings, the first the signing key.
const KVSKey = "session-hash-keys"

// MaxCodeSize is CloudFront's limit on a function's code.
const MaxCodeSize = cfjs.MaxCodeSize

// ErrTooLarge is returned (wrapped) when the generated code would exceed
// MaxCodeSize, so CloudFront would refuse it: too many or too long rules.
var ErrTooLarge = errors.New("viewerfn: generated function over the 10,240-byte limit")

// Options configure Generate.
type Options struct {
	// InlineKeys puts the session hash keys in the code; false: they come
	// from the KeyValueStore (see the package doc for who can read them).
	InlineKeys bool
}

// Function is the generated viewer-request function.
type Function struct {
	Code      []byte            // cloudfront-js-2.0 source, <= 10,240 bytes
	KeyValues map[string]string // what the KeyValueStore must hold (nil when InlineKeys)
}

//go:embed viewer.js
var sourceFS embed.FS

// wire is the config the code reads as C.
type wire struct {
	H  string   `json:"h"`            // the cache key header, lower case
	N  string   `json:"n"`            // the session cookie's name
	R  [][]any  `json:"r"`            // rules: [segments, prefix, public, groups, scopes]
	L  []string `json:"l"`            // the rules' literal segments (authz.Literals)
	K  []string `json:"k,omitempty"`  // inline hash keys, base64
	KV string   `json:"kv,omitempty"` // the KeyValueStore key otherwise
}

// Generate builds the function for c. It builds the suite's parts from c
// first (lambdafn.NewParts), so a config no function could start with is
// refused here too, and the rules and cookie name are the ones check-auth
// uses. The code is checked as the local edge and CloudFront check it
// (size, syntax, the cloudfront-js-2.0 subset).
func Generate(c *config.Config, o Options) (*Function, error) {
	parts, err := lambdafn.NewParts(lambdafn.Deps{Config: c, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("viewerfn: %w", err)
	}
	w := wire{H: strings.ToLower(CacheKeyHeader), N: parts.Sessions.SessionName(), R: rules(parts.Rules), L: parts.Rules.Literals()}
	keys := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		keys[i] = base64.StdEncoding.EncodeToString(k.Hash)
	}
	f := &Function{}
	if o.InlineKeys {
		w.K = keys
	} else {
		w.KV = KVSKey
		v, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("viewerfn: %w", err)
		}
		if len(v) > cfjs.MaxValueSize {
			return nil, fmt.Errorf("viewerfn: %d hash keys make a %d-byte KeyValueStore value, over the %d-byte limit: drop retired keys", len(keys), len(v), cfjs.MaxValueSize)
		}
		f.KeyValues = map[string]string{KVSKey: string(v)}
	}
	cj, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("viewerfn: %w", err)
	}
	src, err := sourceFS.ReadFile("viewer.js")
	if err != nil {
		return nil, fmt.Errorf("viewerfn: %w", err) // embedded at build time: a broken build
	}
	if f.Code = render(string(src), string(cj), !o.InlineKeys); f.Code == nil {
		return nil, errors.New(`viewerfn: viewer.js has no "var C = {};" line`) // a bug in viewer.js
	}
	if len(f.Code) > MaxCodeSize {
		return nil, fmt.Errorf("%w: %d bytes for %d rules", ErrTooLarge, len(f.Code), len(c.Rules))
	}
	if _, err := cfjs.Compile("viewer-function.js", f.Code, cfjs.Options{}); err != nil {
		return nil, fmt.Errorf("viewerfn: generated code: %w", err) // a bug in viewer.js
	}
	return f, nil
}

// rules turns the compiled rules into the code's compact form.
func rules(a *authz.Authorizer) [][]any {
	out := [][]any{}
	for _, p := range a.Patterns() {
		segs := []any{}
		for _, s := range p.Segments {
			if s.Claim != "" {
				segs = append(segs, []string{s.Claim})
			} else {
				segs = append(segs, s.Literal)
			}
		}
		out = append(out, []any{segs, b2i(p.Prefix), b2i(p.Public), nonNil(p.Groups), nonNil(p.Scopes)})
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// render fills viewer.js: the config on the "var C" line, the cloudfront
// import only with a KeyValueStore, whole-line comments and indentation
// dropped (the limit counts every byte). It returns nil without that line.
func render(source, configJSON string, kvs bool) []byte {
	var b bytes.Buffer
	filled := false
	for line := range strings.SplitSeq(source, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "//"):
			continue
		case t == "import cf from 'cloudfront';" && !kvs:
			continue
		case t == "var C = {};":
			t, filled = "var C = "+configJSON+";", true
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	if !filled {
		return nil
	}
	return b.Bytes()
}

// KVSFile returns the KeyValueStore's content in the import format
// CloudFront reads from S3 (and cfjs.OpenKeyValueStore reads):
// {"data":[{"key":"...","value":"..."}]}. Nil when the keys are inline.
func (f *Function) KVSFile() ([]byte, error) {
	if f.KeyValues == nil {
		return nil, nil
	}
	type kv struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	var d struct {
		Data []kv `json:"data"`
	}
	// One key today; sorted so the file is deterministic if more come.
	for _, k := range slices.Sorted(maps.Keys(f.KeyValues)) {
		d.Data = append(d.Data, kv{k, f.KeyValues[k]})
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("viewerfn: %w", err)
	}
	return append(b, '\n'), nil
}
