// Command worker runs the entra2okta Temporal workers: the MigrateUser and
// MigrateBatch workflows, and the Okta and Microsoft Graph activities on their
// rate-limited task queues. Configuration comes from flags and the
// environment (worker -help); internal/worker holds the wiring.
package main

import (
	"entra2okta/internal/mainrun"
	"entra2okta/internal/worker"
)

func main() { mainrun.Exit(worker.Main) }
