package testtoken

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// FloorMeter measures the RSA floor (SHA-256 and an RSA-2048 PKCS #1 v1.5
// verification of one RS256 token, what any RS256 check costs at least) in
// alternation with a benchmark's own loop, outside its timer, so that the
// benchmark reports its ns/op as a multiple of the floor measured over the
// same interval: on a shared machine both then see the same load, which
// two benchmarks run one after the other do not. The benchmark's ns/op and
// allocs/op are its own.
type FloorMeter struct {
	b     *testing.B
	pub   *rsa.PublicKey
	input []byte
	sig   []byte
	every int
	i, n  int
	total time.Duration
}

// NewFloorMeter returns a meter that times the floor once every `every`
// iterations (1 for operations about as long as the floor).
func NewFloorMeter(b *testing.B, every int) *FloorMeter {
	b.Helper()
	m := Keys(b)
	tok := m.Sign(b, CognitoAccess("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FLOOR", "client", "sub",
		[]string{"admins", "staff", "readers", "writers"}, time.Now().Add(time.Hour)))
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	return &FloorMeter{b: b, pub: m.PublicKey(KeyID1), input: []byte(tok[:i]), sig: sig, every: max(every, 1)}
}

// Tick is called once per iteration of the benchmark's loop.
func (f *FloorMeter) Tick() {
	f.i++
	if f.i%f.every != 0 {
		return
	}
	f.b.StopTimer()
	start := time.Now()
	sum := sha256.Sum256(f.input)
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], f.sig); err != nil {
		f.b.Fatal(err)
	}
	f.total += time.Since(start)
	f.n++
	f.b.StartTimer()
}

// Report adds floor-ns/op (the floor's mean) and x-rsa-floor (the
// benchmark's ns/op over it) to the benchmark's figures; call it after the
// loop.
func (f *FloorMeter) Report() {
	if f.n == 0 || f.b.N == 0 {
		return
	}
	floor := float64(f.total) / float64(f.n)
	f.b.ReportMetric(floor, "floor-ns/op")
	f.b.ReportMetric(float64(f.b.Elapsed())/float64(f.b.N)/floor, "x-rsa-floor")
}
