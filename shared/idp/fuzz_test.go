package idp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

func FuzzErrorCode(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_grant"}`,
		`{"error":"unsupported_token_type","error_description":"x"}`,
		`{"error":42}`,
		`{"error":"a\nb"}`,
		`not json`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code := errorCode(body)
		if len(code) > maxErrorCode {
			t.Fatalf("errorCode = %q: longer than %d", code, maxErrorCode)
		}
		if SafeErrorCode(code) != code {
			t.Fatalf("errorCode = %q: not sanitized", code)
		}
	})
}

// FuzzExchangeResponse feeds arbitrary token endpoint answers through the
// real x/oauth2 client: Exchange must never panic, must succeed only with an
// id_token, and must classify every failure as exactly one sentinel with a
// short message (so a response body can never end up in a log).
func FuzzExchangeResponse(f *testing.F) {
	f.Add(200, "application/json", `{"id_token":"i","access_token":"a","expires_in":3600}`)
	f.Add(200, "application/json", `{"access_token":"a"}`)
	f.Add(400, "application/json", `{"error":"invalid_grant"}`)
	f.Add(401, "application/json", `{"error":"invalid_client"}`)
	f.Add(500, "text/html", `<h1>oops</h1>`)
	f.Add(200, "application/x-www-form-urlencoded", `id_token=i&access_token=a&expires_in=9`)
	f.Add(200, "text/plain", `%zz`)

	type answer struct {
		status      int
		ctype, body string
	}
	var (
		answers sync.Map // code -> answer; codes are unique per call
		n       atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := answers.Load(r.FormValue("code"))
		a := v.(answer)
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	defer srv.Close()
	p, err := New(Config{
		ClientID:  testClientID,
		Endpoints: configEndpoints(srv.URL),
		Scopes:    []string{"openid"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, ctype, body string) {
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		code := "code-" + strconv.FormatInt(n.Add(1), 10)
		answers.Store(code, answer{status, ctype, body})
		defer answers.Delete(code)
		tok, err := p.Exchange(context.Background(), code, testVerifier, testRedirect)
		if err == nil {
			if tok == nil || tok.IDToken == "" || tok.AccessToken == "" {
				t.Fatalf("Exchange succeeded with %+v", tok)
			}
			return
		}
		matched := 0
		for _, s := range []error{ErrInvalidGrant, ErrRejected, ErrUnavailable} {
			if errors.Is(err, s) {
				matched++
			}
		}
		if matched != 1 {
			t.Fatalf("error %v matches %d sentinels, want 1", err, matched)
		}
		if len(err.Error()) > 256 {
			t.Fatalf("error message is %d bytes: %q", len(err.Error()), err)
		}
	})
}

func configEndpoints(tokenURL string) Endpoints {
	return Endpoints{Authorize: "https://idp.example/authorize", Token: tokenURL}
}
