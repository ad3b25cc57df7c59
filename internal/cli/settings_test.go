package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"entra2okta/internal/cli"
)

// TestFlagsAfterArguments: a command's flags may follow its positional
// arguments, and the starter's former -namespace is still accepted beside
// -temporal-namespace (with Temporal unreachable, each gets past parsing to
// the dial: exit 1, not 2).
func TestFlagsAfterArguments(t *testing.T) {
	env := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}
	for _, args := range [][]string{
		{"skip", "jsmith@contoso.com", "--reason", "left the company"},
		{"skip", "--reason", "left", "jsmith@contoso.com"},
		{"release", "jsmith@contoso.com", "--reason=checked", "--temporal-namespace", "ns1"},
		{"status", "--namespace", "ns1"},
		{"status", "--temporal-namespace", "ns1", "--batch", "b1"},
	} {
		if code, _, errOut := run(t, env, args...); code != cli.ExitError {
			t.Errorf("starter %q: exit %d, want %d (%s)", args, code, cli.ExitError, errOut)
		}
	}
	for _, args := range [][]string{
		{"skip", "jsmith@contoso.com", "--reason"},                  // the flag's value is missing
		{"skip", "a@contoso.com", "b@contoso.com", "--reason", "x"}, // two users
		{"skip", "--", "--reason", "x"},                             // after --, not flags: two arguments, no reason
		{"status", "--batch", "b1", "extra"},
	} {
		if code, _, _ := run(t, env, args...); code != cli.ExitUsage {
			t.Errorf("starter %q: exit %d, want %d", args, code, cli.ExitUsage)
		}
	}
	_, _, errOut := run(t, env, "status", "-h")
	if !strings.Contains(errOut, "-temporal-namespace") || !strings.Contains(errOut, "deprecated alias of -temporal-namespace") {
		t.Errorf("status -h:\n%s", errOut)
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, _ := run(t, nil, "version")
	if code != cli.ExitOK || !strings.HasPrefix(out, "starter ") || len(strings.TrimSpace(out)) <= len("starter") {
		t.Fatalf("version: exit %d, %q", code, out)
	}
	code, out, _ = run(t, nil, "version", "--json")
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal([]byte(out), &v); code != cli.ExitOK || err != nil || v.Version == "" || !strings.Contains(out, v.Version) {
		t.Fatalf("version --json: exit %d, %q, %v", code, out, err)
	}
}

// TestStarterSettingsDeclared: the settings the commands share are declared
// once, with the same Temporal flags as the worker and the hook server.
func TestStarterSettingsDeclared(t *testing.T) {
	byEnv := map[string]bool{}
	for _, d := range cli.Settings() {
		byEnv[d.Env] = d.Secret
		if d.Env == "TEMPORAL_NAMESPACE" && (d.Flag != "temporal-namespace" || len(d.Aliases) != 1 || d.Aliases[0] != "namespace") {
			t.Errorf("namespace: %+v", d)
		}
	}
	for env, secret := range map[string]bool{"TEMPORAL_ADDRESS": false, "TEMPORAL_NAMESPACE": false, "OKTA_ORG_URL": false,
		"OKTA_API_TOKEN": true, "OKTA_CLIENT_ID": false, "TEMPORAL_UI_URL": false} {
		if got, ok := byEnv[env]; !ok || got != secret {
			t.Errorf("%s: declared %v, secret %v", env, ok, got)
		}
	}
}

// TestBadEnvironmentNamed: a bad value in a command's variable is a usage
// error naming the variable (preflight once ignored it silently).
func TestBadEnvironmentNamed(t *testing.T) {
	env := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "HOOK_BUDGET": "soon", "OKTA_CREATE_RPS": "fast"}
	code, out, errOut := run(t, env, "preflight")
	if code != cli.ExitUsage || out != "" || !strings.Contains(errOut, `HOOK_BUDGET: "soon"`) || !strings.Contains(errOut, `OKTA_CREATE_RPS: "fast"`) {
		t.Fatalf("preflight: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
