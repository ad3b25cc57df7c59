package hookserver

import (
	"io"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/hook/eventhook"
	"entra2okta/workflows"
)

// TestParseEventsConfig: the event hook settings come from OKTA_O365_APP_ID,
// OKTA_EVENTS_* and HOOK_EVENTS_AUTH_*, with defaults, and bad values are
// refused. The event hook has a secret of its own: without
// it the event hook is off, and the password hook's secret is refused.
func TestParseEventsConfig(t *testing.T) {
	base := map[string]string{"HOOK_AUTH_SECRET": "Basic c2VjcmV0OnZhbHVl", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1"}
	c, err := ParseConfig(nil, envOf(base), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Events != nil {
		t.Fatalf("an event hook without a secret of its own: %+v", c.Events)
	}
	const evSecret = "Basic ZXZlbnRzOm93bi1zZWNyZXQtdmFsdWU="
	withEv := map[string]string{"HOOK_EVENTS_AUTH_SECRET": evSecret}
	for k, v := range base {
		withEv[k] = v
	}
	if c, err = ParseConfig(nil, envOf(withEv), io.Discard); err != nil {
		t.Fatal(err)
	}
	if e := c.Events; e == nil || e.AppID != "" || e.Batch != eventhook.DefaultEventsBatch || e.Policy != workflows.PolicyNone || e.DeadlineAfter != 0 ||
		e.AuthHeader != "Authorization" || e.AuthSecret != evSecret {
		t.Fatalf("defaults: %+v", e)
	}
	env := map[string]string{"OKTA_O365_APP_ID": " 0oa1o365app ", "OKTA_EVENTS_BATCH": "o365", "OKTA_EVENTS_POLICY": "expire-password",
		"OKTA_EVENTS_DEADLINE_AFTER": "720h", "HOOK_EVENTS_AUTH_HEADER": "X-Okta-Events"}
	for k, v := range withEv {
		env[k] = v
	}
	if c, err = ParseConfig(nil, envOf(env), io.Discard); err != nil {
		t.Fatal(err)
	}
	if e := c.Events; e == nil || e.AppID != "0oa1o365app" || e.Batch != "o365" || e.Policy != workflows.PolicyExpirePassword || e.DeadlineAfter != 720*time.Hour ||
		e.AuthHeader != "X-Okta-Events" || e.AuthSecret != evSecret || c.Hook.AuthSecret != base["HOOK_AUTH_SECRET"] {
		t.Fatalf("from the environment: %+v", e)
	}
	for name, extra := range map[string]map[string]string{
		"app without a secret":       {"HOOK_EVENTS_AUTH_SECRET": "", "OKTA_O365_APP_ID": "0oa1o365app"},
		"the password hook's secret": {"HOOK_EVENTS_AUTH_SECRET": base["HOOK_AUTH_SECRET"]},
	} {
		e := map[string]string{}
		for k, v := range withEv {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		_, err := ParseConfig(nil, envOf(e), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "HOOK_EVENTS_AUTH_SECRET") {
			t.Errorf("%s: %v", name, err)
		} else if strings.Contains(err.Error(), base["HOOK_AUTH_SECRET"]) || strings.Contains(err.Error(), evSecret) {
			t.Errorf("%s: the error quotes a secret: %v", name, err)
		}
	}
	for flag, want := range map[string]string{"-events-policy=burn": "events-policy", "-events-deadline-after=soon": "events-deadline-after"} {
		if _, err := ParseConfig([]string{flag}, envOf(base), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", flag, err)
		}
	}
}
