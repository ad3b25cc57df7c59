package cli_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/cli"
	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
)

// TestMigrateGroupMapping runs starter migrate --map-groups on a real
// Temporal dev server, an in-process worker and the emulators: bad group
// flags are refused before anything starts; the users land in the Okta
// groups of their departments (one created by the batch, one an
// administrator's by ID, which also holds someone else); starter report
// lists each user's groups; starter rollback deletes the users, the groups
// the batch created (then empty) and leaves the administrator's group and
// its member alone.
func TestMigrateGroupMapping(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := startStack(ctx, t, devstack.Options{Users: 30, Okta: fakeokta.Options{APITokens: []string{"tok"}},
		Worker: devstack.InProcess, WorkerConfig: workerAt100})
	o, dir := st.Okta(), st.Directory()
	inOkta := map[string]bool{}
	for _, l := range append(append([]string{}, dir.Staged...), dir.AlreadyInOkta...) {
		inOkta[l] = true
	}
	deptOf := map[string]string{}
	for name, id := range dir.GroupIDs {
		deptOf[id] = name
	}
	// Five users, and one of Support (mapped to the administrator's group).
	var logins []string
	support := ""
	for _, u := range dir.Users {
		if u.Guest || u.Disabled || u.Federated || u.State != fakeentra.StateNormal || inOkta[u.UserPrincipalName] {
			continue
		}
		switch {
		case deptOf[u.Groups[0]] == "Support" && support == "":
			support = u.UserPrincipalName
		case len(logins) < 5 && deptOf[u.Groups[0]] != "Support":
			logins = append(logins, u.UserPrincipalName)
		}
	}
	if support == "" || len(logins) != 5 {
		t.Fatalf("seed: %v %q", logins, support)
	}
	logins = append(logins, support)
	// An administrator's Okta group, with a member the migration never added.
	adminGroup, err := o.AddGroup("Support Staff")
	if err != nil {
		t.Fatal(err)
	}
	keeper := dir.AlreadyInOkta[0]
	if err := o.AddGroupMember(adminGroup, keeper); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	usersFile := filepath.Join(tmp, "users.csv")
	if err := os.WriteFile(usersFile, []byte("upn\n"+strings.Join(logins, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	groupsFile := filepath.Join(tmp, "groups.yaml")
	if err := os.WriteFile(groupsFile, []byte("Engineering: Dept Engineering\nSales: Dept Sales\nMarketing: Dept Marketing\n"+
		"Finance: Dept Finance\nSupport: "+adminGroup+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Engineering": "Dept Engineering", "Platform": "Dept Engineering", "Sales": "Dept Sales",
		"Marketing": "Dept Marketing", "Finance": "Dept Finance", "Support": "Support Staff"}

	env := map[string]string{"TEMPORAL_ADDRESS": st.TemporalAddress(), "OKTA_ORG_URL": st.OktaURL(), "OKTA_API_TOKEN": "tok"}

	badFile := filepath.Join(tmp, "bad.csv")
	if err := os.WriteFile(badFile, []byte("Finance\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		say  string
	}{
		{[]string{"--sync-groups"}, "--sync-groups needs --map-groups or --map-groups-prefix"},
		{[]string{"--map-groups", badFile}, "bad.csv:1: want entraGroup,oktaGroup"},
		{[]string{"--map-groups-prefix", " APP"}, "no leading or trailing spaces"},
	} {
		code, out, errOut := run(t, env, append([]string{"migrate", "--batch", "refused", "--users", usersFile}, c.args...)...)
		if code != cli.ExitUsage || !strings.Contains(errOut, c.say) {
			t.Errorf("%v: exit %d, want %d saying %q\n%s\n%s", c.args, code, cli.ExitUsage, c.say, out, errOut)
		}
	}

	code, out, errOut := run(t, env, "migrate", "--batch", "grouped", "--users", usersFile, "--wait", "--map-groups", groupsFile)
	if code != cli.ExitOK || !strings.Contains(out, "group mapping: 5 rule(s)") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	groupsOf := func() map[string][]string {
		m := map[string][]string{}
		for _, g := range o.Groups() {
			for _, l := range g.Members {
				m[strings.ToLower(l)] = append(m[strings.ToLower(l)], g.Name)
			}
		}
		return m
	}
	in := groupsOf()
	expected := map[string]string{}
	for _, u := range dir.Users {
		if slices.Contains(logins, u.UserPrincipalName) {
			expected[strings.ToLower(u.UserPrincipalName)] = want[deptOf[u.Groups[0]]]
			if got := in[strings.ToLower(u.UserPrincipalName)]; !slices.Equal(got, []string{want[deptOf[u.Groups[0]]]}) {
				t.Errorf("%s (%s) is in %v", u.UserPrincipalName, deptOf[u.Groups[0]], got)
			}
		}
	}

	code, out, errOut = run(t, env, "report", "--batch", "grouped")
	if code != cli.ExitOK {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != len(logins)+1 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		login := strings.ToLower(r[col["login"]])
		if r[col["okta_groups"]] != expected[login] || expected[login] == "" || r[col["groups_error"]] != "" {
			t.Errorf("report row of %s: okta_groups %q, groups_error %q; want %q", login, r[col["okta_groups"]],
				r[col["groups_error"]], expected[login])
		}
	}

	code, out, errOut = run(t, env, "rollback", "--batch", "grouped")
	if code != cli.ExitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errOut)
	}
	var names []string
	for _, g := range o.Groups() {
		names = append(names, g.Name)
		if g.Name == "Support Staff" && !slices.Equal(g.Members, []string{keeper}) {
			t.Errorf("the administrator's group holds %v after the rollback, want only %s", g.Members, keeper)
		}
	}
	if !slices.Equal(names, []string{"Support Staff"}) {
		t.Errorf("groups after the rollback: %v, want only the administrator's", names)
	}
	if !strings.Contains(out, "delete       group Dept Engineering") {
		t.Errorf("the rollback does not say it deleted the groups it created:\n%s", out)
	}
}
