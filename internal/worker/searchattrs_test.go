package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"entra2okta/workflows"
)

// fakeOperator is the operator API of a server: its search attributes, and
// the errors its List and Add calls answer.
type fakeOperator struct {
	operatorservice.OperatorServiceClient
	attrs           map[string]enumspb.IndexedValueType
	listErr, addErr error
	added           map[string]enumspb.IndexedValueType
	addCalls        int
}

func (f *fakeOperator) ListSearchAttributes(_ context.Context, req *operatorservice.ListSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return &operatorservice.ListSearchAttributesResponse{CustomAttributes: maps.Clone(f.attrs),
		SystemAttributes: map[string]enumspb.IndexedValueType{"WorkflowId": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}, nil
}

func (f *fakeOperator) AddSearchAttributes(_ context.Context, req *operatorservice.AddSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	f.addCalls++
	if f.addErr != nil {
		return nil, f.addErr
	}
	f.added = maps.Clone(req.GetSearchAttributes())
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

// fakeWorkflowService answers DescribeNamespace with custom attribute
// aliases, as Temporal Cloud does (field name → attribute name).
type fakeWorkflowService struct {
	workflowservice.WorkflowServiceClient
	aliases       map[string]string
	err           error
	describeCalls int
}

func (f *fakeWorkflowService) DescribeNamespace(_ context.Context, req *workflowservice.DescribeNamespaceRequest, _ ...grpc.CallOption) (*workflowservice.DescribeNamespaceResponse, error) {
	f.describeCalls++
	if f.err != nil {
		return nil, f.err
	}
	return &workflowservice.DescribeNamespaceResponse{
		NamespaceInfo: &namespacepb.NamespaceInfo{Name: req.GetNamespace()},
		Config:        &namespacepb.NamespaceConfig{CustomSearchAttributeAliases: maps.Clone(f.aliases)},
	}, nil
}

// wanted is what the workflows need.
func wanted() map[string]enumspb.IndexedValueType {
	want := map[string]enumspb.IndexedValueType{}
	for key := range workflows.SearchAttributes().GetUntypedValues() {
		want[key.GetName()] = key.GetValueType()
	}
	return want
}

// cloudAliases maps each wanted attribute but those in except to a Cloud
// field of its type (Keyword01, Datetime01, ...).
func cloudAliases(except ...string) map[string]string {
	out := map[string]string{}
	n := map[enumspb.IndexedValueType]int{}
	for name, typ := range wanted() {
		if slices.Contains(except, name) {
			continue
		}
		n[typ]++
		out[fmt.Sprintf("%s%02d", typ, n[typ])] = name
	}
	return out
}

func TestEnsureSearchAttributes(t *testing.T) {
	want := wanted()
	require.Contains(t, want, "MigrationState")
	require.Contains(t, want, "MigrationDeadline")
	allBut := func(drop ...string) map[string]enumspb.IndexedValueType {
		m := maps.Clone(want)
		for _, d := range drop {
			delete(m, d)
		}
		return m
	}
	denied := serviceerror.NewPermissionDenied("Request unauthorized.", "")
	const ns = "migration.a1b2c"

	t.Run("self-hosted: the missing ones are added", func(t *testing.T) {
		ops, wfs := &fakeOperator{attrs: allBut("MigrationState", "MigrationDeadline")}, &fakeWorkflowService{}
		require.NoError(t, ensureSearchAttributes(t.Context(), ops, wfs, "default", false))
		assert.Equal(t, map[string]enumspb.IndexedValueType{"MigrationState": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"MigrationDeadline": enumspb.INDEXED_VALUE_TYPE_DATETIME}, ops.added)
		assert.Zero(t, wfs.describeCalls)
	})
	t.Run("all present: nothing to add", func(t *testing.T) {
		ops := &fakeOperator{attrs: allBut(), addErr: errors.New("must not be called")}
		require.NoError(t, ensureSearchAttributes(t.Context(), ops, &fakeWorkflowService{}, ns, true))
		assert.Zero(t, ops.addCalls)
	})
	t.Run("a type mismatch fails", func(t *testing.T) {
		attrs := allBut()
		attrs["MigrationDeadline"] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		err := ensureSearchAttributes(t.Context(), &fakeOperator{attrs: attrs}, &fakeWorkflowService{}, "default", false)
		require.ErrorContains(t, err, "MigrationDeadline")
		require.ErrorContains(t, err, "Datetime")
	})
	t.Run("Cloud address: missing ones are not added but listed with tcld", func(t *testing.T) {
		ops := &fakeOperator{attrs: allBut("MigrationState", "MigrationDeadline")}
		err := ensureSearchAttributes(t.Context(), ops, &fakeWorkflowService{}, ns, true)
		var missing *MissingSearchAttributesError
		require.ErrorAs(t, err, &missing)
		assert.Zero(t, ops.addCalls, "the operator API is not asked to create them on Cloud")
		assert.True(t, missing.Cloud)
		assert.Equal(t, "tcld namespace search-attributes add --namespace migration.a1b2c"+
			" --search-attribute MigrationDeadline=Datetime --search-attribute MigrationState=Keyword", missing.TcldCommand())
		msg := err.Error()
		assert.Contains(t, msg, missing.TcldCommand())
		assert.Contains(t, msg, "https://cloud.temporal.io/namespaces/migration.a1b2c")
		assert.Contains(t, msg, "Custom Search Attributes")
		assert.NotContains(t, msg, "MigrationBatch=", "only the missing ones")
	})
	t.Run("Cloud, the operator API refused: DescribeNamespace shows them all", func(t *testing.T) {
		ops := &fakeOperator{listErr: denied, addErr: errors.New("must not be called")}
		wfs := &fakeWorkflowService{aliases: cloudAliases()}
		require.NoError(t, ensureSearchAttributes(t.Context(), ops, wfs, ns, true))
		assert.Equal(t, 1, wfs.describeCalls)
		assert.Zero(t, ops.addCalls)
	})
	t.Run("Cloud, the operator API refused: DescribeNamespace lacks some", func(t *testing.T) {
		ops := &fakeOperator{listErr: status.Error(codes.Unimplemented, "not offered")}
		wfs := &fakeWorkflowService{aliases: cloudAliases("MigrationDeadline")}
		err := ensureSearchAttributes(t.Context(), ops, wfs, ns, true)
		var missing *MissingSearchAttributesError
		require.ErrorAs(t, err, &missing)
		assert.Equal(t, map[string]enumspb.IndexedValueType{"MigrationDeadline": enumspb.INDEXED_VALUE_TYPE_DATETIME}, missing.Missing)
		assert.Contains(t, err.Error(), "tcld namespace search-attributes add --namespace migration.a1b2c --search-attribute MigrationDeadline=Datetime\n")
	})
	t.Run("not a Cloud address, Add refused: the commands instead of the raw error", func(t *testing.T) {
		ops := &fakeOperator{attrs: allBut("MigrationState"), addErr: denied}
		err := ensureSearchAttributes(t.Context(), ops, &fakeWorkflowService{}, "prod", false)
		var missing *MissingSearchAttributesError
		require.ErrorAs(t, err, &missing)
		assert.Equal(t, 1, ops.addCalls)
		assert.False(t, missing.Cloud)
		assert.ErrorIs(t, missing.Cause, denied)
		msg := err.Error()
		assert.Contains(t, msg, "Request unauthorized.")
		assert.Contains(t, msg, "tcld namespace search-attributes add --namespace prod --search-attribute MigrationState=Keyword")
		assert.Contains(t, msg, "temporal operator search-attribute create --namespace prod --name MigrationState --type Keyword")
	})
	t.Run("another List failure is returned as it is", func(t *testing.T) {
		wfs := &fakeWorkflowService{}
		err := ensureSearchAttributes(t.Context(), &fakeOperator{listErr: serviceerror.NewUnavailable("down")}, wfs, ns, true)
		require.ErrorContains(t, err, "down")
		var missing *MissingSearchAttributesError
		assert.False(t, errors.As(err, &missing))
		assert.Zero(t, wfs.describeCalls)
	})
	t.Run("refused, and DescribeNamespace fails", func(t *testing.T) {
		wfs := &fakeWorkflowService{err: serviceerror.NewNamespaceNotFound(ns)}
		err := ensureSearchAttributes(t.Context(), &fakeOperator{listErr: denied}, wfs, ns, true)
		require.ErrorContains(t, err, "DescribeNamespace")
	})
	t.Run("an alias on a field of unknown type counts as present", func(t *testing.T) {
		aliases := cloudAliases("MigrationState")
		aliases["CustomField7"] = "MigrationState"
		require.NoError(t, ensureSearchAttributes(t.Context(), &fakeOperator{listErr: denied}, &fakeWorkflowService{aliases: aliases}, ns, true))
	})
}

func TestFieldType(t *testing.T) {
	for field, want := range map[string]enumspb.IndexedValueType{
		"Keyword01":     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"KeywordList02": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		"Datetime01":    enumspb.INDEXED_VALUE_TYPE_DATETIME,
		"Int03":         enumspb.INDEXED_VALUE_TYPE_INT,
		"Double01":      enumspb.INDEXED_VALUE_TYPE_DOUBLE,
		"Bool01":        enumspb.INDEXED_VALUE_TYPE_BOOL,
		"Text01":        enumspb.INDEXED_VALUE_TYPE_TEXT,
		"Keyword":       enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED,
		"KeywordX1":     enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED,
		"CustomField7":  enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED,
	} {
		assert.Equal(t, want, fieldType(field), field)
	}
}

func TestRefused(t *testing.T) {
	assert.True(t, refused(serviceerror.NewPermissionDenied("no", "")))
	assert.True(t, refused(status.Error(codes.Unimplemented, "no")))
	assert.True(t, refused(errors.Join(errors.New("wrapped"), serviceerror.NewPermissionDenied("no", ""))))
	assert.False(t, refused(serviceerror.NewUnavailable("down")))
	assert.False(t, refused(errors.New("plain")))
	assert.False(t, refused(nil))
}
