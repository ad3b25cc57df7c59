package hookserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"entra2okta/internal/devpostgres"
)

// TestRunWithSharedStore: two hook servers given one HOOK_STORE (a URL with
// a password) start, create the shield's schema once, share one key, say so
// in their logs and never log the URL's password.
func TestRunWithSharedStore(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, "shield"); err != nil {
		t.Fatal(err)
	}
	const dbPassword = "db-pw-MARKER-93"
	dsn := "postgres://" + c.User() + ":" + dbPassword + "@" + c.Addr() + "/shield?sslmode=disable"
	env := map[string]string{
		"HOOK_AUTH_SECRET": "Basic aG9vazpsb25nLWVub3VnaC1zZWNyZXQ=",
		"ENTRA_TENANT_ID":  "contoso.com", "ENTRA_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
		"ENTRA_AUTHORITY_HOST": entraDemo.fe.URL,
		"TEMPORAL_ADDRESS":     freeAddr(t),
		"HOOK_STORE":           dsn,
	}
	_, logsA, stopA := startRun(t, with(env))
	_, logsB, stopB := startRun(t, with(env))
	conn, err := pgx.Connect(ctx, c.DSN("shield"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var keys int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM hook_shield_key`).Scan(&keys); err != nil || keys != 1 {
		t.Fatalf("%d keys (%v), want one shared", keys, err)
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	for _, logs := range []string{logsA.String(), logsB.String()} {
		if !strings.Contains(logs, "shared hook store") || strings.Contains(logs, "run one replica") {
			t.Fatalf("log does not say the shield is shared:\n%s", logs)
		}
		if strings.Contains(logs, dbPassword) {
			t.Fatal("the store's password appears in the log")
		}
	}
}
