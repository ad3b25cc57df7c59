package fakeentra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Demo identifiers seeded by SeedDemo.
const (
	DemoTenantID        = "8f3c2a10-5b4e-4c1d-9e7f-0a1b2c3d4e5f"
	DemoDomain          = "contoso.com" // Managed
	DemoInitialDomain   = "contoso.onmicrosoft.com"
	DemoFederatedDomain = "fabrikam.com"                         // Federated, no cloud password validation
	DemoCloudPwDomain   = "northwind.com"                        // Federated with AllowCloudPasswordValidation
	DemoPublicClientID  = "4a1f0e55-7d2b-4b8e-a6c3-1e2f3a4b5c6d" // ROPC verifier app (public client)
	DemoGraphClientID   = "9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e" // Graph reader app (confidential)
)

// DemoUser describes one seeded demo user.
type DemoUser struct {
	ID, UserPrincipalName string
	// Password is the user's deterministic password (DemoPassword).
	Password  string
	State     State
	Disabled  bool
	Guest     bool
	Federated bool
	Groups    []string
}

// DemoDirectory is what SeedDemo created.
type DemoDirectory struct {
	TenantID       string
	PublicClientID string
	GraphClientID  string
	// GraphClientSecret is the Graph app's secret (an emulator value).
	GraphClientSecret string
	// AllStaffGroupID transitively contains every member group below.
	AllStaffGroupID string
	// GroupIDs by display name.
	GroupIDs map[string]string
	Users    []DemoUser
}

// DemoPassword returns the deterministic password of a demo user, so tests
// and the demo can type it.
func DemoPassword(upn string) string {
	h := sha256.Sum256([]byte("fakeentra-demo|" + upn))
	return "Pw-" + hex.EncodeToString(h[:6]) + "!a9"
}

// SeedDemo seeds a realistic directory of n users (n >= 1) in tenant
// DemoTenantID: departments as groups nested under "All Staff" (Engineering
// contains Platform), managers, and a deterministic mix of states: every 10th
// user MFA-enforced, every 17th disabled, every 23rd password-expired, every
// 29th blocked by conditional access, every 13th a guest, every 11th on the
// federated domain and every 31st on the federated domain that allows cloud
// password validation. Two apps are registered: a public client with User.Read
// consented (ROPC) and a confidential Graph reader.
func (s *Server) SeedDemo(n int) (DemoDirectory, error) {
	dir := DemoDirectory{
		TenantID: DemoTenantID, PublicClientID: DemoPublicClientID, GraphClientID: DemoGraphClientID,
		GraphClientSecret: "demo-graph-secret-" + DemoTenantID[:8], GroupIDs: map[string]string{},
	}
	if err := s.AddTenant(Tenant{ID: DemoTenantID, DisplayName: "Contoso"}); err != nil {
		return dir, err
	}
	for _, d := range []Domain{
		{Name: DemoDomain, Default: true},
		{Name: DemoInitialDomain},
		{Name: DemoFederatedDomain, Federated: true},
		{Name: DemoCloudPwDomain, Federated: true, AllowCloudPasswordValidation: true},
	} {
		if err := s.AddDomain(DemoTenantID, d); err != nil {
			return dir, err
		}
	}
	if err := s.AddClient(Client{ID: DemoPublicClientID, Public: true, ConsentedScopes: []string{"User.Read"}, TenantID: DemoTenantID, DisplayName: "entra2okta verifier"}); err != nil {
		return dir, err
	}
	if err := s.AddClient(Client{ID: DemoGraphClientID, Secret: dir.GraphClientSecret, TenantID: DemoTenantID, DisplayName: "entra2okta reader"}); err != nil {
		return dir, err
	}
	depts := []string{"Engineering", "Platform", "Sales", "Marketing", "Finance", "Support"}
	for _, d := range depts {
		id, err := s.AddGroup(DemoTenantID, Group{DisplayName: d})
		if err != nil {
			return dir, err
		}
		dir.GroupIDs[d] = id
	}
	if err := s.AddGroupMember(DemoTenantID, dir.GroupIDs["Engineering"], dir.GroupIDs["Platform"]); err != nil {
		return dir, err
	}
	all, err := s.AddGroup(DemoTenantID, Group{DisplayName: "All Staff", Groups: []string{
		dir.GroupIDs["Engineering"], dir.GroupIDs["Sales"], dir.GroupIDs["Marketing"], dir.GroupIDs["Finance"], dir.GroupIDs["Support"],
	}})
	if err != nil {
		return dir, err
	}
	dir.AllStaffGroupID, dir.GroupIDs["All Staff"] = all, all
	given := []string{"Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Dana", "Robin"}
	family := []string{"Smith", "Garcia", "Chen", "Müller", "Okafor", "Nguyen", "Rossi", "Kowalski", "Haddad", "Silva", "Tanaka"}
	managers := map[string]string{} // department -> first user's UPN
	for i := 0; i < n; i++ {
		g, f := given[i%len(given)], family[(i/len(given))%len(family)]
		dept := depts[i%len(depts)]
		du := DemoUser{State: StateNormal}
		domain := DemoDomain
		switch {
		case i%31 == 30:
			domain, du.Federated = DemoCloudPwDomain, true
		case i%11 == 10:
			domain, du.Federated = DemoFederatedDomain, true
		}
		// Entra user principal names are ASCII (A-Z, a-z, 0-9 and ' . - _ ! # ^ ~);
		// display names are not.
		nick := fmt.Sprintf("%s.%s%d", g, strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae").Replace(f), i)
		upn := nick + "@" + domain
		mail := upn
		userType := "Member"
		if i%13 == 12 {
			du.Guest, userType = true, "Guest"
			mail = nick + "@partner.example"
			upn = fmt.Sprintf("%s_partner.example#EXT#@%s", nick, DemoInitialDomain)
			du.Federated = false
		}
		switch {
		case i%17 == 16:
			du.Disabled = true
		case i%10 == 9:
			du.State = StateMFARequired
		case i%23 == 22:
			du.State = StatePasswordExpired
		case i%29 == 28:
			du.State = StateConditionalAccess
		}
		du.UserPrincipalName, du.Password = upn, DemoPassword(upn)
		du.Groups = []string{dir.GroupIDs[dept]}
		mgr := managers[dept]
		if mgr == "" {
			managers[dept] = upn
		}
		id, err := s.AddUser(User{
			UserPrincipalName: upn, Password: du.Password, State: du.State, Disabled: du.Disabled, UserType: userType,
			Manager: mgr, Groups: du.Groups,
			Attributes: map[string]any{
				"givenName": g, "surname": f, "displayName": g + " " + f, "mail": mail, "department": dept,
				"jobTitle": []string{"Engineer", "Analyst", "Manager", "Specialist"}[i%4], "mailNickname": nick,
				"businessPhones": []any{fmt.Sprintf("+1 425 555 %04d", i)}, "mobilePhone": nil,
				"employeeId": fmt.Sprintf("E%05d", i), "officeLocation": []string{"Redmond", "Dublin", "Singapore"}[i%3],
				"usageLocation": "US", "preferredLanguage": "en-US", "companyName": "Contoso",
			},
		})
		if err != nil {
			return dir, err
		}
		du.ID = id
		dir.Users = append(dir.Users, du)
	}
	return dir, nil
}
