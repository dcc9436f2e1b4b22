package cfjs

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start is the clock every test pins.
func start() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) }

func compile(t *testing.T, code string, opts Options) *Function {
	t.Helper()
	if opts.Now == nil {
		opts.Now = start
	}
	f, err := Compile("test.js", []byte(code), opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return f
}

func viewerRequest() *Event {
	return &Event{
		Context: Context{DistributionDomainName: "d111111abcdef8.cloudfront.net", DistributionID: "EDFDVBD6EXAMPLE", EventType: ViewerRequest, RequestID: "req-1"},
		Viewer:  Viewer{IP: "198.51.100.11"},
		Request: Request{
			Method:      "GET",
			URI:         "/docs/",
			QueryString: map[string]Value{"a": {Value: "1"}, "m": {Value: "x", MultiValue: []Value{{Value: "x"}, {Value: "y"}}}},
			Headers:     map[string]Value{"host": {Value: "www.example.com"}, "accept": {Value: "text/html"}},
			Cookies:     map[string]Cookie{"session": {Value: "s1"}},
		},
	}
}

// header runs a viewer-request function and returns one header it set.
func header(t *testing.T, f *Function, name string) string {
	t.Helper()
	res, err := f.Run(context.Background(), viewerRequest())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Request == nil {
		t.Fatalf("Run returned %+v, want a request", res)
	}
	return res.Request.Headers[name].Value
}

func TestEventShape(t *testing.T) {
	f := compile(t, `function handler(event) {
  var r = event.request;
  r.headers['x-seen'] = {value: [event.version, event.context.eventType, event.context.distributionDomainName,
    event.context.distributionId, event.context.requestId, event.viewer.ip, r.method, r.uri,
    r.querystring.a.value, r.querystring.m.multiValue[1].value, r.headers.host.value, r.cookies.session.value].join('|')};
  return r;
}`, Options{})
	want := "1.0|viewer-request|d111111abcdef8.cloudfront.net|EDFDVBD6EXAMPLE|req-1|198.51.100.11|GET|/docs/|1|y|www.example.com|s1"
	if got := header(t, f, "x-seen"); got != want {
		t.Errorf("the function saw %q, want %q", got, want)
	}
}

func TestResults(t *testing.T) {
	tests := []struct {
		name string
		code string
		want func(t *testing.T, r *Result)
	}{
		{"modified request", `function handler(e) { e.request.uri = '/x.html'; delete e.request.headers.accept; e.request.cookies.n = {value: 'v'}; return e.request; }`,
			func(t *testing.T, r *Result) {
				if r.Request == nil || r.Request.URI != "/x.html" || r.Request.Headers["accept"].Value != "" || r.Request.Cookies["n"].Value != "v" {
					t.Errorf("request = %+v", r.Request)
				}
			}},
		{"generated response", `function handler(e) { return {statusCode: 302, statusDescription: 'Found', headers: {location: {value: '/x'}}, cookies: {a: {value: '1', attributes: 'Path=/'}}}; }`,
			func(t *testing.T, r *Result) {
				if r.Response == nil || r.Response.StatusCode != 302 || r.Response.Headers["location"].Value != "/x" || r.Response.Cookies["a"].Attributes != "Path=/" || r.Response.Body != nil {
					t.Errorf("response = %+v", r.Response)
				}
			}},
		{"string body is text", `function handler(e) { return {statusCode: 200, body: 'hi'}; }`,
			func(t *testing.T, r *Result) {
				if b := r.Response.Body; b == nil || b.Data != "hi" || b.Encoding != "text" {
					t.Errorf("body = %+v", b)
				}
			}},
		{"base64 body", `function handler(e) { return {statusCode: 200, body: {data: 'aGk=', encoding: 'base64'}}; }`,
			func(t *testing.T, r *Result) {
				if b := r.Response.Body; b == nil || b.Data != "aGk=" || b.Encoding != "base64" {
					t.Errorf("body = %+v", b)
				}
			}},
		{"async handler", `async function handler(e) { var v = await Promise.resolve('/async'); e.request.uri = v; return e.request; }`,
			func(t *testing.T, r *Result) {
				if r.Request.URI != "/async" {
					t.Errorf("uri = %q", r.Request.URI)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := compile(t, tt.code, Options{}).Run(context.Background(), viewerRequest())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			tt.want(t, res)
		})
	}
}

// TestRefused: what CloudFront rejects, and what AWS's runtime 2.0 page
// does not list, fails here too, at the step where it would fail.
func TestRefused(t *testing.T) {
	tests := []struct {
		name, code string
		compileErr error // refused by Compile
		runErr     error // refused by Run
		wantMsg    string
	}{
		{"too large", "function handler(e) { return e.request; }\n//" + strings.Repeat("x", MaxCodeSize), ErrTooLarge, nil, "limit is 10240"},
		{"syntax error", "function handler(e) { return e.request ", ErrSyntax, nil, ""},
		{"no handler", "function main(e) { return e.request; }", ErrNoHandler, nil, ""},
		{"class", "class A {}\nfunction handler(e) { return e.request; }", ErrUnsupported, nil, "test.js:1:1: classes"},
		{"destructuring", "function handler(e) { var {request} = e; return request; }", ErrUnsupported, nil, "destructuring"},
		{"spread", "function handler(e) { var a = [...[1]]; return e.request; }", ErrUnsupported, nil, "spread"},
		{"for of", "function handler(e) { for (var k of []) {} return e.request; }", ErrUnsupported, nil, "for...of"},
		{"optional chaining", "function handler(e) { var h = e.request.headers.x?.value; return e.request; }", ErrUnsupported, nil, "optional chaining"},
		{"nullish coalescing", "function handler(e) { var h = e.x ?? 1; return e.request; }", ErrUnsupported, nil, "nullish"},
		{"shorthand property", "function handler(e) { var request = e.request; return {request}.request; }", ErrUnsupported, nil, "shorthand"},
		{"method shorthand", "var o = {f() { return 1; }};\nfunction handler(e) { return e.request; }", ErrUnsupported, nil, "method shorthand"},
		{"computed key", "function handler(e) { var o = {['a']: 1}; return e.request; }", ErrUnsupported, nil, "computed"},
		{"default parameter", "function handler(e, x = 1) { return e.request; }", ErrUnsupported, nil, "default parameter"},
		{"generator", "function* g() {}\nfunction handler(e) { return e.request; }", ErrUnsupported, nil, "generators"},
		{"async arrow", "var f = async () => 1;\nfunction handler(e) { return e.request; }", ErrUnsupported, nil, "async closures"},
		{"nested async function", "function handler(e) { var f = async function () {}; return e.request; }", ErrUnsupported, nil, "async closures"},
		{"tagged template", "function t(s) { return s; }\nfunction handler(e) { t`x`; return e.request; }", ErrUnsupported, nil, "tagged"},
		{"BigInt literal", "function handler(e) { var n = 1n; return e.request; }", ErrUnsupported, nil, "BigInt"},
		{"import of a module CloudFront lacks", "import fs from 'fs';\nfunction handler(e) { return e.request; }", ErrUnsupported, nil, "test.js:1"},
		{"eval", "function handler(e) { eval('1'); return e.request; }", nil, ErrExecution, "eval is not supported"},
		{"Function constructor", "function handler(e) { new Function('return 1')(); return e.request; }", nil, ErrExecution, "Function constructor"},
		{"constructor of a function", "function handler(e) { (function () {}).constructor('return 1')(); return e.request; }", nil, ErrExecution, "Function constructor"},
		{"AsyncFunction constructor", "async function x() {}\nfunction handler(e) { x.constructor('return 1'); return e.request; }", nil, ErrExecution, "AsyncFunction constructor"},
		{"require fs", "function handler(e) { require('fs'); return e.request; }", nil, ErrExecution, "Cannot find module 'fs'"},
		{"Map", "function handler(e) { new Map(); return e.request; }", nil, ErrExecution, "Map is not defined"},
		{"setTimeout", "function handler(e) { setTimeout(function () {}, 1); return e.request; }", nil, ErrExecution, "setTimeout is not defined"},
		{"process", "function handler(e) { process.env; return e.request; }", nil, ErrExecution, "process is not defined"},
		{"a throw", "function handler(e) { throw new Error('boom'); }", nil, ErrExecution, "boom"},
		{"a rejected promise", "async function handler(e) { throw new TypeError('late'); }", nil, ErrExecution, "TypeError: late"},
		{"deep recursion", "function f(n) { return f(n + 1); }\nfunction handler(e) { return f(0); }", nil, ErrExecution, "call stack"},
		{"unsupported digest", "import crypto from 'crypto';\nfunction handler(e) { crypto.createHash('sha512'); return e.request; }", nil, ErrExecution, "sha512"},
		{"kvs without a store", "import cf from 'cloudfront';\nasync function handler(e) { await cf.kvs().get('k'); return e.request; }", nil, ErrExecution, "no key value store"},
		{"returns nothing", "function handler(e) {}", nil, ErrValidation, "not a request or a response"},
		{"statusCode a string", "function handler(e) { return {statusCode: '200'}; }", nil, ErrValidation, "statusCode"},
		{"header value a number", "function handler(e) { e.request.headers['x-n'] = {value: 5}; return e.request; }", nil, ErrValidation, "headers"},
		{"header without value", "function handler(e) { e.request.headers['x-n'] = {}; return e.request; }", nil, ErrValidation, `headers["x-n"].value: missing`},
		{"bad body encoding", "function handler(e) { return {statusCode: 200, body: {data: 'x', encoding: 'gzip'}}; }", nil, ErrValidation, "body.encoding"},
		{"uri a number", "function handler(e) { e.request.uri = 5; return e.request; }", nil, ErrValidation, "uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile("test.js", []byte(tt.code), Options{Now: start})
			if tt.compileErr != nil {
				if !errors.Is(err, tt.compileErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Compile error = %v, want %v mentioning %q", err, tt.compileErr, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			_, err = f.Run(context.Background(), viewerRequest())
			if !errors.Is(err, tt.runErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Run error = %v, want %v mentioning %q", err, tt.runErr, tt.wantMsg)
			}
		})
	}
}

// TestAccepted: what AWS documents runs, so the check above is not simply
// refusing everything new.
func TestAccepted(t *testing.T) {
	f := compile(t, "const k = 2 ** 10;\nlet s = `n=${k}`;\nvar sep = 1_000;\nvar arrow = (a, ...rest) => a + rest.length;\n"+
		"async function handler(event) {\n  var r = event.request;\n  r.headers['x-v'] = {value: s + ',' + sep + ',' + arrow(1, 2, 3) + ',' + 'abc'.padStart(5, '.') + ',' + /(?<y>\\d+)/.exec('a42').groups.y};\n  return r;\n}", Options{})
	if got := header(t, f, "x-v"); got != "n=1024,1000,3,..abc,42" {
		t.Errorf("x-v = %q", got)
	}
}

func TestCrypto(t *testing.T) {
	f := compile(t, `import crypto from 'crypto';
function handler(e) {
  var h = e.request.headers;
  h['x-md5'] = {value: crypto.createHash('md5').update('abc').digest('hex')};
  h['x-sha1'] = {value: crypto.createHash('sha1').update('abc').digest('base64')};
  h['x-sha256'] = {value: crypto.createHash('sha256').update('a').update(Buffer.from('bc')).digest('base64url')};
  h['x-hmac'] = {value: crypto.createHmac('sha256', Buffer.from('6b6579', 'hex')).update('msg').digest('hex')};
  var raw = crypto.createHmac('sha1', 'key').update('msg').digest();
  h['x-raw'] = {value: Buffer.isBuffer(raw) + ' ' + raw.length + ' ' + raw.toString('hex')};
  var again = crypto.createHash('md5');
  again.digest('hex');
  try { again.digest('hex'); h['x-twice'] = {value: 'allowed'}; } catch (err) { h['x-twice'] = {value: err.message}; }
  var req = require('crypto');
  h['x-require'] = {value: String(req === crypto)};
  return e.request;
}`, Options{})
	res, err := f.Run(context.Background(), viewerRequest())
	if err != nil {
		t.Fatal(err)
	}
	md := md5.Sum([]byte("abc"))
	s1 := sha1.Sum([]byte("abc"))
	s256 := sha256.Sum256([]byte("abc"))
	mac := hmac.New(sha256.New, []byte("key"))
	mac.Write([]byte("msg"))
	raw := hmac.New(sha1.New, []byte("key"))
	raw.Write([]byte("msg"))
	want := map[string]string{
		"x-md5":     hex.EncodeToString(md[:]),
		"x-sha1":    base64.StdEncoding.EncodeToString(s1[:]),
		"x-sha256":  base64.RawURLEncoding.EncodeToString(s256[:]),
		"x-hmac":    hex.EncodeToString(mac.Sum(nil)),
		"x-raw":     "true 20 " + hex.EncodeToString(raw.Sum(nil)),
		"x-twice":   "Digest already called",
		"x-require": "true",
	}
	for name, w := range want {
		if got := res.Request.Headers[name].Value; got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
}

func TestBufferAndText(t *testing.T) {
	f := compile(t, `function handler(e) {
  var h = e.request.headers;
  var b = Buffer.from('héllo, wörld');
  var parts = [
    b.toString('hex'), b.toString('base64'), b.toString('base64url'),
    Buffer.from('aMOpbGxv', 'base64').toString(), Buffer.from('aMOpbGxv', 'base64url').toString(),
    Buffer.from('68c3a96c6c6fzz', 'hex').toString(), Buffer.byteLength('é'), Buffer.concat([Buffer.from('a'), Buffer.from('bc')]).toString(),
    Buffer.from('abc').equals(Buffer.from('abc')), Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.alloc(3, 'ab').toString(),
    Buffer.from('hello').slice(1, 3).toString(), Buffer.from('hello').indexOf('l'), Buffer.from([1, 2, 3]).readUInt16BE(1),
    JSON.stringify(Buffer.from('hi')), atob('aGk='), btoa('hi'), new TextEncoder().encode('é').length,
    new TextDecoder().decode(new Uint8Array([104, 105])), Buffer.isEncoding('latin1')
  ];
  h['x-out'] = {value: parts.join('|')};
  return e.request;
}`, Options{})
	want := strings.Join([]string{
		hex.EncodeToString([]byte("héllo, wörld")), base64.StdEncoding.EncodeToString([]byte("héllo, wörld")),
		base64.RawURLEncoding.EncodeToString([]byte("héllo, wörld")), "héllo", "héllo", "héllo", "2", "abc", "true", "-1", "aba",
		"el", "2", "515", `{"type":"Buffer","data":[104,105]}`, "hi", "aGk=", "2", "hi", "false",
	}, "|")
	if got := header(t, f, "x-out"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestKeyValueStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kvs.json")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"data":[{"key":"k","value":"v1"},{"key":"j","value":"{\"n\":7}"}]}`)
	store, err := OpenKeyValueStore(path)
	if err != nil {
		t.Fatal(err)
	}
	f := compile(t, `import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  var r = event.request;
  var j = await kvs.get('j', {format: 'json'});
  var b = await kvs.get('k', {format: 'bytes'});
  var missing;
  try { await kvs.get('nope'); missing = 'found'; } catch (err) { missing = 'rejected'; }
  var meta = await kvs.meta();
  r.headers['x-kvs'] = {value: [await kvs.get('k'), j.n, Buffer.isBuffer(b), await kvs.exists('k'), await kvs.exists('nope'), missing, meta.keyCount].join('|')};
  return r;
}`, Options{KeyValueStore: store})
	if got := header(t, f, "x-kvs"); got != "v1|7|true|true|false|rejected|2" {
		t.Errorf("x-kvs = %q", got)
	}
	// A changed store file is read again, as a KeyValueStore update needs
	// no redeploy. Keep the size different so the change is seen even
	// where file times are coarse.
	write(`{"data":[{"key":"k","value":"v2-rotated"},{"key":"j","value":"{\"n\":8}"}]}`)
	if got := header(t, f, "x-kvs"); got != "v2-rotated|8|true|true|false|rejected|2" {
		t.Errorf("after the update x-kvs = %q", got)
	}

	for name, bad := range map[string]string{
		"not the import format": `{"k":"v"}`,
		"key too long":          `{"data":[{"key":"` + strings.Repeat("k", MaxKeySize+1) + `","value":"v"}]}`,
		"value too long":        `{"data":[{"key":"k","value":"` + strings.Repeat("v", MaxValueSize+1) + `"}]}`,
		"duplicate key":         `{"data":[{"key":"k","value":"1"},{"key":"k","value":"2"}]}`,
		"no value":              `{"data":[{"key":"k"}]}`,
	} {
		write(bad)
		if _, err := OpenKeyValueStore(path); !errors.Is(err, ErrKeyValueStore) {
			t.Errorf("%s: OpenKeyValueStore error = %v, want ErrKeyValueStore", name, err)
		}
	}
}

// TestComputeBudget: a runaway function is stopped, as CloudFront stops a
// function past its compute limit.
func TestComputeBudget(t *testing.T) {
	f := compile(t, "function handler(e) { for (;;) {} }", Options{Budget: 20 * time.Millisecond})
	_, err := f.Run(context.Background(), viewerRequest())
	if !errors.Is(err, ErrComputeBudget) || !errors.Is(err, ErrExecution) {
		t.Fatalf("Run error = %v, want ErrComputeBudget (an execution error)", err)
	}
	// The top-level code is under the budget too.
	if _, err := Compile("loop.js", []byte("while (true) {}\nfunction handler(e) { return e.request; }"), Options{Budget: 20 * time.Millisecond}); !errors.Is(err, ErrComputeBudget) {
		t.Errorf("Compile of a looping top level: %v, want ErrComputeBudget", err)
	}
	// A cancelled context stops a run too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := compile(t, "function handler(e) { for (;;) {} }", Options{Budget: time.Minute}).Run(ctx, viewerRequest()); !errors.Is(err, ErrExecution) {
		t.Errorf("Run with a cancelled context: %v, want ErrExecution", err)
	}
}

// TestDateIsTheStartTime: Date reports the same instant through a run.
func TestDateIsTheStartTime(t *testing.T) {
	f := compile(t, `function handler(e) {
  var a = Date.now();
  for (var i = 0; i < 100000; i++) {}
  e.request.headers['x-t'] = {value: a + ' ' + (Date.now() - a) + ' ' + new Date().toISOString()};
  return e.request;
}`, Options{Budget: time.Second}) // the loop takes over 100 ms of CPU under -race
	if got := header(t, f, "x-t"); got != "1767268800000 0 2026-01-01T12:00:00.000Z" {
		t.Errorf("x-t = %q", got)
	}
}

// TestNoStateBetweenRuns: each run starts from the code, as each request
// does on CloudFront.
func TestNoStateBetweenRuns(t *testing.T) {
	f := compile(t, "var n = 0;\nfunction handler(e) { n++; e.request.headers['x-n'] = {value: String(n)}; return e.request; }", Options{})
	for range 2 {
		if got := header(t, f, "x-n"); got != "1" {
			t.Fatalf("x-n = %q, want 1 on every run", got)
		}
	}
}

func TestConsoleLog(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	f := compile(t, "function handler(e) { console.log('hello', 'ignored'); for (var i = 0; i < 20; i++) console.log('x'.repeat(1000)); return e.request; }", Options{Logger: logger})
	header(t, f, "host")
	out := logs.String()
	if !strings.Contains(out, "message=hello") || strings.Contains(out, "ignored") {
		t.Errorf("console.log line = %q, want the first argument only", out)
	}
	if n := strings.Count(out, "x"); n > maxLogBytes+100 || !strings.Contains(out, "truncated at 10 KB") {
		t.Errorf("logged %d x's, want them cut at 10 KB", n)
	}
}

// BenchmarkViewerRequest measures one run of a small viewer-request
// function: runtime, prelude, top-level code, handler, result decoding.
func BenchmarkViewerRequest(b *testing.B) {
	f, err := Compile("bench.js", []byte(`function handler(event) {
  var request = event.request;
  request.headers['x-copy'] = {value: request.headers.host.value, multiValue: [{value: request.headers.host.value}]};
  if (request.uri.charAt(request.uri.length - 1) === '/') request.uri += 'index.html';
  return request;
}`), Options{})
	if err != nil {
		b.Fatal(err)
	}
	ev := viewerRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Run(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
