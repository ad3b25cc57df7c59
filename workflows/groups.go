package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"entra2okta/activities"
	"entra2okta/internal/entra"
)

// GroupMapping says which of a user's Entra groups become which Okta
// groups. A user's Entra groups are its transitive memberships (nested
// groups flattened: Okta has no nested groups), dynamic groups included with
// the members their rule has produced. Rules name any group, whatever its
// kind (security, mail-enabled security, distribution, Microsoft 365);
// Prefix takes security groups only (mail-enabled or not, never Microsoft
// 365 or distribution groups). The zero value maps nothing and costs a user
// nothing.
type GroupMapping struct {
	// Rules map an Entra group (object ID or display name) to an Okta group
	// (name, created when missing, or ID of an existing OKTA_GROUP).
	Rules []GroupRule `json:",omitempty"`
	// Prefix maps every Entra security group whose display name starts with
	// it (case-sensitive) to the Okta group of the same name.
	Prefix string `json:",omitempty"`
	// Sync gives a user whose Entra groups changed before its first sign-in
	// the difference at each reconciliation: new memberships added, and
	// those the migration added whose Entra group no longer maps removed.
	// Memberships the migration did not add are never removed.
	Sync bool `json:",omitempty"`
}

// GroupRule maps one Entra group to one Okta group.
type GroupRule struct {
	// Entra is the group's object ID or display name (case-insensitive).
	Entra string
	// Okta is an Okta group name, or the ID of an existing OKTA_GROUP.
	Okta string
}

// Enabled reports whether the mapping maps anything.
func (m GroupMapping) Enabled() bool { return len(m.Rules) > 0 || m.Prefix != "" }

// oktaGroupID matches an Okta group ID (00g and 17 more characters).
var oktaGroupID = regexp.MustCompile(`^00g[0-9A-Za-z]{17}$`)

// IsOktaGroupID reports whether s has the form of an Okta group ID.
func IsOktaGroupID(s string) bool { return oktaGroupID.MatchString(s) }

// Validate reports the problems of a mapping, each naming the rule.
func (m GroupMapping) Validate() error {
	var problems []string
	for i, r := range m.Rules {
		if strings.TrimSpace(r.Entra) == "" || strings.TrimSpace(r.Okta) == "" {
			problems = append(problems, fmt.Sprintf("rule %d (%q → %q) needs both an Entra group and an Okta group", i+1, r.Entra, r.Okta))
		}
		if len(r.Okta) > 255 {
			problems = append(problems, fmt.Sprintf("rule %d: an Okta group name has at most 255 characters", i+1))
		}
	}
	if m.Prefix != "" && strings.TrimSpace(m.Prefix) == "" {
		problems = append(problems, "the group prefix is blank")
	}
	if len(problems) > 0 {
		return fmt.Errorf("group mapping: %s", strings.Join(problems, "; "))
	}
	return nil
}

// GroupTargets returns the Okta groups a user with these Entra groups
// belongs in, in a stable order (rules first, in file order, then prefix
// matches by name), each Okta group once with every Entra group it comes
// from.
func GroupTargets(m GroupMapping, groups []entra.Group) []activities.GroupTarget {
	var out []activities.GroupTarget
	add := func(okta string, entraID string) {
		t := activities.GroupTarget{Name: okta}
		if IsOktaGroupID(okta) {
			t = activities.GroupTarget{ID: okta}
		}
		for i := range out {
			if (t.ID != "" && out[i].ID == t.ID) || (t.Name != "" && strings.EqualFold(out[i].Name, t.Name)) {
				if !slices.Contains(out[i].Entra, entraID) {
					out[i].Entra = append(out[i].Entra, entraID)
				}
				return
			}
		}
		t.Entra = []string{entraID}
		out = append(out, t)
	}
	for _, r := range m.Rules {
		for _, g := range groups {
			if strings.EqualFold(g.ID, r.Entra) || strings.EqualFold(g.DisplayName, r.Entra) {
				add(strings.TrimSpace(r.Okta), g.ID)
			}
		}
	}
	if m.Prefix != "" {
		var matched []entra.Group
		for _, g := range groups {
			if g.Security() && strings.HasPrefix(g.DisplayName, m.Prefix) {
				matched = append(matched, g)
			}
		}
		slices.SortStableFunc(matched, func(a, b entra.Group) int { return strings.Compare(a.DisplayName, b.DisplayName) })
		for _, g := range matched {
			add(g.DisplayName, g.ID)
		}
	}
	return out
}

// groupActivityOptions are OktaActivityOptions with room for several
// groups in one activity.
func groupActivityOptions() workflow.ActivityOptions {
	o := OktaActivityOptions()
	o.StartToCloseTimeout = 2 * time.Minute
	return o
}

// syncGroups reads the user's Entra groups and puts its Okta user in the
// mapped Okta groups (with remove, also taking it out of those the
// migration added that no longer map). It runs only for a batch with a
// group mapping. A failure is recorded in UserStatus.GroupsError and does
// not fail the migration: the user exists and can sign in; a --sync-groups
// reconciliation tries again.
func (m *userMigration) syncGroups(ctx workflow.Context, remove bool) error {
	who := m.st.EntraUserID
	if who == "" {
		who = m.in.Login
	}
	gctx := workflow.WithActivityOptions(ctx, GraphActivityOptions())
	var eg activities.GetEntraUserGroupsResult
	if err := workflow.ExecuteActivity(gctx, a.GetEntraUserGroups, activities.GetEntraUserGroupsInput{IDOrUPN: who}).Get(ctx, &eg); err != nil {
		return m.groupsFailed(err)
	}
	in := activities.SyncOktaGroupsInput{UserID: m.st.OktaUserID, Targets: GroupTargets(m.in.Groups, eg.Groups),
		Known: m.st.Groups, Remove: remove}
	var res activities.SyncOktaGroupsResult
	octx := workflow.WithActivityOptions(ctx, groupActivityOptions())
	if err := workflow.ExecuteActivity(octx, a.SyncOktaGroups, in).Get(ctx, &res); err != nil {
		return m.groupsFailed(err)
	}
	before := rollbackGroupIDs(m.st.Groups)
	for _, g := range res.Removed {
		if g.CreatedGroup {
			g.Added = false // removed already
			m.st.CreatedGroups = append(m.st.CreatedGroups, g)
		}
	}
	m.st.Groups = res.Memberships
	m.st.GroupsError = ""
	if len(res.Removed) > 0 {
		m.logger.Info("removed group memberships no longer mapped", "groups", len(res.Removed))
	}
	// A reconciliation's changes reach the rollback memo the import wrote.
	if remove && !slices.Equal(before, rollbackGroupIDs(m.st.Groups)) {
		m.upsertRollbackMemo(ctx)
	}
	return nil
}

// rollbackGroupIDs lists the memberships a rollback would undo.
func rollbackGroupIDs(ms []activities.GroupMembership) []string {
	var ids []string
	for _, g := range ms {
		if g.Added || g.CreatedGroup {
			ids = append(ids, g.OktaGroupID)
		}
	}
	return ids
}

// groupsFailed records a failed group step; cancellation stops the workflow.
func (m *userMigration) groupsFailed(err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	m.st.GroupsError = describe(err)
	m.logger.Warn("group memberships not applied", "error", err)
	return nil
}

// groupNames lists the Okta groups of the memberships, comma-separated.
func groupNames(ms []activities.GroupMembership) string {
	names := make([]string, 0, len(ms))
	for _, g := range ms {
		names = append(names, g.OktaGroupName)
	}
	return strings.Join(names, ", ")
}
