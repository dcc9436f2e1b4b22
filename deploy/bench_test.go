package deploy_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
)

// The benchmarks below are the rows of `make bench`'s table (scripts/bench.sh)
// that concern the bridge, the process start and the package; the check-auth
// and verifier rows come from their own packages' benchmarks, in the same run.
//
// Node-side figures are timed inside Node (process.hrtime) and reported as
// ns/event; ns/op also counts one driver round trip per b.N events.

// sampleEvent is the AWS sample event the bridge rows send.
const sampleEvent = "origin-request.json"

func readSample(b *testing.B) []byte {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "events", sampleEvent))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// bearerEvent is check-auth's hot path for an API client: a Bearer token
// already verified once (the verifier's cache), on a protected path.
func bearerEvent(b *testing.B) []byte {
	cfg := suitetest.Config(b, "cognito.json", nil)
	tok := testtoken.Keys(b).Sign(b, testtoken.CognitoAccess(cfg.Issuer, cfg.ClientID, "5f3b1c2e-0d1a-4d7e-9b7a-2c1e0f9a8b7c",
		[]string{"staff"}, time.Now().Add(time.Hour))) // issued now: CognitoAccess puts iat an hour before exp
	ev := suitetest.Request(b, "/docs/a", "Authorization", "Bearer "+tok)
	raw, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// checkAuthPackage lays out cmd/bootstrap and the test config as the zip
// does, for a driver started as the function edgeauth-check-auth.
func checkAuthPackage(b *testing.B) (dir string, env []string) {
	cfg, err := os.ReadFile(filepath.Join("..", "testdata", "config", "cognito.json"))
	if err != nil {
		b.Fatal(err)
	}
	return packageDir(b, "./cmd/bootstrap", cfg), []string{lambdafn.EnvFunctionName + "=edgeauth-check-auth"}
}

func nodeBench(b *testing.B, d *driver, op string, event []byte) {
	b.Helper()
	b.ResetTimer()
	r := d.call(b, map[string]any{"op": op, "n": b.N, "event": json.RawMessage(event)})
	if r.Error != nil {
		b.Fatalf("%s: %s: %s\n%s", op, r.Error.Name, r.Error.Message, d.stderr)
	}
	b.ReportMetric(float64(r.NS)/float64(b.N), "ns/event")
}

// BenchmarkBridge is the per-event cost of the bridge, warm:
//   - floor: the event's bytes to a Go process and back over its
//     stdin/stdout (testdata/floor), the least any Node-to-Go hop costs;
//   - json: JSON.stringify of the event and JSON.parse of it, the encoding
//     Node must do at least once (Lambda hands the handler a parsed object
//     and wants one back);
//   - echo: an event through index.handler to the echo bootstrap and back:
//     the bridge's whole overhead, with a handler that does almost nothing;
//   - check-auth: an event through index.handler to cmd/bootstrap as
//     packaged (config beside it, logs on), a cached Bearer token.
func BenchmarkBridge(b *testing.B) {
	raw := readSample(b)
	d := startDriver(b, packageDir(b, "./deploy/testdata/echo", nil), nil, 8<<10)
	b.Run("floor", func(b *testing.B) { nodeBench(b, d, "floor", raw) })
	b.Run("json", func(b *testing.B) { nodeBench(b, d, "json", raw) })
	b.Run("echo", func(b *testing.B) { nodeBench(b, d, "bench", raw) })
	dir, env := checkAuthPackage(b)
	ca := startDriver(b, dir, env, 8<<10)
	ev := bearerEvent(b)
	if r := ca.call(b, invokeMsg(ev, "check", 5000)); r.Error != nil || !bytes.Contains(r.Result, []byte(`"uri":"/docs/a"`)) {
		b.Fatalf("check-auth through the bridge did not pass the request: %s %+v\n%s", r.Result, r.Error, ca.stderr)
	}
	b.Run("check-auth", func(b *testing.B) { nodeBench(b, ca, "bench", ev) })
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
	b.Run("echo/Handle", func(b *testing.B) { benchHandle(b, ctx, echo.Handle, mustDecode(b, raw)) })
	b.Run("echo/Invoke", func(b *testing.B) { benchInvoke(b, ctx, lambda.NewHandler(echo.Handle), raw) })

	cfg := suitetest.Config(b, "cognito.json", nil)
	h, err := checkauth.New(lambdafn.Deps{Config: cfg, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ev := bearerEvent(b)
	if res, err := h.Handle(ctx, mustDecode(b, ev)); err != nil || res.Request == nil {
		b.Fatalf("check-auth in-process did not pass the request: %+v, %v", res.Response, err)
	}
	b.Run("check-auth/Handle", func(b *testing.B) { benchHandle(b, ctx, h.Handle, mustDecode(b, ev)) })
	b.Run("check-auth/Invoke", func(b *testing.B) { benchInvoke(b, ctx, lambda.NewHandler(h.Handle), ev) })
}

func mustDecode(b *testing.B, raw []byte) edge.Event {
	ev, err := edge.DecodeEvent(raw)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

// benchHandle runs fn on a fresh copy of ev's headers each time: a pass
// edits the request in place (it drops Authorization).
func benchHandle(b *testing.B, ctx context.Context, fn func(context.Context, edge.Event) (edge.Result, error), ev edge.Event) {
	req, _, err := ev.Request()
	if err != nil {
		b.Fatal(err)
	}
	orig := req.Headers
	b.ReportAllocs()
	for b.Loop() {
		hdr := make(edge.Headers, len(orig))
		for k, v := range orig {
			hdr[k] = v
		}
		req.Headers = hdr
		if _, err := fn(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

func benchInvoke(b *testing.B, ctx context.Context, h lambda.Handler, raw []byte) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdStart is process start to first answer, one fresh process
// per iteration:
//   - node: Node.js importing a handler that does nothing and answering
//     (testdata/cold.mjs with noop.mjs): the runtime's own start;
//   - bridge: the same with index.mjs and cmd/bootstrap as packaged, as
//     check-auth, first event: what a Lambda@Edge cold start adds;
//   - bootstrap: cmd/bootstrap alone, started under the bridge's frames,
//     ready and answering its first event: the Go process's own start.
func BenchmarkColdStart(b *testing.B) {
	dir, env := checkAuthPackage(b)
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, bearerEvent(b), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, mod := range []struct{ name, file string }{{"node", "./noop.mjs"}, {"bridge", "./" + deploy.BridgeName}} {
		b.Run(mod.name, func(b *testing.B) {
			for b.Loop() {
				coldNode(b, dir, env, mod.file, event)
			}
		})
	}
	b.Run("bootstrap", func(b *testing.B) {
		raw := bearerEvent(b)
		frame := bridge.AppendInvoke(nil, 1, time.Now().Add(time.Hour), "cold", testARN, "", raw)
		for b.Loop() {
			coldBootstrap(b, filepath.Join(dir, "bootstrap"), env, frame)
		}
	})
}

// coldNode runs node cold.mjs module event in dir and waits for its answer.
func coldNode(b *testing.B, dir string, env []string, module, event string) {
	cmd := exec.Command("node", "cold.mjs", module, event)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	b.StopTimer()
	if err != nil || !bytes.HasPrefix(line, []byte(`{"result":`)) {
		b.Fatalf("cold start answered %q, %v\n%s", line, err, stderr.String())
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("node: %v\n%s", err, stderr.String())
	}
	// The bootstrap ends at the end of its stdin, just after node: let it
	// go before the next start.
	time.Sleep(10 * time.Millisecond)
	b.StartTimer()
}

func coldBootstrap(b *testing.B, bin string, env []string, frame []byte) {
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
	b.StopTimer()
	if err != nil || res.Kind != 'o' {
		b.Fatalf("bootstrap: frame %q %s, %v\n%s", res.Kind, res.Body, err, stderr.String())
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("bootstrap: %v\n%s", err, stderr.String())
	}
	b.StartTimer()
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
