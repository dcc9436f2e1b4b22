package localedge

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// FuzzCheckResult feeds arbitrary function output through the decoding and
// the rules the edge applies to it: no panic, and whatever passes is safe
// to write (a status in range, header values without line breaks).
func FuzzCheckResult(f *testing.F) {
	f.Add([]byte(`{"status":"302","headers":{"location":[{"key":"Location","value":"/"}]}}`))
	f.Add([]byte(`{"status":"200","body":"aGk=","bodyEncoding":"base64"}`))
	f.Add([]byte(`{"clientIp":"127.0.0.1","method":"GET","uri":"/x","querystring":"a=%2F&b","headers":{"host":[{"key":"Host","value":"localhost:8080"}]}}`))
	f.Add([]byte(`{"status":200}`))
	f.Add([]byte(`null`))
	sent := &edge.Request{
		ClientIP: "127.0.0.1", Method: "GET", URI: "/x",
		Headers: edge.Headers{"host": {{Key: "Host", Value: "localhost:8080"}}},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var res edge.Result
		if err := json.Unmarshal(b, &res); err != nil {
			return
		}
		switch {
		case res.Response != nil:
			code, _, err := checkResponse(res.Response, ViewerRequest)
			if err != nil {
				return
			}
			if code < 200 || code > 599 {
				t.Fatalf("accepted status %d", code)
			}
			for _, entries := range res.Response.Headers {
				for _, e := range entries {
					if !validValue(e.Value) {
						t.Fatalf("accepted header value %q", e.Value)
					}
				}
			}
		case res.Request != nil:
			if res.Request.Headers == nil {
				res.Request.Headers = edge.Headers{}
			}
			if err := checkRequest(sent, res.Request, ViewerRequest); err != nil {
				return
			}
			in := httptest.NewRequest("GET", "/x", nil)
			if _, err := toHTTP(in, res.Request); err != nil {
				if _, ok := err.(*RuleError); !ok {
					t.Fatalf("toHTTP error %v is not a rule breach", err)
				}
			}
		}
	})
}

func BenchmarkServeGenerated(b *testing.B) {
	s, err := New(dirConfig(ViewerRequest), map[string]Function{"f": respond(edge.Redirect("/login", true))}, nil, WithClock(testNow))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	req := httptest.NewRequest("GET", "http://localhost:8080/page?a=1", nil)
	req.Header.Set("Cookie", "a=1; b=2")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 302 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
