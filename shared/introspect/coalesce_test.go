package introspect

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/shared/verifier"
)

// gate is a provider that answers only when released, counting calls.
type gate struct {
	calls   atomic.Int64
	release chan struct{}
}

func (g *gate) Introspect(ctx context.Context, token string) (map[string]any, error) {
	g.calls.Add(1)
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return map[string]any{"active": true, "token_type": "Bearer", "aud": "api", "sub": "u"}, nil
}

// TestConcurrentMissesCoalesce: checks of one token that all miss the
// cache share one call.
func TestConcurrentMissesCoalesce(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	c, err := New(Config{
		Provider: g, Issuer: "https://id.example", Audiences: []string{"api"},
		Read: func(m map[string]any) *verifier.Identity {
			s, _ := m["sub"].(string)
			return &verifier.Identity{Subject: s}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			id, err := c.Check(context.Background(), "same")
			if err == nil && id.Subject != "u" {
				t.Errorf("identity %+v", id)
			}
			errs <- err
		})
	}
	// Wait until one call is in flight and the others wait for it; the
	// checks need the scheduler, not the clock.
	deadline := time.Now().Add(10 * time.Second)
	for c.waiting("same") != n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d checks waiting, want %d", c.waiting("same"), n-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := g.calls.Load(); got != 1 {
		t.Errorf("%d concurrent checks made %d calls, want 1", n, got)
	}
}
