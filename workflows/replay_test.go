package workflows_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"entra2okta/workflows"
)

// manifestEntry is one line of a manifest: a recorded history (its path
// under testdata), its SHA-256 and the path of the migration it covers.
type manifestEntry struct {
	path, sha256, covers string
}

// manifests are the corpus's manifests: testdata/MANIFEST (the first
// recordings, v1 to v3) and the MANIFEST of each later release directory
// (testdata/v4/MANIFEST, ...), so that recording a release adds files and
// never edits an earlier one.
func manifests(t *testing.T) []string {
	t.Helper()
	later, err := filepath.Glob(filepath.Join("testdata", "*", "MANIFEST"))
	require.NoError(t, err)
	return append([]string{filepath.Join("testdata", "MANIFEST")}, later...)
}

// readManifest reads every manifest (tab-separated; # starts a comment).
func readManifest(t *testing.T) []manifestEntry {
	t.Helper()
	var entries []manifestEntry
	for _, name := range manifests(t) {
		f, err := os.Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			parts := strings.SplitN(line, "\t", 3)
			require.Len(t, parts, 3, "%s line %d: want path<TAB>sha256<TAB>covers", name, n)
			entries = append(entries, manifestEntry{parts[0], parts[1], parts[2]})
		}
		require.NoError(t, sc.Err())
		require.NoError(t, f.Close())
	}
	return entries
}

// TestReplayCorpusManifest keeps the replay corpus append-only: every history
// under testdata is listed once in a manifest, with the SHA-256 of its bytes.
// A history that is changed (re-recorded), removed or added without a line
// fails here. Histories are recorded from real runs on the dev server
// (internal/testkit/upgradetest's TestRecordCorpus, per release directory) and never
// re-recorded: a change that cannot replay them goes behind
// workflow.GetVersion (docs/campaign.md, versioning).
func TestReplayCorpusManifest(t *testing.T) {
	listed := map[string]bool{}
	for _, e := range readManifest(t) {
		require.False(t, listed[e.path], "%s listed twice", e.path)
		listed[e.path] = true
		data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(e.path)))
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		require.NoError(t, err, "%s is listed in a manifest but missing: recorded histories are never removed", e.path)
		sum := sha256.Sum256(data)
		require.Equal(t, e.sha256, hex.EncodeToString(sum[:]), "%s changed: recorded histories are never modified", e.path)
	}
	require.NoError(t, filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, err := filepath.Rel("testdata", path)
		require.NoError(t, err)
		require.True(t, listed[filepath.ToSlash(rel)], "%s is not listed in a manifest (testdata/MANIFEST or its release directory's)", rel)
		return nil
	}))
}

// TestReplay replays every history of the corpus against the current
// workflow code: a change that makes the workflows take other decisions for
// the same events fails here, before it breaks running migrations.
func TestReplay(t *testing.T) {
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	entries := readManifest(t)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		t.Run(e.path, func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			workflows.Register(replayer)
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(logger, filepath.Join("testdata", filepath.FromSlash(e.path))), e.covers)
		})
	}
}
