package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs up to four of the suite's tests at once unless -parallel is
// given: they spend most of their time waiting for batch deadlines, not
// computing, and the default (GOMAXPROCS, 2 on CI) would take the suite past
// go test's default 10-minute timeout.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", "4"); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	if workerBin != "" { // built by buildWorker in a directory of its own
		_ = os.RemoveAll(filepath.Dir(workerBin))
	}
	os.Exit(code)
}
