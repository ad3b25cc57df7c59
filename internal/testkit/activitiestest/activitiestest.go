// Package activitiestest holds in-memory implementations of the interfaces
// the activities call (activities.OktaUsers, activities.EntraDirectory), so
// that workflow and worker tests run the real activities, and their error
// table, without a network. They model just enough of Okta and Graph for the
// migration: lookups by id or login, create with conflicts, partial updates,
// lifecycle transitions, System Log events, paged listings. For wire-level
// fidelity use internal/emu/fakeokta and internal/emu/fakeentra.
package activitiestest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// Okta is an in-memory Okta org behind activities.OktaUsers. It is safe for
// concurrent use.
type Okta struct {
	mu     sync.Mutex
	users  map[string]*okta.User // by id
	nextID int
	events map[string][]okta.LogEvent // by user id
	calls  []string
	// fail holds errors to return, in order, before a method works normally.
	fail map[string][]error
	// hideFromGet makes the next n lookups by login miss.
	hideFromGet int
	// refusedCreates counts the creates refused because the login existed.
	refusedCreates int
	// provision leaves users activated with a password PROVISIONED, as an
	// Okta enrollment policy requiring the password authenticator does.
	provision bool
	// asyncReads makes activations asynchronous: the user keeps
	// TransitioningToStatus for that many reads, changes meanwhile are Busy.
	asyncReads int
	pending    map[string]int // user id -> reads left before its transition completes
	// loseCreates makes the next creates succeed in Okta but answer an error.
	loseCreates int
	now         func() time.Time
	groups      []*testGroup // groups.go
}

var _ activities.OktaUsers = (*Okta)(nil)

// NewOkta returns an empty org.
func NewOkta() *Okta {
	return &Okta{users: map[string]*okta.User{}, events: map[string][]okta.LogEvent{}, fail: map[string][]error{},
		pending: map[string]int{}, now: time.Now}
}

// Add stores a user (an id is assigned when empty) and returns its id.
func (o *Okta) Add(u okta.User) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u.ID == "" {
		o.nextID++
		u.ID = fmt.Sprintf("00u%03d", o.nextID)
	}
	if u.Profile == nil {
		u.Profile = okta.Profile{"login": u.Login}
	}
	if _, ok := u.Profile["email"]; !ok {
		// Okta's default profile requires an email; a user imported by the
		// Office 365 app has the Entra mail, here the login.
		u.Profile["email"] = u.Login
	}
	o.users[u.ID] = &u
	return u.ID
}

// User returns a copy of the user with a login (case-insensitive).
func (o *Okta) User(login string) (okta.User, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.findLocked(login)
	if u == nil {
		return okta.User{}, false
	}
	return *u, true
}

// SetProvider sets a user's credential provider, e.g. OKTA as when Okta
// stores a password the hook verified (the user then has a password).
func (o *Okta) SetProvider(login, provider string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.findLocked(login)
	u.ProviderType = provider
	if provider == okta.ProviderOkta {
		u.HasPassword = true
	}
}

// AddEvent records a System Log event targeting a user.
func (o *Okta) AddEvent(login string, e okta.LogEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := o.findLocked(login).ID
	o.events[id] = append(o.events[id], e)
}

// Calls counts the calls of a method (an OktaUsers method name); "" counts all.
func (o *Okta) Calls(method string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.calls {
		if method == "" || c == method {
			n++
		}
	}
	return n
}

// Writes counts the calls that change Okta: a create refused because the
// login exists changes nothing and is not counted.
func (o *Okta) Writes() int {
	n := 0
	for _, m := range []string{"CreateUser", "UpdateUser", "ActivateUser", "ReactivateUser", "DeactivateUser", "ExpirePassword", "ResetPassword"} {
		n += o.Calls(m)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return n - o.refusedCreates
}

func (o *Okta) findLocked(idOrLogin string) *okta.User {
	if u, ok := o.users[idOrLogin]; ok {
		return u
	}
	for _, u := range o.users {
		if strings.EqualFold(u.Login, idOrLogin) {
			return u
		}
	}
	return nil
}

// begin records a call and returns an injected error, if any.
func (o *Okta) begin(method string) error {
	o.mu.Lock()
	o.calls = append(o.calls, method)
	var err error
	if errs := o.fail[method]; len(errs) > 0 {
		err, o.fail[method] = errs[0], errs[1:]
	}
	o.mu.Unlock()
	return err
}

func notFound(op string) error {
	return &apierr.Error{Kind: apierr.NotFound, Service: "okta", Op: op, Status: 404, Code: "E0000007"}
}

// GetUser implements activities.OktaUsers.
func (o *Okta) GetUser(_ context.Context, idOrLogin string) (okta.User, error) {
	if err := o.begin("GetUser"); err != nil {
		return okta.User{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.findLocked(idOrLogin)
	if u != nil && u.ID != idOrLogin && o.hideFromGet > 0 {
		o.hideFromGet--
		u = nil
	}
	if u == nil {
		return okta.User{}, notFound("get user")
	}
	out := *u
	o.settleLocked(u)
	return out, nil
}

// SetProvisionOnActivate makes activations of users with a password (the
// hook counts) leave them PROVISIONED, until ReactivateUser.
func (o *Okta) SetProvisionOnActivate(on bool) { setLocked(&o.mu, &o.provision, on) }

// SetAsyncActivation makes activations asynchronous: the user is read with
// TransitioningToStatus reads times before its status changes, and lifecycle
// calls meanwhile fail apierr Busy (E0000112). 0 activates at once.
func (o *Okta) SetAsyncActivation(reads int) { setLocked(&o.mu, &o.asyncReads, reads) }

// LoseCreateAnswers makes the next n creates create the user but answer a
// transient error, as a time-out after Okta's write does.
func (o *Okta) LoseCreateAnswers(n int) { setLocked(&o.mu, &o.loseCreates, n) }

// SetClock sets the clock that stamps created users (default time.Now).
func (o *Okta) SetClock(now func() time.Time) { setLocked(&o.mu, &o.now, now) }

// setLocked sets *field to v holding mu.
func setLocked[T any](mu *sync.Mutex, field *T, v T) {
	mu.Lock()
	defer mu.Unlock()
	*field = v
}

// activateLocked moves u to the status an activation leads to, at once or
// after o.asyncReads reads.
func (o *Okta) activateLocked(u *okta.User) {
	to := okta.StatusActive
	if o.provision && u.HasPassword {
		to = okta.StatusProvisioned
	}
	if o.asyncReads > 0 {
		u.TransitioningToStatus = to
		o.pending[u.ID] = o.asyncReads
		return
	}
	u.Status = to
}

// settleLocked counts one read of u and completes its transition when due.
func (o *Okta) settleLocked(u *okta.User) {
	if u.TransitioningToStatus == "" {
		return
	}
	if o.pending[u.ID]--; o.pending[u.ID] <= 0 {
		u.Status, u.TransitioningToStatus = u.TransitioningToStatus, ""
		delete(o.pending, u.ID)
	}
}

func stillActivating(op string) error {
	return &apierr.Error{Kind: apierr.Busy, Service: "okta", Op: op, Status: 409, Code: "E0000112"}
}

// CreateUser implements activities.OktaUsers.
func (o *Okta) CreateUser(_ context.Context, nu okta.NewUser) (okta.User, error) {
	if err := o.begin("CreateUser"); err != nil {
		return okta.User{}, err
	}
	login, _ := nu.Profile["login"].(string)
	o.mu.Lock()
	exists := o.findLocked(login) != nil
	if exists {
		o.refusedCreates++
	}
	o.mu.Unlock()
	if exists {
		return okta.User{}, &apierr.Error{Kind: apierr.Conflict, Service: "okta", Op: "create user", Status: 400, Code: "E0000001"}
	}
	o.mu.Lock()
	u := okta.User{Login: login, Profile: nu.Profile, Status: okta.StatusStaged, Created: o.now()}
	lose := o.loseCreates > 0
	if lose {
		o.loseCreates--
	}
	o.mu.Unlock()
	if nu.PasswordHook {
		u.ProviderType, u.HasPassword = okta.ProviderImport, true
	}
	id := o.Add(u)
	u.ID = id
	if nu.Activate {
		o.mu.Lock()
		o.activateLocked(o.users[id])
		u = *o.users[id]
		o.mu.Unlock()
	}
	if lose {
		return okta.User{}, &apierr.Error{Kind: apierr.Transient, Service: "okta", Op: "create user", Err: context.DeadlineExceeded}
	}
	return u, nil
}

// UpdateUser implements activities.OktaUsers.
func (o *Okta) UpdateUser(_ context.Context, id string, upd okta.UserUpdate) (okta.User, error) {
	if err := o.begin("UpdateUser"); err != nil {
		return okta.User{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users[id]
	if u == nil {
		return okta.User{}, notFound("update user")
	}
	for k, v := range upd.Profile {
		u.Profile[k] = v
	}
	if upd.SetPasswordHook {
		u.ProviderType, u.HasPassword = okta.ProviderImport, true
	}
	return *u, nil
}

// transition applies a lifecycle change allowed only from some statuses.
func (o *Okta) transition(method, id, to string, from ...string) error {
	if err := o.begin(method); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users[id]
	if u == nil {
		return notFound(method)
	}
	if u.TransitioningToStatus != "" {
		return stillActivating(method)
	}
	if len(from) > 0 && !contains(from, u.Status) {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: method, Status: 403, Code: "E0000038"}
	}
	u.Status = to
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ActivateUser implements activities.OktaUsers.
func (o *Okta) ActivateUser(_ context.Context, id string, sendEmail bool) error {
	if sendEmail {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "activate: test expects sendEmail=false"}
	}
	if err := o.begin("ActivateUser"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users[id]
	switch {
	case u == nil:
		return notFound("activate user")
	case u.TransitioningToStatus != "":
		return stillActivating("activate user")
	case u.Status == okta.StatusActive:
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "activate user", Status: 403, Code: "E0000016"}
	case u.Status != okta.StatusStaged && u.Status != okta.StatusDeprovisioned:
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "activate user", Status: 403, Code: "E0000038"}
	}
	o.activateLocked(u)
	return nil
}

// ReactivateUser implements activities.OktaUsers: a PROVISIONED user with a
// password becomes ACTIVE; one without stays PROVISIONED.
func (o *Okta) ReactivateUser(_ context.Context, id string, sendEmail bool) error {
	if sendEmail {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "reactivate: test expects sendEmail=false"}
	}
	if err := o.begin("ReactivateUser"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users[id]
	switch {
	case u == nil:
		return notFound("reactivate user")
	case u.TransitioningToStatus != "":
		return stillActivating("reactivate user")
	case u.Status != okta.StatusProvisioned && u.Status != okta.StatusRecovery:
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "reactivate user", Status: 403, Code: "E0000038"}
	}
	if u.HasPassword {
		provision := o.provision
		o.provision = false // reactivation makes a user with a password ACTIVE
		o.activateLocked(u)
		o.provision = provision
	}
	return nil
}

// DeactivateUser implements activities.OktaUsers.
func (o *Okta) DeactivateUser(_ context.Context, id string) error {
	return o.transition("DeactivateUser", id, okta.StatusDeprovisioned)
}

// ExpirePassword implements activities.OktaUsers.
func (o *Okta) ExpirePassword(_ context.Context, id string) error {
	return o.transition("ExpirePassword", id, okta.StatusPasswordExpired, okta.StatusActive)
}

// ResetPassword implements activities.OktaUsers.
func (o *Okta) ResetPassword(_ context.Context, id string, _ bool) error {
	return o.transition("ResetPassword", id, okta.StatusRecovery, okta.StatusActive)
}

// PasswordImportEvents implements activities.OktaUsers.
func (o *Okta) PasswordImportEvents(_ context.Context, userID string, since time.Time) ([]okta.LogEvent, error) {
	if err := o.begin("PasswordImportEvents"); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []okta.LogEvent
	for _, e := range o.events[userID] {
		if !e.Published.Before(since) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Entra is an in-memory tenant behind activities.EntraDirectory. It is safe
// for concurrent use.
type Entra struct {
	mu      sync.Mutex
	users   []entra.User
	domains []entra.Domain
	calls   []string
	attrs   [][]string               // $select of each User call
	groups  map[string][]entra.Group // by lower-case UPN (groups.go)
}

var _ activities.EntraDirectory = (*Entra)(nil)

func (e *Entra) record(call string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
}

// Calls counts the calls of a method (an EntraDirectory method name).
func (e *Entra) Calls(method string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		if c == method {
			n++
		}
	}
	return n
}

// User implements activities.EntraDirectory.
func (e *Entra) User(_ context.Context, idOrUPN string, attrs []string) (entra.User, error) {
	e.record("User")
	e.mu.Lock()
	defer e.mu.Unlock()
	e.attrs = append(e.attrs, attrs)
	for _, u := range e.users {
		if u.ID == idOrUPN || strings.EqualFold(u.UserPrincipalName, idOrUPN) {
			return u, nil
		}
	}
	return entra.User{}, &apierr.Error{Kind: apierr.NotFound, Service: "graph", Op: "get user", Status: 404, Code: "Request_ResourceNotFound"}
}

// ListUsers implements activities.EntraDirectory: it pages the users in UPN
// order (only Source.Logins when set; every other source lists all users);
// the cursor is the next index.
func (e *Entra) ListUsers(_ context.Context, src entra.Source, _ []string, cursor string, pageSize int) (entra.UserPage, error) {
	e.record("ListUsers")
	e.mu.Lock()
	defer e.mu.Unlock()
	var users []entra.User
	for _, u := range e.users {
		if len(src.Logins) == 0 || slices.ContainsFunc(src.Logins, func(l string) bool { return strings.EqualFold(l, u.UserPrincipalName) }) {
			users = append(users, u)
		}
	}
	sort.SliceStable(users, func(i, j int) bool { return users[i].UserPrincipalName < users[j].UserPrincipalName })
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	start = min(start, len(users))
	end := min(start+pageSize, len(users))
	page := entra.UserPage{Users: users[start:end]}
	if end < len(users) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

// Domains implements activities.EntraDirectory.
func (e *Entra) Domains(context.Context) ([]entra.Domain, error) {
	e.record("Domains")
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]entra.Domain(nil), e.domains...), nil
}

// Member returns an enabled member user of contoso.com with a few attributes.
func Member(local string) entra.User {
	upn := local + "@contoso.com"
	return entra.User{
		ID: "id-" + local, UserPrincipalName: upn, Mail: upn, AccountEnabled: true, UserType: "Member",
		Attributes: map[string]any{
			"givenName": strings.ToUpper(local[:1]) + local[1:], "surname": "Example", "displayName": local + " Example",
			"mail": upn, "businessPhones": []any{"+1 555 0100", "+1 555 0101"}, "jobTitle": "Engineer",
			"department": "R&D", "mobilePhone": nil, "employeeId": "E-" + local,
		},
	}
}

// NewEntra returns a tenant holding users, with the managed domain
// contoso.com and the federated domain fabrikam.com.
func NewEntra(users ...entra.User) *Entra {
	return &Entra{users: users, domains: []entra.Domain{
		{ID: "contoso.com", AuthenticationType: "Managed", IsVerified: true},
		{ID: "fabrikam.com", AuthenticationType: "Federated", IsVerified: true},
	}}
}

// FailNext makes the next calls of a method return errs, in order.
func (o *Okta) FailNext(method string, errs ...error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail[method] = append(o.fail[method], errs...)
}

// HideFromLookup makes the next n lookups by login miss, as if the user were
// created concurrently with the caller's lookup.
func (o *Okta) HideFromLookup(n int) { setLocked(&o.mu, &o.hideFromGet, n) }

// Delete removes the user with a login, as an Okta admin would.
func (o *Okta) Delete(login string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u := o.findLocked(login); u != nil {
		delete(o.users, u.ID)
	}
}

// SetAttribute sets a Graph property of the user with a UPN.
func (e *Entra) SetAttribute(upn, name string, v any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.users {
		if strings.EqualFold(e.users[i].UserPrincipalName, upn) {
			e.users[i].Attributes[name] = v
		}
	}
}

// RenameUser changes the UPN of the user with a UPN (its object ID stays) and,
// when reuse is set, adds that user under the old UPN with a new object ID:
// a UPN renamed and given to a new hire.
func (e *Entra) RenameUser(upn, newUPN string, reuse *entra.User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.users {
		if strings.EqualFold(e.users[i].UserPrincipalName, upn) {
			e.users[i].UserPrincipalName = newUPN
		}
	}
	if reuse != nil {
		u := *reuse
		u.UserPrincipalName = upn
		e.users = append(e.users, u)
	}
}
