package verifier

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testtoken"
)

const (
	testIss    = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
	testClient = "client-abc"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newCachingVerifier(t *testing.T, size int) (*Verifier, *testtoken.Minter) {
	t.Helper()
	m := testtoken.Keys(t)
	v, err := New(Config{
		Issuer: testIss, ClientID: testClient, Cognito: true, JWKS: m.JWKS(),
		Now: func() time.Time { return testNow }, CacheSize: size,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, m
}

// TestCacheHit proves the second Verify is served from the cache: with the
// keys gone, only a cache hit can still succeed.
func TestCacheHit(t *testing.T) {
	v, m := newCachingVerifier(t, 0)
	tok := m.Sign(t, testtoken.CognitoAccess(testIss, testClient, "u", []string{"g"}, testNow.Add(time.Hour)))
	first, err := v.Verify(context.Background(), tok, UseAccess)
	if err != nil {
		t.Fatal(err)
	}
	v.keys = nil
	second, err := v.Verify(context.Background(), tok, UseAccess)
	if err != nil {
		t.Fatalf("Verify of a cached token = %v, want a cache hit", err)
	}
	if first == second {
		t.Error("cache returned the same pointer twice, want a copy each time")
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("cached identity = %+v, want %+v", second, first)
	}
	if _, err := v.Verify(context.Background(), tok, UseAny); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify with another use = %v, want a miss (ErrUnknownKey with no keys)", err)
	}
}

func TestCacheEvictionBound(t *testing.T) {
	const size = 3
	v, m := newCachingVerifier(t, size)
	var toks []string
	for i := range 10 {
		toks = append(toks, m.Sign(t, testtoken.CognitoAccess(testIss, testClient, fmt.Sprint("user-", i), nil, testNow.Add(time.Hour))))
		if _, err := v.Verify(context.Background(), toks[i], UseAccess); err != nil {
			t.Fatal(err)
		}
		if n := v.cache.len(); n > size {
			t.Fatalf("cache holds %d entries, bound is %d", n, size)
		}
	}
	if n := v.cache.len(); n != size {
		t.Errorf("cache holds %d entries, want %d", n, size)
	}
	v.keys = nil
	for i, tok := range toks {
		_, err := v.Verify(context.Background(), tok, UseAccess)
		if hit := err == nil; hit != (i >= len(toks)-size) {
			t.Errorf("token %d: cache hit = %v, want hit only for the last %d", i, hit, size)
		}
	}
}

func TestCacheDisabled(t *testing.T) {
	v, _ := newCachingVerifier(t, -1)
	if v.cache != nil {
		t.Fatal("CacheSize -1: cache is on")
	}
}

// TestCacheNeverServesExpired checks the cache on its own: an entry at or
// past its exp is a miss and is dropped, and an expired identity is not stored.
func TestCacheNeverServesExpired(t *testing.T) {
	c := newCache(4)
	exp := testNow.Add(time.Minute)
	k := cacheKey{use: UseAccess}
	c.put(k, &Identity{Subject: "u", Expiry: exp}, testNow)
	tests := []struct {
		at   time.Time
		want bool
	}{
		{testNow, true},
		{exp.Add(-time.Nanosecond), true},
		{exp, false},
		{exp.Add(-time.Second), false}, // dropped at exp
	}
	for _, tt := range tests {
		if _, got := c.get(k, tt.at); got != tt.want {
			t.Errorf("get at %v = %v, want %v", tt.at, got, tt.want)
		}
	}
	c.put(k, &Identity{Subject: "u", Expiry: exp}, exp)
	if c.len() != 0 {
		t.Error("an already expired identity was stored")
	}
}
