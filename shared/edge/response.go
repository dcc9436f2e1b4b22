package edge

import (
	"net/http"
	"strconv"
)

// NoStore is the Cache-Control value of every generated response: a redirect
// or error page that a browser or CloudFront keeps is how peers got loops.
const NoStore = "no-cache, no-store, max-age=0, must-revalidate"

// PageCSP allows the suite's own inline styles and nothing else: the pages
// load no scripts and no third-party assets.
const PageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// NewResponse starts a generated response with the given status code, the
// no-store Cache-Control and the security headers. hsts adds
// Strict-Transport-Security (leave it off for plain-HTTP local runs).
func NewResponse(code int, hsts bool) *Response {
	h := Headers{}
	h.Set("Cache-Control", NoStore)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if hsts {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	return &Response{
		Status:            strconv.Itoa(code),
		StatusDescription: http.StatusText(code),
		Headers:           h,
	}
}

// Redirect is a 302 to location.
func Redirect(location string, hsts bool) *Response {
	r := NewResponse(http.StatusFound, hsts)
	r.Headers.Set("Location", location)
	return r
}

// HTML sets an HTML body and the page CSP.
func (r *Response) HTML(body string) *Response {
	r.Headers.Set("Content-Type", "text/html; charset=utf-8")
	r.Headers.Set("Content-Security-Policy", PageCSP)
	r.Body, r.BodyEncoding = body, "text"
	return r
}

// Text sets a plain-text body.
func (r *Response) Text(body string) *Response {
	r.Headers.Set("Content-Type", "text/plain; charset=utf-8")
	r.Body, r.BodyEncoding = body, "text"
	return r
}

// SetCookie adds one Set-Cookie entry.
func (r *Response) SetCookie(c *http.Cookie) *Response {
	r.Headers.Add("Set-Cookie", c.String())
	return r
}

// SetCookies adds one Set-Cookie entry per cookie, in order.
func (r *Response) SetCookies(cs ...*http.Cookie) *Response {
	for _, c := range cs {
		r.SetCookie(c)
	}
	return r
}
