package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entra2okta/internal/apierr"
)

// Directory is what the Graph checks read with the workers' app
// registration (client credentials).
type Directory interface {
	// OneUser reads one user of the tenant (GET /users?$top=1) and
	// returns its user principal name; "" when the tenant has none.
	OneUser(ctx context.Context) (string, error)
	// GroupMembers reads the first page of a group's transitive user
	// members and returns how many it held.
	GroupMembers(ctx context.Context, groupID string) (int, error)
	// Domains lists the tenant's domains (GET /domains).
	Domains(ctx context.Context) ([]Domain, error)
}

// Domain is a domain of the tenant.
type Domain struct {
	Name               string
	AuthenticationType string // Managed or Federated
	Verified           bool
}

// PasswordVerifier is the hook server's password check (ROPC with the
// verifier app, a public client).
type PasswordVerifier interface {
	VerifyPassword(ctx context.Context, username, password string) VerifyResult
}

// VerifyResult is a password check's outcome, without the password.
type VerifyResult struct {
	Verdict string // verified, rejected, indeterminate
	Reason  string // the verifier's log-safe reason (ok, wrong_password, app_not_public_client, ...)
	Code    int    // the AADSTS code, 0 when none
}

// Check names of the Entra group.
const (
	NameGraphUser   = "entra: graph reads users"
	NameGraphGroup  = "entra: graph reads group members"
	NameDomains     = "entra: domains"
	NameVerifierApp = "entra: verifier app (ROPC)"
)

// Reasons of the verifier that mean its app registration or tenant settings
// are wrong, not the canary's password.
var verifierConfigReasons = map[string]string{
	"app_not_public_client":     "enable \"Allow public client flows\" on the verifier app registration (Authentication blade)",
	"app_not_found":             "check the verifier app's client ID (ENTRA_CLIENT_ID of the hook server) and tenant",
	"client_credential_error":   "the verifier app must be a public client: enable \"Allow public client flows\" and send no secret",
	"consent_missing":           "grant admin consent for User.Read (delegated) to the verifier app",
	"app_misconfigured":         "check the verifier app registration (redirect, resource, consent)",
	"tenant_not_found":          "check ENTRA_TENANT_ID",
	"bad_authority":             "use the tenant's GUID or verified domain as ENTRA_TENANT_ID, not common or consumers",
	"security_defaults_blocked": "security defaults block ROPC: use conditional access policies instead, or exclude the verifier app",
	"federated":                 "use a canary account of a managed domain: ROPC cannot check federated users' passwords",
	"not_assigned":              "assign the canary (and the users being migrated) to the verifier app, or turn off its assignment requirement",
}

func checkEntra(ctx context.Context, c *Config) []Check {
	out := c.graphChecks(ctx)
	return append(out, c.verifierCheck(ctx))
}

func graphFix(err error, permission string) string {
	if apierr.Is(err, apierr.Unauthorized) {
		return "grant the Graph app the application permission " + permission + " with admin consent, and check ENTRA_CLIENT_ID/ENTRA_CLIENT_SECRET"
	}
	return "check ENTRA_TENANT_ID, ENTRA_AUTHORITY_HOST, GRAPH_BASE_URL and that Graph is reachable from here"
}

func (c *Config) graphChecks(ctx context.Context) []Check {
	if c.EntraConfigError != "" {
		return []Check{
			failed(NameGraphUser, c.EntraConfigError, "set ENTRA_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET as the workers have them"),
			skip(NameGraphGroup, "no Graph client"), skip(NameDomains, "no Graph client"),
		}
	}
	if c.Directory == nil {
		return []Check{skip(NameGraphUser, "no Graph client"), skip(NameGraphGroup, "no Graph client"), skip(NameDomains, "no Graph client")}
	}
	var out []Check
	upn, err := c.Directory.OneUser(ctx)
	switch {
	case err != nil:
		out = append(out, failed(NameGraphUser, "GET /users: "+errText(err), graphFix(err, "User.Read.All")))
	case upn == "":
		out = append(out, warn(NameGraphUser, "the tenant has no user", "check ENTRA_TENANT_ID"))
	default:
		out = append(out, ok(NameGraphUser, "read "+upn))
	}
	if c.GroupID == "" {
		out = append(out, skip(NameGraphGroup, "no --group given"))
	} else if n, err := c.Directory.GroupMembers(ctx, c.GroupID); err != nil {
		fix := graphFix(err, "GroupMember.Read.All")
		if apierr.Is(err, apierr.NotFound) {
			fix = "check the group's object ID (--group)"
		}
		out = append(out, failed(NameGraphGroup, "GET /groups/"+c.GroupID+"/transitiveMembers: "+errText(err), fix))
	} else {
		out = append(out, ok(NameGraphGroup, fmt.Sprintf("group %s: %d users on the first page", c.GroupID, n)))
	}
	ds, err := c.Directory.Domains(ctx)
	if err != nil {
		return append(out, failed(NameDomains, "GET /domains: "+errText(err), graphFix(err, "Domain.Read.All")))
	}
	var federated, managed []string
	for _, d := range ds {
		if !d.Verified {
			continue
		}
		if strings.EqualFold(d.AuthenticationType, "Federated") {
			federated = append(federated, d.Name)
		} else {
			managed = append(managed, d.Name)
		}
	}
	slices.Sort(federated)
	if len(federated) > 0 {
		return append(out, warn(NameDomains, fmt.Sprintf("federated: %s (%d managed): ROPC cannot check the passwords of their users, "+
			"whose identity provider holds them", strings.Join(federated, ", "), len(managed)),
			"their users are Ineligible unless the batch runs with --federated-to-deadline (the deadline policy then applies); "+
				"or allow cloud password validation for them in Entra (home realm discovery policy)"))
	}
	return append(out, ok(NameDomains, fmt.Sprintf("%d verified domains, all managed", len(managed))))
}

func (c *Config) verifierCheck(ctx context.Context) Check {
	if c.CanaryUser == "" {
		return skip(NameVerifierApp, "no --canary-user: the verifier app's public client flow is not checked")
	}
	if c.Verifier == nil {
		return failed(NameVerifierApp, "no verifier configured", "set ENTRA_TENANT_ID and the verifier app's client ID (--verifier-client-id)")
	}
	if c.CanaryPassword.Empty() {
		return failed(NameVerifierApp, "no canary password", "set PREFLIGHT_CANARY_PASSWORD, or PREFLIGHT_CANARY_PASSWORD_FILE to a file holding it")
	}
	r := c.Verifier.VerifyPassword(ctx, c.CanaryUser, c.CanaryPassword.Reveal())
	code := ""
	if r.Code != 0 {
		code = fmt.Sprintf(" (AADSTS%d)", r.Code)
	}
	if fix, bad := verifierConfigReasons[r.Reason]; bad {
		return failed(NameVerifierApp, "Entra refused the verifier app: "+r.Reason+code, fix)
	}
	switch r.Verdict {
	case "verified":
		return ok(NameVerifierApp, "Entra checked "+c.CanaryUser+"'s password with the verifier app: "+r.Reason)
	case "rejected":
		return warn(NameVerifierApp, "the verifier app works, but Entra answered "+r.Reason+code+" for "+c.CanaryUser,
			"check the canary's password (PREFLIGHT_CANARY_PASSWORD); each wrong one counts towards the canary's smart lockout")
	}
	return failed(NameVerifierApp, "Entra gave no answer about the password: "+r.Reason+code,
		"check that the hook server's network reaches the Entra authority, and retry; a locked canary needs its lockout to expire")
}
