package authz_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

var testRules = []authz.Rule{
	/* 0 */ {Path: "/", Public: true},
	/* 1 */ {Path: "/public/*", Public: true},
	/* 2 */ {Path: "/favicon.ico", Public: true},
	/* 3 */ {Path: "/admin/*", Groups: []string{"admins", "ops"}},
	/* 4 */ {Path: "/users/{sub}/*"},
	/* 5 */ {Path: "/tenants/{custom:tenant}/reports/*", Groups: []string{"analysts"}},
	/* 6 */ {Path: "/api/*", Scopes: []string{"api/read", "api/write"}},
	/* 7 */ {Path: "/mixed/*", Groups: []string{"staff"}, Scopes: []string{"mixed"}},
	/* 8 */ {Path: "/exact"},
	/* 9 */ {Path: "/dir/"},
	/* 10 */ {Path: "/%7Etilde/*", Groups: []string{"tilde"}},
}

// decide judges uri as a request for it is judged: Read, then Decide.
func decide(t testing.TB, a *authz.Authorizer, uri string, id *verifier.Identity) authz.Decision {
	t.Helper()
	r, err := authz.Read(uri)
	if err != nil {
		t.Fatalf("Read(%q): %v", uri, err)
	}
	return a.Decide(r, id)
}

func TestDecide(t *testing.T) {
	a, err := authz.New(testRules)
	if err != nil {
		t.Fatal(err)
	}
	alice := &verifier.Identity{Subject: "alice", Groups: []string{"ops"}, Scopes: []string{"api/write"},
		Claims: map[string]string{"sub": "alice", "custom:tenant": "t1"}}
	bob := &verifier.Identity{Subject: "bob", Groups: []string{"analysts", "staff"}}
	nosub := &verifier.Identity{Groups: []string{"admins"}}
	tests := []struct {
		path string
		id   *verifier.Identity
		want authz.Decision
	}{
		{"/", nil, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 0}},
		{"/public", nil, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 1}},
		{"/public/", nil, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 1}},
		{"/public/css/site.css", nil, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 1}},
		{"/public/css/site.css", alice, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 1}},
		{"/publicity", nil, authz.Decision{Reason: "not signed in", Rule: -1}},
		{"/publicity", alice, authz.Decision{Allow: true, Reason: "signed in", Rule: -1}},
		{"/favicon.ico", nil, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 2}},
		{"/favicon.ico/x", nil, authz.Decision{Reason: "not signed in", Rule: -1}},

		{"/admin", alice, authz.Decision{Allow: true, Reason: "group ops", Rule: 3}},
		{"/admin/", alice, authz.Decision{Allow: true, Reason: "group ops", Rule: 3}},
		{"/admin/x/y", alice, authz.Decision{Allow: true, Reason: "group ops", Rule: 3}},
		{"/admin/x/y", nosub, authz.Decision{Allow: true, Reason: "group admins", Rule: 3}},
		{"/admin/x", bob, authz.Decision{Reason: "missing group", Rule: 3}},
		{"/admin/x", nil, authz.Decision{Reason: "not signed in", Rule: 3}},
		{"/administrator", bob, authz.Decision{Allow: true, Reason: "signed in", Rule: -1}},

		{"/users/alice", alice, authz.Decision{Allow: true, Reason: "claim sub", Rule: 4}},
		{"/users/alice/", alice, authz.Decision{Allow: true, Reason: "claim sub", Rule: 4}},
		{"/users/alice/docs/a.pdf", alice, authz.Decision{Allow: true, Reason: "claim sub", Rule: 4}},
		{"/users/bob/docs", alice, authz.Decision{Reason: "claim sub mismatch", Rule: 4}},
		{"/users/Alice/docs", alice, authz.Decision{Reason: "claim sub mismatch", Rule: 4}},
		{"/users/bob", bob, authz.Decision{Allow: true, Reason: "claim sub", Rule: 4}}, // Subject fallback
		{"/users/x", nosub, authz.Decision{Reason: "claim sub mismatch", Rule: 4}},
		{"/users/", alice, authz.Decision{Allow: true, Reason: "signed in", Rule: -1}}, // a claim segment is never empty
		{"/users/alice", nil, authz.Decision{Reason: "not signed in", Rule: 4}},

		{"/tenants/t1/reports/q1", alice, authz.Decision{Reason: "missing group", Rule: 5}},
		{"/tenants/t1/reports/q1", &verifier.Identity{Subject: "c", Groups: []string{"analysts"}, Claims: map[string]string{"custom:tenant": "t1"}},
			authz.Decision{Allow: true, Reason: "group analysts", Rule: 5}},
		{"/tenants/t2/reports/q1", &verifier.Identity{Subject: "c", Groups: []string{"analysts"}, Claims: map[string]string{"custom:tenant": "t1"}},
			authz.Decision{Reason: "claim custom:tenant mismatch", Rule: 5}},
		{"/tenants/t1/reports/q1", bob, authz.Decision{Reason: "claim custom:tenant mismatch", Rule: 5}},

		// Scopes bind Bearer tokens and sessions alike, and fail closed.
		{"/api/orders", alice, authz.Decision{Allow: true, Reason: "scope api/write", Rule: 6}},
		{"/api/orders", bob, authz.Decision{Reason: "missing scope", Rule: 6}},
		{"/api/orders", &verifier.Identity{Subject: "s"}, authz.Decision{Reason: "missing scope", Rule: 6}},
		{"/mixed/x", bob, authz.Decision{Reason: "missing scope", Rule: 7}},
		{"/mixed/x", &verifier.Identity{Subject: "s", Groups: []string{"staff"}}, authz.Decision{Reason: "missing scope", Rule: 7}},
		{"/mixed/x", &verifier.Identity{Subject: "s", Groups: []string{"staff"}, Scopes: []string{"mixed"}}, authz.Decision{Allow: true, Reason: "group staff", Rule: 7}},
		{"/mixed/x", &verifier.Identity{Subject: "s", Scopes: []string{"mixed"}}, authz.Decision{Reason: "missing group", Rule: 7}},

		{"/exact", bob, authz.Decision{Allow: true, Reason: "signed in", Rule: 8}},
		{"/exact/", bob, authz.Decision{Allow: true, Reason: "signed in", Rule: -1}},
		{"/exact/x", nil, authz.Decision{Reason: "not signed in", Rule: -1}},
		{"/dir/", nil, authz.Decision{Reason: "not signed in", Rule: 9}},
		{"/dir", nil, authz.Decision{Reason: "not signed in", Rule: -1}},
		{"/~tilde/x", bob, authz.Decision{Reason: "missing group", Rule: 10}},
		{"/other", nil, authz.Decision{Reason: "not signed in", Rule: -1}},
	}
	for _, tt := range tests {
		got := decide(t, a, tt.path, tt.id)
		if got != tt.want {
			who := "anonymous"
			if tt.id != nil {
				who = tt.id.Subject
			}
			t.Errorf("Decide(%q, %s) = %+v, want %+v", tt.path, who, got, tt.want)
		}
		// Anonymous, the same call answers "does this path need a
		// credential at all?".
		if anon := decide(t, a, tt.path, nil); tt.want.Rule >= 0 && (anon.Rule != tt.want.Rule || anon.Public != tt.want.Public) {
			t.Errorf("Decide(%q, anonymous) = %+v; want rule %d, public %v", tt.path, anon, tt.want.Rule, tt.want.Public)
		}
	}
	// Dot segments and repeated slashes are never resolved into another
	// path: they are refused before any rule is tried, so they cannot walk
	// around one.
	for _, uri := range []string{"/public/../admin/x", "/public/./../admin", "//admin//x", "/admin/x/../../public/", "/../../admin"} {
		if r, err := authz.Read(uri); !errors.Is(err, authz.ErrPath) {
			t.Errorf("Read(%q) = %v, %v; want ErrPath", uri, r.Paths(), err)
		}
	}
	if d := a.Decide(authz.Readings{}, alice); d.Allow || d.Reason != "no path" {
		t.Errorf("Decide(no readings) = %+v, want a refusal", d)
	}
}

func TestDecideFirstMatchWins(t *testing.T) {
	a, err := authz.New([]authz.Rule{
		{Path: "/docs/internal/*", Groups: []string{"staff"}},
		{Path: "/docs/*", Public: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := decide(t, a, "/docs/internal/x", nil); d.Allow || d.Rule != 0 {
		t.Errorf("Decide(/docs/internal/x) = %+v, want denied by rule 0", d)
	}
	if d := decide(t, a, "/docs/x", nil); !d.Allow || !d.Public || d.Rule != 1 {
		t.Errorf("Decide(/docs/x) = %+v, want public by rule 1", d)
	}
	// A catch-all public rule matches everything, "/" included.
	all, err := authz.New([]authz.Rule{{Path: "/*", Public: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/x", "/x/y/"} {
		if d := decide(t, all, p, nil); d.Rule != 0 || !d.Public {
			t.Errorf("Decide(%q) with /* = %+v; want rule 0, public", p, d)
		}
	}
	// No rules: everything needs a signed-in user.
	none, err := authz.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := decide(t, none, "/", nil); d.Allow || d.Rule != -1 {
		t.Errorf("Decide with no rules = %+v, want denied by default", d)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		rule  authz.Rule
		field string // of rules[1]
		want  string
	}{
		{authz.Rule{Path: "admin/*"}, "path", `must start with "/", got "admin/*"`},
		{authz.Rule{Path: ""}, "path", `must start with "/"`},
		{authz.Rule{Path: "/a/*/b"}, "path", `"*" may only end the pattern`},
		{authz.Rule{Path: "/*/*"}, "path", `"*" may only end the pattern`},
		{authz.Rule{Path: "/a*"}, "path", `"*" must be a whole last segment`},
		{authz.Rule{Path: "/a/**"}, "path", `"*" must be a whole last segment`},
		{authz.Rule{Path: "/a/{sub"}, "path", "a claim segment must be a whole segment such as {sub}"},
		{authz.Rule{Path: "/a/x{sub}"}, "path", "a claim segment must be a whole segment"},
		{authz.Rule{Path: "/a/{}/b"}, "path", "a claim segment must be a whole segment"},
		{authz.Rule{Path: "/a/{{sub}}"}, "path", "a claim segment must be a whole segment"},
		{authz.Rule{Path: "/a/{s/b}"}, "path", "a claim segment must be a whole segment"},
		{authz.Rule{Path: "/a/../b"}, "path", "must not contain dot segments"},
		{authz.Rule{Path: "/a/./b"}, "path", "must not contain dot segments"},
		// Config validation used to let this through and authz.New refused
		// it, so only check-auth's cold start failed: one rule now.
		{authz.Rule{Path: "/a//b"}, "path", "must not contain empty segments"},
		{authz.Rule{Path: "/a/%zz"}, "path", "invalid percent-encoding"},
		{authz.Rule{Path: "/a/%2Fb"}, "path", "decodes to a slash"},
		{authz.Rule{Path: "/a/%2e%2e/b"}, "path", "dot segment"},
		{authz.Rule{Path: "/a/%00"}, "path", "control character"},
		{authz.Rule{Path: "/a?b"}, "path", "must be a plain path pattern"},
		{authz.Rule{Path: "/a b"}, "path", "must be a plain path pattern"},
		{authz.Rule{Path: "/a\tb"}, "path", "must be a plain path pattern"},
		{authz.Rule{Path: "/p/*", Public: true, Groups: []string{"g"}}, "public", "a public rule cannot also require groups, scopes or claims"},
		{authz.Rule{Path: "/p/*", Public: true, Scopes: []string{"s"}}, "public", "a public rule cannot"},
		{authz.Rule{Path: "/u/{sub}", Public: true}, "public", "a public rule cannot"},
		{authz.Rule{Path: "/g", Groups: []string{"a", ""}}, "groups[1]", "must not be empty"},
		{authz.Rule{Path: "/s", Scopes: []string{""}}, "scopes[0]", "must not be empty"},
	}
	for _, tt := range tests {
		_, err := authz.New([]authz.Rule{{Path: "/ok"}, tt.rule})
		ce, ok := errors.AsType[*authz.ConfigError](err)
		if !ok || ce.Field != "rules[1]."+tt.field || !strings.Contains(ce.Problem, tt.want) {
			t.Errorf("New(%+v) = %v; want a ConfigError for rules[1].%s saying %q", tt.rule, err, tt.field, tt.want)
		} else if !strings.Contains(err.Error(), "rules[1]") {
			t.Errorf("New(%+v) error %q does not name rules[1]", tt.rule, err)
		}
	}
}

func TestClaims(t *testing.T) {
	a, err := authz.New([]authz.Rule{
		{Path: "/public/*", Public: true},
		{Path: "/users/{sub}/*"},
		{Path: "/t/{custom:tenant}/{sub}/*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Claims(), ","); got != "sub,custom:tenant" {
		t.Errorf("Claims() = %q, want sub,custom:tenant", got)
	}
}

func TestCanonicalPath(t *testing.T) {
	tests := []struct {
		uri, want string
		wantErr   bool
	}{
		{"/", "/", false},
		{"/a/b", "/a/b", false},
		{"/a/b/", "/a/b/", false},
		{"/public/../admin/x", "", true},
		{"/public/%2e%2e/admin/x", "", true},
		{"/public/%2E%2E%2Fadmin/x", "", true},
		{"/public/..%2Fadmin", "", true},
		{"/a/./b/.", "", true},
		{"/a/b/..", "", true},
		{"/..", "", true},
		{"/../../etc/passwd", "", true},
		{"//a///b", "", true},
		{"/admin//../secret.html", "", true},
		{"/admin%5cindex.html", "", true},
		{"/public/..;/admin/x", "", true},
		{"/public/.;x/a", "", true},
		{"/;x/b", "", true},
		{"/a;v=1/b", "/a;v=1/b", false},
		{"/admin\\x", "", true},
		{"/a%2Fb", "/a/b", false},
		{"/a..b/c.", "/a..b/c.", false},
		{"/%2Fadmin", "", true},
		{"/a%20b", "/a b", false},
		{"/a+b", "/a+b", false},
		{"/%2541", "/%41", false}, // decoded once only
		{"/caf%C3%A9", "/café", false},
		{"", "", true},
		{"a/b", "", true},
		{"/a%", "", true},
		{"/a%2", "", true},
		{"/a%zz", "", true},
		{"/a%00b", "", true},
		{"/a\x00b", "", true},
		{"/a%0a", "", true},
		{"/a\nb", "", true},
		{"/a%7f", "", true},
	}
	for _, tt := range tests {
		got, err := authz.CanonicalPath(tt.uri)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("CanonicalPath(%q) = %q, %v; want %q, error %v", tt.uri, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, authz.ErrPath) {
			t.Errorf("CanonicalPath(%q) error %v is not ErrPath", tt.uri, err)
		}
	}
}

func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/", "/public/../admin/x", "/a/%2e%2e/b", "//a//b/", "/%2541", "/a%zz", "/a/./b/..", "/users/{sub}/x",
		"/admin;jsessionid=1/index.html", "/admin;x/", "/admin;/index.html", "/%61dmin;x/a", "/admin%3Bx/", "/x/admin%3b/y;/z",
		"/users/bob;x/", "/docs/a;b.html"} {
		f.Add(s)
	}
	a, err := authz.New(testRules)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, err := authz.CanonicalPath(uri)
		if err != nil {
			if !errors.Is(err, authz.ErrPath) {
				t.Fatalf("CanonicalPath(%q) error %v is not ErrPath", uri, err)
			}
			return
		}
		// Nothing is left to resolve in a canonical path, which is why
		// Decide matches it as it is: no "//", no dot segment, however it
		// ends.
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
			strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
			t.Fatalf("CanonicalPath(%q) = %q: not absolute, or has // or a dot segment", uri, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("CanonicalPath(%q) = %q keeps a dot segment", uri, p)
			}
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] == 0x7f {
				t.Fatalf("CanonicalPath(%q) = %q has a control character", uri, p)
			}
		}
		// An anonymous caller is allowed only on a public rule, whatever
		// the path.
		r, err := authz.Read(uri)
		if err != nil {
			if !errors.Is(err, authz.ErrPath) {
				t.Fatalf("Read(%q) error %v is not ErrPath", uri, err)
			}
			return
		}
		if got := r.Paths(); got[0] != p {
			t.Fatalf("Read(%q) = %q, want the canonical path %q first", uri, got, p)
		}
		if d := a.Decide(r, nil); d.Allow != d.Public {
			t.Fatalf("Decide(%q, anonymous) = %+v", uri, d)
		}
		// Whatever an origin strips of ";params", what it serves was
		// judged: a path allowed as sent is allowed as each origin reads it.
		staff := &verifier.Identity{Subject: "bob", Groups: []string{"staff"}, Claims: map[string]string{"sub": "bob"}}
		for _, id := range []*verifier.Identity{nil, staff} {
			if !a.Decide(r, id).Allow {
				continue
			}
			for _, v := range stripParams(uri) {
				rv, err := authz.Read(v)
				if err != nil {
					continue
				}
				if d := a.Decide(rv, id); !d.Allow {
					t.Fatalf("Decide(%q) allows, but an origin reading it as %q serves what %+v refuses", uri, v, d)
				}
			}
		}
	})
}

// stripParams returns the paths origins that drop ";params" read uri as,
// written apart from authz: each segment cut at its first raw ";" before
// decoding (Tomcat), at its first ";" after decoding, and the last segment
// only (older Jetty). Each is returned percent-encoded again where needed.
func stripParams(uri string) []string {
	cut := func(segs []string, only func(i int) bool, sep func(string) int) string {
		out := make([]string, len(segs))
		for i, s := range segs {
			if only(i) {
				if j := sep(s); j >= 0 {
					s = s[:j]
				}
			}
			out[i] = s
		}
		return strings.Join(out, "/")
	}
	raw := strings.Split(uri, "/")
	all := func(int) bool { return true }
	last := func(i int) bool { return i == len(raw)-1 }
	rawSep := func(s string) int { return strings.IndexByte(s, ';') }
	// A decoded ";" is a raw ";" or "%3B"/"%3b".
	decSep := func(s string) int {
		i := strings.IndexByte(s, ';')
		for _, e := range []string{"%3B", "%3b"} {
			if j := strings.Index(s, e); j >= 0 && (i < 0 || j < i) {
				i = j
			}
		}
		return i
	}
	return []string{cut(raw, all, rawSep), cut(raw, all, decSep), cut(raw, last, rawSep), cut(raw, last, decSep)}
}

func BenchmarkDecide(b *testing.B) {
	a, err := authz.New(testRules)
	if err != nil {
		b.Fatal(err)
	}
	id := &verifier.Identity{Subject: "alice", Groups: []string{"staff", "ops"}, Scopes: []string{"api/write"},
		Claims: map[string]string{"sub": "alice", "custom:tenant": "t1"}}
	for _, path := range []string{"/admin/reports/2026/q1.pdf", "/users/alice/docs/a.pdf", "/not/matched/at/all.html"} {
		r, err := authz.Read(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.ReplaceAll(path[1:], "/", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := a.Decide(r, id); !d.Allow {
					b.Fatal(d)
				}
			}
		})
	}
}

// A raw "+" is judged both as itself and as the space S3 reads it as; "%2B"
// is a plus in both.
func TestPlusIsJudgedAsS3ReadsIt(t *testing.T) {
	a, err := authz.New([]authz.Rule{
		{Path: "/Board%20Minutes/*", Groups: []string{"board"}},
		{Path: "/R+D%20Team/*", Groups: []string{"rnd"}},
		{Path: "/C++/*", Public: true},
		{Path: "/a+b/*", Public: true},
		{Path: "/home/{email}/*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	staff := &verifier.Identity{Subject: "s", Groups: []string{"staff"}}
	board := &verifier.Identity{Subject: "b", Groups: []string{"board"}}
	plus := &verifier.Identity{Subject: "p", Email: "alice+work@example.com"}
	tests := []struct {
		uri   string
		id    *verifier.Identity
		allow bool
	}{
		{"/Board+Minutes/q3.pdf", staff, false}, // S3 serves "Board Minutes/q3.pdf"
		{"/Board+Minutes/q3.pdf", board, true},
		{"/R%2BD+Team/plan.pdf", staff, false}, // S3 serves "R+D Team/plan.pdf"
		{"/C%2B%2B/x.html", nil, true},         // no raw "+": one reading, "/C++/x.html"
		{"/a+b/x", nil, false},                 // S3 serves "a b/x", which is not public
		{"/home/alice%2Bwork@example.com/", plus, true},
		{"/home/alice+work@example.com/", plus, false}, // S3 serves "alice work@…", not hers
	}
	for _, tt := range tests {
		if d := decide(t, a, tt.uri, tt.id); d.Allow != tt.allow {
			t.Errorf("Decide(Read(%q)) = %+v, want allow %v", tt.uri, d, tt.allow)
		}
	}
	if d := decide(t, a, "/a+b/x", nil); d.Public {
		t.Error(`Decide("/a+b/x", anonymous) is public, but S3 serves "/a b/x", which is not`)
	}
	if r, err := authz.Read("/a+b%2Bc"); err != nil || len(r.Paths()) != 2 || r.Paths()[0] != "/a+b+c" || r.Paths()[1] != "/a b+c" {
		t.Errorf("Read(/a+b%%2Bc) = %q, %v", r.Paths(), err)
	}
	if _, err := authz.Read("/a+/../b"); err == nil {
		t.Error("Read accepted a dot segment")
	}
}

// A ";params" segment that an origin could strip down to a segment a rule
// names is malformed, however it is spelled: servlet containers serve
// "/admin/index.html" for each of these, S3 would serve nothing. Elsewhere
// a ";" is an ordinary character and passes as itself.
func TestParamsNeverHideARule(t *testing.T) {
	a, err := authz.New(testRules)
	if err != nil {
		t.Fatal(err)
	}
	bob := &verifier.Identity{Subject: "bob", Groups: []string{"staff"}, Claims: map[string]string{"sub": "bob"}}
	admin := &verifier.Identity{Subject: "root", Groups: []string{"admins"}}
	for _, uri := range []string{
		"/admin;jsessionid=1/index.html", "/admin;x/", "/admin;/index.html", "/%61dmin;x/index.html",
		"/admin%3Bx/", "/admin%3bx/index.html", "/%61dmin%3B/", "/admin;x", "/admin;a=1;b=2/x",
		"/public;x/../admin", "/users;x/bob/", "/dir;x/", "/api;v=2/orders", "/~tilde;x/", "/%7Etilde%3Bx/",
		"/Board;x", // not a rule: passes (below)
	} {
		r, err := authz.Read(uri)
		if err != nil {
			if !errors.Is(err, authz.ErrPath) {
				t.Errorf("Read(%q) error %v, want ErrPath", uri, err)
			}
			continue // refused before any rule, as dot segments are
		}
		for _, id := range []*verifier.Identity{nil, bob, admin} {
			d := a.Decide(r, id)
			if uri == "/Board;x" {
				if d.BadPath {
					t.Errorf("Decide(%q) = %+v: no rule names Board", uri, d)
				}
				continue
			}
			if d.Allow || !d.BadPath || d.Public {
				t.Errorf("Decide(%q, %v) = %+v, want a BadPath refusal", uri, id, d)
			}
		}
	}
	// A ";" in a segment no rule names is an ordinary character.
	for _, tt := range []struct {
		uri   string
		id    *verifier.Identity
		allow bool
	}{
		{"/docs/a;b.html", bob, true},
		{"/docs;v=1/a.html", bob, true},
		{"/admin/report;v=2.pdf", admin, true},
		{"/admin/report;v=2.pdf", bob, false},
		{"/public/a;b.css", nil, true},
		// A claim segment never equals a segment holding ";": stripped, it
		// could be someone's folder.
		{"/users/bob;x/notes", bob, false},
		{"/users/bob%3Bx/notes", bob, false},
		{"/users/bob/notes;x", bob, true},
	} {
		if d := decide(t, a, tt.uri, tt.id); d.Allow != tt.allow || d.BadPath {
			t.Errorf("Decide(%q) = %+v, want allow %v", tt.uri, d, tt.allow)
		}
	}
	// With a claim holding ";" the owner is refused too: fail closed.
	odd := &verifier.Identity{Subject: "a;b", Claims: map[string]string{"sub": "a;b"}}
	if d := decide(t, a, "/users/a;b/", odd); d.Allow {
		t.Errorf("Decide(/users/a;b/) = %+v, want denied", d)
	}
	// Rules cannot name a ";", raw or encoded.
	for _, p := range []string{"/a;b/*", "/a%3Bb", "/x/a%3bb/*"} {
		if _, err := authz.New([]authz.Rule{{Path: p}}); err == nil || !strings.Contains(err.Error(), `";"`) {
			t.Errorf("New(%q) = %v, want a refusal naming the ;", p, err)
		}
	}
}

// TestPatterns: the compiled form other engines read is the rules as New
// compiled them: literals decoded, claim segments named, flags and names
// kept, and Literals the decoded literal segments, "" of a folder
// pattern included.
func TestPatterns(t *testing.T) {
	a, err := authz.New([]authz.Rule{
		{Path: "/public/*", Public: true},
		{Path: "/Board%20Minutes/{sub}/*", Groups: []string{"board"}, Scopes: []string{"read"}},
		{Path: "/docs/"},
		{Path: "/*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []authz.Pattern{
		{Segments: []authz.PatternSegment{{Literal: "public"}}, Prefix: true, Public: true},
		{Segments: []authz.PatternSegment{{Literal: "Board Minutes"}, {Claim: "sub"}}, Prefix: true, Groups: []string{"board"}, Scopes: []string{"read"}},
		{Segments: []authz.PatternSegment{{Literal: "docs"}, {Literal: ""}}},
		{Prefix: true},
	}
	if got := a.Patterns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Patterns() =\n%+v\nwant\n%+v", got, want)
	}
	if got, want := a.Literals(), []string{"", "Board Minutes", "docs", "public"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Literals() = %q, want %q", got, want)
	}
}
