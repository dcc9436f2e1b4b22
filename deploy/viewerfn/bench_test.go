package viewerfn_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// The viewer function's time per request, valid session on a signed-in
// path, against Go check-auth's session pass. go test -bench . ./deploy/viewerfn
// (the Node one skips without node). cfjs runs include a fresh runtime
// per request, as the local edge runs it; Node's include JSON-copying the
// event.
func benchRequest(b *testing.B, f *fixture) viewerReq {
	return viewerReq{URI: "/docs/x", Headers: [][2]string{{"Accept", "text/html"}}, Cookies: []string{f.session(b, alice, suitetest.Now.Add(time.Hour), true)}}
}

func BenchmarkViewerFunctionGoja(b *testing.B) {
	for _, o := range []viewerfn.Options{{InlineKeys: false}, {InlineKeys: true}} {
		name := "kvs"
		if o.InlineKeys {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) {
			f := newFixture(b, rulesConfig, o)
			r := benchRequest(b, f)
			g := f.engines["goja"].(*gojaEngine)
			if got := g.run(b, r); got.Key != viewerfn.Shared {
				b.Fatalf("key %q, want shared", got.Key)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.f.Run(context.Background(), r.event()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkViewerFunctionNode(b *testing.B) {
	f := newFixture(b, rulesConfig, viewerfn.Options{})
	n := newNode(b, f.fn.Code, f.kvsPath)
	r := benchRequest(b, f)
	if got := n.run(b, r); got.Key != viewerfn.Shared {
		b.Fatalf("key %q, want shared", got.Key)
	}
	ev := r.event()
	// Warm Node's JIT as CloudFront keeps a function warm.
	n.call(b, map[string]any{"event": ev, "now": suitetest.Now.UnixMilli(), "bench": 2000})
	b.ResetTimer()
	a := n.call(b, map[string]any{"event": ev, "now": suitetest.Now.UnixMilli(), "bench": b.N})
	b.StopTimer()
	if a.Error != "" {
		b.Fatal(a.Error)
	}
	b.ReportMetric(float64(a.NS)/float64(b.N), "node-ns/op")
}

func BenchmarkCheckAuthSession(b *testing.B) {
	f := newFixture(b, rulesConfig, viewerfn.Options{})
	r := benchRequest(b, f)
	mk := func() edge.Event {
		return suitetest.Event(b, "origin-request-s3.json", func(req *edge.Request) {
			req.URI = "/docs/x"
			req.Headers.Set("Cookie", r.Cookies[0])
			req.Headers.Set("Accept", "text/html")
		})
	}
	if res, _ := f.check.Handle(context.Background(), mk()); res.Request == nil {
		b.Fatal("check-auth does not pass the benchmark request")
	}
	evs := make([]edge.Event, 0, 1024)
	for range 1024 {
		evs = append(evs, mk())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(evs) {
			b.StopTimer()
			for j := range evs {
				evs[j] = mk()
			}
			i = 0
			b.StartTimer()
		}
		if _, err := f.check.Handle(context.Background(), evs[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
