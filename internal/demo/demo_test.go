package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/demo"
)

// TestDemo runs the demo end to end at a small size: dev server, emulators,
// hook server, worker, a batch, sign-ins and the deadline. The demo checks its
// own outcome (Migrated = everyone who typed the right password, no Failed,
// Okta holds every verified password, the attacker did not lock the victim).
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole product")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	// The deadline leaves room for the import (each user also joins its
	// department's Okta group) on a loaded machine: a user still importing
	// when it passes expires before it can sign in.
	err := demo.Run(ctx, demo.Options{Users: 60, Deadline: 60 * time.Second, UIPort: -1, Dir: t.TempDir(), Out: &out})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Migrated", "AlreadyMigrated", "Ineligible", "Expired", "Demo OK.",
		"Temporal Web UI, users of batch ", "  Expired (", "Okta groups from the Entra departments: Engineering ", "MigrationState+%3D+%27Expired%27"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
