package okta

// Group is the part of an Okta group the migration needs.
type Group struct {
	ID   string
	Name string
	// Type is OKTA_GROUP, APP_GROUP or BUILT_IN; only OKTA_GROUP
	// memberships can be changed through the API
	// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/assignUserToGroup).
	Type string
}

// GroupTypeOkta is the type of the groups Okta manages itself.
const GroupTypeOkta = "OKTA_GROUP"

// EnsureGroupResult is what EnsureGroup found or did.
type EnsureGroupResult struct {
	Group Group
	// Created is set when this call created the group.
	Created bool
}
