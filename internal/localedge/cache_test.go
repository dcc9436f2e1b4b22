package localedge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
)

func TestCacheTTL(t *testing.T) {
	now := testNow()
	p := &CachePolicy{MinTTL: 0, DefaultTTL: config.Duration(60 * time.Second), MaxTTL: config.Duration(300 * time.Second)}
	floor := &CachePolicy{MinTTL: config.Duration(10 * time.Second), DefaultTTL: config.Duration(60 * time.Second), MaxTTL: config.Duration(300 * time.Second)}
	tests := []struct {
		name   string
		policy *CachePolicy
		status int
		header []string
		want   time.Duration
	}{
		{"no header: default", p, 200, nil, 60 * time.Second},
		{"max-age within bounds", p, 200, []string{"Cache-Control", "public, max-age=120"}, 120 * time.Second},
		{"max-age above max", p, 200, []string{"Cache-Control", "max-age=100000"}, 300 * time.Second},
		{"max-age below min", floor, 200, []string{"Cache-Control", "max-age=1"}, 10 * time.Second},
		{"s-maxage wins over max-age", p, 200, []string{"Cache-Control", "max-age=200, s-maxage=30"}, 30 * time.Second},
		{"no-store, min 0: not cached", p, 200, []string{"Cache-Control", "no-store"}, 0},
		{"the suite's answers: not cached", p, 302, []string{"Cache-Control", edge.NoStore}, 0},
		{"private, min 0: not cached", p, 200, []string{"Cache-Control", "private, max-age=60"}, 0},
		{"no-cache with a min TTL: min", floor, 200, []string{"Cache-Control", "no-cache"}, 10 * time.Second},
		{"Expires ahead", p, 200, []string{"Expires", now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"Expires past", p, 200, []string{"Expires", now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"invalid Expires", p, 200, []string{"Expires", "0"}, 0},
		{"max-age=0", p, 200, []string{"Cache-Control", "max-age=0"}, 0},
		{"bad max-age ignored: default", p, 200, []string{"Cache-Control", "max-age=soon"}, 60 * time.Second},
		{"a 302 without no-store is cached", p, 302, nil, 60 * time.Second},
		{"301 cached", p, 301, nil, 60 * time.Second},
		{"307 without Cache-Control: not cached", p, 307, nil, 0},
		{"307 with Cache-Control", p, 307, []string{"Cache-Control", "max-age=5"}, 5 * time.Second},
		{"304 not cached", p, 304, nil, 0},
		// Errors: the error-caching TTL (10 s here), whatever
		// Cache-Control says, unless max-age says longer.
		{"404 is cached for the error TTL", p, 404, nil, 10 * time.Second},
		{"404 with no-store: still the error TTL", p, 404, []string{"Cache-Control", edge.NoStore}, 10 * time.Second},
		{"404 with a longer max-age", p, 404, []string{"Cache-Control", "max-age=30"}, 30 * time.Second},
		{"404 max-age capped at the policy's max", p, 404, []string{"Cache-Control", "max-age=100000"}, 300 * time.Second},
		{"502 is cached for the error TTL", p, 502, []string{"Cache-Control", edge.NoStore}, 10 * time.Second},
		{"403 without max-age: not cached", p, 403, nil, 0},
		{"403 with no-store only: not cached", p, 403, []string{"Cache-Control", "no-store"}, 0},
		{"403 with max-age=0 (the suite's no-store): the error TTL", p, 403, []string{"Cache-Control", edge.NoStore}, 10 * time.Second},
		{"403 with max-age", p, 403, []string{"Cache-Control", "max-age=5"}, 10 * time.Second},
		{"401 never", p, 401, []string{"Cache-Control", "max-age=60"}, 0},
		{"416 never", p, 416, []string{"Cache-Control", "max-age=60"}, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for i := 0; i+1 < len(tt.header); i += 2 {
			h.Add(tt.header[i], tt.header[i+1])
		}
		if got := tt.policy.ttl(tt.status, h, now, 10*time.Second); got != tt.want {
			t.Errorf("%s: ttl = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCachePolicyValidation(t *testing.T) {
	ok := CachePolicy{MaxTTL: config.Duration(time.Minute)}
	for name, tt := range map[string]struct {
		edit func(p *CachePolicy)
		want string
	}{
		"no max":          {func(p *CachePolicy) { p.MaxTTL = 0 }, "behaviors[0].cache.maxTTL: must be positive"},
		"default > max":   {func(p *CachePolicy) { p.DefaultTTL = config.Duration(time.Hour) }, "minTTL <= defaultTTL <= maxTTL"},
		"min > default":   {func(p *CachePolicy) { p.MinTTL = config.Duration(time.Second) }, "minTTL <= defaultTTL <= maxTTL"},
		"cookie header":   {func(p *CachePolicy) { p.Headers = []string{"Cookie"} }, "behaviors[0].cache.headers[0]: cookies go in cookies"},
		"host header":     {func(p *CachePolicy) { p.Headers = []string{"Host"} }, `behaviors[0].cache.headers[0]: "Host" cannot be in a cache key`},
		"bad header":      {func(p *CachePolicy) { p.Headers = []string{"a b"} }, "is not a header name"},
		"bad cookie name": {func(p *CachePolicy) { p.Cookies = []string{"a;b"} }, "behaviors[0].cache.cookies[0]"},
	} {
		p := ok
		tt.edit(&p)
		cfg := dirConfig(OriginRequest)
		cfg.Behaviors[0].Cache = &p
		cfg.applyDefaults()
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to name %q", name, err, tt.want)
		}
	}
	cfg := dirConfig(OriginRequest)
	cfg.Behaviors[0].Cache = &ok
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid policy refused: %v", err)
	}
}

// cacheEnv is an edge in front of an upstream that counts its requests and
// answers each path with the Cache-Control the path names, and a function
// that counts its invocations.
type cacheEnv struct {
	url      string
	clock    *suitetest.FakeClock
	origin   atomic.Int64
	function atomic.Int64
	logs     *logBuffer
}

// upstreamCacheControl is what the upstream says per path.
var upstreamCacheControl = map[string]string{
	"/plain":   "",
	"/nostore": "no-store",
	"/long":    "max-age=100000",
	"/private": "private, max-age=60",
}

func newCacheEnv(t *testing.T, b Behavior, f func(context.Context, edge.Event) (edge.Result, error)) *cacheEnv {
	t.Helper()
	env := &cacheEnv{clock: suitetest.NewFakeClock(testNow()), logs: &logBuffer{}}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := env.origin.Add(1)
		if cc := upstreamCacheControl[r.URL.Path]; cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "object %s #%d", r.URL.Path, n)
	}))
	t.Cleanup(up.Close)
	b.PathPattern, b.Function = "*", "f"
	cfg := &Config{Behaviors: []Behavior{b}, Origin: Origin{URL: up.URL}}
	counted := func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		env.function.Add(1)
		return f(ctx, ev)
	}
	s, err := New(cfg, map[string]Function{"f": counted}, slog.New(slog.NewJSONHandler(env.logs, nil)), WithClock(env.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return env
}

// get fetches path and reports the body, X-Cache and the counts so far.
func (e *cacheEnv) get(t *testing.T, method, path string, header ...string) (response, string) {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	r := do(t, method, e.url+path, h)
	return r, r.header.Get("X-Cache")
}

func perCredential() *CachePolicy {
	return &CachePolicy{
		Headers: []string{"Authorization"}, Cookies: []string{"session"}, QueryStrings: true,
		DefaultTTL: config.Duration(60 * time.Second), MaxTTL: config.Duration(300 * time.Second),
	}
}

func TestCacheOriginRequest(t *testing.T) {
	e := newCacheEnv(t, Behavior{EventType: OriginRequest, Cache: perCredential()}, passThrough)
	steps := []struct {
		name          string
		method, path  string
		header        []string
		wait          time.Duration
		wantXCache    string
		wantFunctions int64 // total so far
		wantOrigin    int64
	}{
		{"first GET is a miss", "GET", "/plain?a=1", []string{"Cookie", "session=alice; theme=dark"}, 0, "Miss from cloudfront", 1, 1},
		{"same credential: hit, function not run", "GET", "/plain?a=1", []string{"Cookie", "session=alice; theme=light"}, 0, "Hit from cloudfront", 1, 1},
		{"HEAD served from the GET's entry", "HEAD", "/plain?a=1", []string{"Cookie", "session=alice"}, 0, "Hit from cloudfront", 1, 1},
		{"another session: miss", "GET", "/plain?a=1", []string{"Cookie", "session=bob"}, 0, "Miss from cloudfront", 2, 2},
		{"no credential: miss", "GET", "/plain?a=1", nil, 0, "Miss from cloudfront", 3, 3},
		{"Authorization in the key", "GET", "/plain?a=1", []string{"Cookie", "session=alice", "Authorization", "Bearer x"}, 0, "Miss from cloudfront", 4, 4},
		{"query in the key", "GET", "/plain?a=2", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 5, 5},
		{"within the default TTL: hit", "GET", "/plain?a=1", []string{"Cookie", "session=alice"}, 59 * time.Second, "Hit from cloudfront", 5, 5},
		{"past the default TTL: miss", "GET", "/plain?a=1", []string{"Cookie", "session=alice"}, 2 * time.Second, "Miss from cloudfront", 6, 6},
		{"no-store: miss", "GET", "/nostore", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 7, 7},
		{"no-store again: miss", "GET", "/nostore", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 8, 8},
		{"private: miss", "GET", "/private", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 9, 9},
		{"private again: miss", "GET", "/private", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 10, 10},
		{"long max-age stored", "GET", "/long", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 11, 11},
		{"long max-age is held to maxTTL", "GET", "/long", []string{"Cookie", "session=alice"}, 299 * time.Second, "Hit from cloudfront", 11, 11},
		{"past maxTTL: miss", "GET", "/long", []string{"Cookie", "session=alice"}, 2 * time.Second, "Miss from cloudfront", 12, 12},
		{"POST bypasses the cache", "POST", "/long", []string{"Cookie", "session=alice"}, 0, "Miss from cloudfront", 13, 13},
	}
	for _, s := range steps {
		e.clock.Advance(s.wait)
		r, xcache := e.get(t, s.method, s.path, s.header...)
		if xcache != s.wantXCache || e.function.Load() != s.wantFunctions || e.origin.Load() != s.wantOrigin {
			t.Fatalf("%s: X-Cache %q, functions %d, origin %d; want %q, %d, %d",
				s.name, xcache, e.function.Load(), e.origin.Load(), s.wantXCache, s.wantFunctions, s.wantOrigin)
		}
		if s.wantXCache == "Hit from cloudfront" {
			if r.header.Get("Age") == "" || r.header.Get("X-Amz-Cf-Id") == "" {
				t.Errorf("%s: a hit without Age or its own X-Amz-Cf-Id: %v", s.name, r.header)
			}
			if s.method == "GET" && !strings.HasPrefix(r.body, "object ") {
				t.Errorf("%s: body %q", s.name, r.body)
			}
		}
	}
	if last := e.logs.last(t); last["decision"] != DecisionPass {
		t.Errorf("log line of a miss = %v", last)
	}
}

func TestCacheHitLogged(t *testing.T) {
	e := newCacheEnv(t, Behavior{EventType: OriginRequest, Cache: perCredential()}, passThrough)
	e.get(t, "GET", "/plain", "Cookie", "session=a")
	e.get(t, "GET", "/plain", "Cookie", "session=a")
	if last := e.logs.last(t); last["decision"] != DecisionHit || last["status"] != float64(200) {
		t.Errorf("log line of a hit = %v", last)
	}
	if strings.Contains(e.logs.buf.String(), "session=a") {
		t.Error("a cookie reached the logs")
	}
}

// The cache key is what the origin-request function is shown, so the
// function is also shown every part of it, as CloudFront forwards its cache
// key, even when the behavior's own forwarding names none of it.
func TestCacheKeyIsForwarded(t *testing.T) {
	var seen edge.Headers
	var query string
	var mu sync.Mutex
	e := newCacheEnv(t, Behavior{EventType: OriginRequest, Cache: perCredential(), ForwardQuery: new(bool)},
		func(_ context.Context, ev edge.Event) (edge.Result, error) {
			req, _, _ := ev.Request()
			mu.Lock()
			seen, query = req.Headers, req.QueryString
			mu.Unlock()
			return edge.Continue(req), nil
		})
	e.get(t, "GET", "/plain?q=1", "Cookie", "session=a; other=b", "Authorization", "Bearer t", "Accept", "text/html")
	mu.Lock()
	defer mu.Unlock()
	if seen.Get("cookie") != "session=a" || seen.Get("authorization") != "Bearer t" || query != "q=1" {
		t.Errorf("function saw cookie %q, authorization %q, query %q", seen.Get("cookie"), seen.Get("authorization"), query)
	}
	if seen.Get("accept") != "" {
		t.Error("a header outside the key and the policy was forwarded")
	}
}

// Generated responses at origin-request are cached by their Cache-Control
// as CloudFront caches them: a redirect without no-store would be served
// to everyone sharing its key. The suite's answers carry no-store.
func TestCacheGeneratedResponses(t *testing.T) {
	for _, tt := range []struct {
		name         string
		cacheControl string
		wantCalls    int64
	}{
		{"no-store: the function decides every time", edge.NoStore, 3},
		{"max-age: cached like an object", "max-age=60", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := &edge.Response{Status: "200", Headers: edge.Headers{}, Body: "generated"}
			resp.Headers.Set("Cache-Control", tt.cacheControl)
			e := newCacheEnv(t, Behavior{EventType: OriginRequest, Cache: perCredential()}, respond(resp))
			for range 3 {
				if r, _ := e.get(t, "GET", "/plain"); r.body != "generated" {
					t.Fatalf("body %q", r.body)
				}
			}
			if got := e.function.Load(); got != tt.wantCalls {
				t.Errorf("function ran %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

// At viewer-request the function runs before the cache, on every request.
func TestCacheViewerRequest(t *testing.T) {
	e := newCacheEnv(t, Behavior{EventType: ViewerRequest, Cache: perCredential()}, passThrough)
	for range 3 {
		e.get(t, "GET", "/plain", "Cookie", "session=a")
	}
	if e.function.Load() != 3 || e.origin.Load() != 1 {
		t.Errorf("functions %d, origin %d; want 3 and 1", e.function.Load(), e.origin.Load())
	}
}

// Without a cache policy nothing is cached (CachingDisabled).
func TestNoCachePolicy(t *testing.T) {
	e := newCacheEnv(t, Behavior{EventType: OriginRequest}, passThrough)
	for range 2 {
		e.get(t, "GET", "/long")
	}
	if e.function.Load() != 2 || e.origin.Load() != 2 {
		t.Errorf("functions %d, origin %d; want 2 and 2", e.function.Load(), e.origin.Load())
	}
}

func TestCacheEviction(t *testing.T) {
	c := newCache()
	c.maxEntries, c.maxBytes, c.maxObject = 4, 100, 40
	now := testNow()
	key := func(i int) [32]byte { return [32]byte{byte(i)} }
	put := func(i int, ttl time.Duration, size int) {
		c.put(&cached{key: key(i), status: 200, header: http.Header{}, body: make([]byte, size), stored: now, expires: now.Add(ttl)}, now)
	}
	has := func(i int) bool { return c.get(key(i), now) != nil }
	for i := range 6 {
		put(i, time.Minute, 1)
	}
	if c.order.Len() != 4 || has(0) || has(1) || !has(2) || !has(5) {
		t.Errorf("entries %d, want the 4 newest", c.order.Len())
	}
	put(6, time.Minute, 41)
	if has(6) {
		t.Error("an object over maxObject was stored")
	}
	for i := 7; i < 10; i++ {
		put(i, time.Minute, 40)
	}
	if c.bytes > 100 || has(7) || !has(8) || !has(9) {
		t.Errorf("bytes %d (cap 100), entries %d: want the oldest evicted to fit the byte cap", c.bytes, c.order.Len())
	}
	now = now.Add(2 * time.Minute)
	put(11, time.Minute, 1)
	if c.order.Len() != 1 || c.bytes != 1 {
		t.Errorf("expired entries kept: %d entries, %d bytes", c.order.Len(), c.bytes)
	}
}
