package workflows_test

import (
	"strings"
	"testing"

	"entra2okta/workflows"
)

func TestUserWorkflowIDIsPrintableASCIIAndReversible(t *testing.T) {
	for _, tc := range []struct{ login, want string }{
		{"Alice@Contoso.com", "migrate-user/alice@contoso.com"},
		{"  bob@contoso.com ", "migrate-user/bob@contoso.com"},
		{"Jörg.Müller@contoso.com", "migrate-user/j%C3%B6rg.m%C3%BCller@contoso.com"},
		{"100%@contoso.com", "migrate-user/100%25@contoso.com"},
		{"guest_x.com#EXT#@contoso.onmicrosoft.com", "migrate-user/guest_x.com#ext#@contoso.onmicrosoft.com"},
	} {
		got := workflows.UserWorkflowID(tc.login)
		if got != tc.want {
			t.Errorf("UserWorkflowID(%q) = %q, want %q", tc.login, got, tc.want)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x21 || got[i] > 0x7e {
				t.Errorf("UserWorkflowID(%q) has byte %#x (gRPC headers take printable ASCII only)", tc.login, got[i])
			}
		}
		back, ok := workflows.LoginFromUserWorkflowID(got)
		if want := strings.ToLower(strings.TrimSpace(tc.login)); !ok || back != want {
			t.Errorf("LoginFromUserWorkflowID(%q) = %q, %v; want %q", got, back, ok, want)
		}
	}
	if _, ok := workflows.LoginFromUserWorkflowID("migrate-batch/x"); ok {
		t.Error("a batch ID decoded as a user ID")
	}
}
