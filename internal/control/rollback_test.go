package control_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/apierr"
	"entra2okta/internal/control"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/okta"
	"entra2okta/workflows"
)

// The rollback tests run against a real dev server with stand-ins for the two
// workflows, registered under their real type names: a MigrateUser that holds
// a given status, answers the status query and takes the skip update, and a
// MigrateBatch that keeps starting users until it is cancelled (or, ignoring
// cancellation, for ever). Okta is an in-memory stand-in whose users sign in
// or are renamed at chosen moments of the rollback.

const stubQueue = "rollback-test"

type stubUserIn struct {
	Login, Batch, OktaUserID, OktaAction string
	State                                workflows.State
	// CreatedOnSkip is the Okta user that an import in flight turns out to
	// have created by the time the skip applies.
	CreatedOnSkip string
}

func stubUser(ctx workflow.Context, in stubUserIn) error {
	st := workflows.UserStatus{Login: in.Login, Batch: in.Batch, State: in.State, OktaUserID: in.OktaUserID, OktaAction: in.OktaAction}
	if st.State == "" {
		st.State = workflows.StateAwaitingSignIn
	}
	upsert := func() {
		_ = workflow.UpsertTypedSearchAttributes(ctx, workflows.MigrationBatchKey.ValueSet(in.Batch),
			workflows.MigrationStateKey.ValueSet(string(st.State)))
	}
	upsert()
	if err := workflow.SetQueryHandler(ctx, workflows.QueryStatus, func() (workflows.UserStatus, error) { return st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, workflows.UpdateSkip, func(ctx workflow.Context, req workflows.SkipRequest) (workflows.UserStatus, error) {
		if in.CreatedOnSkip != "" {
			st.OktaAction, st.OktaUserID = "create", in.CreatedOnSkip
		}
		st.State, st.Reason = workflows.StateSkipped, req.Reason
		upsert()
		return st, nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return st.State.Terminal() })
}

// stubBatch starts a user every 100 ms until it is cancelled; with stubborn
// set it ignores the cancellation.
func stubBatch(ctx workflow.Context, batch string, stubborn bool) error {
	if stubborn {
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	for i := 0; ; i++ {
		login := fmt.Sprintf("late%d-%s@contoso.com", i, batch)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        workflows.UserWorkflowID(login),
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		})
		f := workflow.ExecuteChildWorkflow(cctx, "MigrateUser", stubUserIn{Login: login, Batch: batch})
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			return err
		}
		if err := workflow.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// memOkta is an in-memory OktaUsers. afterGet runs after the n-th read of a
// user (1-based) has been answered; beforeDeactivate runs just before a
// deactivation takes effect.
type memOkta struct {
	mu               sync.Mutex
	users            map[string]*okta.User
	reads            map[string]int
	deactivated      map[string]bool
	deleted          map[string]bool
	afterGet         func(u *okta.User, n int)
	beforeDeactivate func(u *okta.User)
}

func newMemOkta() *memOkta {
	return &memOkta{users: map[string]*okta.User{}, reads: map[string]int{}, deactivated: map[string]bool{}, deleted: map[string]bool{}}
}

func (m *memOkta) add(id, login, provider string) {
	m.users[id] = &okta.User{ID: id, Login: login, Status: "ACTIVE", ProviderType: provider}
}

func (m *memOkta) GetUser(_ context.Context, id string) (okta.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return okta.User{}, &apierr.Error{Kind: apierr.NotFound}
	}
	m.reads[id]++
	got := *u
	if m.afterGet != nil {
		m.afterGet(u, m.reads[id])
	}
	return got, nil
}

func (m *memOkta) DeactivateUser(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return &apierr.Error{Kind: apierr.NotFound}
	}
	if m.beforeDeactivate != nil {
		m.beforeDeactivate(u)
	}
	u.Status = okta.StatusDeprovisioned
	m.deactivated[id] = true
	return nil
}

func (m *memOkta) DeleteUser(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return &apierr.Error{Kind: apierr.NotFound}
	}
	if u.Status != okta.StatusDeprovisioned {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "delete of a user that is not deactivated"}
	}
	delete(m.users, id)
	m.deleted[id] = true
	return nil
}

func startStubServer(t *testing.T, ctx context.Context) (client.Client, string) {
	t.Helper()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()
	w := sdkworker.New(c, stubQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(stubUser, workflow.RegisterOptions{Name: "MigrateUser"})
	w.RegisterWorkflowWithOptions(stubBatch, workflow.RegisterOptions{Name: "MigrateBatch"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c, srv.Namespace()
}

func startStubUser(t *testing.T, ctx context.Context, c client.Client, in stubUserIn) {
	t.Helper()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.UserWorkflowID(in.Login), TaskQueue: stubQueue},
		"MigrateUser", in); err != nil {
		t.Fatal(err)
	}
}

func startStubBatch(t *testing.T, ctx context.Context, c client.Client, batch string, stubborn bool) {
	t.Helper()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BatchWorkflowID(batch), TaskQueue: stubQueue},
		"MigrateBatch", batch, stubborn); err != nil {
		t.Fatal(err)
	}
}

// waitListed waits until the visibility store lists every login of want in the batch.
func waitListed(t *testing.T, ctx context.Context, c client.Client, ns, batch string, want []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := map[string]bool{}
		err := control.ListUsers(ctx, c, ns, batch, func(r control.ReportRow) error {
			if r.Batch == batch {
				seen[r.Login] = true
			}
			return nil
		})
		missing := 0
		for _, l := range want {
			if !seen[l] {
				missing++
			}
		}
		if err == nil && missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility lists %d of %d users (%v)", len(want)-missing, len(want), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRollbackStopsTheBatchAndRechecksBeforeDeleting: a rollback first stops
// the batch (its workflow is closed when the rollback returns, so no user is
// started after it), ends a user still importing before deciding on it, and
// keeps users who sign in or are renamed after the rollback first read them,
// or whose sign-in lands just before the deactivation.
func TestRollbackStopsTheBatchAndRechecksBeforeDeleting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, ns := startStubServer(t, ctx)

	const batch = "rb1"
	o := newMemOkta()
	users := []stubUserIn{
		{Login: "plain@contoso.com", OktaUserID: "00u1", OktaAction: "create"},
		{Login: "late-signin@contoso.com", OktaUserID: "00u2", OktaAction: "create"},
		{Login: "renamed@contoso.com", OktaUserID: "00u3", OktaAction: "create"},
		{Login: "racing-signin@contoso.com", OktaUserID: "00u4", OktaAction: "create"},
		{Login: "signed-in@contoso.com", OktaUserID: "00u5", OktaAction: "create"},
		{Login: "adopted@contoso.com", OktaUserID: "00u6", OktaAction: "adopt"},
		{Login: "importing@contoso.com", State: workflows.StateImporting, CreatedOnSkip: "00u7"},
	}
	for i, u := range users {
		users[i].Batch = batch
		id := u.OktaUserID
		if id == "" {
			id = u.CreatedOnSkip
		}
		provider := okta.ProviderImport
		if u.Login == "signed-in@contoso.com" {
			provider = "OKTA"
		}
		o.add(id, u.Login, provider)
		startStubUser(t, ctx, c, users[i])
	}
	o.afterGet = func(u *okta.User, n int) {
		if n != 1 {
			return
		}
		switch u.ID {
		case "00u2": // signs in right after the rollback looked at it
			u.ProviderType = "OKTA"
		case "00u3": // renamed by an admin right after the first look
			u.Login = "someone-else@contoso.com"
		}
	}
	o.beforeDeactivate = func(u *okta.User) {
		if u.ID == "00u4" { // signs in between the last look and the deactivation
			u.ProviderType = "OKTA"
		}
	}
	logins := make([]string, len(users))
	for i, u := range users {
		logins[i] = u.Login
	}
	waitListed(t, ctx, c, ns, batch, logins)
	startStubBatch(t, ctx, c, batch, false)

	var stops []control.BatchStop
	got := map[string]control.RollbackAction{}
	err := control.Rollback(ctx, c, o, ns, batch, control.RollbackOptions{OnStop: func(s control.BatchStop) { stops = append(stops, s) }},
		func(a control.RollbackAction) { got[a.Login] = a })
	if err != nil {
		t.Fatal(err)
	}

	// The batch is closed, and was stopped before any user was touched.
	d, err := c.DescribeWorkflowExecution(ctx, workflows.BatchWorkflowID(batch), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Errorf("batch workflow after rollback: %s, want canceled", s)
	}
	if len(stops) != 1 || !stops[0].Found || !stops[0].Cancelled || stops[0].Status != "Canceled" {
		t.Errorf("OnStop: %+v", stops)
	}

	want := map[string]string{
		"plain@contoso.com":         "delete",
		"importing@contoso.com":     "delete",
		"late-signin@contoso.com":   "keep",
		"renamed@contoso.com":       "keep",
		"signed-in@contoso.com":     "keep",
		"adopted@contoso.com":       "keep",
		"racing-signin@contoso.com": "error",
	}
	for login, action := range want {
		if a := got[login]; a.Action != action {
			t.Errorf("%s: %s (%s), want %s", login, a.Action, a.Reason, action)
		}
	}
	if r := got["late-signin@contoso.com"].Reason; !strings.Contains(r, "signed in already (provider OKTA)") {
		t.Errorf("late sign-in kept for: %q", r)
	}
	if r := got["racing-signin@contoso.com"].Reason; !strings.Contains(r, "left deactivated, not deleted") {
		t.Errorf("racing sign-in: %q", r)
	}
	for id, deleted := range map[string]bool{"00u1": true, "00u7": true, "00u2": false, "00u3": false, "00u4": false, "00u5": false, "00u6": false} {
		if o.deleted[id] != deleted {
			t.Errorf("Okta user %s deleted = %v, want %v", id, o.deleted[id], deleted)
		}
	}
	for _, id := range []string{"00u2", "00u3", "00u5", "00u6"} {
		if o.deactivated[id] {
			t.Errorf("Okta user %s was deactivated", id)
		}
	}
	// The late users the batch started before it stopped are other users:
	// none was created by the batch, none is touched.
	for login, a := range got {
		if strings.HasPrefix(login, "late") && strings.Contains(login, "-"+batch+"@") && a.Action != "keep" {
			t.Errorf("%s: %+v", login, a)
		}
	}
}

// TestRollbackRefusesWhileTheBatchRuns: a batch workflow that does not close
// when cancelled stops the rollback with a clear error, before any user is
// touched.
func TestRollbackRefusesWhileTheBatchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, ns := startStubServer(t, ctx)

	const batch = "rb2"
	o := newMemOkta()
	o.add("00u1", "plain@contoso.com", okta.ProviderImport)
	startStubUser(t, ctx, c, stubUserIn{Login: "plain@contoso.com", Batch: batch, OktaUserID: "00u1", OktaAction: "create"})
	waitListed(t, ctx, c, ns, batch, []string{"plain@contoso.com"})
	startStubBatch(t, ctx, c, batch, true)

	touched := 0
	err := control.Rollback(ctx, c, o, ns, batch, control.RollbackOptions{StopTimeout: 2 * time.Second},
		func(control.RollbackAction) { touched++ })
	if err == nil || !strings.Contains(err.Error(), "still running") || !strings.Contains(err.Error(), "nothing was rolled back") {
		t.Fatalf("rollback with a batch that does not stop: %v", err)
	}
	if touched != 0 || len(o.deleted) != 0 || len(o.deactivated) != 0 {
		t.Fatalf("users touched: %d, deleted %v, deactivated %v", touched, o.deleted, o.deactivated)
	}
	// A dry run does not stop the batch and changes nothing.
	err = control.Rollback(ctx, c, o, ns, batch, control.RollbackOptions{DryRun: true}, func(a control.RollbackAction) {
		if a.Login == "plain@contoso.com" && a.Action != "delete" {
			t.Errorf("dry run: %+v", a)
		}
	})
	if err != nil || len(o.deleted) != 0 {
		t.Fatalf("dry run: %v, deleted %v", err, o.deleted)
	}
	_ = c.TerminateWorkflow(ctx, workflows.BatchWorkflowID(batch), "", "test over")
}

// closedUser ends at once as Expired, writing the rollback memo first when
// asked to, as MigrateUser does at the end of its import (rollback-memo).
func closedUser(ctx workflow.Context, in stubUserIn, memo bool) error {
	if memo {
		if err := workflow.UpsertMemo(ctx, map[string]any{workflows.MemoRollback: workflows.RollbackMemo{
			Login: in.Login, Batch: in.Batch, OktaUserID: in.OktaUserID, OktaAction: in.OktaAction, State: workflows.StateAwaitingSignIn}}); err != nil {
			return err
		}
	}
	return workflow.UpsertTypedSearchAttributes(ctx, workflows.MigrationBatchKey.ValueSet(in.Batch),
		workflows.MigrationStateKey.ValueSet(string(workflows.StateExpired)))
}

// TestRollbackReadsTheMemoOfClosedUsers: a closed user with a rollback memo
// is rolled back from the visibility store alone, with no worker to answer a
// query (which would replay its history); a closed user without one (started
// before the memo existed) falls back to the status query, which here fails
// for want of a worker.
func TestRollbackReadsTheMemoOfClosedUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, ns := startStubServer(t, ctx)
	const batch, queue = "rb3", "rollback-memo-test"
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(closedUser, workflow.RegisterOptions{Name: "MigrateUser"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	o := newMemOkta()
	users := []struct {
		in   stubUserIn
		memo bool
	}{
		{stubUserIn{Login: "created@contoso.com", Batch: batch, OktaUserID: "00u1", OktaAction: "create"}, true},
		{stubUserIn{Login: "adopted@contoso.com", Batch: batch, OktaUserID: "00u2", OktaAction: "adopt"}, true},
		{stubUserIn{Login: "old@contoso.com", Batch: batch, OktaUserID: "00u3", OktaAction: "create"}, false},
	}
	var logins []string
	for i, u := range users {
		o.add(u.in.OktaUserID, u.in.Login, okta.ProviderImport)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.UserWorkflowID(u.in.Login), TaskQueue: queue},
			"MigrateUser", u.in, u.memo)
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		logins = append(logins, u.in.Login)
	}
	w.Stop() // nothing answers a query of these users any more
	waitListed(t, ctx, c, ns, batch, logins)

	got := map[string]control.RollbackAction{}
	if err := control.Rollback(ctx, c, o, ns, batch, control.RollbackOptions{}, func(a control.RollbackAction) { got[a.Login] = a }); err != nil {
		t.Fatal(err)
	}
	if a := got["created@contoso.com"]; a.Action != "delete" || a.OktaUserID != "00u1" || !o.deleted["00u1"] {
		t.Errorf("created, from its memo: %+v, deleted %v", a, o.deleted)
	}
	if a := got["adopted@contoso.com"]; a.Action != "keep" || o.deleted["00u2"] {
		t.Errorf("adopted, from its memo: %+v", a)
	}
	if a := got["old@contoso.com"]; a.Action != "error" || !strings.Contains(a.Reason, "status query failed") || o.deleted["00u3"] {
		t.Errorf("no memo: want the query's failure, got %+v", a)
	}
}
