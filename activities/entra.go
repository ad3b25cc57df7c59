package activities

import (
	"context"

	"entra2okta/internal/entra"
)

// GetEntraUserInput names the user (object id or UPN) and the Graph properties
// to read ("manager" adds Attributes["manager.userPrincipalName"]).
type GetEntraUserInput struct {
	IDOrUPN    string
	Attributes []string
}

// GetEntraUserResult is the user as Graph returned it.
type GetEntraUserResult struct {
	User entra.User
}

// GetEntraUser reads one user from Microsoft Graph (GET /v1.0/users/{id|upn}
// with $select: https://learn.microsoft.com/en-us/graph/api/user-get). A missing
// user fails with ErrTypeNotFound.
func (a *Activities) GetEntraUser(ctx context.Context, in GetEntraUserInput) (GetEntraUserResult, error) {
	u, err := a.Entra.User(ctx, in.IDOrUPN, in.Attributes)
	if err != nil {
		return GetEntraUserResult{}, fail(ctx, err)
	}
	return GetEntraUserResult{User: u}, nil
}

// ListEntraUsersInput selects one page of a batch's source.
type ListEntraUsersInput struct {
	Source     entra.Source
	Attributes []string
	Cursor     string // "" for the first page
	PageSize   int    // Graph $top, 1-999 (https://learn.microsoft.com/en-us/graph/api/user-list)
}

// ListEntraUsersResult is one page and the cursor of the next ("" at the end).
type ListEntraUsersResult struct {
	Users []entra.User
	Next  string
	// Read counts the logins read for an explicit-logins or CSV source
	// (Users omits those unknown to Entra).
	Read int
}

// ListEntraUsers reads one page of users of a source: a group's transitive
// members, a $filter, explicit logins or every user
// (https://learn.microsoft.com/en-us/graph/api/user-list). One page
// per activity keeps each attempt short and lets the workflow carry the cursor
// across continue-as-new.
//
// Explicit logins and CSV files are read a page at a time, each login with
// its own Graph read, several at once, heartbeating as they complete, so a
// page of up to 999 logins fits its attempt and a stuck one is seen quickly.
func (a *Activities) ListEntraUsers(ctx context.Context, in ListEntraUsersInput) (ListEntraUsersResult, error) {
	if len(in.Source.Logins) > 0 || in.Source.CSV != nil {
		return a.listLoginPage(ctx, in)
	}
	page, err := a.Entra.ListUsers(ctx, in.Source, in.Attributes, in.Cursor, in.PageSize)
	if err != nil {
		return ListEntraUsersResult{}, fail(ctx, err)
	}
	return ListEntraUsersResult{Users: page.Users, Next: page.Next}, nil
}

// GetEntraDomainsInput is empty; it exists so the activity's signature can grow.
type GetEntraDomainsInput struct{}

// GetEntraDomainsResult lists the tenant's domains.
type GetEntraDomainsResult struct {
	Domains []entra.Domain
}

// GetEntraDomains reads the tenant's domains (GET /v1.0/domains), to tell
// federated users (authenticationType Federated) from managed ones.
func (a *Activities) GetEntraDomains(ctx context.Context, _ GetEntraDomainsInput) (GetEntraDomainsResult, error) {
	ds, err := a.Entra.Domains(ctx)
	if err != nil {
		return GetEntraDomainsResult{}, fail(ctx, err)
	}
	return GetEntraDomainsResult{Domains: ds}, nil
}
