package workflows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// TestMigrateUser_ReleaseUpsertsOnlyWhatChanged: a batch's child starts
// with its state (Importing), batch, deadline and Entra object ID set, so on
// the user-release-4 path it upserts no search attribute until its state
// changes, then only the state; and it writes the rollback memo in the same
// command as its first report memo.
func TestMigrateUser_ReleaseUpsertsOnlyWhatChanged(t *testing.T) {
	alice := activitiestest.Member("alice")
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(alice)
	env := newEnv(t, o, e)
	deadline := start.Add(30 * 24 * time.Hour)
	require.NoError(t, env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		workflows.MigrationStateKey.ValueSet(string(workflows.StateImporting)),
		workflows.MigrationBatchKey.ValueSet("b1"),
		workflows.MigrationDeadlineKey.ValueSet(deadline),
		workflows.MigrationBatchRunKey.ValueSet("run-1"),
		workflows.MigrationEntraIDKey.ValueSet(alice.ID))))
	var mu sync.Mutex
	var attrs, memos [][]string
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		var names []string
		for k := range args.Get(0).(temporal.SearchAttributes).GetUntypedValues() {
			names = append(names, k.GetName())
		}
		mu.Lock()
		attrs = append(attrs, names)
		mu.Unlock()
	}).Return(nil)
	env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		var keys []string
		for k := range args.Get(0).(map[string]any) {
			keys = append(keys, k)
		}
		mu.Lock()
		memos = append(memos, keys)
		mu.Unlock()
	}).Return(nil)
	env.RegisterDelayedCallback(func() {
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, attrs, 1, "one upsert before the sign-in: %v", attrs)
		assert.Equal(t, []string{workflows.MigrationStateKey.GetName()}, attrs[0])
		require.Len(t, memos, 1, "one memo upsert before the sign-in: %v", memos)
		assert.ElementsMatch(t, []string{workflows.MemoReport, workflows.MemoRollback}, memos[0])
		env.CancelWorkflow()
	}, time.Hour)
	l := alice
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: alice.UserPrincipalName, Batch: "b1",
		Deadline: deadline, Listed: &l, BatchRun: "run-1", DomainsKnown: true})
	require.True(t, env.IsWorkflowCompleted())
}
