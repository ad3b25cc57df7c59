package workflows

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

func TestGraphProperties(t *testing.T) {
	maps := append(DefaultAttributeMappings(), ManagerMapping, AttributeMapping{Graph: "businessPhones[1]", Okta: "secondPhone"})
	got := graphProperties(maps)
	assert.Equal(t, []string{"id", "userPrincipalName", "mail", "accountEnabled", "userType",
		"givenName", "surname", "displayName", "mobilePhone", "businessPhones", "jobTitle", "department", "employeeId", "manager"}, got)
}

func TestProfiles(t *testing.T) {
	long := strings.Repeat("é", 60)
	u := entra.User{UserPrincipalName: "jo@contoso.com", Attributes: map[string]any{
		"surname": long, "businessPhones": []any{}, "mobilePhone": "  ", "jobTitle": nil,
		"manager.userPrincipalName": "boss@contoso.com", "employeeId": 42.0,
	}}
	maps := append(DefaultAttributeMappings(), ManagerMapping)
	assert.Equal(t, okta.Profile{"lastName": strings.Repeat("é", 50), "manager": "boss@contoso.com", "employeeNumber": 42.0},
		mappedProfile(u, maps), "empty, blank, null and missing values are left out; names are cut to Okta's limit")
	assert.Equal(t, okta.Profile{"login": "jo@contoso.com", "email": "jo@contoso.com", "firstName": "jo",
		"lastName": strings.Repeat("é", 50), "manager": "boss@contoso.com", "employeeNumber": 42.0},
		newUserProfile(u, maps), "a new user gets the attributes Okta requires")
	u.Mail = "jo.smith@contoso.com"
	assert.Equal(t, "jo.smith@contoso.com", newUserProfile(u, nil)["email"])
	u.Attributes["mail"] = "alias@contoso.com"
	assert.Equal(t, "alias@contoso.com", newUserProfile(u, maps)["email"], "the mapping wins")
}

func TestLoginProblem(t *testing.T) {
	for upn, ok := range map[string]bool{
		"alice@contoso.com": true, "a@b.c": true, "": false, "a@b": false, "alice": false, "@contoso.com": false,
		"al/ice@contoso.com": false, "al ice@contoso.com": false, strings.Repeat("a", 95) + "@x.com": false,
	} {
		assert.Equal(t, ok, loginProblem(upn) == "", upn)
	}
}

func TestFederatedDomain(t *testing.T) {
	fed := []string{"Fabrikam.com"}
	assert.Equal(t, "fabrikam.com", federatedDomain("fabrikam.com", fed))
	assert.Equal(t, "fabrikam.com", federatedDomain("EU.fabrikam.com", fed))
	assert.Equal(t, "", federatedDomain("notfabrikam.com", fed))
	assert.Equal(t, []string{"fabrikam.com"}, federatedDomainNames([]entra.Domain{
		{ID: "contoso.com", AuthenticationType: "Managed"}, {ID: "fabrikam.com", AuthenticationType: "Federated"}}))
}

func TestOktaPlan(t *testing.T) {
	cases := []struct {
		found  bool
		user   okta.User
		action PlanAction
		reason string
	}{
		{false, okta.User{}, PlanCreate, "no Okta user"},
		{true, okta.User{ProviderType: okta.ProviderOkta, HasPassword: true, Status: okta.StatusActive}, PlanSkip, ReasonOktaPassword},
		// The Office 365 app's STAGED import: provider OKTA, no password: adopted.
		{true, okta.User{ProviderType: okta.ProviderOkta, Status: okta.StatusStaged}, PlanAdopt, ""},
		{true, okta.User{ProviderType: okta.ProviderImport, Status: okta.StatusDeprovisioned}, PlanSkip, ReasonDeprovisioned},
		{true, okta.User{Status: okta.StatusStaged}, PlanAdopt, "set the password hook, copy attributes, activate"},
		{true, okta.User{ProviderType: okta.ProviderImport, Status: okta.StatusActive}, PlanAdopt, "): copy attributes"},
		// Left PROVISIONED (an enrollment policy, or activated without a credential).
		{true, okta.User{ProviderType: okta.ProviderOkta, Status: okta.StatusProvisioned}, PlanAdopt, "set the password hook, copy attributes, reactivate"},
		// Users of an identity provider: Okta supports no password for them.
		{true, okta.User{ProviderType: okta.ProviderFederation, ProviderName: "ADFS", Status: okta.StatusActive}, PlanSkip, ReasonOktaIdP + ": "},
		{true, okta.User{ProviderType: okta.ProviderSocial, ProviderName: "Google", Status: okta.StatusStaged}, PlanSkip, `provider SOCIAL "Google"`},
		{true, okta.User{ProviderType: okta.ProviderFederation, Status: okta.StatusDeprovisioned}, PlanSkip, ReasonDeprovisioned},
	}
	// The Okta users found carry the Entra user's address as their email.
	e := entra.User{UserPrincipalName: "a@contoso.com"}
	for _, c := range cases {
		if c.found {
			c.user.Profile = okta.Profile{"login": e.UserPrincipalName, "email": e.UserPrincipalName}
		}
		action, reason := oktaPlan(c.found, c.user, e)
		assert.Equal(t, c.action, action)
		assert.Contains(t, reason, c.reason)
	}
	// Someone else's Okta user is not adopted; the histories recorded before
	// changeAdoptIdentity adopted it.
	other := okta.User{Status: okta.StatusStaged, Profile: okta.Profile{"login": e.UserPrincipalName, "email": "someone@fabrikam.example"}}
	action, reason := oktaPlan(true, other, e)
	assert.Equal(t, PlanSkip, action)
	assert.Contains(t, reason, ReasonOktaIdentity+": ")
	action, _ = oktaPlanBeforeIdentity(true, other)
	assert.Equal(t, PlanAdopt, action)
	// The plan recorded histories replay with: such users were adopted.
	action, _ = oktaPlanBeforeIdP(true, okta.User{ProviderType: okta.ProviderFederation, Status: okta.StatusActive})
	assert.Equal(t, PlanAdopt, action)
}

func TestAdoptIdentityMismatch(t *testing.T) {
	e := entra.User{ID: "11111111-0000-0000-0000-000000000001", UserPrincipalName: "jsmith@contoso.com", Mail: "John.Smith@contoso.com",
		Attributes: map[string]any{
			"otherMails":     []any{"john@fabrikam.example"},
			"proxyAddresses": []any{"SMTP:John.Smith@contoso.com", "smtp:js@contoso.onmicrosoft.com", "SIP:sip-only@contoso.com", "x500:/o=ExchangeLabs"},
		}}
	oktaUser := func(email any) okta.User {
		p := okta.Profile{"login": "jsmith@contoso.com"}
		if email != nil {
			p["email"] = email
		}
		return okta.User{ID: "00u1", Profile: p}
	}
	cases := []struct {
		name  string
		email any
		ok    bool
	}{
		{"mail, any case", "john.smith@CONTOSO.com", true},
		{"user principal name", "jsmith@contoso.com", true},
		{"other mail", "john@fabrikam.example", true},
		{"smtp alias", "js@contoso.onmicrosoft.com", true},
		{"a SIP address is not mail", "sip-only@contoso.com", false},
		{"someone else", "jane.doe@contoso.com", false},
		{"no email", nil, false},
		{"blank email", "  ", false},
		{"not a string", 42, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why := adoptIdentityMismatch(oktaUser(c.email), e)
			if c.ok && why != "" {
				t.Fatalf("refused: %s", why)
			}
			if !c.ok && !strings.HasPrefix(why, ReasonOktaIdentity+":") {
				t.Fatalf("adopted, or an unexpected reason: %q", why)
			}
		})
	}
	// Without otherMails and proxyAddresses selected, mail and UPN remain.
	if why := adoptIdentityMismatch(oktaUser("john@fabrikam.example"), entra.User{UserPrincipalName: e.UserPrincipalName, Mail: e.Mail}); why == "" {
		t.Fatal("an address the Entra user was not read with matched")
	}
}
