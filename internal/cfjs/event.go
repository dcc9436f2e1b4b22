package cfjs

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
