package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/control"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/workflows"
)

// TestBatchWithGroupMapping migrates 40 users with a group mapping: the
// departments by name to new Okta groups, Support to an Okta group an
// administrator made (by ID), Platform users (nested in Engineering) into
// Engineering's group. Every imported user lands in its mapped groups and no
// other; each Okta group exists once and was created once; every membership
// costs one PUT, none answered 429 (the group buckets at their Okta
// defaults); a second batch over the same users adds nothing; with
// --sync-groups, a user whose Entra groups change before its first sign-in
// gets the difference at its next reconciliation, and keeps the Okta
// membership an administrator gave it.
func TestBatchWithGroupMapping(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	h := newHarness(t, ctx, harnessOptions{users: 40})
	for _, b := range []fakeokta.Bucket{fakeokta.BucketGroups, fakeokta.BucketGroupByID, fakeokta.BucketGroupMembers} {
		h.okta.SetRateLimit(b, fakeokta.DefaultRateLimits[b])
	}
	supportID, err := h.okta.AddGroup("Support Team")
	if err != nil {
		t.Fatal(err)
	}
	mapping := workflows.GroupMapping{Rules: []workflows.GroupRule{
		{Entra: "Engineering", Okta: "Dept Engineering"},
		{Entra: h.dir.GroupIDs["Sales"], Okta: "Dept Sales"},
		{Entra: "finance", Okta: "Dept Finance"},
		{Entra: "Marketing", Okta: "Dept Marketing"},
		{Entra: "Support", Okta: supportID},
	}}
	oktaGroupOf := map[string]string{"Engineering": "Dept Engineering", "Platform": "Dept Engineering", "Sales": "Dept Sales",
		"Finance": "Dept Finance", "Marketing": "Dept Marketing", "Support": "Support Team"}
	deptOf := map[string]string{}
	for name, id := range h.dir.GroupIDs {
		deptOf[id] = name
	}
	h.startWorker()
	in := workflows.MigrateBatchInput{Batch: "e2e-groups", Source: batchSource(h), DeadlineAfter: time.Hour,
		Policy: workflows.PolicyExpirePassword, ReconcileEvery: workflows.MinReconcileEvery, Groups: mapping}
	in.Groups.Sync = true
	if _, err := control.StartBatch(h.ctx, h.tc, in); err != nil {
		t.Fatal(err)
	}
	h.waitImported("e2e-groups", 2*time.Minute)

	members := map[string][]string{} // Okta group name -> logins
	names := map[string]int{}
	for _, g := range h.okta.Groups() {
		names[g.Name]++
		members[g.Name] = g.Members
	}
	for name, n := range names {
		if n != 1 {
			t.Errorf("Okta group %q exists %d times", name, n)
		}
	}
	imported, memberships := 0, 0
	for _, u := range h.dir.Users {
		st := h.queryUser(u.UserPrincipalName)
		if st.State != workflows.StateAwaitingSignIn {
			continue // ineligible, already migrated: nothing to join
		}
		imported++
		want := oktaGroupOf[deptOf[u.Groups[0]]]
		var in []string
		for name, logins := range members {
			if slices.ContainsFunc(logins, func(l string) bool { return strings.EqualFold(l, u.UserPrincipalName) }) {
				in = append(in, name)
			}
		}
		if len(in) != 1 || in[0] != want {
			t.Errorf("%s (%s) is in %v, want [%s]", u.UserPrincipalName, deptOf[u.Groups[0]], in, want)
		}
		if len(st.Groups) != 1 || st.Groups[0].OktaGroupName != want || !st.Groups[0].Added || st.GroupsError != "" {
			t.Errorf("%s: recorded groups %+v, error %q", u.UserPrincipalName, st.Groups, st.GroupsError)
		}
		memberships++
	}
	if imported < 20 {
		t.Fatalf("only %d users imported", imported)
	}
	if got := h.okta.Calls(fakeokta.RouteAssignGroupUser); got != memberships {
		t.Errorf("%d membership PUTs for %d memberships", got, memberships)
	}
	if got := h.okta.Calls(fakeokta.RouteCreateGroup); got != 4 {
		t.Errorf("%d group creates, want 4 (Support Team existed)", got)
	}
	if n := strings.Count(h.logs.String(), `"status":429`); n != 0 {
		t.Errorf("%d answers were 429", n)
	}

	// A second batch over the same users: their workflows run already,
	// nothing is added.
	puts, creates := h.okta.Calls(fakeokta.RouteAssignGroupUser), h.okta.Calls(fakeokta.RouteCreateGroup)
	in.Batch = "e2e-groups-again"
	run, err := control.StartBatch(h.ctx, h.tc, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.MigrateBatchResult
	gctx, cancel2 := context.WithTimeout(h.ctx, 2*time.Minute)
	defer cancel2()
	if err := run.Get(gctx, &res); err != nil {
		t.Fatal(err)
	}
	if h.okta.Calls(fakeokta.RouteAssignGroupUser) != puts || h.okta.Calls(fakeokta.RouteCreateGroup) != creates {
		t.Errorf("the second batch added memberships or groups (%+v)", res.Progress)
	}
	t.Logf("%d users imported into %d Okta groups with %d PUTs; second batch: %d already running", imported, len(names), puts,
		res.Progress.AlreadyRunning)

	// --sync-groups: a Sales user moves to Marketing in Entra before its
	// first sign-in, and an administrator puts it in Dept Finance in Okta.
	// Its next reconciliation takes it out of Dept Sales (the migration
	// added that) and into Dept Marketing, and leaves Dept Finance alone.
	mover := ""
	for _, u := range h.dir.Users {
		if deptOf[u.Groups[0]] == "Sales" && h.queryUser(u.UserPrincipalName).State == workflows.StateAwaitingSignIn {
			mover = u.UserPrincipalName
			break
		}
	}
	if mover == "" {
		t.Fatal("no Sales user awaits its sign-in")
	}
	if err := h.entra.RemoveGroupMember(h.dir.TenantID, h.dir.GroupIDs["Sales"], mover); err != nil {
		t.Fatal(err)
	}
	if err := h.entra.AddGroupMember(h.dir.TenantID, h.dir.GroupIDs["Marketing"], mover); err != nil {
		t.Fatal(err)
	}
	var financeID string
	for _, g := range h.okta.Groups() {
		if g.Name == "Dept Finance" {
			financeID = g.ID
		}
	}
	if err := h.okta.AddGroupMember(financeID, mover); err != nil {
		t.Fatal(err)
	}
	groupsOf := func(login string) []string {
		var in []string
		for _, g := range h.okta.Groups() {
			if slices.ContainsFunc(g.Members, func(l string) bool { return strings.EqualFold(l, login) }) {
				in = append(in, g.Name)
			}
		}
		return in
	}
	want := []string{"Dept Finance", "Dept Marketing"}
	end := time.Now().Add(3 * time.Minute)
	for !slices.Equal(groupsOf(mover), want) && time.Now().Before(end) {
		sleep(h.ctx, 2*time.Second)
	}
	if got := groupsOf(mover); !slices.Equal(got, want) {
		t.Fatalf("%s is in %v after its reconciliation, want %v", mover, got, want)
	}
	st := h.queryUser(mover)
	if len(st.Groups) != 1 || st.Groups[0].OktaGroupName != "Dept Marketing" || !st.Groups[0].Added {
		t.Errorf("%s: recorded groups %+v", mover, st.Groups)
	}
}

// queryUser returns a running or closed user workflow's status.
func (h *harness) queryUser(login string) workflows.UserStatus {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	v, err := h.tc.QueryWorkflow(ctx, workflows.UserWorkflowID(login), "", workflows.QueryStatus)
	if err != nil {
		h.t.Fatalf("%s: %v", login, err)
	}
	var st workflows.UserStatus
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}
