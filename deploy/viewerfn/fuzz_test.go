package viewerfn_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// fuzzEngines are the local engine, and Node when it is on PATH (a fuzz
// run does not skip for want of it).
func fuzzEngines(f *testing.F, fx *fixture) []engine {
	es := []engine{fx.engines["goja"]}
	if _, err := exec.LookPath("node"); err == nil {
		es = append(es, newNode(f, fx.fn.Code, fx.kvsPath))
	}
	return es
}

// FuzzDifferentialPath: any URI, for any of the table's identities, gets
// the same decision from the generated function as from check-auth.
func FuzzDifferentialPath(f *testing.F) {
	fx := newFixture(f, rulesConfig, viewerfn.Options{})
	es := fuzzEngines(f, fx)
	later := suitetest.Now.Add(15 * time.Minute)
	ids := []verifier.Identity{alice, bob, carol, dave}
	cookies := []string{""}
	for _, id := range ids {
		cookies = append(cookies, fx.session(f, id, later, false))
	}
	cookies = append(cookies, fx.session(f, alice, suitetest.Now.Add(-time.Second), true))
	for i, p := range paths {
		f.Add(p, uint8(i))
	}
	f.Fuzz(func(t *testing.T, uri string, who uint8) {
		if !utf8.ValidString(uri) {
			// An event's strings are JSON: CloudFront and the local edge
			// percent-encode such bytes (url.URL.EscapedPath) first.
			t.Skip()
		}
		r := viewerReq{URI: uri}
		if c := cookies[int(who)%len(cookies)]; c != "" {
			r.Cookies = []string{c}
		}
		for _, e := range es {
			for _, b := range fx.judge(t, e, r, true) {
				t.Error(b)
			}
		}
	})
}

// FuzzDifferentialCookie: any session cookie value, on paths of every rule
// kind, is judged the same by the function as by check-auth: none the
// fuzzer makes may reach the shared entry unless check-auth passes it.
func FuzzDifferentialCookie(f *testing.F) {
	fx := newFixture(f, rotated, viewerfn.Options{})
	es := fuzzEngines(f, fx)
	name := fx.store.SessionName()
	valid := strings.TrimPrefix(fx.session(f, alice, suitetest.Now.Add(time.Hour), true), name+"=")
	f.Add(valid, uint8(0))
	f.Add(valid, uint8(1))
	f.Add(valid[:len(valid)-2]+"==", uint8(0))
	f.Add(strings.TrimPrefix(fx.session(f, bob, suitetest.Now.Add(time.Hour), false), name+"="), uint8(1))
	f.Add("", uint8(2))
	f.Add("MTcwMDAwMDAwMHx8", uint8(0)) // "1700000000||"
	f.Fuzz(func(t *testing.T, value string, where uint8) {
		p := []string{"/docs/x", "/admin/x", "/users/alice-sub/x"}[int(where)%3]
		r := viewerReq{URI: p, Cookies: []string{name + "=" + value}}
		for _, e := range es {
			for _, b := range fx.judge(t, e, r, true) {
				t.Error(b)
			}
		}
	})
}
