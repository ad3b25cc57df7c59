package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/hook"
	"entra2okta/workflows"
)

// TestParseEventsConfig: the event hook settings come from OKTA_O365_APP_ID
// and OKTA_EVENTS_*, with defaults, and bad values are refused.
func TestParseEventsConfig(t *testing.T) {
	base := map[string]string{"HOOK_AUTH_SECRET": "Basic c2VjcmV0OnZhbHVl", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1"}
	c, err := parseConfig(nil, envOf(base), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if e := c.events; e.AppID != "" || e.Batch != hook.DefaultEventsBatch || e.Policy != workflows.PolicyNone || e.DeadlineAfter != 0 {
		t.Fatalf("defaults: %+v", e)
	}
	env := map[string]string{"OKTA_O365_APP_ID": " 0oa1o365app ", "OKTA_EVENTS_BATCH": "o365", "OKTA_EVENTS_POLICY": "expire-password",
		"OKTA_EVENTS_DEADLINE_AFTER": "720h"}
	for k, v := range base {
		env[k] = v
	}
	if c, err = parseConfig(nil, envOf(env), io.Discard); err != nil {
		t.Fatal(err)
	}
	if e := c.events; e.AppID != "0oa1o365app" || e.Batch != "o365" || e.Policy != workflows.PolicyExpirePassword || e.DeadlineAfter != 720*time.Hour {
		t.Fatalf("from the environment: %+v", e)
	}
	for flag, want := range map[string]string{"-events-policy=burn": "events-policy", "-events-deadline-after=soon": "events-deadline-after"} {
		if _, err := parseConfig([]string{flag}, envOf(base), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", flag, err)
		}
	}
}
