package eventhook_test

import (
	"context"
	"encoding/json"
	"entra2okta/internal/testkit/logbuf"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

// TestEventHooksEndToEnd runs the event-driven path through the emulators,
// a real Temporal dev server and an in-process worker: fakeokta verifies
// and then calls our event hook; assigning a STAGED Office 365 user to the app
// starts its migration (no batch), the first sign-in ends it Migrated, and a
// user.import.password FAILURE (Okta read-only) keeps another user waiting.
func TestEventHooksEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server and the emulators")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// Entra, with ordinary users; Okta, with three of them imported STAGED
	// by the Office 365 app (provider OKTA, no password), and the app.
	var (
		alice, bob, carol fakeentra.DemoUser
		appID             string
	)
	seed := func(fo *fakeokta.Server, fe *fakeentra.Server) (devstack.Tenant, error) {
		dir, err := fe.SeedDemo(24)
		if err != nil {
			return devstack.Tenant{}, err
		}
		var plain []fakeentra.DemoUser
		for _, u := range dir.Users {
			if u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated {
				plain = append(plain, u)
			}
		}
		if len(plain) < 3 {
			return devstack.Tenant{}, fmt.Errorf("%d plain users", len(plain))
		}
		alice, bob, carol = plain[0], plain[1], plain[2]
		if appID, err = fo.AddApp("", "Microsoft Office 365"); err != nil {
			return devstack.Tenant{}, err
		}
		for _, u := range []fakeentra.DemoUser{alice, bob, carol} {
			if _, err := fo.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
				"login": u.UserPrincipalName, "email": u.UserPrincipalName, "firstName": "Demo", "lastName": "User"}}); err != nil {
				return devstack.Tenant{}, err
			}
		}
		return devstack.Tenant{TenantID: dir.TenantID, GraphClientID: dir.GraphClientID, GraphClientSecret: dir.GraphClientSecret,
			PublicClientID: dir.PublicClientID}, nil
	}

	// A real Temporal dev server; our hook server: the inline hook and the
	// event hook, one secret (the stack registers a first event hook in
	// fakeokta, which verifies it); the worker, in-process, with the real
	// adapters on the emulators.
	const secret = "Basic ZXZlbnRzOmUyZS1ldmVudC1ob29rLXNlY3JldA=="
	var logs logbuf.Buffer
	stack, err := devstack.Start(ctx, devstack.Options{Seed: seed, Dir: t.TempDir(), Worker: devstack.InProcess,
		Hook: &devstack.HookOptions{Secret: secret,
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Configure: func(s *devstack.Stack, cfg *hookserver.ServerConfig) error {
				cfg.Events = &eventhook.EventConfig{Client: s.Client(), AppID: appID, Policy: workflows.PolicyNone}
				return nil
			}},
		WorkerConfig: func(wcfg *worker.Config) {
			wcfg.OktaRPS, wcfg.OktaCreateRPS, wcfg.GraphRPS = 100, 100, 100
			wcfg.ShutdownTimeout = 5 * time.Second
			wcfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stack.Close(); err != nil {
			t.Error(err)
		}
	})
	tc, fo, base := stack.Client(), stack.Okta(), stack.HookBaseURL()
	if _, event := stack.HookIDs(); event == "" {
		t.Fatal("the stack registered no event hook")
	}

	// Verification through fakeokta: a wrong secret is refused (our 401
	// fails Okta's verification), the right one verifies.
	types := []string{fakeokta.EventAppMembershipAdd, fakeokta.EventPasswordImport}
	if _, err := fo.RegisterEventHook(ctx, base+eventhook.EventsPath, "Authorization", "Basic wrong", types...); err == nil ||
		!strings.Contains(err.Error(), "E0000001") {
		t.Fatalf("a hook with the wrong secret verified: %v", err)
	}
	// A second verified hook on our endpoint: every event arrives twice
	// (Okta's at-least-once delivery), and must be acted on once.
	if _, err := fo.RegisterEventHook(ctx, base+eventhook.EventsPath, "Authorization", secret, types...); err != nil {
		t.Fatalf("verification: %v", err)
	}

	status := func(login string) (workflows.UserStatus, error) {
		var st workflows.UserStatus
		v, err := tc.QueryWorkflow(ctx, workflows.UserWorkflowID(login), "", workflows.QueryStatus)
		if err == nil {
			err = v.Get(&st)
		}
		return st, err
	}
	waitFor := func(login, what string, ok func(workflows.UserStatus) bool) workflows.UserStatus {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			st, err := status(login)
			if err == nil && ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not %s: %+v (%v)", login, what, st, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	awaiting := func(st workflows.UserStatus) bool { return st.State == workflows.StateAwaitingSignIn }
	oktaClient := stack.CA().HTTPClient(30 * time.Second)
	signIn := func(user, password string) int {
		code, err := stack.SignIn(ctx, oktaClient, user, password, "")
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	// 1. Okta assigns alice to Office 365: her migration starts without a
	// batch and adopts the STAGED user (hook set, activated).
	if err := fo.AssignUserToApp(appID, alice.UserPrincipalName); err != nil {
		t.Fatal(err)
	}
	st := waitFor(alice.UserPrincipalName, "awaiting sign-in", awaiting)
	if st.Batch != eventhook.DefaultEventsBatch || st.OktaAction != "adopt" {
		t.Fatalf("alice's migration %+v", st)
	}
	if u, _ := fo.User(alice.UserPrincipalName); u.Status != fakeokta.StatusActive || !u.OnImportHook {
		t.Fatalf("alice in Okta after the adoption: %+v", u)
	}
	// An assignment to another app starts nothing.
	otherApp, _ := fo.AddApp("", "Slack")
	if err := fo.AssignUserToApp(otherApp, carol.UserPrincipalName); err != nil {
		t.Fatal(err)
	}

	// 2. Her first sign-in: the password hook verifies against Entra, Okta
	// stores it and writes user.import.password SUCCESS; she ends Migrated.
	if code := signIn(alice.UserPrincipalName, alice.Password); code != http.StatusOK {
		t.Fatalf("alice's sign-in: HTTP %d", code)
	}
	waitFor(alice.UserPrincipalName, "Migrated", func(st workflows.UserStatus) bool { return st.State == workflows.StateMigrated })

	// 3. Bob is assigned, then signs in while Okta is read-only: VERIFIED
	// but not stored, user.import.password FAILURE; he keeps waiting, and
	// the workflow saw the event.
	if err := fo.AssignUserToApp(appID, bob.UserPrincipalName); err != nil {
		t.Fatal(err)
	}
	waitFor(bob.UserPrincipalName, "awaiting sign-in", awaiting)
	fo.SetReadOnly(true)
	signIn(bob.UserPrincipalName, bob.Password)
	fo.SetReadOnly(false)
	var failure string
	for _, ev := range fo.Events() {
		if ev.EventType == fakeokta.EventPasswordImport && ev.Outcome.Result == "FAILURE" &&
			len(ev.Target) > 0 && strings.EqualFold(ev.Target[0].AlternateID, bob.UserPrincipalName) {
			failure = ev.UUID
		}
	}
	if failure == "" {
		t.Fatal("fakeokta wrote no user.import.password FAILURE for bob")
	}
	st = waitFor(bob.UserPrincipalName, "told of the FAILURE event", func(st workflows.UserStatus) bool {
		return strings.Contains(st.LastError, failure)
	})
	if st.State != workflows.StateAwaitingSignIn {
		t.Fatalf("bob after a FAILURE event: %+v", st)
	}

	// 4. What the hook server did, event by event: each uuid acted on once,
	// the duplicate deliveries dropped, carol never started.
	wctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	if err := fo.WaitEventHooks(wctx2); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+eventhook.RecentEventsPath, nil)
	req.Header.Set("Authorization", secret)
	resp, err := stack.CA().HTTPClient(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var recent struct{ Events []eventhook.EventRecord }
	err = json.NewDecoder(resp.Body).Decode(&recent)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("recent: %d %v", resp.StatusCode, err)
	}
	acted, dups := map[string]int{}, map[string]int{}
	for _, r := range recent.Events {
		if r.Action == eventhook.ActionDuplicate {
			dups[r.UUID]++
			continue
		}
		acted[r.UUID]++
		if r.Action == eventhook.ActionStart && r.Result != eventhook.ResultOK {
			t.Errorf("start failed: %+v", r)
		}
	}
	for id, n := range acted {
		if n != 1 || dups[id] != 1 {
			t.Errorf("event %s acted on %d times, %d duplicates; want 1 and 1", id, n, dups[id])
		}
	}
	starts := 0
	for _, r := range recent.Events {
		if r.Action == eventhook.ActionStart {
			starts++
			if r.Login == carol.UserPrincipalName {
				t.Errorf("an assignment to another app started a migration: %+v", r)
			}
		}
	}
	if starts != 2 {
		t.Errorf("%d migrations started, want 2 (alice, bob): %+v", starts, recent.Events)
	}
	if _, err := tc.DescribeWorkflowExecution(ctx, workflows.UserWorkflowID(carol.UserPrincipalName), ""); err == nil {
		t.Error("carol has a workflow")
	}
	for _, u := range []fakeentra.DemoUser{alice, bob} {
		if strings.Contains(logs.String(), u.Password) {
			t.Fatal("a password appears in the hook server's log")
		}
	}
}
