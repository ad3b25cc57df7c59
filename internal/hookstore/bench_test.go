package hookstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"entra2okta/internal/devpostgres"
	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
)

// BenchmarkVerification is the store's share of one verified sign-in: the
// negative cache lookup, the admit and the record, one round trip each, on
// a private loopback cluster (fsync off: a disk's flush would add to it).
func BenchmarkVerification(b *testing.B) {
	c := devpostgres.StartForTest(b, devpostgres.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	cfg := pwimport.ShieldConfig{}
	s, err := Open(ctx, c.DSN("bench"), Options{Shield: cfg, SweepEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ok := entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK}
	b.ResetTimer()
	for i := range b.N {
		a := cfg.AttemptOf(fmt.Sprintf("user%d@example.com", i%5000), fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255))
		now := time.Now()
		pair := [32]byte{byte(i), byte(i >> 8), byte(i >> 16)}
		if _, _, err := s.CachedRejection(ctx, pair, now); err != nil {
			b.Fatal(err)
		}
		ch, why, _, err := s.Admit(ctx, a, now)
		if err != nil || why != "" {
			b.Fatal(err, why)
		}
		if err := s.Record(ctx, ch, pair, ok, now); err != nil {
			b.Fatal(err)
		}
	}
}
