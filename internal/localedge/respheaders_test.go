package localedge

import (
	"context"
	"net/http"
	"testing"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// TestResponseHeadersPolicyOnEveryAnswer: CloudFront "adds these headers to
// every response that it returns to viewers" (Understand response headers
// policies, Custom headers), so the behavior's policy is on the origin's
// objects and errors, the answers a Lambda@Edge function or a CloudFront
// Function generated, CloudFront's own error pages and the custom error
// page that replaced an answer; an answer's own header wins where Override
// is false.
func TestResponseHeadersPolicyOnEveryAnswer(t *testing.T) {
	check := func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		req, _, _ := ev.Request()
		switch req.URI {
		case "/login":
			return edge.Respond(edge.Redirect("/x", false)), nil
		case "/no-store":
			return edge.Respond(edge.NewResponse(http.StatusForbidden, false).HTML("<p>denied</p>")), nil
		case "/broken":
			return edge.Respond(&edge.Response{Status: "99"}), nil
		}
		return edge.Continue(req), nil
	}
	cfg := &Config{
		CloudFrontFunctions: map[string]CloudFrontFunction{"gen": {Code: jsFile(t,
			"function handler(e) { if (e.request.uri === '/gen') return {statusCode: 200, body: 'generated'}; return e.request; }")}},
		Behaviors: []Behavior{
			{PathPattern: "/404.html"},
			{PathPattern: "*", Function: "check-auth", EventType: OriginRequest, ViewerRequestFunction: "gen",
				ResponseHeadersPolicy: &ResponseHeadersPolicy{CustomHeaders: []CustomHeader{
					{Header: "Cache-Control", Value: "private, no-cache"},
					{Header: "X-Policy", Value: "1", Override: true},
				}}},
		},
		Origin:               Origin{Dir: errorPageSite(t), ListBucket: true},
		CustomErrorResponses: []CustomErrorResponse{{ErrorCode: 404, ResponsePagePath: "/404.html", ResponseCode: 404}},
	}
	env := newEdge(t, cfg, map[string]Function{"check-auth": check})
	for _, tt := range []struct {
		name, method, path string
		wantCode           int
		cacheControl       string
	}{
		{"an object", "GET", "/index.html", 200, "private, no-cache"},
		{"an origin error (S3 denies a DELETE)", "DELETE", "/index.html", 403, "private, no-cache"},
		{"a Lambda@Edge redirect", "GET", "/login", 302, edge.NoStore},
		{"a Lambda@Edge page", "GET", "/no-store", 403, edge.NoStore},
		{"a CloudFront Function's answer", "GET", "/gen", 200, "private, no-cache"},
		{"CloudFront's own 502", "GET", "/broken", 502, edge.NoStore},
		{"the custom error page for S3's 404", "GET", "/missing.html", 404, "private, no-cache"},
	} {
		got := do(t, tt.method, env.srv.URL+tt.path, nil)
		if got.code != tt.wantCode || got.header.Get("X-Policy") != "1" || got.header.Get("Cache-Control") != tt.cacheControl {
			t.Errorf("%s: %d, X-Policy %q, Cache-Control %q; want %d with the policy's header and Cache-Control %q",
				tt.name, got.code, got.header.Get("X-Policy"), got.header.Get("Cache-Control"), tt.wantCode, tt.cacheControl)
		}
	}
}
