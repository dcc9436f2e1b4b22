// Package authz turns the config's ordered path rules into allow/deny
// decisions with a short reason for the log.
//
// Paths are judged in the form [CanonicalPath] returns: percent-decoded
// once. A path that different origins could read as different paths is
// refused rather than resolved: dot segments ("/public/../admin"), empty
// segments ("//") and backslashes, raw or percent-encoded. Browsers never
// send these, and resolving them would judge one path while an origin that
// resolves them differently (or not at all) serves another.
//
// A raw "+" is judged twice ([Readings]): as itself, and as the space S3
// reads it as in an object key ("%2B" stays a plus). A request passes only
// if both readings pass, so "/Board+Minutes/x" cannot dodge a rule for
// "/Board%20Minutes/*".
//
// Patterns (see [config.Rule]): a literal path matches itself only; a
// pattern ending in "/*" matches the directory itself and everything below
// ("/admin/*" matches "/admin", "/admin/" and "/admin/x/y", not
// "/administrator"); a "{claim}" segment matches one non-empty segment,
// which must then equal the identity's claim exactly. Matching is
// case-sensitive, as S3 keys are: an origin that ignores case needs rules
// written for every spelling.
//
// Rules are tried in order and the first whose pattern matches decides; a
// claim segment that does not equal the claim denies (it does not fall
// through to later rules). No match means "signed in". A rule's groups
// allow any one of them, and its scopes any one of them, for Bearer tokens
// and browser sessions alike (a session keeps the scopes of the access
// token it was made from; one without them is refused: scopes fail closed).
package authz

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// ErrPath is returned (wrapped) by CanonicalPath for a path that cannot be
// judged safely; answer it with 400.
var ErrPath = errors.New("authz: malformed path")

// Decision is the outcome for one request.
type Decision struct {
	// Allow: the request may go on.
	Allow bool
	// Public: the path matched a public rule, so no credential is needed.
	Public bool
	// Reason is short, for logs: "public", "signed in", "group admins",
	// "scope read", "claim sub", "not signed in", "missing group",
	// "missing scope", "claim sub mismatch".
	Reason string
	// Rule is the index of the deciding rule, -1 for the default.
	Rule int
}

// Authorizer decides requests against ordered path rules. It is immutable
// and safe for concurrent use.
type Authorizer struct {
	rules []rule
}

type rule struct {
	segs   []segment // the pattern's segments after the leading "/"
	prefix bool      // the pattern ended in "/*"
	public bool
	groups []string
	scopes []string
	// Reasons are built once so that Decide does not allocate.
	groupReasons []string
	scopeReasons []string
	allowReason  string // when no group or scope names the reason
}

type segment struct {
	lit          string
	claim        string // non-empty for a {claim} segment
	reasonFailed string // "claim <name> mismatch"
}

// New compiles rules. It rejects what config validation rejects (so it is
// safe on its own): patterns not starting with "/", "*" other than as a
// whole last segment, malformed or empty claim segments, dot or empty
// segments, invalid percent-encoding, and public rules with groups, scopes
// or claims.
func New(rules []config.Rule) (*Authorizer, error) {
	a := &Authorizer{rules: make([]rule, 0, len(rules))}
	for i, r := range rules {
		cr, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("authz: rules[%d] %q: %w", i, r.Path, err)
		}
		a.rules = append(a.rules, cr)
	}
	return a, nil
}

func compile(r config.Rule) (rule, error) {
	p := r.Path
	if !strings.HasPrefix(p, "/") {
		return rule{}, errors.New(`pattern must start with "/"`)
	}
	cr := rule{public: r.Public}
	if body, ok := strings.CutSuffix(p, "/*"); ok {
		cr.prefix = true
		p = body
	}
	claimNames := []string{}
	if p != "" { // "" is the pattern "/*"
		parts := strings.Split(p[1:], "/")
		for i, s := range parts {
			seg, err := compileSegment(s, i == len(parts)-1 && !cr.prefix)
			if err != nil {
				return rule{}, err
			}
			if seg.claim != "" {
				claimNames = append(claimNames, seg.claim)
			}
			cr.segs = append(cr.segs, seg)
		}
	}
	if r.Public && (len(r.Groups) > 0 || len(r.Scopes) > 0 || len(claimNames) > 0) {
		return rule{}, errors.New("a public rule cannot also require groups, scopes or claims")
	}
	for _, g := range r.Groups {
		if g == "" {
			return rule{}, errors.New("empty group name")
		}
		cr.groups = append(cr.groups, g)
		cr.groupReasons = append(cr.groupReasons, "group "+g)
	}
	for _, s := range r.Scopes {
		if s == "" {
			return rule{}, errors.New("empty scope name")
		}
		cr.scopes = append(cr.scopes, s)
		cr.scopeReasons = append(cr.scopeReasons, "scope "+s)
	}
	switch {
	case r.Public:
		cr.allowReason = "public"
	case len(claimNames) > 0:
		cr.allowReason = "claim " + strings.Join(claimNames, ", ")
	default:
		cr.allowReason = "signed in"
	}
	return cr, nil
}

// compileSegment reads one pattern segment; last says an empty segment is
// allowed (a literal pattern ending in "/").
func compileSegment(s string, last bool) (segment, error) {
	switch {
	case s == "" && !last:
		return segment{}, errors.New("empty segment")
	case s == "." || s == "..":
		return segment{}, errors.New("dot segment")
	case strings.Contains(s, "*"):
		return segment{}, errors.New(`"*" must be the whole last segment`)
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
		name := s[1 : len(s)-1]
		if name == "" || strings.ContainsAny(name, "{}") {
			return segment{}, fmt.Errorf("bad claim segment %q", s)
		}
		return segment{claim: name, reasonFailed: "claim " + name + " mismatch"}, nil
	case strings.ContainsAny(s, "{}"):
		return segment{}, fmt.Errorf("a claim segment must be a whole segment such as {sub}, got %q", s)
	}
	// Patterns are compared with decoded paths, so decode them too.
	lit, err := url.PathUnescape(s)
	if err != nil {
		return segment{}, fmt.Errorf("segment %q: %w", s, err)
	}
	if strings.Contains(lit, "/") || hasControl(lit) {
		return segment{}, fmt.Errorf("segment %q decodes to a slash or control character", s)
	}
	return segment{lit: lit}, nil
}

// Match reports the first rule whose pattern matches path (-1 for none)
// and whether it is public. It ignores claim values and identities, so it
// answers "does this path need a credential at all?". path is one of the
// readings [Readings] returns.
func (a *Authorizer) Match(path string) (rule int, public bool) {
	p := cleanPath(path)
	for i := range a.rules {
		if ok, _ := a.rules[i].match(p, nil); ok {
			return i, a.rules[i].public
		}
	}
	return -1, false
}

// MatchAll is Match over every reading of one request: the first reading's
// rule, public only if every reading is public.
func (a *Authorizer) MatchAll(readings []string) (rule int, public bool) {
	rule, public = -1, len(readings) > 0
	for i, p := range readings {
		r, pub := a.Match(p)
		if i == 0 {
			rule = r
		}
		public = public && pub
	}
	return rule, public
}

// DecideAll is Decide over every reading of one request: allowed only if
// every reading is allowed (the first refusal is the answer), public only
// if every reading is public.
func (a *Authorizer) DecideAll(readings []string, id *verifier.Identity) Decision {
	if len(readings) == 0 {
		return Decision{Reason: "no path", Rule: -1}
	}
	first := a.Decide(readings[0], id)
	for _, p := range readings[1:] {
		d := a.Decide(p, id)
		if !d.Allow {
			return d
		}
		if !d.Public {
			first.Public = false
		}
	}
	return first
}

// Readings returns the paths the rules must judge for uri: its canonical
// form ([CanonicalPath]), and, when uri holds a raw "+", the key S3 reads
// from it ("+" a space, "%2B" a plus). A request passes only if every
// reading does.
func Readings(uri string) ([]string, error) {
	p, err := CanonicalPath(uri)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(uri, "+") {
		return []string{p}, nil
	}
	s3, err := CanonicalPath(strings.ReplaceAll(uri, "+", "%20"))
	if err != nil {
		return nil, err
	}
	return []string{p, s3}, nil
}

// Decide judges path for id (nil: anonymous). path is one of the readings
// [Readings] returns; Decide never percent-decodes (decoding twice would
// judge a different path than the origin serves).
func (a *Authorizer) Decide(path string, id *verifier.Identity) Decision {
	p := cleanPath(path)
	for i := range a.rules {
		r := &a.rules[i]
		ok, failed := r.match(p, id)
		if !ok {
			continue
		}
		if r.public {
			return Decision{Allow: true, Public: true, Reason: "public", Rule: i}
		}
		if id == nil {
			return Decision{Reason: "not signed in", Rule: i}
		}
		if failed != nil {
			return Decision{Reason: failed.reasonFailed, Rule: i}
		}
		reason := r.allowReason
		if len(r.groups) > 0 {
			g := firstIndex(r.groups, id.Groups)
			if g < 0 {
				return Decision{Reason: "missing group", Rule: i}
			}
			reason = r.groupReasons[g]
		}
		if len(r.scopes) > 0 {
			s := firstIndex(r.scopes, id.Scopes)
			if s < 0 {
				return Decision{Reason: "missing scope", Rule: i}
			}
			if len(r.groups) == 0 {
				reason = r.scopeReasons[s]
			}
		}
		return Decision{Allow: true, Reason: reason, Rule: i}
	}
	if id == nil {
		return Decision{Reason: "not signed in", Rule: -1}
	}
	return Decision{Allow: true, Reason: "signed in", Rule: -1}
}

// match reports whether p (clean, starting with "/") matches the pattern.
// With id non-nil it also compares claim segments and returns the first
// that differs from the identity's claim.
func (r *rule) match(p string, id *verifier.Identity) (ok bool, failed *segment) {
	if len(r.segs) == 0 {
		return r.prefix, nil // "/*"
	}
	rest := p[1:]
	for i := range r.segs {
		s := &r.segs[i]
		seg, tail, more := strings.Cut(rest, "/")
		if s.claim != "" {
			if seg == "" {
				return false, nil
			}
			if id != nil && failed == nil {
				if v := id.Claim(s.claim); v == "" || v != seg {
					failed = s
				}
			}
		} else if seg != s.lit {
			return false, nil
		}
		if i == len(r.segs)-1 {
			return r.prefix || !more, failed
		}
		if !more {
			return false, nil
		}
		rest = tail
	}
	return false, nil // not reached: the loop returns at the last segment
}

// firstIndex returns the index in want of the first entry present in have,
// or -1.
func firstIndex(want, have []string) int {
	for i, w := range want {
		for _, h := range have {
			if h == w {
				return i
			}
		}
	}
	return -1
}

// CanonicalPath returns the form rules are matched against: uri (a
// CloudFront URI, the path without the query) percent-decoded once. It
// refuses (ErrPath) a uri that does not start with "/", invalid
// percent-escapes, control characters (NUL included), backslashes, and
// dot or empty segments, raw or decoded: paths that origins resolve in
// different ways, and that browsers never send.
func CanonicalPath(uri string) (string, error) {
	if !strings.HasPrefix(uri, "/") {
		return "", fmt.Errorf(`%w: must start with "/"`, ErrPath)
	}
	if err := checkPath(uri); err != nil {
		return "", err
	}
	if strings.IndexByte(uri, '%') < 0 {
		return uri, nil
	}
	dec, err := url.PathUnescape(uri)
	if err != nil {
		return "", fmt.Errorf("%w: invalid percent-encoding", ErrPath)
	}
	if err := checkPath(dec); err != nil {
		return "", fmt.Errorf("%w (percent-encoded)", err)
	}
	return dec, nil
}

// checkPath refuses what origins read differently, ";params" stripped as
// servlet containers do. A trailing slash (an empty last segment) is a
// folder, not an ambiguity.
func checkPath(p string) error {
	if hasControl(p) {
		return fmt.Errorf("%w: control character", ErrPath)
	}
	if strings.IndexByte(p, '\\') >= 0 {
		return fmt.Errorf("%w: backslash", ErrPath)
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		// Servlet containers (Tomcat, Jetty, Spring) drop ";params" from a
		// segment before resolving it: "/public/..;/admin" is "/admin" there.
		seg, _, _ = strings.Cut(seg, ";")
		switch {
		case seg == "." || seg == "..":
			return fmt.Errorf("%w: dot segment", ErrPath)
		case seg == "" && i != len(segs)-1:
			return fmt.Errorf("%w: empty segment", ErrPath)
		}
	}
	return nil
}

// cleanPath resolves dot segments and repeated slashes (RFC 3986 5.2.4 plus
// slash collapsing), keeping a trailing slash. It is idempotent and does not
// allocate for a path that is already clean.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") {
		return p
	}
	c := path.Clean(p)
	if c != "/" && (strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")) {
		c += "/"
	}
	return c
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
