package page

import (
	"errors"
	"flag"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/shared/edge"
)

var update = flag.Bool("update", false, "update goldens instead of checking against them")

func newRenderer(t *testing.T, secure bool) *Renderer {
	t.Helper()
	r, err := New(secure, Branding{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestGolden(t *testing.T) {
	r := newRenderer(t, true)
	tests := []struct {
		golden string
		code   int
		page   Page
	}{
		{"error", 400, Page{Kind: Error, Title: "Sign-in failed", Message: "The sign-in provider returned an error.",
			Detail: "access_denied: User is not allowed", RequestID: "req-1234", Link: "/", LinkText: "Sign in again"}},
		{"error-defaults", 502, Page{Kind: Error}},
		{"forbidden", 403, Page{Kind: Forbidden, RequestID: "req-5678", Link: "/signout", LinkText: "Sign in as someone else"}},
		{"signed-out", 200, Page{Kind: SignedOut, Message: "You have been signed out of example.com.", Link: "/", LinkText: "Sign in again"}},
		{"escaping", 400, Page{Kind: Error, Title: `<b>"title"</b>`, Message: "a & b", Detail: `<script>alert("x")</script>`,
			RequestID: `"><img src=x>`, Link: "/a?b=<c>&d='e'", LinkText: "<i>go</i>"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			resp := r.Response(tt.code, tt.page)
			path := filepath.Join("testdata", "golden", tt.golden+".html")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(resp.Body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if resp.Body != string(want) {
				t.Errorf("Response(%d, %s) body differs from %s (run go test -update and review the diff)\ngot:\n%s", tt.code, tt.golden, path, resp.Body)
			}
			if len(resp.Body) >= 40<<10 {
				t.Errorf("body is %d bytes, want < 40 KB", len(resp.Body))
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	r := newRenderer(t, false)
	resp := r.Response(400, Page{Kind: Error, Title: "<b>t</b>", Detail: `<script>alert(1)</script>`, RequestID: `"><svg onload=x>`})
	for _, bad := range []string{"<script>", "<b>t</b>", "<svg", `"><svg`} {
		if strings.Contains(resp.Body, bad) {
			t.Errorf("body contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;t&lt;/b&gt;"} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("body lacks escaped %q", want)
		}
	}
}

func TestLinkMustBeSameOrigin(t *testing.T) {
	r := newRenderer(t, false)
	for _, link := range []string{"https://evil.example/", "//evil.example", "javascript:alert(1)", `/\evil`} {
		resp := r.Response(400, Page{Kind: Error, Link: link, LinkText: "Go"})
		if strings.Contains(resp.Body, "evil") || strings.Contains(resp.Body, "javascript") || strings.Contains(resp.Body, ">Go<") {
			t.Errorf("Link %q was rendered", link)
		}
	}
	resp := r.Response(400, Page{Kind: Error, Link: "/docs"})
	if !strings.Contains(resp.Body, `href="/docs"`) || !strings.Contains(resp.Body, ">Continue<") {
		t.Errorf("same-origin link with default text missing")
	}
}

func TestHeaders(t *testing.T) {
	for _, secure := range []bool{false, true} {
		r := newRenderer(t, secure)
		for _, k := range []Kind{Error, Forbidden, SignedOut} {
			resp := r.Response(403, Page{Kind: k})
			h := resp.Headers
			want := map[string]string{
				"Cache-Control":           edge.NoStore,
				"Content-Type":            "text/html; charset=utf-8",
				"Content-Security-Policy": edge.PageCSP,
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
			}
			for name, v := range want {
				if got := h.Get(name); got != v {
					t.Errorf("%s secure=%v: %s = %q, want %q", k, secure, name, got, v)
				}
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != secure {
				t.Errorf("%s secure=%v: HSTS present = %v", k, secure, got)
			}
			if resp.Status != "403" || resp.BodyEncoding != "text" {
				t.Errorf("status %q encoding %q", resp.Status, resp.BodyEncoding)
			}
			for _, banned := range []string{"<script", "http://", "https://", "<link", "@import", "url("} {
				if strings.Contains(resp.Body, banned) {
					t.Errorf("%s page contains %q: pages load nothing from outside", k, banned)
				}
			}
		}
	}
}

func TestSizeAndLimits(t *testing.T) {
	r := newRenderer(t, true)
	huge := strings.Repeat("é<>", 20000)
	for _, k := range []Kind{Error, Forbidden, SignedOut} {
		resp := r.Response(500, Page{Kind: k, Title: huge, Message: huge, Detail: huge, RequestID: huge, Link: "/", LinkText: huge})
		if n := len(resp.Body); n >= 40<<10 || n > MaxBody {
			t.Errorf("%s page with huge fields is %d bytes", k, n)
		}
		if !strings.Contains(resp.Body, "…") {
			t.Errorf("%s page does not mark truncation", k)
		}
	}
	if got := r.Response(42, Page{}).Status; got != "500" {
		t.Errorf("Response(42) status = %s, want 500", got)
	}
	if got := r.Response(404, Page{Kind: Kind(99)}); !strings.Contains(got.Body, defaults[Error].title) {
		t.Errorf("unknown kind did not fall back to the error page")
	}
}

func TestFallback(t *testing.T) {
	r := newRenderer(t, false)
	// An operator's template that fails at run time.
	r.tmpl[Error] = template.Must(template.New("bad").Parse(`{{.Nope}}`))
	resp := r.Response(500, Page{Kind: Error, Title: "Broken <t>", Detail: "<script>", RequestID: "req-9"})
	for _, want := range []string{"Broken &lt;t&gt;", "&lt;script&gt;", "req-9"} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("fallback body lacks %q:\n%s", want, resp.Body)
		}
	}
	if resp.Status != "500" || resp.Headers.Get("Content-Security-Policy") == "" {
		t.Errorf("fallback response status %s headers %v", resp.Status, resp.Headers)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"}, // never cuts inside a rune
		{"ééé", 4, "éé…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestBranding(t *testing.T) {
	r, err := New(true, Branding{SiteName: "Docs <Example>", AccentColor: "#0b5fff", SupportURL: "mailto:help@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	body := r.Response(403, Page{Kind: Forbidden, RequestID: "rid-1"}).Body
	for _, want := range []string{
		"<title>Access denied · Docs &lt;Example&gt;</title>",
		`<p class="site">Docs &lt;Example&gt;</p>`,
		":root { --brand: #0b5fff; } a.button { background: var(--brand); }",
		`Request ID: <code>rid-1</code> · <a href="mailto:help@example.com">Contact support</a></footer>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("branded page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "ZgotmplZ") || strings.Contains(body, "<Example>") {
		t.Error("a brand value was rejected or left unescaped by the template")
	}
	// The link alone still gets a footer.
	body = r.Response(200, Page{Kind: SignedOut}).Body
	if !strings.Contains(body, `<footer><a href="mailto:help@example.com">Contact support</a></footer>`) {
		t.Errorf("no support link without a request id:\n%s", body)
	}
	// An https link is kept as is.
	r, err = New(true, Branding{SupportURL: "https://help.example.com/a?b=1&c=2"})
	if err != nil {
		t.Fatal(err)
	}
	if body := r.Response(400, Page{}).Body; !strings.Contains(body, `<a href="https://help.example.com/a?b=1&amp;c=2">Contact support</a>`) {
		t.Errorf("https support link:\n%s", body)
	}
}

// New is the one check of a Branding: the colour becomes trusted CSS and the
// link a href, so anything else is refused with the field named.
func TestBrandingRefused(t *testing.T) {
	for _, tt := range []struct {
		b     Branding
		field string
		want  string
	}{
		{Branding{AccentColor: "red;background:url(//x)"}, "accentColor", "must be a colour"},
		{Branding{AccentColor: "#12345"}, "accentColor", "must be a colour"},
		{Branding{SupportURL: "javascript:alert(1)"}, "supportUrl", "must be an https URL"},
		{Branding{SupportURL: "http://help.example.com"}, "supportUrl", "must be an https URL"},
		{Branding{SupportURL: "mailto:"}, "supportUrl", "mailto: address"},
		{Branding{SupportURL: "https://" + strings.Repeat("a", 300)}, "supportUrl", "at most 300 characters"},
		{Branding{SiteName: "a\nb"}, "siteName", "without control characters"},
		{Branding{SiteName: strings.Repeat("a", 81)}, "siteName", "at most 80 characters"},
	} {
		_, err := New(true, tt.b)
		ce, ok := errors.AsType[*ConfigError](err)
		if !ok || ce.Field != tt.field || !strings.Contains(ce.Problem, tt.want) {
			t.Errorf("New(%+v) = %v; want a ConfigError for %s saying %q", tt.b, err, tt.field, tt.want)
		}
	}
}
