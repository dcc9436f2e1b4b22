package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/internal/echo"
	"github.com/edgeauth/edgeauth/shared/edge"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:edgeauth-check-auth:3"

// driver is a Node.js process running testdata/drive.mjs against the real
// bridge and a real Go bootstrap (testdata/echo), laid out as in a zip.
type driver struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *lockedBuffer
}

// lockedBuffer collects the driver's stderr, written by exec's copying
// goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// buildEcho builds the echo bootstrap for this machine's architecture (the
// shipped one is amd64; the bridge does not care).
func buildEcho(t testing.TB, dir string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the bootstrap is a linux binary")
	}
	b := &deploy.Builder{Root: moduleRoot(t), GOARCH: runtime.GOARCH}
	if err := b.Build(context.Background(), "./deploy/testdata/echo", filepath.Join(dir, "bootstrap")); err != nil {
		t.Fatal(err)
	}
}

func startDriver(t testing.TB) *driver {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir := t.TempDir()
	buildEcho(t, dir)
	drive, err := os.ReadFile("testdata/drive.mjs")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{deploy.BridgeName: deploy.Bridge(), "drive.mjs": drive} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "drive.mjs")
	cmd.Dir = dir
	d := &driver{cmd: cmd, stderr: new(lockedBuffer)}
	cmd.Stderr = d.stderr
	if d.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.out = bufio.NewScanner(stdout)
	d.out.Buffer(make([]byte, 1<<20), 8<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("node driver: %v\n%s", err, d.stderr)
		}
	})
	return d
}

type driverReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
	NS int64 `json:"ns"`
}

func (d *driver) call(t testing.TB, msg any) driverReply {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.in.Write(append(b, '\n')); err != nil {
		t.Fatalf("write to driver: %v\n%s", err, d.stderr)
	}
	for d.out.Scan() {
		line, ok := bytes.CutPrefix(d.out.Bytes(), []byte("@@drive "))
		if !ok {
			continue // the bootstrap's own log line
		}
		var r driverReply
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("driver reply %q: %v", line, err)
		}
		return r
	}
	t.Fatalf("driver gave no reply: %v\n%s", d.out.Err(), d.stderr)
	return driverReply{}
}

// direct calls the handler in-process, as aws-lambda-go would.
func direct(t *testing.T, raw []byte, id string) (json.RawMessage, error) {
	t.Helper()
	var ev edge.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id, InvokedFunctionArn: testARN})
	res, err := echo.Handle(ctx, ev)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return b, nil
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestBridgeMatchesDirectInvocation runs every sample event through Node,
// the bridge and a real aws-lambda-go bootstrap, and checks each result or
// error equals calling the handler directly.
func TestBridgeMatchesDirectInvocation(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	type tcase struct {
		name string
		raw  []byte
	}
	var tests []tcase
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, tcase{filepath.Base(f), raw})
	}
	// Constructed events for the generated-response and error paths.
	for _, uri := range []string{"/respond", "/fail"} {
		tests = append(tests, tcase{"uri " + uri, fmt.Appendf(nil,
			`{"Records":[{"cf":{"config":{"eventType":"origin-request"},"request":{"clientIp":"203.0.113.1","headers":{"cookie":[{"key":"Cookie","value":"a=1; b=2"}]},"method":"GET","querystring":"","uri":%q}}}]}`, uri)})
	}

	d := startDriver(t)
	var sawResult, sawError bool
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("req-%02d", i)
			want, wantErr := direct(t, tt.raw, id)
			got := d.call(t, map[string]any{"op": "invoke", "event": json.RawMessage(tt.raw), "id": id, "arn": testARN, "remainingMs": 5000})
			if wantErr != nil {
				sawError = true
				if got.Error == nil {
					t.Fatalf("bridge result = %s, want error %q", got.Result, wantErr)
				}
				if got.Error.Message != wantErr.Error() || got.Error.Name == "" {
					t.Errorf("bridge error = %s: %q, want message %q", got.Error.Name, got.Error.Message, wantErr)
				}
				return
			}
			sawResult = true
			if got.Error != nil {
				t.Fatalf("bridge error %s: %s, want %s", got.Error.Name, got.Error.Message, want)
			}
			if !jsonEqual(t, got.Result, want) {
				t.Errorf("bridge result:\n%s\nwant (direct):\n%s", got.Result, want)
			}
		})
	}
	if !sawResult || !sawError {
		t.Errorf("cases cover result=%v error=%v, want both", sawResult, sawError)
	}
	if s := d.stderr.String(); !strings.Contains(s, `"function error"`) {
		t.Errorf("function errors were not logged by the bridge; stderr:\n%s", s)
	}
}

const benchEvent = `{"Records":[{"cf":{"config":{"eventType":"origin-request"},"request":{"clientIp":"203.0.113.1","headers":{"host":[{"key":"Host","value":"d111111abcdef8.cloudfront.net"}]},"method":"GET","querystring":"","uri":"/index.html"}}}]}`

// BenchmarkBridge reports, measured inside Node, the bridge's per-event
// cost with a warm bootstrap (invoke) and the first event of a fresh bridge,
// including starting the Go process (cold). The ns/op figure also counts the
// driver's own pipe; bridge-ns/event is the one to read.
func BenchmarkBridge(b *testing.B) {
	d := startDriver(b)
	d.call(b, map[string]any{"op": "bench", "n": 5, "event": json.RawMessage(benchEvent)}) // start the process
	for _, op := range []string{"invoke", "cold"} {
		b.Run(op, func(b *testing.B) {
			wire := op
			if op == "invoke" {
				wire = "bench"
			}
			b.ResetTimer()
			r := d.call(b, map[string]any{"op": wire, "n": b.N, "event": json.RawMessage(benchEvent)})
			if r.Error != nil {
				b.Fatalf("%s: %s", r.Error.Name, r.Error.Message)
			}
			b.ReportMetric(float64(r.NS)/float64(b.N), "bridge-ns/event")
		})
	}
}

// BenchmarkDirect is the same handler called in-process, the baseline the
// bridge's overhead is measured against.
func BenchmarkDirect(b *testing.B) {
	var ev edge.Event
	if err := json.Unmarshal([]byte(benchEvent), &ev); err != nil {
		b.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "x", InvokedFunctionArn: testARN})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := echo.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
