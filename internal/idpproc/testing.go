package idpproc

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogger logs every record, debug included, to t.Log.
func TestLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// StartForTest runs start (bounded by 30s within ctx) for a test, failing
// it on an error, and closes what it started in t.Cleanup; name prefixes
// the failures ("dex" gives "dex.Start: …" and "dex.Close: …").
func StartForTest[S io.Closer](ctx context.Context, t testing.TB, name string, start func(context.Context) (S, error)) S {
	t.Helper()
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := start(startCtx)
	if err != nil {
		t.Fatalf("%s.Start: %v", name, err)
	}
	// Close waits for the child to exit, so nothing logs after the test ends.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("%s.Close: %v", name, err)
		}
	})
	return s
}
