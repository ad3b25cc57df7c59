package hookserver

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/settings"
)

// TestSettingsFromEnvironment: bad values in the environment are each
// reported with their variable, a boolean flag given its value after a
// space is explained, and -version answers without any configuration.
func TestSettingsFromEnvironment(t *testing.T) {
	base := map[string]string{"HOOK_AUTH_SECRET": "Basic c2VjcmV0OnZhbHVl", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1",
		"HOOK_BUDGET": "soon", "HOOK_MAX_CONCURRENT": "many", "HOOK_POLICY_CA": "perhaps"}
	_, err := ParseConfig(nil, envOf(base), io.Discard)
	for _, want := range []string{`HOOK_BUDGET: "soon"`, `HOOK_MAX_CONCURRENT: "many"`, `HOOK_POLICY_CA: "perhaps"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one mentioning %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), base["HOOK_AUTH_SECRET"]) {
		t.Fatalf("the error quotes the secret: %v", err)
	}
	delete(base, "HOOK_BUDGET")
	delete(base, "HOOK_MAX_CONCURRENT")
	delete(base, "HOOK_POLICY_CA")
	_, err = ParseConfig([]string{"-policy-expired", "true"}, envOf(base), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-policy-expired=false") {
		t.Fatalf("-policy-expired true: %v", err)
	}
	c, err := ParseConfig([]string{"-policy-mfa=false", "-user-window", "20m", "-events-deadline-after", "720h"}, envOf(base), io.Discard)
	if err != nil || c.Entra.Policy.MFAVerified || c.Hook.Shield.UserWindow != 20*time.Minute {
		t.Fatalf("flags: %v %+v", err, c.Entra.Policy)
	}
	if _, err := ParseConfig([]string{"-user-window", "0s"}, envOf(base), io.Discard); err == nil || !strings.Contains(err.Error(), "-user-window") {
		t.Fatalf("-user-window 0s: %v", err)
	}
	if err := ParseAndRun(context.Background(), []string{"-version"}, envOf(nil), io.Discard); !errors.Is(err, settings.ErrVersion) {
		t.Fatalf("-version: %v", err)
	}
}

// TestMainExitCodes: the binary's exit codes and outputs, as worker.Main's:
// help and version succeed, a bad setting fails with 1, and no output
// carries the secret from the environment.
func TestMainExitCodes(t *testing.T) {
	const secret = "Basic bWFpbjpleGl0LWNvZGVz"
	env := envOf(map[string]string{"HOOK_AUTH_SECRET": secret, "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1"})
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrHint string
	}{
		{"help", []string{"-h"}, 0, "", "-listen"},
		{"version", []string{"-version"}, 0, "hookserver " + buildinfo.Version() + "\n", ""},
		{"bad flag", []string{"-user-window", "0s"}, 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := Main(context.Background(), tc.args, env, &out, &errOut)
			if code != tc.code || out.String() != tc.stdout || !strings.Contains(errOut.String(), tc.stderrHint) {
				t.Fatalf("Main(%q) = %d, stdout %q, stderr %q; want %d, stdout %q, stderr holding %q",
					tc.args, code, out.String(), errOut.String(), tc.code, tc.stdout, tc.stderrHint)
			}
			if strings.Contains(out.String()+errOut.String(), secret) {
				t.Fatal("an output holds the secret")
			}
		})
	}
}
