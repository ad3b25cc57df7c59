package entra

import "slices"

// Group is an Entra group a user belongs to, with what tells its kind
// (https://learn.microsoft.com/en-us/graph/api/resources/groups-overview#group-types-in-microsoft-entra-id-and-microsoft-graph):
// a security group has SecurityEnabled; a mail-enabled security group has
// MailEnabled too; a distribution group has MailEnabled only; a Microsoft
// 365 group has "Unified" in GroupTypes; a dynamic group has
// "DynamicMembership" in GroupTypes.
type Group struct {
	ID              string
	DisplayName     string
	SecurityEnabled bool
	MailEnabled     bool
	GroupTypes      []string
}

// Unified reports a Microsoft 365 group.
func (g Group) Unified() bool { return slices.Contains(g.GroupTypes, "Unified") }

// Dynamic reports a group whose members a membership rule decides.
func (g Group) Dynamic() bool { return slices.Contains(g.GroupTypes, "DynamicMembership") }

// Security reports a security group (mail-enabled or not) that is not a
// Microsoft 365 group.
func (g Group) Security() bool { return g.SecurityEnabled && !g.Unified() }
