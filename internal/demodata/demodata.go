// Package demodata seeds the emulators with the demo's directory: a realistic
// Entra ID tenant (fakeentra.SeedDemo) and the Okta org state a migration
// meets in practice — users the Office 365 app already imported STAGED, and a
// few users who already hold an Okta password. The demo (starter demo) and
// the docker-compose emulator (internal/cmd/fakeidp) share it.
package demodata

import (
	"fmt"
	"strings"

	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
)

// Directory is what Seed created.
type Directory struct {
	fakeentra.DemoDirectory
	// Staged are logins imported STAGED into Okta (the Office 365 app's path):
	// the migration adopts them.
	Staged []string
	// AlreadyInOkta are logins that already hold an Okta password: the
	// migration must leave them alone (AlreadyMigrated).
	AlreadyInOkta []string
}

// OktaCustomAttributes are custom profile attributes Seed defines in the
// emulated Okta schema, as an administrator does in the Profile Editor, so
// that the opt-in officeLocation mapping can be tried against the demo.
var OktaCustomAttributes = []string{"officeLocation"}

// Seed seeds n users into e and their Okta side into o.
func Seed(o *fakeokta.Server, e *fakeentra.Server, n int) (Directory, error) {
	d := Directory{}
	var err error
	if d.DemoDirectory, err = e.SeedDemo(n); err != nil {
		return d, fmt.Errorf("seed entra: %w", err)
	}
	for _, a := range OktaCustomAttributes {
		o.AddProfileAttribute(a)
	}
	for i, u := range d.Users {
		if u.Guest || u.Disabled || u.Federated || u.State != fakeentra.StateNormal {
			continue
		}
		local, _, _ := strings.Cut(u.UserPrincipalName, "@")
		first, last, _ := strings.Cut(local, ".")
		profile := map[string]any{"login": u.UserPrincipalName, "email": u.UserPrincipalName, "firstName": first, "lastName": last}
		switch {
		case i%7 == 3: // imported by the Office 365 app, not activated
			if _, err := o.SeedUser(fakeokta.SeedUser{Profile: profile, Status: fakeokta.StatusStaged}); err != nil {
				return d, fmt.Errorf("seed okta staged %s: %w", u.UserPrincipalName, err)
			}
			d.Staged = append(d.Staged, u.UserPrincipalName)
		case i%53 == 5: // already has an Okta password of its own
			if _, err := o.SeedUser(fakeokta.SeedUser{Profile: profile, Status: fakeokta.StatusActive,
				Password: "Okta-own-" + u.Password}); err != nil {
				return d, fmt.Errorf("seed okta active %s: %w", u.UserPrincipalName, err)
			}
			d.AlreadyInOkta = append(d.AlreadyInOkta, u.UserPrincipalName)
		}
	}
	return d, nil
}
