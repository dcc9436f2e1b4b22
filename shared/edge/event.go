// Package edge defines the Lambda@Edge CloudFront request event and the two
// results a request trigger may return — the request passed on, or a generated
// response — in AWS's documented JSON shape, plus the header, cookie and query
// helpers the functions share.
//
// aws-lambda-go has no CloudFront types, so these are ours; round-trip tests
// over AWS's sample events pin them to the documented shape.
package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Event is what CloudFront sends a Lambda@Edge function.
type Event struct {
	Records []Record `json:"Records"`
}

// Record is one entry of Event.Records; CloudFront always sends exactly one.
type Record struct {
	CF CF `json:"cf"`
}

// CF carries the distribution config and the request (request triggers) or
// the response (response triggers).
type CF struct {
	Config   Config    `json:"config"`
	Request  *Request  `json:"request,omitempty"`
	Response *Response `json:"response,omitempty"`
}

// Config describes the distribution and the invocation.
type Config struct {
	DistributionDomainName string `json:"distributionDomainName,omitempty"`
	DistributionID         string `json:"distributionId,omitempty"`
	EventType              string `json:"eventType,omitempty"`
	RequestID              string `json:"requestId,omitempty"`
}

// Header is one occurrence of an HTTP header. Key keeps the name's original
// case; CloudFront generates it when a function leaves it empty.
type Header struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// Headers maps a lowercase header name to its occurrences, in order.
type Headers map[string][]Header

// Request is the request object of a viewer- or origin-request event, and the
// object a request trigger returns to let the request go on.
type Request struct {
	ClientIP    string  `json:"clientIp"`
	Headers     Headers `json:"headers"`
	Method      string  `json:"method"`
	QueryString string  `json:"querystring"`
	URI         string  `json:"uri"`
	Body        *Body   `json:"body,omitempty"`
	Origin      *Origin `json:"origin,omitempty"`
}

// Body is present only when the behavior includes the body.
type Body struct {
	InputTruncated bool   `json:"inputTruncated"`
	Action         string `json:"action"`
	Encoding       string `json:"encoding"`
	Data           string `json:"data"`
}

// Origin is present on origin-request events; exactly one of its fields is set.
type Origin struct {
	Custom *CustomOrigin `json:"custom,omitempty"`
	S3     *S3Origin     `json:"s3,omitempty"`
}

// CustomOrigin is an HTTP origin.
type CustomOrigin struct {
	CustomHeaders    Headers  `json:"customHeaders"`
	DomainName       string   `json:"domainName"`
	KeepaliveTimeout int      `json:"keepaliveTimeout"`
	Path             string   `json:"path"`
	Port             int      `json:"port"`
	Protocol         string   `json:"protocol"`
	ReadTimeout      int      `json:"readTimeout"`
	SSLProtocols     []string `json:"sslProtocols"`
}

// S3Origin is an S3 bucket origin.
type S3Origin struct {
	AuthMethod    string  `json:"authMethod"`
	CustomHeaders Headers `json:"customHeaders"`
	DomainName    string  `json:"domainName"`
	Path          string  `json:"path"`
	Region        string  `json:"region"`
}

// Response is a generated response returned by a request trigger, and the
// response object of a response event. Status is a string, as CloudFront
// requires.
type Response struct {
	Status            string  `json:"status"`
	StatusDescription string  `json:"statusDescription,omitempty"`
	Headers           Headers `json:"headers,omitempty"`
	Body              string  `json:"body,omitempty"`
	BodyEncoding      string  `json:"bodyEncoding,omitempty"`
}

// Result is what a request trigger returns: exactly one of Request (pass the
// request on) or Response (answer the viewer).
type Result struct {
	Request  *Request
	Response *Response
}

// Continue passes req on to the cache and origin.
func Continue(req *Request) Result { return Result{Request: req} }

// Respond answers the viewer with resp.
func Respond(resp *Response) Result { return Result{Response: resp} }

// ErrBadEvent is returned for an event that is not a request-trigger event.
var ErrBadEvent = errors.New("edge: not a CloudFront request event")

// MarshalJSON writes the one object CloudFront expects.
func (r Result) MarshalJSON() ([]byte, error) {
	switch {
	case r.Response != nil && r.Request == nil:
		return json.Marshal(r.Response)
	case r.Request != nil && r.Response == nil:
		return json.Marshal(r.Request)
	default:
		return nil, errors.New("edge: result must hold exactly one of request or response")
	}
}

// UnmarshalJSON reads a returned object: one with a "status" is a generated
// response, anything else the request passed on.
func (r *Result) UnmarshalJSON(b []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("edge: result: %w", err)
	}
	if probe == nil {
		return errors.New("edge: result is null")
	}
	*r = Result{}
	if _, ok := probe["status"]; ok {
		r.Response = new(Response)
		return json.Unmarshal(b, r.Response)
	}
	r.Request = new(Request)
	return json.Unmarshal(b, r.Request)
}

// DecodeEvent parses a request-trigger event and checks its envelope: one
// record that carries a request. It never panics on untrusted input.
func DecodeEvent(b []byte) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if _, _, err := ev.Request(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Request returns the event's request and distribution config, or
// ErrBadEvent when the event has no request.
func (e Event) Request() (*Request, Config, error) {
	if len(e.Records) != 1 {
		return nil, Config{}, fmt.Errorf("%w: %d records, want 1", ErrBadEvent, len(e.Records))
	}
	cf := e.Records[0].CF
	if cf.Request == nil {
		return nil, Config{}, fmt.Errorf("%w: no request", ErrBadEvent)
	}
	if cf.Request.Headers == nil {
		cf.Request.Headers = Headers{}
	}
	return cf.Request, cf.Config, nil
}

// Path returns the URI with a leading slash, for matching. The seed-style
// event carries "path/to/x" without one; the request itself is not changed.
func (r *Request) Path() string {
	if strings.HasPrefix(r.URI, "/") {
		return r.URI
	}
	return "/" + r.URI
}

// PathAndQuery returns Path plus "?query" when there is a query string.
func (r *Request) PathAndQuery() string {
	if r.QueryString == "" {
		return r.Path()
	}
	return r.Path() + "?" + r.QueryString
}
