package control

import (
	"net/url"
	"strings"

	"entra2okta/workflows"
)

// DefaultWebUIURL is the Temporal Web UI of a local dev server
// (temporal server start-dev serves it on port 8233).
const DefaultWebUIURL = "http://localhost:8233"

// WebUIWorkflowsURL is the Temporal Web UI's list of the workflows of a
// namespace that match a visibility query: the UI reads the list filter from
// the query parameter "query" of /namespaces/{namespace}/workflows
// (routeForWorkflowsWithQuery in
// https://github.com/temporalio/ui/blob/main/src/lib/utilities/route-for.ts).
func WebUIWorkflowsURL(base, namespace, query string) string {
	u := strings.TrimRight(base, "/") + "/namespaces/" + url.PathEscape(namespace) + "/workflows"
	if query == "" {
		return u
	}
	return u + "?" + url.Values{"query": {query}}.Encode()
}

// WebUIUsersURL is the Web UI's list of the users of a batch ("" batch: of
// every batch) in a state ("" state: in any state), by the search
// attributes MigrateUser keeps (MigrationBatch, MigrationState).
func WebUIUsersURL(base, namespace, batch string, state workflows.State) string {
	var extra []string
	if state != "" {
		extra = append(extra, workflows.MigrationStateKey.GetName()+" = "+quote(string(state)))
	}
	return WebUIWorkflowsURL(base, namespace, userQuery(batch, extra...))
}
