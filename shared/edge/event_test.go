package edge_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/shared/edge"
)

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestEventRoundTrip pins the types to AWS's documented shape: every sample
// event decodes and encodes back to the same JSON.
func TestEventRoundTrip(t *testing.T) {
	for _, name := range []string{
		"viewer-request.json", "origin-request.json", "origin-request-s3.json",
		"viewer-request-callback.json", "viewer-request-with-body.json",
		"origin-response.json", "viewer-response.json",
	} {
		t.Run(name, func(t *testing.T) {
			in := readEvent(t, name)
			var ev edge.Event
			if err := json.Unmarshal(in, &ev); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, in, out) {
				t.Errorf("round trip changed the event:\n in: %s\nout: %s", in, out)
			}
		})
	}
}

// TestResultRoundTrip does the same for the objects a function returns.
func TestResultRoundTrip(t *testing.T) {
	for name, wantResponse := range map[string]bool{
		"return-generated-redirect.json":  true,
		"return-generated-401.json":       true,
		"return-passthrough-request.json": false,
	} {
		t.Run(name, func(t *testing.T) {
			in := readEvent(t, name)
			var r edge.Result
			if err := json.Unmarshal(in, &r); err != nil {
				t.Fatal(err)
			}
			if got := r.Response != nil; got != wantResponse {
				t.Fatalf("decoded as response = %v, want %v", got, wantResponse)
			}
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, in, out) {
				t.Errorf("round trip changed the result:\n in: %s\nout: %s", in, out)
			}
		})
	}
}

func TestResultNeedsExactlyOne(t *testing.T) {
	if _, err := json.Marshal(edge.Result{}); err == nil {
		t.Error("empty result marshalled")
	}
	if _, err := json.Marshal(edge.Result{Request: &edge.Request{}, Response: &edge.Response{}}); err == nil {
		t.Error("result with both marshalled")
	}
}

// The seed-style event lacks querystring, uses a uri without "/" and a config
// with only distributionId: it must still decode to something usable.
func TestSeedEvent(t *testing.T) {
	ev, err := edge.DecodeEvent(readEvent(t, "seed-bearer-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, cfg, err := ev.Request()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.Path(), "/path/to/resource.jpg"; got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	if req.QueryString != "" || cfg.DistributionDomainName != "" || cfg.DistributionID != "<dist-id>" {
		t.Errorf("unexpected decode: query %q config %+v", req.QueryString, cfg)
	}
	if got := req.Headers.Get("Authorization"); got != "Bearer <token>" {
		t.Errorf("authorization = %q", got)
	}
}

func TestDecodeEventRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":     `{`,
		"no records":   `{"Records":[]}`,
		"two records":  `{"Records":[{"cf":{"request":{"uri":"/"}}},{"cf":{"request":{"uri":"/"}}}]}`,
		"response":     `{"Records":[{"cf":{"response":{"status":"200"}}}]}`,
		"wrong types":  `{"Records":[{"cf":{"request":{"uri":5}}}]}`,
		"null":         `null`,
		"array":        `[]`,
		"headers list": `{"Records":[{"cf":{"request":{"headers":[]}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := edge.DecodeEvent([]byte(in)); !errors.Is(err, edge.ErrBadEvent) {
				t.Errorf("DecodeEvent(%s) err = %v, want ErrBadEvent", in, err)
			}
		})
	}
}

func TestCookiesMergeEntries(t *testing.T) {
	ev, err := edge.DecodeEvent(readEvent(t, "viewer-request-callback.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, _, _ := ev.Request()
	if n := len(req.Headers["cookie"]); n < 2 {
		t.Fatalf("sample has %d cookie entries, want several", n)
	}
	all := req.Cookies()
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	// Every pair from every entry, in order.
	var want []string
	for _, h := range req.Headers["cookie"] {
		for _, c := range edge.ParseCookieHeader(h.Value) {
			want = append(want, c.Name)
		}
	}
	if !reflect.DeepEqual(names, want) || len(names) < 2 {
		t.Errorf("Cookies() names = %v, want %v", names, want)
	}
	// Get reads the first pair of a name, whichever entry holds it.
	last := all[len(all)-1]
	wantValue := ""
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Name == last.Name {
			wantValue = all[i].Value
		}
	}
	if v, ok := all.Get(last.Name); !ok || v != wantValue {
		t.Errorf("Cookies().Get(%q) = %q, %v; want %q", last.Name, v, ok, wantValue)
	}
	if _, ok := all.Get("no-such-cookie"); ok {
		t.Error("Get found a cookie that is not there")
	}
	if got := (&edge.Request{Headers: edge.Headers{}}).Cookies(); got != nil {
		t.Errorf("Cookies() without a Cookie header = %v, want nil", got)
	}
}

func TestSetCookies(t *testing.T) {
	r := edge.NewResponse(200, false).SetCookies(&http.Cookie{Name: "a", Value: "1"}, &http.Cookie{Name: "b", Value: "2", Path: "/x"})
	r.SetCookies()
	if got := r.Headers.Values("set-cookie"); !reflect.DeepEqual(got, []string{"a=1", "b=2; Path=/x"}) {
		t.Errorf("Set-Cookie = %q", got)
	}
}

func TestParseCookieHeader(t *testing.T) {
	tests := []struct {
		in   string
		want []edge.Cookie
	}{
		{"a=b", []edge.Cookie{{"a", "b"}}},
		{"a=b; c=d", []edge.Cookie{{"a", "b"}, {"c", "d"}}},
		{" a = b ;c=d=e;;", []edge.Cookie{{"a", "b"}, {"c", "d=e"}}},
		{"noequals; x=1", []edge.Cookie{{"x", "1"}}},
		{`q="quoted"`, []edge.Cookie{{"q", `"quoted"`}}},
		{"bad name=1; ok=2", []edge.Cookie{{"ok", "2"}}},
		{"=novalue", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := edge.ParseCookieHeader(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCookieHeader(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDropCookies(t *testing.T) {
	req := &edge.Request{Headers: edge.Headers{"cookie": {
		{Key: "Cookie", Value: "app=1; edgeauth-session=x"},
		{Key: "Cookie", Value: "edgeauth-refresh=y; theme=dark"},
	}}}
	suite := func(n string) bool { return strings.HasPrefix(n, "edgeauth-") }
	req.DropCookies(suite)
	if got, want := req.Headers.Values("cookie"), []string{"app=1", "theme=dark"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after DropCookies cookie = %q, want %q", got, want)
	}
	only := &edge.Request{Headers: edge.Headers{"cookie": {{Key: "Cookie", Value: "edgeauth-session=x"}}}}
	only.DropCookies(suite)
	if _, ok := only.Headers["cookie"]; ok {
		t.Error("cookie header kept with no cookies left")
	}
	// The app's cookies arrive as sent, even those outside the RFC's token
	// set or without "=".
	odd := &edge.Request{Headers: edge.Headers{"cookie": {{Key: "Cookie", Value: "AMCV_x@AdobeOrg=1; edgeauth-session=x; flag; q=\"a b\""}}}}
	odd.DropCookies(suite)
	if got, want := odd.Headers.Values("cookie"), []string{`AMCV_x@AdobeOrg=1; flag; q="a b"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("after DropCookies cookie = %q, want %q", got, want)
	}
	untouched := &edge.Request{Headers: edge.Headers{"cookie": {{Key: "Cookie", Value: "a=1"}, {Key: "Cookie", Value: "b=2"}}}}
	untouched.DropCookies(suite)
	if n := len(untouched.Headers["cookie"]); n != 2 {
		t.Errorf("entries = %d, want the 2 untouched entries", n)
	}
}

func TestQueryLenient(t *testing.T) {
	req := &edge.Request{QueryString: "a=1&b=%zz&c=3&a=2"}
	q := req.Query()
	if got := q["a"]; !reflect.DeepEqual(got, []string{"1", "2"}) || q.Get("c") != "3" {
		t.Errorf("Query() = %v", q)
	}
	if got, want := req.PathAndQuery(), "/?a=1&b=%zz&c=3&a=2"; got != want {
		t.Errorf("PathAndQuery() = %q, want %q", got, want)
	}
}

func TestNewResponseHeaders(t *testing.T) {
	r := edge.Redirect("/x", true)
	for _, h := range []string{"cache-control", "x-content-type-options", "x-frame-options", "referrer-policy", "strict-transport-security", "location"} {
		if r.Headers.Get(h) == "" {
			t.Errorf("redirect lacks %s", h)
		}
	}
	if r.Status != "302" {
		t.Errorf("status %q", r.Status)
	}
	if !strings.Contains(r.Headers.Get("cache-control"), "no-store") {
		t.Error("no no-store")
	}
	if edge.NewResponse(401, false).Headers.Get("strict-transport-security") != "" {
		t.Error("HSTS on a plain-HTTP response")
	}
	page := edge.NewResponse(403, false).HTML("<p>x</p>")
	if page.Headers.Get("content-security-policy") == "" || page.BodyEncoding != "text" {
		t.Error("page without CSP or body encoding")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, name := range []string{"viewer-request.json", "seed-bearer-viewer-request.json", "viewer-request-callback.json", "origin-request.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"cf":{"request":null}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := edge.DecodeEvent(b)
		if err != nil {
			return
		}
		req, _, err := ev.Request()
		if err != nil || req == nil || req.Headers == nil {
			t.Fatalf("decoded event without a usable request: %v", err)
		}
		_ = req.Cookies()
		_ = req.Query()
		if p := req.Path(); !strings.HasPrefix(p, "/") {
			t.Fatalf("Path() = %q", p)
		}
	})
}

func FuzzParseCookieHeader(f *testing.F) {
	// Seeds from testdata: every Cookie entry of the sample events.
	for _, name := range []string{"viewer-request-callback.json", "viewer-request.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
		if err != nil {
			f.Fatal(err)
		}
		ev, err := edge.DecodeEvent(b)
		if err != nil {
			f.Fatal(err)
		}
		req, _, _ := ev.Request()
		for _, v := range req.Headers.Values("cookie") {
			f.Add(v)
		}
	}
	f.Add("a=b; c=d")
	f.Add("edgeauth-session=MTcw|abc; theme=dark;;x")
	f.Add(`q="v"; =; ;`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range edge.ParseCookieHeader(s) {
			if c.Name == "" || strings.ContainsAny(c.Name, "; =\t") {
				t.Fatalf("bad cookie name %q from %q", c.Name, s)
			}
			if strings.Contains(c.Value, ";") {
				t.Fatalf("value %q holds a separator", c.Value)
			}
		}
	})
}
