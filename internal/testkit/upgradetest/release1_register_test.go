package upgradetest

// Registry is what registers workflows: a worker.Worker, a
// worker.WorkflowReplayer or a test environment.
type Registry interface {
	RegisterWorkflow(w any)
}

// Register registers every workflow of the migration in one place; the
// worker, the replay tests and the end-to-end tests share it.
func Register(r Registry) {
	r.RegisterWorkflow(MigrateUser)
	r.RegisterWorkflow(MigrateBatch)
}
