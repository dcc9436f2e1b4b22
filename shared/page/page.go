// Package page renders the suite's HTML pages (error, forbidden, signed out)
// from the templates package into Lambda@Edge responses. Templates are
// parsed once per cold start; rendering never fails the request.
package page

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/templates"
)

// Kind selects a template.
type Kind int

// Page kinds.
const (
	Error     Kind = iota // error.html: failed sign-in and other errors
	Forbidden             // forbidden.html: signed in but not allowed (403)
	SignedOut             // signed-out.html: after sign-out
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Error:
		return "error"
	case Forbidden:
		return "forbidden"
	case SignedOut:
		return "signed-out"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

var files = map[Kind]string{Error: "error.html", Forbidden: "forbidden.html", SignedOut: "signed-out.html"}

// MaxBody is the largest page body sent: a generated response from a
// viewer trigger must stay under 40 KB, headers included.
const MaxBody = 32 << 10

// MaxDetail is how much of Page.Detail is shown, in bytes. Detail may come
// from the IdP's redirect (error_description), which anyone can forge; a
// short, escaped, labelled text is all it gets.
const MaxDetail = 500

// Page is what a page shows. All text is escaped by html/template.
type Page struct {
	Kind      Kind
	Title     string // e.g. "Sign-in failed"; default by Kind
	Message   string // plain explanation for a person; default by Kind
	Detail    string // optional, e.g. the IdP's error_description
	RequestID string // shown so a user can quote it to support
	Link      string // optional same-origin path, e.g. "/"; dropped unless session.CleanReturnPath accepts it
	LinkText  string // default "Continue"
	// AltLink is an optional second same-origin path, shown as a plain
	// link beside the button (checked as Link is); AltLinkText defaults to
	// "Go to the home page".
	AltLink     string
	AltLinkText string
	// Account names the signed-in account (an email or username), shown as
	// "Signed in as …" on pages for someone signed in.
	Account string
}

// view is the data the templates see.
type view struct {
	Page
	Status     int
	StatusText string
	Brand      brand
}

// Branding brands every page; every field is optional, and the pages stay
// self-contained (no outside assets: their CSP allows none).
type Branding struct {
	// SiteName is shown above each page's heading and in its title: at most
	// 80 characters, no control characters.
	SiteName string
	// AccentColor colours the site name and the page's button: #rgb or
	// #rrggbb.
	AccentColor string
	// SupportURL is linked from each page's footer: an https URL or a
	// mailto: address, at most 300 characters.
	SupportURL string
}

// ConfigError is the error New returns for a Branding it refuses. Field
// names the field in lower camel case ("accentColor"); Problem says what is
// wrong.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "page: " + e.Field + ": " + e.Problem }

func bad(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

var colorRE = regexp.MustCompile(`^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$`)

// check is the one check of a Branding: the accent colour becomes trusted
// CSS, and the support link a href, so both are held to narrow forms.
func (b Branding) check() error {
	if len(b.SiteName) > 80 || strings.ContainsFunc(b.SiteName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return bad("siteName", "must be at most 80 characters without control characters")
	}
	if b.AccentColor != "" && !colorRE.MatchString(b.AccentColor) {
		return bad("accentColor", "must be a colour such as #0b5fff, got %q", b.AccentColor)
	}
	if b.SupportURL != "" {
		u, err := url.Parse(b.SupportURL)
		switch {
		case err != nil || len(b.SupportURL) > 300:
			return bad("supportUrl", "must be an https URL or a mailto: address of at most 300 characters")
		case u.Scheme == "https" && u.Host != "" && u.User == nil:
		case u.Scheme == "mailto" && u.Opaque != "" && strings.Contains(u.Opaque, "@"):
		default:
			return bad("supportUrl", "must be an https URL or a mailto: address, got %q", b.SupportURL)
		}
	}
	return nil
}

// brand is the branding as the templates use it. Accent is trusted CSS
// because New admits only #rgb and #rrggbb.
type brand struct {
	SiteName   string
	Accent     template.CSS
	SupportURL string
}

var defaults = map[Kind]struct{ title, message string }{
	Error:     {"Something went wrong", "We could not complete your request. Please try again in a moment."},
	Forbidden: {"Access denied", "You are signed in, but your account does not have access to this page."},
	SignedOut: {"Signed out", "You have been signed out."},
}

// Renderer renders pages. It is safe for concurrent use.
type Renderer struct {
	secure bool
	brand  brand
	tmpl   map[Kind]*template.Template
}

// New checks b and parses the templates (once, at cold start). secure adds
// HSTS to every response; leave it off for plain-HTTP local runs. b brands
// every page (the zero value: none); a problem with it is a *ConfigError.
func New(secure bool, b Branding) (*Renderer, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	r := &Renderer{secure: secure, tmpl: map[Kind]*template.Template{}}
	r.brand = brand{SiteName: b.SiteName, Accent: template.CSS(b.AccentColor), SupportURL: b.SupportURL}
	for k, name := range files {
		// Each kind is its own set (the layout plus the kind's file), so
		// one kind's {{define}} cannot leak into another's.
		t, err := template.New(name).Option("missingkey=error").ParseFS(templates.FS, "layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("page: parse %s: %w", name, err)
		}
		r.tmpl[k] = t
	}
	return r, nil
}

// Response renders p as an HTML response with status code, no-store and
// the security headers (edge.NewResponse). It never fails: if the template
// errors or the page is larger than MaxBody, a plain built-in page with the
// same text is sent instead. A code outside 200-599, which CloudFront would
// reject, becomes 500.
func (r *Renderer) Response(code int, p Page) *edge.Response {
	if code < 200 || code > 599 {
		code = http.StatusInternalServerError
	}
	v := view{Page: normalize(p), Status: code, StatusText: http.StatusText(code), Brand: r.brand}
	body, err := r.render(v)
	if err != nil {
		body = fallback(v)
	}
	return edge.NewResponse(code, r.secure).HTML(body)
}

func (r *Renderer) render(v view) (string, error) {
	t, ok := r.tmpl[v.Kind]
	if !ok {
		t = r.tmpl[Error]
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return "", fmt.Errorf("page: render %s: %w", v.Kind, err)
	}
	if buf.Len() > MaxBody {
		return "", fmt.Errorf("page: %s is %d bytes, limit %d", v.Kind, buf.Len(), MaxBody)
	}
	return buf.String(), nil
}

func normalize(p Page) Page {
	if _, ok := files[p.Kind]; !ok {
		p.Kind = Error
	}
	d := defaults[p.Kind]
	if p.Title == "" {
		p.Title = d.title
	}
	if p.Message == "" {
		p.Message = d.message
	}
	p.Title = truncate(p.Title, 200)
	p.Message = truncate(p.Message, 2000)
	p.Detail = truncate(p.Detail, MaxDetail)
	p.RequestID = truncate(p.RequestID, 200)
	p.Link, p.LinkText = link(p.Link, p.LinkText, "Continue")
	p.AltLink, p.AltLinkText = link(p.AltLink, p.AltLinkText, "Go to the home page")
	p.Account = truncate(p.Account, 200)
	return p
}

// link keeps path only if session.CleanReturnPath accepts it (same-origin),
// and gives a kept link its text, def when none was given.
func link(path, text, def string) (string, string) {
	if _, err := session.CleanReturnPath(path); err != nil {
		path = ""
	}
	if path != "" && text == "" {
		text = def
	}
	return path, truncate(text, 100)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// fallback is the page sent when a template fails: plain, escaped, built in.
func fallback(v view) string {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(v.Title))
	b.WriteString("</title></head><body style=\"font-family:system-ui,sans-serif;max-width:34rem;margin:10vh auto;padding:0 1rem\"><h1>")
	b.WriteString(html.EscapeString(v.Title))
	b.WriteString("</h1><p>")
	b.WriteString(html.EscapeString(v.Message))
	b.WriteString("</p>")
	if v.Detail != "" {
		b.WriteString("<pre style=\"white-space:pre-wrap\">")
		b.WriteString(html.EscapeString(v.Detail))
		b.WriteString("</pre>")
	}
	if v.Account != "" {
		b.WriteString("<p>Signed in as <strong>")
		b.WriteString(html.EscapeString(v.Account))
		b.WriteString("</strong></p>")
	}
	if v.Link != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\">%s</a></p>", html.EscapeString(v.Link), html.EscapeString(v.LinkText))
	}
	if v.AltLink != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\">%s</a></p>", html.EscapeString(v.AltLink), html.EscapeString(v.AltLinkText))
	}
	if v.RequestID != "" {
		b.WriteString("<p><small>Request ID: ")
		b.WriteString(html.EscapeString(v.RequestID))
		b.WriteString("</small></p>")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
