package session

import (
	"bytes"
	"compress/flate"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/shared/verifier"
)

var update = flag.Bool("update", false, "update goldens instead of checking against them")

// The session cookie's bytes are a contract with every browser that holds
// one: a change to them signs everyone out. The goldens under
// testdata/golden were written by the code as it stood before the cookie's
// wire type moved out of verifier.Identity, and must keep matching.
//
// securecookie stamps each value with the wall clock, which it does not let
// callers set, so the test reads and writes the format itself (written apart
// from securecookie, so that it pins the format rather than the library):
// base64url("<unix time>|" base64url(payload) "|" HMAC-SHA256(hash key,
// "<name>|<unix time>|" base64url(payload))).

// goldenIdentity has every field the cookie keeps.
func goldenIdentity() verifier.Identity {
	return verifier.Identity{
		Subject:  "3f1c2a9e-7b4d-4e21-9c55-0d6c1b2e8a41",
		Username: "alice",
		Email:    "alice@example.com",
		Groups:   []string{"admins", "staff"},
		Scopes:   []string{"openid", "https://api.example.com/read"},
		Claims:   map[string]string{"custom:tenant": "acme", "sub": "3f1c2a9e-7b4d-4e21-9c55-0d6c1b2e8a41"},
	}
}

// openCookie checks value's MAC with hashKey and returns its timestamp and
// payload.
func openCookie(t *testing.T, name, value string, hashKey []byte) (int64, []byte) {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		t.Fatalf("cookie value is not base64url: %v", err)
	}
	parts := bytes.SplitN(raw, []byte("|"), 3)
	if len(parts) != 3 {
		t.Fatalf("cookie value has %d parts, want date|value|mac", len(parts))
	}
	mac := hmac.New(sha256.New, hashKey)
	fmt.Fprintf(mac, "%s|%s|%s", name, parts[0], parts[1])
	if !hmac.Equal(mac.Sum(nil), parts[2]) {
		t.Fatal("cookie MAC does not verify")
	}
	ts, err := strconv.ParseInt(string(parts[0]), 10, 64)
	if err != nil {
		t.Fatalf("cookie timestamp %q: %v", parts[0], err)
	}
	payload, err := base64.URLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		t.Fatalf("cookie payload is not base64url: %v", err)
	}
	return ts, payload
}

// sealCookie is the signed (unencrypted) cookie value for payload under name
// at timestamp ts.
func sealCookie(name string, ts int64, payload, hashKey []byte) string {
	body := fmt.Sprintf("%d|%s", ts, base64.URLEncoding.EncodeToString(payload))
	mac := hmac.New(sha256.New, hashKey)
	fmt.Fprintf(mac, "%s|%s", name, body)
	return base64.URLEncoding.EncodeToString(append([]byte(body+"|"), mac.Sum(nil)...))
}

func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to write it)", err)
	}
	return want
}

func TestSessionCookieGolden(t *testing.T) {
	for _, tt := range []struct {
		name       string
		groups     []string
		compressed bool
	}{
		{"session", goldenIdentity().Groups, false},
		// Many groups take the DEFLATE path. Compressed bytes may differ
		// between Go releases; the JSON inside and the decoding may not.
		{"session-compressed", groups(100, func(i int) string { return fmt.Sprintf("us-east-1_AbCdEf123_engineering-team-%03d", i)[:40] }), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key := keyPair(1)
			s := newStore(t, &clock{t0}, key)
			id := goldenIdentity()
			id.Groups = tt.groups
			want := Session{Identity: id, Expiry: t0.Add(time.Hour), HasRefresh: true}
			c, err := s.EncodeSession(want)
			if err != nil {
				t.Fatal(err)
			}

			// 1. What the cookie holds, byte for byte.
			_, payload := openCookie(t, c.Name, c.Value, key.Hash)
			if tt.compressed != (payload[0] == deflated) {
				t.Fatalf("payload compressed = %v, want %v", payload[0] == deflated, tt.compressed)
			}
			plain := payload
			if tt.compressed {
				plain, err = io.ReadAll(flate.NewReader(bytes.NewReader(payload[1:])))
				if err != nil {
					t.Fatal(err)
				}
			}
			if wantJSON := golden(t, tt.name+"-payload.json", plain); !bytes.Equal(plain, wantJSON) {
				t.Errorf("session JSON changed:\n got %s\nwant %s", plain, wantJSON)
			}

			// 2. The whole Set-Cookie line, with the golden's timestamp.
			wantLine := string(golden(t, tt.name+".txt", []byte(c.String()+"\n")))
			goldenCookie, err := http.ParseSetCookie(strings.TrimSpace(wantLine))
			if err != nil {
				t.Fatal(err)
			}
			goldenTS, goldenPayload := openCookie(t, goldenCookie.Name, goldenCookie.Value, key.Hash)
			if !tt.compressed {
				resealed := *c
				resealed.Value = sealCookie(c.Name, goldenTS, payload, key.Hash)
				if got := resealed.String() + "\n"; got != wantLine {
					t.Errorf("Set-Cookie changed:\n got %s\nwant %s", got, wantLine)
				}
			} else if !bytes.Equal(payload, goldenPayload) {
				t.Logf("compressed bytes differ from the golden's (a different flate?); the JSON above is what counts")
			}

			// 3. A cookie written by the old code still reads as the same
			// session.
			got, err := s.Session(request(goldenCookie))
			if err != nil {
				t.Fatalf("Session(golden cookie) = %v", err)
			}
			want.Identity.Expiry = want.Expiry
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Session(golden cookie) =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}
