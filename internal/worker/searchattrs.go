package worker

import (
	"context"
	"fmt"
	"maps"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/workflows"
)

// EnsureSearchAttributes registers on the namespace the workflows' search
// attributes that are missing (workflows.SearchAttributes), and fails when one
// exists with another type. Workflows upserting an unregistered attribute
// would fail every workflow task, so the worker checks before it polls.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	want := map[string]enumspb.IndexedValueType{}
	for key := range workflows.SearchAttributes().GetUntypedValues() {
		want[key.GetName()] = key.GetValueType()
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list the search attributes of namespace %q: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		typ := want[name]
		got, ok := resp.GetCustomAttributes()[name]
		if !ok {
			got, ok = resp.GetSystemAttributes()[name]
		}
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return fmt.Errorf("search attribute %s of namespace %q has type %s, the workflows need %s", name, namespace, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("register search attributes %v on namespace %q (grant the worker the operator API, or create them with "+
			"`temporal operator search-attribute create --namespace %s --name <name> --type <type>`): %w",
			slices.Sorted(maps.Keys(missing)), namespace, namespace, err)
	}
	return nil
}
