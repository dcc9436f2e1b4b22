// Command viewersim counts what viewer mode saves: N signed-in users read M
// pages through the local edge, shaped as the template deploys it, once with
// the per-credential cache key (testdata/demo/localedge-aws.json) and once in
// viewer mode (localedge-viewer.json, with the viewer function generated from
// the same config, as make package would). It counts, per 1,000 viewer
// requests, the CloudFront Function runs, the Lambda@Edge invocations
// (check-auth, the real handler in-process), the origin fetches (requests the
// edge passed to the bucket) and the cache hits, and prints them with what
// they cost per million requests at AWS's published prices. It counts; it
// does not time anything.
//
//	go run ./scripts/viewersim [-users 50] [-pages 20] [-requests 5000] [-bearer 0] [-seed 1]
//
// Each request picks a user and a page at random (seeded, uniform); the
// edge's clock advances by -interval per request (default 10 ms, so the
// whole run fits in the demo's 60 s default TTL: what is measured is
// sharing, not expiry). -bearer is the share of requests that carry a
// Bearer token instead of the session cookie: in viewer mode those go to
// check-auth with their own key, as before.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/edgeauth/edgeauth/internal/demo"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Prices, US East, per unit (see deploy/README.md, "Viewer mode", for the
// sources): Lambda@Edge requests and duration, CloudFront Functions
// invocations.
const (
	lambdaPerRequest  = 0.60 / 1e6
	lambdaPerGBSecond = 0.00005001
	cffPerInvocation  = 0.10 / 1e6
	// Lambda@Edge bills duration in 1 ms steps; check-auth with the bridge
	// takes well under 1 ms warm (top-level README, "Performance"), so each
	// invocation is billed 1 ms at the template's default 256 MB.
	billedSeconds = 0.001
	memoryGB      = 0.25
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "viewersim:", err)
		os.Exit(1)
	}
}

// counts is one run's tally.
type counts struct {
	requests, cfFunctions, lambda, origin, hits int64
	statuses                                    map[int]int64
}

func run(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("viewersim", flag.ContinueOnError)
	users := fl.Int("users", 50, "signed-in users")
	pages := fl.Int("pages", 20, "pages they read (all behind the signed-in rule)")
	requests := fl.Int("requests", 5000, "viewer requests")
	bearer := fl.Float64("bearer", 0, "share of requests made with a Bearer token instead of the session cookie (0 to 1)")
	seed := fl.Uint64("seed", 1, "random seed")
	interval := fl.Duration("interval", 10*time.Millisecond, "time between requests on the edge's clock")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *users < 1 || *pages < 1 || *requests < 1 || *bearer < 0 || *bearer > 1 {
		return errors.New("-users, -pages and -requests must be positive, -bearer within 0..1")
	}
	root, err := dex.ModuleRoot()
	if err != nil {
		return err
	}
	site, err := os.MkdirTemp("", "viewersim-site-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(site)
	for i := range *pages {
		p := filepath.Join(site, "docs", fmt.Sprintf("page-%d.html", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("<h1>page %d</h1>\n", i)), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(site, "404.html"), []byte("<h1>Page not found</h1>\n"), 0o644); err != nil {
		return err
	}

	w := workload{users: *users, pages: *pages, requests: *requests, bearer: *bearer, seed: *seed, interval: *interval}
	modes := []struct{ name, edge string }{
		{"per-credential key", "localedge-aws.json"},
		{"viewer mode", "localedge-viewer.json"},
	}
	var results []counts
	for _, m := range modes {
		c, err := w.run(root, filepath.Join(root, "testdata", "demo", m.edge), site)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		results = append(results, c)
	}

	fmt.Fprintf(stdout, "%d users, %d pages, %d requests (uniform, seed %d), %.0f%% Bearer, %v apart; TTL 60 s (the demo's)\n\n",
		w.users, w.pages, w.requests, w.seed, 100*w.bearer, w.interval)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "per 1,000 requests\tCloudFront Function runs\tLambda@Edge invocations\torigin fetches\tcache hits\tstatuses\t$ per 1M requests (functions)\t")
	for i, m := range modes {
		c := results[i]
		per := func(n int64) float64 { return 1000 * float64(n) / float64(c.requests) }
		perReq := (float64(c.cfFunctions)*cffPerInvocation +
			float64(c.lambda)*(lambdaPerRequest+billedSeconds*memoryGB*lambdaPerGBSecond)) / float64(c.requests)
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.1f\t%.1f\t%v\t%.4f\t\n", m.name, per(c.cfFunctions), per(c.lambda), per(c.origin), per(c.hits), c.statuses, perReq*1e6)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\n$ per 1M: CloudFront Functions $0.10/M runs + Lambda@Edge $0.60/M requests + 1 ms at 256 MB ($0.00005001/GB-s) each;")
	fmt.Fprintln(stdout, "CloudFront's own request and transfer fees and S3's GET fee (per origin fetch) come on top, the first the same in both modes.")
	return nil
}

type workload struct {
	users, pages, requests int
	bearer                 float64
	seed                   uint64
	interval               time.Duration
}

// run serves the edge config with the real functions on a simulated clock
// and sends the workload through it.
func (w workload) run(root, edgeConfig, site string) (counts, error) {
	c := counts{statuses: map[int]int64{}}
	cfg, sign, err := suiteConfig(root)
	if err != nil {
		return c, err
	}
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func() { mu.Lock(); now = now.Add(w.interval); mu.Unlock() }

	deps := lambdafn.Deps{Config: cfg, Now: clock, Logger: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{Timeout: time.Second}}
	funcs, err := demo.InProcessFunctions(deps)
	if err != nil {
		return c, err
	}
	// Count the Lambda@Edge invocations of check-auth, the one on the
	// request path.
	var lambda atomic.Int64
	checkAuth := funcs["check-auth"]
	funcs["check-auth"] = func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		lambda.Add(1)
		return checkAuth(ctx, ev)
	}
	lc, err := localedge.LoadConfig(edgeConfig)
	if err != nil {
		return c, err
	}
	lc.Origin.Dir = site
	if demo.NeedsViewerFunction(lc) {
		dir, err := os.MkdirTemp("", "viewersim-fn-")
		if err != nil {
			return c, err
		}
		defer os.RemoveAll(dir)
		if err := demo.GenerateViewerFunctions(lc, cfg, dir); err != nil {
			return c, err
		}
	}
	tally := &decisions{}
	s, err := localedge.New(lc, funcs, slog.New(tally), localedge.WithClock(clock))
	if err != nil {
		return c, err
	}
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()

	store, err := lambdafn.NewParts(lambdafn.Deps{Config: cfg, Now: clock}.WithDefaults())
	if err != nil {
		return c, err
	}
	cookies := make([]string, w.users)
	tokens := make([]string, w.users)
	for i := range w.users {
		sub := fmt.Sprintf("user-%d", i)
		ck, err := store.Sessions.EncodeSession(session.Session{
			Identity: verifier.Identity{Subject: sub, Username: sub, Groups: []string{"staff"}},
			Expiry:   clock().Add(2 * time.Hour), HasRefresh: true,
		})
		if err != nil {
			return c, err
		}
		cookies[i] = ck.Name + "=" + ck.Value
		if tokens[i], err = sign(cfg, sub, clock().Add(2*time.Hour)); err != nil {
			return c, err
		}
	}
	rnd := mrand.New(mrand.NewPCG(w.seed, 0))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range w.requests {
		u, p := rnd.IntN(w.users), rnd.IntN(w.pages)
		req, err := http.NewRequest("GET", fmt.Sprintf("%s/docs/page-%d.html", srv.URL, p), nil)
		if err != nil {
			return c, err
		}
		req.Header.Set("Accept", "text/html")
		if rnd.Float64() < w.bearer {
			req.Header.Set("Authorization", "Bearer "+tokens[u])
		} else {
			req.Header.Set("Cookie", cookies[u])
		}
		resp, err := client.Do(req)
		if err != nil {
			return c, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.statuses[resp.StatusCode]++
		advance()
	}
	c.requests = int64(w.requests)
	c.lambda = lambda.Load()
	c.cfFunctions, c.origin, c.hits = tally.counts()
	return c, nil
}

// decisions is a slog handler that tallies the edge's per-request log
// lines: how many ran a CloudFront Function, went to the origin, or were
// cache hits.
type decisions struct {
	mu                      sync.Mutex
	functions, origin, hits int64
}

func (d *decisions) Enabled(context.Context, slog.Level) bool { return true }
func (d *decisions) WithAttrs([]slog.Attr) slog.Handler       { return d }
func (d *decisions) WithGroup(string) slog.Handler            { return d }
func (d *decisions) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		switch {
		case a.Key == "cloudfront_functions" && a.Value.String() != "":
			d.functions++
		case a.Key == "decision" && a.Value.String() == localedge.DecisionPass:
			d.origin++
		case a.Key == "decision" && a.Value.String() == localedge.DecisionHit:
			d.hits++
		}
		return true
	})
	return nil
}

func (d *decisions) counts() (functions, origin, hits int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.functions, d.origin, d.hits
}

// suiteConfig is testdata/config/cognito.json with a JWKS of a key made
// here, so the run can sign Cognito access tokens for the Bearer share.
func suiteConfig(root string) (*config.Config, func(*config.Config, string, time.Time) (string, error), error) {
	b, err := os.ReadFile(filepath.Join(root, "testdata", "config", "cognito.json"))
	if err != nil {
		return nil, nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	b64 := func(x []byte) string { return base64.RawURLEncoding.EncodeToString(x) }
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "sim", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		return nil, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, err
	}
	m["jwks"] = json.RawMessage(jwks)
	if b, err = json.Marshal(m); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse(b)
	if err != nil {
		return nil, nil, err
	}
	sign := func(c *config.Config, sub string, exp time.Time) (string, error) {
		header := b64([]byte(`{"alg":"RS256","kid":"sim"}`))
		claims, err := json.Marshal(map[string]any{
			"iss": c.Issuer, "sub": sub, "username": sub, "client_id": c.ClientID, "token_use": "access",
			"scope": strings.Join(c.Scopes, " "), "cognito:groups": []string{"staff"},
			"exp": exp.Unix(), "iat": exp.Add(-3 * time.Hour).Unix(), "auth_time": exp.Add(-3 * time.Hour).Unix(), "jti": sub,
		})
		if err != nil {
			return "", err
		}
		input := header + "." + b64(claims)
		sum := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			return "", err
		}
		return input + "." + b64(sig), nil
	}
	return cfg, sign, nil
}
