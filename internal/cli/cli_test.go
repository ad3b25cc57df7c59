package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"entra2okta/internal/cli"
	"entra2okta/internal/control"
	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

// ca is the loopback CA of the emulators. The starter's rollback builds its
// Okta client like the product does (system roots + SSL_CERT_FILE), so the CA
// file is set before anything in this test binary loads the system roots.
var ca *loopbacktls.Authority

func TestMain(m *testing.M) {
	var err error
	if ca, err = loopbacktls.New(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := ca.WriteCAFile(caFile); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("SSL_CERT_FILE", caFile)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, func(k string) string { return env[k] }, cli.IO{Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	env := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"migrate", "--batch", "b1"}, // no source
		{"migrate", "--batch", "b1", "--all", "--group", "g"},       // two sources
		{"migrate", "--batch", "bad name", "--all"},                 // batch name
		{"migrate", "--batch", "b1", "--all", "--on-deadline", "x"}, // policy
		{"migrate", "--batch", "b1", "--all", "--deadline", "soon"}, // deadline
		{"status", "--batch", "a'b"},
		{"report", "--batch", "b1", "--format", "xml"},
		{"extend", "--batch", "b1", "--deadline", "tomorrow"},
		{"skip", "alice@contoso.com"}, // no reason
		{"rollback", "--batch", "b1"}, // no Okta settings
		{"throttle", "--okta-rps", "-2"},
		{"demo", "--users", "3"},
	} {
		if code, _, _ := run(t, env, args...); code != cli.ExitUsage {
			t.Errorf("starter %v: exit %d, want %d", args, code, cli.ExitUsage)
		}
	}
	withToken := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "OKTA_API_TOKEN": "t"}
	if code, _, errOut := run(t, withToken, "rollback", "--batch", "b1", "--stop-timeout", "0s", "--okta-org-url", "https://x.okta.com"); code != cli.ExitUsage {
		t.Errorf("rollback --stop-timeout 0s: exit %d, want %d\n%s", code, cli.ExitUsage, errOut)
	}
	// A secret's former flag: refused, naming the variable, not the value.
	for _, args := range [][]string{{"rollback", "--batch", "b1", "--okta-api-token", "s3cr3t-flag-value"},
		{"preflight", "--okta-api-token=s3cr3t-flag-value"}} {
		code, out, errOut := run(t, env, args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, "set OKTA_API_TOKEN or OKTA_API_TOKEN_FILE") ||
			strings.Contains(out+errOut, "s3cr3t-flag-value") {
			t.Errorf("starter %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if code, _, errOut := run(t, env, "--help"); code != cli.ExitOK || !strings.Contains(errOut, "rollback") {
		t.Errorf("--help: exit %d, %q", code, errOut)
	}
	if code, _, _ := run(t, env, "status"); code != cli.ExitError {
		t.Errorf("status with Temporal unreachable: exit %d, want %d", code, cli.ExitError)
	}
}

func TestReadLoginsCSV(t *testing.T) {
	got, err := cli.ReadLoginsCSV(strings.NewReader("name,upn\nAlice,alice@contoso.com\n# comment\nBob,BOB@contoso.com\nBob again,bob@contoso.com\n\n"))
	if err != nil || strings.Join(got, " ") != "alice@contoso.com BOB@contoso.com" {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = cli.ReadLoginsCSV(strings.NewReader("carol@contoso.com\ndave@contoso.com\n"))
	if err != nil || len(got) != 2 {
		t.Fatalf("headerless: %v, %v", got, err)
	}
	if _, err := cli.ReadLoginsCSV(strings.NewReader("upn\nnot-a-upn\n")); err == nil {
		t.Fatal("accepted a login without a domain")
	}
}

func TestParseDeadline(t *testing.T) {
	for in, want := range map[string]time.Duration{"60d": 60 * 24 * time.Hour, "36h": 36 * time.Hour, "1.5d": 36 * time.Hour} {
		if d, _, err := cli.ParseDeadline(in); err != nil || d != want {
			t.Errorf("%s: %v %v", in, d, err)
		}
	}
	if _, at, err := cli.ParseDeadline("2027-03-01T00:00:00Z"); err != nil || at.Year() != 2027 {
		t.Errorf("absolute: %v %v", at, err)
	}
	for _, bad := range []string{"", "-1d", "0h", "soon"} {
		if _, _, err := cli.ParseDeadline(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestStarterCommands runs every subcommand against a real Temporal dev
// server, an in-process worker and the emulators: migrate, status, report,
// throttle, extend, skip and rollback, which must delete only the Okta users
// its batch created and that never signed in.
func TestStarterCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The throttle checks below read the workers' configured rate back after
	// --reset: the tuner, which would soon lower it to what fakeokta's headers
	// allow this token, is off here (its own tests are in internal/worker).
	st := startStack(ctx, t, devstack.Options{Users: 40, Okta: fakeokta.Options{APITokens: []string{"tok"}},
		Worker: devstack.InProcess, WorkerConfig: func(cfg *worker.Config) { workerAt100(cfg); cfg.OktaRateTarget = 0 }})
	o, dir, tc := st.Okta(), st.Directory(), st.Client()
	// Someone else's Okta user on the hook, outside any batch: rollback must not touch it.
	if _, err := o.SeedUser(fakeokta.SeedUser{Status: fakeokta.StatusActive, ImportHook: true,
		Profile: map[string]any{"login": "outsider@contoso.com", "email": "outsider@contoso.com", "firstName": "O", "lastName": "S"}}); err != nil {
		t.Fatal(err)
	}
	skip := map[string]bool{}
	for _, l := range append(append([]string{}, dir.Staged...), dir.AlreadyInOkta...) {
		skip[l] = true
	}
	var created []string
	for _, u := range dir.Users {
		if u.Guest || u.Disabled || u.Federated || u.State != fakeentra.StateNormal || skip[u.UserPrincipalName] {
			continue
		}
		if len(created) < 6 {
			created = append(created, u.UserPrincipalName)
		}
	}
	if len(created) < 6 || len(dir.Staged) == 0 {
		t.Fatalf("seed: created %v, staged %v", created, dir.Staged)
	}
	logins := append(append([]string{}, created...), dir.Staged[0])
	adopted := dir.Staged[0]
	csvFile := filepath.Join(t.TempDir(), "users.csv")
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"displayName", "userPrincipalName"})
	for _, l := range logins {
		_ = w.Write([]string{"x", l})
	}
	w.Flush()
	if err := os.WriteFile(csvFile, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"TEMPORAL_ADDRESS": st.TemporalAddress(), "OKTA_ORG_URL": st.OktaURL(), "OKTA_API_TOKEN": "tok"}

	// migrate --dry-run writes nothing.
	code, out, errOut := run(t, env, "migrate", "--batch", "dry", "--users", csvFile, "--dry-run", "--wait")
	if code != cli.ExitOK || !strings.Contains(out, "create 6") || !strings.Contains(out, "adopt 1") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, ok := o.User(created[0]); ok {
		t.Fatal("the dry run created an Okta user")
	}

	// migrate --wait imports everyone.
	code, out, errOut = run(t, env, "migrate", "--batch", "b1", "--users", csvFile, "--deadline", "30d",
		"--on-deadline", "expire-password", "--wait")
	if code != cli.ExitOK || !strings.Contains(out, "every user is imported") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	// The batch waits for its users' outcomes: starting it again while it runs is refused.
	if code, _, errOut := run(t, env, "migrate", "--batch", "b1", "--users", csvFile); code != cli.ExitError || !strings.Contains(errOut, "already running") {
		t.Fatalf("second start of b1: exit %d, %s", code, errOut)
	}

	code, out, _ = run(t, env, "status", "--batch", "b1")
	if code != cli.ExitOK || !strings.Contains(out, "AwaitingSignIn") || !strings.Contains(out, "7 users") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "batch workflow: listed ") {
		t.Errorf("status does not show the batch workflow's own counts:\n%s", out)
	}
	checkStatusLinks(t, out, "b1", 7)
	// Without an override, status shows the rates the workers ask for.
	for _, want := range []string{"100.00 requests/s (6000/min), the workers' OKTA_RPS", "the workers' OKTA_CREATE_RPS", "the workers' GRAPH_RPS"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not show %q:\n%s", want, out)
		}
	}

	code, out, _ = run(t, env, "report", "--batch", "b1", "--format", "json")
	var rows []control.ReportRow
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 7 {
		t.Fatalf("report json: exit %d, %d rows\n%s", code, len(rows), out)
	}
	// Each user's own deadline: users of a batch may not share one exactly.
	firstDeadline := map[string]time.Time{}
	for _, r := range rows {
		firstDeadline[r.Login] = r.Deadline
	}
	for _, r := range rows {
		if r.State != string(workflows.StateAwaitingSignIn) || r.Batch != "b1" || r.Deadline.IsZero() {
			t.Errorf("report row %+v", r)
		}
	}
	code, out, _ = run(t, env, "report", "--batch", "b1", "--format", "csv")
	if recs, err := csv.NewReader(strings.NewReader(out)).ReadAll(); code != cli.ExitOK || err != nil || len(recs) != 8 || recs[0][0] != "login" {
		t.Fatalf("report csv: exit %d, %v\n%s", code, err, out)
	}
	checkWaitingStory(ctx, t, tc, env, "b1", created, adopted)

	code, out, _ = run(t, env, "throttle", "--okta-rps", "4.5")
	if code != cli.ExitOK || !strings.Contains(out, "4.50 requests/s") {
		t.Fatalf("throttle: exit %d\n%s", code, out)
	}
	if rps, set, err := control.ActivityRateLimit(ctx, tc, "default", workflows.OktaTaskQueue); err != nil || !set || rps != 4.5 {
		t.Fatalf("server rate limit after throttle: %v %v %v", rps, set, err)
	}
	// status shows the override, its reason, and that the workers' rate is not applied.
	code, out, _ = run(t, env, "status", "--batch", "b1")
	if code != cli.ExitOK || !strings.Contains(out, "4.50 requests/s (270/min), set by starter throttle at ") ||
		!strings.Contains(out, `("set by starter throttle")`) || !strings.Contains(out, "the workers' OKTA_RPS (100/s) is not applied until starter throttle --reset") {
		t.Fatalf("status with an override: exit %d\n%s", code, out)
	}
	// --reset removes it: the workers' OKTA_RPS applies again.
	code, out, errOut = run(t, env, "throttle", "--reset", "--reason", "incident over")
	if code != cli.ExitOK || !strings.Contains(out, "100.00 requests/s (6000/min), the workers' OKTA_RPS") {
		t.Fatalf("throttle --reset: exit %d\n%s\n%s", code, out, errOut)
	}
	if rps, set, err := control.ActivityRateLimit(ctx, tc, "default", workflows.OktaTaskQueue); err != nil || set {
		t.Fatalf("server rate limit after throttle --reset: %v %v %v", rps, set, err)
	}

	code, out, errOut = run(t, env, "extend", "--batch", "b1", "--deadline", "+2d")
	if code != cli.ExitOK || !strings.Contains(out, "moved the deadline of 7") {
		t.Fatalf("extend: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := eventually(ctx, func() error {
		_, out, _ := run(t, env, "report", "--batch", "b1", "--format", "json")
		var rows []control.ReportRow
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			return err
		}
		for _, r := range rows {
			if d := r.Deadline.Sub(firstDeadline[r.Login]); d < 47*time.Hour || d > 49*time.Hour {
				return fmt.Errorf("%s deadline %s, was %s", r.Login, r.Deadline, firstDeadline[r.Login])
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("extend: %v", err)
	}

	code, out, errOut = run(t, env, "skip", "--reason", "left the company", created[5])
	if code != cli.ExitOK || !strings.Contains(out, "Skipped") {
		t.Fatalf("skip: exit %d\n%s\n%s", code, out, errOut)
	}
	checkSkippedStory(ctx, t, env, "b1", created[5], "left the company")

	// created[0] signs in: Okta now holds its password.
	signedIn, _ := o.User(created[0])
	setPassword(t, st.OktaURL(), signedIn.ID, "Sup3r-Secret-Pw!")

	code, out, errOut = run(t, env, "rollback", "--batch", "b1", "--dry-run")
	if code != cli.ExitOK || !strings.Contains(out, "5 deleted (dry run") {
		t.Fatalf("rollback --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, l := range created {
		if _, ok := o.User(l); !ok {
			t.Fatalf("dry run deleted %s", l)
		}
	}
	if d, err := tc.DescribeWorkflowExecution(ctx, workflows.BatchWorkflowID("b1"), ""); err != nil ||
		d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("the dry run changed the batch: %v %v", d.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	code, out, errOut = run(t, env, "rollback", "--batch", "b1")
	if code != cli.ExitOK || !strings.Contains(out, "batch b1: 5 deleted, 2 kept, 0 errors") ||
		!strings.Contains(out, "batch b1: stopped the batch workflow") {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errOut)
	}
	// The batch was stopped first: it is closed, and starts no user any more.
	if d, err := tc.DescribeWorkflowExecution(ctx, workflows.BatchWorkflowID("b1"), ""); err != nil ||
		d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("batch b1 after rollback: %v %v", d.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	// Deleted: created, never signed in (including the skipped one). Kept: the
	// one who signed in, the adopted STAGED user, the outsider.
	for _, l := range created[1:] {
		if u, ok := o.User(l); ok {
			t.Errorf("rollback kept %s (%s, %s)", l, u.Status, u.ProviderType)
		}
	}
	for _, l := range []string{created[0], adopted, "outsider@contoso.com"} {
		if u, ok := o.User(l); !ok || u.Status == fakeokta.StatusDeprovisioned {
			t.Errorf("rollback touched %s", l)
		}
	}
	if err := eventually(ctx, func() error {
		sc, err := control.CountStates(ctx, tc, "default", "b1")
		if err != nil {
			return err
		}
		if sc.States[workflows.StateSkipped] != 5 {
			return fmt.Errorf("skipped = %d, want 5 (4 rolled back + 1 skipped)", sc.States[workflows.StateSkipped])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func eventually(ctx context.Context, f func() error) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

// setPassword stands for the user's first sign-in: Okta stores a password and
// the provider becomes OKTA.
func setPassword(t *testing.T, base, id, pw string) {
	t.Helper()
	body := fmt.Sprintf(`{"credentials":{"password":{"value":%q}}}`, pw)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/users/"+id, strings.NewReader(body))
	req.Header.Set("Authorization", "SSWS tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := ca.HTTPClient(10 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set password: HTTP %d", resp.StatusCode)
	}
}

// TestSecretFiles: the secrets as files (NAME_FILE, Docker secrets) are
// used; a variable set twice, or a file that cannot be read, is a usage
// error naming the variable and the path, never the value. (No output of
// any binary prints a secret: internal/settings/catalog.)
func TestSecretFiles(t *testing.T) {
	const marker = "s3cr3t-MARKER"
	dir := t.TempDir()
	fileEnv := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "OKTA_ORG_URL": "https://example.okta.com",
		"TEMPORAL_CONFIG_FILE": filepath.Join(dir, "no-temporal.toml")}
	for _, k := range []string{"OKTA_API_TOKEN", "HOOK_AUTH_SECRET", "HOOK_EVENTS_AUTH_SECRET", "ENTRA_CLIENT_SECRET",
		"TEMPORAL_API_KEY", "OKTA_PRIVATE_KEY"} {
		p := filepath.Join(dir, k)
		if err := os.WriteFile(p, []byte(marker+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fileEnv[k+"_FILE"] = p
	}
	// watch needs HOOK_EVENTS_AUTH_SECRET: from its file it gets past the
	// check to the (unreachable) hook server.
	if code, out, errOut := run(t, fileEnv, "watch", "--once", "--hook-url", "http://127.0.0.1:1"); code != cli.ExitError ||
		strings.Contains(out+errOut, marker) {
		t.Errorf("watch with HOOK_EVENTS_AUTH_SECRET_FILE: exit %d, want %d\n%s%s", code, cli.ExitError, out, errOut)
	}
	// A variable set twice, or a file that cannot be read: a usage error
	// naming the variable and the path, never the value.
	fileEnv["OKTA_API_TOKEN"] = marker
	fileEnv["TEMPORAL_API_KEY_FILE"] = filepath.Join(dir, "missing")
	code, out, errOut := run(t, fileEnv, "status", "--batch", "b1")
	if code != cli.ExitUsage || !strings.Contains(errOut, "OKTA_API_TOKEN and OKTA_API_TOKEN_FILE are both set") ||
		!strings.Contains(errOut, "TEMPORAL_API_KEY_FILE: cannot read "+filepath.Join(dir, "missing")) || strings.Contains(out+errOut, marker) {
		t.Errorf("conflicting secrets: exit %d\n%s%s", code, out, errOut)
	}
}
