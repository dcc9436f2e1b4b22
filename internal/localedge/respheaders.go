package localedge

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ResponseHeadersPolicy is a CloudFront response headers policy: headers
// CloudFront removes from and adds to the responses a behavior sends
// ("Understand response headers policies", AWS CloudFront Developer
// Guide). CloudFront applies it to every response it returns to viewers,
// from the cache or the origin, after the cache ("these headers don't
// affect how CloudFront caches the requested object") and before a
// viewer-response function. Removal comes first, so a header both removed
// and added is sent with the policy's value. CORS and Server-Timing
// settings are not modelled.
type ResponseHeadersPolicy struct {
	CustomHeaders   []CustomHeader   `json:"customHeaders,omitempty"`
	SecurityHeaders *SecurityHeaders `json:"securityHeaders,omitempty"`
	RemoveHeaders   []string         `json:"removeHeaders,omitempty"`
}

// CustomHeader is one custom header. With Override false, a response that
// already has the header keeps its own value.
type CustomHeader struct {
	Header   string `json:"header"`
	Value    string `json:"value"`
	Override bool   `json:"override"`
}

// SecurityHeaders is the policy's security headers section; each header
// has its own Override.
type SecurityHeaders struct {
	StrictTransportSecurity *struct {
		AccessControlMaxAgeSec int  `json:"accessControlMaxAgeSec"`
		IncludeSubdomains      bool `json:"includeSubdomains,omitempty"`
		Preload                bool `json:"preload,omitempty"`
		Override               bool `json:"override"`
	} `json:"strictTransportSecurity,omitempty"`
	ContentTypeOptions *struct {
		Override bool `json:"override"`
	} `json:"contentTypeOptions,omitempty"`
	FrameOptions *struct {
		FrameOption string `json:"frameOption"`
		Override    bool   `json:"override"`
	} `json:"frameOptions,omitempty"`
	ReferrerPolicy *struct {
		ReferrerPolicy string `json:"referrerPolicy"`
		Override       bool   `json:"override"`
	} `json:"referrerPolicy,omitempty"`
	ContentSecurityPolicy *struct {
		ContentSecurityPolicy string `json:"contentSecurityPolicy"`
		Override              bool   `json:"override"`
	} `json:"contentSecurityPolicy,omitempty"`
	XSSProtection *struct {
		Protection bool   `json:"protection"`
		ModeBlock  bool   `json:"modeBlock,omitempty"`
		ReportURI  string `json:"reportUri,omitempty"`
		Override   bool   `json:"override"`
	} `json:"xssProtection,omitempty"`
}

// Policy limits ("Quotas on headers").
const (
	maxCustomHeaders      = 10
	maxCustomHeaderName   = 256
	maxCustomHeaderValue  = 1783
	maxCustomHeadersTotal = 10240
)

// unremovable reports whether a response headers policy may neither
// remove nor set the header (CloudFront refuses such a policy): the
// disallowed headers of every edge function (isDisallowed), and a few
// more that frame or route the response.
func unremovable(lower string) bool {
	return isDisallowed(lower) ||
		slices.Contains([]string{"content-encoding", "content-length", "host", "transfer-encoding", "via", "warning"}, lower)
}

func (p *ResponseHeadersPolicy) validate(field string) error {
	if len(p.CustomHeaders) > maxCustomHeaders {
		return fieldErr(field+".customHeaders", "%d headers, CloudFront allows %d", len(p.CustomHeaders), maxCustomHeaders)
	}
	total := 0
	for i, h := range p.CustomHeaders {
		f := fmt.Sprintf("%s.customHeaders[%d]", field, i)
		lower := strings.ToLower(h.Header)
		switch {
		case !validToken(h.Header) || len(h.Header) > maxCustomHeaderName:
			return fieldErr(f+".header", "%q is not a header name of at most %d characters", h.Header, maxCustomHeaderName)
		case unremovable(lower):
			return fieldErr(f+".header", "%q cannot be set by a response headers policy", h.Header)
		case !validValue(h.Value) || len(h.Value) > maxCustomHeaderValue:
			return fieldErr(f+".value", "a value of at most %d characters, without control characters", maxCustomHeaderValue)
		}
		total += len(h.Header) + len(h.Value)
	}
	if total > maxCustomHeadersTotal {
		return fieldErr(field+".customHeaders", "names and values total %d characters, over %d", total, maxCustomHeadersTotal)
	}
	for i, name := range p.RemoveHeaders {
		lower := strings.ToLower(name)
		if !validToken(name) || unremovable(lower) {
			return fieldErr(fmt.Sprintf("%s.removeHeaders[%d]", field, i), "%q cannot be removed by a response headers policy", name)
		}
	}
	if sh := p.SecurityHeaders; sh != nil {
		if f := sh.FrameOptions; f != nil && f.FrameOption != "DENY" && f.FrameOption != "SAMEORIGIN" {
			return fieldErr(field+".securityHeaders.frameOptions.frameOption", "want DENY or SAMEORIGIN, got %q", f.FrameOption)
		}
		if r := sh.ReferrerPolicy; r != nil && !slices.Contains([]string{"no-referrer", "no-referrer-when-downgrade", "origin",
			"origin-when-cross-origin", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}, r.ReferrerPolicy) {
			return fieldErr(field+".securityHeaders.referrerPolicy.referrerPolicy", "%q is not a referrer policy", r.ReferrerPolicy)
		}
		if s := sh.StrictTransportSecurity; s != nil && s.AccessControlMaxAgeSec < 0 {
			return fieldErr(field+".securityHeaders.strictTransportSecurity.accessControlMaxAgeSec", "must not be negative")
		}
		if c := sh.ContentSecurityPolicy; c != nil && (c.ContentSecurityPolicy == "" || len(c.ContentSecurityPolicy) > maxCustomHeaderValue || !validValue(c.ContentSecurityPolicy)) {
			return fieldErr(field+".securityHeaders.contentSecurityPolicy", "a policy of 1 to %d characters", maxCustomHeaderValue)
		}
		if x := sh.XSSProtection; x != nil && x.ModeBlock && x.ReportURI != "" {
			return fieldErr(field+".securityHeaders.xssProtection", "modeBlock and reportUri cannot both be set")
		}
	}
	return nil
}

// apply changes h as CloudFront does before the response leaves.
func (p *ResponseHeadersPolicy) apply(h http.Header) {
	for _, name := range p.RemoveHeaders {
		h.Del(name)
	}
	set := func(name, value string, override bool) {
		if override || len(h.Values(name)) == 0 {
			h.Set(name, value)
		}
	}
	if sh := p.SecurityHeaders; sh != nil {
		if s := sh.StrictTransportSecurity; s != nil {
			v := "max-age=" + strconv.Itoa(s.AccessControlMaxAgeSec)
			if s.IncludeSubdomains {
				v += "; includeSubDomains"
			}
			if s.Preload {
				v += "; preload"
			}
			set("Strict-Transport-Security", v, s.Override)
		}
		if c := sh.ContentTypeOptions; c != nil {
			set("X-Content-Type-Options", "nosniff", c.Override)
		}
		if f := sh.FrameOptions; f != nil {
			set("X-Frame-Options", f.FrameOption, f.Override)
		}
		if r := sh.ReferrerPolicy; r != nil {
			set("Referrer-Policy", r.ReferrerPolicy, r.Override)
		}
		if c := sh.ContentSecurityPolicy; c != nil {
			set("Content-Security-Policy", c.ContentSecurityPolicy, c.Override)
		}
		if x := sh.XSSProtection; x != nil {
			v := "0"
			if x.Protection {
				v = "1"
				if x.ModeBlock {
					v += "; mode=block"
				}
				if x.ReportURI != "" {
					v += "; report=" + x.ReportURI
				}
			}
			set("X-XSS-Protection", v, x.Override)
		}
	}
	for _, c := range p.CustomHeaders {
		set(c.Header, c.Value, c.Override)
	}
}
