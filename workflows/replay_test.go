package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"entra2okta/workflows"
)

// TestReplay replays histories recorded against the real dev server
// (internal/worker's TestServe_MigratesABatch with RECORD_HISTORIES=1): a
// change that makes the workflows take other decisions for the same events
// fails here, before it breaks running migrations. Record new histories when
// a change is meant to be incompatible (and version it with GetVersion).
func TestReplay(t *testing.T) {
	files := []string{ // at least one per workflow and per end of MigrateUser
		"migrate_batch.json",
		"migrate_user_migrated.json",
		"migrate_user_expired.json",
		"migrate_user_ineligible.json",
	}
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			workflows.Register(replayer)
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(logger, filepath.Join("testdata", f)))
		})
	}
}
