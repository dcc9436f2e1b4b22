package localedge

import (
	"errors"
	"os"
	"path/filepath"
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
	if c.Behaviors[0].EventType != ViewerRequest || c.Behaviors[1].EventType != OriginRequest {
		t.Errorf("event types = %q, %q; want the viewer-request default and origin-request", c.Behaviors[0].EventType, c.Behaviors[1].EventType)
	}
}

// TestLoadDemoConfig keeps the demo's config (testdata/demo) loadable.
func TestLoadDemoConfig(t *testing.T) {
	c, err := LoadConfig("../../testdata/demo/localedge.json")
	if err != nil {
		t.Fatalf("LoadConfig(demo): %v", err)
	}
	if c.Listen != DefaultListen || c.DistributionID != DefaultDistributionID {
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
