// Package claims reads a claim from a token's (or a userinfo or
// introspection answer's) JSON members by a path, as providers place them:
// at the top level under names holding '.', ':' or '/' (cognito:groups,
// https://example.com/roles, urn:zitadel:iam:org:project:roles), or nested
// (realm_access.roles, resource_access.<client>.roles).
//
// # Path syntax
//
// A path that starts with "/" is a JSON Pointer (RFC 6901): each "/" starts
// a member name, in which "~1" stands for "/" and "~0" for "~". It is exact:
// "/resource_access/my.app/roles".
//
// Any other path is first a member name at the top level, exactly as
// written; only when the claims have no member of that name, and the path
// holds a ".", is it read as member names separated by "." ("realm_access.roles").
// So names with ':' and '/' work as written, a top-level name with a '.'
// wins over a nested reading, and a nested member whose name holds a '.'
// needs the pointer form. A path is never both: the first reading that finds
// a member is the one used.
//
// # Values
//
// [List] reads a claim as a list of names, in the shapes providers use: an
// array of strings (non-strings skipped), a space-separated string, or an
// object whose member names are the values (ZITADEL's roles). [Path.TextAt]
// reads a claim that must be one string.
package claims

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrPath classifies the errors of Parse.
var ErrPath = errors.New("claims: invalid path")

// MaxDepth bounds the members a path may name.
const MaxDepth = 16

// Path is a parsed claim path. The zero value finds nothing.
type Path struct {
	raw     string
	literal bool     // try raw as one top-level name first
	nested  []string // member names, top level first; nil when raw is only a name
}

// Parse reads a path (see the package doc). It refuses an empty path and a
// JSON Pointer with an empty member name, an escape other than ~0 and ~1,
// or more than MaxDepth members.
func Parse(s string) (Path, error) {
	if s == "" {
		return Path{}, fmt.Errorf("%w: empty", ErrPath)
	}
	if strings.HasPrefix(s, "/") {
		segs := strings.Split(s[1:], "/")
		if len(segs) > MaxDepth {
			return Path{}, fmt.Errorf("%w: more than %d members", ErrPath, MaxDepth)
		}
		for i, seg := range segs {
			name, err := unescape(seg)
			if err != nil {
				return Path{}, err
			}
			if name == "" {
				return Path{}, fmt.Errorf("%w: empty member name in a JSON Pointer", ErrPath)
			}
			segs[i] = name
		}
		return Path{raw: s, nested: segs}, nil
	}
	p := Path{raw: s, literal: true}
	if strings.Contains(s, ".") {
		segs := strings.Split(s, ".")
		// A name such as "a..b" or "x." has no nested reading: it is only
		// a top-level name.
		if len(segs) <= MaxDepth && !slices.Contains(segs, "") {
			p.nested = segs
		}
	}
	return p, nil
}

// MustParse is Parse for paths known to be valid; it panics otherwise.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

func unescape(seg string) (string, error) {
	if !strings.Contains(seg, "~") {
		return seg, nil
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c != '~' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(seg) || (seg[i+1] != '0' && seg[i+1] != '1') {
			return "", fmt.Errorf("%w: \"~\" must be followed by 0 or 1 in a JSON Pointer", ErrPath)
		}
		if seg[i+1] == '0' {
			b.WriteByte('~')
		} else {
			b.WriteByte('/')
		}
		i++
	}
	return b.String(), nil
}

// String returns the path as written.
func (p Path) String() string { return p.raw }

// Lookup returns the member p names in claims (decoded JSON: objects as
// map[string]any), and whether there is one.
func (p Path) Lookup(claims map[string]any) (any, bool) {
	if p.literal {
		if v, ok := claims[p.raw]; ok {
			return v, true
		}
	}
	if len(p.nested) == 0 {
		return nil, false
	}
	var cur any = claims
	for _, name := range p.nested {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[name]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// List reads v as a list of names: an array's strings (other elements
// skipped), a string's space-separated words, or an object's member names
// (sorted, as JSON objects have no order). Anything else gives nil.
func List(v any) []string {
	switch val := v.(type) {
	case []any:
		out := make([]string, 0, len(val))
		for _, e := range val {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return slices.Clone(val)
	case string:
		return strings.Fields(val)
	case map[string]any:
		out := make([]string, 0, len(val))
		for k := range val {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return nil
}

// ListAt is p.Lookup followed by List; nil when claims have no such member.
func (p Path) ListAt(claims map[string]any) []string {
	if v, ok := p.Lookup(claims); ok {
		return List(v)
	}
	return nil
}

// TextAt reads the member p names as one string; ok is false when there is
// none or it is not a string.
func (p Path) TextAt(claims map[string]any) (string, bool) {
	v, _ := p.Lookup(claims)
	s, ok := v.(string)
	return s, ok
}
