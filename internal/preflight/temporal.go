package preflight

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Temporal is what the Temporal checks read.
type Temporal interface {
	// Namespace describes a namespace; ErrNamespaceNotFound when there is
	// none of that name. Any other error means the server was not reached
	// (or refused the connection's credentials).
	Namespace(ctx context.Context, name string) (Namespace, error)
	// SearchAttributes returns the namespace's search attributes, custom
	// and system, by name, with their type ("Keyword", "Datetime", ...;
	// "" when the server does not say).
	SearchAttributes(ctx context.Context, namespace string) (map[string]string, error)
}

// ErrNamespaceNotFound is what Temporal.Namespace returns for a namespace
// that does not exist.
var ErrNamespaceNotFound = errors.New("namespace not found")

// Namespace is what the checks need of a namespace.
type Namespace struct {
	Name  string
	State string // Registered, Deprecated, Deleted
	// Retention is how long closed workflows stay in the namespace
	// (visibility included): status, report and rollback read them.
	Retention time.Duration
}

// Check names of the Temporal group.
const (
	NameTemporalReachable = "temporal: reachable"
	NameTemporalNamespace = "temporal: namespace"
	NameTemporalRetention = "temporal: retention"
	NameTemporalSearch    = "temporal: search attributes"
)

func checkTemporal(ctx context.Context, c *Config) []Check {
	if c.Temporal == nil {
		return []Check{skip(NameTemporalReachable, "no Temporal client")}
	}
	ns, err := c.Temporal.Namespace(ctx, c.Namespace)
	switch {
	case errors.Is(err, ErrNamespaceNotFound):
		return []Check{
			ok(NameTemporalReachable, "the frontend answered"),
			failed(NameTemporalNamespace, fmt.Sprintf("namespace %q does not exist", c.Namespace),
				fmt.Sprintf("create it: temporal operator namespace create --namespace %s --retention %s, or set TEMPORAL_NAMESPACE",
					c.Namespace, hoursFlag(c.neededRetention()))),
			skip(NameTemporalRetention, "no namespace"),
			skip(NameTemporalSearch, "no namespace"),
		}
	case err != nil:
		return []Check{
			failed(NameTemporalReachable, errText(err),
				"check TEMPORAL_ADDRESS (or --temporal-address), the TLS and API key settings of the Temporal profile, and that the server runs"),
			skip(NameTemporalNamespace, "Temporal not reached"),
			skip(NameTemporalRetention, "Temporal not reached"),
			skip(NameTemporalSearch, "Temporal not reached"),
		}
	}
	out := []Check{ok(NameTemporalReachable, "the frontend answered")}
	if ns.State != "" && !strings.EqualFold(ns.State, "Registered") {
		out = append(out, failed(NameTemporalNamespace, fmt.Sprintf("namespace %q is %s", c.Namespace, ns.State),
			"use a registered namespace (TEMPORAL_NAMESPACE)"))
	} else {
		out = append(out, ok(NameTemporalNamespace, fmt.Sprintf("namespace %q is registered", c.Namespace)))
	}
	out = append(out, c.retentionCheck(ns))
	out = append(out, c.searchAttributesCheck(ctx))
	return out
}

// neededRetention is the shortest retention the campaign needs: users who
// migrate on its first day close then, and status, report and rollback must
// still see them after the last user's deadline.
func (c *Config) neededRetention() time.Duration {
	return c.Deadline + c.DeadlineSpread + c.RetentionMargin
}

func (c *Config) retentionCheck(ns Namespace) Check {
	need := c.neededRetention()
	if ns.Retention <= 0 {
		return warn(NameTemporalRetention, "the namespace reports no retention period",
			fmt.Sprintf("set one of at least %s: temporal operator namespace update --namespace %s --retention %s",
				days(need), c.Namespace, hoursFlag(need)))
	}
	detail := fmt.Sprintf("retention %s; the campaign needs %s (deadline %s + %s spread of the users' deadlines + %s margin)",
		days(ns.Retention), days(need), days(c.Deadline), days(c.DeadlineSpread), days(c.RetentionMargin))
	if ns.Retention < need {
		return failed(NameTemporalRetention,
			detail+": users who migrate early would vanish from status, report and rollback before the campaign ends",
			fmt.Sprintf("temporal operator namespace update --namespace %s --retention %s (%s)", c.Namespace, hoursFlag(need), days(need)))
	}
	return ok(NameTemporalRetention, detail)
}

func (c *Config) searchAttributesCheck(ctx context.Context) Check {
	got, err := c.Temporal.SearchAttributes(ctx, c.Namespace)
	if err != nil {
		return failed(NameTemporalSearch, "listing the namespace's search attributes: "+errText(err),
			"grant this identity the operator API's read access, or check the namespace")
	}
	var missing, wrong, fixes []string
	for _, name := range slices.Sorted(maps.Keys(c.SearchAttributes)) {
		want := c.SearchAttributes[name]
		have, found := got[name]
		switch {
		case !found:
			missing = append(missing, name)
			fixes = append(fixes, fmt.Sprintf("temporal operator search-attribute create --namespace %s --name %s --type %s", c.Namespace, name, want))
		case have != "" && !strings.EqualFold(have, want): // "": a type the server did not say
			wrong = append(wrong, fmt.Sprintf("%s is %s, not %s", name, have, want))
		}
	}
	switch {
	case len(wrong) > 0:
		return failed(NameTemporalSearch, "wrong type: "+strings.Join(wrong, "; "),
			"remove them and create them with the right type (the workflows fail every task that sets them)")
	case len(missing) > 0:
		return failed(NameTemporalSearch, "missing: "+strings.Join(missing, ", ")+
			" (the workflows set them: their tasks fail until they exist)",
			"start the worker once with REGISTER_SEARCH_ATTRIBUTES=true and operator rights, or run: "+strings.Join(fixes, "; "))
	}
	return ok(NameTemporalSearch, fmt.Sprintf("all %d registered: %s", len(c.SearchAttributes),
		strings.Join(slices.Sorted(maps.Keys(c.SearchAttributes)), ", ")))
}

// days formats a duration as whole days ("60d"), or hours below two days.
func days(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%dh", int((d+time.Hour-1)/time.Hour))
	}
	return fmt.Sprintf("%dd", int((d+24*time.Hour-1)/(24*time.Hour)))
}

// hoursFlag formats a duration for a temporal CLI flag, in whole hours
// (Go's duration syntax, which every version of the CLI accepts).
func hoursFlag(d time.Duration) string {
	return fmt.Sprintf("%dh", int((d+time.Hour-1)/time.Hour))
}
