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
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/bridge"
	"github.com/edgeauth/edgeauth/deploy/internal/echo"
	"github.com/edgeauth/edgeauth/internal/dex"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:edgeauth-check-auth:3"

// driver is a Node.js process running testdata/drive.mjs against the real
// bridge and a real Go bootstrap, laid out as in a zip.
type driver struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *lockedBuffer
}

// lockedBuffer collects the driver's stderr (the bridge's and the
// bootstrap's logs), written by exec's copying goroutine while the test
// reads it. With max > 0 it keeps only the last max bytes.
type lockedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; b.max > 0 && over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
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

// build builds pkg for this machine's architecture (the shipped bootstrap is
// amd64; the bridge does not care) to dir/name.
func build(t testing.TB, pkg, dir, name string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the bootstrap is a linux binary")
	}
	b := &deploy.Builder{Root: moduleRoot(t), GOARCH: runtime.GOARCH}
	if err := b.Build(context.Background(), pkg, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// needNode returns node's path; without it the test skips, except under CI
// (dex.InCI), where the Node cross-checks must run.
func needNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if dex.InCI() {
			t.Fatal("node not installed")
		}
		t.Skip("node not installed")
	}
	return node
}

// packageDir lays out a package as the zip does (index.mjs, bootstrap built
// from pkg, and config, when given, as config.json), plus the driver and
// the floor's echo process.
func packageDir(t testing.TB, pkg string, config []byte) string {
	t.Helper()
	needNode(t)
	dir := t.TempDir()
	build(t, pkg, dir, "bootstrap")
	build(t, "./deploy/testdata/floor", dir, "floor")
	files := map[string][]byte{deploy.BridgeName: deploy.Bridge()}
	for _, name := range []string{"drive.mjs", "cold.mjs", "noop.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	if config != nil {
		files["config.json"] = config
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startDriver runs drive.mjs in dir with env added; stderrMax bounds what
// is kept of its stderr (0: everything).
func startDriver(t testing.TB, dir string, env []string, stderrMax int) *driver {
	t.Helper()
	cmd := exec.Command("node", "drive.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	d := &driver{cmd: cmd, stderr: &lockedBuffer{max: stderrMax}}
	cmd.Stderr = d.stderr
	var err error
	if d.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.out = bufio.NewScanner(stdout)
	d.out.Buffer(make([]byte, 1<<20), 32<<20)
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

type driverError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type driverReply struct {
	Result  json.RawMessage `json:"result"`
	JSON    string          `json:"json"`
	Error   *driverError    `json:"error"`
	Replies []driverReply   `json:"replies"`
	NS      int64           `json:"ns"`
	FloorNS int64           `json:"floorNs"`
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
			continue
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

// invokeMsg is the driver's request for one event.
func invokeMsg(raw []byte, id string, remainingMs int) map[string]any {
	return map[string]any{"op": "invoke", "event": json.RawMessage(raw), "id": id, "arn": testARN, "remainingMs": remainingMs}
}

// direct calls echo in-process exactly as aws-lambda-go's runtime loop
// does: the event's bytes through lambda.NewHandler(...).Invoke, with the
// request id and ARN in the context. The error is the errorType and
// errorMessage that loop would report.
func direct(t *testing.T, raw []byte, id string) ([]byte, *messages.InvokeResponse_Error) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id, InvokedFunctionArn: testARN})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := lambda.NewHandler(echo.Handle).Invoke(ctx, raw)
	if err != nil {
		// aws-lambda-go's lambdaErrorResponse: the error's type name.
		typ := reflect.TypeOf(err)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		return nil, &messages.InvokeResponse_Error{Type: typ.Name(), Message: err.Error()}
	}
	return bytes.Clone(res), nil
}

type sample struct {
	name string
	raw  []byte
}

// samples are every event in testdata/events, plus constructed ones for
// the generated-response and error paths.
func samples(t *testing.T) []sample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	var out []sample
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{filepath.Base(f), raw})
	}
	for _, uri := range []string{"/respond", "/fail"} {
		out = append(out, sample{"uri " + uri, uriEvent(uri)})
	}
	return out
}

func uriEvent(uri string) []byte {
	return fmt.Appendf(nil,
		`{"Records":[{"cf":{"config":{"eventType":"origin-request"},"request":{"clientIp":"203.0.113.1","headers":{"cookie":[{"key":"Cookie","value":"a=1; session=secret-cookie-value"}]},"method":"GET","querystring":"","uri":%q}}}]}`, uri)
}

// TestBootstrapFramesMatchDirect drives the real echo bootstrap over its
// frames from Go, without Node: each result's bytes are exactly those the
// in-process aws-lambda-go handler gives, each error its errorType and
// errorMessage.
func TestBootstrapFramesMatchDirect(t *testing.T) {
	dir := t.TempDir()
	build(t, "./deploy/testdata/echo", dir, "bootstrap")
	cmd := exec.Command(filepath.Join(dir, "bootstrap"))
	cmd.Env = append(os.Environ(), bridge.EnvMode+"="+bridge.ModeStdio)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(outPipe)
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("bootstrap: %v\n%s", err, stderr.String())
		}
	})
	if f, err := bridge.ReadFrame(out); err != nil || f.Kind != 'r' {
		t.Fatalf("first frame %q, %v; want ready\n%s", f.Kind, err, stderr.String())
	}
	for i, s := range samples(t) {
		t.Run(s.name, func(t *testing.T) {
			id := fmt.Sprintf("frame-%02d", i)
			want, wantErr := direct(t, s.raw, id)
			if _, err := in.Write(bridge.AppendInvoke(nil, uint32(i), time.Now().Add(5*time.Second), id, testARN, "", s.raw)); err != nil {
				t.Fatal(err)
			}
			f, err := bridge.ReadFrame(out)
			if err != nil || f.Seq != uint32(i) {
				t.Fatalf("frame seq %d, %v; want seq %d", f.Seq, err, i)
			}
			if wantErr != nil {
				var got messages.InvokeResponse_Error
				if f.Kind != 'e' || json.Unmarshal(f.Body, &got) != nil || got.Type != wantErr.Type || got.Message != wantErr.Message {
					t.Errorf("frame %q %s, want error %s: %s", f.Kind, f.Body, wantErr.Type, wantErr.Message)
				}
				return
			}
			if f.Kind != 'o' || !bytes.Equal(f.Body, want) {
				t.Errorf("frame %q:\n%s\nwant (direct):\n%s", f.Kind, f.Body, want)
			}
		})
	}
	// Its logs went to stderr, never into the frames; and they hold no
	// event content.
	if strings.Contains(stderr.String(), "secret-cookie-value") {
		t.Errorf("bootstrap logged event content:\n%s", stderr.String())
	}
}

// TestBridgeMatchesDirectInvocation runs every sample event through Node,
// the bridge and a real aws-lambda-go bootstrap, and checks each result is
// exactly what Node's Lambda runtime would make of a direct call's bytes
// (JSON.stringify of the parsed result), and each error has the direct
// call's errorType and errorMessage.
func TestBridgeMatchesDirectInvocation(t *testing.T) {
	d := startDriver(t, packageDir(t, "./deploy/testdata/echo", nil), nil, 0)
	var sawResult, sawError bool
	for i, s := range samples(t) {
		t.Run(s.name, func(t *testing.T) {
			id := fmt.Sprintf("req-%02d", i)
			want, wantErr := direct(t, s.raw, id)
			got := d.call(t, invokeMsg(s.raw, id, 5000))
			if wantErr != nil {
				sawError = true
				if got.Error == nil || got.Error.Name != wantErr.Type || got.Error.Message != wantErr.Message {
					t.Errorf("bridge = %s %+v, want error %s: %q", got.JSON, got.Error, wantErr.Type, wantErr.Message)
				}
				return
			}
			sawResult = true
			if got.Error != nil {
				t.Fatalf("bridge error %s: %s, want %s", got.Error.Name, got.Error.Message, want)
			}
			norm := d.call(t, map[string]any{"op": "normalize", "json": string(want)})
			if got.JSON != norm.JSON {
				t.Errorf("bridge result:\n%s\nwant (direct, as Node sends it on):\n%s", got.JSON, norm.JSON)
			}
		})
	}
	if !sawResult || !sawError {
		t.Errorf("cases cover result=%v error=%v, want both", sawResult, sawError)
	}
	if s := d.stderr.String(); !strings.Contains(s, `"function error"`) || strings.Contains(s, "secret-cookie-value") {
		t.Errorf("want function errors logged, and no event content; stderr:\n%s", s)
	}
}

// TestBridgeConcurrentEventsNeverMixed sends every sample event at once,
// several times over; echo writes each invocation's request id into its
// result, so an answer given to the wrong caller shows.
func TestBridgeConcurrentEventsNeverMixed(t *testing.T) {
	d := startDriver(t, packageDir(t, "./deploy/testdata/echo", nil), nil, 0)
	var events []map[string]any
	var wants []sample
	for round := range 3 {
		for i, s := range samples(t) {
			id := fmt.Sprintf("many-%d-%02d", round, i)
			events = append(events, map[string]any{"event": json.RawMessage(s.raw), "id": id, "arn": testARN, "remainingMs": 10000})
			wants = append(wants, sample{id, s.raw})
		}
	}
	got := d.call(t, map[string]any{"op": "invokeMany", "events": events})
	if len(got.Replies) != len(wants) {
		t.Fatalf("%d replies for %d events", len(got.Replies), len(wants))
	}
	for i, w := range wants {
		want, wantErr := direct(t, w.raw, w.name)
		r := got.Replies[i]
		if wantErr != nil {
			if r.Error == nil || r.Error.Message != wantErr.Message {
				t.Errorf("%s: %+v, want error %q", w.name, r, wantErr.Message)
			}
			continue
		}
		norm := d.call(t, map[string]any{"op": "normalize", "json": string(want)})
		if r.JSON != norm.JSON {
			t.Errorf("%s: got\n%s\nwant\n%s", w.name, r.JSON, norm.JSON)
		}
	}
}

// TestBridgeFailures: each way a real Go bootstrap fails, through Node and
// the bridge, and that the next event is answered.
func TestBridgeFailures(t *testing.T) {
	d := startDriver(t, packageDir(t, "./deploy/testdata/echo", nil), nil, 0)
	tests := []struct {
		name        string
		msg         map[string]any
		wantName    string
		wantMessage string
	}{
		{"function error", invokeMsg(uriEvent("/fail"), "f1", 5000), "errorString", "echo: asked to fail (origin-request)"},
		{"panic", invokeMsg(uriEvent("/panic"), "f2", 5000), "string", "echo: asked to panic"},
		{"crash", invokeMsg(uriEvent("/crash"), "f3", 5000), "Runtime.ExitError", "bootstrap exited with code 3"},
		{"deadline", invokeMsg(uriEvent("/hang"), "f4", 300), "Runtime.Timeout", "bootstrap did not answer within 280 ms"},
		{"init failure", map[string]any{"op": "fresh", "env": map[string]string{"ECHO_INIT": "fail"}, "event": json.RawMessage(uriEvent("/x")), "id": "f5"},
			"Runtime.InitError", "echo: config: clientId: is required"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.call(t, tt.msg)
			if got.Error == nil || got.Error.Name != tt.wantName || got.Error.Message != tt.wantMessage {
				t.Errorf("got %s %+v, want %s: %q", got.JSON, got.Error, tt.wantName, tt.wantMessage)
			}
			next := d.call(t, invokeMsg(uriEvent("/respond"), fmt.Sprint("after-", i), 5000))
			if next.Error != nil || !strings.Contains(next.JSON, "hello after-") {
				t.Errorf("next event after %s: %s %+v", tt.name, next.JSON, next.Error)
			}
		})
	}
	if s := d.stderr.String(); strings.Contains(s, "secret-cookie-value") {
		t.Errorf("event content in the logs:\n%s", s)
	}
}
