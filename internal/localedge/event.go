package localedge

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// newRequestID returns a CloudFront-style request id: 40 random bytes in
// padded base64url, 56 characters, like the x-amz-cf-id CloudFront sends.
func newRequestID() string {
	var b [40]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.URLEncoding.EncodeToString(b[:])
}

// viaValue is what CloudFront puts in Via, naming a fake edge host.
func (s *Server) viaValue() string {
	return "1.1 " + strings.ToLower(s.cfg.DistributionID) + ".localedge.invalid (CloudFront)"
}

// s3OriginDomain is the bucket-like domain a folder origin goes by: the
// origin object's domainName and the Host of its origin requests.
const s3OriginDomain = "localedge-origin.s3.us-east-1.amazonaws.com"

// userAgentCloudFront is the User-Agent CloudFront sends an origin when the
// policy does not forward the viewer's.
const userAgentCloudFront = "Amazon CloudFront"

// buildRequest shapes r as the request object CloudFront sends the
// behavior's trigger: lowercase map keys, every occurrence its own entry
// (several Cookie lines stay several entries), the raw path and querystring
// byte for byte, and no disallowed header, since CloudFront does not expose
// those to functions. A viewer-request event carries every viewer header and
// the viewer's Host; an origin-request event only what the behavior's
// policy forwards (see originHeaders).
func (s *Server) buildRequest(r *http.Request, b *Behavior) *edge.Request {
	h := viewerHeaders(r)
	query := r.URL.RawQuery
	if b.EventType == OriginRequest {
		h = s.originHeaders(r, b, h)
		if !b.forwardsQuery() {
			query = ""
		}
	}
	uri := r.URL.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	req := &edge.Request{
		ClientIP:    clientIP(r),
		Headers:     h,
		Method:      r.Method,
		QueryString: query,
		URI:         uri,
	}
	if b.EventType == OriginRequest {
		req.Origin = s.originObject()
	}
	return req
}

// viewerHeaders is every header the viewer sent that CloudFront shows a
// function, Host (from the request line) included.
func viewerHeaders(r *http.Request) edge.Headers {
	h := edge.Headers{}
	h["host"] = []edge.Header{{Key: "Host", Value: r.Host}}
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "host" || isDisallowed(lower) {
			continue
		}
		for _, v := range values {
			h[lower] = append(h[lower], edge.Header{Key: name, Value: v})
		}
	}
	// Go keeps Transfer-Encoding out of the header map; CloudFront shows it.
	if len(r.TransferEncoding) > 0 {
		h["transfer-encoding"] = []edge.Header{{Key: "Transfer-Encoding", Value: strings.Join(r.TransferEncoding, ", ")}}
	}
	return h
}

// originHeaders keeps of the viewer's headers what the behavior's policy
// forwards, and adds what CloudFront always sends an origin: Host (the
// origin's domain, unless the policy forwards the viewer's), Via,
// X-Forwarded-For, User-Agent (CloudFront's own unless forwarded), and
// Content-Length or Transfer-Encoding, which frame the body CloudFront
// always passes on.
func (s *Server) originHeaders(r *http.Request, b *Behavior, viewer edge.Headers) edge.Headers {
	h := edge.Headers{}
	for name, entries := range viewer {
		switch name {
		case "cookie", "via", "x-forwarded-for":
			continue // below
		case "content-length", "transfer-encoding":
		default:
			if !b.forwardsHeader(name) {
				continue
			}
		}
		h[name] = entries
	}
	if h["host"] == nil {
		h["host"] = []edge.Header{{Key: "Host", Value: s.originHost()}}
	}
	if h["user-agent"] == nil {
		h["user-agent"] = []edge.Header{{Key: "User-Agent", Value: userAgentCloudFront}}
	}
	if c := forwardedCookies(viewer["cookie"], b.ForwardCookies); c != nil {
		h["cookie"] = c
	}
	xff := clientIP(r)
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + xff
	}
	h["x-forwarded-for"] = []edge.Header{{Key: "X-Forwarded-For", Value: xff}}
	h["via"] = []edge.Header{{Key: "Via", Value: s.viaValue()}}
	return h
}

// forwardedCookies applies a cookie policy to the viewer's Cookie entries:
// all of them as sent, none, or the named cookies only, rebuilt as one
// entry in the viewer's order.
func forwardedCookies(entries []edge.Header, p CookieForwarding) []edge.Header {
	if p.All || len(entries) == 0 {
		return entries
	}
	var kept []string
	for _, e := range entries {
		for _, c := range edge.ParseCookieHeader(e.Value) {
			if p.forwards(c.Name) {
				kept = append(kept, c.Name+"="+c.Value)
			}
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return []edge.Header{{Key: "Cookie", Value: strings.Join(kept, "; ")}}
}

// originHost is the Host CloudFront sends the origin: the bucket's domain
// for a folder origin, the upstream's host (and port) for a URL origin.
func (s *Server) originHost() string {
	if s.cfg.Origin.Dir != "" {
		return s3OriginDomain
	}
	return s.upstream.Host
}

// originObject describes the configured origin as an origin-request event
// does: an S3 origin for a folder, a custom origin for a URL.
func (s *Server) originObject() *edge.Origin {
	if s.cfg.Origin.Dir != "" {
		return &edge.Origin{S3: &edge.S3Origin{
			AuthMethod:    "none",
			CustomHeaders: edge.Headers{},
			DomainName:    s3OriginDomain,
			Region:        "us-east-1",
		}}
	}
	u := s.upstream
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p) // validated by url.Parse
	}
	return &edge.Origin{Custom: &edge.CustomOrigin{
		CustomHeaders:    edge.Headers{},
		DomainName:       u.Hostname(),
		KeepaliveTimeout: 5,
		Path:             strings.TrimSuffix(u.Path, "/"),
		Port:             port,
		Protocol:         u.Scheme,
		ReadTimeout:      30,
		SSLProtocols:     []string{"TLSv1.2"},
	}}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// cloneRequest deep-copies a request through JSON, the way it crosses into
// a real function, so a function that edits its event in place cannot
// change the copy the rules compare against.
func cloneRequest(r *edge.Request) (*edge.Request, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var out edge.Request
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// normalizeResult round-trips a result through the JSON CloudFront would
// read, so an in-process function meets the same decoding as a remote one.
func normalizeResult(res edge.Result) (edge.Result, error) {
	b, err := json.Marshal(res)
	if err != nil {
		return edge.Result{}, fmt.Errorf("%w: %w", ErrInvalidResult, err)
	}
	var out edge.Result
	if err := json.Unmarshal(b, &out); err != nil {
		return edge.Result{}, fmt.Errorf("%w: %w", ErrInvalidResult, err)
	}
	return out, nil
}

// toHTTP turns the request a function returned into the request the origin
// receives: exactly its headers, uri and querystring, and the viewer's body.
func toHTTP(in *http.Request, req *edge.Request) (*http.Request, error) {
	target := req.URI
	if req.QueryString != "" {
		target += "?" + req.QueryString
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, breach(RuleURI, "returned uri does not parse")
	}
	out := in.Clone(in.Context())
	out.URL = u
	out.RequestURI = u.RequestURI()
	out.Header = make(http.Header, len(req.Headers))
	for name, entries := range req.Headers {
		if name == "host" {
			continue
		}
		key := http.CanonicalHeaderKey(name)
		for _, e := range entries {
			out.Header[key] = append(out.Header[key], e.Value)
		}
	}
	out.Host = req.Headers.Get("host")
	return out, nil
}
