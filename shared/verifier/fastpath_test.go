package verifier

import (
	"encoding/base64"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testtoken"
)

const (
	diffCognitoIss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
	diffOIDCIss    = "http://127.0.0.1:5556/dex"
	diffAPI        = "https://api.example.test"
)

// diffNow is half a second past a whole second, so that the fast path's
// date comparisons meet jwx's without truncation on both sides.
var diffNow = time.Date(2026, 1, 1, 0, 0, 0, 5e8, time.UTC)

// differential is the fixture of FuzzFastPathAgreesWithJWX: keys of three
// kinds and verifiers for Cognito, typed OIDC and untyped OIDC tokens.
type differential struct {
	keys      []*testtoken.Key // rs, es, ed
	verifiers []*Verifier
}

func newDifferential(t testing.TB) *differential {
	rs := testtoken.NewKey(t, testtoken.KeyID1, "RS256")
	es := testtoken.NewKey(t, "es", "ES256")
	ed := testtoken.NewKey(t, "ed", "EdDSA")
	jwks := testtoken.JWKSOf(t, rs.JWK(true), es.JWK(true), ed.JWK(false))
	algs := []string{"RS256", "ES256", "EdDSA"}
	clock := func() time.Time { return diffNow }
	d := &differential{keys: []*testtoken.Key{rs, es, ed}}
	for _, cfg := range []Config{
		{Issuer: diffCognitoIss, ClientID: "client-abc", Cognito: true},
		{Issuer: diffOIDCIss, ClientID: "client-abc", Audiences: []string{diffAPI, "client-abc"}, GroupsClaim: "realm_access.roles", ClaimPaths: []string{"tenant.id", "/a~1b"}},
		{Issuer: diffOIDCIss, ClientID: "client-abc", Audiences: []string{diffAPI}, UntypedAccessTokens: true, GroupsClaim: "roles"},
	} {
		cfg.Algorithms, cfg.JWKS, cfg.ClockSkew, cfg.Now, cfg.CacheSize = algs, jwks, 30*time.Second, clock, -1
		v, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		d.verifiers = append(d.verifiers, v)
	}
	return d
}

// encodings are the base64 variants a segment is written in (jwx reads
// all four; the fast path only the first).
var encodings = []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding}

// token builds the fuzz case: mode's low two bits pick the signing key (3:
// header is the whole raw token, claims unused), the next two the
// header's encoding, the next two the payload's.
func (d *differential) token(t testing.TB, header, claims string, mode uint8) string {
	if mode&3 == 3 {
		return header
	}
	k := d.keys[mode&3]
	input := encodings[(mode>>2)&3].EncodeToString([]byte(header)) + "." + encodings[(mode>>4)&3].EncodeToString([]byte(claims))
	return input + "." + k.SignInput(t, input)
}

// check runs raw through both paths of every verifier for every use and
// fails on any difference: accept or refuse, the reason, the identity.
func (d *differential) check(t *testing.T, raw string) {
	if raw == "" || len(raw) > MaxTokenSize {
		return
	}
	buf := []byte(raw)
	for i, v := range d.verifiers {
		for _, use := range []TokenUse{UseID, UseAccess, UseAny} {
			gotID, gotErr := v.verify(buf, use)
			wantID, wantErr := v.verifyJWX(buf, use)
			if (gotErr == nil) != (wantErr == nil) || Reason(gotErr) != Reason(wantErr) {
				t.Fatalf("verifier %d, use %s, token %q:\nfast path: %v\njwx:       %v", i, use, raw, gotErr, wantErr)
			}
			if !reflect.DeepEqual(gotID, wantID) {
				t.Fatalf("verifier %d, use %s, token %q:\nfast path identity %+v\njwx identity       %+v", i, use, raw, gotID, wantID)
			}
		}
	}
}

// diffSeeds are header and claims pairs with every shape the verifier's
// tests forge, and the ones where a second JSON reader could differ.
func diffSeeds() [][2]string {
	exp, iat := "1767229200", "1767225000" // an hour after diffNow; before it
	// object writes members in order; a later member of the same name
	// replaces an earlier one, and one with the value "-" removes it, so
	// that a seed changes a claim without duplicating it. extra is appended
	// as written (duplicates on purpose).
	object := func(base []string, extra string, kv ...string) string {
		members := slices.Clone(base)
		for i := 0; i+1 < len(kv); i += 2 {
			j := slices.Index(members, kv[i])
			switch {
			case j >= 0 && j%2 == 0 && kv[i+1] == "-":
				members = slices.Delete(members, j, j+2)
			case j >= 0 && j%2 == 0:
				members[j+1] = kv[i+1]
			default:
				members = append(members, kv[i], kv[i+1])
			}
		}
		var b strings.Builder
		b.WriteByte('{')
		for i := 0; i < len(members); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + members[i] + `":` + members[i+1])
		}
		return b.String() + extra + "}"
	}
	oidcBase := []string{"iss", `"` + diffOIDCIss + `"`, "sub", `"user-9"`, "aud", `"` + diffAPI + `"`, "exp", exp, "iat", iat,
		"client_id", `"client-abc"`, "scope", `"api:read write"`, "realm_access", `{"roles":["a","b"]}`, "tenant", `{"id":"t1"}`, "email", `"u@example.test"`}
	cognitoBase := []string{"iss", `"` + diffCognitoIss + `"`, "sub", `"5f3b"`, "token_use", `"access"`, "client_id", `"client-abc"`, "exp", exp, "iat", iat,
		"cognito:groups", `["admins","staff"]`, "username", `"alice"`, "jti", `"j1"`}
	claims := func(kv ...string) string { return object(oidcBase, "", kv...) }
	cognito := func(kv ...string) string { return object(cognitoBase, "", kv...) }
	dup := func(extra string) string { return object(oidcBase, extra) }
	idToken := `{"iss":"` + diffOIDCIss + `","sub":"user-2","aud":"client-abc","exp":` + exp + `,"nonce":"n-1","email":"e@x","groups":["devs"]}`
	h := func(kv string) string { return `{` + kv + `}` }
	var s [][2]string
	for _, hdr := range []string{
		h(`"alg":"RS256","kid":"test-key-1"`), h(`"alg":"ES256","kid":"es"`), h(`"alg":"EdDSA","kid":"ed"`),
		h(`"alg":"EdDSA","kid":"ed","typ":"at+jwt"`), h(`"alg":"ES256","kid":"es","typ":"AT+JWT"`),
		h(`"alg":"EdDSA","kid":"ed","typ":"application/at+jwt"`), h(`"alg":"EdDSA","kid":"ed","typ":"JWT"`),
		h(`"alg":"EdDSA","kid":"ed","typ":"jwt"`), h(`"alg":"EdDSA","kid":"ed","typ":"foo"`), h(`"alg":"EdDSA","kid":"ed","typ":1`),
		h(`"alg":"none","kid":"ed"`), h(`"alg":"HS256","kid":"test-key-1"`), h(`"alg":"RS512","kid":"test-key-1"`),
		h(`"alg":"ES256","kid":"ed"`), h(`"alg":"EdDSA"`), h(`"alg":"EdDSA","kid":"nope"`), h(`"alg":"EdDSA","kid":1`),
		h(`"kid":"ed"`), h(`"alg":1,"kid":"ed"`), h(`"alg":"EdDSA","kid":"ed","crit":["exp"]`), h(`"alg":"EdDSA","kid":"ed","b64":false`),
		h(`"alg":"EdDSA","kid":"ed","jku":"https://evil.example/jwks"`), h(`"alg":"EdDSA","kid":"ed","x5u":"https://evil.example/x"`),
		h(`"alg":"none","alg":"EdDSA","kid":"ed"`), h(`"alg":"EdDSA","alg":"none","kid":"ed"`), h(`"alg":"EdDSA","kid":"ed","kid":"es"`),
		h(`"alg":"Ed\u0044SA","kid":"ed"`), ` {"alg":"EdDSA","kid":"ed"} `, `{"alg":"EdDSA","kid":"ed"`, `[]`, ``,
	} {
		s = append(s, [2]string{hdr, claims()})
	}
	edTyped := h(`"alg":"EdDSA","kid":"ed","typ":"at+jwt"`)
	for _, c := range []string{
		claims(), cognito(), idToken, cognito("token_use", `"id"`, "aud", `"client-abc"`),
		claims("nonce", `"x"`), claims("at_hash", `null`), claims("c_hash", `1`), claims("s_hash", `"s"`),
		claims("token_use", `"id"`), claims("token_use", `1`), claims("token_use", `null`), claims("token_use", `"refresh"`),
		claims("exp", `"x"`), claims("exp", `1e10`), claims("exp", `17672292e2`), claims("exp", `1767229200.5`), claims("exp", `1767225600.9999999999`),
		claims("exp", `1767225600.4`), claims("exp", `"1767229200"`), claims("exp", `-1`), claims("exp", `0`), claims("exp", `null`),
		claims("exp", `99999999999999999999`), claims("exp", `1e400`), claims("exp", `01767229200`),
		claims("nbf", `1767225630`), claims("nbf", `1767225631`), claims("iat", `1767225631`), claims("iat", `"x"`),
		claims("exp", `1767225630`), claims("exp", `1767225629`), claims("exp", `1767225631`, "iss", `"x"`),
		claims("aud", `["`+diffAPI+`"]`), claims("aud", `["client-abc"]`), claims("aud", `[]`), claims("aud", `[1]`),
		claims("aud", `["a",null]`), claims("aud", `1`), claims("aud", `null`), claims("aud", `{"x":1}`),
		claims("iss", `null`), claims("iss", `1`), claims("iss", `"`+diffOIDCIss+`/"`), claims("sub", `null`), claims("sub", `""`), claims("sub", `1`),
		claims("jti", `1`), claims("jti", `""`), claims("huge", `1e400`), claims("big", `123456789012345678901234567890`),
		claims("e\\u0078p", `1`), claims("sub", `"other"`), claims("Sub", `"x"`, "EXP", `"y"`), claims("kty", `"RSA"`), claims("KEYS", `[]`),
		claims("Ciphertext", `"x"`), claims("payload", `"x"`, "signatures", `[]`), claims("payload", `"x"`), claims("name", `"Jos\u00e9"`, "n2", `"José"`),
		claims("bad", `"`+"\xff\xfe"+`"`), claims("ctl", `"a\u0000b"`), claims("roles", `{"r1":{},"r2":true}`), claims("scp", `["a","b"]`),
		claims("/a/b", `"slash"`, "a/b", `"x"`, "cognito:username", `"cu"`), claims() + ` `, ` ` + claims(), claims() + `x`, claims() + `{}`,
		dup(`,"exp":"x"`), dup(`,"iat":1767225631`), dup(`,"sub":"other"`), dup(`,"aud":1`),
		object(oidcBase, `,"exp":"x","exp":`+exp, "exp", "-"), object(oidcBase, `,"iss":1,"iss":"`+diffOIDCIss+`"`, "iss", "-"),
		claims("exp", "-"), claims("iss", "-"), claims("sub", "-"), claims("aud", "-"), claims("aud", "-", "iat", "-"),
		`[]`, `null`, `"x"`, `1`, `{}`, `{"a":{"b":{"c":[[[]]]}}}`, `eyJhbGciOiJFZERTQSIsImtpZCI6ImVkIn0.e30.`,
	} {
		s = append(s, [2]string{edTyped, c}, [2]string{h(`"alg":"EdDSA","kid":"ed"`), c})
	}
	return s
}

// FuzzFastPathAgreesWithJWX holds the fast path to the jwx path: on
// arbitrary headers and claims, signed by a pinned key (or not at all, as
// raw tokens), both must accept or refuse alike, for the same reason, with
// the same identity, for every verifier and every use.
func FuzzFastPathAgreesWithJWX(f *testing.F) {
	d := newDifferential(f)
	for i, s := range diffSeeds() {
		f.Add(s[0], s[1], uint8(2)) // Ed25519, canonical encoding
		if i%7 == 0 {
			f.Add(s[0], s[1], uint8(2|1<<2|2<<4)) // padded header, std payload
		}
	}
	ed := `{"alg":"EdDSA","kid":"ed"}`
	for _, c := range diffSeeds()[:3] {
		f.Add(c[0], c[1], uint8(0)) // RSA
		f.Add(c[0], c[1], uint8(1)) // ES256
	}
	for _, raw := range []string{"...", "..", ".", "a.b.c", "a.b.c.d", "!!!.e30.x", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkIn0.e30.AAAA",
		d.token(f, ed, diffSeeds()[0][1], 2) + "=", d.token(f, ed, diffSeeds()[0][1], 2) + ".x"} {
		f.Add(raw, "", uint8(3))
	}
	f.Fuzz(func(t *testing.T, header, claims string, mode uint8) {
		d.check(t, d.token(t, header, claims, mode))
	})
}

// TestFastPathTakesTheCommonShape guards the point of the fast path: the
// tokens issuers send are decided by it, not handed to jwx.
func TestFastPathTakesTheCommonShape(t *testing.T) {
	d := newDifferential(t)
	untyped := d.verifiers[2]
	for mode, hdr := range []string{`{"alg":"RS256","kid":"test-key-1"}`, `{"kid":"es","alg":"ES256"}`, `{"alg":"EdDSA","kid":"ed","typ":"JWT"}`} {
		raw := d.token(t, hdr, diffSeeds()[0][1], uint8(mode))
		d.check(t, raw)
		id, handled, err := untyped.verifyFast([]byte(raw), UseAccess)
		if !handled || err != nil || id.Subject != "user-9" {
			t.Errorf("verifyFast(%s token) = %+v, handled %v, %v; want user-9 decided by the fast path", hdr, id, handled, err)
		}
	}
}

// BenchmarkVerifyFirstSeenJWX is BenchmarkVerifyFirstSeen/cognito-RS256 by
// the jwx path alone (jws.VerifyCompactFast and jwt.Parse), which the fast
// path replaced: the two compared in the same run.
func BenchmarkVerifyFirstSeenJWX(b *testing.B) {
	m := testtoken.Keys(b)
	tok := m.Sign(b, testtoken.CognitoAccess(diffCognitoIss, "client-abc", "5f3b1c2e-0d1a-4d7e-9b7a-2c1e0f9a8b7c",
		[]string{"admins", "staff", "readers", "writers"}, testNow.Add(time.Hour)))
	v, err := New(Config{Issuer: diffCognitoIss, ClientID: "client-abc", Cognito: true, JWKS: m.JWKS(),
		ClockSkew: 30 * time.Second, Now: func() time.Time { return testNow }, CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	buf := []byte(tok)
	floor := testtoken.NewFloorMeter(b, 2)
	defer floor.Report()
	b.ReportAllocs()
	for b.Loop() {
		floor.Tick()
		if _, err := v.verifyJWX(buf, UseAccess); err != nil {
			b.Fatal(err)
		}
	}
}
