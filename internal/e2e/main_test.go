package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs up to two of the suite's tests at once unless -parallel is
// given. Each test runs its own Temporal server, worker, hook server and
// emulators under the race detector; four at once on 2 cores starved them
// (a batch's first workflow task took over 5 s, 60 users took 42 s to
// import, and batches reached their deadlines before the sign-ins the tests
// schedule). The command runs packages one at a time (-p 1) with a 60-minute
// timeout, which two at a time fits.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", "2"); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	if workerBin != "" { // built by buildWorker in a directory of its own
		_ = os.RemoveAll(filepath.Dir(workerBin))
	}
	clusterBinCleanup()
	os.Exit(code)
}
