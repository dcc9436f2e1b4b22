package viewerfn_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// viewerReq is a request as the viewer sends it.
type viewerReq struct {
	Method  string
	URI     string
	Headers [][2]string // in order; names as sent
	Cookies []string    // name=value pairs of one Cookie header, in order
}

func (r viewerReq) String() string {
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, h[0]+": "+h[1])
	}
	return fmt.Sprintf("%s %q headers=%q cookies=%d", r.method(), r.URI, hs, len(r.Cookies))
}

func (r viewerReq) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// event shapes r as CloudFront Functions show it (as the local edge does:
// lower-case headers, the Cookie header parsed by edge.ParseCookieHeader,
// repeats in multiValue).
func (r viewerReq) event() *cfjs.Event {
	req := cfjs.Request{
		Method: r.method(), URI: r.URI, QueryString: map[string]cfjs.Value{},
		Headers: map[string]cfjs.Value{}, Cookies: map[string]cfjs.Cookie{},
	}
	cfjs.AddValue(req.Headers, "host", "www.example.com")
	for _, h := range r.Headers {
		cfjs.AddValue(req.Headers, strings.ToLower(h[0]), h[1])
	}
	for _, c := range edge.ParseCookieHeader(strings.Join(r.Cookies, "; ")) {
		cfjs.AddCookie(req.Cookies, c.Name, cfjs.Cookie{Value: c.Value})
	}
	return &cfjs.Event{
		Version: cfjs.EventVersion,
		Context: cfjs.Context{DistributionDomainName: "d111111abcdef8.cloudfront.net", EventType: cfjs.ViewerRequest, RequestID: "req-1"},
		Viewer:  cfjs.Viewer{IP: "198.51.100.1"},
		Request: req,
	}
}

// outcome is what the viewer function did with a request.
type outcome struct {
	Key string // the one CacheKeyHeader value CloudFront would send on
	URI string
	Err error // the function failed, or set the header wrong
}

// fromResult reads a returned request. The header must hold exactly one
// value: CloudFront sends multiValue when it is set.
func fromResult(res *cfjs.Result) outcome {
	if res.Request == nil {
		return outcome{Err: errors.New("the function answered instead of passing the request")}
	}
	v, ok := res.Request.Headers[strings.ToLower(viewerfn.CacheKeyHeader)]
	if !ok {
		return outcome{Err: errors.New("no cache key header")}
	}
	vals := v.Values()
	if len(vals) != 1 || vals[0] != v.Value {
		return outcome{Err: fmt.Errorf("cache key header holds %q", vals)}
	}
	return outcome{Key: v.Value, URI: res.Request.URI}
}

// engine runs a generated function.
type engine interface {
	run(t testing.TB, r viewerReq) outcome
}

// goja: the local edge's engine.
type gojaEngine struct{ f *cfjs.Function }

func newGoja(t testing.TB, code []byte, kvsPath string) (*gojaEngine, error) {
	opts := cfjs.Options{Now: suitetest.Clock}
	if kvsPath != "" {
		kv, err := cfjs.OpenKeyValueStore(kvsPath)
		if err != nil {
			t.Fatal(err)
		}
		opts.KeyValueStore = kv
	}
	f, err := cfjs.Compile("viewer-function.js", code, opts)
	if err != nil {
		return nil, err
	}
	return &gojaEngine{f}, nil
}

func (g *gojaEngine) run(t testing.TB, r viewerReq) outcome {
	res, err := g.f.Run(context.Background(), r.event())
	if err != nil {
		return outcome{Err: err}
	}
	return fromResult(res)
}

// node: one long-lived Node process per function (testdata/harness.js).
type nodeEngine struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Reader
}

// newNode starts Node on code, or skips without node on PATH (fails
// instead under CI, as dex.InCI says).
func newNode(t testing.TB, code []byte, kvsPath string) *nodeEngine {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		if dex.InCI() {
			t.Fatal("node not on PATH (CI requires it)")
		}
		t.Skip("node not on PATH")
	}
	dir := t.TempDir()
	codePath := filepath.Join(dir, "viewer-function.js")
	if err := os.WriteFile(codePath, code, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join("testdata", "harness.js"), codePath}
	if kvsPath != "" {
		args = append(args, kvsPath)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return &nodeEngine{in: in, out: bufio.NewReaderSize(out, 1<<20)}
}

type nodeAnswer struct {
	Result *struct {
		URI     string                `json:"uri"`
		Headers map[string]cfjs.Value `json:"headers"`
		// A response would have statusCode.
		StatusCode *int `json:"statusCode"`
	} `json:"result"`
	Error string `json:"error"`
	NS    int64  `json:"ns"`
}

func (n *nodeEngine) call(t testing.TB, msg any) nodeAnswer {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.in.Write(append(b, '\n')); err != nil {
		t.Fatalf("node: %v", err)
	}
	line, err := n.out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var a nodeAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatalf("node answer %q: %v", line, err)
	}
	return a
}

func (n *nodeEngine) run(t testing.TB, r viewerReq) outcome {
	a := n.call(t, map[string]any{"event": r.event(), "now": suitetest.Now.UnixMilli()})
	switch {
	case a.Error != "":
		return outcome{Err: errors.New("node: " + a.Error)}
	case a.Result == nil || a.Result.StatusCode != nil:
		return outcome{Err: errors.New("the function answered instead of passing the request")}
	}
	return fromResult(&cfjs.Result{Request: &cfjs.Request{URI: a.Result.URI, Headers: a.Result.Headers}})
}

// fixture is one config: the generated function in both engines, the Go
// check-auth built from the same config, and a session store to mint
// cookies with.
type fixture struct {
	cfg     *config.Config
	fn      *viewerfn.Function
	kvsPath string
	engines map[string]engine
	check   *checkauth.Handler
	store   *session.Store
}

func newFixture(t testing.TB, edit func(map[string]any), o viewerfn.Options) *fixture {
	t.Helper()
	cfg := suitetest.Config(t, "cognito.json", edit)
	fn, err := viewerfn.Generate(cfg, o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	f := &fixture{cfg: cfg, fn: fn, engines: map[string]engine{}}
	if !o.InlineKeys {
		b, err := fn.KVSFile()
		if err != nil {
			t.Fatal(err)
		}
		f.kvsPath = filepath.Join(t.TempDir(), "viewer-kvs.json")
		if err := os.WriteFile(f.kvsPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g, err := newGoja(t, fn.Code, f.kvsPath)
	if err != nil {
		t.Fatalf("cfjs.Compile: %v", err)
	}
	f.engines["goja"] = g
	f.check, err = checkauth.New(lambdafn.Deps{Config: cfg, Now: suitetest.Clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.store = suitetest.Sessions(t, cfg, suitetest.Clock)
	return f
}

// withNode adds the Node engine (skipping the test without node).
func (f *fixture) withNode(t testing.TB) *fixture {
	f.engines["node"] = newNode(t, f.fn.Code, f.kvsPath)
	return f
}

// goDecision runs check-auth on the request as it reaches origin-request
// in viewer mode: the URI as the function rewrote it, the viewer's
// headers and cookies. It reports whether check-auth passed it on.
func (f *fixture) goDecision(t testing.TB, r viewerReq, uri string) (pass bool, status string) {
	t.Helper()
	ev := suitetest.Event(t, "origin-request-s3.json", func(req *edge.Request) {
		req.Method = r.method()
		req.URI, req.QueryString = uri, ""
		req.Headers = edge.Headers{}
		req.Headers.Set("Host", "bucket.s3.us-east-1.amazonaws.com")
		req.Headers.Set(edge.ViewerHostHeader, "www.example.com")
		for _, h := range r.Headers {
			req.Headers.Add(h[0], h[1])
		}
		if len(r.Cookies) > 0 {
			req.Headers.Set("Cookie", strings.Join(r.Cookies, "; "))
		}
	})
	res, err := f.check.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("check-auth: %v", err)
	}
	if res.Request != nil {
		return true, ""
	}
	return false, res.Response.Status
}

// perCredential is the key the function must give r when it does not
// verify it: hex SHA-256 of JSON [authorization values, session values].
func (f *fixture) perCredential(r viewerReq) string {
	auth, sess := []string{}, []string{}
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], "authorization") {
			auth = append(auth, h[1])
		}
	}
	for _, c := range edge.ParseCookieHeader(strings.Join(r.Cookies, "; ")) {
		if c.Name == f.store.SessionName() {
			sess = append(sess, c.Value)
		}
	}
	sum := sha256.Sum256([]byte("[" + jsArray(auth) + "," + jsArray(sess) + "]"))
	return "c-" + hex.EncodeToString(sum[:])
}

// jsArray is JSON.stringify of a list of strings, which escapes less than
// encoding/json does (no \u0026 for "&", no \u2028).
func jsArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range s {
			switch {
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\b':
				b.WriteString(`\b`)
			case r == '\f':
				b.WriteString(`\f`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// session mints a session cookie pair "name=value" on the pinned clock.
func (f *fixture) session(t testing.TB, id verifier.Identity, expiry time.Time, hasRefresh bool) string {
	t.Helper()
	s := f.store
	if !expiry.After(suitetest.Now) {
		s = suitetest.Sessions(t, f.cfg, func() time.Time { return expiry.Add(-time.Hour) })
	}
	c, err := s.EncodeSession(session.Session{Identity: id, Expiry: expiry, HasRefresh: hasRefresh})
	if err != nil {
		t.Fatal(err)
	}
	return c.Name + "=" + c.Value
}

func sessionOf(id verifier.Identity, expiry time.Time) session.Session {
	return session.Session{Identity: id, Expiry: expiry}
}

// isDeflated reports whether a session cookie value's payload is DEFLATE
// (session's 'z' marker), decoding the securecookie layers by hand.
func isDeflated(t testing.TB, value string) bool {
	t.Helper()
	outer, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(outer), "|", 3)
	if len(parts) != 3 {
		t.Fatal("not a securecookie value")
	}
	inner, err := base64.URLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return len(inner) > 0 && inner[0] == 'z'
}
