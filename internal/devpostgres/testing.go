package devpostgres

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// StartForTest starts a cluster for tb and stops it when tb ends. Where no
// PostgreSQL binaries exist, tb is skipped with the reason, unless
// $E2O_REQUIRE_POSTGRES is set (CI sets it), where it fails instead.
func StartForTest(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	if _, err := BinDir(); errors.Is(err, ErrNotInstalled) {
		if os.Getenv(EnvRequire) != "" {
			tb.Fatalf("%v, and %s is set: this run must exercise PostgreSQL", err, EnvRequire)
		}
		tb.Skipf("%v (set %s to make this a failure)", err, EnvRequire)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("devpostgres: stop: %v", err)
		}
	})
	return c
}
