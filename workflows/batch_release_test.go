package workflows_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/entra"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// TestMigrateBatch_WatchesItsChildrenWithoutACoroutineEach: on batch-release-2
// a run follows its children from the main loop. Before it, a run kept one
// coroutine per child it started, for as long as the child ran (weeks), and
// the SDK resumes every coroutine at each pass of each workflow task and of
// each replay. The test starts n children that stay open and counts the
// goroutines when the last one starts: the earlier path holds one more per
// child. Both paths count the children's ends the same way.
func TestMigrateBatch_WatchesItsChildrenWithoutACoroutineEach(t *testing.T) {
	const n = 120
	users := make([]entra.User, n)
	for i := range users {
		users[i] = activitiestest.Member(fmt.Sprintf("u%03d", i))
	}
	run := func(t *testing.T, release workflow.Version) (goroutines int, p workflows.BatchProgress) {
		env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra(users...))
		env.OnGetVersion("batch-release-2", workflow.DefaultVersion, 1).Return(release)
		env.OnWorkflow(workflows.MigrateUser, mock.Anything, mock.Anything).Return(
			func(ctx workflow.Context, in workflows.MigrateUserInput) (workflows.MigrateUserResult, error) {
				if in.BatchSeq == n {
					goroutines = runtime.NumGoroutine()
				}
				// Open until every child has started, then closed without a report.
				if err := workflow.Sleep(ctx, time.Hour); err != nil {
					return workflows.MigrateUserResult{}, err
				}
				return workflows.MigrateUserResult{}, errors.New("closed without reporting")
			})
		env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b", Source: entra.Source{All: true},
			WindowSize: n, SweepEvery: 24 * time.Hour})
		return goroutines, batchResult(t, env).Progress
	}
	before, pBefore := run(t, workflow.DefaultVersion)
	after, pAfter := run(t, 1)
	require.NotZero(t, before)
	require.NotZero(t, after)
	t.Logf("goroutines when the last of %d children started: %d with a coroutine per child, %d on batch-release-2", n, before, after)
	assert.GreaterOrEqual(t, before-after, n*9/10, "batch-release-2 should hold no goroutine per child")
	for _, p := range []workflows.BatchProgress{pBefore, pAfter} {
		assert.Equal(t, n, p.Started)
		assert.Equal(t, map[string]int{"Failed": n}, p.Unreported)
		assert.Equal(t, 0, p.Importing)
	}
}
