package localedge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// capture returns a Function that hands each event's request to the
// channel and answers 204.
func capture(got chan<- *edge.Request) Function {
	return func(_ context.Context, ev edge.Event) (edge.Result, error) {
		req, _, err := ev.Request()
		if err != nil {
			return edge.Result{}, err
		}
		got <- req
		return edge.Respond(edge.NewResponse(204, false)), nil
	}
}

func ptr[T any](v T) *T { return &v }

// TestOriginRequestPolicy checks that an origin-request event carries only
// what the behavior's policy forwards, plus what CloudFront always sends.
func TestOriginRequestPolicy(t *testing.T) {
	viewer := http.Header{
		"Cookie":            {"keep=1; drop=2", "also=3"},
		"Authorization":     {"Bearer t"},
		"Accept-Language":   {"fr"},
		"X-Custom":          {"x1", "x2"},
		"User-Agent":        {"test-browser"},
		"X-Forwarded-For":   {"198.51.100.7"},
		"X-Forwarded-Proto": {"https"},
		"Connection":        {"keep-alive"},
	}
	tests := []struct {
		name        string
		b           Behavior // EventType and Function are filled in
		wantHeaders map[string][]string
		wantQuery   string
	}{
		{
			name: "no policy fields: only what CloudFront always sends",
			wantHeaders: map[string][]string{
				"user-agent": {"Amazon CloudFront"},
			},
			wantQuery: "a=%2F&b",
		},
		{
			name: "named headers and cookies, no query",
			b: Behavior{
				ForwardHeaders: []string{"authorization", "X-CUSTOM", "User-Agent"},
				ForwardCookies: CookieForwarding{Names: []string{"keep", "also", "Drop"}},
				ForwardQuery:   ptr(false),
			},
			wantHeaders: map[string][]string{
				"authorization": {"Bearer t"},
				"x-custom":      {"x1", "x2"},
				"user-agent":    {"test-browser"},
				// Cookie names match case-sensitively; the kept ones come as
				// one rebuilt entry.
				"cookie": {"keep=1; also=3"},
			},
			wantQuery: "",
		},
		{
			name: "all headers and all cookies",
			b: Behavior{
				ForwardHeaders: []string{"*"},
				ForwardCookies: CookieForwarding{All: true},
				ForwardQuery:   ptr(true),
			},
			wantHeaders: map[string][]string{
				"authorization":   {"Bearer t"},
				"accept-language": {"fr"},
				"x-custom":        {"x1", "x2"},
				"user-agent":      {"test-browser"},
				"accept-encoding": {"gzip"}, // Go's client adds it
				"cookie":          {"keep=1; drop=2", "also=3"},
			},
			wantQuery: "a=%2F&b",
		},
		{
			name: "all headers, cookies none",
			b: Behavior{
				ForwardHeaders: []string{"*"},
				ForwardCookies: CookieForwarding{Names: []string{}},
			},
			wantHeaders: map[string][]string{
				"authorization":   {"Bearer t"},
				"accept-language": {"fr"},
				"x-custom":        {"x1", "x2"},
				"user-agent":      {"test-browser"},
				"accept-encoding": {"gzip"},
			},
			wantQuery: "a=%2F&b",
		},
		{
			name:        "named cookies the viewer did not send",
			b:           Behavior{ForwardCookies: CookieForwarding{Names: []string{"other"}}},
			wantHeaders: map[string][]string{"user-agent": {"Amazon CloudFront"}},
			wantQuery:   "a=%2F&b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan *edge.Request, 1)
			b := tt.b
			b.PathPattern, b.Function, b.EventType = "*", "f", OriginRequest
			cfg := &Config{Behaviors: []Behavior{b}, Origin: Origin{Dir: siteDir}}
			env := newEdge(t, cfg, map[string]Function{"f": capture(got)})
			if resp := do(t, "GET", env.srv.URL+"/p?a=%2F&b", viewer); resp.code != 204 {
				t.Fatalf("status = %d, want 204 (%q)", resp.code, resp.body)
			}
			req := <-got
			// Always there, whatever the policy.
			want := map[string][]string{
				"host":            {s3OriginDomain},
				"via":             {req.Headers.Get("via")},
				"x-forwarded-for": {"198.51.100.7, 127.0.0.1"},
			}
			maps.Copy(want, tt.wantHeaders)
			if !strings.HasSuffix(req.Headers.Get("via"), "(CloudFront)") {
				t.Errorf("via = %q", req.Headers.Get("via"))
			}
			gotHeaders := map[string][]string{}
			for name := range req.Headers {
				gotHeaders[name] = req.Headers.Values(name)
			}
			for _, name := range slices.Sorted(maps.Keys(want)) {
				if !slices.Equal(gotHeaders[name], want[name]) {
					t.Errorf("header %s = %q, want %q", name, gotHeaders[name], want[name])
				}
			}
			for _, name := range slices.Sorted(maps.Keys(gotHeaders)) {
				if _, ok := want[name]; !ok {
					t.Errorf("unexpected header %s = %q", name, gotHeaders[name])
				}
			}
			if req.QueryString != tt.wantQuery {
				t.Errorf("querystring = %q, want %q", req.QueryString, tt.wantQuery)
			}
			if req.URI != "/p" || req.Origin == nil || req.Origin.S3 == nil {
				t.Errorf("uri %q origin %+v", req.URI, req.Origin)
			}
		})
	}
}

// TestOriginRequestUpstream checks what a URL origin receives from an
// origin-request behavior: its own Host, CloudFront's User-Agent, and only
// the forwarded headers, cookies and query, with or without a function.
func TestOriginRequestUpstream(t *testing.T) {
	type seen struct {
		header     http.Header
		host       string
		requestURI string
	}
	got := make(chan seen, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Clone(), r.Host, r.RequestURI}
		_, _ = io.WriteString(w, "from upstream")
	}))
	t.Cleanup(upstream.Close)
	upstreamHost := strings.TrimPrefix(upstream.URL, "http://")

	viewer := http.Header{
		"Cookie":        {"edgeauth-session=s; theme=dark"},
		"Authorization": {"Bearer t"},
		"X-Custom":      {"x"},
		"User-Agent":    {"test-browser"},
	}
	tests := []struct {
		name      string
		b         Behavior
		wantHost  string // "" means the upstream's own
		wantURI   string
		wantHdr   map[string]string // "" means absent
		wantEvent bool
	}{
		{
			name:    "function, no policy",
			b:       Behavior{Function: "f"},
			wantURI: "/p?q=1",
			wantHdr: map[string]string{"User-Agent": "Amazon CloudFront", "Cookie": "", "Authorization": "", "X-Custom": ""},
		},
		{
			name: "function, policy forwarding the viewer's Host",
			b: Behavior{Function: "f", ForwardHeaders: []string{"Host", "Authorization"},
				ForwardCookies: CookieForwarding{Names: []string{"theme"}}, ForwardQuery: ptr(false)},
			wantHost: "viewer",
			wantURI:  "/p",
			wantHdr:  map[string]string{"User-Agent": "Amazon CloudFront", "Cookie": "theme=dark", "Authorization": "Bearer t", "X-Custom": ""},
		},
		{
			name:    "no function: the policy still applies",
			b:       Behavior{ForwardHeaders: []string{"*"}},
			wantURI: "/p?q=1",
			wantHdr: map[string]string{"User-Agent": "test-browser", "Cookie": "", "Authorization": "Bearer t", "X-Custom": "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := make(chan *edge.Request, 1)
			b := tt.b
			b.PathPattern, b.EventType = "*", OriginRequest
			cfg := &Config{Behaviors: []Behavior{b}, Origin: Origin{URL: upstream.URL}}
			env := newEdge(t, cfg, map[string]Function{"f": func(_ context.Context, ev edge.Event) (edge.Result, error) {
				req, _, err := ev.Request()
				if err != nil {
					return edge.Result{}, err
				}
				events <- req
				return edge.Continue(req), nil
			}})
			resp := do(t, "GET", env.srv.URL+"/p?q=1", viewer)
			if resp.code != 200 || resp.body != "from upstream" {
				t.Fatalf("status %d body %q, want 200 from upstream", resp.code, resp.body)
			}
			s := <-got
			wantHost := upstreamHost
			if tt.wantHost == "viewer" {
				wantHost = strings.TrimPrefix(env.srv.URL, "http://")
			}
			if s.host != wantHost {
				t.Errorf("upstream Host = %q, want %q", s.host, wantHost)
			}
			if s.requestURI != tt.wantURI {
				t.Errorf("upstream request URI = %q, want %q", s.requestURI, tt.wantURI)
			}
			for name, want := range tt.wantHdr {
				if v := strings.Join(s.header.Values(name), ", "); v != want {
					t.Errorf("upstream %s = %q, want %q", name, v, want)
				}
			}
			if s.header.Get("Via") == "" || s.header.Get("X-Forwarded-For") != "127.0.0.1" || s.header.Get("X-Amz-Cf-Id") == "" {
				t.Errorf("upstream lacks Via, X-Forwarded-For or X-Amz-Cf-Id: %v", s.header)
			}
			if b.Function == "" {
				return
			}
			req := <-events
			if req.Headers.Get("host") != wantHost {
				t.Errorf("event host = %q, want %q", req.Headers.Get("host"), wantHost)
			}
			if o := req.Origin; o == nil || o.Custom == nil || o.Custom.DomainName != "127.0.0.1" {
				t.Errorf("event origin = %+v, want custom 127.0.0.1", o)
			}
		})
	}
}

func TestCookieForwardingJSON(t *testing.T) {
	tests := []struct {
		json string
		want CookieForwarding
	}{
		{`"all"`, CookieForwarding{All: true}},
		{`"none"`, CookieForwarding{Names: []string{}}},
		{`["a","b"]`, CookieForwarding{Names: []string{"a", "b"}}},
	}
	for _, tt := range tests {
		var c CookieForwarding
		if err := json.Unmarshal([]byte(tt.json), &c); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tt.json, err)
		}
		if c.All != tt.want.All || !slices.Equal(c.Names, tt.want.Names) || (c.Names == nil) != (tt.want.Names == nil) {
			t.Errorf("Unmarshal(%s) = %+v, want %+v", tt.json, c, tt.want)
		}
		if c.IsZero() {
			t.Errorf("Unmarshal(%s) is zero; an explicit setting must not be", tt.json)
		}
		b, err := json.Marshal(c)
		if err != nil || string(b) != tt.json {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", c, b, err, tt.json)
		}
	}
	for _, bad := range []string{`"some"`, `3`, `null`, `{"all":true}`} {
		var c CookieForwarding
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", bad, c)
		}
	}
	// Left out, the field is omitted again.
	b, err := json.Marshal(Behavior{PathPattern: "*"})
	if err != nil || strings.Contains(string(b), "forward") {
		t.Errorf("Marshal(Behavior) = %s, %v; want no forward fields", b, err)
	}
}

// TestDirOriginPlus checks the folder origin decodes the path as S3 does:
// "+" is a space, "%2B" a plus, so a function that judges "/a+b" while
// the bucket serves "a b" shows locally.
func TestDirOriginPlus(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a b.txt":     "space file",
		"a+b.txt":     "plus file",
		"only+plus":   "unreachable by a literal plus",
		"sub dir/x y": "nested",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan string, 8)
	judge := func(_ context.Context, ev edge.Event) (edge.Result, error) {
		req, _, err := ev.Request()
		if err != nil {
			return edge.Result{}, err
		}
		got <- req.URI
		return edge.Continue(req), nil
	}
	cfg := &Config{Behaviors: []Behavior{{PathPattern: "*", Function: "f"}}, Origin: Origin{Dir: dir}}
	env := newEdge(t, cfg, map[string]Function{"f": judge})
	tests := []struct {
		path     string
		wantCode int
		wantBody string
	}{
		{"/a+b.txt", 200, "space file"},
		{"/a%20b.txt", 200, "space file"},
		{"/a%2Bb.txt", 200, "plus file"},
		{"/a%2bb.txt", 200, "plus file"},
		{"/only+plus", 403, "AccessDenied"},
		{"/only%2Bplus", 200, "unreachable by a literal plus"},
		{"/sub+dir/x+y", 200, "nested"},
	}
	for _, tt := range tests {
		resp := do(t, "GET", env.srv.URL+tt.path, nil)
		if resp.code != tt.wantCode || !strings.Contains(resp.body, tt.wantBody) {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.code, resp.body, tt.wantCode, tt.wantBody)
		}
		// The function saw the raw path, plus and all.
		if uri := <-got; uri != tt.path {
			t.Errorf("function saw uri %q, want %q", uri, tt.path)
		}
	}
}

// viewerRequestJS is the template's viewer-request CloudFront Function, the
// file the template carries inline.
const viewerRequestJS = "../../deploy/functions/viewer-request.js"

// TestViewerFunctionCopiesHost runs the template's viewer-request function
// at the edge: an origin-request function sees the origin's Host, and the
// viewer's in X-Edgeauth-Viewer-Host, once, whatever the viewer sent in
// that header itself, one forged value or two.
func TestViewerFunctionCopiesHost(t *testing.T) {
	var seen edge.Headers
	var mu sync.Mutex
	cfg := dirConfig(OriginRequest)
	cfg.CloudFrontFunctions = map[string]CloudFrontFunction{"viewer": {Code: viewerRequestJS}}
	cfg.Behaviors[0].ViewerRequestFunction = "viewer"
	cfg.Behaviors[0].ForwardHeaders = []string{"X-Edgeauth-Viewer-Host"}
	e := newEdge(t, cfg, map[string]Function{"f": func(_ context.Context, ev edge.Event) (edge.Result, error) {
		req, _, _ := ev.Request()
		mu.Lock()
		seen = req.Headers
		mu.Unlock()
		return edge.Continue(req), nil
	}})
	u, _ := url.Parse(e.srv.URL)
	for name, forged := range map[string][]string{
		"none":           nil,
		"one forged":     {"forged.example"},
		"two forged":     {"forged.example", "second.example"},
		"forged in caps": {"FORGED.example"},
	} {
		do(t, "GET", e.srv.URL+"/index.html", http.Header{"X-Edgeauth-Viewer-Host": forged})
		mu.Lock()
		if got := seen.Values("x-edgeauth-viewer-host"); len(got) != 1 || got[0] != u.Host {
			t.Errorf("%s: viewer host header = %q, want only %q", name, got, u.Host)
		}
		if got := seen.Get("host"); got != s3OriginDomain {
			t.Errorf("%s: Host = %q, want the bucket's", name, got)
		}
		mu.Unlock()
	}
}

// TestRetiredCopyHostTo: an edge config that still models the function in
// Go is refused, saying what replaced it.
func TestRetiredCopyHostTo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edge.json")
	site, _ := filepath.Abs(siteDir)
	cfg := `{"behaviors":[{"pathPattern":"*","copyHostTo":"X-Edgeauth-Viewer-Host"}],"origin":{"dir":"` + site + `"}}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "behaviors[0].copyHostTo") ||
		!strings.Contains(err.Error(), "viewerRequestFunction") {
		t.Errorf("LoadConfig = %v, want an error naming copyHostTo and its replacement", err)
	}
}
