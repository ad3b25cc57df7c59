package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"entra2okta/activities"
	"entra2okta/internal/temporalconn"
	"entra2okta/workflows"
)

// oktaActivities and graphActivities list the activities each API's worker
// runs: an activity scheduled on the wrong queue fails loudly as unregistered
// instead of bypassing that API's rate limit.
func oktaActivities(a *activities.Activities) []any {
	return []any{a.FindOktaUser, a.UpdateOktaUser, a.ActivateOktaUser,
		a.GetOktaPasswordImportEvents, a.ApplyOktaDeadlinePolicy, a.SyncOktaGroups, a.RemoveOktaGroups}
}

func graphActivities(a *activities.Activities) []any {
	return []any{a.GetEntraUser, a.ListEntraUsers, a.GetEntraDomains, a.GetEntraUserGroups}
}

// Serve runs the five workers on c until ctx is done, then stops them,
// letting running activities finish within cfg.ShutdownTimeout:
//   - workflows.TaskQueue: MigrateUser (and MigrateBatch, for batches
//     started on it by earlier releases);
//   - workflows.BatchTaskQueue: MigrateBatch and its sweep for users that
//     closed without a report;
//   - workflows.OktaTaskQueue: the Okta activities, rate-limited by the server
//     (cfg.OktaRPS) and capped at cfg.OktaConcurrency per worker;
//   - workflows.OktaCreateTaskQueue: CreateOktaUser, paced by cfg.OktaCreateRPS;
//   - workflows.GraphTaskQueue: the Graph activities, likewise.
//
// It registers missing search attributes first when cfg asks for it.
func Serve(ctx context.Context, c client.Client, acts *activities.Activities, cfg Config, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RegisterSearchAttributes {
		saCtx, cancel := context.WithTimeout(ctx, time.Minute)
		err := ensureSearchAttributes(saCtx, c.OperatorService(), c.WorkflowService(), cfg.TemporalNamespace,
			temporalconn.IsCloudAddress(cfg.TemporalAddress))
		cancel()
		var missing *MissingSearchAttributesError
		if errors.As(err, &missing) {
			logger.Error("search attributes missing", "namespace", missing.Namespace, "missing", missing.names(),
				"tcld", missing.TcldCommand(), "webUI", missing.WebUIPath())
		}
		if err != nil {
			return err
		}
	}
	// A batch's workflow task may start a whole window of users (hundreds of
	// child starts) before it yields; on a loaded machine that can take over
	// the SDK's 1 s deadlock-detection default, whose panic fails the task
	// and leaves the coroutine running beside its retry (seen under -race on
	// 2 cores). 5 s stays well inside the 10 s workflow task timeout.
	const deadlock = 5 * time.Second
	main := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{WorkerStopTimeout: cfg.ShutdownTimeout, DeadlockDetectionTimeout: deadlock})
	workflows.Register(main)
	batchW := sdkworker.New(c, workflows.BatchTaskQueue, sdkworker.Options{WorkerStopTimeout: cfg.ShutdownTimeout, DeadlockDetectionTimeout: deadlock})
	batchW.RegisterWorkflow(workflows.MigrateBatch)
	// The batch's sweep reads this namespace's visibility store.
	if acts.Temporal == nil {
		acts.Temporal, acts.Namespace = c, cfg.TemporalNamespace
	}
	batchW.RegisterActivity(acts.FindClosedUsers)

	// The Okta queues are bound by their rate: a poller per partition (see
	// pollers.go) lets each partition use its share of it.
	oktaConc := max(1, cfg.OktaConcurrency-cfg.OktaConcurrency/5)
	oktaW := sdkworker.New(c, workflows.OktaTaskQueue, sdkworker.Options{
		TaskQueueActivitiesPerSecond:       cfg.OktaRPS,
		MaxConcurrentActivityExecutionSize: oktaConc,
		MaxConcurrentActivityTaskPollers: activityPollers(
			queuePartitions(ctx, c, cfg.TemporalNamespace, workflows.OktaTaskQueue, logger), oktaConc),
		WorkerStopTimeout: cfg.ShutdownTimeout,
	})
	for _, fn := range oktaActivities(acts) {
		oktaW.RegisterActivity(fn)
	}
	// The creates have their own queue and limit (workflows.OktaCreateTaskQueue);
	// a fifth of OKTA_CONCURRENCY serves them, so both workers together stay
	// within it, under Okta's 75 concurrent requests.
	createConc := max(1, cfg.OktaConcurrency/5)
	oktaCreateW := sdkworker.New(c, workflows.OktaCreateTaskQueue, sdkworker.Options{
		TaskQueueActivitiesPerSecond:       cfg.OktaCreateRPS,
		MaxConcurrentActivityExecutionSize: createConc,
		MaxConcurrentActivityTaskPollers: activityPollers(
			queuePartitions(ctx, c, cfg.TemporalNamespace, workflows.OktaCreateTaskQueue, logger), createConc),
		WorkerStopTimeout: cfg.ShutdownTimeout,
	})
	oktaCreateW.RegisterActivity(acts.CreateOktaUser)
	graphW := sdkworker.New(c, workflows.GraphTaskQueue, sdkworker.Options{
		TaskQueueActivitiesPerSecond:       cfg.GraphRPS,
		MaxConcurrentActivityExecutionSize: cfg.GraphConcurrency,
		WorkerStopTimeout:                  cfg.ShutdownTimeout,
	})
	for _, fn := range graphActivities(acts) {
		graphW.RegisterActivity(fn)
	}

	named := []struct {
		queue string
		w     sdkworker.Worker
	}{{workflows.TaskQueue, main}, {workflows.BatchTaskQueue, batchW}, {workflows.OktaTaskQueue, oktaW},
		{workflows.OktaCreateTaskQueue, oktaCreateW}, {workflows.GraphTaskQueue, graphW}}
	var started []sdkworker.Worker
	stopAll := func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].Stop()
		}
	}
	for _, n := range named {
		if err := n.w.Start(); err != nil {
			stopAll()
			return fmt.Errorf("start the worker of task queue %s: %w", n.queue, err)
		}
		started = append(started, n.w)
	}
	logger.Info("workers started", "namespace", cfg.TemporalNamespace,
		"queues", []string{workflows.TaskQueue, workflows.BatchTaskQueue, workflows.OktaTaskQueue, workflows.OktaCreateTaskQueue, workflows.GraphTaskQueue},
		"oktaRPS", cfg.OktaRPS, "oktaCreateRPS", cfg.OktaCreateRPS, "graphRPS", cfg.GraphRPS, "oktaConcurrency", cfg.OktaConcurrency)
	<-ctx.Done()
	logger.Info("stopping workers")
	stopAll()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
