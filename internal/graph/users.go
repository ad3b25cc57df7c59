package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
)

// eligibilityProps are always selected: what the batch needs to decide
// whether a user can be migrated.
var eligibilityProps = []string{"id", "userPrincipalName", "mail", "accountEnabled", "userType"}

// ManagerAttr is the pseudo-attribute that requests the manager's UPN; it is
// returned as Attributes[ManagerUPNKey].
const (
	ManagerAttr   = "manager"
	ManagerUPNKey = "manager.userPrincipalName"
)

// maxPageSize is Graph's $top limit ("Must be between 1 and 999 inclusive":
// https://learn.microsoft.com/en-us/answers/questions/1129204).
const maxPageSize = 999

// selection splits attrs into the $select list (eligibility properties
// first, no duplicates) and whether the manager is wanted.
func selection(attrs []string) (sel []string, manager bool) {
	sel = append(sel, eligibilityProps...)
	for _, a := range attrs {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
		case strings.EqualFold(a, ManagerAttr) || strings.EqualFold(a, ManagerUPNKey):
			manager = true
		case !slices.ContainsFunc(sel, func(s string) bool { return strings.EqualFold(s, a) }):
			sel = append(sel, a)
		}
	}
	return sel, manager
}

// managerExpand is the $expand that returns the manager's UPN with the user.
var managerExpand = []string{"manager($select=id,userPrincipalName)"}

// User reads one user by object ID or UPN. attrs are Graph property names
// to return in Attributes; "manager" adds Attributes["manager.userPrincipalName"]
// (nil when the user has no manager).
func (c *Client) User(ctx context.Context, idOrUPN string, attrs []string) (entra.User, error) {
	if strings.TrimSpace(idOrUPN) == "" {
		return entra.User{}, &apierr.Error{Service: "graph", Op: "get user", Kind: apierr.Invalid, Err: fmt.Errorf("empty user id")}
	}
	ctx, tp := withTap(ctx)
	sel, mgr := selection(attrs)
	qp := &users.UserItemRequestBuilderGetQueryParameters{Select: sel}
	if mgr {
		qp.Expand = managerExpand
	}
	u, err := users.NewUsersRequestBuilderInternal(map[string]string{}, c.adapter).ByUserId(idOrUPN).
		Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{QueryParameters: qp})
	if err != nil {
		return entra.User{}, classify("get user", err, tp)
	}
	return toUser(u, sel, mgr, true)
}

// ListUsers returns one page of the users of src. cursor "" starts; the
// returned UserPage.Next is the cursor of the next page ("" at the end):
// Graph's absolute @odata.nextLink for group, filter and all-user sources,
// an offset into the list for Source.Logins. pageSize is Graph's $top
// (1–999; 0 lets Graph choose, 100). Logins that do not exist are skipped
// (and logged), so a page may hold fewer users than logins.
func (c *Client) ListUsers(ctx context.Context, src entra.Source, attrs []string, cursor string, pageSize int) (entra.UserPage, error) {
	set := 0
	for _, b := range []bool{src.GroupID != "", src.Filter != "", len(src.Logins) > 0, src.All} {
		if b {
			set++
		}
	}
	if set != 1 {
		return entra.UserPage{}, &apierr.Error{Service: "graph", Op: "list users", Kind: apierr.Invalid,
			Err: fmt.Errorf("source must set exactly one of GroupID, Filter, Logins, All")}
	}
	if pageSize < 0 || pageSize > maxPageSize {
		pageSize = min(max(pageSize, 0), maxPageSize)
	}
	sel, mgr := selection(attrs)
	if len(src.Logins) > 0 {
		return c.listLogins(ctx, src.Logins, attrs, cursor, pageSize)
	}
	if cursor != "" && !strings.HasPrefix(cursor, c.adapter.GetBaseUrl()+"/") {
		// Never follow a link to another host with our token.
		return entra.UserPage{}, &apierr.Error{Service: "graph", Op: "list users", Kind: apierr.Invalid,
			Err: fmt.Errorf("cursor is not a Graph link of this client")}
	}
	ctx, tp := withTap(ctx)
	var top *int32
	if pageSize > 0 {
		t := int32(pageSize)
		top = &t
	}
	var (
		resp models.UserCollectionResponseable
		err  error
		op   = "list users"
	)
	switch {
	case src.GroupID != "":
		op = "list group members"
		if cursor != "" {
			resp, err = groups.NewItemTransitiveMembersGraphUserRequestBuilder(cursor, c.adapter).Get(ctx, nil)
		} else {
			resp, err = groups.NewGroupsRequestBuilderInternal(map[string]string{}, c.adapter).ByGroupId(src.GroupID).
				TransitiveMembers().GraphUser().Get(ctx, &groups.ItemTransitiveMembersGraphUserRequestBuilderGetRequestConfiguration{
				QueryParameters: &groups.ItemTransitiveMembersGraphUserRequestBuilderGetQueryParameters{Select: sel, Top: top},
			})
		}
	default:
		// A filter runs as an advanced query (ConsistencyLevel: eventual and
		// $count=true), so ne, not, endsWith work too; the header is not
		// carried by nextLinks and is sent again on every page
		// (https://learn.microsoft.com/en-us/graph/aad-advanced-queries,
		// https://learn.microsoft.com/en-us/graph/paging).
		var hdr *abs.RequestHeaders
		if src.Filter != "" {
			hdr = abs.NewRequestHeaders()
			hdr.Add("ConsistencyLevel", "eventual")
		}
		if cursor != "" {
			resp, err = users.NewUsersRequestBuilder(cursor, c.adapter).
				Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{Headers: hdr})
		} else {
			qp := &users.UsersRequestBuilderGetQueryParameters{Select: sel, Top: top}
			if src.Filter != "" {
				f, count := src.Filter, true
				qp.Filter, qp.Count = &f, &count
			}
			if mgr {
				qp.Expand = managerExpand
			}
			resp, err = users.NewUsersRequestBuilderInternal(map[string]string{}, c.adapter).
				Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: qp, Headers: hdr})
		}
	}
	if err != nil {
		return entra.UserPage{}, classify(op, err, tp)
	}
	page := entra.UserPage{Users: make([]entra.User, 0, len(resp.GetValue()))}
	for _, u := range resp.GetValue() {
		eu, err := toUser(u, sel, mgr, src.GroupID == "")
		if err != nil {
			return entra.UserPage{}, err
		}
		if mgr && src.GroupID != "" {
			// The manager of each member: Graph documents $expand=manager
			// on users, not on group member casts, so ask per user.
			if eu.Attributes[ManagerUPNKey], err = c.managerUPN(ctx, eu.ID); err != nil {
				return entra.UserPage{}, err
			}
		}
		page.Users = append(page.Users, eu)
	}
	if nl := resp.GetOdataNextLink(); nl != nil {
		page.Next = *nl
	}
	return page, nil
}

// listLogins pages through explicit logins, reading each user.
func (c *Client) listLogins(ctx context.Context, logins, attrs []string, cursor string, pageSize int) (entra.UserPage, error) {
	off := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(logins) {
			return entra.UserPage{}, &apierr.Error{Service: "graph", Op: "list users", Kind: apierr.Invalid,
				Err: fmt.Errorf("invalid logins cursor")}
		}
		off = n
	}
	if pageSize == 0 {
		pageSize = 100
	}
	end := min(off+pageSize, len(logins))
	page := entra.UserPage{Users: make([]entra.User, 0, end-off)}
	for _, login := range logins[off:end] {
		u, err := c.User(ctx, login, attrs)
		if apierr.Is(err, apierr.NotFound) {
			c.log.Warn("graph: login not found in Entra ID, skipped", "upn", login)
			continue
		}
		if err != nil {
			return entra.UserPage{}, err
		}
		page.Users = append(page.Users, u)
	}
	if end < len(logins) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

// managerUPN reads /users/{id}/manager; nil when the user has none.
func (c *Client) managerUPN(ctx context.Context, id string) (any, error) {
	ctx, tp := withTap(ctx)
	m, err := users.NewUsersRequestBuilderInternal(map[string]string{}, c.adapter).ByUserId(id).Manager().
		Get(ctx, &users.ItemManagerRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemManagerRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName"}},
		})
	if err != nil {
		err = classify("get manager", err, tp)
		if apierr.Is(err, apierr.NotFound) {
			return nil, nil
		}
		return nil, err
	}
	if mu, ok := m.(models.Userable); ok && mu.GetUserPrincipalName() != nil {
		return *mu.GetUserPrincipalName(), nil
	}
	return nil, nil
}

// toUser converts a model into our type. Attributes holds every selected
// property as a decoded JSON value (nil when Graph sent null or nothing),
// obtained by serializing the model back with kiota's JSON writer, so
// properties the model does not know (extensions) are kept too.
func toUser(u models.Userable, sel []string, mgr, expanded bool) (entra.User, error) {
	w := jsonser.NewJsonSerializationWriter()
	defer w.Close()
	if err := w.WriteObjectValue("", u); err != nil {
		return entra.User{}, &apierr.Error{Service: "graph", Op: "decode user", Kind: apierr.Transient, Err: err}
	}
	raw, err := w.GetSerializedContent()
	if err != nil {
		return entra.User{}, &apierr.Error{Service: "graph", Op: "decode user", Kind: apierr.Transient, Err: err}
	}
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return entra.User{}, &apierr.Error{Service: "graph", Op: "decode user", Kind: apierr.Transient, Err: err}
	}
	attrs := make(map[string]any, len(sel)+1)
	for _, p := range sel {
		v, ok := all[p]
		if !ok {
			for k, x := range all {
				if strings.EqualFold(k, p) {
					v = x
				}
			}
		}
		attrs[p] = v
	}
	out := entra.User{Attributes: attrs}
	if p := u.GetId(); p != nil {
		out.ID = *p
	}
	if p := u.GetUserPrincipalName(); p != nil {
		out.UserPrincipalName = *p
	}
	if p := u.GetMail(); p != nil {
		out.Mail = *p
	}
	if p := u.GetAccountEnabled(); p != nil {
		out.AccountEnabled = *p
	}
	if p := u.GetUserType(); p != nil {
		out.UserType = *p
	}
	if mgr && expanded {
		attrs[ManagerUPNKey] = nil
		if m, ok := u.GetManager().(models.Userable); ok && m.GetUserPrincipalName() != nil {
			attrs[ManagerUPNKey] = *m.GetUserPrincipalName()
		}
	}
	return out, nil
}

// Domains lists the tenant's domains.
func (c *Client) Domains(ctx context.Context) ([]entra.Domain, error) {
	ctx, tp := withTap(ctx)
	resp, err := domains.NewDomainsRequestBuilderInternal(map[string]string{}, c.adapter).Get(ctx, nil)
	var out []entra.Domain
	for page := 0; ; page++ {
		if err != nil {
			return nil, classify("list domains", err, tp)
		}
		for _, d := range resp.GetValue() {
			var ed entra.Domain
			if p := d.GetId(); p != nil {
				ed.ID = *p
			}
			if p := d.GetAuthenticationType(); p != nil {
				ed.AuthenticationType = *p
			}
			if p := d.GetIsVerified(); p != nil {
				ed.IsVerified = *p
			}
			out = append(out, ed)
		}
		nl := resp.GetOdataNextLink()
		if nl == nil || *nl == "" || page >= 50 {
			return out, nil
		}
		if !strings.HasPrefix(*nl, c.adapter.GetBaseUrl()+"/") {
			return nil, &apierr.Error{Service: "graph", Op: "list domains", Kind: apierr.Invalid, Err: fmt.Errorf("next link to another host")}
		}
		resp, err = domains.NewDomainsRequestBuilder(*nl, c.adapter).Get(ctx, nil)
	}
}

// odataCode returns Graph's error code (Request_ResourceNotFound, ...).
func odataCode(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		if m := oe.GetErrorEscaped(); m != nil && m.GetCode() != nil {
			return *m.GetCode()
		}
	}
	return ""
}
