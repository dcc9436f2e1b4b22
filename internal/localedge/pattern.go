package localedge

// MatchPattern reports whether path matches a CloudFront cache-behavior path
// pattern: "*" matches any run of characters (including none and "/"), "?"
// exactly one, everything else itself, case-sensitively. The leading "/" of
// a pattern is optional, as in CloudFront, and "*" alone matches every path
// (the default behavior). path is the URI as requested, still
// percent-encoded, so "?" counts bytes.
func MatchPattern(pattern, path string) bool {
	pattern = normalizePattern(pattern)
	// Greedy match with one backtrack point: on a mismatch, let the most
	// recent "*" swallow one more byte. Linear in practice, O(n·m) at worst,
	// and never recursive, so hostile patterns cannot blow the stack.
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(path) {
		switch {
		// The "*" case comes first: a "*" in the pattern is never a literal,
		// even against a "*" in the path.
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == path[s]):
			p++
			s++
		case star >= 0:
			p = star + 1
			mark++
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
