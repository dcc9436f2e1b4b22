package localedge

import (
	"regexp"
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*", "/", true},
		{"*", "/any/thing.jpg", true},
		{"/parseauth", "/parseauth", true},
		{"/parseauth", "/parseauth/x", false},
		{"/parseauth*", "/parseauth", true},
		{"/parseauth*", "/parseauthx/y", true},
		{"/images/*.jpg", "/images/a/b.jpg", true},
		{"/images/*.jpg", "/images/a.png", false},
		{"images/*", "/images/a", true}, // leading slash optional
		{"*.css", "/a/b/style.css", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/abbc", false},
		{"/Admin/*", "/admin/x", false}, // case-sensitive
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/aXbY", false},
		{"/**", "/", true},
		{"/x", "", false},
		{"**a**s/*", "as/*0", true}, // a "*" in the path is not a pattern "*"
		{"/a*", "/a*", true},
		{"/a*b", "/a*", false},
	}
	for _, tt := range tests {
		if got := MatchPattern(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

// FuzzMatchPattern checks MatchPattern against a regexp built from the same
// pattern, on ASCII input where a byte is a character.
func FuzzMatchPattern(f *testing.F) {
	f.Add("*", "/")
	f.Add("/parseauth*", "/parseauth?code=1")
	f.Add("/images/*.jpg", "/images/a/b.jpg")
	f.Add("a?c", "/abc")
	f.Add("**a**s/*", "as/*0") // found by fuzzing: a path "*" taken for the pattern's
	f.Add("/a*b*c*d*e*f", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		got := MatchPattern(pattern, path)
		if !isASCII(pattern) || !isASCII(path) {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, c := range normalizePattern(pattern) {
			switch c {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString(`\z`)
		if want := regexp.MustCompile(re.String()).MatchString(path); got != want {
			t.Errorf("MatchPattern(%q, %q) = %v, regexp %s says %v", pattern, path, got, re.String(), want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func BenchmarkMatchPattern(b *testing.B) {
	for b.Loop() {
		MatchPattern("/images/*/thumb-*.jpg", "/images/2026/01/01/thumb-large.jpg")
	}
}
