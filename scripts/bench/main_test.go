package main

import (
	"bytes"
	"strings"
	"testing"
)

// A slice of real `go test -bench` output (GOMAXPROCS 2, so the -2 suffix),
// custom metrics included.
const sample = `goos: linux
pkg: github.com/edgeauth/edgeauth/shared/verifier
BenchmarkRSAFloor-2          	   44307	     25000 ns/op	    1218 B/op	      10 allocs/op
BenchmarkVerifyFirstSeen/cognito-RS256-2   	   27331	     50000 ns/op	   13288 B/op	     251 allocs/op
BenchmarkSessionCookie-2 	  441519	      2766 ns/op	     29962 floor-ns/op	         0.09232 x-rsa-floor	    1016 B/op	      10 allocs/op
pkg: github.com/edgeauth/edgeauth/deploy
BenchmarkBridge/floor-2         	   24309	     43200 ns/op	     20000 ns/event
BenchmarkBridge/check-auth/bearer-cached-2   	    7519	    158665 ns/op	     20000 floor-ns/event	    90000 ns/event	         4.5 x-floor
BenchmarkDirect/check-auth/bearer-cached/Handle-2      	  191311	      6000 ns/op	    2976 B/op	      27 allocs/op
BenchmarkColdStart/bridge-2                            	       6	 167701062 ns/op	  77000000 base-ns/start	  84000000 ns/start	  7000000 over-base-ns
BenchmarkPackage-2 	 10	 100 ns/op	 4382879 zip-bytes
PASS
`

func TestParse(t *testing.T) {
	r := parse(strings.NewReader(sample))
	for _, c := range []struct {
		name, unit string
		want       float64
	}{
		{"BenchmarkRSAFloor", "ns/op", 25000},
		{"BenchmarkRSAFloor", "allocs/op", 10},
		{"BenchmarkBridge/check-auth/bearer-cached", "x-floor", 4.5},
		{"BenchmarkBridge/check-auth/bearer-cached", "floor-ns/event", 20000},
		{"BenchmarkColdStart/bridge", "over-base-ns", 7e6},
		{"BenchmarkPackage", "zip-bytes", 4382879},
	} {
		if got, err := r.get(c.name, c.unit); err != nil || got != c.want {
			t.Errorf("get(%s, %s) = %v, %v; want %v", c.name, c.unit, got, err, c.want)
		}
	}
	if _, err := r.get("BenchmarkBridge/floor-2", "ns/event"); err == nil {
		t.Error("the -GOMAXPROCS suffix was kept in a name")
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := table(&b, parse(strings.NewReader(sample))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		// the bridge row: its own floor, in-process Handle, both goals judged
		"| 90 µs | 3.60× | 4.50× (20 µs) | 15.0× (6.0 µs) | ≤ 1.5× floor: **not met** (4.50×); ≤ 6× in-process: **not met** (15.0×) |",
		// the RSA floor is 1.00× itself; a first-seen token is 2× it
		"| 25 µs | 1.00× |",
		"≤ 1.3× RSA floor: **not met** (2.00×)",
		// a row that measured the floor beside itself is judged on that
		"| 2.8 µs, 10 allocs | 0.09× (beside it) |", "≤ 0.1× RSA floor: met (0.09×); ≤ 15 allocs: met (10)",
		// cold start judged on the difference measured beside Node
		"| 84.0 ms |", "≤ Node doing nothing + 10 ms: met (+7.0 ms)",
		"≤ 3.5 MB: **not met** (4.38 MB)",
		// a benchmark that did not run says so
		"not measured: BenchmarkWasm/session ns/event",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
