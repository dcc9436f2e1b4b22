package claims_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/shared/claims"
)

// tokenClaims are claims as the providers of docs/providers.md put groups
// and roles: Cognito, Keycloak (realm and client roles), ZITADEL (an object
// whose keys are the roles), Auth0 (a namespaced URL), Hydra (under ext),
// Entra (scp as a string), and a top-level name that holds a dot.
const tokenClaims = `{
  "sub": "u1",
  "cognito:groups": ["admins", "staff"],
  "groups": ["devs", 7, null, "ops"],
  "realm_access": {"roles": ["admins", "offline_access"]},
  "resource_access": {"my.app": {"roles": ["editor"]}, "web": {"roles": ["viewer"]}},
  "urn:zitadel:iam:org:project:roles": {"owner": {"2577": "acme.ch"}, "admin": {"2577": "acme.ch"}},
  "https://example.com/roles": ["auditor"],
  "ext": {"groups": ["hydra-group"]},
  "scp": "read write  admin",
  "a.b": "literal wins",
  "a": {"b": "nested loses"},
  "x~y/z": "pointer escapes",
  "tenant": {"id": "t-42", "n": 3}
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestListAt(t *testing.T) {
	c := decode(t, tokenClaims)
	tests := []struct {
		path string
		want []string
	}{
		{"cognito:groups", []string{"admins", "staff"}},
		{"groups", []string{"devs", "ops"}},
		{"realm_access.roles", []string{"admins", "offline_access"}},
		{"resource_access.web.roles", []string{"viewer"}},
		{"/resource_access/my.app/roles", []string{"editor"}},
		{"resource_access.my.app.roles", nil}, // the dotted reading splits my.app: pointer form needed
		{"urn:zitadel:iam:org:project:roles", []string{"admin", "owner"}},
		{"https://example.com/roles", []string{"auditor"}},
		{"ext.groups", []string{"hydra-group"}},
		{"scp", []string{"read", "write", "admin"}},
		{"/x~0y~1z", []string{"pointer", "escapes"}},
		{"tenant.n", nil}, // a number is no list
		{"missing", nil},
		{"realm_access.roles.0", nil},
		{"sub.x", nil},
	}
	for _, tt := range tests {
		p, err := claims.Parse(tt.path)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.path, err)
		}
		if got := p.ListAt(c); !slices.Equal(got, tt.want) {
			t.Errorf("ListAt(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestTextAt(t *testing.T) {
	c := decode(t, tokenClaims)
	tests := []struct {
		path   string
		want   string
		wantOK bool
	}{
		{"sub", "u1", true},
		{"a.b", "literal wins", true},
		{"/a/b", "nested loses", true},
		{"tenant.id", "t-42", true},
		{"tenant.n", "", false},
		{"tenant", "", false},
		{"cognito:groups", "", false},
		{"nope", "", false},
	}
	for _, tt := range tests {
		got, ok := claims.MustParse(tt.path).TextAt(c)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("TextAt(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "/", "/a//b", "/a/", "/~2", "/a~", strings.Repeat("/a", claims.MaxDepth+1)} {
		if _, err := claims.Parse(s); !errors.Is(err, claims.ErrPath) {
			t.Errorf("Parse(%q) = %v, want ErrPath", s, err)
		}
	}
	// Names that have no nested reading are still names.
	for _, s := range []string{"a..b", "x.", ".x", "https://example.com/", strings.Repeat("a.", claims.MaxDepth+1) + "a"} {
		p, err := claims.Parse(s)
		if err != nil {
			t.Errorf("Parse(%q) = %v, want a top-level name", s, err)
			continue
		}
		if v, ok := p.Lookup(map[string]any{s: "v"}); !ok || v != "v" {
			t.Errorf("Parse(%q).Lookup = %v, %v; want the top-level member", s, v, ok)
		}
	}
}

func TestList(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want []string
	}{
		{[]string{"a"}, []string{"a"}},
		{"", []string{}},
		{map[string]any{}, []string{}},
		{true, nil},
		{nil, nil},
		{3.0, nil},
	} {
		if got := claims.List(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("List(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func FuzzPath(f *testing.F) {
	for _, s := range []string{"groups", "realm_access.roles", "/resource_access/my.app/roles", "/~0~1", "a..b", "/", "~", "https://example.com/roles", "urn:zitadel:iam:org:project:roles"} {
		f.Add(s, tokenClaims)
	}
	f.Add("a", `{"a":{"b":[1,"x"]}}`)
	f.Add("/a/b", `[]`)
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := claims.Parse(path)
		if err != nil {
			if !errors.Is(err, claims.ErrPath) {
				t.Fatalf("Parse(%q) error %v is not ErrPath", path, err)
			}
			return
		}
		if p.String() != path {
			t.Fatalf("Parse(%q).String() = %q", path, p.String())
		}
		var m map[string]any
		if json.Unmarshal([]byte(doc), &m) == nil {
			v, ok := p.Lookup(m)
			if !ok && v != nil {
				t.Fatalf("Lookup found nothing but returned %v", v)
			}
			_ = claims.List(v)
		}
		// The pointer form is exact: a member named like the path, at the
		// top level, is found by the pointer of that one name.
		ptr := pointer(path)
		q, err := claims.Parse(ptr)
		if err != nil {
			t.Fatalf("Parse(pointer(%q)) = %v", path, err)
		}
		if v, ok := q.Lookup(map[string]any{path: "here"}); !ok || v != "here" {
			t.Fatalf("pointer(%q) = %q finds %v, %v", path, ptr, v, ok)
		}
	})
}

// pointer writes names as a JSON Pointer (RFC 6901), for Parse to read back.
func pointer(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(n, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// A groups claim as Keycloak nests it, and one as Auth0 names it.
func ExamplePath_ListAt() {
	var token map[string]any
	_ = json.Unmarshal([]byte(`{"realm_access":{"roles":["admins"]},"https://example.com/roles":["auditor"]}`), &token)
	fmt.Println(claims.MustParse("realm_access.roles").ListAt(token))
	fmt.Println(claims.MustParse("https://example.com/roles").ListAt(token))
	// Output:
	// [admins]
	// [auditor]
}
