package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// NameHookServer is the hook server check's name.
const NameHookServer = "hook server: ready"

// checkHookServer reads the hook server's GET /readyz on its admin listener
// (HOOK_ADMIN_ADDR): 200 {"status":"ok","version":...} when it reaches
// Temporal, 503 otherwise.
func checkHookServer(ctx context.Context, c *Config) []Check {
	if c.HookAdminURL == "" {
		return []Check{skip(NameHookServer, "no --hook-admin-url (the hook server's HOOK_ADMIN_ADDR, as http://host:port)")}
	}
	url := strings.TrimRight(c.HookAdminURL, "/") + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return []Check{failed(NameHookServer, "bad --hook-admin-url: "+errText(err), "give it as http://host:port")}
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return []Check{failed(NameHookServer, "GET "+url+": "+errText(err),
			"check that the hook server runs and that its admin listener (HOOK_ADMIN_ADDR) is reachable from here")}
	}
	defer resp.Body.Close()
	var body struct {
		Status   string `json:"status"`
		Version  string `json:"version"`
		Temporal string `json:"temporal"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(raw, &body)
	version := body.Version
	if version == "" {
		version = "unknown (a build without a version in /readyz)"
	}
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		return []Check{failed(NameHookServer, fmt.Sprintf("not ready (503, temporal %s), version %s", body.Temporal, version),
			"the hook server cannot reach Temporal: check its TEMPORAL_ADDRESS and namespace; until then it answers every sign-in undecided")}
	case resp.StatusCode != http.StatusOK:
		return []Check{failed(NameHookServer, fmt.Sprintf("GET %s answered %d", url, resp.StatusCode),
			"point --hook-admin-url at the hook server's admin listener (HOOK_ADMIN_ADDR), not its public one")}
	}
	detail := "ready, version " + version
	if c.Version != "" && body.Version != "" && body.Version != c.Version {
		return []Check{warn(NameHookServer, detail+"; this starter is "+c.Version,
			"deploy the same release of the hook server, worker and starter")}
	}
	return []Check{ok(NameHookServer, detail)}
}
