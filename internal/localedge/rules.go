package localedge

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// Rules a function result can break. Each appears in the log line of the
// request that broke it, so a developer sees which CloudFront check failed.
const (
	RuleInvalidResult   = "invalid-result"    // not JSON of a request or a response
	RuleReadOnlyField   = "read-only-field"   // method or clientIp changed
	RuleURI             = "uri"               // returned uri not a path, or uri+query too long
	RuleHeaderName      = "header-name"       // map key not lowercase, key mismatch, bad token
	RuleHeaderValue     = "header-value"      // control characters in a value
	RuleReadOnlyHeader  = "read-only-header"  // Host, Content-Length, Via… added, removed or changed
	RuleDisallowed      = "disallowed-header" // Connection, X-Amz-Cf-*, … added
	RuleStatus          = "status"            // status not a string in 200–599
	RuleBodyEncoding    = "body-encoding"     // not text or base64, or base64 that does not decode
	RuleResponseSize    = "response-size"     // generated response over 40 KB (viewer) or 1 MB (origin)
	RuleFunctionError   = "function-error"    // the function returned an error or panicked
	RuleFunctionTimeout = "function-timeout"  // the function ran past its time limit
	RuleComputeBudget   = "compute-budget"    // a CloudFront Function ran past its compute budget
	RuleOrigin          = "origin-unreachable"
)

// Limits CloudFront puts on what a request trigger returns.
const (
	maxViewerResponse = 40 * 1024
	maxOriginResponse = 1024 * 1024
	maxURIAndQuery    = 8192
)

// ErrInvalidResult marks a function result that cannot be read as a request
// or a generated response; Remote wraps it around undecodable output.
var ErrInvalidResult = errors.New("localedge: invalid function result")

// RuleError says which CloudFront validation rule a result broke. Detail
// names headers and fields, never their values.
type RuleError struct {
	Rule   string
	Detail string
}

// Error names the rule and the detail.
func (e *RuleError) Error() string { return "localedge: " + e.Rule + ": " + e.Detail }

func breach(rule, format string, args ...any) *RuleError {
	return &RuleError{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// disallowedHeaders are the names CloudFront neither shows a function nor
// lets it add, from "Restrictions on all edge functions" (AWS CloudFront
// Developer Guide), plus the two families PLATFORM.md lists as prefixes.
var disallowedHeaders = []string{
	"connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
	"proxy-connection", "trailer", "upgrade", "x-accel-buffering", "x-accel-charset",
	"x-accel-limit-rate", "x-accel-redirect", "x-amzn-auth", "x-amzn-cf-billing",
	"x-amzn-cf-id", "x-amzn-cf-xff", "x-amzn-errortype", "x-amzn-fle-profile",
	"x-amzn-header-count", "x-amzn-header-order", "x-amzn-lambda-integration-tag",
	"x-amzn-requestid", "x-cache", "x-forwarded-proto", "x-real-ip",
}

func isDisallowed(lower string) bool {
	return strings.HasPrefix(lower, "x-amz-cf-") || strings.HasPrefix(lower, "x-edge-") ||
		slices.Contains(disallowedHeaders, lower)
}

// readOnlyHeaders per request event type, from the same AWS page. Host is
// writable at origin request: that is how a function picks another origin
// host.
func readOnlyHeaders(eventType string) []string {
	if eventType == OriginRequest {
		return []string{"accept-encoding", "cdn-loop", "content-length", "if-modified-since", "if-none-match",
			"if-range", "if-unmodified-since", "transfer-encoding", "via"}
	}
	return []string{"cdn-loop", "content-length", "host", "transfer-encoding", "via"}
}

// checkHeaders applies the rules every returned header map must meet.
func checkHeaders(h edge.Headers) error {
	for name, entries := range h {
		if name != strings.ToLower(name) {
			return breach(RuleHeaderName, "map key %q is not lowercase", name)
		}
		if !validToken(name) {
			return breach(RuleHeaderName, "map key %q is not a valid header name", name)
		}
		if isDisallowed(name) {
			return breach(RuleDisallowed, "header %q is disallowed", name)
		}
		for _, e := range entries {
			if e.Key != "" && strings.ToLower(e.Key) != name {
				return breach(RuleHeaderName, "key %q does not match map key %q", e.Key, name)
			}
			if !validValue(e.Value) {
				return breach(RuleHeaderValue, "header %q has a control character in its value", name)
			}
		}
	}
	return nil
}

// checkRequest validates a returned request against the one sent.
func checkRequest(sent, got *edge.Request, eventType string) error {
	if got.Method != sent.Method {
		return breach(RuleReadOnlyField, "method is read-only")
	}
	if got.ClientIP != sent.ClientIP {
		return breach(RuleReadOnlyField, "clientIp is read-only")
	}
	if !strings.HasPrefix(got.URI, "/") {
		return breach(RuleURI, "uri must start with /")
	}
	if len(got.URI)+len(got.QueryString) > maxURIAndQuery {
		return breach(RuleURI, "uri and querystring exceed %d bytes", maxURIAndQuery)
	}
	if !validValue(got.URI) || strings.ContainsAny(got.URI, " #?") || !validValue(got.QueryString) ||
		strings.ContainsAny(got.QueryString, " #") {
		return breach(RuleURI, "uri or querystring holds a character that must be encoded")
	}
	if err := checkHeaders(got.Headers); err != nil {
		return err
	}
	for _, name := range readOnlyHeaders(eventType) {
		if !slices.Equal(sent.Headers.Values(name), got.Headers.Values(name)) {
			return breach(RuleReadOnlyHeader, "header %q is read-only at %s", name, eventType)
		}
	}
	return nil
}

// checkResponse validates a generated response and returns its decoded
// status and body.
func checkResponse(r *edge.Response, eventType string) (int, []byte, error) {
	code, err := strconv.Atoi(r.Status)
	if err != nil || code < 200 || code > 599 {
		return 0, nil, breach(RuleStatus, "status %q is not a string in 200-599", r.Status)
	}
	if err := checkHeaders(r.Headers); err != nil {
		return 0, nil, err
	}
	if !validValue(r.StatusDescription) {
		return 0, nil, breach(RuleHeaderValue, "statusDescription has a control character")
	}
	var body []byte
	switch r.BodyEncoding {
	case "", "text":
		body = []byte(r.Body)
	case "base64":
		body, err = base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return 0, nil, breach(RuleBodyEncoding, "body is not valid base64")
		}
	default:
		return 0, nil, breach(RuleBodyEncoding, "bodyEncoding %q is not text or base64", r.BodyEncoding)
	}
	// "Response Contains a Body and Specifies 204 (No Content)": 502 at
	// viewer request.
	if code == http.StatusNoContent && len(body) > 0 && eventType != OriginRequest {
		return 0, nil, breach(RuleStatus, "status 204 with a body")
	}
	limit := maxViewerResponse
	if eventType == OriginRequest {
		limit = maxOriginResponse
	}
	// CloudFront counts the whole generated response, headers included.
	size := len(r.Body) + len(r.Status) + len(r.StatusDescription)
	for name, entries := range r.Headers {
		for _, e := range entries {
			size += len(name) + len(e.Value)
		}
	}
	if size > limit {
		return 0, nil, breach(RuleResponseSize, "generated response is %d bytes, over the %d-byte limit for %s", size, limit, eventType)
	}
	return code, body, nil
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValue rejects the control characters that would split or corrupt a
// header line (tab is allowed, as RFC 9110 allows it).
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
