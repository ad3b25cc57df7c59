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

// TestMigrateUser_RecordsTheEntraObjectID: the user's workflow publishes the
// Entra object ID it read (MigrationEntraID), which the hook server binds
// sign-ins to, before it imports the user into Okta.
func TestMigrateUser_RecordsTheEntraObjectID(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("alice"))
	env := newEnv(t, o, e)
	var mu sync.Mutex
	var ids []string
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(workflows.MigrationEntraIDKey); ok {
			mu.Lock()
			ids = append(ids, v)
			mu.Unlock()
		}
	}).Return(nil)
	env.RegisterDelayedCallback(func() {
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"id-alice"}, ids, "recorded once, before the sign-in")
		env.CancelWorkflow()
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "alice@contoso.com", Batch: "b1"})
	require.True(t, env.IsWorkflowCompleted())
}

// TestSearchAttributesIncludeTheEntraObjectID: the worker registers it with
// the others.
func TestSearchAttributesIncludeTheEntraObjectID(t *testing.T) {
	_, ok := workflows.SearchAttributes().GetKeyword(workflows.MigrationEntraIDKey)
	assert.True(t, ok)
}
