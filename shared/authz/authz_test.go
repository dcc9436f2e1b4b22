package authz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

var testRules = []config.Rule{
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
		// Dot segments and repeated slashes are resolved before matching.
		{"/public/../admin/x", bob, authz.Decision{Reason: "missing group", Rule: 3}},
		{"/public/../admin/x", nil, authz.Decision{Reason: "not signed in", Rule: 3}},
		{"/public/./../admin", nil, authz.Decision{Reason: "not signed in", Rule: 3}},
		{"//admin//x", bob, authz.Decision{Reason: "missing group", Rule: 3}},
		{"/admin/x/../../public/", nil, authz.Decision{Allow: true, Public: true, Reason: "public", Rule: 1}},
		{"/../../admin", nil, authz.Decision{Reason: "not signed in", Rule: 3}},

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
		got := a.Decide(tt.path, tt.id)
		if got != tt.want {
			who := "anonymous"
			if tt.id != nil {
				who = tt.id.Subject
			}
			t.Errorf("Decide(%q, %s) = %+v, want %+v", tt.path, who, got, tt.want)
		}
		rule, public := a.Match(tt.path)
		if tt.want.Rule >= 0 && (rule != tt.want.Rule || public != tt.want.Public) {
			t.Errorf("Match(%q) = %d, %v; want %d, %v", tt.path, rule, public, tt.want.Rule, tt.want.Public)
		}
	}
}

func TestDecideFirstMatchWins(t *testing.T) {
	a, err := authz.New([]config.Rule{
		{Path: "/docs/internal/*", Groups: []string{"staff"}},
		{Path: "/docs/*", Public: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := a.Decide("/docs/internal/x", nil); d.Allow || d.Rule != 0 {
		t.Errorf("Decide(/docs/internal/x) = %+v, want denied by rule 0", d)
	}
	if d := a.Decide("/docs/x", nil); !d.Allow || !d.Public || d.Rule != 1 {
		t.Errorf("Decide(/docs/x) = %+v, want public by rule 1", d)
	}
	// A catch-all public rule matches everything, "/" included.
	all, err := authz.New([]config.Rule{{Path: "/*", Public: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/x", "/x/y/"} {
		if rule, public := all.Match(p); rule != 0 || !public {
			t.Errorf("Match(%q) with /* = %d, %v; want 0, true", p, rule, public)
		}
	}
	// No rules: everything needs a signed-in user.
	none, err := authz.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := none.Decide("/", nil); d.Allow || d.Rule != -1 {
		t.Errorf("Decide with no rules = %+v, want denied by default", d)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []config.Rule{
		{Path: "admin/*"},
		{Path: ""},
		{Path: "/a/*/b"},
		{Path: "/a*"},
		{Path: "/a/**"},
		{Path: "/a/{sub"},
		{Path: "/a/x{sub}"},
		{Path: "/a/{}/b"},
		{Path: "/a/{{sub}}"},
		{Path: "/a/../b"},
		{Path: "/a/./b"},
		{Path: "/a//b"},
		{Path: "/a/%zz"},
		{Path: "/a/%2Fb"},
		{Path: "/a/%00"},
		{Path: "/p/*", Public: true, Groups: []string{"g"}},
		{Path: "/p/*", Public: true, Scopes: []string{"s"}},
		{Path: "/u/{sub}", Public: true},
		{Path: "/g", Groups: []string{""}},
		{Path: "/s", Scopes: []string{""}},
	}
	for _, r := range tests {
		if _, err := authz.New([]config.Rule{{Path: "/ok"}, r}); err == nil {
			t.Errorf("New(%+v) = nil error, want one", r)
		} else if !strings.Contains(err.Error(), "rules[1]") {
			t.Errorf("New(%+v) error %q does not name rules[1]", r, err)
		}
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
	for _, s := range []string{"/", "/public/../admin/x", "/a/%2e%2e/b", "//a//b/", "/%2541", "/a%zz", "/a/./b/..", "/users/{sub}/x"} {
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
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
			t.Fatalf("CanonicalPath(%q) = %q: not absolute or has //", uri, p)
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
		// Decide must judge the canonical form exactly as given: Match on it
		// agrees with Decide, and an anonymous caller is allowed only on a
		// public rule.
		d := a.Decide(p, nil)
		rule, public := a.Match(p)
		if d.Rule != rule || d.Public != public || d.Allow != public {
			t.Fatalf("Decide(%q) = %+v, Match = %d, %v", p, d, rule, public)
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	a, err := authz.New(testRules)
	if err != nil {
		b.Fatal(err)
	}
	id := &verifier.Identity{Subject: "alice", Groups: []string{"staff", "ops"}, Scopes: []string{"api/write"},
		Claims: map[string]string{"sub": "alice", "custom:tenant": "t1"}}
	for _, path := range []string{"/admin/reports/2026/q1.pdf", "/users/alice/docs/a.pdf", "/not/matched/at/all.html"} {
		b.Run(strings.ReplaceAll(path[1:], "/", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := a.Decide(path, id); !d.Allow {
					b.Fatal(d)
				}
			}
		})
	}
}

// A raw "+" is judged both as itself and as the space S3 reads it as; "%2B"
// is a plus in both.
func TestPlusIsJudgedAsS3ReadsIt(t *testing.T) {
	a, err := authz.New([]config.Rule{
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
		readings, err := authz.Readings(tt.uri)
		if err != nil {
			t.Fatalf("Readings(%q): %v", tt.uri, err)
		}
		if d := a.DecideAll(readings, tt.id); d.Allow != tt.allow {
			t.Errorf("DecideAll(Readings(%q)) = %+v, want allow %v", tt.uri, d, tt.allow)
		}
	}
	if _, public := a.MatchAll([]string{"/a+b/x", "/a b/x"}); public {
		t.Error(`MatchAll("/a+b/x" both readings) is public, but S3 serves "/a b/x", which is not`)
	}
	if got, err := authz.Readings("/a+b%2Bc"); err != nil || len(got) != 2 || got[0] != "/a+b+c" || got[1] != "/a b+c" {
		t.Errorf("Readings(/a+b%%2Bc) = %q, %v", got, err)
	}
	if _, err := authz.Readings("/a+/../b"); err == nil {
		t.Error("Readings accepted a dot segment")
	}
}
