package oktaclient_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta/oktaclient"
)

// TestOrgConfigReads drives the configuration reads through the SDK against
// fakeokta: the one-user probe and its rate-limit headers, the inline hooks
// and an execution (the hook's answer, and Okta's 400 naming the hook's
// failure), the event hooks, the policies and their rules.
func TestOrgConfigReads(t *testing.T) {
	fk, hookCA := startFake(t)
	var hookStatus atomic.Int32
	hookStatus.Store(http.StatusOK)
	hs, err := hookCA.Serve("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // an event hook's verification
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"verification":"`+r.Header.Get("X-Okta-Verification-Challenge")+`"}`)
			return
		}
		if s := int(hookStatus.Load()); s != http.StatusOK {
			w.WriteHeader(s)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"UNVERIFIED"}}]}`)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hs.Close() })
	hookID, err := fk.SetPasswordImportHook(hs.URL+"/okta/password-import", "Authorization", "Basic s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fk.RegisterEventHook(t.Context(), hs.URL+"/okta/events", "Authorization", "Bearer ev", "user.import.password"); err != nil {
		t.Fatal(err)
	}
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	obs, found, err := c.ProbeUsers(ctx)
	// The users bucket allows 600 a minute, of which a token may have a share.
	if err != nil || !found || obs.Bucket != oktaclient.RateBucketUsers || obs.Limit <= 0 || obs.Limit > 600 || obs.Remaining != obs.Limit-1 ||
		obs.Reset.IsZero() {
		t.Fatalf("probe: %+v %v %v", obs, found, err)
	}

	hooks, err := c.InlineHooks(ctx, fakeokta.HookTypePasswordImport)
	if err != nil || len(hooks) != 1 || hooks[0].ID != hookID || hooks[0].Status != "ACTIVE" || hooks[0].URI != hs.URL+"/okta/password-import" {
		t.Fatalf("inline hooks: %+v %v", hooks, err)
	}
	payload := []byte(`{"eventType":"com.okta.user.credential.password.import","data":{"context":{"credential":{"username":"a@b.invalid","password":"x"}}}}`)
	ex, err := c.ExecuteInlineHook(ctx, hookID, payload)
	if err != nil || ex.Status != 200 || !strings.Contains(string(ex.Body), `"UNVERIFIED"`) || ex.Elapsed <= 0 {
		t.Fatalf("execute: %+v %v", ex, err)
	}
	hookStatus.Store(http.StatusForbidden)
	ex, err = c.ExecuteInlineHook(ctx, hookID, payload)
	if err != nil || ex.Status != 400 || ex.Code != "E0000001" || len(ex.Causes) != 1 || !strings.Contains(ex.Causes[0], "403") {
		t.Fatalf("execute against a 403: %+v %v", ex, err)
	}
	if _, err := c.ExecuteInlineHook(ctx, "calnosuchhook0000000", payload); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("execute of an unknown hook: %v", err)
	}

	evs, err := c.EventHooks(ctx)
	if err != nil || len(evs) != 1 || evs[0].Status != "ACTIVE" || evs[0].VerificationStatus != "VERIFIED" ||
		!slices.Equal(evs[0].Events, []string{"user.import.password"}) || evs[0].URI != hs.URL+"/okta/events" {
		t.Fatalf("event hooks: %+v %v", evs, err)
	}

	pw, err := c.Policies(ctx, "PASSWORD")
	if err != nil || len(pw) != 1 || pw[0].Lockout == nil || *pw[0].Lockout != (oktaclient.Lockout{MaxAttempts: 10}) || !pw[0].System ||
		len(pw[0].Groups) != 1 {
		t.Fatalf("password policies: %+v %v", pw, err)
	}
	so, err := c.Policies(ctx, "OKTA_SIGN_ON")
	if err != nil || len(so) != 1 || so[0].Lockout != nil {
		t.Fatalf("sign-on policies: %+v %v", so, err)
	}
	rules, err := c.PolicyRules(ctx, so[0].ID)
	if err != nil || len(rules) != 1 || rules[0].SignOnAccess != "ALLOW" || rules[0].PrimaryFactor != "PASSWORD_IDP" ||
		rules[0].Network != "ANYWHERE" || rules[0].IdentityProvider != "ANY" || len(rules[0].Users) != 0 {
		t.Fatalf("sign-on rules: %+v %v", rules, err)
	}
	if _, err := fk.AddPolicyRule("IDP_DISCOVERY", fakeokta.PolicyRuleSpec{Name: "Partners",
		Conditions: map[string]any{
			"userIdentifier": map[string]any{"type": "IDENTIFIER", "patterns": []map[string]any{{"matchType": "SUFFIX", "value": "partner.example"}}},
			"app":            map[string]any{"include": []string{}, "exclude": []string{}},
		},
		Actions: map[string]any{"idp": map[string]any{"providers": []map[string]any{{"type": "SAML2", "id": "0oa1partneridp000000"}}}}}); err != nil {
		t.Fatal(err)
	}
	idp, err := c.Policies(ctx, "IDP_DISCOVERY")
	if err != nil || len(idp) != 1 {
		t.Fatalf("IdP discovery policies: %+v %v", idp, err)
	}
	rules, err = c.PolicyRules(ctx, idp[0].ID)
	if err != nil || len(rules) != 2 || rules[0].Name != "Partners" || !rules[0].UserIdentifier || rules[0].App ||
		!slices.Equal(rules[0].IdPProviders, []string{"SAML2"}) || !slices.Equal(rules[1].IdPProviders, []string{"OKTA"}) {
		t.Fatalf("IdP discovery rules: %+v %v", rules, err)
	}
	if _, err := c.Policies(ctx, "NOPE"); !apierr.Is(err, apierr.Invalid) {
		t.Fatalf("policies of an unknown type: %v", err)
	}
}
