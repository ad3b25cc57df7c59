package devtemporal_test

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/devtemporal"
)

func echo(ctx workflow.Context, in string) (string, error) {
	var got string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &got)
	return in + "+" + got, nil
}

// TestDevServer starts the pinned CLI's dev server with a search attribute,
// runs a signal-driven workflow on it and checks the attribute is registered.
func TestDevServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	key := temporal.NewSearchAttributeKeyKeyword("DevtemporalProbe")
	srv, err := devtemporal.Start(ctx, devtemporal.Options{
		SearchAttributes: temporal.NewSearchAttributes(key.ValueSet("")),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()

	w := worker.New(c, "devtemporal-test", worker.Options{})
	w.RegisterWorkflow(echo)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "devtemporal-echo", TaskQueue: "devtemporal-test",
		TypedSearchAttributes: temporal.NewSearchAttributes(key.ValueSet("x")),
	}, echo, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), "", "go", "world"); err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if out != "hello+world" {
		t.Fatalf("result = %q", out)
	}

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetCustomAttributes()["DevtemporalProbe"]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
		t.Fatalf("search attribute type = %v, want Keyword (all: %v)", got, resp.GetCustomAttributes())
	}
}
