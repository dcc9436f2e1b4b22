package suitetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Introspection is a real RFC 7662 endpoint on loopback for tests: it
// answers each token with what Set gave it ({"active":false} for any
// other), or with a status, or not until released, and counts its calls.
// It records each call's Basic user and password and token_type_hint.
type Introspection struct {
	*httptest.Server
	calls atomic.Int64

	mu      sync.Mutex
	answers map[string][]byte
	status  int
	hold    chan struct{}
	seen    []string
}

// NewIntrospection starts the endpoint; the test's cleanup stops it.
func NewIntrospection(t testing.TB) *Introspection {
	t.Helper()
	in := &Introspection{answers: map[string][]byte{}}
	in.Server = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.Close)
	return in
}

func (in *Introspection) serve(w http.ResponseWriter, r *http.Request) {
	in.calls.Add(1)
	user, pass, _ := r.BasicAuth()
	in.mu.Lock()
	in.seen = append(in.seen, user+":"+pass+" "+r.PostFormValue("token_type_hint"))
	a, ok := in.answers[r.PostFormValue("token")]
	status, hold := in.status, in.hold
	in.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if !ok {
		a = []byte(`{"active":false}`)
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
	}
	_, _ = w.Write(a)
}

// Set makes the endpoint answer token with answer as JSON.
func (in *Introspection) Set(token string, answer map[string]any) {
	b, err := json.Marshal(answer)
	if err != nil {
		panic(err) // a test's own map
	}
	in.SetRaw(token, b)
}

// SetRaw makes the endpoint answer token with body as it is.
func (in *Introspection) SetRaw(token string, body []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.answers[token] = body
}

// SetStatus makes every answer carry status (0: 200).
func (in *Introspection) SetStatus(status int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.status = status
}

// Hold makes answers wait until the returned release is called (or the
// caller gives up).
func (in *Introspection) Hold() (release func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	ch := make(chan struct{})
	in.hold = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// Calls counts the requests served.
func (in *Introspection) Calls() int64 { return in.calls.Load() }

// Seen lists each call's "user:password token_type_hint".
func (in *Introspection) Seen() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.seen...)
}
