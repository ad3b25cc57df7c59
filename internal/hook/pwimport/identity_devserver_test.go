package pwimport

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/devtemporal"
	"entra2okta/workflows"
)

// TestResolverOnTheDevServer runs the identity resolution's two Temporal
// calls against the real server: DescribeWorkflowExecution's search
// attributes and the visibility query with WorkflowId STARTS_WITH (a short
// name, an alias in another domain, an ambiguous and an unknown name).
func TestResolverOnTheDevServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()
	const queue = "resolver-test"
	waitForever := func(ctx workflow.Context) error { return workflow.Await(ctx, func() bool { return false }) }
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(waitForever, workflow.RegisterOptions{Name: "MigrateUser"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for login, oid := range map[string]string{"bob@contoso.com": "oid-bob", "alice@contoso.com": "oid-a1", "alice@fabrikam.com": "oid-a2"} {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.UserWorkflowID(login), TaskQueue: queue,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.MigrationEntraIDKey.ValueSet(oid))}, "MigrateUser")
		if err != nil {
			t.Fatal(err)
		}
	}
	r := newResolver(BindingConfig{Source: c, Timeout: 10 * time.Second})
	check := func(typed, wantLogin, wantOID, wantWhy string) bool {
		id, why := r.lookup(ctx, typed)
		return why == wantWhy && id.login == wantLogin && id.objectID == wantOID
	}
	if !check("Bob@Contoso.com", "bob@contoso.com", "oid-bob", "") {
		id, why := r.lookup(ctx, "Bob@Contoso.com")
		t.Fatalf("exact login: %+v %q", id, why)
	}
	// Visibility is eventually consistent: the list may lag the starts a moment.
	deadline := time.Now().Add(30 * time.Second)
	for !check("bob", "bob@contoso.com", "oid-bob", "") {
		if time.Now().After(deadline) {
			id, why := r.lookup(ctx, "bob")
			t.Fatalf("short name: %+v %q", id, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for typed, want := range map[string][3]string{
		"bob@contoso.onmicrosoft.com": {"bob@contoso.com", "oid-bob", ""},
		"alice":                       {"", "", reasonIdentityAmbig},
		"carol":                       {"", "", reasonIdentityUnk},
	} {
		if !check(typed, want[0], want[1], want[2]) {
			id, why := r.lookup(ctx, typed)
			t.Errorf("%s: got %+v %q, want %v", typed, id, why, want)
		}
	}
}
