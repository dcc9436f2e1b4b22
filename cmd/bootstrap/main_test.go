package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/bridge"
	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

const arn = "arn:aws:lambda:us-east-1:123456789012:function:edgeauth-check-auth:1"

// packaged builds the bootstrap (for this machine) beside the test config,
// as the zip holds them.
func packaged(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the bootstrap is a linux binary")
	}
	root := testtoken.ModuleRoot(t)
	dir := t.TempDir()
	b := &deploy.Builder{Root: root, GOARCH: runtime.GOARCH}
	if err := b.Build(context.Background(), "./cmd/bootstrap", filepath.Join(dir, "bootstrap")); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(root, "testdata", "config", "cognito.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "bootstrap")
}

// process is the bootstrap under the bridge's frames, driven from Go.
type process struct {
	cmd    *exec.Cmd
	in     interface{ Write([]byte) (int, error) }
	out    *bufio.Reader
	stderr *bytes.Buffer
}

func start(t *testing.T, bin, functionName string) *process {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), bridge.EnvMode+"="+bridge.ModeStdio, lambdafn.EnvFunctionName+"="+functionName)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, in: in, out: bufio.NewReader(out), stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return p
}

func eventBytes(t *testing.T, ev edge.Event) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEachNameRunsItsFunction: the one binary, started under each of the
// names the template gives the functions (and a replica's), answers like
// that function in-process, byte for byte.
func TestEachNameRunsItsFunction(t *testing.T) {
	bin := packaged(t)
	cfg := suitetest.Config(t, "cognito.json", nil)
	deps := lambdafn.Deps{Config: cfg}.WithDefaults()
	tests := []struct {
		functionName string
		build        lambdafn.Builder
		event        edge.Event
	}{
		{"edgeauth-check-auth", lambdafn.BuilderOf(checkauth.New), suitetest.Request(t, "/public/a.css")},
		{"us-east-1.edgeauth-parse-callback", lambdafn.BuilderOf(parsecallback.New), suitetest.Request(t, "/parseauth?error=access_denied")},
		{"us-east-1.my-stack-sign-out", lambdafn.BuilderOf(signout.New), suitetest.Request(t, "/signout")},
	}
	for _, tt := range tests {
		t.Run(tt.functionName, func(t *testing.T) {
			raw := eventBytes(t, tt.event)
			h, err := tt.build(deps)
			if err != nil {
				t.Fatal(err)
			}
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "same-id", InvokedFunctionArn: arn})
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			want, err := lambda.NewHandler((func(context.Context, edge.Event) (edge.Result, error))(h)).Invoke(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			want = bytes.Clone(want)

			p := start(t, bin, tt.functionName)
			if f, err := bridge.ReadFrame(p.out); err != nil || f.Kind != 'r' {
				t.Fatalf("first frame %q, %v; want ready\n%s", f.Kind, err, p.stderr)
			}
			if _, err := p.in.Write(bridge.AppendInvoke(nil, 1, time.Now().Add(5*time.Second), "same-id", arn, "", raw)); err != nil {
				t.Fatal(err)
			}
			f, err := bridge.ReadFrame(p.out)
			if err != nil || f.Kind != 'o' || f.Seq != 1 {
				t.Fatalf("frame %q seq %d %s, %v\n%s", f.Kind, f.Seq, f.Body, err, p.stderr)
			}
			if !bytes.Equal(f.Body, want) {
				t.Errorf("bootstrap as %s:\n%s\nwant (in-process):\n%s", tt.functionName, f.Body, want)
			}
		})
	}
}

// TestUnknownNameFailsInit: a name that names no function is an init
// error the bridge reports, naming the name.
func TestUnknownNameFailsInit(t *testing.T) {
	p := start(t, packaged(t), "us-east-1.edgeauth-authorizer")
	f, err := bridge.ReadFrame(p.out)
	if err != nil || f.Kind != 'x' {
		t.Fatalf("first frame %q, %v; want an init error\n%s", f.Kind, err, p.stderr)
	}
	var got messages.InvokeResponse_Error
	if err := json.Unmarshal(f.Body, &got); err != nil || got.Type != "Runtime.InitError" ||
		!strings.Contains(got.Message, `"us-east-1.edgeauth-authorizer"`) || !strings.Contains(got.Message, "check-auth, parse-callback, sign-out") {
		t.Errorf("init error %+v, %v; want the name and the choices", got, err)
	}
	if err := p.cmd.Wait(); err == nil {
		t.Error("bootstrap exited 0 after an init failure")
	}
}
