package cfjs

import (
	"bytes"
	"encoding/json"
	"sort"
)

// Event types a CloudFront Function can be associated with.
const (
	ViewerRequest  = "viewer-request"
	ViewerResponse = "viewer-response"
)

// EventVersion is the event object's version field, CloudFront's current 1.0.
const EventVersion = "1.0"

// Event is the object CloudFront Functions passes to handler(event)
// (AWS CloudFront Developer Guide, "CloudFront Functions event structure").
// Response is set for viewer-response events only.
type Event struct {
	Version  string    `json:"version"`
	Context  Context   `json:"context"`
	Viewer   Viewer    `json:"viewer"`
	Request  Request   `json:"request"`
	Response *Response `json:"response,omitempty"`
}

// Context describes the distribution and the request.
type Context struct {
	DistributionDomainName string `json:"distributionDomainName"`
	DistributionID         string `json:"distributionId"`
	EventType              string `json:"eventType"`
	RequestID              string `json:"requestId"`
}

// Viewer is the client, as CloudFront saw its connection.
type Viewer struct {
	IP string `json:"ip"`
}

// Value is one query string parameter or header. MultiValue lists every
// occurrence, the first included, and is set only when there are several.
type Value struct {
	Value      string  `json:"value"`
	MultiValue []Value `json:"multiValue,omitempty"`
}

// Values returns every occurrence, in order.
func (v Value) Values() []string {
	if len(v.MultiValue) == 0 {
		return []string{v.Value}
	}
	out := make([]string, len(v.MultiValue))
	for i, m := range v.MultiValue {
		out[i] = m.Value
	}
	return out
}

// AddValue records one more occurrence of a header or query parameter
// in m as CloudFront shows repeats: Value keeps the first, and from the
// second on MultiValue lists them all.
func AddValue(m map[string]Value, name, value string) {
	cur, ok := m[name]
	if !ok {
		m[name] = Value{Value: value}
		return
	}
	if len(cur.MultiValue) == 0 {
		cur.MultiValue = []Value{{Value: cur.Value}}
	}
	cur.MultiValue = append(cur.MultiValue, Value{Value: value})
	m[name] = cur
}

// AddCookie is AddValue for a cookie.
func AddCookie(m map[string]Cookie, name string, c Cookie) {
	cur, ok := m[name]
	if !ok {
		m[name] = c
		return
	}
	if len(cur.MultiValue) == 0 {
		cur.MultiValue = []Cookie{{Value: cur.Value, Attributes: cur.Attributes}}
	}
	cur.MultiValue = append(cur.MultiValue, c)
	m[name] = cur
}

// Cookie is one cookie. Attributes are a Set-Cookie line's attributes
// ("Secure; Path=/"), in responses only.
type Cookie struct {
	Value      string   `json:"value"`
	Attributes string   `json:"attributes,omitempty"`
	MultiValue []Cookie `json:"multiValue,omitempty"`
}

// Request is the viewer's request. Header names are lowercase; the Cookie
// header is not among them, its cookies are in Cookies. QueryString holds
// the parameters as they appear in the URL, still percent-encoded.
type Request struct {
	Method      string            `json:"method"`
	URI         string            `json:"uri"`
	QueryString map[string]Value  `json:"querystring"`
	Headers     map[string]Value  `json:"headers"`
	Cookies     map[string]Cookie `json:"cookies"`
	// QueryOrder lists QueryString's keys in order, which a Go map does not
	// keep: the URL's order in an event (the event's object has its keys in
	// this order), the returned object's in a Result. Keys it leaves out
	// follow, sorted.
	QueryOrder []string `json:"-"`
}

// MarshalJSON writes the request with its query string keys in QueryOrder.
func (r Request) MarshalJSON() ([]byte, error) {
	var q bytes.Buffer
	q.WriteByte('{')
	seen := map[string]bool{}
	keys := make([]string, 0, len(r.QueryString))
	for _, k := range r.QueryOrder {
		if _, ok := r.QueryString[k]; ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	rest := make([]string, 0, len(r.QueryString))
	for k := range r.QueryString {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for i, k := range append(keys, rest...) {
		if i > 0 {
			q.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(r.QueryString[k])
		if err != nil {
			return nil, err
		}
		q.Write(kb)
		q.WriteByte(':')
		q.Write(vb)
	}
	q.WriteByte('}')
	type plain Request // without this method
	p := plain(r)
	p.QueryString = nil
	b, err := json.Marshal(struct {
		plain
		QueryString json.RawMessage `json:"querystring"`
	}{p, q.Bytes()})
	return b, err
}

// Response is the response a viewer-response event carries, or one a
// function generates. Set-Cookie lines are in Cookies, not Headers.
// StatusCode is a number, not a string as in Lambda@Edge.
type Response struct {
	StatusCode        int               `json:"statusCode"`
	StatusDescription string            `json:"statusDescription,omitempty"`
	Headers           map[string]Value  `json:"headers,omitempty"`
	Cookies           map[string]Cookie `json:"cookies,omitempty"`
	// Body is nil when the function leaves the body alone (viewer-response)
	// or generates none.
	Body *Body `json:"body,omitempty"`
}

// Body is a generated body: Data in Encoding "text" or "base64". A function
// may also give a plain string, which is text.
type Body struct {
	Data     string `json:"data"`
	Encoding string `json:"encoding"`
}

// Result is what handler(event) returned: exactly one of Request (the
// request goes on) and Response (CloudFront answers with it).
type Result struct {
	Request  *Request
	Response *Response
}
