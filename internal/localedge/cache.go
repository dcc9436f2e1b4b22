package localedge

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// CachePolicy is a behavior's cache policy: what the cache key holds and
// how long an object stays. A behavior without one caches nothing, like
// CloudFront's managed CachingDisabled policy.
//
// Everything in the key is also forwarded to an origin-request function and
// the origin, as CloudFront forwards its cache key; the key is never the
// viewer's Host (a distribution's alternate domain names share one cache).
type CachePolicy struct {
	// Headers are the viewer headers in the key, case-insensitive.
	Headers []string `json:"headers,omitempty"`
	// Cookies are the cookies in the key, case-sensitive.
	Cookies []string `json:"cookies,omitempty"`
	// QueryStrings puts the whole query string in the key (CloudFront's
	// QueryStringBehavior "all"); false leaves it out ("none").
	QueryStrings bool `json:"queryStrings,omitempty"`
	// MinTTL, DefaultTTL and MaxTTL are the policy's TTLs: an object is kept
	// for its Cache-Control s-maxage or max-age (or Expires) clamped to
	// [MinTTL, MaxTTL], for DefaultTTL when it says nothing, and not at all
	// when it says no-store, no-cache or private and MinTTL is 0.
	MinTTL     config.Duration `json:"minTTL,omitempty"`
	DefaultTTL config.Duration `json:"defaultTTL,omitempty"`
	MaxTTL     config.Duration `json:"maxTTL"`
}

func (p *CachePolicy) validate(field string) error {
	if p.MaxTTL <= 0 {
		return fieldErr(field+".maxTTL", "must be positive (leave cache out to cache nothing)")
	}
	if p.MinTTL < 0 || p.DefaultTTL < 0 {
		return fieldErr(field, "TTLs must not be negative")
	}
	if p.MinTTL > p.DefaultTTL || p.DefaultTTL > p.MaxTTL {
		return fieldErr(field, "want minTTL <= defaultTTL <= maxTTL, as CloudFront does")
	}
	for j, h := range p.Headers {
		lower := strings.ToLower(h)
		switch {
		case !validToken(h):
			return fieldErr(fmt.Sprintf("%s.headers[%d]", field, j), "%q is not a header name", h)
		case lower == "cookie":
			return fieldErr(fmt.Sprintf("%s.headers[%d]", field, j), "cookies go in cookies, not headers")
		case lower == "host" || isDisallowed(lower):
			return fieldErr(fmt.Sprintf("%s.headers[%d]", field, j), "%q cannot be in a cache key here", h)
		}
	}
	for j, name := range p.Cookies {
		if !validToken(name) {
			return fieldErr(fmt.Sprintf("%s.cookies[%d]", field, j), "%q is not a cookie name", name)
		}
	}
	return nil
}

// key is the cache key of req at the behavior whose policy is p (pattern
// names the behavior: behaviors never share objects). It is a SHA-256 over
// the parts, so the cache never holds a credential in the clear.
func (p *CachePolicy) key(pattern string, req *edge.Request) [sha256.Size]byte {
	h := sha256.New()
	part := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	part(pattern)
	part(req.URI)
	if p.QueryStrings {
		part(req.QueryString)
	}
	for _, name := range p.Headers {
		part(strings.ToLower(name))
		for _, v := range req.Headers.Values(name) {
			part(v)
		}
	}
	cookies := req.Cookies()
	for _, name := range p.Cookies {
		part("cookie " + name)
		for _, c := range cookies {
			if c.Name == name {
				part(c.Value)
			}
		}
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// cacheableStatus reports whether CloudFront caches an answer with this
// status by its TTL: 200, 203 and 410, and redirects, 307 and 308 only with
// a Cache-Control header
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-3xx-status-codes.html).
func cacheableStatus(status int, h http.Header) bool {
	switch {
	case status == 200 || status == 203 || status == 410:
		return true
	case status == 307 || status == 308:
		return h.Get("Cache-Control") != ""
	}
	return status >= 300 && status <= 399 && status != 304
}

// errorCaching says how CloudFront caches an error status ("HTTP 4xx and
// 5xx status codes that CloudFront caches"): 404, 414 and 500-504 always;
// 400, 403, 405, 412 and 415 only when the answer has Cache-Control max-age
// or s-maxage; others, 416 among them, never.
func errorCaching(status int) (cached, needsMaxAge bool) {
	switch status {
	case 404, 414, 500, 501, 502, 503, 504:
		return true, false
	case 400, 403, 405, 412, 415:
		return true, true
	}
	return false, false
}

// ttl is how long an answer with this status and header is kept under p;
// 0 means not at all. errMin is the error-caching minimum TTL for status:
// an error is kept for the greater of it and the answer's max-age or
// s-maxage (that capped at the policy's maximum), whatever else the
// answer's Cache-Control says ("Control how long CloudFront caches
// errors").
func (p *CachePolicy) ttl(status int, h http.Header, now time.Time, errMin time.Duration) time.Duration {
	minTTL, maxTTL := p.MinTTL.Std(), p.MaxTTL.Std()
	var maxAge, sMaxAge time.Duration = -1, -1
	refuse := false
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache", "private":
				refuse = true
			case "max-age":
				maxAge = seconds(val)
			case "s-maxage":
				sMaxAge = seconds(val)
			}
		}
	}
	if status >= 400 {
		cached, needsMaxAge := errorCaching(status)
		age := max(maxAge, sMaxAge)
		if !cached || (needsMaxAge && age < 0) {
			return 0
		}
		return max(errMin, min(age, maxTTL))
	}
	if !cacheableStatus(status, h) {
		return 0
	}
	var ttl time.Duration
	switch {
	case refuse:
		return minTTL
	case sMaxAge >= 0:
		ttl = sMaxAge
	case maxAge >= 0:
		ttl = maxAge
	case h.Get("Expires") != "":
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return minTTL // an invalid Expires is already expired
		}
		ttl = exp.Sub(now)
	default:
		return p.DefaultTTL.Std()
	}
	return min(max(ttl, minTTL), maxTTL)
}

// seconds parses a delta-seconds value; -1 when it is not one.
func seconds(v string) time.Duration {
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return time.Duration(min(n, int64(1<<31))) * time.Second
}

// Limits of the local cache; CloudFront's are far larger, but a local edge
// only needs to show the cache's behavior.
const (
	cacheMaxObject  = 8 << 20
	cacheMaxBytes   = 128 << 20
	cacheMaxEntries = 4096
)

// cache is the edge's object cache: entries by key, evicted when expired
// or, past the limits, oldest first.
type cache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element
	order   *list.List // of *cached, oldest first
	bytes   int

	maxObject, maxBytes, maxEntries int // the cacheMax* limits; tests shrink them
}

type cached struct {
	key       [sha256.Size]byte
	status    int
	header    http.Header
	body      []byte
	stored    time.Time
	expires   time.Time
	errorPage bool // a custom error page, which no viewer-response function sees
}

func newCache() *cache {
	return &cache{
		entries: map[[sha256.Size]byte]*list.Element{}, order: list.New(),
		maxObject: cacheMaxObject, maxBytes: cacheMaxBytes, maxEntries: cacheMaxEntries,
	}
}

// get returns the fresh entry under k, if any.
func (c *cache) get(k [sha256.Size]byte, now time.Time) *cached {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil
	}
	e := el.Value.(*cached)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil
	}
	return e
}

// put stores e, replacing any entry under its key, and evicts expired
// entries and then the oldest until the cache is within its limits.
func (c *cache) put(e *cached, now time.Time) {
	if len(e.body) > c.maxObject {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.order.PushBack(e)
	c.bytes += len(e.body)
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if !now.Before(el.Value.(*cached).expires) {
			c.remove(el)
		}
		el = next
	}
	for c.order.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.order.Front())
	}
}

func (c *cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cached)
	delete(c.entries, e.key)
	c.bytes -= len(e.body)
}

// serveHit writes a cached object: its headers, Age, and the body unless
// the request is a HEAD.
func serveHit(w http.ResponseWriter, r *http.Request, e *cached, now time.Time) {
	h := w.Header()
	for name, values := range e.header {
		h[name] = slices.Clone(values)
	}
	h.Set("Age", strconv.Itoa(int(now.Sub(e.stored)/time.Second)))
	h.Set("X-Cache", "Hit from cloudfront")
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.body)
	}
}

// recorder passes an answer through to the viewer and keeps a copy of it
// for the cache, up to cacheMaxObject bytes of body.
type recorder struct {
	http.ResponseWriter
	status   int
	header   http.Header
	body     []byte
	overflow bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.header = r.ResponseWriter.Header().Clone()
		for _, name := range perRequestHeaders() {
			r.header.Del(name)
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !r.overflow {
		if len(r.body)+len(b) > cacheMaxObject {
			r.overflow, r.body = true, nil
		} else {
			r.body = append(r.body, b...)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// entry is the recorded answer as a cache entry under k, or nil when it
// was not complete.
func (r *recorder) entry(k [sha256.Size]byte) *cached {
	if r.status == 0 || r.overflow {
		return nil
	}
	return &cached{key: k, status: r.status, header: r.header, body: r.body}
}

// withCacheKeyForwarded returns b with its cache key added to what it
// forwards: CloudFront sends an origin everything in the cache key.
func withCacheKeyForwarded(b Behavior) Behavior {
	p := b.Cache
	b.ForwardHeaders = slices.Clone(b.ForwardHeaders)
	for _, h := range p.Headers {
		if !b.forwardsHeader(strings.ToLower(h)) {
			b.ForwardHeaders = append(b.ForwardHeaders, h)
		}
	}
	if !b.ForwardCookies.All {
		names := slices.Clone(b.ForwardCookies.Names)
		for _, c := range p.Cookies {
			if !slices.Contains(names, c) {
				names = append(names, c)
			}
		}
		if names != nil {
			b.ForwardCookies = CookieForwarding{Names: names}
		}
	}
	if p.QueryStrings {
		t := true
		b.ForwardQuery = &t
	}
	return b
}
