package devtemporal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/devpostgres"
)

var probeKey = temporal.NewSearchAttributeKeyKeyword("DevtemporalSQLProbe")

// tagAndWait upserts the probe search attribute to tag, then waits for the
// "go" signal and returns tag plus the signal's value.
func tagAndWait(ctx workflow.Context, tag string) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, probeKey.ValueSet(tag)); err != nil {
		return "", err
	}
	var got string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &got)
	return tag + "+" + got, nil
}

// TestSQLServer runs the real Temporal server on a private PostgreSQL
// cluster: a workflow's search attribute is found through visibility on
// PostgreSQL; a workflow waiting on a signal survives a SIGKILL of the server
// and a restart; the server serves again after PostgreSQL crashed
// ("immediate") and restarted; Stop leaves no process behind.
func TestSQLServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and a real Temporal server")
	}
	db := devpostgres.StartForTest(t, devpostgres.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out bytes.Buffer
	began := time.Now()
	srv, err := StartSQL(ctx, SQLOptions{
		DB:               db,
		SearchAttributes: temporal.NewSearchAttributes(probeKey.ValueSet("")),
		EnableUI:         true,
		LogLevel:         "warn",
		Output:           &out, // StartSQL serialises the processes' writes
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	t.Logf("StartSQL: %v", time.Since(began))
	c := srv.Client()

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetCustomAttributes()[probeKey.GetName()]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
		t.Fatalf("search attribute type = %v, want Keyword (all: %v)", got, resp.GetCustomAttributes())
	}
	if st := resp.GetStorageSchema(); len(st) != 0 {
		t.Logf("storage schema: %v", st)
	}

	w := worker.New(c, "devtemporal-sql", worker.Options{})
	w.RegisterWorkflow(tagAndWait)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	// Visibility on PostgreSQL: the upserted keyword is queryable.
	runA, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "devtemporal-sql-a", TaskQueue: "devtemporal-sql"}, tagAndWait, "a")
	if err != nil {
		t.Fatal(err)
	}
	waitListed(ctx, t, c, srv.Namespace(), `DevtemporalSQLProbe = "a"`, runA.GetID())

	// The UI serves its page.
	if err := httpGet(ctx, srv.UIURL()); err != nil {
		t.Errorf("Web UI: %v", err)
	}

	// A crash of the server while the workflow waits on its signal.
	began = time.Now()
	pgid := srv.proc.cmd.Process.Pid
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if alive(pgid) {
		t.Fatalf("process group %d still has processes after Kill", pgid)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Kill and Restart: %v", time.Since(began))
	if err := c.SignalWorkflow(ctx, runA.GetID(), "", "go", "after-kill"); err != nil {
		t.Fatal(err)
	}
	var res string
	if err := runA.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res != "a+after-kill" {
		t.Fatalf("result = %q", res)
	}

	// A crash of PostgreSQL under the running server.
	began = time.Now()
	haltCtx, haltCancel := context.WithTimeout(ctx, 2*time.Minute)
	if err := db.Halt(haltCtx, "immediate"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the server meets the outage
	if err := db.Restart(haltCtx); err != nil {
		t.Fatal(err)
	}
	haltCancel()
	// Right after PostgreSQL comes back, the server may answer "namespace
	// not found" for about a second: its namespace registry reports any
	// failed read of a namespace as NamespaceNotFound
	// (https://github.com/temporalio/temporal/blob/v1.29.1/common/namespace/nsregistry/registry.go,
	// getNamespaceByNamePersistence). The SDK does not retry that error:
	// this test does, for up to a minute.
	var runB client.WorkflowRun
	retryUntil := time.Now().Add(time.Minute)
	for {
		runB, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "devtemporal-sql-b", TaskQueue: "devtemporal-sql"}, tagAndWait, "b")
		if err == nil {
			break
		}
		if time.Now().After(retryUntil) {
			t.Fatal(err)
		}
		t.Logf("%v after PostgreSQL's restart: %v", time.Since(began), err)
		time.Sleep(500 * time.Millisecond)
	}
	if err := c.SignalWorkflow(ctx, runB.GetID(), "", "go", "after-pg"); err != nil {
		t.Fatal(err)
	}
	if err := runB.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res != "b+after-pg" {
		t.Fatalf("result = %q", res)
	}
	waitListed(ctx, t, c, srv.Namespace(), `DevtemporalSQLProbe = "b"`, runB.GetID())
	t.Logf("PostgreSQL crash to a new workflow completed: %v", time.Since(began))

	// Stop leaves nothing running.
	w.Stop()
	pgids := []int{srv.proc.cmd.Process.Pid, srv.uiProc.cmd.Process.Pid}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, g := range pgids {
		if alive(g) {
			t.Errorf("process group %d still has processes after Stop", g)
		}
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if strings.Contains(out.String(), `"level":"fatal"`) {
		t.Errorf("server logged a fatal error:\n%s", out.String())
	}
}

// waitListed polls visibility with query until it lists the workflow id.
func waitListed(ctx context.Context, t *testing.T, c client.Client, ns, query, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, Query: query})
		if err == nil {
			for _, e := range resp.GetExecutions() {
				if e.GetExecution().GetWorkflowId() == id {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility: %s does not list %s within 30 s (last error: %v)", query, id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// alive reports whether process group pgid has a member left.
func alive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}

// TestSQLServerConfigValid checks the dynamic configuration StartSQL writes
// with the pinned server's own validator (unknown keys or wrong types are
// errors there).
func TestSQLServerConfigValid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin, err := ToolPath(ctx, ToolServer)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dynamicconfig.yaml")
	if err := os.WriteFile(f, dynamicConfigYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, bin, "validate-dynamic-config", f).CombinedOutput()
	if err != nil || strings.Contains(string(out), "warning") {
		t.Fatalf("validate-dynamic-config: %v\n%s", err, out)
	}
	for k := range DynamicConfig() {
		if !strings.Contains(string(dynamicConfigYAML()), k+":\n  - value: ") {
			t.Errorf("%s missing from the file", k)
		}
	}
}

func TestStartSQLNeedsDB(t *testing.T) {
	if _, err := StartSQL(context.Background(), SQLOptions{}); err == nil || !strings.Contains(err.Error(), "DB is required") {
		t.Fatalf("StartSQL without DB: %v", err)
	}
}

// TestSchemaSteps pins the shape docker-compose.yml's schema job copies.
func TestSchemaSteps(t *testing.T) {
	var got []string
	for _, s := range SchemaSteps() {
		got = append(got, strings.Join(s, " "))
	}
	want := []string{
		"--db temporal create",
		"--db temporal setup-schema -v 0.0",
		"--db temporal update-schema --schema-name postgresql/v12/temporal",
		"--db temporal_visibility create",
		"--db temporal_visibility setup-schema -v 0.0",
		"--db temporal_visibility update-schema --schema-name postgresql/v12/visibility",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("SchemaSteps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// httpGet fetches url and wants a 200.
func httpGet(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
