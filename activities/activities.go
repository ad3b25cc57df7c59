// Package activities holds the Temporal activities of the migration: thin,
// idempotent calls to Okta and Microsoft Graph through the adapters'
// small consumer-side interfaces (deps.go). Every activity takes and returns
// its own struct, so that fields can be added without breaking recorded
// histories, and every failure leaves
// through one table (errors.go) that decides retryability.
//
// Activities named *Okta* must run on workflows.OktaTaskQueue and those named
// *Entra* on workflows.GraphTaskQueue, so that the server's per-queue rate limit
// covers every call to each API
// (https://docs.temporal.io/design-patterns/downstream-rate-limiting).
package activities

import "sync"

// Activities is registered once per worker; its exported methods are the
// activities. Workflows refer to them through a nil *Activities.
type Activities struct {
	Okta  OktaUsers
	Entra EntraDirectory
	// Temporal and Namespace serve the batch's sweep (FindClosedUsers).
	Temporal  Visibility
	Namespace string

	// groupIDs caches Okta groups by name (groups.go).
	groupIDs sync.Map
	// groupLocks holds a *sync.Mutex per group name: one lookup-or-create
	// of a name at a time in this worker (groups.go).
	groupLocks sync.Map
}
