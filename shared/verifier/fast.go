package verifier

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// The fast path verifies a first-seen token of the common shape with the
// standard library: the signature with the key's precomputed material, the
// claims with one decode into a map (decodeObject: what encoding/json would
// make of them, without reflection), and jwx's validation
// rules restated (iat, exp, nbf with the skew, then iss, then exp
// required, in jwx's order, so that a token that breaks two rules is
// refused for the same one). The header is read here only when it is a flat
// object of plain ASCII strings, where jwsbb (the jwx path's reader) reads
// it alike; any other header goes to jwx.
//
// It decides only what it reads exactly as jwx does; for anything else it
// says so (handled false) and the jwx path decides: a segment that is not
// canonical unpadded base64url (jwx also takes padded and standard
// base64), a payload that is not a JSON object starting at its first byte
// (jwx trims space, and reads a nested JWS), a duplicated top-level member
// name, escapes read (jwx reads members one by one and may fail on an early
// duplicate that a map decode would overwrite), members that make jwx
// guess another format (kty, keys, ciphertext, payload with signatures),
// and registered claims of unusual types (iss, sub or jti not a string, aud
// neither a string nor an array of strings, a date that is not a positive
// integer of at most 12 digits).
func (v *Verifier) verifyFast(buf []byte, use TokenUse) (id *Identity, handled bool, err error) {
	hdr, payload, sig, err := jwsbb.SplitCompact(buf)
	if err != nil {
		return nil, true, fmt.Errorf("%w: not a compact JWS: %w", ErrMalformed, err)
	}
	alg, kid, typ, crit, ok := readHeader(hdr)
	if !ok {
		return nil, false, nil
	}
	key, err := v.keyFor(alg, kid, true)
	if err != nil {
		return nil, true, err
	}
	// As jws.VerifyCompactFast: crit and b64 are refused, not understood.
	if crit {
		return nil, true, fmt.Errorf("%w: crit or b64 header", ErrSignature)
	}
	var sigBuf [512]byte // RSA-4096; larger signatures are decoded on the heap
	rawSig, ok := decodeSegment(sigBuf[:0], sig)
	if !ok {
		return nil, false, nil
	}
	if !key.verify(buf[:len(hdr)+1+len(payload)], rawSig) {
		return nil, true, fmt.Errorf("%w: signature does not verify with key %s", ErrSignature, key.alg)
	}
	claimsJSON, ok := decodeSegment(nil, payload)
	if !ok || len(claimsJSON) == 0 || claimsJSON[0] != '{' {
		return nil, false, nil
	}
	c, ok := decodeClaims(claimsJSON)
	if !ok {
		return nil, false, nil
	}
	if err := v.validate(c); err != nil {
		return nil, true, err
	}
	id, err = v.identity(c.claimSet, typ, use)
	return id, true, err
}

// readHeader reads the JWS header as jwsbb does (valyala/fastjson: the
// first of duplicate members, escapes unescaped its own way), for the
// headers where that is plain: a flat JSON object of ASCII strings without
// escapes or duplicate names, holding alg and kid. Anything else is
// jwsbb's to read (ok false): a non-string member (crit's array, b64's
// boolean, a jwk), an escape, a byte outside ASCII, no alg or kid. crit
// reports a crit or b64 member.
func readHeader(seg []byte) (alg, kid, typ string, crit, ok bool) {
	var buf [256]byte // headers are some 50–150 bytes
	b, ok := decodeSegment(buf[:0], seg)
	if !ok || bytes.IndexByte(b, '\\') >= 0 {
		return "", "", "", false, false
	}
	for _, c := range b {
		if c >= 0x80 {
			return "", "", "", false, false
		}
	}
	d := jsonDecoder{b: b}
	d.space()
	if d.peek() != '{' {
		return "", "", "", false, false
	}
	d.i++
	d.space()
	var seen [8][]byte // member names, for duplicates; more members go to jwsbb
	n := 0
	hasAlg, hasKid := false, false
	if d.peek() == '}' {
		d.i++
	} else {
		for {
			name, ok := d.plainString()
			if !ok || !d.colon() {
				return "", "", "", false, false
			}
			val, ok := d.plainString()
			if !ok || n == len(seen) {
				return "", "", "", false, false
			}
			for _, s := range seen[:n] {
				if bytes.Equal(s, name) {
					return "", "", "", false, false
				}
			}
			seen[n] = name
			n++
			switch string(name) {
			case jws.AlgorithmKey:
				alg, hasAlg = string(val), true
			case jws.KeyIDKey:
				kid, hasKid = string(val), true
			case jws.TypeKey:
				typ = string(val)
			case jws.CriticalKey, "b64":
				crit = true
			}
			if !d.next('}') {
				break
			}
		}
	}
	d.space()
	if d.err || d.i != len(b) || !hasAlg || !hasKid {
		return "", "", "", false, false
	}
	return alg, kid, typ, crit, true
}

// decodeSegment decodes canonical unpadded base64url (RFC 7515 §2), the
// only form the fast path reads, appending to dst.
func decodeSegment(dst, seg []byte) ([]byte, bool) {
	enc := base64.RawURLEncoding.Strict()
	n := enc.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	dst = dst[:n]
	m, err := enc.Decode(dst, seg)
	if err != nil {
		return nil, false
	}
	return dst[:m], true
}

// fastClaims is a claimSet with what validation reads beside it: iss, and
// nbf and iat beside the claimSet's exp (each zero when absent).
type fastClaims struct {
	claimSet
	iss      string
	hasIss   bool
	nbf, iat time.Time
}

// decodeClaims reads the claims as the fast path takes them; ok is false for
// anything it leaves to jwx (see verifyFast).
func decodeClaims(b []byte) (c fastClaims, ok bool) {
	m, spans, ok := decodeObject(b)
	if !ok {
		return c, false
	}
	hasPayload, hasSignatures := false, false
	for k := range m {
		// jwx's format guess reads these names without regard to case,
		// as encoding/json matches struct fields.
		switch {
		case strings.EqualFold(k, "kty"), strings.EqualFold(k, "keys"), strings.EqualFold(k, "ciphertext"):
			return c, false
		case strings.EqualFold(k, "payload"):
			hasPayload = true
		case strings.EqualFold(k, "signatures"):
			hasSignatures = true
		}
	}
	if hasPayload && hasSignatures {
		return c, false
	}
	str := func(name string, dst *string) (present, ok bool) {
		raw, present := m[name]
		if !present {
			return false, true
		}
		*dst, ok = raw.(string)
		return true, ok
	}
	var okIss, okSub, okJTI bool
	if c.hasIss, okIss = str(jwt.IssuerKey, &c.iss); !okIss {
		return c, false
	}
	if _, okSub = str(jwt.SubjectKey, &c.sub); !okSub {
		return c, false
	}
	if c.hasJTI, okJTI = str(jwt.JwtIDKey, &c.jti); !okJTI {
		return c, false
	}
	if raw, present := m[jwt.AudienceKey]; present {
		switch a := raw.(type) {
		case string:
			c.aud = []string{a}
		case []any:
			c.aud = make([]string, len(a))
			for i, e := range a {
				if c.aud[i], ok = e.(string); !ok {
					return c, false
				}
			}
		default:
			return c, false
		}
	}
	for i, dst := range []*time.Time{&c.exp, &c.nbf, &c.iat} {
		if spans[i] == nil {
			continue
		}
		t, ok := epochSeconds(spans[i])
		if !ok {
			return c, false
		}
		*dst = t
	}
	// What is left are the private claims: jwt.Token keeps these seven apart.
	for _, k := range [...]string{
		jwt.IssuerKey, jwt.SubjectKey, jwt.AudienceKey, jwt.ExpirationKey,
		jwt.NotBeforeKey, jwt.IssuedAtKey, jwt.JwtIDKey,
	} {
		delete(m, k)
	}
	c.priv = m
	return c, true
}

// epochSeconds reads a NumericDate written as a positive integer without
// leading zeros, of at most 12 digits (the year 33658): what every issuer
// writes. jwx reads other forms (fractions, exponents, strings) in ways of
// its own.
func epochSeconds(b []byte) (time.Time, bool) {
	if len(b) == 0 || len(b) > 12 || b[0] == '0' {
		return time.Time{}, false
	}
	var n int64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return time.Time{}, false
		}
		n = n*10 + int64(ch-'0')
	}
	return time.Unix(n, 0).UTC(), true
}

// validate applies jwt.Validate's rules as verifyJWX configures them, in
// its order: iat, exp, nbf (each with the skew), iss, then exp required.
func (v *Verifier) validate(c fastClaims) error {
	now := v.now().Truncate(0) // as jwx: no monotonic reading
	switch {
	case !c.iat.IsZero() && now.Before(c.iat.Add(-v.skew)):
		return fmt.Errorf("%w: iat is in the future", ErrNotYetValid)
	case !c.exp.IsZero() && !now.Before(c.exp.Add(v.skew)):
		return fmt.Errorf("%w: exp has passed", ErrExpired)
	case !c.nbf.IsZero() && now.Before(c.nbf.Add(-v.skew)):
		return fmt.Errorf("%w: nbf is in the future", ErrNotYetValid)
	case !c.hasIss || c.iss != v.issuer:
		return fmt.Errorf("%w: iss is not the configured issuer", ErrIssuer)
	case c.exp.IsZero():
		return fmt.Errorf("%w: no exp", ErrMalformed)
	}
	return nil
}

// maxDepth bounds the nesting the fast decoder follows; deeper claims go
// to jwx (encoding/json allows 10,000 levels).
const maxDepth = 64

// decodeObject decodes the JSON object b as encoding/json decodes it into a
// map[string]any (float64 numbers, []any arrays, map[string]any objects,
// nested duplicate names: the last wins), without reflection, and returns
// the raw values of the top-level exp, nbf and iat, in that order (nil when
// absent). ok is false for what it does not decide: invalid JSON, a
// duplicated top-level name, a number out of float64's range, nesting
// beyond maxDepth. Strings with escapes or bytes outside ASCII are handed
// to encoding/json one by one, so they read exactly as there.
func decodeObject(b []byte) (m map[string]any, spans [3][]byte, ok bool) {
	d := jsonDecoder{b: b}
	d.space()
	if d.i >= len(b) || b[d.i] != '{' {
		return nil, spans, false
	}
	d.i++
	m = make(map[string]any, 16)
	d.space()
	if d.peek() == '}' {
		d.i++
	} else {
		for {
			name, ok := d.str()
			if !ok || !d.colon() {
				return nil, spans, false
			}
			if _, dup := m[name]; dup {
				return nil, spans, false
			}
			start := d.i
			v, ok := d.value(1)
			if !ok {
				return nil, spans, false
			}
			switch name {
			case jwt.ExpirationKey:
				spans[0] = b[start:d.i]
			case jwt.NotBeforeKey:
				spans[1] = b[start:d.i]
			case jwt.IssuedAtKey:
				spans[2] = b[start:d.i]
			}
			m[name] = v
			if !d.next('}') {
				break
			}
		}
		if d.err {
			return nil, spans, false
		}
	}
	d.space()
	if d.i != len(b) {
		return nil, spans, false
	}
	return m, spans, true
}

type jsonDecoder struct {
	b   []byte
	i   int
	err bool
}

func (d *jsonDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *jsonDecoder) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// colon reads the ':' after a name, with the space around it.
func (d *jsonDecoder) colon() bool {
	d.space()
	if d.peek() != ':' {
		return false
	}
	d.i++
	d.space()
	return true
}

// next reads what follows a member or element: ',' (true, more follow) or
// end (false). Anything else sets err and returns false.
func (d *jsonDecoder) next(end byte) bool {
	d.space()
	switch d.peek() {
	case ',':
		d.i++
		d.space()
		return true
	case end:
		d.i++
		return false
	}
	d.err = true
	return false
}

// str reads a string at d.i.
func (d *jsonDecoder) str() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i
	plain := true
	for d.i++; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			if plain {
				return string(d.b[start+1 : d.i-1]), true
			}
			var s string
			if json.Unmarshal(d.b[start:d.i], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			d.i++
		case c < 0x20:
			return "", false
		case c >= 0x80:
			plain = false
		}
	}
	return "", false
}

// plainString reads a string without escapes at d.i and returns its bytes
// (d.b's own).
func (d *jsonDecoder) plainString() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.i + 1
	for d.i = start; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (d *jsonDecoder) value(depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == '{':
		d.i++
		m := map[string]any{}
		d.space()
		if d.peek() == '}' {
			d.i++
			return m, true
		}
		for {
			name, ok := d.str()
			if !ok || !d.colon() {
				return nil, false
			}
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[name] = v
			if !d.next('}') {
				return m, !d.err
			}
		}
	case c == '[':
		d.i++
		a := make([]any, 0, 4)
		d.space()
		if d.peek() == ']' {
			d.i++
			return a, true
		}
		for {
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			if !d.next(']') {
				return a, !d.err
			}
		}
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	}
	for _, lit := range [...]struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if bytes.HasPrefix(d.b[d.i:], []byte(lit.text)) {
			d.i += len(lit.text)
			return lit.v, true
		}
	}
	return nil, false
}

// number reads a JSON number (RFC 8259 §6) as a float64, as encoding/json
// does into an any.
func (d *jsonDecoder) number() (any, bool) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.peek() == '-' {
		d.i++
	}
	switch {
	case d.peek() == '0':
		d.i++
	case digits() == 0:
		return nil, false
	}
	if d.peek() == '.' {
		d.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	if err != nil {
		return nil, false // out of range: encoding/json fails too, and jwx says why
	}
	return f, true
}
