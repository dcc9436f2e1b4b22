package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type myError struct{ msg string }

func (e *myError) Error() string { return e.msg }

type event struct {
	Action string `json:"action"`
	N      int    `json:"n"`
}

type reply struct {
	N          int    `json:"n"`
	RequestID  string `json:"requestId"`
	ARN        string `json:"arn"`
	DeadlineMs int64  `json:"deadlineMs"`
	Trace      any    `json:"trace"`
}

// handle answers an event with what it saw of the invocation, or fails the
// way the event's action asks.
func handle(ctx context.Context, ev event) (reply, error) {
	switch ev.Action {
	case "error":
		return reply{}, errors.New("plain failure")
	case "typed":
		return reply{}, &myError{"typed failure"}
	case "wrapped":
		return reply{}, fmt.Errorf("context: %w", &myError{"inner"})
	case "invoke-error":
		return reply{}, messages.InvokeResponse_Error{Type: "Custom.Type", Message: "custom message"}
	case "panic":
		panic("boom")
	case "nil-map":
		var m map[string]int
		m["x"] = 1
	}
	lc, _ := lambdacontext.FromContext(ctx)
	dl, _ := ctx.Deadline()
	return reply{N: ev.N, RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn, DeadlineMs: dl.UnixMilli(), Trace: ctx.Value("x-amzn-trace-id")}, nil
}

type session struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *io.PipeReader
	done chan error
}

func serve(t *testing.T) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, out: outR, done: make(chan error, 1)}
	go func() {
		err := Serve(context.Background(), inR, outW, lambda.NewHandler(handle), nil)
		outW.CloseWithError(io.EOF)
		inR.Close()
		s.done <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	if f := s.read(); f.Kind != kindReady || len(f.Body) != 0 {
		t.Fatalf("first frame = %q %q, want an empty ready frame", f.Kind, f.Body)
	}
	return s
}

func (s *session) send(b []byte) {
	s.t.Helper()
	if _, err := s.in.Write(b); err != nil {
		s.t.Fatalf("write frame: %v", err)
	}
}

func (s *session) read() Frame {
	s.t.Helper()
	f, err := ReadFrame(s.out)
	if err != nil {
		s.t.Fatalf("read frame: %v", err)
	}
	return f
}

func (s *session) end() error {
	s.t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		s.t.Fatal("Serve did not return")
		return nil
	}
}

const arn = "arn:aws:lambda:us-east-1:123456789012:function:edgeauth-check-auth:7"

func TestServeRelaysEventAndContext(t *testing.T) {
	s := serve(t)
	deadline := time.Now().Add(3 * time.Second).Truncate(time.Millisecond)
	ev := []byte(`{"n":42}`)
	s.send(AppendInvoke(nil, 7, deadline, "req-1", arn, "Root=1-abc", ev))
	f := s.read()
	if f.Kind != kindResult || f.Seq != 7 {
		t.Fatalf("frame %q seq %d, want result seq 7: %s", f.Kind, f.Seq, f.Body)
	}
	// The bytes are exactly what aws-lambda-go's handler makes of the event.
	lc := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1", InvokedFunctionArn: arn})
	ctx, cancel := context.WithDeadline(context.WithValue(lc, "x-amzn-trace-id", "Root=1-abc"), deadline)
	defer cancel()
	want, err := lambda.NewHandler(handle).Invoke(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Body, want) {
		t.Errorf("result %s, want %s", f.Body, want)
	}
	var r reply
	if err := json.Unmarshal(f.Body, &r); err != nil {
		t.Fatal(err)
	}
	if r.N != 42 || r.RequestID != "req-1" || r.ARN != arn || r.DeadlineMs != deadline.UnixMilli() || r.Trace != "Root=1-abc" {
		t.Errorf("handler saw %+v", r)
	}
	s.in.Close()
	if err := s.end(); err != nil {
		t.Errorf("Serve at end of input = %v, want nil", err)
	}
}

func TestServeReportsFunctionErrors(t *testing.T) {
	tests := []struct {
		action, wantType, wantMessage string
	}{
		{"error", "errorString", "plain failure"},
		{"typed", "myError", "typed failure"},
		{"wrapped", "wrapError", "context: inner"},
		{"invoke-error", "Custom.Type", "custom message"},
		{"bad json", "SyntaxError", "invalid character 'o' in literal null (expecting 'u')"},
	}
	s := serve(t)
	for i, tt := range tests {
		ev := fmt.Appendf(nil, `{"action":%q}`, tt.action)
		if tt.action == "bad json" {
			ev = []byte("not json")
		}
		s.send(AppendInvoke(nil, uint32(i), time.Now().Add(time.Second), fmt.Sprint("e", i), arn, "", ev))
		f := s.read()
		var got messages.InvokeResponse_Error
		if err := json.Unmarshal(f.Body, &got); err != nil || f.Kind != kindError || f.Seq != uint32(i) {
			t.Fatalf("%s: frame %q seq %d %s (%v), want an error frame seq %d", tt.action, f.Kind, f.Seq, f.Body, err, i)
		}
		if got.Type != tt.wantType || got.Message != tt.wantMessage {
			t.Errorf("%s: error %s: %q, want %s: %q", tt.action, got.Type, got.Message, tt.wantType, tt.wantMessage)
		}
	}
	// The process goes on after a function error.
	s.send(AppendInvoke(nil, 99, time.Now().Add(time.Second), "ok", arn, "", []byte(`{"n":1}`)))
	if f := s.read(); f.Kind != kindResult || f.Seq != 99 {
		t.Errorf("after errors: frame %q seq %d, want result 99", f.Kind, f.Seq)
	}
}

func TestServePanicIsReportedThenStops(t *testing.T) {
	for _, tt := range []struct{ action, wantType, wantMessage string }{
		{"panic", "string", "boom"},
		{"nil-map", "plainError", "assignment to entry in nil map"},
	} {
		t.Run(tt.action, func(t *testing.T) {
			s := serve(t)
			s.send(AppendInvoke(nil, 3, time.Now().Add(time.Second), "p", arn, "", fmt.Appendf(nil, `{"action":%q}`, tt.action)))
			f := s.read()
			var got messages.InvokeResponse_Error
			if err := json.Unmarshal(f.Body, &got); err != nil || f.Kind != kindPanic || f.Seq != 3 {
				t.Fatalf("frame %q seq %d %s, want panic frame seq 3", f.Kind, f.Seq, f.Body)
			}
			if got.Type != tt.wantType || got.Message != tt.wantMessage {
				t.Errorf("panic reported as %s: %q, want %s: %q", got.Type, got.Message, tt.wantType, tt.wantMessage)
			}
			if err := s.end(); !errors.Is(err, ErrPanic) {
				t.Errorf("Serve after a panic = %v, want ErrPanic", err)
			}
		})
	}
}

func TestServeRefusesBadFrames(t *testing.T) {
	good := AppendInvoke(nil, 1, time.Now().Add(time.Second), "id", arn, "trace", []byte(`{}`))
	tests := map[string][]byte{
		"wrong kind":        append([]byte{0, 0, 0, 13, 'o'}, make([]byte, 12)...),
		"too short":         {0, 0, 0, 3, 'i', 0, 0},
		"cut string":        append(append([]byte{0, 0, 0, 16}, good[4:17]...), 0xff, 0xff, 'a'),
		"over the limit":    {0xff, 0xff, 0xff, 0xff},
		"truncated frame":   good[:len(good)-1],
		"half a length":     {0, 0},
		"negative deadline": AppendInvoke(nil, 1, time.UnixMilli(-5), "", "", "", nil),
	}
	for name, frame := range tests {
		t.Run(name, func(t *testing.T) {
			s := serve(t)
			s.send(frame)
			s.in.Close()
			if err := s.end(); !errors.Is(err, ErrProtocol) {
				t.Errorf("Serve = %v, want ErrProtocol", err)
			}
		})
	}
}

func TestInitFailedFrame(t *testing.T) {
	var out bytes.Buffer
	rt := &Runtime{in: strings.NewReader(""), out: &out}
	rt.InitFailed(errors.New("config: clientId: is required"))
	f, err := ReadFrame(&out)
	if err != nil || f.Kind != kindInitError {
		t.Fatalf("frame %q %v", f.Kind, err)
	}
	var got messages.InvokeResponse_Error
	if err := json.Unmarshal(f.Body, &got); err != nil || got.Type != "Runtime.InitError" || got.Message != "config: clientId: is required" {
		t.Errorf("init error %+v %v", got, err)
	}
	// Outside the bridge it writes nothing.
	(&Runtime{}).InitFailed(errors.New("x"))
	var nilRT *Runtime
	nilRT.InitFailed(errors.New("x"))
}

func TestOpenModes(t *testing.T) {
	t.Setenv(EnvMode, "")
	rt, err := Open()
	if err != nil || rt.Bridged() {
		t.Errorf("Open without %s = bridged %v, %v; want the Runtime API", EnvMode, rt != nil && rt.Bridged(), err)
	}
	t.Setenv(EnvMode, "stdio-0")
	if _, err := Open(); err == nil || !strings.Contains(err.Error(), "unknown mode") {
		t.Errorf("Open with an unknown mode = %v, want an error naming it", err)
	}
}

// FuzzParseInvoke: any bytes are a valid invocation or ErrProtocol, never a
// panic, and a valid one round-trips through AppendInvoke.
func FuzzParseInvoke(f *testing.F) {
	f.Add(AppendInvoke(nil, 1, time.UnixMilli(1700000000000), "id", arn, "Root=1", []byte(`{"a":1}`))[4:])
	f.Add([]byte{'i'})
	f.Add(append([]byte{'i'}, make([]byte, 18)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := parseInvoke(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		again := AppendInvoke(nil, inv.seq, inv.deadline, inv.id, inv.arn, inv.trace, inv.payload)
		inv2, err := parseInvoke(again[4:])
		if err != nil || inv2.seq != inv.seq || !inv2.deadline.Equal(inv.deadline) || inv2.id != inv.id ||
			inv2.arn != inv.arn || inv2.trace != inv.trace || !bytes.Equal(inv2.payload, inv.payload) {
			t.Fatalf("round trip: %+v, %v; want %+v", inv2, err, inv)
		}
	})
}
