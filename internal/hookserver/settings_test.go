package hookserver

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

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
	if err := Main(context.Background(), []string{"-version"}, envOf(nil), io.Discard); !errors.Is(err, settings.ErrVersion) {
		t.Fatalf("-version: %v", err)
	}
}
