package pwimport

import (
	"fmt"
	"testing"

	"entra2okta/internal/entra"
)

// BenchmarkHandler measures the handler's own cost per request (auth,
// decoding, shield, coalescing, answer, metrics, signal enqueue) with a
// verifier that answers at once.
func BenchmarkHandler(b *testing.B) {
	v := verifierReturning(entra.Result{Verdict: entra.Verified, Reason: "ok"})
	h := newTestHandler(b, Config{Signals: SignalConfig{QueueSize: 1 << 20}}, v, acceptAll{}, nil)
	bodies := make([][]byte, 1024)
	for i := range bodies {
		bodies[i] = payload(fmt.Sprint("e", i), fmt.Sprintf("user%d@example.com", i), "Pw-right!", fmt.Sprintf("10.0.%d.%d", i>>8, i&255))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if w := post(h, bodies[i%len(bodies)]); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkParseImportRequest(b *testing.B) {
	body := fixture(b, "identity-engine.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseImportRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
