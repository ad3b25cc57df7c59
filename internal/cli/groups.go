package cli

import (
	"fmt"
	"strings"

	"entra2okta/internal/groupmap"
	"entra2okta/workflows"
)

// groupMapping builds a batch's group mapping from --map-groups,
// --map-groups-prefix and --sync-groups.
func groupMapping(file, prefix string, sync bool) (workflows.GroupMapping, error) {
	var m workflows.GroupMapping
	if file != "" {
		rules, err := groupmap.ParseFile(file)
		if err != nil {
			return m, fmt.Errorf("--map-groups: %w", err)
		}
		m.Rules = rules
	}
	if prefix != "" {
		if strings.TrimSpace(prefix) != prefix {
			return m, fmt.Errorf("--map-groups-prefix %q: no leading or trailing spaces", prefix)
		}
		m.Prefix = prefix
	}
	if sync && !m.Enabled() {
		return m, fmt.Errorf("--sync-groups needs --map-groups or --map-groups-prefix")
	}
	m.Sync = sync
	if err := m.Validate(); err != nil {
		return m, err
	}
	return m, nil
}

// describeGroups says in one line what a group mapping does.
func describeGroups(m workflows.GroupMapping) string {
	var parts []string
	if n := len(m.Rules); n > 0 {
		parts = append(parts, fmt.Sprintf("%d rule(s)", n))
	}
	if m.Prefix != "" {
		parts = append(parts, fmt.Sprintf("security groups named %q… to Okta groups of the same name", m.Prefix))
	}
	if m.Sync {
		parts = append(parts, "synced at each reconciliation")
	}
	return strings.Join(parts, "; ")
}
