package upgradetest

import (
	"fmt"
	"strconv"
	"strings"

	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// AttributeMapping copies one Microsoft Graph user property to one Okta profile
// attribute.
type AttributeMapping struct {
	// Graph is a Graph user property name
	// (https://learn.microsoft.com/en-us/graph/api/resources/user), an element of an
	// array property ("businessPhones[0]"), or ManagerUPN.
	Graph string
	// Okta is an Okta profile attribute: a base attribute or a custom one
	// defined in the Okta profile schema.
	Okta string
}

// ManagerUPN is the Graph "property" holding the user's manager's UPN (read
// with $expand=manager by the Graph adapter).
const ManagerUPN = "manager.userPrincipalName"

// DefaultAttributeMappings is the attribute copy used when an input sets none.
// The manager is not copied by default (ManagerMapping adds it), nor is the
// office: Okta's base profile has no attribute for it, and a custom attribute
// that the org's schema lacks fails every create with E0000001 ("Property name
// ... is not defined in profile"), so OfficeLocationMapping is opt-in once the
// attribute exists (Okta Profile Editor).
func DefaultAttributeMappings() []AttributeMapping {
	return []AttributeMapping{
		{Graph: "givenName", Okta: "firstName"},
		{Graph: "surname", Okta: "lastName"},
		{Graph: "displayName", Okta: "displayName"},
		{Graph: "mail", Okta: "email"},
		{Graph: "mobilePhone", Okta: "mobilePhone"},
		{Graph: "businessPhones[0]", Okta: "primaryPhone"},
		{Graph: "jobTitle", Okta: "title"},
		{Graph: "department", Okta: "department"},
		{Graph: "employeeId", Okta: "employeeNumber"},
	}
}

// Optional mappings, to append to DefaultAttributeMappings().
var (
	// ManagerMapping copies the manager's UPN to Okta's base "manager".
	ManagerMapping = AttributeMapping{Graph: ManagerUPN, Okta: "manager"}
	// OfficeLocationMapping copies officeLocation to the custom attribute
	// "officeLocation", which must be defined in the Okta user schema.
	OfficeLocationMapping = AttributeMapping{Graph: "officeLocation", Okta: "officeLocation"}
)

// nameLimit is the length limit of firstName and lastName in Okta's default
// schema (1-50 characters: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/);
// longer Graph values are cut rather than failing the
// user. Local parts of UPNs may exceed it too, but Graph caps them at 64.
const nameLimit = 50

// userProperties are the Graph properties every read selects: those that
// decide eligibility and the login.
var userProperties = []string{"id", "userPrincipalName", "mail", "accountEnabled", "userType"}

// listProperties are the Graph properties a batch's listing selects: enough to
// start each user's workflow and for a dry run's eligibility verdict.
func listProperties() []string { return append([]string(nil), userProperties...) }

// graphProperties returns the $select of a user read for a mapping, in a
// stable order: the eligibility properties, then each mapped property once
// ("manager" for ManagerUPN).
func graphProperties(maps []AttributeMapping) []string {
	props := append([]string(nil), userProperties...)
	seen := map[string]bool{}
	for _, p := range props {
		seen[p] = true
	}
	for _, m := range maps {
		p := m.Graph
		if p == ManagerUPN {
			p = "manager"
		} else if name, _, ok := splitIndex(p); ok {
			p = name
		}
		if !seen[p] {
			seen[p] = true
			props = append(props, p)
		}
	}
	return props
}

// splitIndex splits "name[3]" into ("name", 3, true).
func splitIndex(prop string) (string, int, bool) {
	open := strings.IndexByte(prop, '[')
	if open <= 0 || !strings.HasSuffix(prop, "]") {
		return "", 0, false
	}
	i, err := strconv.Atoi(prop[open+1 : len(prop)-1])
	if err != nil || i < 0 {
		return "", 0, false
	}
	return prop[:open], i, true
}

// graphValue returns a mapped property's value from a Graph user, or nil when
// it is absent, null or empty.
func graphValue(u entra.User, prop string) any {
	var v any
	if name, i, ok := splitIndex(prop); ok {
		arr, _ := u.Attributes[name].([]any)
		if i < len(arr) {
			v = arr[i]
		}
	} else {
		v = u.Attributes[prop]
	}
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return nil
		}
		return x
	case bool, float64:
		return x
	case nil:
		return nil
	default:
		return fmt.Sprint(x)
	}
}

// mappedProfile is the Okta profile the mapping produces from a Graph user:
// only the attributes that have a value, so that an update never blanks an
// attribute Okta already holds.
func mappedProfile(u entra.User, maps []AttributeMapping) okta.Profile {
	p := okta.Profile{}
	for _, m := range maps {
		if m.Okta == "" || m.Okta == "login" {
			continue // the login is the UPN, never remapped
		}
		if v := graphValue(u, m.Graph); v != nil {
			p[m.Okta] = v
		}
	}
	for _, attr := range []string{"firstName", "lastName"} {
		if name, ok := p[attr].(string); ok && len([]rune(name)) > nameLimit {
			p[attr] = string([]rune(name)[:nameLimit])
		}
	}
	return p
}

// newUserProfile is the profile of a user created in Okta: the mapping plus
// the login, and the attributes Okta's default schema requires (email,
// firstName, lastName: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/),
// taken from the UPN when Graph has none.
func newUserProfile(u entra.User, maps []AttributeMapping) okta.Profile {
	p := mappedProfile(u, maps)
	p["login"] = u.UserPrincipalName
	if _, ok := p["email"]; !ok {
		if u.Mail != "" {
			p["email"] = u.Mail
		} else {
			p["email"] = u.UserPrincipalName
		}
	}
	local, _, _ := strings.Cut(u.UserPrincipalName, "@")
	for _, attr := range []string{"firstName", "lastName"} {
		if name, _ := p[attr].(string); name == "" {
			p[attr] = local
		}
	}
	return p
}

// Reasons a user cannot be migrated (the prefix of UserStatus.Reason).
const (
	ReasonDisabled      = "disabled"           // accountEnabled is false
	ReasonGuest         = "guest"              // userType Guest or an #EXT# UPN
	ReasonFederated     = "federated-domain"   // Entra cannot check the password
	ReasonNoLogin       = "no-usable-login"    // the UPN cannot be an Okta login
	ReasonDeprovisioned = "okta-deprovisioned" // an admin deactivated the Okta user
	ReasonOktaPassword  = "okta-password"      // Okta already holds a password
)

// eligibility decides whether a Graph user can be migrated. federatedOK says
// the user is eligible only because FederatedToDeadline routes federated
// users to the deadline policy.
func eligibility(u entra.User, federatedDomains []string, federatedToDeadline bool) (reason string, federatedOK bool) {
	upn := u.UserPrincipalName
	if !u.AccountEnabled {
		return ReasonDisabled + ": account disabled in Entra ID", false
	}
	if strings.EqualFold(u.UserType, "Guest") || strings.Contains(strings.ToUpper(upn), "#EXT#") {
		return ReasonGuest + ": guest users sign in with their home identity", false
	}
	if why := loginProblem(upn); why != "" {
		return ReasonNoLogin + ": " + why, false
	}
	_, domain, _ := strings.Cut(upn, "@")
	if d := federatedDomain(domain, federatedDomains); d != "" {
		if federatedToDeadline {
			return "", true
		}
		return ReasonFederated + ": " + d + " is federated; Entra cannot verify its passwords", false
	}
	return "", false
}

// loginProblem says why a UPN cannot be an Okta login ("" if it can): Okta
// logins are 5-100 characters, email-formatted by default, and those with a
// "/" can only be fetched by id (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
func loginProblem(upn string) string {
	switch {
	case upn == "":
		return "no userPrincipalName"
	case len(upn) < 5 || len(upn) > 100:
		return "login must be 5-100 characters"
	case strings.ContainsAny(upn, "/ \t\r\n"):
		return "login contains '/' or whitespace"
	}
	local, domain, ok := strings.Cut(upn, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.Contains(domain, "@") {
		return "login is not email-formatted"
	}
	return ""
}

// federatedDomain returns the federated domain that domain is or is a
// subdomain of, or "".
func federatedDomain(domain string, federated []string) string {
	domain = strings.ToLower(domain)
	for _, f := range federated {
		f = strings.ToLower(f)
		if domain == f || strings.HasSuffix(domain, "."+f) {
			return f
		}
	}
	return ""
}

// federatedDomainNames lists the federated domains among a tenant's domains.
func federatedDomainNames(ds []entra.Domain) []string {
	var out []string
	for _, d := range ds {
		if strings.EqualFold(d.AuthenticationType, "Federated") {
			out = append(out, d.ID)
		}
	}
	return out
}

// oktaPlan decides what the import does with the Okta user of a login: create
// it, adopt it, or skip it (Okta already holds its password, or an admin
// deactivated it). The migration and the dry run share it.
func oktaPlan(found bool, u okta.User) (PlanAction, string) {
	switch {
	case !found:
		return PlanCreate, "no Okta user with this login"
	case HoldsOktaPassword(u):
		return PlanSkip, ReasonOktaPassword + ": Okta already holds a password (provider OKTA)"
	case u.Status == okta.StatusDeprovisioned:
		return PlanSkip, ReasonDeprovisioned + ": the Okta user was deactivated; not reactivating it"
	}
	var steps []string
	if u.ProviderType != okta.ProviderImport {
		steps = append(steps, "set the password hook")
	}
	steps = append(steps, "copy attributes")
	if u.Status == okta.StatusStaged {
		steps = append(steps, "activate")
	}
	return PlanAdopt, fmt.Sprintf("Okta user %s (provider %q): %s", u.Status, u.ProviderType, strings.Join(steps, ", "))
}

// HoldsOktaPassword reports whether Okta itself holds the user's password:
// provider OKTA with a credential. Provider OKTA alone is not enough: a user
// the Office 365 app imported STAGED has provider OKTA and no password, and is
// adopted (importing users STAGED to set the hook later is the pattern of
// https://iamse.blog/2022/06/24/office-365-azure-ad-seemless-users-migration-to-okta-passwords-included/).
func HoldsOktaPassword(u okta.User) bool {
	return u.ProviderType == okta.ProviderOkta && u.HasPassword
}
