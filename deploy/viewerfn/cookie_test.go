package viewerfn_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Keys for rotation: the config's own first, then these.
var (
	newHash  = base64.StdEncoding.EncodeToString([]byte("rotated-hash-key-0123456789abcdefghijklmnopqrstuvwxyz-64-bytes!!"))
	newBlock = base64.StdEncoding.EncodeToString([]byte("rotated-block-key-32-bytes-long!"))
)

// rotated is rulesConfig with a new key pair first (it signs) and the
// config's old pair second (it still verifies).
func rotated(m map[string]any) {
	rulesConfig(m)
	old := m["keys"].([]any)
	m["keys"] = append([]any{map[string]any{"hash": newHash, "block": newBlock}}, old...)
}

// onlyNew has the new pair alone: the old key is retired.
func onlyNew(m map[string]any) {
	rulesConfig(m)
	m["keys"] = []any{map[string]any{"hash": newHash, "block": newBlock}}
}

// manyGroups is an identity whose session JSON does not fit uncompressed.
func manyGroups() verifier.Identity {
	id := alice
	id.Groups = []string{"admins"}
	for i := range 150 {
		id.Groups = append(id.Groups, fmt.Sprintf("arn:aws:iam::123456789012:group/engineering/team-%03d", i))
	}
	return id
}

// cookieCases are cookies made by Go's session package, genuine, rotated,
// tampered, expired, misnamed, compressed, oversized and repeated, and the
// headers a viewer could send to reach the shared entry, on paths of every
// kind of rule. f is rotated's fixture.
func (f *fixture) cookieCases(t testing.TB) []tcase {
	t.Helper()
	later := suitetest.Now.Add(15 * time.Minute)
	name := f.store.SessionName()
	valid := f.session(t, alice, later, true)
	bobs := f.session(t, bob, later, false)
	value := strings.TrimPrefix(valid, name+"=")
	expired := f.session(t, alice, suitetest.Now.Add(-time.Minute), true)
	expiredNoRefresh := f.session(t, alice, suitetest.Now.Add(-time.Minute), false)

	// Made with the old key alone: verifies with the second key.
	oldCfg := suitetest.Config(t, "cognito.json", rulesConfig)
	oldStore := suitetest.Sessions(t, oldCfg, suitetest.Clock)
	oc, err := oldStore.EncodeSession(sessionOf(alice, later))
	if err != nil {
		t.Fatal(err)
	}
	oldKey := oc.Name + "=" + oc.Value

	// Made for another cookie name with the same keys: the MAC binds the name.
	otherCfg := suitetest.Config(t, "cognito.json", func(m map[string]any) {
		rotated(m)
		m["cookies"] = map[string]any{"prefix": "other"}
	})
	wc, err := suitetest.Sessions(t, otherCfg, suitetest.Clock).EncodeSession(sessionOf(alice, later))
	if err != nil {
		t.Fatal(err)
	}
	renamed := name + "=" + wc.Value

	big, err := f.store.EncodeSession(sessionOf(manyGroups(), later))
	if err != nil {
		t.Fatal(err)
	}
	compressed := big.Name + "=" + big.Value
	if !isDeflated(t, big.Value) {
		t.Fatal("the many-groups session is not compressed: the case tests nothing")
	}

	noAdmin := manyGroups()
	noAdmin.Groups = noAdmin.Groups[1:]
	nc, err := f.store.EncodeSession(sessionOf(noAdmin, later))
	if err != nil {
		t.Fatal(err)
	}
	compressedNoAdmin := nc.Name + "=" + nc.Value

	mint := testtoken.Keys(t)
	token := mint.Sign(t, testtoken.CognitoAccess(f.cfg.Issuer, f.cfg.ClientID, "alice-sub", []string{"admins"}, later))

	var cs []tcase
	add := func(n string, decidable bool, r viewerReq) {
		for _, p := range []string{"/docs/x", "/admin/x", "/users/alice-sub/x", "/public/x"} {
			r2 := r
			r2.URI = p
			cs = append(cs, tcase{name: n + " " + p, r: r2, decidable: decidable})
		}
	}
	cookie := func(cs ...string) viewerReq { return viewerReq{Cookies: cs} }
	add("valid", true, cookie(valid))
	add("valid, old key second in the config", true, cookie(oldKey))
	add("expired with refresh", true, cookie(expired))
	add("expired without refresh", true, cookie(expiredNoRefresh))
	add("made for another cookie name", true, cookie(renamed))
	add("compressed", false, cookie(compressed))
	add("compressed after a valid one", true, cookie(valid, compressed))
	add("compressed without admins, then valid admin", false, cookie(compressedNoAdmin, valid))
	add("invalid then valid", true, cookie(name+"=garbage", valid))
	add("expired then valid", true, cookie(expired, bobs))
	add("bob then alice", true, cookie(bobs, valid))
	add("alice then bob", true, cookie(valid, bobs))
	add("wrong name", true, cookie("edgeauth-sessionx="+value))
	add("wrong case", true, cookie("Edgeauth-session="+value))
	add("quoted", true, cookie(name+`="`+value+`"`))
	add("empty", true, cookie(name+"="))
	add("oversized", true, cookie(name+"="+strings.Repeat("A", 5000)))
	add("oversized valid prefix", true, cookie(name+"="+value+strings.Repeat("A", 4100-len(value))))
	add("no padding", true, cookie(name+"="+strings.TrimRight(value, "=")))
	add("extra padding", true, cookie(valid+"=="))
	add("std alphabet", true, cookie(name+"="+strings.NewReplacer("-", "+", "_", "/").Replace(value)))
	add("truncated", true, cookie(name+"="+value[:len(value)-4]))
	add("appended", true, cookie(valid+"AAAA"))
	for i := 0; i < len(value); i += 7 {
		b := []byte(value)
		b[i] = flip(b[i])
		add(fmt.Sprintf("byte %d flipped", i), true, cookie(name+"="+string(b)))
	}
	// What a viewer sends to reach the shared entry without verifying.
	hdr := func(vals ...string) [][2]string {
		var out [][2]string
		for _, v := range vals {
			out = append(out, [2]string{viewerfn.CacheKeyHeader, v})
		}
		return out
	}
	add("viewer key shared, no cookie", true, viewerReq{Headers: hdr(viewerfn.Shared)})
	add("viewer key shared twice, no cookie", true, viewerReq{Headers: hdr(viewerfn.Shared, viewerfn.Shared)})
	add("viewer key shared, tampered cookie", true, viewerReq{Headers: hdr(viewerfn.Shared), Cookies: []string{name + "=x" + value[1:]}})
	add("viewer key shared, expired cookie", true, viewerReq{Headers: hdr("SHARED", viewerfn.Shared), Cookies: []string{expired}})
	add("viewer key per-credential, valid cookie", true, viewerReq{Headers: hdr("c-0000"), Cookies: []string{valid}})
	add("bearer and valid cookie", false, viewerReq{Headers: [][2]string{{"Authorization", "Bearer " + token}}, Cookies: []string{valid}})
	add("garbage bearer and valid cookie", false, viewerReq{Headers: [][2]string{{"Authorization", "Bearer x.y.z"}, {viewerfn.CacheKeyHeader, "shared"}}, Cookies: []string{valid}})
	add("two authorization headers", false, viewerReq{Headers: [][2]string{{"Authorization", "Bearer " + token}, {"Authorization", "Basic eDp5"}}})
	add("empty authorization and valid cookie", false, viewerReq{Headers: [][2]string{{"Authorization", ""}}, Cookies: []string{valid}})
	add("preflight with valid cookie", false, viewerReq{Method: "OPTIONS", Headers: [][2]string{{"Access-Control-Request-Method", "GET"}, {"Origin", "https://app.example.com"}}, Cookies: []string{valid}})
	add("OPTIONS without preflight header", true, viewerReq{Method: "OPTIONS", Cookies: []string{valid}})
	add("POST with valid cookie", true, viewerReq{Method: "POST", Cookies: []string{valid}})
	return cs
}

func flip(c byte) byte {
	if c == 'A' {
		return 'B'
	}
	return 'A'
}

// TestDifferentialCookies: cookies made by Go's session package are
// judged the same by the function (local engine and Node) as by
// check-auth.
func TestDifferentialCookies(t *testing.T) {
	for _, o := range []viewerfn.Options{{InlineKeys: false}, {InlineKeys: true}} {
		t.Run(fmt.Sprintf("inline=%v", o.InlineKeys), func(t *testing.T) {
			f := newFixture(t, rotated, o).withNode(t)
			cs := f.cookieCases(t)
			for _, name := range engineNames(f) {
				for _, c := range cs {
					for _, b := range f.judge(t, f.engines[name], c.r, c.decidable) {
						t.Errorf("%s: %s: %s", name, c.name, b)
					}
				}
			}
		})
	}
}

// TestRetiredKey: once the old key leaves the config, its cookies no
// longer reach the shared entry.
func TestRetiredKey(t *testing.T) {
	f := newFixture(t, onlyNew, viewerfn.Options{})
	oldStore := suitetest.Sessions(t, suitetest.Config(t, "cognito.json", rulesConfig), suitetest.Clock)
	c, err := oldStore.EncodeSession(sessionOf(alice, suitetest.Now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	r := viewerReq{URI: "/docs/x", Cookies: []string{c.Name + "=" + c.Value}}
	if got := f.engines["goja"].run(t, r); got.Key != f.perCredential(r) {
		t.Errorf("retired key: key = %q, want the per-credential key", got.Key)
	}
	for _, b := range f.judge(t, f.engines["goja"], r, true) {
		t.Error(b)
	}
}

// TestInvariantExplicit states the invariant's cases one by one, with the
// key each must get, in both engines.
func TestInvariantExplicit(t *testing.T) {
	f := newFixture(t, rotated, viewerfn.Options{}).withNode(t)
	later := suitetest.Now.Add(15 * time.Minute)
	valid := f.session(t, alice, later, true)
	name := f.store.SessionName()
	value := strings.TrimPrefix(valid, name+"=")
	tests := []struct {
		name   string
		r      viewerReq
		shared bool
	}{
		{"verified", viewerReq{URI: "/docs/x", Cookies: []string{valid}}, true},
		{"public, no cookie", viewerReq{URI: "/public/x"}, true},
		{"viewer sends shared, no cookie", viewerReq{URI: "/docs/x", Headers: [][2]string{{"X-Edgeauth-Cache-Key", "shared"}}}, false},
		{"viewer sends shared twice, invalid cookie", viewerReq{URI: "/docs/x", Headers: [][2]string{{"x-edgeauth-cache-key", "shared"}, {"X-EDGEAUTH-CACHE-KEY", "shared"}}, Cookies: []string{name + "=" + value[:20]}}, false},
		{"authorization and valid cookie", viewerReq{URI: "/docs/x", Headers: [][2]string{{"Authorization", "Bearer abc"}}, Cookies: []string{valid}}, false},
		{"tampered cookie", viewerReq{URI: "/docs/x", Cookies: []string{name + "=" + value[:len(value)-8] + "AAAAAAA="}}, false},
		{"expired", viewerReq{URI: "/docs/x", Cookies: []string{f.session(t, alice, suitetest.Now.Add(-time.Second), true)}}, false},
		{"refused identity", viewerReq{URI: "/admin/x", Cookies: []string{f.session(t, bob, later, false)}}, false},
		{"compressed", viewerReq{URI: "/docs/x", Cookies: []string{compressedCookie(t, f, later)}}, false},
	}
	for _, name := range engineNames(f) {
		for _, tt := range tests {
			got := f.engines[name].run(t, tt.r)
			want := f.perCredential(tt.r)
			if tt.shared {
				want = viewerfn.Shared
			}
			if got.Err != nil || got.Key != want {
				t.Errorf("%s: %s: key = %q (err %v), want %q", name, tt.name, got.Key, got.Err, want)
			}
		}
	}
	// Different credentials never share a per-credential entry.
	a := f.perCredential(viewerReq{Cookies: []string{name + "=a"}})
	b := f.perCredential(viewerReq{Cookies: []string{name + "=b"}})
	none := f.perCredential(viewerReq{})
	if a == b || a == none {
		t.Errorf("per-credential keys collide: %s %s %s", a, b, none)
	}
}

// TestKeyValueStoreFailure: keys the function cannot read from its store
// (no such key, not JSON, not a list of keys) send every request to
// check-auth: nothing is shared but public paths, nothing fails.
func TestKeyValueStoreFailure(t *testing.T) {
	f := newFixture(t, rotated, viewerfn.Options{})
	valid := f.session(t, alice, suitetest.Now.Add(time.Hour), true)
	for _, content := range []string{
		`{"data":[{"key":"other","value":"x"}]}`,
		`{"data":[{"key":"` + viewerfn.KVSKey + `","value":"not json"}]}`,
		`{"data":[{"key":"` + viewerfn.KVSKey + `","value":"[]"}]}`,
		`{"data":[{"key":"` + viewerfn.KVSKey + `","value":"[1]"}]}`,
		`{"data":[{"key":"` + viewerfn.KVSKey + `","value":"{}"}]}`,
	} {
		path := filepath.Join(t.TempDir(), "kvs.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := newGoja(t, f.fn.Code, path)
		if err != nil {
			t.Fatal(err)
		}
		n := newNode(t, f.fn.Code, path)
		for _, e := range []engine{g, n} {
			r := viewerReq{URI: "/docs/x", Cookies: []string{valid}}
			if got := e.run(t, r); got.Err != nil || got.Key != f.perCredential(r) {
				t.Errorf("store %s: key = %q (err %v), want per-credential", content, got.Key, got.Err)
			}
			if got := e.run(t, viewerReq{URI: "/public/x"}); got.Key != viewerfn.Shared {
				t.Errorf("store %s: public path key = %q, want shared", content, got.Key)
			}
		}
	}
}

func compressedCookie(t testing.TB, f *fixture, expiry time.Time) string {
	t.Helper()
	c, err := f.store.EncodeSession(sessionOf(manyGroups(), expiry))
	if err != nil {
		t.Fatal(err)
	}
	return c.Name + "=" + c.Value
}
