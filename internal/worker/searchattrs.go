package worker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"

	"entra2okta/workflows"
)

// EnsureSearchAttributes registers on the namespace the workflows' search
// attributes that are missing (workflows.SearchAttributes), and fails when one
// exists with another type. Workflows upserting an unregistered attribute
// would fail every workflow task, so the worker checks before it polls.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	return ensureSearchAttributes(ctx, c.OperatorService(), c.WorkflowService(), namespace, false)
}

// ensureSearchAttributes is EnsureSearchAttributes for a server that may be
// Temporal Cloud. There custom search attributes are created with tcld or the
// Web UI, not the operator API
// (https://docs.temporal.io/self-hosted-guide/visibility/custom-search-attributes):
// on a Cloud address it does not try, and wherever the operator API refuses
// (PermissionDenied, Unimplemented) it reads what exists from
// DescribeNamespace instead. Either way it fails only when attributes are
// really missing, with a *MissingSearchAttributesError that says how to add
// them.
func ensureSearchAttributes(ctx context.Context, ops operatorservice.OperatorServiceClient, wfs workflowservice.WorkflowServiceClient,
	namespace string, cloud bool) error {
	want := map[string]enumspb.IndexedValueType{}
	for key := range workflows.SearchAttributes().GetUntypedValues() {
		want[key.GetName()] = key.GetValueType()
	}
	have, err := existingSearchAttributes(ctx, ops, wfs, namespace)
	if err != nil {
		return err
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		typ := want[name]
		got, ok := have[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ && got != enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED:
			return fmt.Errorf("search attribute %s of namespace %q has type %s, the workflows need %s", name, namespace, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if cloud {
		return &MissingSearchAttributesError{Namespace: namespace, Missing: missing, Cloud: true}
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing})
	if refused(err) {
		return &MissingSearchAttributesError{Namespace: namespace, Missing: missing, Cause: err}
	}
	if err != nil {
		return fmt.Errorf("register search attributes %v on namespace %q: %w", slices.Sorted(maps.Keys(missing)), namespace, err)
	}
	return nil
}

// existingSearchAttributes lists the namespace's search attributes and their
// types: from the operator API, or, where it refuses, from the aliases
// DescribeNamespace reports (Temporal Cloud maps each custom attribute to a
// typed field such as Keyword01 or Datetime01; an attribute whose field
// names no known type counts as present with its type unchecked).
func existingSearchAttributes(ctx context.Context, ops operatorservice.OperatorServiceClient, wfs workflowservice.WorkflowServiceClient,
	namespace string) (map[string]enumspb.IndexedValueType, error) {
	resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err == nil {
		have := maps.Clone(resp.GetSystemAttributes())
		if have == nil {
			have = map[string]enumspb.IndexedValueType{}
		}
		maps.Copy(have, resp.GetCustomAttributes())
		return have, nil
	}
	if !refused(err) {
		return nil, fmt.Errorf("list the search attributes of namespace %q: %w", namespace, err)
	}
	d, derr := wfs.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if derr != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %q: the operator API refused (%v), and DescribeNamespace failed: %w",
			namespace, err, derr) //nolint:errorlint // the cause is DescribeNamespace's error
	}
	have := map[string]enumspb.IndexedValueType{}
	for field, alias := range d.GetConfig().GetCustomSearchAttributeAliases() {
		have[alias] = fieldType(field)
	}
	return have, nil
}

// fieldType is the type of a visibility field named like Keyword01 or
// KeywordList02; UNSPECIFIED when the name says none.
func fieldType(field string) enumspb.IndexedValueType {
	// Longest prefixes first: KeywordList before Keyword.
	for _, t := range []enumspb.IndexedValueType{enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST, enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		enumspb.INDEXED_VALUE_TYPE_DATETIME, enumspb.INDEXED_VALUE_TYPE_DOUBLE, enumspb.INDEXED_VALUE_TYPE_TEXT,
		enumspb.INDEXED_VALUE_TYPE_BOOL, enumspb.INDEXED_VALUE_TYPE_INT} {
		if rest, ok := strings.CutPrefix(field, t.String()); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return t
		}
	}
	return enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED
}

// refused reports whether the server declined an operator call: not allowed
// for this caller (PermissionDenied) or not offered (Unimplemented), as on
// Temporal Cloud.
func refused(err error) bool {
	if err == nil {
		return false
	}
	// ToStatus finds a service error wrapped in err, or the gRPC status.
	switch serviceerror.ToStatus(err).Code() {
	case codes.PermissionDenied, codes.Unimplemented:
		return true
	}
	return false
}

// MissingSearchAttributesError reports search attributes the namespace lacks
// and this worker cannot create. Its message lists them with the commands
// that create them.
type MissingSearchAttributesError struct {
	Namespace string
	Missing   map[string]enumspb.IndexedValueType
	// Cloud: the address is Temporal Cloud's, where the operator API does not
	// create search attributes, so it was not tried.
	Cloud bool
	// Cause is the operator API's refusal, when it was tried.
	Cause error
}

func (e *MissingSearchAttributesError) names() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(e.Missing)) {
		out = append(out, name+"="+e.Missing[name].String())
	}
	return out
}

// TcldCommand is the tcld command that adds the missing attributes to a
// Temporal Cloud namespace
// (https://docs.temporal.io/cloud/tcld/namespace#search-attributes).
func (e *MissingSearchAttributesError) TcldCommand() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tcld namespace search-attributes add --namespace %s", e.Namespace)
	for _, sa := range e.names() {
		fmt.Fprintf(&b, " --search-attribute %s", sa)
	}
	return b.String()
}

// WebUIPath is where the Temporal Cloud Web UI adds them: the namespace's
// page, Edit, Custom Search Attributes.
func (e *MissingSearchAttributesError) WebUIPath() string {
	return "https://cloud.temporal.io/namespaces/" + e.Namespace + " → Edit → Custom Search Attributes → add each name with its type"
}

// TemporalCLICommands are the commands that add them on a self-hosted
// server (https://docs.temporal.io/cli/operator).
func (e *MissingSearchAttributesError) TemporalCLICommands() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(e.Missing)) {
		out = append(out, fmt.Sprintf("temporal operator search-attribute create --namespace %s --name %s --type %s",
			e.Namespace, name, e.Missing[name]))
	}
	return out
}

func (e *MissingSearchAttributesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "namespace %q lacks the search attributes %s", e.Namespace, strings.Join(e.names(), ", "))
	if e.Cloud {
		b.WriteString(", and on Temporal Cloud the worker cannot create them")
	} else {
		fmt.Fprintf(&b, ", and the server refused to let the worker create them (%v)", e.Cause)
	}
	b.WriteString(". Add them, then start the worker again:\n  on Temporal Cloud: " + e.TcldCommand())
	b.WriteString("\n  or in the Temporal Cloud Web UI: " + e.WebUIPath())
	if !e.Cloud {
		b.WriteString("\n  on a self-hosted server, as an operator:")
		for _, c := range e.TemporalCLICommands() {
			b.WriteString("\n    " + c)
		}
	}
	return b.String()
}
