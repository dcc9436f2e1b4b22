// Package authz turns ordered path rules into allow/deny decisions with a
// short reason for the log. [New] is the one authority on what a rule may
// say; [Read] and [Authorizer.Decide] are the one way to judge a request.
//
// Paths are judged in the form [CanonicalPath] returns: percent-decoded
// once. A path that different origins could read as different paths is
// refused rather than resolved: dot segments ("/public/../admin"), empty
// segments ("//") and backslashes, raw or percent-encoded. Browsers never
// send these, and resolving them would judge one path while an origin that
// resolves them differently (or not at all) serves another.
//
// A raw "+" is judged twice ([Read]): as itself, and as the space S3
// reads it as in an object key ("%2B" stays a plus). A request passes only
// if both readings pass, so "/Board+Minutes/x" cannot dodge a rule for
// "/Board%20Minutes/*".
//
// A ";" in a segment is refused, not judged, where it could hide a segment
// a rule names: S3 and most servers read "/admin;x/" as the folder
// "admin;x", but servlet containers (Tomcat, Jetty, Spring) drop ";params"
// from each segment and serve "/admin/" for it, some before decoding
// ("%3B" kept) and some after ("%3B" a separator too), some for every
// segment and some for the last only. Judging each of those readings is a
// combinatorial game, one the rules would lose the day an origin strips in a
// way no reading foresaw; refusing is not. So: rules may not contain ";"
// (raw or "%3B"), and a path whose segment, cut at its first ";" (raw or
// decoded), equals a literal segment of any rule is malformed
// ([Decision.BadPath], a 400 like a dot segment). Every way of stripping
// params then leaves a segment that either still holds a ";", and so
// matches no literal, or is that cut, which no rule names: the rules match
// the same way under every reading. A "{claim}" segment never equals a
// segment holding a ";", so a stripped form cannot stand in for an
// identity's own folder either. A ";" elsewhere ("/docs/a;b.html", a
// jsessionid on a file no rule names) passes and reaches the origin as
// sent: S3 serves the key with the ";" in it.
//
// Patterns (see [Rule]): a literal path matches itself only; a
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
	"regexp"
	"slices"
	"strings"

	"github.com/edgeauth/edgeauth/shared/verifier"
)

// ErrPath is returned (wrapped) by CanonicalPath and Read for a path that
// cannot be judged safely; answer it with 400.
var ErrPath = errors.New("authz: malformed path")

// Rule is one ordered path rule.
type Rule struct {
	// Path is a pattern: a literal path, or a prefix ending in "/*" (which
	// also matches the bare prefix directory), with "{claim}" segments that
	// must equal the identity's claim (e.g. "/users/{sub}/*").
	Path string
	// Public paths need no credential.
	Public bool
	// Groups: the identity must be in any of them.
	Groups []string
	// Scopes: the identity must hold any of them.
	Scopes []string
}

// ConfigError is the error New returns for a rule it refuses. Field names
// the rule and its field ("rules[2].path", "rules[0].groups[1]"), counting
// from 0 in the slice given to New; Problem says what is wrong.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "authz: " + e.Field + ": " + e.Problem }

func bad(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Decision is the outcome for one request.
type Decision struct {
	// Allow: the request may go on.
	Allow bool
	// Public: the path matched a public rule, so no credential is needed.
	Public bool
	// Reason is short, for logs: "public", "signed in", "group admins",
	// "scope read", "claim sub", "not signed in", "missing group",
	// "missing scope", "claim sub mismatch", "no path".
	Reason string
	// Rule is the index of the deciding rule, -1 for the default.
	Rule int
	// BadPath: the path holds a ";params" segment that could be read as a
	// segment some rule names (see the package doc). Allow is false for
	// every identity; answer 400, as for ErrPath.
	BadPath bool
}

// Authorizer decides requests against ordered path rules. It is immutable
// and safe for concurrent use.
type Authorizer struct {
	rules  []rule
	claims []string
	groups bool // some rule names groups
	// literals are the literal segments of every rule, decoded: what a
	// ";params" segment must not be cut down to.
	literals map[string]bool
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

// claimRE is what a {claim} segment may name: JWT claim names as IdPs spell
// them (sub, email, custom:tenant, https.example.com… no slash or brace).
var claimRE = regexp.MustCompile(`^[A-Za-z0-9_:.\-]+$`)

// New compiles rules, checking every one of them, once: a pattern must
// start with "/", be a plain path (no query, fragment, backslash, space or
// control character, raw or percent-encoded, and valid percent-encoding),
// have "*" only as a whole last segment, no dot or empty segments, no ";"
// (raw or "%3B": see the package doc), and
// claim segments that are whole segments such as {sub}; a public rule
// cannot also require groups, scopes or claims; group and scope names are
// not empty. A refusal is a *ConfigError naming the rule and its field.
func New(rules []Rule) (*Authorizer, error) {
	a := &Authorizer{rules: make([]rule, 0, len(rules)), literals: map[string]bool{}}
	for i, r := range rules {
		cr, claims, err := compile(fmt.Sprintf("rules[%d]", i), r)
		if err != nil {
			return nil, err
		}
		a.rules = append(a.rules, cr)
		a.groups = a.groups || len(cr.groups) > 0
		for _, seg := range cr.segs {
			if seg.claim == "" {
				a.literals[seg.lit] = true
			}
		}
		for _, c := range claims {
			if !slices.Contains(a.claims, c) {
				a.claims = append(a.claims, c)
			}
		}
	}
	return a, nil
}

// Claims lists the claims the rules' {claim} segments name, in the order
// they first appear: all a session must keep of an identity's claims.
func (a *Authorizer) Claims() []string { return slices.Clone(a.claims) }

// UsesGroups reports whether some rule names groups: whether an identity
// without them could be refused for lack of them.
func (a *Authorizer) UsesGroups() bool { return a.groups }

func compile(field string, r Rule) (rule, []string, error) {
	p := r.Path
	if !strings.HasPrefix(p, "/") {
		return rule{}, nil, bad(field+".path", `must start with "/", got %q`, p)
	}
	if strings.ContainsAny(p, "?#\\ ") || hasControl(p) {
		return rule{}, nil, bad(field+".path", "must be a plain path pattern, got %q", p)
	}
	cr := rule{public: r.Public}
	body := p
	if b, ok := strings.CutSuffix(p, "/*"); ok {
		cr.prefix = true
		body = b
	}
	var claimNames []string
	if body != "" { // "" is the pattern "/*"
		parts := strings.Split(body[1:], "/")
		for i, s := range parts {
			seg, err := compileSegment(s, i == len(parts)-1 && !cr.prefix, p)
			if err != nil {
				return rule{}, nil, bad(field+".path", "%s", err)
			}
			if seg.claim != "" {
				claimNames = append(claimNames, seg.claim)
			}
			cr.segs = append(cr.segs, seg)
		}
	}
	if r.Public && (len(r.Groups) > 0 || len(r.Scopes) > 0 || len(claimNames) > 0) {
		return rule{}, nil, bad(field+".public", "a public rule cannot also require groups, scopes or claims")
	}
	for i, g := range r.Groups {
		if g == "" {
			return rule{}, nil, bad(fmt.Sprintf("%s.groups[%d]", field, i), "must not be empty")
		}
		cr.groups = append(cr.groups, g)
		cr.groupReasons = append(cr.groupReasons, "group "+g)
	}
	for i, s := range r.Scopes {
		if s == "" {
			return rule{}, nil, bad(fmt.Sprintf("%s.scopes[%d]", field, i), "must not be empty")
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
	return cr, claimNames, nil
}

// compileSegment reads one segment of pattern; last says an empty segment
// is allowed (a literal pattern ending in "/").
func compileSegment(s string, last bool, pattern string) (segment, error) {
	switch {
	case s == "*":
		return segment{}, fmt.Errorf(`"*" may only end the pattern, got %q`, pattern)
	case strings.Contains(s, "*"):
		return segment{}, fmt.Errorf(`"*" must be a whole last segment, got %q`, pattern)
	case s == "." || s == "..":
		return segment{}, fmt.Errorf("must not contain dot segments, got %q", pattern)
	case s == "" && !last:
		return segment{}, fmt.Errorf("must not contain empty segments, got %q", pattern)
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && claimRE.MatchString(s[1:len(s)-1]):
		name := s[1 : len(s)-1]
		return segment{claim: name, reasonFailed: "claim " + name + " mismatch"}, nil
	case strings.ContainsAny(s, "{}"):
		return segment{}, fmt.Errorf("a claim segment must be a whole segment such as {sub}, got %q", s)
	}
	// Patterns are compared with decoded paths, so decode them too.
	lit, err := url.PathUnescape(s)
	if err != nil {
		return segment{}, fmt.Errorf("segment %q: invalid percent-encoding", s)
	}
	if strings.ContainsAny(lit, "/\\") || hasControl(lit) || lit == "." || lit == ".." {
		return segment{}, fmt.Errorf("segment %q decodes to a slash, backslash, dot segment or control character", s)
	}
	if strings.IndexByte(lit, ';') >= 0 {
		// Origins read ";" in different ways; the rules name none.
		return segment{}, fmt.Errorf(`segment %q holds a ";" (raw or %%3B), which origins read in different ways`, s)
	}
	return segment{lit: lit}, nil
}

// Readings are the forms of one request's path that the rules judge: its
// canonical form ([CanonicalPath]) and, when the URI holds a raw "+", the
// key S3 reads from it ("+" a space, "%2B" a plus). Only [Read] makes them,
// so the rules only ever see canonical paths. The zero value has no path,
// and Decide refuses it.
type Readings struct {
	paths [2]string
	n     int
}

// Read returns the readings of uri (a CloudFront URI: the path, no query),
// or an ErrPath error for a path that cannot be judged safely.
func Read(uri string) (Readings, error) {
	p, err := CanonicalPath(uri)
	if err != nil {
		return Readings{}, err
	}
	if strings.IndexByte(uri, '+') < 0 {
		return Readings{paths: [2]string{p}, n: 1}, nil
	}
	s3, err := CanonicalPath(strings.ReplaceAll(uri, "+", "%20"))
	if err != nil {
		return Readings{}, err
	}
	return Readings{paths: [2]string{p, s3}, n: 2}, nil
}

// Paths returns the readings, the canonical path first.
func (r Readings) Paths() []string { return slices.Clone(r.paths[:r.n]) }

// Decide judges a request for id (nil: anonymous): public, allowed, and
// why. Every reading must pass: the first that is refused is the answer; it
// is public only if every reading is. Otherwise the answer is the first
// reading's.
//
// A path needs no credential when Decide(readings, nil).Public; call it
// again with the identity once the credential is verified.
func (a *Authorizer) Decide(r Readings, id *verifier.Identity) Decision {
	if r.n == 0 {
		return Decision{Reason: "no path", Rule: -1}
	}
	for _, p := range r.paths[:r.n] {
		if a.paramHidesLiteral(p) {
			return Decision{Reason: "path parameter on a rule's segment", Rule: -1, BadPath: true}
		}
	}
	first := a.decide(r.paths[0], id)
	if r.n > 1 {
		d := a.decide(r.paths[1], id)
		if !d.Allow {
			return d
		}
		first.Public = first.Public && d.Public
	}
	return first
}

// paramHidesLiteral reports whether a segment of p (canonical), cut at its
// first ";", is a literal some rule names: a ";params" segment an origin
// could read as that segment. Paths without ";" cost one byte scan.
func (a *Authorizer) paramHidesLiteral(p string) bool {
	if strings.IndexByte(p, ';') < 0 {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if cut, _, ok := strings.Cut(seg, ";"); ok && a.literals[cut] {
			return true
		}
	}
	return false
}

// decide judges one canonical path. Canonical paths hold no empty or dot
// segments (FuzzCanonicalPath checks it), so they are matched as they are:
// there is nothing left to resolve.
func (a *Authorizer) decide(p string, id *verifier.Identity) Decision {
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

// match reports whether p (canonical) matches the pattern.
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
				// A segment with ";" never matches: stripped, it could
				// read as the claim while not being it (package doc).
				if v := id.Claim(s.claim); v == "" || v != seg || strings.IndexByte(seg, ';') >= 0 {
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
	for rest := p[1:]; ; {
		seg, tail, more := strings.Cut(rest, "/")
		// Servlet containers (Tomcat, Jetty, Spring) drop ";params" from a
		// segment before resolving it: "/public/..;/admin" is "/admin" there.
		seg, _, _ = strings.Cut(seg, ";")
		switch {
		case seg == "." || seg == "..":
			return fmt.Errorf("%w: dot segment", ErrPath)
		case seg == "" && more:
			return fmt.Errorf("%w: empty segment", ErrPath)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// Pattern is one compiled rule as Decide applies it, for code that must
// judge paths exactly as this package does in another language (the
// viewer-request function deploy/viewerfn generates). Segments are the
// pattern's segments after the leading "/", literals percent-decoded.
type Pattern struct {
	Segments []PatternSegment
	// Prefix: the pattern ended in "/*".
	Prefix bool
	Public bool
	Groups []string
	Scopes []string
}

// PatternSegment is a literal segment (Literal, decoded) or, when Claim is
// set, a "{claim}" segment.
type PatternSegment struct {
	Literal string
	Claim   string
}

// Patterns returns the compiled rules, in order. Changing what Decide does
// with them means changing deploy/viewerfn too: its differential tests
// run both.
func (a *Authorizer) Patterns() []Pattern {
	out := make([]Pattern, len(a.rules))
	for i, r := range a.rules {
		p := Pattern{Prefix: r.prefix, Public: r.public, Groups: slices.Clone(r.groups), Scopes: slices.Clone(r.scopes)}
		for _, s := range r.segs {
			p.Segments = append(p.Segments, PatternSegment{Literal: s.lit, Claim: s.claim})
		}
		out[i] = p
	}
	return out
}

// Literals returns the literal segments of every rule, decoded and sorted:
// what a ";params" segment must not be cut down to (see the package doc).
func (a *Authorizer) Literals() []string {
	out := make([]string, 0, len(a.literals))
	for l := range a.literals {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}
