// Command bench is `make bench`: it runs, in one `go test` run, every
// benchmark behind issue 10's table (the bridge and its floor, the
// in-process call, the WebAssembly alternative, the cold starts, the
// check-auth paths, the RSA floor, the package) and prints one Markdown
// table of them with their ratios to the RSA floor, to the bridge's floor
// and to the same work in-process.
//
//	go run ./scripts/bench [-benchtime 3s] [-cpu N | -cpu -1] [-raw bench.txt]
//
// The test binaries run on one CPU (taskset -c N; by default the last one
// this process may use), as on Lambda, where a function of up to 1,769 MB
// has at most one vCPU and the Node.js runtime and its Go child share it;
// on a shared machine that also keeps the two processes of a round trip
// from being woken on different CPUs one time and on the same the next.
// -cpu -1 runs them unpinned. The raw benchmark output goes to stderr as it
// comes, and to -raw when given.
//
// Ratios that compare a figure with a floor use the floor measured in the
// same interval, in alternation with it (the benchmarks' floor-ns/event and
// base-ns/start), so the machine's load weighs on both alike.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// packages and benchmarks are what the table is built from.
var (
	packages   = []string{"./shared/verifier", "./shared/session", "./functions/check-auth/checkauth", "./deploy", "./cmd/bootstrap"}
	benchmarks = []string{
		"BenchmarkRSAFloor", "BenchmarkVerifyFirstSeen", "BenchmarkVerifyFirstSeenJWX", "BenchmarkJWTParseWithKey", "BenchmarkVerifyCached", // shared/verifier
		"BenchmarkSessionDecode", "BenchmarkSessionDecodeUncached", // shared/session
		"BenchmarkSessionCookie", "BenchmarkBearer", // check-auth
		"BenchmarkBridge", "BenchmarkDirect", "BenchmarkColdStart", "BenchmarkWasm", "BenchmarkPackage", // deploy
		"BenchmarkInit", // cmd/bootstrap
	}
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	benchtime := fl.String("benchtime", "3s", "go test -benchtime")
	cpu := fl.Int("cpu", -2, "CPU to pin the test binaries to; -1: unpinned; default the last one allowed")
	raw := fl.String("raw", "", "also write the raw benchmark output to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	goArgs := []string{"test", "-run", "^$", "-bench", "^(" + strings.Join(benchmarks, "|") + ")$",
		"-benchmem", "-benchtime", *benchtime, "-timeout", "30m"}
	pinned := "unpinned"
	if *cpu == -2 {
		*cpu = lastCPU()
	}
	if *cpu >= 0 {
		goArgs = append(goArgs, "-exec", "taskset -c "+strconv.Itoa(*cpu))
		pinned = fmt.Sprintf("pinned to CPU %d", *cpu)
	}
	cmd := exec.Command("go", append(goArgs, packages...)...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, stderr)
	cmd.Stderr = stderr
	fmt.Fprintf(stderr, "bench: go %s (test binaries %s)\n", strings.Join(cmd.Args[1:], " "), pinned)
	runErr := cmd.Run()
	if *raw != "" {
		if err := os.WriteFile(*raw, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("go test: %w", runErr)
	}
	res := parse(&out)
	fmt.Fprintf(stdout, "Measured in one run (`make bench`, -benchtime %s, test binaries %s).\n\n", *benchtime, pinned)
	return table(stdout, res)
}

// lastCPU is the highest-numbered CPU this process may run on, or -1 when
// taskset is missing or says nothing usable.
func lastCPU() int {
	if _, err := exec.LookPath("taskset"); err != nil {
		return -1
	}
	b, err := exec.Command("taskset", "-cp", strconv.Itoa(os.Getpid())).Output()
	if err != nil {
		return -1
	}
	// "pid 42's current affinity list: 0-3,6"
	_, list, ok := strings.Cut(strings.TrimSpace(string(b)), ": ")
	if !ok {
		return -1
	}
	last := list[strings.LastIndexAny(list, ",-")+1:]
	n, err := strconv.Atoi(last)
	if err != nil {
		return -1
	}
	return n
}

// results maps a benchmark's name (without the -GOMAXPROCS suffix) to its
// figures by unit ("ns/op", "ns/event", "allocs/op", ...).
type results map[string]map[string]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test's benchmark lines:
// "BenchmarkX/sub-2  1000  1234 ns/op  56 B/op ...".
func parse(r io.Reader) results {
	res := results{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			m[f[i+1]] = v
		}
		res[name] = m
	}
	return res
}

// errMissing: a row's benchmark did not run (node missing, say).
var errMissing = errors.New("not measured")

func (r results) get(name, unit string) (float64, error) {
	v, ok := r[name][unit]
	if !ok {
		return 0, fmt.Errorf("%w: %s %s", errMissing, name, unit)
	}
	return v, nil
}

// row is one line of the table. Figures are nanoseconds unless unit says
// otherwise; a zero reference leaves its ratio cell empty.
type row struct {
	what       string
	bench      string // the benchmark it comes from, named in the table
	unit       string // the figure's unit in the benchmark's output
	rsa        bool   // ratio to the RSA floor
	floorUnit  string // unit, in the same benchmark, of the bridge floor measured beside it
	inProcess  string // the same work in-process: a benchmark's ns/op
	goal       func(v float64, r results) string
	allocs     bool // show allocs/op
	figureKind string
}

func table(w io.Writer, r results) error {
	fmt.Fprintln(w, "| what | figure | × RSA floor | × bridge floor | × in-process | goal |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | --- |")
	for _, x := range rows() {
		if x.bench == "" { // a group heading
			fmt.Fprintf(w, "| **%s** | | | | | |\n", x.what)
			continue
		}
		v, err := r.get(x.bench, x.unit)
		if err != nil {
			fmt.Fprintf(w, "| %s | %s | | | | |\n", x.what, err)
			continue
		}
		fig := format(v, x.figureKind)
		if x.allocs {
			if a, err := r.get(x.bench, "allocs/op"); err == nil {
				fig += fmt.Sprintf(", %.0f allocs", a)
			}
		}
		var rsaCell, floorCell, inCell, goal string
		if x.rsa {
			if ratio, beside, ok := rsaRatio(r, x.bench, v); ok && beside {
				rsaCell = fmt.Sprintf("%.2f× (beside it)", ratio)
			} else if ok {
				rsaCell = fmt.Sprintf("%.2f×", ratio)
			}
		}
		if x.floorUnit != "" {
			if f, err := r.get(x.bench, x.floorUnit); err == nil && f > 0 {
				floorCell = fmt.Sprintf("%.2f× (%s)", v/f, format(f, x.figureKind))
			}
		}
		if x.inProcess != "" {
			if p, err := r.get(x.inProcess, "ns/op"); err == nil && p > 0 {
				inCell = fmt.Sprintf("%.1f× (%s)", v/p, format(p, ""))
			}
		}
		if x.goal != nil {
			goal = x.goal(v, r)
		}
		fmt.Fprintf(w, "| %s <br>`%s` | %s | %s | %s | %s | %s |\n", x.what, x.bench, fig, rsaCell, floorCell, inCell, goal)
	}
	return nil
}

// rsaRatio is v over the RSA floor: the floor the benchmark measured in
// alternation with itself (x-rsa-floor, testtoken.FloorMeter) when it did,
// else BenchmarkRSAFloor's, measured at another moment of the run.
func rsaRatio(r results, bench string, v float64) (ratio float64, beside, ok bool) {
	if x, err := r.get(bench, "x-rsa-floor"); err == nil {
		return x, true, true
	}
	rsa, err := r.get("BenchmarkRSAFloor", "ns/op")
	if err != nil || rsa == 0 {
		return 0, false, false
	}
	return v / rsa, false, true
}

// format writes nanoseconds as µs or ms, bytes as MB.
func format(v float64, kind string) string {
	switch {
	case kind == "bytes":
		return fmt.Sprintf("%.2f MB", v/1e6)
	case kind == "ms" || v >= 1e6:
		return fmt.Sprintf("%.1f ms", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0f µs", v/1e3)
	default:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
}

// verdict writes a goal and whether the figure meets it.
func verdict(goal string, met bool, got string) string {
	if met {
		return goal + ": met (" + got + ")"
	}
	return goal + ": **not met** (" + got + ")"
}

func rows() []row {
	const (
		caCached    = "BenchmarkDirect/check-auth/bearer-cached/Handle"
		caSession   = "BenchmarkDirect/check-auth/session/Handle"
		caFirstSeen = "BenchmarkDirect/check-auth/bearer-first-seen/Handle"
		firstSeen   = "BenchmarkVerifyFirstSeen/cognito-RS256"
	)
	bridgeGoal := func(bench, inProcess string) func(float64, results) string {
		return func(v float64, r results) string {
			x, err1 := r.get(bench, "x-floor")
			p, err2 := r.get(inProcess, "ns/op")
			if err := errors.Join(err1, err2); err != nil {
				return ""
			}
			return verdict("≤ 1.5× floor", x <= 1.5, fmt.Sprintf("%.2f×", x)) + "; " +
				verdict("≤ 6× in-process", v/p <= 6, fmt.Sprintf("%.1f×", v/p))
		}
	}
	rsaGoal := func(bench string, limit float64) func(float64, results) string {
		return func(v float64, r results) string {
			ratio, _, ok := rsaRatio(r, bench, v)
			if !ok {
				return ""
			}
			return verdict(fmt.Sprintf("≤ %.1f× RSA floor", limit), ratio <= limit, fmt.Sprintf("%.2f×", ratio))
		}
	}
	allocGoal := func(bench string, limit, allocLimit float64) func(float64, results) string {
		return func(v float64, r results) string {
			s := rsaGoal(bench, limit)(v, r)
			if a, err := r.get(bench, "allocs/op"); err == nil {
				s += "; " + verdict(fmt.Sprintf("≤ %.0f allocs", allocLimit), a <= allocLimit, fmt.Sprintf("%.0f", a))
			}
			return s
		}
	}
	coldGoal := func(v float64, r results) string {
		over, err := r.get("BenchmarkColdStart/bridge", "over-base-ns")
		if err != nil {
			return ""
		}
		return verdict("≤ Node doing nothing + 10 ms", over <= 10e6, fmt.Sprintf("%+.1f ms", over/1e6))
	}
	over := func(bench, base string) func(float64, results) string {
		return func(v float64, r results) string {
			o, err := r.get(bench, "over-base-ns")
			if err != nil {
				return ""
			}
			return fmt.Sprintf("%+.1f ms over %s", o/1e6, base)
		}
	}
	return []row{
		{what: "the RSA floor"},
		{what: "SHA-256 + RSA-2048 verify of one RS256 token", bench: "BenchmarkRSAFloor", unit: "ns/op", rsa: true},

		{what: "1. the bridge: one warm event, from the handler's call to its answer in Node"},
		{what: "bridge floor: the sample event's bytes to a Go process and back over a pipe", bench: "BenchmarkBridge/floor", unit: "ns/event", rsa: true},
		{what: "Node's JSON.stringify + JSON.parse of the event", bench: "BenchmarkBridge/json", unit: "ns/event", rsa: true},
		{what: "bridge, a handler that gives the event's bytes back (the bridge's own cost)", bench: "BenchmarkBridge/passthrough", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event"},
		{what: "bridge + echo function (aws-lambda-go decodes and encodes)", bench: "BenchmarkBridge/echo", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: "BenchmarkDirect/echo/Handle"},
		{what: "**bridge + bootstrap as packaged, check-auth, cached Bearer**", bench: "BenchmarkBridge/check-auth/bearer-cached", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: caCached,
			goal: bridgeGoal("BenchmarkBridge/check-auth/bearer-cached", caCached)},
		{what: "bridge + bootstrap, check-auth, session cookie", bench: "BenchmarkBridge/check-auth/session", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: caSession,
			goal: bridgeGoal("BenchmarkBridge/check-auth/session", caSession)},
		{what: "bridge + bootstrap, check-auth, first-seen Bearer", bench: "BenchmarkBridge/check-auth/bearer-first-seen", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: caFirstSeen,
			goal: bridgeGoal("BenchmarkBridge/check-auth/bearer-first-seen", caFirstSeen)},
		{what: "in-process: check-auth Handle, cached Bearer", bench: caCached, unit: "ns/op", rsa: true, allocs: true},
		{what: "in-process: the same through aws-lambda-go's Invoke (event bytes to result bytes)", bench: "BenchmarkDirect/check-auth/bearer-cached/Invoke", unit: "ns/op", rsa: true, inProcess: caCached, allocs: true},

		{what: "2. cold start: process start to first answer"},
		{what: "Node.js doing nothing (a handler that answers)", bench: "BenchmarkColdStart/bridge", unit: "base-ns/start", figureKind: "ms"},
		{what: "**Node.js + bridge + bootstrap as packaged (check-auth, first event)**", bench: "BenchmarkColdStart/bridge", unit: "ns/start", figureKind: "ms", goal: coldGoal},
		{what: "the Go bootstrap alone, under the bridge's frames", bench: "BenchmarkColdStart/bootstrap", unit: "ns/start", figureKind: "ms", goal: over("BenchmarkColdStart/bootstrap", "a Go process doing nothing")},
		{what: "inside it: config.Load", bench: "BenchmarkInit/config.Load", unit: "ns/op", allocs: true},
		{what: "inside it: verifier.New (the JWKS parsed)", bench: "BenchmarkInit/verifier.New", unit: "ns/op", allocs: true},
		{what: "inside it: session.New", bench: "BenchmarkInit/session.New", unit: "ns/op", allocs: true},
		{what: "inside it: idp.New", bench: "BenchmarkInit/idp.New", unit: "ns/op", allocs: true},
		{what: "inside it: page.New (the templates parsed)", bench: "BenchmarkInit/page.New", unit: "ns/op", allocs: true},
		{what: "inside it: authz.New (the rules compiled)", bench: "BenchmarkInit/authz.New", unit: "ns/op", allocs: true},
		{what: "inside it: config.Load + check-auth's New, all of the above", bench: "BenchmarkInit/config.Load+check-auth", unit: "ns/op", allocs: true},

		{what: "3. and 4. check-auth's paths, in-process"},
		{what: "**first-seen Bearer (RS256, a Cognito access token): verifier.Verify, fast path**", bench: firstSeen, unit: "ns/op", rsa: true, allocs: true, goal: rsaGoal(firstSeen, 1.3)},
		{what: "the same token by the jwx path alone (jws.VerifyCompactFast + jwt.Parse: what Verify did before)", bench: "BenchmarkVerifyFirstSeenJWX", unit: "ns/op", rsa: true, allocs: true},
		{what: "first-seen Bearer: check-auth Handle, whole decision", bench: caFirstSeen, unit: "ns/op", rsa: true, allocs: true},
		{what: "jwx jwt.Parse alone (with the key)", bench: "BenchmarkJWTParseWithKey", unit: "ns/op", rsa: true, allocs: true},
		{what: "**session cookie → pass**", bench: "BenchmarkSessionCookie", unit: "ns/op", rsa: true, allocs: true, goal: allocGoal("BenchmarkSessionCookie", 0.1, 15)},
		{what: "inside it: session.Store.Session, a value seen before (cache hit)", bench: "BenchmarkSessionDecode", unit: "ns/op", rsa: true, allocs: true},
		{what: "session.Store.Session, a value seen first (one HMAC, one JSON decode)", bench: "BenchmarkSessionDecodeUncached", unit: "ns/op", rsa: true, allocs: true},
		{what: "**cached Bearer → pass**", bench: "BenchmarkBearer", unit: "ns/op", rsa: true, allocs: true, goal: allocGoal("BenchmarkBearer", 0.1, 15)},
		{what: "inside it: verifier.Verify, cache hit (SHA-256 of the token, a lookup, a copy of the identity)", bench: "BenchmarkVerifyCached", unit: "ns/op", rsa: true, allocs: true},

		{what: "1. the in-process alternative: check-auth compiled to WebAssembly, inside the Node handler"},
		{what: "wasm: session cookie, one event from Node", bench: "BenchmarkWasm/session", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: caSession},
		{what: "wasm: cached Bearer, one event from Node", bench: "BenchmarkWasm/bearer-cached", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: caCached},
		{what: "wasm: first-seen Bearer, one event from Node", bench: "BenchmarkWasm/bearer-first-seen", unit: "ns/event", rsa: true, floorUnit: "floor-ns/event", inProcess: caFirstSeen},
		{what: "wasm, inside the module: the RSA floor", bench: "BenchmarkWasm/go/rsa-floor", unit: "ns/event", rsa: true, inProcess: "BenchmarkRSAFloor"},
		{what: "wasm, inside the module: verifier.Verify, first-seen", bench: "BenchmarkWasm/go/verify-first-seen", unit: "ns/event", rsa: true, inProcess: firstSeen},
		{what: "wasm, inside the module: check-auth Handle, session cookie", bench: "BenchmarkWasm/go/handle-session", unit: "ns/event", rsa: true, inProcess: caSession},
		{what: "wasm, inside the module: check-auth Handle, cached Bearer", bench: "BenchmarkWasm/go/handle-bearer-cached", unit: "ns/event", rsa: true, inProcess: caCached},
		{what: "wasm: cold start, Node.js + module instantiated + check-auth built, first event", bench: "BenchmarkWasm/cold-start", unit: "ns/start", figureKind: "ms", goal: over("BenchmarkWasm/cold-start", "Node doing nothing")},

		{what: "5. one artifact"},
		{what: "**dist/edgeauth.zip** (index.mjs + bootstrap + config.json), shared by the three functions", bench: "BenchmarkPackage", unit: "zip-bytes", figureKind: "bytes",
			goal: func(v float64, _ results) string { return verdict("≤ 3.5 MB", v <= 3.5e6, format(v, "bytes")) }},
	}
}
