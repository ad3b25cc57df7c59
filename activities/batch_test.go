package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/logincsv"
	"entra2okta/internal/okta"
)

// TestListEntraUsers_CSVPages: a CSV source is read a page at a time from
// its cursor, each login looked up in Graph (unknown ones skipped), and a
// file changed since the batch started is refused, not migrated.
func TestListEntraUsers_CSVPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	var b strings.Builder
	b.WriteString("upn\n")
	for _, n := range []string{"amy", "ben", "ghost", "cay", "dee"} {
		b.WriteString(n + "@contoso.com\n")
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	sha, rows, err := logincsv.Describe(path)
	require.NoError(t, err)
	var lookups atomic.Int32
	f := &fakeEntra{UserFn: func(_ context.Context, upn string, _ []string) (entra.User, error) {
		lookups.Add(1)
		if strings.HasPrefix(upn, "ghost") {
			return entra.User{}, &apierr.Error{Kind: apierr.NotFound, Service: "graph", Op: "get user"}
		}
		return entra.User{ID: "id-" + upn, UserPrincipalName: upn}, nil
	}}
	a := &activities.Activities{Entra: f}
	src := entra.Source{CSV: &entra.CSVFile{Path: path, SHA256: sha, Rows: rows}}
	var got []string
	cursor, read := "", 0
	for {
		res, err := execute[activities.ListEntraUsersResult](t, a, "ListEntraUsers",
			activities.ListEntraUsersInput{Source: src, Cursor: cursor, PageSize: 2})
		require.NoError(t, err)
		for _, u := range res.Users {
			got = append(got, u.UserPrincipalName)
		}
		read += res.Read
		if cursor = res.Next; cursor == "" {
			break
		}
	}
	assert.Equal(t, []string{"amy@contoso.com", "ben@contoso.com", "cay@contoso.com", "dee@contoso.com"}, got)
	assert.Equal(t, 5, read)
	assert.Equal(t, int32(5), lookups.Load())

	require.NoError(t, os.WriteFile(path, []byte("upn\nmallory@contoso.com\n"), 0o600))
	_, err = execute[activities.ListEntraUsersResult](t, a, "ListEntraUsers", activities.ListEntraUsersInput{Source: src, PageSize: 2})
	requireAppError(t, err, activities.ErrTypeInvalid, true)
}

// fakeVisibility answers ListWorkflow with fixed pages.
type fakeVisibility struct {
	queries []string
	pages   [][]*workflowpb.WorkflowExecutionInfo
}

func (f *fakeVisibility) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, req.GetQuery())
	i := len(req.GetNextPageToken())
	resp := &workflowservice.ListWorkflowExecutionsResponse{Executions: f.pages[i]}
	if i+1 < len(f.pages) {
		resp.NextPageToken = make([]byte, i+1)
	}
	return resp, nil
}

func TestFindClosedUsers(t *testing.T) {
	seq := func(n int) *commonpb.Memo {
		p, err := converter.GetDefaultDataConverter().ToPayload(n)
		require.NoError(t, err)
		return &commonpb.Memo{Fields: map[string]*commonpb.Payload{activities.BatchSeqMemo: p}}
	}
	closed := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	exec := func(id string, n int, st enumspb.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
		return &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id},
			Status: st, Memo: seq(n), CloseTime: timestamppb.New(closed)}
	}
	v := &fakeVisibility{pages: [][]*workflowpb.WorkflowExecutionInfo{
		{exec("migrate-user/a", 4, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)},
		{exec("migrate-user/b", 9, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)},
	}}
	a := &activities.Activities{Temporal: v, Namespace: "default"}
	res, err := execute[activities.FindClosedUsersResult](t, a, "FindClosedUsers",
		activities.FindClosedUsersInput{BatchRun: "run-1", ClosedSince: closed.Add(-time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, activities.FindClosedUsersResult{Terminated: []int{4}, TimedOut: []int{9}}, res)
	require.Len(t, v.queries, 2)
	assert.Equal(t, "MigrationBatchRun = 'run-1' AND ExecutionStatus IN ('Terminated','TimedOut','Failed','Canceled') AND CloseTime >= '2026-12-01T09:00:00Z'", v.queries[0])

	_, err = execute[activities.FindClosedUsersResult](t, a, "FindClosedUsers", activities.FindClosedUsersInput{BatchRun: "x' OR 'a'='a"})
	requireAppError(t, err, activities.ErrTypeInvalid, true)
}

// TestApplyOktaDeadlinePolicy_Recheck: with Recheck the policy is not applied
// to a user whose password Okta holds by then, and "" only checks.
func TestApplyOktaDeadlinePolicy_Recheck(t *testing.T) {
	provider := okta.ProviderImport
	applied := 0
	f := &fakeOkta{
		GetUserFn: func(context.Context, string) (okta.User, error) {
			return okta.User{ID: "00u1", ProviderType: provider, HasPassword: provider == okta.ProviderOkta}, nil
		},
		ResetPasswordFn: func(context.Context, string, bool) error { applied++; return nil },
	}
	a := &activities.Activities{Okta: f}
	in := activities.ApplyOktaDeadlinePolicyInput{UserID: "00u1", Action: activities.ActionResetPassword, Recheck: true}
	res, err := execute[activities.ApplyOktaDeadlinePolicyResult](t, a, "ApplyOktaDeadlinePolicy", in)
	require.NoError(t, err)
	assert.False(t, res.PasswordStored)
	assert.Equal(t, 1, applied)

	provider = okta.ProviderOkta // the user signed in meanwhile
	res, err = execute[activities.ApplyOktaDeadlinePolicyResult](t, a, "ApplyOktaDeadlinePolicy", in)
	require.NoError(t, err)
	assert.True(t, res.PasswordStored)
	assert.Equal(t, 1, applied, "not applied to a user who signed in")

	provider = okta.ProviderImport
	res, err = execute[activities.ApplyOktaDeadlinePolicyResult](t, a, "ApplyOktaDeadlinePolicy",
		activities.ApplyOktaDeadlinePolicyInput{UserID: "00u1", Recheck: true})
	require.NoError(t, err)
	assert.False(t, res.PasswordStored)
	assert.Equal(t, 1, applied, "policy none only checks")
}
