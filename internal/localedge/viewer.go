package localedge

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// The steps between an answer and the viewer, in CloudFront's order:
//
//  1. custom error responses (errorPageWriter), before the cache stores
//     the answer, since CloudFront caches the custom error page;
//  2. the cache;
//  3. the response headers policy, after the cache (the policy's headers
//     "don't affect how CloudFront caches the requested object");
//  4. the viewer-response function (viewerWriter), which CloudFront does not
//     run when the origin answered 400 or more, for a custom error page, or
//     for a response a viewer-request function generated.

// perRequestHeaders are set by the edge for each answer, never stored,
// and survive what replaces an answer.
func perRequestHeaders() []string { return []string{"X-Amz-Cf-Id", "Via", "X-Cache", "Age"} }

// clearHeaders empties h but for X-Amz-Cf-Id and Via, which ServeHTTP set
// for this request; X-Cache and Age come with what replaces the answer.
func clearHeaders(h http.Header) {
	for name := range h {
		switch name {
		case "X-Amz-Cf-Id", "Via":
		default:
			delete(h, name)
		}
	}
}

// viewerWriter applies steps 3 and 4 when the answer's header is written.
type viewerWriter struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	b       *Behavior
	out     *outcome
	wrote   bool
	discard bool
}

func (v *viewerWriter) WriteHeader(code int) {
	if v.wrote {
		return
	}
	v.wrote = true
	h := v.Header()
	if p := v.b.ResponseHeadersPolicy; p != nil {
		p.apply(h)
	}
	if v.b.ViewerResponseFunction == "" || code >= 400 || v.out.customErrorPage || v.out.viewerGenerated {
		v.ResponseWriter.WriteHeader(code)
		return
	}
	newCode, body, replaced, err := v.s.viewerResponse(v.r, v.b, v.out, code, h)
	if err != nil {
		v.discard = true
		clearHeaders(h)
		v.s.fail(v.ResponseWriter, v.out, v.out.reqID, err)
		return
	}
	v.ResponseWriter.WriteHeader(newCode)
	if replaced {
		v.discard = true
		_, _ = v.ResponseWriter.Write(body)
	}
}

func (v *viewerWriter) Write(b []byte) (int, error) {
	v.finish()
	if v.discard {
		return len(b), nil
	}
	return v.ResponseWriter.Write(b)
}

// finish writes the header if nothing did.
func (v *viewerWriter) finish() {
	if !v.wrote {
		v.WriteHeader(http.StatusOK)
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (v *viewerWriter) Unwrap() http.ResponseWriter { return v.ResponseWriter }

// errorPageWriter applies the distribution's custom error responses to an
// answer. CloudFront's documentation states that a CloudFront Function's
// generated error never gets the custom error page ("If your CloudFront
// Function is configured to return an HTTP error of 400 or above, your
// viewer will not see a custom error page", event structure page), and
// says nothing to exempt a Lambda@Edge response: origin-request ones are
// cached and served like the origin's. So an origin's answer, a Lambda@Edge
// response and CloudFront's own error pages all get it, except its 503 for
// a limit exceeded ("CloudFront returns a 503 status code to the viewer
// without using your custom error page").
type errorPageWriter struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	out     *outcome
	wrote   bool
	discard bool
}

func (s *Server) errorPages(w http.ResponseWriter, r *http.Request, out *outcome) *errorPageWriter {
	return &errorPageWriter{ResponseWriter: w, s: s, r: r, out: out}
}

func (e *errorPageWriter) WriteHeader(code int) {
	if e.wrote {
		return
	}
	e.wrote = true
	cer := e.s.cfg.customError(code)
	if cer == nil || e.out.errorPageDone || e.out.noErrorPage {
		e.ResponseWriter.WriteHeader(code)
		return
	}
	e.out.errorPageDone = true
	e.out.errorStatus, e.out.errorHeader = code, e.Header().Clone()
	if cer.ResponsePagePath == "" {
		// Only the error-caching TTL is configured.
		e.ResponseWriter.WriteHeader(code)
		return
	}
	e.discard = true
	page := e.s.fetchErrorPage(e.r, cer.ResponsePagePath, e.out.reqID)
	h := e.Header()
	clearHeaders(h)
	for name, values := range page.header {
		h[name] = values
	}
	status := page.status
	if status >= 200 && status <= 299 {
		status = cer.ResponseCode
		e.out.customErrorPage = true
		e.out.errorPage = cer.ResponsePagePath
	}
	// When the page cannot be had, the viewer gets the status and answer
	// of the page's origin ("Generate custom error responses").
	e.ResponseWriter.WriteHeader(status)
	_, _ = e.ResponseWriter.Write(page.body.Bytes())
}

func (e *errorPageWriter) Write(b []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	if e.discard {
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (e *errorPageWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// pageRecorder keeps an answer in memory.
type pageRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *pageRecorder) Header() http.Header { return p.header }

func (p *pageRecorder) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *pageRecorder) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return p.body.Write(b)
}

// fetchErrorPage gets a custom error page as CloudFront does: a GET for
// the page's path through the first behavior matching it, its cache and
// its origin-request function, but no viewer-request function ("The
// function doesn't execute … when fetching a custom error page"). The
// request carries none of the viewer's headers or cookies: which of them
// CloudFront sends is not documented, so a page that needs one fails here.
func (s *Server) fetchErrorPage(viewer *http.Request, path, reqID string) *pageRecorder {
	page := &pageRecorder{header: http.Header{}}
	b := s.match(path)
	out := &outcome{reqID: reqID, eventType: b.EventType, decision: DecisionPass, noErrorPage: true}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(viewer.Context()), s.cfg.timeout(&b)+5*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(context.WithValue(ctx, outcomeKey{}, out), http.MethodGet, path, nil)
	if err != nil {
		writeError(page, http.StatusBadGateway, "Error from cloudfront", "custom error page path does not parse", reqID)
		return page
	}
	r.Host, r.RemoteAddr = viewer.Host, viewer.RemoteAddr
	sent := s.buildRequest(r, &b)
	if b.Function != "" && b.EventType == OriginRequest {
		s.cached(page, r, &b, sent, out, func(w http.ResponseWriter) { s.run(w, r, b, sent, reqID, out) })
	} else {
		s.cached(page, r, &b, sent, out, func(w http.ResponseWriter) { s.forward(w, r, sent, out) })
	}
	if page.status == 0 {
		page.status = http.StatusOK
	}
	return page
}
