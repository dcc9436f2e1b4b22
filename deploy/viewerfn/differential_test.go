package viewerfn_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// rulesConfig has a rule of every kind: public, groups, scopes, claims
// (sub, a custom claim, email), an encoded space, UTF-8, a literal folder,
// an exact path, and first-match order.
func rulesConfig(m map[string]any) {
	m["rules"] = []any{
		map[string]any{"path": "/public/*", "public": true},
		map[string]any{"path": "/style.css", "public": true},
		map[string]any{"path": "/docs/", "public": true},
		map[string]any{"path": "/admin/*", "groups": []string{"admins"}},
		map[string]any{"path": "/users/{sub}/*"},
		map[string]any{"path": "/api/*", "scopes": []string{"https://api.example.com/read"}},
		map[string]any{"path": "/teams/{custom:team}/docs/*", "groups": []string{"staff", "admins"}},
		map[string]any{"path": "/mail/{email}/*"},
		map[string]any{"path": "/Board%20Minutes/*", "groups": []string{"board"}},
		map[string]any{"path": "/caf%C3%A9/*", "groups": []string{"cafe"}},
		map[string]any{"path": "/exact", "groups": []string{"exact"}},
		map[string]any{"path": "/public-ish/*", "groups": []string{"never"}},
	}
}

var (
	alice = verifier.Identity{Subject: "alice-sub", Username: "alice", Email: "alice@example.com", Groups: []string{"admins"},
		Claims: map[string]string{"sub": "alice-sub", "custom:team": "red"}}
	bob   = verifier.Identity{Subject: "bob-sub", Username: "bob", Claims: map[string]string{"sub": "bob-sub"}}
	carol = verifier.Identity{Subject: "carol-sub", Email: "carol@example.com", Groups: []string{"staff", "board", "cafe", "exact"},
		Scopes: []string{"https://api.example.com/read"}, Claims: map[string]string{"sub": "carol-sub", "custom:team": "blue", "email": "carol@example.com"}}
	// dave's claims are odd: an empty team, a subject with a ";" and a "+".
	dave = verifier.Identity{Subject: "dave;x+y", Groups: []string{"staff"}, Claims: map[string]string{"sub": "dave;x+y", "custom:team": ""}}
)

// paths reads every way the rules could be dodged or misread.
var paths = []string{
	"/", "/index.html", "/docs/", "/docs/x", "/docs/index.html", "/docs", "/docs;x/", "/docs/a;b.html",
	"/admin", "/admin/", "/admin/x", "/admin/x/", "/administrator", "/Admin/x", "/ADMIN/", "/%61dmin/x", "/%61%64min/",
	"/admin%2Fx", "/admin%2fx", "/public/x", "/public/", "/public", "/public-ish/x", "/public/../admin/x",
	"/public/%2e%2e/admin/x", "/public/%2E%2E/admin/", "/public/..%2Fadmin/", "/public//x", "//admin/x", "/public/.",
	"/public/./x", "/public/..;/admin/", "/admin;x/y", "/admin;/", "/admin%3Bx/y", "/admin%3b/", "/admin/;x",
	"/users/alice-sub/x", "/users/alice-sub/", "/users/alice-sub", "/users/bob-sub/x", "/users//x", "/users/alice-sub;x/y",
	"/users/alice%2Dsub/x", "/users/dave;x+y/x", "/users/dave%3Bx%2By/x", "/users/dave;x%2By/", "/users/dave;x%20y/",
	"/teams/red/docs/a", "/teams/red/docs/", "/teams/blue/docs/a", "/teams//docs/a", "/teams/red/doc/a", "/teams/%72ed/docs/",
	"/mail/alice@example.com/x", "/mail/alice%40example.com/x", "/mail/carol@example.com/", "/mail/ALICE@example.com/x",
	"/Board+Minutes/x", "/Board%20Minutes/x", "/Board%2BMinutes/x", "/Board%2bMinutes/", "/Board Minutes/x", "/Board+Minutes",
	"/public/a+b", "/public+/x", "/caf%C3%A9/x", "/caf%c3%a9/", "/café/x", "/caf%E9/x", "/caf%C3/x", "/caf%C3%A9%E2%82%AC/x",
	"/public%2Fx", "/%2e/x", "/%2E%2E/admin/", "/a\\b", "/a%5Cb", "/public/a%5C..%5Cadmin", "/a%00b", "/x%zz", "/x%2", "/x%",
	"/api/x", "/api", "/exact", "/exact/", "/exact;v", "/exact%3Bv", "/style.css", "/style.css;x", "/style.css/",
	"/docs%2F..%2Fadmin/", "/%F0%9F%98%80/", "/%ED%A0%80/", "/%C0%AF/", "/x%7F", "/x\x7f", "/emoji😀/", "/tab\t/",
	"/users%2F", "/users/alice-sub%2F", "/teams/red%2F", "/teams%2F", "/mail%2F", "/docs%2F",
	"admin/x", "", "/;", "/;/admin/", "/%3B", "/public;x/y", "/public%3Bx/y",
}

// decidableURI reports whether the function is meant to judge uri itself:
// printable ASCII, percent-encoding that decodes to UTF-8 (both readings).
func decidableURI(uri string) bool {
	for i := 0; i < len(uri); i++ {
		if uri[i] < 0x21 || uri[i] > 0x7e {
			return false
		}
	}
	for _, u := range []string{uri, strings.ReplaceAll(uri, "+", "%20")} {
		d, err := url.PathUnescape(u)
		if err == nil && !utf8.ValidString(d) {
			return false
		}
	}
	return strings.HasPrefix(uri, "/")
}

// judge runs r through e and through check-auth and returns what is wrong:
//   - INVARIANT: the function gave the shared key to a request check-auth
//     does not pass;
//   - per-credential: a key other than "shared" that is not the hash of
//     r's credentials;
//   - completeness: check-auth passes a request the function should have
//     verified (decidable) and did not;
//   - the URI rewrite of deploy/functions/viewer-request.js.
func (f *fixture) judge(t testing.TB, e engine, r viewerReq, decidable bool) []string {
	t.Helper()
	out := e.run(t, r)
	if out.Err != nil {
		return []string{fmt.Sprintf("%s: %v", r, out.Err)}
	}
	var bad []string
	wantURI := r.URI
	if strings.HasSuffix(wantURI, "/") {
		wantURI += "index.html"
	}
	if out.URI != wantURI {
		bad = append(bad, fmt.Sprintf("%s: uri = %q, want %q", r, out.URI, wantURI))
	}
	pass, status := f.goDecision(t, r, out.URI)
	switch {
	case out.Key == viewerfn.Shared && !pass:
		bad = append(bad, fmt.Sprintf("INVARIANT: %s: shared key, but check-auth answers %s", r, status))
	case out.Key != viewerfn.Shared && out.Key != f.perCredential(r):
		bad = append(bad, fmt.Sprintf("%s: key %q is neither shared nor the per-credential hash", r, out.Key))
	case out.Key != viewerfn.Shared && pass && decidable && decidableURI(r.URI):
		bad = append(bad, fmt.Sprintf("completeness: %s: check-auth passes it, the function left it to check-auth", r))
	}
	return bad
}

// cases is the differential table: every path for every identity (none,
// alice, bob, carol, dave, and alice expired with a refresh token).
func (f *fixture) cases(t testing.TB) []tcase {
	t.Helper()
	later := suitetest.Now.Add(15 * time.Minute)
	who := []struct {
		name   string
		cookie string
	}{
		{"anonymous", ""},
		{"alice", f.session(t, alice, later, true)},
		{"bob", f.session(t, bob, later, false)},
		{"carol", f.session(t, carol, later, true)},
		{"dave", f.session(t, dave, later, false)},
		{"alice expired", f.session(t, alice, suitetest.Now.Add(-time.Second), true)},
		{"alice expiring now", f.session(t, alice, suitetest.Now, false)},
	}
	var out []tcase
	for _, w := range who {
		for _, p := range paths {
			r := viewerReq{URI: p}
			if w.cookie != "" {
				r.Cookies = []string{w.cookie}
			}
			out = append(out, tcase{name: w.name + " " + p, r: r, decidable: true})
		}
	}
	return out
}

type tcase struct {
	name      string
	r         viewerReq
	decidable bool // the function must verify it when check-auth passes it
}

// TestDifferentialPaths: for every path reading and identity, the
// generated function (in the local engine and in Node) and Go's
// check-auth agree: shared only where check-auth passes, and shared
// wherever check-auth passes a request the function can read.
func TestDifferentialPaths(t *testing.T) {
	for _, o := range []viewerfn.Options{{InlineKeys: false}, {InlineKeys: true}} {
		t.Run(fmt.Sprintf("inline=%v", o.InlineKeys), func(t *testing.T) {
			f := newFixture(t, rulesConfig, o).withNode(t)
			cs := f.cases(t)
			shared := 0
			for _, name := range engineNames(f) {
				for _, c := range cs {
					for _, b := range f.judge(t, f.engines[name], c.r, c.decidable) {
						t.Errorf("%s: %s: %s", name, c.name, b)
					}
				}
			}
			for _, c := range cs {
				if f.engines["goja"].run(t, c.r).Key == viewerfn.Shared {
					shared++
				}
			}
			// The table must exercise both sides.
			if shared < len(cs)/10 || shared > len(cs)*9/10 {
				t.Errorf("%d of %d cases shared: the table does not exercise both sides", shared, len(cs))
			}
			t.Logf("%d cases per engine, %d shared", len(cs), shared)
		})
	}
}

func engineNames(f *fixture) []string {
	var names []string
	for n := range f.engines {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
