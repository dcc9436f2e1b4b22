package edge

import (
	"net/http"
	"net/url"
	"strings"
)

// Get returns the first value of the named header, or "".
func (h Headers) Get(name string) string {
	if v := h[strings.ToLower(name)]; len(v) > 0 {
		return v[0].Value
	}
	return ""
}

// Values returns every value of the named header, in order.
func (h Headers) Values(name string) []string {
	hs := h[strings.ToLower(name)]
	out := make([]string, 0, len(hs))
	for _, e := range hs {
		out = append(out, e.Value)
	}
	return out
}

// Set replaces the named header with one value.
func (h Headers) Set(name, value string) {
	h[strings.ToLower(name)] = []Header{{Key: http.CanonicalHeaderKey(name), Value: value}}
}

// Add appends a value to the named header (each Set-Cookie is its own entry).
func (h Headers) Add(name, value string) {
	k := strings.ToLower(name)
	h[k] = append(h[k], Header{Key: http.CanonicalHeaderKey(name), Value: value})
}

// Del removes the named header.
func (h Headers) Del(name string) { delete(h, strings.ToLower(name)) }

// Cookie is one name=value pair from a Cookie header.
type Cookie struct {
	Name  string
	Value string
}

// ParseCookieHeader splits a Cookie header value into its pairs, in order.
// It is lenient, as browsers are: a pair without "=" or with an invalid name
// is skipped, never an error, and surrounding quotes are kept in the value.
func ParseCookieHeader(line string) []Cookie { return appendCookies(nil, line) }

func appendCookies(out []Cookie, line string) []Cookie {
	for part := range strings.SplitSeq(line, ";") {
		part = strings.TrimSpace(part)
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		if !validCookieName(name) {
			continue
		}
		out = append(out, Cookie{Name: name, Value: strings.TrimSpace(value)})
	}
	return out
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// Cookies are a request's cookie pairs, in the order the browser sent
// them. A handler parses them once ([Request.Cookies]) and hands the value
// to every reader of the request.
type Cookies []Cookie

// Cookies parses every Cookie header entry and merges the pairs in order;
// CloudFront may deliver the header as several entries. It parses anew on
// each call: call it once per request.
func (r *Request) Cookies() Cookies {
	entries := r.Headers["cookie"]
	if len(entries) == 0 {
		return nil
	}
	n := 0
	for _, h := range entries {
		n += strings.Count(h.Value, ";") + 1
	}
	out := make(Cookies, 0, n)
	for _, h := range entries {
		out = appendCookies(out, h.Value)
	}
	return out
}

// Get returns the value of the first cookie with the given name.
func (cs Cookies) Get(name string) (string, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// DropCookies removes every cookie for which drop reports true and leaves
// the rest of each Cookie entry byte for byte as the browser sent it (names
// outside the RFC token set, flag-style pairs without "=" included), so the
// origin never sees the suite's cookies and loses none of its own. An entry
// left empty is removed.
func (r *Request) DropCookies(drop func(name string) bool) {
	entries := r.Headers["cookie"]
	if len(entries) == 0 {
		return
	}
	kept := entries[:0:0]
	for _, e := range entries {
		var parts []string
		changed := false
		for part := range strings.SplitSeq(e.Value, ";") {
			name, _, _ := strings.Cut(part, "=")
			if n := strings.TrimSpace(name); validCookieName(n) && drop(n) {
				changed = true
				continue
			}
			if strings.TrimSpace(part) != "" {
				parts = append(parts, strings.TrimSpace(part))
			}
		}
		switch {
		case !changed:
			kept = append(kept, e)
		case len(parts) > 0:
			kept = append(kept, Header{Key: e.Key, Value: strings.Join(parts, "; ")})
		}
	}
	if len(kept) == 0 {
		delete(r.Headers, "cookie")
		return
	}
	r.Headers["cookie"] = kept
}

// Query parses the raw querystring. Malformed pairs are skipped rather than
// failing the whole query, as browsers and servers do.
func (r *Request) Query() url.Values {
	v, _ := url.ParseQuery(r.QueryString) // keeps every well-formed pair even on error
	if v == nil {
		v = url.Values{}
	}
	return v
}

// ViewerHostHeader carries the viewer's Host to origin-request functions,
// which see the origin's Host instead: the deploy template's CloudFront
// Function copies it at viewer-request, and its origin request policies
// forward it. Only ever one candidate among the configured hosts
// (config.Config.PublicOrigin), never trusted on its own.
const ViewerHostHeader = "x-edgeauth-viewer-host"

// ViewerHosts returns the candidates for the host the viewer asked for, in
// the order config.Config.PublicOrigin tries them: the Host header (the
// viewer's at viewer-request), then ViewerHostHeader (its copy at
// origin-request).
func (r *Request) ViewerHosts() []string {
	return []string{r.Headers.Get("host"), r.Headers.Get(ViewerHostHeader)}
}
