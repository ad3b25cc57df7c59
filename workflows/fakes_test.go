package workflows_test

import (
	"context"
	"fmt"
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

// memOkta is an in-memory Okta org behind activities.OktaUsers: the workflow
// tests run the real activities (and their error table) against it.
type memOkta struct {
	mu     sync.Mutex
	users  map[string]*okta.User // by id
	nextID int
	events map[string][]okta.LogEvent // by user id
	calls  []string
	// fail holds errors to return, in order, before a method works normally.
	fail map[string][]error
	// hideFromGet makes the next n lookups by login miss, as if the user were
	// created concurrently.
	hideFromGet int
	// onCall runs (unlocked) after each call is recorded.
	onCall func(method string)
}

var _ activities.OktaUsers = (*memOkta)(nil)

func newMemOkta() *memOkta {
	return &memOkta{users: map[string]*okta.User{}, events: map[string][]okta.LogEvent{}, fail: map[string][]error{}}
}

// add stores a user and returns its id.
func (o *memOkta) add(u okta.User) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u.ID == "" {
		o.nextID++
		u.ID = fmt.Sprintf("00u%03d", o.nextID)
	}
	if u.Profile == nil {
		u.Profile = okta.Profile{"login": u.Login}
	}
	o.users[u.ID] = &u
	return u.ID
}

// byLogin returns a copy of the user with a login (case-insensitive).
func (o *memOkta) byLogin(login string) (okta.User, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.findLocked(login)
	if u == nil {
		return okta.User{}, false
	}
	return *u, true
}

// setProvider simulates Okta storing a password (provider OKTA).
func (o *memOkta) setProvider(login, provider string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.findLocked(login).ProviderType = provider
}

func (o *memOkta) addEvent(login string, e okta.LogEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := o.findLocked(login).ID
	o.events[id] = append(o.events[id], e)
}

// callsTo counts the calls of a method; all of them with "".
func (o *memOkta) callsTo(method string) int {
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

// writes counts the calls that change Okta.
func (o *memOkta) writes() int {
	n := 0
	for _, m := range []string{"CreateUser", "UpdateUser", "ActivateUser", "DeactivateUser", "ExpirePassword", "ResetPassword"} {
		n += o.callsTo(m)
	}
	return n
}

func (o *memOkta) findLocked(idOrLogin string) *okta.User {
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
func (o *memOkta) begin(method string) error {
	o.mu.Lock()
	o.calls = append(o.calls, method)
	var err error
	if errs := o.fail[method]; len(errs) > 0 {
		err, o.fail[method] = errs[0], errs[1:]
	}
	onCall := o.onCall
	o.mu.Unlock()
	if onCall != nil {
		onCall(method)
	}
	return err
}

func notFound(op string) error {
	return &apierr.Error{Kind: apierr.NotFound, Service: "okta", Op: op, Status: 404, Code: "E0000007"}
}

func (o *memOkta) GetUser(_ context.Context, idOrLogin string) (okta.User, error) {
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
	return *u, nil
}

func (o *memOkta) CreateUser(_ context.Context, nu okta.NewUser) (okta.User, error) {
	if err := o.begin("CreateUser"); err != nil {
		return okta.User{}, err
	}
	login, _ := nu.Profile["login"].(string)
	o.mu.Lock()
	exists := o.findLocked(login) != nil
	o.mu.Unlock()
	if exists {
		return okta.User{}, &apierr.Error{Kind: apierr.Conflict, Service: "okta", Op: "create user", Status: 400, Code: "E0000001"}
	}
	u := okta.User{Login: login, Profile: nu.Profile, Status: okta.StatusStaged}
	if nu.Activate {
		u.Status = okta.StatusActive
	}
	if nu.PasswordHook {
		u.ProviderType = okta.ProviderImport
	}
	id := o.add(u)
	u.ID = id
	return u, nil
}

func (o *memOkta) UpdateUser(_ context.Context, id string, upd okta.UserUpdate) (okta.User, error) {
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
		u.ProviderType = okta.ProviderImport
	}
	return *u, nil
}

// transition applies a lifecycle change allowed only from some statuses.
func (o *memOkta) transition(method, id, to string, from ...string) error {
	if err := o.begin(method); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users[id]
	if u == nil {
		return notFound(method)
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

func (o *memOkta) ActivateUser(_ context.Context, id string, sendEmail bool) error {
	if sendEmail {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "activate: test expects sendEmail=false"}
	}
	return o.transition("ActivateUser", id, okta.StatusActive, okta.StatusStaged, okta.StatusDeprovisioned)
}

func (o *memOkta) DeactivateUser(_ context.Context, id string) error {
	return o.transition("DeactivateUser", id, okta.StatusDeprovisioned)
}

func (o *memOkta) ExpirePassword(_ context.Context, id string) error {
	return o.transition("ExpirePassword", id, okta.StatusPasswordExpired, okta.StatusActive)
}

func (o *memOkta) ResetPassword(_ context.Context, id string, _ bool) error {
	return o.transition("ResetPassword", id, okta.StatusRecovery, okta.StatusActive)
}

func (o *memOkta) PasswordImportEvents(_ context.Context, userID string, since time.Time) ([]okta.LogEvent, error) {
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

// memEntra is an in-memory tenant behind activities.EntraDirectory.
type memEntra struct {
	mu      sync.Mutex
	users   []entra.User
	domains []entra.Domain
	calls   []string
	attrs   [][]string // $select of each User call
}

var _ activities.EntraDirectory = (*memEntra)(nil)

func (e *memEntra) record(call string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
}

func (e *memEntra) callsTo(method string) int {
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

func (e *memEntra) User(_ context.Context, idOrUPN string, attrs []string) (entra.User, error) {
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

// ListUsers pages the users (every source lists all of them, in UPN order);
// the cursor is the next index.
func (e *memEntra) ListUsers(_ context.Context, _ entra.Source, _ []string, cursor string, pageSize int) (entra.UserPage, error) {
	e.record("ListUsers")
	e.mu.Lock()
	defer e.mu.Unlock()
	sort.Slice(e.users, func(i, j int) bool { return e.users[i].UserPrincipalName < e.users[j].UserPrincipalName })
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	end := min(start+pageSize, len(e.users))
	page := entra.UserPage{Users: append([]entra.User(nil), e.users[start:end]...)}
	if end < len(e.users) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

func (e *memEntra) Domains(context.Context) ([]entra.Domain, error) {
	e.record("Domains")
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]entra.Domain(nil), e.domains...), nil
}

// member returns an enabled member user of contoso.com with a few attributes.
func member(local string) entra.User {
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

func newMemEntra(users ...entra.User) *memEntra {
	return &memEntra{users: users, domains: []entra.Domain{
		{ID: "contoso.com", AuthenticationType: "Managed", IsVerified: true},
		{ID: "fabrikam.com", AuthenticationType: "Federated", IsVerified: true},
	}}
}
