package eventhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/loopbacktls"
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
	ts, err := devtemporal.Start(ctx, devtemporal.Options{SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Stop() })
	tc := ts.Client()

	// Entra, with two ordinary users.
	fe, err := fakeentra.Start(fakeentra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fe.Close() })
	dir, err := fe.SeedDemo(24)
	if err != nil {
		t.Fatal(err)
	}
	var plain []fakeentra.DemoUser
	for _, u := range dir.Users {
		if u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated {
			plain = append(plain, u)
		}
	}
	if len(plain) < 3 {
		t.Fatalf("%d plain users", len(plain))
	}
	alice, bob, carol := plain[0], plain[1], plain[2]

	// Okta, with both imported STAGED by the Office 365 app (provider OKTA,
	// no password), and the app.
	ca, err := loopbacktls.New()
	if err != nil {
		t.Fatal(err)
	}
	fo, err := fakeokta.Start(fakeokta.Options{HookRootCAs: ca.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fo.Close() })
	appID, err := fo.AddApp("", "Microsoft Office 365")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []fakeentra.DemoUser{alice, bob, carol} {
		if _, err := fo.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
			"login": u.UserPrincipalName, "email": u.UserPrincipalName, "firstName": "Demo", "lastName": "User"}}); err != nil {
			t.Fatal(err)
		}
	}

	// Our hook server: the inline hook and the event hook, one secret.
	const secret = "Basic ZXZlbnRzOmUyZS1ldmVudC1ob29rLXNlY3JldA=="
	verifier, err := ropc.NewVerifier(ropc.Config{AuthorityHost: fe.URL, TenantID: dir.TenantID, ClientID: dir.PublicClientID,
		HTTPClient: fe.HTTPClient(0), Policy: entra.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv, err := hookserver.NewServer(hookserver.ServerConfig{
		Hook:   pwimport.Config{AuthSecret: secret},
		TLS:    ca.ServerTLSConfig(),
		Events: &eventhook.EventConfig{Client: tc, AppID: appID, Policy: workflows.PolicyNone},
	}, verifier, tc, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	base := "https://" + ln.Addr().String()
	if _, err := fo.SetPasswordImportHook(base+pwimport.PasswordImportPath, "Authorization", secret); err != nil {
		t.Fatal(err)
	}

	// Verification through fakeokta: a wrong secret is refused (our 401
	// fails Okta's verification), the right one verifies.
	types := []string{fakeokta.EventAppMembershipAdd, fakeokta.EventPasswordImport}
	if _, err := fo.RegisterEventHook(ctx, base+eventhook.EventsPath, "Authorization", "Basic wrong", types...); err == nil ||
		!strings.Contains(err.Error(), "E0000001") {
		t.Fatalf("a hook with the wrong secret verified: %v", err)
	}
	// Two verified hooks on our endpoint: every event arrives twice (Okta's
	// at-least-once delivery), and must be acted on once.
	for range 2 {
		if _, err := fo.RegisterEventHook(ctx, base+eventhook.EventsPath, "Authorization", secret, types...); err != nil {
			t.Fatalf("verification: %v", err)
		}
	}

	// The worker, in-process, with the real adapters on the emulators.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(fo.CA.CAPEM())
	pool.AppendCertsFromPEM(fe.CA.CAPEM())
	wcfg := worker.DefaultConfig()
	wcfg.TemporalAddress, wcfg.TemporalNamespace = ts.HostPort(), ts.Namespace()
	wcfg.OktaOrgURL, wcfg.OktaAPIToken = fo.URL, fakeokta.DefaultAPIToken
	wcfg.EntraTenantID, wcfg.EntraClientID, wcfg.EntraClientSecret = dir.TenantID, dir.GraphClientID, dir.GraphClientSecret
	wcfg.EntraAuthorityHost, wcfg.GraphBaseURL = fe.URL, fe.URL
	wcfg.HTTPClient = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	wcfg.OktaRPS, wcfg.OktaCreateRPS, wcfg.GraphRPS, wcfg.MetricsAddr = 100, 100, 100, "off"
	wcfg.ShutdownTimeout = 5 * time.Second
	wcfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	wctx, stopWorker := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- worker.Run(wctx, wcfg) }()
	t.Cleanup(func() {
		stopWorker()
		select {
		case <-ran:
		case <-time.After(30 * time.Second):
		}
	})

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
	oktaClient := fo.HTTPClient()
	signIn := func(user, password string) int {
		body, _ := json.Marshal(map[string]string{"username": user, "password": password})
		req, _ := http.NewRequest(http.MethodPost, fo.URL+"/api/v1/authn", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := oktaClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
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
	resp, err := ca.HTTPClient(5 * time.Second).Do(req)
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

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
