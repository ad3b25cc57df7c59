package devpostgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"entra2okta/internal/devpostgres"
)

func query(ctx context.Context, t *testing.T, dsn string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM probe").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestClusterSurvivesCrash starts a private cluster, writes a row, crashes the
// server (immediate shutdown), restarts it and reads the row back; Stop leaves
// no directory behind.
func TestClusterSurvivesCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	if err := c.CreateDatabase(ctx, "probe"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.DSN("probe"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE probe (n int); INSERT INTO probe VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	if err := c.Halt(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, c.DSN("probe")); err == nil {
		t.Fatal("connected to a halted server")
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if n := query(ctx, t, c.DSN("probe")); n != 1 {
		t.Fatalf("rows after crash and restart = %d, want 1", n)
	}
	dir := filepath.Dir(c.LogFile())
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s left behind: %v", dir, err)
	}
}
