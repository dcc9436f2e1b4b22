package lambdafn_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

func TestBudget(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	b, cancelB := lambdafn.Budget(ctx)
	defer cancelB()
	if got, ok := b.Deadline(); !ok || !got.Equal(deadline.Add(-lambdafn.DeadlineMargin)) {
		t.Errorf("Budget deadline = %v, %v; want %v", got, ok, deadline.Add(-lambdafn.DeadlineMargin))
	}
	free, cancelF := lambdafn.Budget(context.Background())
	defer cancelF()
	if _, ok := free.Deadline(); ok {
		t.Error("Budget invented a deadline")
	}
}

func TestRequestID(t *testing.T) {
	cfg := edge.Config{RequestID: "cf-id"}
	if got := lambdafn.RequestID(context.Background(), cfg); got != "cf-id" {
		t.Errorf("RequestID without Lambda context = %q, want CloudFront's", got)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-id"})
	if got := lambdafn.RequestID(ctx, cfg); got != "lambda-id" {
		t.Errorf("RequestID = %q, want Lambda's", got)
	}
}

func TestLevel(t *testing.T) {
	for name, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo} {
		if got := lambdafn.Level(name); got != want {
			t.Errorf("Level(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNewParts(t *testing.T) {
	if _, err := lambdafn.NewParts(lambdafn.Deps{}.WithDefaults()); err == nil {
		t.Error("NewParts without a config succeeded")
	}
	p, err := lambdafn.NewParts(lambdafn.Deps{Config: suitetest.Config(t, "cognito.json", nil)}.WithDefaults())
	if err != nil || p.Verifier == nil || p.Sessions == nil || p.IdP == nil || p.Pages == nil {
		t.Fatalf("NewParts = %+v, %v", p, err)
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("a", lambdafn.MaxExcerpt)
	for _, tt := range []struct{ in, want string }{
		{"/docs/a", "/docs/a"},
		{`/a"b\c`, `/a"b\c`},
		{"/a\nb", `/a\nb`},
		{"/a\x00\x1b[31m", `/a\x00\x1b[31m`},
		{"/caf\u00e9", `/caf\u00e9`},
		{"/\xff\xfe", `/\xff\xfe`},
		{"/\"\n", `/\"\n`},
		{long, long},
		{long + "b", long + "…"},
		// A rune that would straddle the cut is left out whole.
		{long[:lambdafn.MaxExcerpt-1] + "é", long[:lambdafn.MaxExcerpt-1] + "…"},
		{long + "\n", long + "…"},
	} {
		if got := lambdafn.Excerpt(tt.in); got != tt.want {
			t.Errorf("Excerpt(%.40q) = %.60q, want %.60q", tt.in, got, tt.want)
		}
	}
}
