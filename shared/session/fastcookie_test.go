package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// signRaw writes a signed value in securecookie's format with any date and
// payload bytes, which securecookie itself never would.
func signRaw(key []byte, name, date string, payload []byte) string {
	b := date + "|" + base64.URLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(name + "|" + b))
	return base64.URLEncoding.EncodeToString(append([]byte(b+"|"), m.Sum(nil)...))
}

// FuzzOpenSignedAgreesWithSecurecookie holds openSigned to
// securecookie.DecodeMulti over the store's signed codecs (two keys, for
// rotation): the same values open, to the same bytes. value is a cookie
// value as sent; with mode odd it is instead signed with the second key
// around date and payload, so that the MAC holds and what follows it is
// explored.
func FuzzOpenSignedAgreesWithSecurecookie(f *testing.F) {
	s := newStore(f, &clock{t0}, keyPair(1), keyPair(2))
	name := s.SessionName()
	c, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Value, "", []byte(nil), uint8(0))
	f.Add(c.Value[:len(c.Value)-2], "", []byte(nil), uint8(0))
	f.Add(c.Value+"=", "", []byte(nil), uint8(0))
	f.Add("", "", []byte(nil), uint8(0))
	f.Add("|||", "", []byte(nil), uint8(0))
	for _, date := range []string{"1767225600", "+1", "-1", "", "x", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1_000", "0x10", " 1"} {
		f.Add("", date, []byte(`{"sub":"a","x":1767229200}`), uint8(1))
	}
	f.Add("", "1", []byte("a|b|c"), uint8(1))
	f.Fuzz(func(t *testing.T, value, date string, payload []byte, mode uint8) {
		if mode&1 == 1 {
			value = signRaw(keyPair(2).Hash, name, date, payload)
		}
		got, gotOK := s.openSigned(name, value, nil)
		var want []byte
		wantErr := securecookie.DecodeMulti(name, value, &want, s.signed...)
		if gotOK != (wantErr == nil) || (gotOK && !bytes.Equal(got, want)) {
			t.Fatalf("openSigned(%q) = %q, %v; securecookie: %q, %v", value, got, gotOK, want, wantErr)
		}
	})
}

// A verified session value is served from the cache while it lasts: with
// the store's keys gone, only a hit can still open it, and a hit past the
// expiry is refused as a decode would be.
func TestSessionCacheHit(t *testing.T) {
	clk := &clock{t0}
	s := newStore(t, clk)
	c, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Minute), HasRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Session(request(c))
	if err != nil {
		t.Fatal(err)
	}
	macs := s.macs
	s.macs = nil // no key opens anything now
	second, err := s.Session(request(c))
	if err != nil || second.Identity.Subject != first.Identity.Subject {
		t.Fatalf("second Session = %+v, %v; want the cached session", second, err)
	}
	second.Identity.Groups[0] = "changed"
	second.Identity.Claims["custom:tenant"] = "changed"
	if third, _ := s.Session(request(c)); third.Identity.Groups[0] != "admins" || third.Identity.Claims["custom:tenant"] != "acme" {
		t.Errorf("a caller's change reached the cache: %+v", third.Identity)
	}
	clk.t = t0.Add(time.Minute)
	if _, err := s.Session(request(c)); !errors.Is(err, ErrInvalid) {
		t.Errorf("at expiry, without keys: %v, want ErrInvalid (no cache hit past the expiry)", err)
	}
	s.macs = macs
	if sess, err := s.Session(request(c)); !errors.Is(err, ErrExpired) || !sess.HasRefresh {
		t.Errorf("at expiry: %+v, %v; want ErrExpired with the session", sess, err)
	}
}

// The cache is keyed by the exact value: a value differing in one byte is
// checked afresh, and so refused, however often the genuine one was seen.
func TestSessionCacheExactValue(t *testing.T) {
	s := newStore(t, &clock{t0})
	c, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(request(c)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(c.Value); i += 7 {
		v := []byte(c.Value)
		v[i] ^= 1
		if _, err := s.Session(edge.Cookies{{Name: s.SessionName(), Value: string(v)}}); err == nil {
			t.Fatalf("a value changed at byte %d passed", i)
		}
	}
	if _, err := s.Session(edge.Cookies{{Name: s.RefreshName(), Value: c.Value}}); !errors.Is(err, ErrNoSession) {
		t.Errorf("the session value under another name: %v, want ErrNoSession", err)
	}
}

// The cache holds at most SessionCacheSize values, and none when disabled.
func TestSessionCacheBound(t *testing.T) {
	for _, tc := range []struct{ size, want int }{{2, 2}, {-1, 0}} {
		cfg := testConfig(&clock{t0})
		cfg.SessionCacheSize = tc.size
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			id := testIdentity()
			id.Subject = fmt.Sprint("user-", i)
			c, err := s.EncodeSession(Session{Identity: id, Expiry: t0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.Session(request(c)); err != nil || got.Identity.Subject != id.Subject {
				t.Fatalf("Session = %+v, %v", got, err)
			}
		}
		n := 0
		if s.sessions != nil {
			n = s.sessions.Len()
		}
		if n != tc.want {
			t.Errorf("size %d: %d entries, want %d", tc.size, n, tc.want)
		}
	}
}

// With two session values (a host-only and a Domain cookie, say), the first
// that opens wins, cached or not.
func TestSessionCacheKeepsCookieOrder(t *testing.T) {
	s := newStore(t, &clock{t0})
	mk := func(sub string) *http.Cookie {
		id := testIdentity()
		id.Subject = sub
		c, err := s.EncodeSession(Session{Identity: id, Expiry: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := mk("a"), mk("b")
	if got, _ := s.Session(request(b)); got.Identity.Subject != "b" {
		t.Fatal(got)
	}
	if got, _ := s.Session(request(a, b)); got.Identity.Subject != "a" {
		t.Errorf("Session(a, b) with b cached = %q, want a", got.Identity.Subject)
	}
}
