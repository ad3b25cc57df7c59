// Package hook holds what the hook server's two features share, below them:
// the authentication of Okta's requests (a shared secret header and,
// optionally, Okta OAuth 2.0 access tokens), the bounded background queue
// with retries that delivers their work to Temporal, and a size-bounded LRU
// map. The features live in hook/pwimport (Okta's password import inline
// hook) and hook/eventhook (Okta's event hook); internal/hookserver mounts
// both.
package hook

import "context"

// Signaler delivers a signal to a workflow. Temporal's client.Client
// satisfies it.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}
