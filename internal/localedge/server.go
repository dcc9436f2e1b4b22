package localedge

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// Function is a Lambda@Edge request-trigger handler, in-process or remote.
// It returns a Go error only when the function itself failed (Lambda's
// function error); an expected refusal is a generated response.
type Function func(ctx context.Context, ev edge.Event) (edge.Result, error)

// Decisions in the per-request log line.
const (
	DecisionPass      = "pass"      // the request went on to the origin
	DecisionGenerated = "generated" // the function answered
	DecisionError     = "error"     // the edge answered 5xx for a broken rule
	DecisionHit       = "hit"       // served from the cache; an origin-request function did not run
)

// Option adjusts a Server built by New.
type Option func(*Server)

// WithClock sets the clock used for request durations (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTransport sets the transport to an upstream URL origin
// (http.DefaultTransport by default).
func WithTransport(rt http.RoundTripper) Option { return func(s *Server) { s.transport = rt } }

// Server is the local CloudFront: an http.Handler that runs each request
// through its behavior's function and on to the origin.
type Server struct {
	cfg       Config
	behaviors []Behavior // patterns normalized
	funcs     map[string]Function
	log       *slog.Logger
	now       func() time.Time
	transport http.RoundTripper
	upstream  *url.URL
	origin    http.Handler
	cache     *cache
	cffns     map[string]*cfjs.Function
}

// New checks cfg (defaults applied to a copy) and that every behavior's
// function is in funcs, and builds the Server. A nil logger discards logs.
func New(cfg *Config, funcs map[string]Function, logger *slog.Logger, opts ...Option) (*Server, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: nil config", ErrInvalidConfig)
	}
	c := *cfg
	c.Behaviors = append([]Behavior(nil), cfg.Behaviors...)
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	for i, b := range c.Behaviors {
		c.Behaviors[i].PathPattern = normalizePattern(b.PathPattern)
		if b.EventType == OriginRequest && b.Cache != nil {
			c.Behaviors[i] = withCacheKeyForwarded(b)
		}
		if b.Function == "" {
			continue
		}
		if f, ok := funcs[b.Function]; !ok || f == nil {
			return nil, fieldErr(fmt.Sprintf("behaviors[%d].function", i), "no function named %q was provided", b.Function)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:       c,
		behaviors: c.Behaviors,
		funcs:     funcs,
		log:       logger,
		now:       time.Now,
		transport: http.DefaultTransport,
		cache:     newCache(),
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.compileFunctions(); err != nil {
		return nil, err
	}
	if c.Origin.Dir != "" {
		d, err := newDirOrigin(c.Origin.Dir, c.Origin.ListBucket)
		if err != nil {
			return nil, fieldErr("origin.dir", "%v", err)
		}
		s.origin = d
	} else {
		s.upstream, _ = url.Parse(c.Origin.URL) // validated above
		s.origin = s.newProxy()
	}
	return s, nil
}

// Listen is the address from the config, defaults applied.
func (s *Server) Listen() string { return s.cfg.Listen }

// outcome is what the log line reports about one request, and what the
// steps of its answer tell each other; the proxy's error handler fills it
// in through the request context.
type outcome struct {
	reqID     string
	eventType string
	decision  string
	rule      string
	err       error

	viewerGenerated bool        // a viewer-request CloudFront Function answered
	noErrorPage     bool        // no custom error response applies (a limit exceeded, an error page's own fetch)
	errorPageDone   bool        // the custom error responses were applied
	customErrorPage bool        // the answer is a custom error page
	errorPage       string      // its path, for the log
	errorStatus     int         // the status a custom error response replaced
	errorHeader     http.Header // and its headers, for the error-caching TTL
}

type outcomeKey struct{}

// ServeHTTP runs one request through the edge and logs one line about it.
// The line carries the path but never the query, which can hold codes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	reqID := newRequestID()
	rec := &statusRecorder{ResponseWriter: w}
	b := s.match(r.URL.EscapedPath())
	out := &outcome{reqID: reqID, eventType: b.EventType, decision: DecisionPass}
	r = r.WithContext(context.WithValue(r.Context(), outcomeKey{}, out))

	rec.Header().Set("X-Amz-Cf-Id", reqID)
	rec.Header().Set("Via", s.viaValue())
	vw := &viewerWriter{ResponseWriter: rec, s: s, r: r, b: &b, out: out}
	s.serve(vw, r, b, reqID, out)
	vw.finish()

	attrs := []any{
		"method", r.Method,
		"path", r.URL.Path,
		"behavior", b.PathPattern,
		"function", b.Function,
		"decision", out.decision,
		"status", rec.status(),
		"duration_ms", float64(s.now().Sub(start).Microseconds()) / 1000,
		"request_id", reqID,
	}
	if b.ViewerRequestFunction != "" || b.ViewerResponseFunction != "" {
		attrs = append(attrs, "cloudfront_functions", strings.Trim(b.ViewerRequestFunction+","+b.ViewerResponseFunction, ","))
	}
	if out.errorPage != "" {
		attrs = append(attrs, "error_page", out.errorPage, "origin_status", out.errorStatus)
	}
	if out.rule != "" {
		attrs = append(attrs, "rule", out.rule)
	}
	if out.err != nil {
		attrs = append(attrs, "err", out.err.Error())
	}
	level := slog.LevelInfo
	if out.decision == DecisionError {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "request", attrs...)
}

// match returns the first behavior whose pattern matches path, or an
// unnamed pass-through behavior when none does (a distribution whose
// default behavior has no function).
func (s *Server) match(path string) Behavior {
	for _, b := range s.behaviors {
		if MatchPattern(b.PathPattern, path) {
			return b
		}
	}
	return Behavior{EventType: ViewerRequest}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, b Behavior, reqID string, out *outcome) {
	if b.ViewerRequestFunction != "" {
		next, done := s.viewerRequest(w, r, &b, out)
		if done {
			return
		}
		r = next
	}
	if s.cfg.DefaultRootObject != "" && r.URL.EscapedPath() == "/" {
		r = withPath(r, "/"+s.cfg.DefaultRootObject)
	}
	ew := s.errorPages(w, r, out)
	sent := s.buildRequest(r, &b)
	if b.Function == "" {
		s.cached(ew, r, &b, sent, out, func(w http.ResponseWriter) { s.forward(w, r, sent, out) })
		return
	}
	if b.EventType == OriginRequest {
		// CloudFront looks in its cache before an origin-request function:
		// a hit never reaches the function.
		s.cached(ew, r, &b, sent, out, func(w http.ResponseWriter) { s.run(w, r, b, sent, reqID, out) })
		return
	}
	s.run(ew, r, b, sent, reqID, out)
}

// withPath returns r asking for path (already escaped) instead.
func withPath(r *http.Request, path string) *http.Request {
	next := r.Clone(r.Context())
	u := *r.URL
	if p, err := url.PathUnescape(path); err == nil {
		u.Path, u.RawPath = p, path
	}
	next.URL = &u
	next.RequestURI = u.RequestURI()
	return next
}

// run invokes the behavior's function on sent and writes what it decides:
// its generated response, or the origin's answer to the request it returns.
func (s *Server) run(w http.ResponseWriter, r *http.Request, b Behavior, sent *edge.Request, reqID string, out *outcome) {
	res, err := s.invoke(r.Context(), s.funcs[b.Function], b, sent, reqID)
	if err != nil {
		s.fail(w, out, reqID, err)
		return
	}
	if res.Response != nil {
		code, body, err := checkResponse(res.Response, b.EventType)
		if err != nil {
			s.fail(w, out, reqID, err)
			return
		}
		out.decision = DecisionGenerated
		writeGenerated(w, res.Response, code, body, "LambdaGeneratedResponse from cloudfront")
		return
	}
	if err := checkRequest(sent, res.Request, b.EventType); err != nil {
		s.fail(w, out, reqID, err)
		return
	}
	if b.EventType == ViewerRequest {
		// After a viewer-request function, the cache sees the request the
		// function returned.
		s.cached(w, r, &b, res.Request, out, func(w http.ResponseWriter) { s.forward(w, r, res.Request, out) })
		return
	}
	s.forward(w, r, res.Request, out)
}

// cached serves req from the behavior's cache when it can, and otherwise
// writes through fill, keeping a cacheable GET answer for the policy's TTL
// (an error answer for its error-caching TTL). Only GET and HEAD use the
// cache (CloudFront's CachedMethods); a HEAD is served from a GET's entry
// but never stores one. fill's writer applies the custom error responses,
// so an entry holds the custom error page, as CloudFront caches it.
func (s *Server) cached(w http.ResponseWriter, r *http.Request, b *Behavior, req *edge.Request, out *outcome, fill func(http.ResponseWriter)) {
	p := b.Cache
	if p == nil || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		fill(s.errorPages(w, r, out))
		return
	}
	k := p.key(b.PathPattern, req)
	if e := s.cache.get(k, s.now()); e != nil {
		out.decision = DecisionHit
		out.customErrorPage, out.errorPageDone = e.errorPage, e.errorPage
		serveHit(w, r, e, s.now())
		return
	}
	if req.Method != http.MethodGet {
		fill(s.errorPages(w, r, out))
		return
	}
	rec := &recorder{ResponseWriter: w}
	fill(s.errorPages(rec, r, out))
	if out.decision == DecisionError {
		return // CloudFront does not cache its own error pages
	}
	e := rec.entry(k)
	if e == nil {
		return
	}
	now := s.now()
	status, header := e.status, e.header
	if out.errorStatus != 0 {
		// A custom error response replaced the answer: its TTL is the
		// error's, from the original status and headers.
		status, header = out.errorStatus, out.errorHeader
		e.errorPage = out.customErrorPage
	}
	if ttl := p.ttl(status, header, now, s.errorCachingMinTTL(status)); ttl > 0 {
		e.stored, e.expires = now, now.Add(ttl)
		s.cache.put(e, now)
	}
}

// errorCachingMinTTL is the error-caching minimum TTL for a status: the
// custom error response's, else CloudFront's default of 10 seconds.
func (s *Server) errorCachingMinTTL(status int) time.Duration {
	if c := s.cfg.customError(status); c != nil && c.ErrorCachingMinTTL != nil {
		return c.ErrorCachingMinTTL.Std()
	}
	return defaultErrorCachingMinTTL
}

// invoke runs f within the behavior's time limit. The event and the result
// are copied through JSON, as they are on the wire, so an in-process
// function meets the same decoding a remote one does. A function that
// ignores its context keeps running in its goroutine after the deadline;
// the viewer gets the 503 on time regardless.
func (s *Server) invoke(parent context.Context, f Function, b Behavior, sent *edge.Request, reqID string) (edge.Result, error) {
	evReq, err := cloneRequest(sent)
	if err != nil {
		return edge.Result{}, fmt.Errorf("%w: %w", ErrInvalidResult, err)
	}
	ev := edge.Event{Records: []edge.Record{{CF: edge.CF{
		Config: edge.Config{
			DistributionDomainName: s.cfg.DomainName,
			DistributionID:         s.cfg.DistributionID,
			EventType:              b.EventType,
			RequestID:              reqID,
		},
		Request: evReq,
	}}}}
	// CloudFront does not stop a function when the viewer goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), s.cfg.timeout(&b))
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       reqID,
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + b.Function + ":1",
	})

	type reply struct {
		res edge.Result
		err error
	}
	done := make(chan reply, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- reply{err: fmt.Errorf("function panicked: %v", p)}
			}
		}()
		res, err := f(ctx, ev)
		done <- reply{res, err}
	}()
	select {
	case rp := <-done:
		if rp.err != nil {
			return edge.Result{}, rp.err
		}
		return normalizeResult(rp.res)
	case <-ctx.Done():
		return edge.Result{}, breach(RuleFunctionTimeout, "function ran past its %s limit", s.cfg.timeout(&b))
	}
}

// fail answers the viewer as CloudFront does when a function breaks a rule:
// for Lambda@Edge, 502 for an invalid result, 503 for a function error or
// timeout; for a CloudFront Function, 502 for an invalid result, 503 for an
// execution error (a throw, the compute limit).
func (s *Server) fail(w http.ResponseWriter, out *outcome, reqID string, err error) {
	out.decision, out.err = DecisionError, err
	code, cache := http.StatusBadGateway, "LambdaValidationError from cloudfront"
	var re *RuleError
	var cf *cfError
	switch {
	case errors.As(err, &cf):
		code, cache, out.rule = http.StatusBadGateway, "FunctionValidationError from cloudfront", RuleInvalidResult
		switch {
		case errors.As(err, &re):
			out.rule = re.Rule
		case errors.Is(err, cfjs.ErrComputeBudget):
			code, cache, out.rule = http.StatusServiceUnavailable, "FunctionExecutionError from cloudfront", RuleComputeBudget
		case errors.Is(err, cfjs.ErrExecution):
			code, cache, out.rule = http.StatusServiceUnavailable, "FunctionExecutionError from cloudfront", RuleFunctionError
		}
	case errors.As(err, &re) && re.Rule == RuleFunctionTimeout:
		out.rule = re.Rule
		code, cache = http.StatusServiceUnavailable, "LambdaLimitExceeded from cloudfront"
		out.noErrorPage = true // "Limit Exceeded": CloudFront skips the custom error page
	case errors.As(err, &re):
		out.rule = re.Rule
	case errors.Is(err, ErrInvalidResult):
		out.rule = RuleInvalidResult
	default:
		out.rule = RuleFunctionError
		code, cache = http.StatusServiceUnavailable, "LambdaExecutionError from cloudfront"
	}
	writeError(w, code, cache, out.rule, reqID)
}

// writeError writes a CloudFront-like error page. It names the rule and the
// request id only; the details are in the log.
func writeError(w http.ResponseWriter, code int, xcache, rule, reqID string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", edge.NoStore)
	h.Set("X-Cache", xcache)
	w.WriteHeader(code)
	what := "The request broke CloudFront rule"
	switch {
	case strings.HasPrefix(xcache, "Lambda"):
		what = "The Lambda@Edge function result broke CloudFront rule"
	case strings.HasPrefix(xcache, "Function"):
		what = "The CloudFront Function broke CloudFront rule"
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head><body>\n"+
		"<h1>%d ERROR</h1>\n<h2>The request could not be satisfied.</h2>\n"+
		"<p>%s %q (localedge).</p>\n"+
		"<p>Request ID: %s</p>\n</body></html>\n",
		code, http.StatusText(code), code, what, html.EscapeString(rule), html.EscapeString(reqID))
}

// writeGenerated writes a validated generated response. Content-Length and
// Transfer-Encoding are the edge's to set, as CloudFront sets them.
func writeGenerated(w http.ResponseWriter, r *edge.Response, code int, body []byte, xcache string) {
	h := w.Header()
	for name, entries := range r.Headers {
		key := http.CanonicalHeaderKey(name)
		if key == "Content-Length" || key == "Transfer-Encoding" {
			continue
		}
		for _, e := range entries {
			h.Add(key, e.Value)
		}
	}
	h.Set("X-Cache", xcache)
	w.WriteHeader(code)
	_, _ = w.Write(body) // the viewer hung up; nothing to do
}

// forward sends req, as the function returned it, to the origin.
func (s *Server) forward(w http.ResponseWriter, in *http.Request, req *edge.Request, out *outcome) {
	o, err := toHTTP(in, req)
	if err != nil {
		s.fail(w, out, out.reqID, err)
		return
	}
	s.origin.ServeHTTP(w, o)
}

// statusRecorder remembers the status written, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
