package deploy_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/bridge"
	"github.com/edgeauth/edgeauth/deploy/internal/echo"
	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// The benchmarks below are the rows of `make bench`'s table (scripts/bench)
// that concern the bridge, the in-process alternatives, the process start
// and the package; the check-auth and verifier rows come from their own
// packages' benchmarks, in the same run.
//
// Node-side figures are timed inside Node (process.hrtime) and reported as
// ns/event; ns/op also counts one driver round trip per b.N events. Where a
// figure is compared with a floor (the bare Node-to-Go round trip, Node
// doing nothing at cold start), the two are measured in alternation in the
// same interval and reported side by side, so that the shared machine's
// load weighs on both alike.

// sampleEvent is the AWS sample event the bridge's own rows send.
const sampleEvent = "origin-request.json"

func readSample(b testing.TB) []byte {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "events", sampleEvent))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// benchSub is the session's and the tokens' subject.
const benchSub = "5f3b1c2e-0d1a-4d7e-9b7a-2c1e0f9a8b7c"

// checkAuthEvents are check-auth's three passing paths on a protected path
// of the test config, valid for an hour from now (the bootstrap runs on the
// real clock).
type checkAuthEvents struct {
	session   []byte   // a session cookie: the browser's hot path
	cached    []byte   // a Bearer token, the same every time: verified once, then the verifier's cache
	firstSeen [][]byte // Bearer tokens, each its own: more than the cache holds
	token     string   // cached's token
}

// firstSeenTokens is how many tokens the first-seen rows cycle through:
// more than the verifier's cache (an LRU of DefaultCacheSize) holds, so that
// in turn each is always a miss.
const firstSeenTokens = verifier.DefaultCacheSize + 64

func newCheckAuthEvents(b testing.TB) *checkAuthEvents {
	cfg := suitetest.Config(b, "cognito.json", nil)
	m := testtoken.Keys(b)
	exp := time.Now().Add(time.Hour) // CognitoAccess puts iat an hour before exp
	bearer := func(tok string) []byte {
		raw, err := json.Marshal(suitetest.Request(b, "/docs/a", "Authorization", "Bearer "+tok))
		if err != nil {
			b.Fatal(err)
		}
		return raw
	}
	e := &checkAuthEvents{token: m.Sign(b, testtoken.CognitoAccess(cfg.Issuer, cfg.ClientID, benchSub, []string{"staff"}, exp))}
	e.cached = bearer(e.token)
	for i := range firstSeenTokens {
		// RS256 signatures are deterministic: a jti of its own makes each
		// token new.
		claims := testtoken.CognitoAccess(cfg.Issuer, cfg.ClientID, benchSub, []string{"staff"}, exp)
		claims["jti"] = fmt.Sprintf("bench-%d", i)
		e.firstSeen = append(e.firstSeen, bearer(m.Sign(b, claims)))
	}
	c, err := suitetest.Sessions(b, cfg, time.Now).EncodeSession(session.Session{
		Identity: verifier.Identity{Subject: benchSub, Username: "alice", Groups: []string{"staff"}, Claims: map[string]string{"sub": benchSub}},
		Expiry:   exp,
	})
	if err != nil {
		b.Fatal(err)
	}
	e.session, err = json.Marshal(suitetest.Request(b, "/docs/a?b=1", "Cookie", "theme=dark; "+suitetest.CookieHeader(c)))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// bearerEvent is one passing Bearer event (for the cold-start rows).
func bearerEvent(b testing.TB) []byte {
	cfg := suitetest.Config(b, "cognito.json", nil)
	tok := testtoken.Keys(b).Sign(b, testtoken.CognitoAccess(cfg.Issuer, cfg.ClientID, benchSub, []string{"staff"}, time.Now().Add(time.Hour)))
	raw, err := json.Marshal(suitetest.Request(b, "/docs/a", "Authorization", "Bearer "+tok))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func cognitoConfigJSON(b testing.TB) []byte {
	cfg, err := os.ReadFile(filepath.Join("..", "testdata", "config", "cognito.json"))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// checkAuthEnv starts a bootstrap as the function edgeauth-check-auth.
var checkAuthEnv = []string{lambdafn.EnvFunctionName + "=edgeauth-check-auth"}

// checkAuthPackage lays out cmd/bootstrap and the test config as the zip
// does, for a driver started with checkAuthEnv.
func checkAuthPackage(b testing.TB) string {
	return packageDir(b, "./cmd/bootstrap", cognitoConfigJSON(b))
}

// benchWarm is how many events the driver's bench op sends before timing.
const benchWarm = 100

// nodeBench times b.N events (events in turn) through index.handler in d,
// alternating with as many floor round trips, and reports both.
func nodeBench(b *testing.B, d *driver, cursor *int, events ...[]byte) {
	b.Helper()
	list := make([]json.RawMessage, len(events))
	for i := range events {
		// Start where the last run stopped, so that with more tokens than
		// the verifier's LRU cache holds each first-seen token is still a
		// miss when its turn comes again, across b.N's runs.
		list[i] = events[(*cursor+i)%len(events)]
	}
	*cursor = (*cursor + benchWarm + b.N) % len(events)
	b.ResetTimer()
	r := d.call(b, map[string]any{"op": "bench", "n": b.N, "warm": benchWarm, "events": list})
	b.StopTimer()
	if r.Error != nil {
		b.Fatalf("%s: %s\n%s", r.Error.Name, r.Error.Message, d.stderr)
	}
	b.ReportMetric(float64(r.NS)/float64(b.N), "ns/event")
	b.ReportMetric(float64(r.FloorNS)/float64(b.N), "floor-ns/event")
	b.ReportMetric(float64(r.NS)/float64(r.FloorNS), "x-floor")
}

// nodeOp times one of the driver's plain loops (floor, json).
func nodeOp(b *testing.B, d *driver, op string, event []byte) {
	b.Helper()
	b.ResetTimer()
	r := d.call(b, map[string]any{"op": op, "n": b.N, "event": json.RawMessage(event)})
	b.StopTimer()
	if r.Error != nil {
		b.Fatalf("%s: %s: %s\n%s", op, r.Error.Name, r.Error.Message, d.stderr)
	}
	b.ReportMetric(float64(r.NS)/float64(b.N), "ns/event")
}

// BenchmarkBridge is the per-event cost of the bridge, warm, from the
// handler's call to its answer in Node:
//   - floor: the event's bytes to a Go process and back over its
//     stdin/stdout (testdata/floor), the least any Node-to-Go hop costs;
//   - json: JSON.stringify of the event and JSON.parse of it, the encoding
//     Node must do at least once (Lambda hands the handler a parsed object
//     and wants one back);
//   - passthrough: the sample event through index.handler to a bootstrap
//     whose handler gives the event's bytes back (testdata/passthrough):
//     the bridge's own cost, JSON and frames on both sides;
//   - echo: the same with the echo function: plus aws-lambda-go's Invoke
//     (the event decoded into the suite's types, the result encoded);
//   - check-auth/*: cmd/bootstrap as packaged (config beside it, logs on),
//     on each of check-auth's passing paths.
func BenchmarkBridge(b *testing.B) {
	raw := readSample(b)
	var cursor int
	d := startDriver(b, packageDir(b, "./deploy/testdata/echo", nil), nil, 8<<10)
	b.Run("floor", func(b *testing.B) { nodeOp(b, d, "floor", raw) })
	b.Run("json", func(b *testing.B) { nodeOp(b, d, "json", raw) })
	pass := startDriver(b, packageDir(b, "./deploy/testdata/passthrough", nil), nil, 8<<10)
	b.Run("passthrough", func(b *testing.B) { nodeBench(b, pass, &cursor, raw) })
	b.Run("echo", func(b *testing.B) { nodeBench(b, d, &cursor, raw) })

	ev := newCheckAuthEvents(b)
	ca := startDriver(b, checkAuthPackage(b), checkAuthEnv, 8<<10)
	for _, e := range [][]byte{ev.session, ev.cached, ev.firstSeen[0]} {
		if r := ca.call(b, invokeMsg(e, "check", 5000)); r.Error != nil || !bytes.Contains(r.Result, []byte(`"uri":"/docs/a"`)) {
			b.Fatalf("check-auth through the bridge did not pass the request: %s %+v\n%s", r.Result, r.Error, ca.stderr)
		}
	}
	b.Run("check-auth/session", func(b *testing.B) { nodeBench(b, ca, &cursor, ev.session) })
	b.Run("check-auth/bearer-cached", func(b *testing.B) { nodeBench(b, ca, &cursor, ev.cached) })
	var first int
	b.Run("check-auth/bearer-first-seen", func(b *testing.B) { nodeBench(b, ca, &first, ev.firstSeen...) })
}

// BenchmarkDirect is the same work in-process, what the bridge is measured
// against: the handler alone on a decoded event (Handle), and the event's
// bytes through aws-lambda-go's handler to the result's bytes (Invoke), as a
// native Go Lambda runs it.
func BenchmarkDirect(b *testing.B) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "x", InvokedFunctionArn: testARN})
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	raw := readSample(b)
	b.Run("echo/Handle", func(b *testing.B) { benchHandle(b, ctx, echo.Handle, nil, mustDecode(b, raw)) })
	b.Run("echo/Invoke", func(b *testing.B) { benchInvoke(b, ctx, lambda.NewHandler(echo.Handle), nil, raw) })

	h, err := checkauth.New(lambdafn.Deps{Config: suitetest.Config(b, "cognito.json", nil), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ev := newCheckAuthEvents(b)
	decoded := make([]edge.Event, len(ev.firstSeen))
	for i, e := range ev.firstSeen {
		decoded[i] = mustDecode(b, e)
	}
	for _, e := range []edge.Event{mustDecode(b, ev.session), mustDecode(b, ev.cached), decoded[0]} {
		if res, err := h.Handle(ctx, e); err != nil || res.Request == nil {
			b.Fatalf("check-auth in-process did not pass the request: %+v, %v", res.Response, err)
		}
	}
	for _, row := range []struct {
		name   string
		events [][]byte
	}{{"session", [][]byte{ev.session}}, {"bearer-cached", [][]byte{ev.cached}}, {"bearer-first-seen", ev.firstSeen}} {
		var handleAt, invokeAt int
		list := decoded
		if len(row.events) == 1 {
			list = []edge.Event{mustDecode(b, row.events[0])}
		}
		b.Run("check-auth/"+row.name+"/Handle", func(b *testing.B) { benchHandle(b, ctx, h.Handle, &handleAt, list...) })
		b.Run("check-auth/"+row.name+"/Invoke", func(b *testing.B) { benchInvoke(b, ctx, lambda.NewHandler(h.Handle), &invokeAt, row.events...) })
	}
}

func mustDecode(b testing.TB, raw []byte) edge.Event {
	ev, err := edge.DecodeEvent(raw)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

// benchHandle runs fn on evs in turn (from *at, kept across b.N's runs), on
// a fresh copy of each one's headers each time: a pass edits the request in
// place (it drops Authorization).
func benchHandle(b *testing.B, ctx context.Context, fn func(context.Context, edge.Event) (edge.Result, error), at *int, evs ...edge.Event) {
	reqs := make([]*edge.Request, len(evs))
	orig := make([]edge.Headers, len(evs))
	for i, ev := range evs {
		req, _, err := ev.Request()
		if err != nil {
			b.Fatal(err)
		}
		reqs[i], orig[i] = req, req.Headers
	}
	i := 0
	if at != nil {
		i = *at
	}
	b.ReportAllocs()
	for b.Loop() {
		k := i % len(evs)
		i++
		hdr := make(edge.Headers, len(orig[k]))
		for name, v := range orig[k] {
			hdr[name] = v
		}
		reqs[k].Headers = hdr
		if _, err := fn(ctx, evs[k]); err != nil {
			b.Fatal(err)
		}
	}
	if at != nil {
		*at = i
	}
}

func benchInvoke(b *testing.B, ctx context.Context, h lambda.Handler, at *int, raws ...[]byte) {
	i := 0
	if at != nil {
		i = *at
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raws[i%len(raws)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if at != nil {
		*at = i
	}
}

// BenchmarkColdStart is process start to first answer, fresh processes
// each iteration, each row beside its baseline started in alternation with
// it (ns/start and base-ns/start, medians; over-base-ns the difference):
//   - bridge: Node.js importing index.mjs, which starts cmd/bootstrap as
//     packaged at import (Lambda's init phase), and answering a first
//     check-auth event; baseline: the same Node.js importing a handler that
//     does nothing (testdata/cold.mjs with noop.mjs), the runtime's own
//     start;
//   - bootstrap: cmd/bootstrap alone, started under the bridge's frames,
//     ready and answering its first event: the Go process's own start;
//     baseline: the floor's Go process, which does nothing but answer.
//
// The WebAssembly alternative's cold start is BenchmarkWasm/cold-start.
func BenchmarkColdStart(b *testing.B) {
	dir := checkAuthPackage(b)
	raw := bearerEvent(b)
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("bridge", func(b *testing.B) {
		coldPair(b, func() time.Duration { return coldNode(b, dir, checkAuthEnv, "./noop.mjs", event) },
			func() time.Duration { return coldNode(b, dir, checkAuthEnv, "./"+deploy.BridgeName, event) })
	})
	b.Run("bootstrap", func(b *testing.B) {
		frame := bridge.AppendInvoke(nil, 1, time.Now().Add(time.Hour), "cold", testARN, "", raw)
		coldPair(b, func() time.Duration { return coldFloor(b, filepath.Join(dir, "floor"), raw) },
			func() time.Duration { return coldBootstrap(b, filepath.Join(dir, "bootstrap"), checkAuthEnv, frame) })
	})
}

// coldPair runs base and row in alternation, b.N times each (each returns
// its start's time to first answer), and reports the median of each and
// their difference.
func coldPair(b *testing.B, base, row func() time.Duration) {
	var baseNS, rowNS []time.Duration
	for b.Loop() {
		baseNS = append(baseNS, base())
		rowNS = append(rowNS, row())
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	b.ReportMetric(med(rowNS), "ns/start")
	b.ReportMetric(med(baseNS), "base-ns/start")
	b.ReportMetric(med(rowNS)-med(baseNS), "over-base-ns")
}

// coldNode runs node cold.mjs module event in dir and times it to its
// answer, which must be the request passed on.
func coldNode(b *testing.B, dir string, env []string, module, event string) time.Duration {
	cmd := exec.Command("node", "cold.mjs", module, event)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	took := time.Since(start)
	if err != nil || !bytes.HasPrefix(line, []byte(`{"result":{`)) || bytes.Contains(line, []byte(`"status"`)) {
		b.Fatalf("cold start answered %q, %v\n%s", line, err, stderr.String())
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("node: %v\n%s", err, stderr.String())
	}
	return took
}

// coldBootstrap starts bin under the bridge's frames, sends it frame and
// times it to the answer, which must pass the request on.
func coldBootstrap(b *testing.B, bin string, env []string, frame []byte) time.Duration {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append(env, bridge.EnvMode+"="+bridge.ModeStdio)...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewReader(outPipe)
	ready, err := bridge.ReadFrame(out)
	if err == nil && ready.Kind == 'r' {
		_, err = in.Write(frame)
	}
	var res bridge.Frame
	if err == nil {
		res, err = bridge.ReadFrame(out)
	}
	took := time.Since(start)
	if err != nil || res.Kind != 'o' || !bytes.Contains(res.Body, []byte(`"uri":"/docs/a"`)) {
		b.Fatalf("bootstrap: frame %q %s, %v\n%s", res.Kind, res.Body, err, stderr.String())
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("bootstrap: %v\n%s", err, stderr.String())
	}
	return took
}

// coldFloor starts the floor's echo process, ping-pongs event once and
// times it to the answer.
func coldFloor(b *testing.B, bin string, event []byte) time.Duration {
	cmd := exec.Command(bin)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(event)))
	frame = append(frame, event...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if _, err := in.Write(frame); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, len(frame))); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return took
}

// BenchmarkPackage packages cmd/bootstrap as `make package` does (linux/amd64)
// and reports the zip's size; each iteration writes the zip.
func BenchmarkPackage(b *testing.B) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		b.Skip("needs a Unix go toolchain")
	}
	cfg, err := os.ReadFile(filepath.Join("testdata", "config.json"))
	if err != nil {
		b.Fatal(err)
	}
	p := &deploy.Packager{Builder: &deploy.Builder{Root: moduleRoot(b)}, Out: b.TempDir()}
	art, err := p.Package(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	files := zipEntries(b, art.Path)
	b.ResetTimer()
	for b.Loop() {
		if err := deploy.WriteZip(io.Discard, files); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(art.Size), "zip-bytes")
}

func zipEntries(b *testing.B, path string) []deploy.File {
	zr, err := zip.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	var files []deploy.File
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, deploy.File{Name: f.Name, Mode: f.Mode(), Data: data})
	}
	return files
}

// wasmPackage lays out the WebAssembly alternative (scripts/wasmbench) as
// its package would be: index.mjs, edgeauth.wasm, Go's wasm_exec.js and
// config.json, plus the driver and the floor.
func wasmPackage(b *testing.B) string {
	root := moduleRoot(b)
	dir := packageDir(b, "./deploy/testdata/passthrough", cognitoConfigJSON(b)) // its bootstrap stays unused
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "edgeauth.wasm"), "./scripts/wasmbench")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build wasm: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatal(err)
	}
	for src, dst := range map[string]string{
		filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
		filepath.Join(root, "scripts", "wasmbench", "index.mjs"):                        "index.mjs",
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkWasm is the in-process alternative to the bridge: check-auth
// compiled to WebAssembly and run inside the Node.js handler
// (scripts/wasmbench), on the same events as BenchmarkBridge's check-auth
// rows and BenchmarkDirect's:
//   - session, bearer-cached, bearer-first-seen: one event from the
//     handler's call to its answer in Node (JSON.stringify, the call into
//     the module, aws-lambda-go's Invoke inside it, JSON.parse);
//   - go/*: loops timed inside the module, the same code as the native
//     benchmarks they are named after: rsa-floor (verifier's
//     BenchmarkRSAFloor), verify-first-seen (BenchmarkVerifyFirstSeen),
//     handle-session and handle-bearer-cached (check-auth's Handle on a
//     decoded event, as BenchmarkDirect's */Handle);
//   - cold-start: Node.js importing the module (which instantiates the
//     WebAssembly and builds check-auth) and answering a first event, beside
//     Node doing nothing, as BenchmarkColdStart/bridge.
//
// Each event's result is first checked to be exactly what the same code
// gives in-process (aws-lambda-go's Invoke), as Node's runtime would send it.
func BenchmarkWasm(b *testing.B) {
	dir := wasmPackage(b)
	d := startDriver(b, dir, checkAuthEnv, 8<<10)
	ev := newCheckAuthEvents(b)

	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "check", InvokedFunctionArn: testARN})
	h, err := checkauth.New(lambdafn.Deps{Config: suitetest.Config(b, "cognito.json", nil)})
	if err != nil {
		b.Fatal(err)
	}
	for name, e := range map[string][]byte{"session": ev.session, "bearer-cached": ev.cached, "bearer-first-seen": ev.firstSeen[0]} {
		want, err := lambda.NewHandler(h.Handle).Invoke(ctx, e)
		if err != nil {
			b.Fatal(err)
		}
		norm := d.call(b, map[string]any{"op": "normalize", "json": string(want)})
		got := d.call(b, invokeMsg(e, "check", 5000))
		if got.Error != nil || got.JSON != norm.JSON || !bytes.Contains(want, []byte(`"uri":"/docs/a"`)) {
			b.Fatalf("%s: wasm gave %s %+v, in-process %s\n%s", name, got.JSON, got.Error, want, d.stderr)
		}
	}

	var cursor, first int
	b.Run("session", func(b *testing.B) { nodeBench(b, d, &cursor, ev.session) })
	b.Run("bearer-cached", func(b *testing.B) { nodeBench(b, d, &cursor, ev.cached) })
	b.Run("bearer-first-seen", func(b *testing.B) { nodeBench(b, d, &first, ev.firstSeen...) })
	for _, g := range []struct{ name, loop, arg string }{
		{"rsa-floor", "rsa-floor", ev.token},
		{"verify-first-seen", "verify-first-seen", ev.token},
		{"handle-session", "handle", string(ev.session)},
		{"handle-bearer-cached", "handle", string(ev.cached)},
	} {
		b.Run("go/"+g.name, func(b *testing.B) {
			r := d.call(b, map[string]any{"op": "goBench", "name": g.loop, "n": b.N, "arg": g.arg})
			if r.Error != nil {
				b.Fatalf("%s: %s\n%s", g.name, r.Error.Message, d.stderr)
			}
			b.ReportMetric(float64(r.NS)/float64(b.N), "ns/event")
		})
	}

	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, ev.cached, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("cold-start", func(b *testing.B) {
		coldPair(b, func() time.Duration { return coldNode(b, dir, checkAuthEnv, "./noop.mjs", event) },
			func() time.Duration { return coldNode(b, dir, checkAuthEnv, "./index.mjs", event) })
	})
}
