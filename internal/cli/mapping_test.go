package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/cli"
	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/workflows"
)

// TestMigrateAttributeMappings runs starter migrate with attribute mappings
// on a real Temporal dev server, an in-process worker and the emulators: a
// batch mapping officeLocation and an on-premises extension attribute lands
// their values in Okta beside the default mappings, and batches whose
// mappings are wrong (unknown names, a type that does not fit, a malformed
// file) are refused before anything starts.
func TestMigrateAttributeMappings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// demodata.Seed defines the custom attribute officeLocation in Okta.
	st := startStack(ctx, t, devstack.Options{Users: 30, Okta: fakeokta.Options{APITokens: []string{"tok"}},
		Worker: devstack.InProcess, WorkerConfig: workerAt100})
	o, e, dir := st.Okta(), st.Entra(), st.Directory()
	inOkta := map[string]bool{}
	for _, l := range append(append([]string{}, dir.Staged...), dir.AlreadyInOkta...) {
		inOkta[l] = true
	}
	office := map[string]string{} // login -> its Entra officeLocation
	var logins []string
	for i, u := range dir.Users {
		if u.Guest || u.Disabled || u.Federated || u.State != fakeentra.StateNormal || inOkta[u.UserPrincipalName] {
			continue
		}
		office[u.UserPrincipalName] = []string{"Redmond", "Dublin", "Singapore"}[i%3] // as SeedDemo sets it
		logins = append(logins, u.UserPrincipalName)
		if len(logins) == 3 {
			break
		}
	}
	if len(logins) != 3 {
		t.Fatalf("seed: %v", logins)
	}
	// The first two hold extensionAttribute3; the third has none, so its Okta
	// user gets no costCenter.
	for i, l := range logins[:2] {
		if err := e.SetExtensionAttribute(l, 3, fmt.Sprintf("CC-%d", 40+i)); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	usersFile := filepath.Join(tmp, "users.csv")
	if err := os.WriteFile(usersFile, []byte("upn\n"+strings.Join(logins, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"TEMPORAL_ADDRESS": st.TemporalAddress(), "OKTA_ORG_URL": st.OktaURL(), "OKTA_API_TOKEN": "tok"}
	refused := func(batch string, want []string, args ...string) {
		t.Helper()
		code, out, errOut := run(t, env, append([]string{"migrate", "--batch", batch, "--users", usersFile}, args...)...)
		if code != cli.ExitUsage {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", batch, code, cli.ExitUsage, out, errOut)
		}
		for _, w := range want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: the error does not say %q:\n%s", batch, w, errOut)
			}
		}
		if _, err := st.Client().DescribeWorkflowExecution(ctx, workflows.BatchWorkflowID(batch), ""); err == nil {
			t.Errorf("%s: a refused batch was started", batch)
		}
	}

	// Wrong mappings: every problem at once, each with the closest names.
	refused("bad-names", []string{
		"--map officeLocaton=officeLocation: officeLocaton is not a Graph user property; did you mean officeLocation?",
		"--map department=costCentre: costCentre is not in the Okta user schema (add it in the Profile Editor first); did you mean costCenter?",
		"--map otherMails=officeLocation: otherMails→officeLocation: the Okta attribute is of type string; Graph's otherMails is a String collection",
	}, "--map", "officeLocaton=officeLocation", "--map", "department=costCentre", "--map", "otherMails=officeLocation")
	badFile := filepath.Join(tmp, "bad.yaml")
	if err := os.WriteFile(badFile, []byte("officeLocation: officeLocation\ndepartment: [department, division]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused("bad-file", []string{badFile + ":2: want graphAttr: oktaAttr"}, "--map-file", badFile)
	refused("no-okta-credentials", []string{"OKTA_ORG_URL"}, "--map", "officeLocation=officeLocation", "--okta-org-url", "")
	for _, l := range logins {
		if _, ok := o.User(l); ok {
			t.Fatalf("%s was created by a refused batch", l)
		}
	}

	code, out, errOut := run(t, env, "migrate", "--batch", "mapped", "--users", usersFile, "--wait",
		"--map", "officeLocation=officeLocation", "--map", "onPremisesExtensionAttributes.extensionAttribute3=costCenter")
	if code != cli.ExitOK || !strings.Contains(out, "every user is imported") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "attribute mappings (11): givenName→firstName,") ||
		!strings.Contains(out, "officeLocation→officeLocation, onPremisesExtensionAttributes.extensionAttribute3→costCenter") {
		t.Errorf("the mappings in force are not shown:\n%s", out)
	}
	for i, l := range logins {
		u, ok := o.User(l)
		if !ok {
			t.Fatalf("%s not in Okta", l)
		}
		if u.Profile["officeLocation"] != office[l] || u.Profile["department"] == nil || u.Profile["firstName"] == nil {
			t.Errorf("%s: profile %v, want officeLocation %s and the default attributes", l, u.Profile, office[l])
		}
		want := any(fmt.Sprintf("CC-%d", 40+i))
		if i == 2 {
			want = nil // no extensionAttribute3 in Entra: no costCenter in Okta
		}
		if u.Profile["costCenter"] != want {
			t.Errorf("%s: costCenter %v, want %v", l, u.Profile["costCenter"], want)
		}
	}
}
