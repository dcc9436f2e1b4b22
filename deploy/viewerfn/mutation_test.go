package viewerfn_test

import (
	"bytes"
	"testing"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
)

// mutations break the generated function on purpose, one check at a time.
// Each must make the differential or invariant tests fail: if one does
// not, those tests do not guard that check. Left out as equivalent (no
// request tells them apart, in Go's authz either): dropping the "v === ”"
// of a claim (an empty segment never reaches it), "d.pub && e.pub" (an
// anonymous reading is only allowed by a public rule) and the default
// rule's "!!id" (only pub of an anonymous judgement is read).
var mutations = []struct {
	name, from, to string
}{
	{"no MAC check", "if (!ok) return null;", ""},
	{"MAC over the value only", "var msg = C.n + '|' + date + '|' + val;", "var msg = val;"},
	{"no name binding", "var msg = C.n + '|' + date + '|' + val;", "var msg = 'edgeauth-refresh|' + date + '|' + val;"},
	{"no expiry", "if (w && now < w.x)", "if (w)"},
	{"expiry off by one", "if (w && now < w.x)", "if (w && now <= w.x)"},
	{"viewer header kept", "h[C.h] = one(key);", "if (!h[C.h]) h[C.h] = one(key);"},
	{"value only, viewer multiValue kept", "h[C.h] = one(key);", "h[C.h] = h[C.h] || {}; h[C.h].value = key;"},
	{"authorization ignored", "if (anon.bad || h.authorization ||", "if (anon.bad ||"},
	{"groups ignored", "if (r[3].length && !any(r[3], id.g)) return { allow: false };", ""},
	{"scopes ignored", "if (r[4].length && !any(r[4], id.sc)) return { allow: false };", ""},
	{"claims ignored", "if (v === '' || v !== seg || seg.indexOf(';') >= 0) failed = true;", ""},
	{"no ;params check", "if (k >= 0 && C.l.indexOf(segs[i].substring(0, k)) >= 0) return true;", ""},
	{"no dot segment check", "if (s === '.' || s === '..' || (s === '' && i < segs.length - 1)) return true;", "if (s === '' && i < segs.length - 1) return true;"},
	{"no empty segment check", "if (s === '.' || s === '..' || (s === '' && i < segs.length - 1)) return true;", "if (s === '.' || s === '..') return true;"},
	{"no percent-decoding", "d = decodeURIComponent(u);", "d = u;"},
	{"no + reading", "if (u.indexOf('+') < 0) return [p];", "return [p];"},
	{"no index rewrite", "req.uri += 'index.html';", ""},
	{"prefix rules match longer names", "if (seg === '') return 0;", ""},
	{"first valid cookie not first", "if (w && now < w.x) return judge(r, w).allow ? 'shared' : null;", "if (w && now < w.x && judge(r, w).allow) return 'shared';"},
	{"deflated treated as invalid", "if (p.length && p[0] === 122) return undefined;", "if (p.length && p[0] === 122) return null;"},
	{"first key only", "for (var k = 0; k < keys.length && !ok; k++)", "for (var k = 0; k < 1 && !ok; k++)"},
	{"literal segments ignore case", "} else if (seg !== s) {", "} else if (seg.toLowerCase() !== s.toLowerCase()) {"},
	{"several values, last decides", "for (var i = 0; i < vals.length; i++) {\nvar w = open(vals[i], keys);", "for (var i = vals.length - 1; i >= 0; i--) {\nvar w = open(vals[i], keys);"},
}

// TestBrokenFunctionCaught applies each mutation to the generated code
// and runs the differential and invariant tables on it in the local
// engine: every mutation must be caught.
func TestBrokenFunctionCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tables once per mutation")
	}
	f := newFixture(t, rotated, viewerfn.Options{})
	cases := append(f.cases(t), f.cookieCases(t)...)
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			if !bytes.Contains(f.fn.Code, []byte(m.from)) {
				t.Fatalf("the generated code has no %q: update the mutation", m.from)
			}
			code := bytes.Replace(f.fn.Code, []byte(m.from), []byte(m.to), 1)
			g, err := newGoja(t, code, f.kvsPath)
			if err != nil {
				t.Fatalf("mutated code does not compile: %v", err)
			}
			var caught []string
			for _, c := range cases {
				caught = append(caught, f.judge(t, g, c.r, c.decidable)...)
				if len(caught) > 0 {
					break
				}
			}
			if len(caught) == 0 {
				t.Errorf("mutation %q passes every differential and invariant case", m.name)
				return
			}
			t.Logf("caught: %s", caught[0])
		})
	}
}
