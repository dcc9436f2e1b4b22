package localedge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/config"
)

// Event types a behavior can trigger on.
const (
	ViewerRequest = "viewer-request"
	OriginRequest = "origin-request"
)

// Defaults for fields a config leaves empty.
const (
	DefaultListen         = "localhost:8080"
	DefaultDistributionID = "ELOCALEDGE0EXAMPLE"
)

// CloudFront's function time limits per event type.
const (
	viewerTimeout = 5 * time.Second
	originTimeout = 30 * time.Second
)

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("localedge: invalid config")

// Behavior is one cache behavior: requests whose path matches PathPattern
// run Function. Behaviors are tried in order, as CloudFront does, and the
// pattern "*" is the default behavior; it must come last.
type Behavior struct {
	PathPattern string `json:"pathPattern"`
	// Function names an entry of the functions map given to New. Empty means
	// the behavior has no function association: requests go straight to the
	// origin.
	Function string `json:"function,omitempty"`
	// EventType is ViewerRequest (the default) or OriginRequest. An
	// origin-request event also carries the origin object, and its read-only
	// headers and limits are the origin-request ones.
	EventType string `json:"eventType,omitempty"`
}

// Origin is where passed requests go; exactly one field is set.
type Origin struct {
	// Dir is a folder served like a private S3 bucket behind origin access
	// control: GET and HEAD only, "/" and "/x/" served from index.html, and
	// 403 AccessDenied for anything else (see [DirOrigin]). LoadConfig
	// resolves a relative Dir against the config file's folder.
	Dir string `json:"dir,omitempty"`
	// URL is an upstream http(s) origin, reverse-proxied.
	URL string `json:"url,omitempty"`
}

// Config is the local edge's own configuration file.
type Config struct {
	// Listen is the address to serve on; DefaultListen when empty.
	Listen string `json:"listen,omitempty"`
	// DistributionID goes into each event's config; DefaultDistributionID
	// when empty.
	DistributionID string `json:"distributionId,omitempty"`
	// Behaviors in CloudFront's order: first match wins.
	Behaviors []Behavior `json:"behaviors"`
	Origin    Origin     `json:"origin"`
	// FunctionTimeout overrides CloudFront's limit (5 s for viewer triggers,
	// 30 s for origin triggers), for example to step through a function in a
	// debugger. Zero keeps CloudFront's limits.
	FunctionTimeout config.Duration `json:"functionTimeout,omitempty"`
}

// LoadConfig reads, defaults and validates the config file at path. Unknown
// fields are errors, and every error names the field.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: trailing data after the config object", ErrInvalidConfig, path)
	}
	if c.Origin.Dir != "" && !filepath.IsAbs(c.Origin.Dir) {
		c.Origin.Dir = filepath.Join(filepath.Dir(path), c.Origin.Dir)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DistributionID == "" {
		c.DistributionID = DefaultDistributionID
	}
	for i := range c.Behaviors {
		if c.Behaviors[i].EventType == "" {
			c.Behaviors[i].EventType = ViewerRequest
		}
	}
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// Validate checks a defaulted config. It does not check that functions
// exist; New does, against the functions it is given.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fieldErr("listen", "want host:port, got %q", c.Listen)
	}
	if c.DistributionID == "" {
		return fieldErr("distributionId", "must not be empty")
	}
	if c.FunctionTimeout < 0 {
		return fieldErr("functionTimeout", "must not be negative")
	}
	if len(c.Behaviors) == 0 {
		return fieldErr("behaviors", "list at least one behavior")
	}
	for i, b := range c.Behaviors {
		field := fmt.Sprintf("behaviors[%d]", i)
		if err := checkPattern(b.PathPattern); err != nil {
			return fieldErr(field+".pathPattern", "%v", err)
		}
		if b.PathPattern == "*" && i != len(c.Behaviors)-1 {
			return fieldErr(field+".pathPattern", `the default behavior "*" must be last`)
		}
		switch b.EventType {
		case ViewerRequest, OriginRequest:
		default:
			return fieldErr(field+".eventType", "want %q or %q, got %q", ViewerRequest, OriginRequest, b.EventType)
		}
	}
	return c.Origin.validate()
}

func checkPattern(p string) error {
	if p == "" {
		return errors.New("must not be empty")
	}
	if len(p) > 255 {
		return errors.New("longer than CloudFront's 255 characters")
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return fmt.Errorf("character %q not allowed", p[i])
		}
	}
	return nil
}

func (o Origin) validate() error {
	switch {
	case o.Dir != "" && o.URL != "":
		return fieldErr("origin", "set exactly one of dir and url, not both")
	case o.Dir != "":
		fi, err := os.Stat(o.Dir)
		if err != nil {
			return fieldErr("origin.dir", "%v", err)
		}
		if !fi.IsDir() {
			return fieldErr("origin.dir", "%s is not a folder", o.Dir)
		}
	case o.URL != "":
		u, err := url.Parse(o.URL)
		if err != nil {
			return fieldErr("origin.url", "%v", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fieldErr("origin.url", "want an absolute http or https URL, got %q", o.URL)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fieldErr("origin.url", "must not carry a query, fragment or user info")
		}
	default:
		return fieldErr("origin", "set one of dir and url")
	}
	return nil
}

// timeout is the function time limit for a behavior.
func (c *Config) timeout(b *Behavior) time.Duration {
	if c.FunctionTimeout > 0 {
		return c.FunctionTimeout.Std()
	}
	if b.EventType == OriginRequest {
		return originTimeout
	}
	return viewerTimeout
}

// normalizePattern adds the leading slash CloudFront treats as optional.
func normalizePattern(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "*") {
		return p
	}
	return "/" + p
}
