package devcluster

import (
	"context"
	"errors"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"entra2okta/internal/demodata"
	"entra2okta/internal/devpostgres"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
)

// TestClusterUpKillsAndCloses starts the topology with a small tenant, checks
// that the proxy reaches both hook replicas and skips a killed one, restarts
// a worker and a replica, and that Close leaves no process behind.
func TestClusterUpKillsAndCloses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, the Temporal server and four processes")
	}
	if _, err := devpostgres.BinDir(); err != nil {
		devpostgres.StartForTest(t, devpostgres.Options{}) // skips, or fails when PostgreSQL is required
	}
	bin := t.TempDir()
	if err := Build(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{ProxyHTTP, ProxyTCP} {
		t.Run(mode, func(t *testing.T) {
			testClusterUpKillsAndCloses(t, devpostgres.StartForTest(t, devpostgres.Options{}), bin, mode)
		})
	}
}

func testClusterUpKillsAndCloses(t *testing.T, db *devpostgres.Cluster, bin, mode string) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{
		DB: db, BinDir: bin, ProxyMode: mode,
		Seed: func(o *fakeokta.Server, e *fakeentra.Server) (Tenant, error) {
			d, err := demodata.Seed(o, e, 5)
			return Tenant{TenantID: d.TenantID, GraphClientID: d.GraphClientID, GraphClientSecret: d.GraphClientSecret,
				PublicClientID: d.PublicClientID}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = c.Close()
		}
	}()
	// One TLS connection per request: each goes to the next replica.
	tr := c.CA().HTTPClient(5 * time.Second)
	tr.Transport.(*http.Transport).DisableKeepAlives = true
	health := "https://" + c.proxy.Addr() + "/healthz"
	if c.opts.ProxyMode != mode {
		t.Fatalf("proxy mode %q, want %q", c.opts.ProxyMode, mode)
	}
	get := func() error {
		resp, err := tr.Get(health)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
	for i := range 4 {
		if err := get(); err != nil {
			t.Fatalf("request %d through the proxy: %v", i, err)
		}
	}
	if conns := c.HookTraffic(); conns[0] != 2 || conns[1] != 2 {
		t.Errorf("traffic per replica %v, want [2 2]", conns)
	}
	if err := c.KillHook(0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := get(); err != nil {
			t.Fatalf("request %d with replica 0 killed: %v", i, err)
		}
	}
	if conns := c.HookTraffic(); conns[1] != 5 {
		t.Errorf("traffic per replica %v after the kill, want 5 on replica 1", conns)
	}
	if err := c.StartHook(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.KillWorker(1); err != nil {
		t.Fatal(err)
	}
	if pids := c.WorkerPIDs(); pids[1] != 0 {
		t.Errorf("worker 1 still has a pid after the kill: %v", pids)
	}
	if err := c.StartWorker(1); err != nil {
		t.Fatal(err)
	}
	pids := append(c.WorkerPIDs(), c.HookPIDs()...)
	for i, pid := range pids {
		if pid == 0 {
			t.Errorf("process %d not running: %v", i, pids)
		}
	}
	dir := c.dir
	closed = true
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Close: %v", pid, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cluster's directory is left behind: %v", err)
	}
	if c.Logs() == "" {
		t.Error("no output captured")
	}
}
