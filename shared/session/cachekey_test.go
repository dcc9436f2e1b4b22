package session

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// TestSessionCacheKeepsOnlyTheValue: a cookie value is a substring of the
// request's Cookie header (edge.Request.Cookies does not copy), so a cache
// entry keyed by it would keep the whole header alive, some 20 KB a request
// may carry, for as long as the entry lives. The cache must key by a copy.
func TestSessionCacheKeepsOnlyTheValue(t *testing.T) {
	s := newStore(t, &clock{t0})
	c, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	freed := make(chan struct{})
	func() {
		// The header as a request brings it: one allocation, other cookies
		// around the session's.
		b := []byte("pad=" + strings.Repeat("x", 16<<10) + "; " + c.Name + "=" + c.Value + "; theme=dark")
		header := string(b)
		runtime.AddCleanup(unsafe.StringData(header), func(ch chan struct{}) { close(ch) }, freed)
		req := &edge.Request{Method: http.MethodGet, URI: "/", Headers: edge.Headers{}}
		req.Headers.Set("Cookie", header)
		if _, err := s.Session(req.Cookies()); err != nil {
			t.Fatal(err)
		}
	}()
	if s.sessions.Len() != 1 {
		t.Fatalf("cache holds %d entries, want the one session", s.sessions.Len())
	}
	for range 20 {
		runtime.GC()
		select {
		case <-freed:
			runtime.KeepAlive(s)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the request's Cookie header is still reachable after the request: the session cache keeps it")
}
