// Command hookserver serves Okta's password import inline hook and, when
// configured, Okta's event hook: it checks the password a not-yet-migrated
// user typed at Okta against Entra ID, answers VERIFIED or UNVERIFIED, then
// signals the user's MigrateUser workflow with the outcome. Configuration
// comes from flags and the environment (hookserver -h; secrets may be files
// named by NAME_FILE); internal/hookserver holds the server and its wiring.
package main

import (
	"entra2okta/internal/hookserver"
	"entra2okta/internal/mainrun"
)

func main() { mainrun.Exit(hookserver.Main) }
