package localedge

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// testNow pins the clock, so the log's duration is a fixed 0.
func testNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

const siteDir = "../../testdata/localedge/site"

// logBuffer collects the JSON log lines; the server writes from handler
// goroutines, so it locks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines decodes every log line.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// last returns the last request line.
func (b *logBuffer) last(t *testing.T) map[string]any {
	t.Helper()
	ls := b.lines(t)
	if len(ls) == 0 {
		t.Fatal("no log line written")
	}
	return ls[len(ls)-1]
}

type edgeEnv struct {
	srv  *httptest.Server
	logs *logBuffer
}

// newEdge serves a Server built from cfg and funcs on 127.0.0.1.
func newEdge(t *testing.T, cfg *Config, funcs map[string]Function) *edgeEnv {
	t.Helper()
	logs := &logBuffer{}
	s, err := New(cfg, funcs, slog.New(slog.NewJSONHandler(logs, nil)), WithClock(testNow))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &edgeEnv{srv: srv, logs: logs}
}

// dirConfig routes everything through function "f" to the test site.
func dirConfig(eventType string) *Config {
	return &Config{
		Behaviors: []Behavior{{PathPattern: "*", Function: "f", EventType: eventType}},
		Origin:    Origin{Dir: siteDir},
	}
}

// passThrough returns the request unchanged.
func passThrough(_ context.Context, ev edge.Event) (edge.Result, error) {
	req, _, err := ev.Request()
	if err != nil {
		return edge.Result{}, err
	}
	return edge.Continue(req), nil
}

// modify returns a Function that edits the request and passes it on.
func modify(edit func(r *edge.Request)) Function {
	return func(_ context.Context, ev edge.Event) (edge.Result, error) {
		req, _, err := ev.Request()
		if err != nil {
			return edge.Result{}, err
		}
		edit(req)
		return edge.Continue(req), nil
	}
}

// respond returns a Function that answers with resp.
func respond(resp *edge.Response) Function {
	return func(context.Context, edge.Event) (edge.Result, error) { return edge.Respond(resp), nil }
}

type response struct {
	code   int
	header http.Header
	body   string
}

// do sends one request and reads the whole answer.
func do(t *testing.T, method, url string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}
