package localedge

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig("../../testdata/localedge/config.json")
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	wantDir, _ := filepath.Abs("../../testdata/localedge/site")
	gotDir, _ := filepath.Abs(c.Origin.Dir)
	if gotDir != wantDir {
		t.Errorf("origin.dir = %q, want it resolved against the config's folder: %q", c.Origin.Dir, wantDir)
	}
	if c.Listen != "127.0.0.1:0" || c.DistributionID != "ETESTDIST" || c.FunctionTimeout.Std() != 2*time.Second {
		t.Errorf("config = %+v", c)
	}
	if c.DomainName != "d2222222222222.cloudfront.net" {
		t.Errorf("domainName = %q", c.DomainName)
	}
	if c.Behaviors[0].EventType != ViewerRequest || c.Behaviors[1].EventType != OriginRequest {
		t.Errorf("event types = %q, %q; want the viewer-request default and origin-request", c.Behaviors[0].EventType, c.Behaviors[1].EventType)
	}
	api, static := c.Behaviors[1], c.Behaviors[2]
	if !slices.Equal(api.ForwardHeaders, []string{"Authorization"}) || !slices.Equal(api.ForwardCookies.Names, []string{"edgeauth-session"}) ||
		api.ForwardCookies.All || api.forwardsQuery() {
		t.Errorf("/api/* policy = %+v", api)
	}
	if !static.ForwardCookies.All || static.ForwardHeaders != nil || !static.forwardsQuery() {
		t.Errorf("/static/* policy = %+v", static)
	}
}

// TestLoadDemoConfig keeps the demo's config (testdata/demo) loadable.
func TestLoadDemoConfig(t *testing.T) {
	c, err := LoadConfig("../../testdata/demo/localedge.json")
	if err != nil {
		t.Fatalf("LoadConfig(demo): %v", err)
	}
	if c.Listen != DefaultListen || c.DistributionID != DefaultDistributionID || c.DomainName != DefaultDomainName {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	site, _ := filepath.Abs(siteDir)
	tests := []struct {
		name      string
		json      string
		wantField string
	}{
		{"unknown field", `{"behaviours":[]}`, "behaviours"},
		{"no behaviors", `{"origin":{"dir":"` + site + `"}}`, "behaviors"},
		{"empty pattern", `{"behaviors":[{"pathPattern":""}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].pathPattern"},
		{"space in pattern", `{"behaviors":[{"pathPattern":"/a b"}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].pathPattern"},
		{"default not last", `{"behaviors":[{"pathPattern":"*"},{"pathPattern":"/a"}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].pathPattern"},
		{"bad event type", `{"behaviors":[{"pathPattern":"*","eventType":"viewer-response"}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].eventType"},
		{"two origins", `{"behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `","url":"http://127.0.0.1:1"}}`, "origin"},
		{"no origin", `{"behaviors":[{"pathPattern":"*"}]}`, "origin"},
		{"missing dir", `{"behaviors":[{"pathPattern":"*"}],"origin":{"dir":"nope"}}`, "origin.dir"},
		{"relative url", `{"behaviors":[{"pathPattern":"*"}],"origin":{"url":"/x"}}`, "origin.url"},
		{"url with query", `{"behaviors":[{"pathPattern":"*"}],"origin":{"url":"http://127.0.0.1:1/?a=b"}}`, "origin.url"},
		{"bad listen", `{"listen":"8080","behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `"}}`, "listen"},
		{"negative timeout", `{"functionTimeout":"-1s","behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `"}}`, "functionTimeout"},
		{"bad timeout", `{"functionTimeout":"soon","behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `"}}`, "soon"},
		{"domain with port", `{"domainName":"d1.cloudfront.net:443","behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `"}}`, "domainName"},
		{"domain as URL", `{"domainName":"https://d1.cloudfront.net","behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `"}}`, "domainName"},
		{"policy on viewer-request", `{"behaviors":[{"pathPattern":"*","forwardHeaders":["*"]}],"origin":{"dir":"` + site + `"}}`, "behaviors[0]: forwardHeaders"},
		{"cookies none on viewer-request", `{"behaviors":[{"pathPattern":"*","forwardCookies":"none"}],"origin":{"dir":"` + site + `"}}`, "behaviors[0]"},
		{"query on viewer-request", `{"behaviors":[{"pathPattern":"*","forwardQuery":true}],"origin":{"dir":"` + site + `"}}`, "behaviors[0]"},
		{"cookie as a header", `{"behaviors":[{"pathPattern":"*","eventType":"origin-request","forwardHeaders":["X-A","Cookie"]}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].forwardHeaders[1]"},
		{"disallowed header", `{"behaviors":[{"pathPattern":"*","eventType":"origin-request","forwardHeaders":["X-Forwarded-Proto"]}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].forwardHeaders[0]"},
		{"bad header name", `{"behaviors":[{"pathPattern":"*","eventType":"origin-request","forwardHeaders":["a b"]}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].forwardHeaders[0]"},
		{"viewer host to S3", `{"behaviors":[{"pathPattern":"*","eventType":"origin-request","forwardHeaders":["host"]}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].forwardHeaders[0]"},
		{"bad cookie setting", `{"behaviors":[{"pathPattern":"*","eventType":"origin-request","forwardCookies":"some"}],"origin":{"dir":"` + site + `"}}`, "forwardCookies"},
		{"bad cookie name", `{"behaviors":[{"pathPattern":"*","eventType":"origin-request","forwardCookies":["a;b"]}],"origin":{"dir":"` + site + `"}}`, "behaviors[0].forwardCookies[0]"},
		{"trailing data", `{"behaviors":[{"pathPattern":"*"}],"origin":{"dir":"` + site + `"}} {}`, "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "localedge.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("LoadConfig(%s) error = %v, want ErrInvalidConfig", tt.json, err)
			}
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("LoadConfig error %q does not name %q", err, tt.wantField)
			}
		})
	}
}

func TestNewChecksFunctions(t *testing.T) {
	cfg := &Config{
		Behaviors: []Behavior{{PathPattern: "/a/*", Function: "sign-out"}, {PathPattern: "*", Function: "check-auth"}},
		Origin:    Origin{Dir: siteDir},
	}
	_, err := New(cfg, map[string]Function{"check-auth": passThrough}, nil)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "behaviors[0].function") {
		t.Errorf("New without sign-out = %v, want an error naming behaviors[0].function", err)
	}
	both := &Config{
		Behaviors: []Behavior{{PathPattern: "*", EventType: OriginRequest, ForwardCookies: CookieForwarding{All: true, Names: []string{"a"}}}},
		Origin:    Origin{Dir: siteDir},
	}
	if _, err := New(both, nil, nil); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "behaviors[0].forwardCookies") {
		t.Errorf("New with all and names = %v, want an error naming behaviors[0].forwardCookies", err)
	}
	viewerHost := &Config{
		Behaviors: []Behavior{{PathPattern: "*", EventType: OriginRequest, ForwardHeaders: []string{"Host"}}},
		Origin:    Origin{URL: "http://127.0.0.1:1"},
	}
	if s, err := New(viewerHost, nil, nil); err != nil {
		t.Errorf("New forwarding Host to a url origin = %v, want it accepted", err)
	} else {
		s.Close()
	}
	if _, err := New(nil, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(nil) = %v, want ErrInvalidConfig", err)
	}
	s, err := New(cfg, map[string]Function{"check-auth": passThrough, "sign-out": passThrough}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	if s.Listen() != DefaultListen {
		t.Errorf("Listen() = %q, want %q", s.Listen(), DefaultListen)
	}
	if cfg.Listen != "" {
		t.Errorf("New changed the caller's config: Listen = %q", cfg.Listen)
	}
}
