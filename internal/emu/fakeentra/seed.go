package fakeentra

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// State scripts how Entra answers a user's ROPC sign-in (codes:
// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes). The
// states that reveal a correct password (MFA, expired, conditional access,
// compromised, not assigned) apply only when the password is right: a wrong
// password gets AADSTS50126, as real Entra answers
// (https://github.com/dafthack/MSOLSpray/issues/5).
type State int

const (
	// StateNormal: the right password gets tokens.
	StateNormal State = iota
	// StateMFARequired: AADSTS50076.
	StateMFARequired
	// StateMFAEnrollment: AADSTS50079.
	StateMFAEnrollment
	// StateMFAInterrupt: AADSTS50074.
	StateMFAInterrupt
	// StateExternalChallenge: AADSTS50158 (e.g. Duo).
	StateExternalChallenge
	// StatePasswordExpired: AADSTS50055 with suberror and password_change_url.
	StatePasswordExpired
	// StateConditionalAccess: AADSTS53003 (message_only).
	StateConditionalAccess
	// StateCompromised: AADSTS50135.
	StateCompromised
	// StateNotAssigned: AADSTS50105 (assignment required).
	StateNotAssigned
	// StateLocked: AADSTS50053 for any password (administratively locked).
	StateLocked
)

// Tenant is an Entra tenant.
type Tenant struct {
	// ID is the tenant GUID, used in authority URLs and the tid claim.
	ID string
	// DisplayName is the organisation name (used in error texts).
	DisplayName string
}

// Domain is a domain of a tenant.
type Domain struct {
	// Name is the domain name, e.g. contoso.com.
	Name string
	// Federated makes UserRealm answer Federated and ROPC answer AADSTS50126
	// even for the right password (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc), unless
	// AllowCloudPasswordValidation is set (HRD policy).
	Federated                    bool
	AllowCloudPasswordValidation bool
	// Unverified marks the domain isVerified=false in Graph.
	Unverified bool
	// Default marks the tenant's default domain (isDefault in Graph).
	Default bool
}

// User is an Entra user to seed.
type User struct {
	// ID is the object ID; derived from the tenant and UPN when empty.
	ID string
	// UserPrincipalName determines the tenant by its domain.
	UserPrincipalName string
	// Password is the cloud password; "" means the user has none
	// (AADSTS50056).
	Password string
	State    State
	// Disabled sets accountEnabled=false: ROPC answers AADSTS50057.
	Disabled bool
	// UserType is "Member" (default) or "Guest".
	UserType string
	// Attributes are further Graph user properties by name (givenName,
	// surname, displayName, mail, department, businessPhones, ...). Values
	// must be JSON-encodable.
	Attributes map[string]any
	// Manager is the manager's ID or UPN (the manager may be added later).
	Manager string
	// Groups lists IDs of groups the user is a direct member of.
	Groups []string
}

// Group is an Entra group to seed: a security group unless Kind says
// otherwise.
type Group struct {
	// ID is the object ID; derived from the tenant and name when empty.
	ID          string
	DisplayName string
	// Kind is GroupSecurity (""), GroupMailSecurity, GroupDistribution or
	// GroupM365 (memberof.go).
	Kind string
	// MembershipRule makes the group dynamic (groupTypes
	// DynamicMembership); its members are still the seeded ones, as if the
	// rule had been evaluated.
	MembershipRule string
	// Members are user IDs or UPNs (direct members).
	Members []string
	// Groups are IDs of nested member groups (direct members).
	Groups []string
}

// Client is an app registration.
type Client struct {
	// ID is the application (client) ID.
	ID string
	// Public clients ("Allow public client flows") must not send a secret
	// (AADSTS700025); confidential ones must (AADSTS7000218).
	Public bool
	// Secret is the confidential client's secret.
	Secret string
	// ConsentedScopes are the admin-consented delegated scopes in short form
	// (e.g. User.Read); an ROPC request for any other scope gets
	// AADSTS65001.
	ConsentedScopes []string
	// TenantID is the home tenant; "" makes the app known in every tenant.
	TenantID string
	// DisplayName is used in error texts.
	DisplayName string
}

type user struct {
	User
	tenant *tenant
}

type group struct {
	Group
	members []string // user or group object IDs, in order
}

type tenant struct {
	Tenant
	domains []*Domain
	users   map[string]*user // by ID
	byUPN   map[string]*user // by lower-case UPN
	order   []string         // user IDs in creation order
	groups  map[string]*group
}

// ErrNotFound is returned by seed calls that refer to an unknown tenant,
// domain, user or group.
var ErrNotFound = errors.New("fakeentra: not found")

// AddTenant adds a tenant.
func (s *Server) AddTenant(t Tenant) error {
	if t.ID == "" {
		return errors.New("fakeentra: tenant ID required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(t.ID)
	if _, ok := s.tenants[k]; ok {
		return fmt.Errorf("fakeentra: tenant %s exists", t.ID)
	}
	s.tenants[k] = &tenant{Tenant: t, users: map[string]*user{}, byUPN: map[string]*user{}, groups: map[string]*group{}}
	return nil
}

// AddDomain adds a domain to a tenant. Domain names are unique across
// tenants, as in Entra.
func (s *Server) AddDomain(tenantID string, d Domain) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[strings.ToLower(tenantID)]
	if t == nil {
		return fmt.Errorf("%w: tenant %s", ErrNotFound, tenantID)
	}
	k := strings.ToLower(d.Name)
	if k == "" {
		return errors.New("fakeentra: domain name required")
	}
	if _, ok := s.domains[k]; ok {
		return fmt.Errorf("fakeentra: domain %s exists", d.Name)
	}
	dc := d
	t.domains = append(t.domains, &dc)
	s.domains[k] = t
	return nil
}

// SetDomain replaces the settings of an existing domain (e.g. to flip
// AllowCloudPasswordValidation).
func (s *Server) SetDomain(d Domain) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.domains[strings.ToLower(d.Name)]
	if t == nil {
		return fmt.Errorf("%w: domain %s", ErrNotFound, d.Name)
	}
	for _, x := range t.domains {
		if strings.EqualFold(x.Name, d.Name) {
			*x = d
		}
	}
	return nil
}

// AddClient registers an application.
func (s *Server) AddClient(c Client) error {
	if c.ID == "" {
		return errors.New("fakeentra: client ID required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cc := c
	cc.ConsentedScopes = append([]string(nil), c.ConsentedScopes...)
	s.clients[c.ID] = &cc
	return nil
}

func domainOf(upn string) string {
	if i := strings.LastIndexByte(upn, '@'); i >= 0 {
		return strings.ToLower(upn[i+1:])
	}
	return ""
}

// deterministicID derives a GUID-shaped object ID.
func deterministicID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.Join(parts, "|"))))
	b := h[:16]
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return guid(b)
}

// AddUser adds a user to the tenant owning the UPN's domain and returns its
// object ID. The user joins u.Groups (which must exist).
func (s *Server) AddUser(u User) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.domains[domainOf(u.UserPrincipalName)]
	if t == nil {
		return "", fmt.Errorf("%w: domain of %q", ErrNotFound, u.UserPrincipalName)
	}
	k := strings.ToLower(u.UserPrincipalName)
	if _, ok := t.byUPN[k]; ok {
		return "", fmt.Errorf("fakeentra: user %s exists", u.UserPrincipalName)
	}
	if u.ID == "" {
		u.ID = deterministicID(t.ID, "user", u.UserPrincipalName)
		// A UPN freed by a rename (RenameUser) and reused names a new
		// object, as in Entra: never the renamed user's ID.
		for n := 2; t.users[u.ID] != nil; n++ {
			u.ID = deterministicID(t.ID, "user", u.UserPrincipalName, strconv.Itoa(n))
		}
	}
	if _, ok := t.users[u.ID]; ok {
		return "", fmt.Errorf("fakeentra: user id %s exists", u.ID)
	}
	for _, g := range u.Groups {
		if t.groups[g] == nil {
			return "", fmt.Errorf("%w: group %s", ErrNotFound, g)
		}
	}
	if u.UserType == "" {
		u.UserType = "Member"
	}
	u.Attributes = maps.Clone(u.Attributes)
	if u.Attributes == nil {
		u.Attributes = map[string]any{}
	}
	uu := &user{User: u, tenant: t}
	t.users[u.ID] = uu
	t.byUPN[k] = uu
	t.order = append(t.order, u.ID)
	for _, g := range u.Groups {
		t.groups[g].members = append(t.groups[g].members, u.ID)
	}
	return u.ID, nil
}

// AddGroup adds a group to a tenant and returns its ID. Members (IDs or UPNs)
// and nested groups must already exist.
func (s *Server) AddGroup(tenantID string, g Group) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[strings.ToLower(tenantID)]
	if t == nil {
		return "", fmt.Errorf("%w: tenant %s", ErrNotFound, tenantID)
	}
	if g.ID == "" {
		g.ID = deterministicID(t.ID, "group", g.DisplayName)
	}
	if _, ok := t.groups[g.ID]; ok {
		return "", fmt.Errorf("fakeentra: group %s exists", g.ID)
	}
	gg := &group{Group: g}
	for _, m := range g.Members {
		u := t.lookup(m)
		if u == nil {
			return "", fmt.Errorf("%w: user %s", ErrNotFound, m)
		}
		gg.members = append(gg.members, u.ID)
	}
	for _, n := range g.Groups {
		if t.groups[n] == nil {
			return "", fmt.Errorf("%w: group %s", ErrNotFound, n)
		}
		gg.members = append(gg.members, n)
	}
	t.groups[g.ID] = gg
	return g.ID, nil
}

// AddGroupMember adds a user (ID or UPN) or a group (ID) to a group.
func (s *Server) AddGroupMember(tenantID, groupID, member string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[strings.ToLower(tenantID)]
	if t == nil || t.groups[groupID] == nil {
		return fmt.Errorf("%w: group %s", ErrNotFound, groupID)
	}
	g := t.groups[groupID]
	if u := t.lookup(member); u != nil {
		g.members = append(g.members, u.ID)
		return nil
	}
	if t.groups[member] != nil {
		g.members = append(g.members, member)
		return nil
	}
	return fmt.Errorf("%w: member %s", ErrNotFound, member)
}

// lookup finds a user by ID or UPN (case-insensitive). Callers hold s.mu.
func (t *tenant) lookup(idOrUPN string) *user {
	if u := t.users[idOrUPN]; u != nil {
		return u
	}
	if u := t.users[strings.ToLower(idOrUPN)]; u != nil {
		return u
	}
	return t.byUPN[strings.ToLower(idOrUPN)]
}

// userByUPN finds a user in any tenant by UPN. Callers hold s.mu.
func (s *Server) userByUPN(upn string) *user {
	t := s.domains[domainOf(upn)]
	if t == nil {
		return nil
	}
	return t.byUPN[strings.ToLower(upn)]
}

// SetUserState changes a user's sign-in state.
func (s *Server) SetUserState(upn string, st State) error {
	return s.updateUser(upn, func(u *user) { u.State = st })
}

// SetPassword changes a user's password ("" removes it).
func (s *Server) SetPassword(upn, password string) error {
	return s.updateUser(upn, func(u *user) { u.Password = password })
}

// SetDisabled changes a user's accountEnabled (disabled = !accountEnabled).
func (s *Server) SetDisabled(upn string, disabled bool) error {
	return s.updateUser(upn, func(u *user) { u.Disabled = disabled })
}

// SetAttribute sets one Graph property of a user (nil makes it null).
func (s *Server) SetAttribute(upn, name string, value any) error {
	return s.updateUser(upn, func(u *user) { u.Attributes[name] = value })
}

// updateUser applies f to the user.
func (s *Server) updateUser(upn string, f func(*user)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByUPN(upn)
	if u == nil {
		return fmt.Errorf("%w: user %s", ErrNotFound, upn)
	}
	f(u)
	return nil
}

// RenameUser changes a user's userPrincipalName, keeping its object ID,
// password and groups, as an administrator's rename does in Entra; the old
// UPN is then free for another user (AddUser). Both UPNs must be in the same
// tenant.
func (s *Server) RenameUser(upn, newUPN string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByUPN(upn)
	if u == nil {
		return fmt.Errorf("%w: user %s", ErrNotFound, upn)
	}
	t := u.tenant
	if s.domains[domainOf(newUPN)] != t {
		return fmt.Errorf("%w: domain of %q in the tenant of %s", ErrNotFound, newUPN, upn)
	}
	k := strings.ToLower(newUPN)
	if other, ok := t.byUPN[k]; ok && other != u {
		return fmt.Errorf("fakeentra: user %s exists", newUPN)
	}
	delete(t.byUPN, strings.ToLower(u.UserPrincipalName))
	// Smart lockout follows the account, which the token endpoint finds by
	// its UPN.
	if l, ok := s.lockouts[strings.ToLower(u.UserPrincipalName)]; ok {
		delete(s.lockouts, strings.ToLower(u.UserPrincipalName))
		s.lockouts[k] = l
	}
	u.UserPrincipalName = newUPN
	t.byUPN[k] = u
	return nil
}

// UserID returns the object ID of a user, or "" if unknown.
func (s *Server) UserID(upn string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.userByUPN(upn); u != nil {
		return u.ID
	}
	return ""
}
