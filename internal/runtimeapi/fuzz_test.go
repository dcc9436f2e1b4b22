package runtimeapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzReadError: whatever a child posts as an error document, readError
// returns a typed error with a non-empty type and never panics.
func FuzzReadError(f *testing.F) {
	f.Add(`{"errorMessage":"boom","errorType":"errorString"}`, "")
	f.Add(`not json`, "Runtime.Unknown")
	f.Add(``, "")
	f.Add(`{"errorType":""}`, "X")
	f.Fuzz(func(t *testing.T, body, header string) {
		r := httptest.NewRequest("POST", "/2018-06-01/runtime/invocation/x/error", strings.NewReader(body))
		if validHeader(header) {
			r.Header.Set("Lambda-Runtime-Function-Error-Type", header)
		}
		fe := readError(r)
		if fe == nil || fe.Type == "" {
			t.Fatalf("readError(%q) = %+v, want a type", body, fe)
		}
	})
}

func validHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
