package localedge

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// compileFunctions compiles every CloudFront Function of the config.
func (s *Server) compileFunctions() error {
	s.cffns = map[string]*cfjs.Function{}
	for name, f := range s.cfg.CloudFrontFunctions {
		field := fmt.Sprintf("cloudfrontFunctions[%q]", name)
		code, err := os.ReadFile(f.Code)
		if err != nil {
			return fieldErr(field+".code", "%v", err)
		}
		opts := cfjs.Options{Budget: s.cfg.FunctionTimeout.Std(), Now: s.now, Logger: s.log.With("cloudfront_function", name)}
		if f.KeyValueStore != "" {
			kvs, err := cfjs.OpenKeyValueStore(f.KeyValueStore)
			if err != nil {
				return fieldErr(field+".keyValueStore", "%v", err)
			}
			opts.KeyValueStore = kvs
		}
		fn, err := cfjs.Compile(f.Code, code, opts)
		if err != nil {
			// CloudFront refuses such a function when it is created.
			return fieldErr(field+".code", "%v", err)
		}
		s.cffns[name] = fn
	}
	return nil
}

// cfError is a CloudFront Function failure, answered as CloudFront
// answers it: 502 FunctionValidationError for a result it refuses
// ("CloudFront function validation error", HTTP 502 troubleshooting page),
// 503 FunctionExecutionError for a throw or the compute limit ("Lambda@Edge
// or CloudFront Function execution error", HTTP 503 page).
type cfError struct{ err error }

func (e *cfError) Error() string { return e.err.Error() }
func (e *cfError) Unwrap() error { return e.err }

// viewerRequest runs the behavior's viewer-request CloudFront Function. It
// returns the request as the function returned it, or done when it has
// answered the viewer (a generated response or a failure).
func (s *Server) viewerRequest(w http.ResponseWriter, r *http.Request, b *Behavior, out *outcome) (next *http.Request, done bool) {
	fn := s.cffns[b.ViewerRequestFunction]
	ev := s.cfEvent(r, cfjs.ViewerRequest, out.reqID)
	res, err := fn.Run(context.WithoutCancel(r.Context()), ev)
	if err != nil {
		s.fail(w, out, out.reqID, &cfError{err})
		return nil, true
	}
	if res.Response != nil {
		resp := fromCFResponse(res.Response, nil)
		code, body, err := checkResponse(resp, ViewerRequest)
		if err != nil {
			s.fail(w, out, out.reqID, &cfError{err})
			return nil, true
		}
		out.decision, out.viewerGenerated = DecisionGenerated, true
		writeGenerated(w, resp, code, body, "FunctionGeneratedResponse from cloudfront")
		return nil, true
	}
	next, err = s.applyCFRequest(r, &ev.Request, res.Request)
	if err != nil {
		s.fail(w, out, out.reqID, &cfError{err})
		return nil, true
	}
	return next, false
}

// cfEvent shapes r as CloudFront Functions show a request: lowercase
// header names with the Cookie header taken apart into cookies, the query
// string as raw name/value pairs, duplicates in multiValue.
func (s *Server) cfEvent(r *http.Request, eventType, reqID string) *cfjs.Event {
	req := cfjs.Request{
		Method:      r.Method,
		URI:         r.URL.EscapedPath(),
		QueryString: map[string]cfjs.Value{},
		Headers:     map[string]cfjs.Value{},
		Cookies:     map[string]cfjs.Cookie{},
	}
	if req.URI == "" {
		req.URI = "/"
	}
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		if _, ok := req.QueryString[name]; !ok {
			req.QueryOrder = append(req.QueryOrder, name)
		}
		cfjs.AddValue(req.QueryString, name, value)
	}
	for name, entries := range viewerHeaders(r) {
		for _, e := range entries {
			if name == "cookie" {
				for _, c := range edge.ParseCookieHeader(e.Value) {
					cfjs.AddCookie(req.Cookies, c.Name, cfjs.Cookie{Value: c.Value})
				}
				continue
			}
			cfjs.AddValue(req.Headers, name, e.Value)
		}
	}
	return &cfjs.Event{
		Version: cfjs.EventVersion,
		Context: cfjs.Context{
			DistributionDomainName: s.cfg.DomainName,
			DistributionID:         s.cfg.DistributionID,
			EventType:              eventType,
			RequestID:              reqID,
		},
		Viewer:  cfjs.Viewer{IP: clientIP(r)},
		Request: req,
	}
}

// resolveValues applies CloudFront's rule for a field the function
// returned ("Duplicate query strings, headers, and cookies"): a changed
// multiValue wins; otherwise the value replaces the first occurrence and
// the others stay as they were. sent holds the fields the event carried.
func resolveValues(sent map[string]cfjs.Value, name string, got cfjs.Value) []string {
	orig, ok := sent[name]
	if !ok {
		return got.Values()
	}
	if len(got.MultiValue) > 0 && !slices.Equal(got.Values(), orig.Values()) {
		return got.Values()
	}
	vals := orig.Values()
	vals[0] = got.Value
	return vals
}

func resolveCookies(sent map[string]cfjs.Cookie, name string, got cfjs.Cookie) []cfjs.Cookie {
	list := func(c cfjs.Cookie) []cfjs.Cookie {
		if len(c.MultiValue) == 0 {
			return []cfjs.Cookie{{Value: c.Value, Attributes: c.Attributes}}
		}
		return c.MultiValue
	}
	orig, ok := sent[name]
	if !ok {
		return list(got)
	}
	same := func(a, b []cfjs.Cookie) bool {
		return slices.EqualFunc(a, b, func(x, y cfjs.Cookie) bool { return x.Value == y.Value && x.Attributes == y.Attributes })
	}
	if len(got.MultiValue) > 0 && !same(list(got), list(orig)) {
		return list(got)
	}
	vals := list(orig)
	vals[0] = cfjs.Cookie{Value: got.Value, Attributes: got.Attributes}
	return vals
}

// applyCFRequest turns the request a viewer-request function returned into
// the HTTP request that goes on, after CloudFront's checks on it (the
// method is read-only, as are Host, Content-Length, Transfer-Encoding,
// Via and CDN-Loop; no disallowed header may be added; the URI and query
// string rules). A part the function left as it was goes on byte for byte.
func (s *Server) applyCFRequest(r *http.Request, sent, got *cfjs.Request) (*http.Request, error) {
	before := &edge.Request{ClientIP: clientIP(r), Method: r.Method, URI: sent.URI, QueryString: r.URL.RawQuery, Headers: viewerHeaders(r)}
	after := &edge.Request{ClientIP: before.ClientIP, Method: got.Method, URI: got.URI, QueryString: r.URL.RawQuery, Headers: edge.Headers{}}
	if !queryEqual(sent.QueryString, got.QueryString) {
		var parts []string
		order := got.QueryOrder
		if len(order) != len(got.QueryString) {
			order = slices.Sorted(maps.Keys(got.QueryString))
		}
		for _, name := range order {
			for _, v := range resolveValues(sent.QueryString, name, got.QueryString[name]) {
				parts = append(parts, name+"="+v)
			}
		}
		after.QueryString = strings.Join(parts, "&")
	}
	for name, v := range got.Headers {
		for _, val := range resolveValues(sent.Headers, name, v) {
			after.Headers[name] = append(after.Headers[name], edge.Header{Value: val})
		}
	}
	if cookiesEqual(sent.Cookies, got.Cookies) {
		if c := before.Headers["cookie"]; c != nil {
			after.Headers["cookie"] = c
		}
	} else if line := cookieLine(sent.Cookies, got.Cookies); line != "" {
		after.Headers["cookie"] = []edge.Header{{Value: line}}
	}
	if err := checkRequest(before, after, ViewerRequest); err != nil {
		return nil, err
	}
	next, err := toHTTP(r, after)
	if err != nil {
		return nil, err
	}
	// Go keeps the body's framing in next.TransferEncoding, not the header.
	next.Header.Del("Transfer-Encoding")
	return next, nil
}

func queryEqual(a, b map[string]cfjs.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v.Values(), w.Values()) || v.Value != w.Value {
			return false
		}
	}
	return true
}

func cookiesEqual(a, b map[string]cfjs.Cookie) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Value != w.Value || len(v.MultiValue) != len(w.MultiValue) {
			return false
		}
		for i := range v.MultiValue {
			if v.MultiValue[i].Value != w.MultiValue[i].Value {
				return false
			}
		}
	}
	return true
}

// cookieLine renders a request's cookies as one Cookie header, the
// viewer's cookies in name order, then new ones.
func cookieLine(sent, got map[string]cfjs.Cookie) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(got)) {
		for _, c := range resolveCookies(sent, name, got[name]) {
			parts = append(parts, name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// fromCFResponse converts a response a function returned into the
// Lambda@Edge shape the edge's checks take. sent is the response the event
// carried (nil for a generated one): it resolves multiValue changes.
func fromCFResponse(got, sent *cfjs.Response) *edge.Response {
	r := &edge.Response{
		Status:            strconv.Itoa(got.StatusCode),
		StatusDescription: got.StatusDescription,
		Headers:           edge.Headers{},
	}
	var sentHeaders map[string]cfjs.Value
	var sentCookies map[string]cfjs.Cookie
	if sent != nil {
		sentHeaders, sentCookies = sent.Headers, sent.Cookies
	}
	for name, v := range got.Headers {
		for _, val := range resolveValues(sentHeaders, name, v) {
			r.Headers[name] = append(r.Headers[name], edge.Header{Value: val})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got.Cookies)) {
		for _, c := range resolveCookies(sentCookies, name, got.Cookies[name]) {
			line := name + "=" + c.Value
			if c.Attributes != "" {
				line += "; " + c.Attributes
			}
			r.Headers["set-cookie"] = append(r.Headers["set-cookie"], edge.Header{Value: line})
		}
	}
	if got.Body != nil {
		r.Body, r.BodyEncoding = got.Body.Data, got.Body.Encoding
	}
	return r
}

// toCFResponse shapes an HTTP response as a viewer-response event shows
// it: lowercase headers without the disallowed ones, Set-Cookie lines
// taken apart into cookies.
func toCFResponse(code int, h http.Header) *cfjs.Response {
	r := &cfjs.Response{
		StatusCode:        code,
		StatusDescription: http.StatusText(code),
		Headers:           map[string]cfjs.Value{},
		Cookies:           map[string]cfjs.Cookie{},
	}
	for name, values := range h {
		lower := strings.ToLower(name)
		if isDisallowed(lower) {
			continue
		}
		for _, v := range values {
			if lower == "set-cookie" {
				pair, attrs, _ := strings.Cut(v, ";")
				n, val, _ := strings.Cut(pair, "=")
				n = strings.TrimSpace(n)
				cfjs.AddCookie(r.Cookies, n, cfjs.Cookie{Value: strings.TrimSpace(val), Attributes: strings.TrimSpace(attrs)})
				continue
			}
			cfjs.AddValue(r.Headers, lower, v)
		}
	}
	return r
}

// viewerResponse runs the behavior's viewer-response function on the
// response about to leave, after the response headers policy. It rewrites
// h in place and returns the status and, when the function replaced it,
// the body; on failure, the error to answer with instead.
func (s *Server) viewerResponse(r *http.Request, b *Behavior, out *outcome, code int, h http.Header) (int, []byte, bool, error) {
	fn := s.cffns[b.ViewerResponseFunction]
	ev := s.cfEvent(r, cfjs.ViewerResponse, out.reqID)
	ev.Response = toCFResponse(code, h)
	res, err := fn.Run(context.WithoutCancel(r.Context()), ev)
	if err != nil {
		return 0, nil, false, &cfError{err}
	}
	resp := fromCFResponse(res.Response, ev.Response)
	if err := checkViewerResponse(ev.Response, resp); err != nil {
		return 0, nil, false, &cfError{err}
	}
	newCode, body, err := checkResponse(resp, ViewerResponse)
	if err != nil {
		return 0, nil, false, &cfError{err}
	}
	// The hidden headers (X-Cache, X-Amz-Cf-Id…) stay the edge's, and so
	// does the framing of a body the function left alone; everything else
	// is what the function returned.
	framing := []string{"Content-Length", "Transfer-Encoding", "Content-Encoding"}
	kept := http.Header{}
	for _, name := range framing {
		if v := h.Values(name); v != nil {
			kept[name] = v
		}
	}
	for name := range h {
		if !isDisallowed(strings.ToLower(name)) {
			delete(h, name)
		}
	}
	for name, entries := range resp.Headers {
		for _, e := range entries {
			h.Add(name, e.Value)
		}
	}
	replaced := res.Response.Body != nil
	if replaced {
		h.Del("Content-Length")
		h.Del("Transfer-Encoding")
	} else {
		for _, name := range framing {
			h.Del(name)
			if v := kept[name]; v != nil {
				h[name] = v
			}
		}
	}
	return newCode, body, replaced, nil
}

// checkViewerResponse applies the viewer-response rules the generic
// checks do not: Warning and Via are read-only there ("Read-only headers
// in viewer response events").
func checkViewerResponse(sent *cfjs.Response, got *edge.Response) error {
	for _, name := range []string{"warning", "via"} {
		var before []string
		if v, ok := sent.Headers[name]; ok {
			before = v.Values()
		}
		if !slices.Equal(before, got.Headers.Values(name)) {
			return breach(RuleReadOnlyHeader, "header %q is read-only at %s", name, ViewerResponse)
		}
	}
	return nil
}
