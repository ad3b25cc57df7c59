package upgradetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"entra2okta/activities"
	"entra2okta/internal/entra"
)

// MigrateBatch migrates the users of a source: it pages the source through
// Graph, starts one MigrateUser child per user (ID UserWorkflowID, abandoned
// on close so they outlive the batch's continue-as-new) with at most
// WindowSize users importing at once, and keeps per-state counts from the
// children's reports until every user has ended. A dry run starts nothing: it
// looks each user up in Okta and reports what would happen. Its ID is
// BatchWorkflowID(in.Batch); it answers QueryProgress. The shape is samples-go
// batch-sliding-window
// (https://github.com/temporalio/samples-go/tree/main/batch-sliding-window).
func MigrateBatch(ctx workflow.Context, in MigrateBatchInput) (MigrateBatchResult, error) {
	b := &batchMigration{}
	if err := b.setup(ctx, in); err != nil {
		return MigrateBatchResult{}, err
	}
	return b.run(ctx)
}

// batchMigration is MigrateBatch's state.
type batchMigration struct {
	in            MigrateBatchInput
	st            BatchState
	running       map[string]bool // workflow IDs of users in the import phase
	pendingStarts int
	window        int
	pageSize      int
	maxPlan       int
	historyLimit  int
	reports       workflow.ReceiveChannel
	logger        log.Logger
}

// setup validates the input, restores or initialises the state, installs the
// progress query and starts receiving the children's reports.
func (b *batchMigration) setup(ctx workflow.Context, in MigrateBatchInput) error {
	if err := validateBatchInput(in); err != nil {
		return err
	}
	b.in = in
	b.window = withDefault(in.WindowSize, DefaultWindowSize)
	b.pageSize = withDefault(in.PageSize, DefaultPageSize)
	b.maxPlan = withDefault(in.MaxPlanEntries, DefaultMaxPlanEntries)
	b.historyLimit = withDefault(in.HistoryLimit, DefaultBatchHistoryLimit)
	b.running = map[string]bool{}
	if in.Resume != nil {
		b.st = *in.Resume
		b.st.Progress.Runs++
		for _, id := range b.st.Running {
			b.running[id] = true
		}
		b.st.Running = nil
	} else {
		policy := in.Policy
		if policy == "" {
			policy = PolicyNone
		}
		deadline := in.Deadline
		if deadline.IsZero() {
			deadline = workflow.Now(ctx).Add(withDefault(in.DeadlineAfter, DefaultDeadlineAfter))
		}
		b.st.Progress = BatchProgress{Batch: in.Batch, DryRun: in.DryRun, Policy: policy, Deadline: deadline, Runs: 1}
	}
	if b.st.Progress.States == nil {
		b.st.Progress.States = map[State]int{}
	}
	if b.st.Progress.Planned == nil {
		b.st.Progress.Planned = map[PlanAction]int{}
	}
	b.logger = log.With(workflow.GetLogger(ctx), "batch", in.Batch)
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (BatchProgress, error) { return b.progress(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateExtendDeadline, b.extendDeadline,
		workflow.UpdateHandlerOptions{Validator: b.validateExtendDeadline}); err != nil {
		return err
	}
	b.reports = workflow.GetSignalChannel(ctx, SignalUserReport)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r UserReportSignal
			b.reports.Receive(ctx, &r)
			b.onReport(r)
		}
	})
	return nil
}

func withDefault[T ~int | ~int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// validateBatchInput rejects inputs no run could complete.
func validateBatchInput(in MigrateBatchInput) error {
	var problems []string
	if strings.TrimSpace(in.Batch) == "" {
		problems = append(problems, "Batch is required")
	}
	if n := sourceFields(in.Source); n != 1 {
		problems = append(problems, fmt.Sprintf("Source must set exactly one of GroupID, Filter, Logins, All (%d set)", n))
	}
	if !in.Policy.Valid() {
		problems = append(problems, fmt.Sprintf("unknown deadline policy %q", in.Policy))
	}
	if !in.Deadline.IsZero() && in.DeadlineAfter != 0 {
		problems = append(problems, "set at most one of Deadline and DeadlineAfter")
	}
	if in.DeadlineAfter < 0 {
		problems = append(problems, "DeadlineAfter must be positive")
	}
	if in.WindowSize < 0 || in.WindowSize > MaxWindowSize {
		problems = append(problems, fmt.Sprintf("WindowSize must be 1-%d", MaxWindowSize))
	}
	if in.PageSize < 0 || in.PageSize > 999 {
		problems = append(problems, "PageSize must be 1-999")
	}
	if in.ReconcileEvery != 0 && in.ReconcileEvery < MinReconcileEvery {
		problems = append(problems, fmt.Sprintf("ReconcileEvery must be at least %s", MinReconcileEvery))
	}
	if len(problems) > 0 {
		return temporal.NewNonRetryableApplicationError("invalid MigrateBatch input: "+strings.Join(problems, "; "), "InvalidInput", nil)
	}
	return nil
}

func sourceFields(s entra.Source) int {
	n := 0
	for _, set := range []bool{s.GroupID != "", s.Filter != "", len(s.Logins) > 0, s.All} {
		if set {
			n++
		}
	}
	return n
}

// run pages the source, then (unless a dry run) waits until every started
// user has ended, continuing as new whenever the history grows long.
func (b *batchMigration) run(ctx workflow.Context) (MigrateBatchResult, error) {
	if !b.st.DomainsKnown {
		var dr activities.GetEntraDomainsResult
		gctx := workflow.WithActivityOptions(ctx, GraphActivityOptions())
		if err := workflow.ExecuteActivity(gctx, a.GetEntraDomains, activities.GetEntraDomainsInput{}).Get(ctx, &dr); err != nil {
			return b.failed("read the Entra domains", err)
		}
		b.st.FederatedDomains = federatedDomainNames(dr.Domains)
		b.st.DomainsKnown = true
	}
	for !b.st.Progress.ListingDone {
		var page activities.ListEntraUsersResult
		gctx := workflow.WithActivityOptions(ctx, GraphActivityOptions())
		in := activities.ListEntraUsersInput{Source: b.in.Source, Attributes: listProperties(), Cursor: b.st.Progress.Cursor, PageSize: b.pageSize}
		if err := workflow.ExecuteActivity(gctx, a.ListEntraUsers, in).Get(ctx, &page); err != nil {
			return b.failed("list the source's users", err)
		}
		var err error
		if b.in.DryRun {
			err = b.planPage(ctx, page.Users)
		} else {
			err = b.startPage(ctx, page.Users)
		}
		if err != nil {
			return MigrateBatchResult{}, err
		}
		b.st.Progress.Cursor = page.Next
		b.st.Progress.ListingDone = page.Next == ""
		if !b.st.Progress.ListingDone && b.continueAsNewDue(ctx) {
			return MigrateBatchResult{}, b.continueAsNew(ctx)
		}
	}
	for !b.st.Progress.Done() {
		if err := workflow.Await(ctx, func() bool { return b.st.Progress.Done() || b.continueAsNewDue(ctx) }); err != nil {
			return MigrateBatchResult{}, err
		}
		if !b.st.Progress.Done() {
			return MigrateBatchResult{}, b.continueAsNew(ctx)
		}
	}
	b.logger.Info("batch done", "listed", b.st.Progress.Listed, "started", b.st.Progress.Started)
	return MigrateBatchResult{Progress: b.progress(), Plan: b.st.Plan, PlanTruncated: b.st.PlanTruncated}, nil
}

// startPage starts a MigrateUser child per user, waiting for a free slot of
// the window before each.
func (b *batchMigration) startPage(ctx workflow.Context, users []entra.User) error {
	for _, u := range users {
		b.st.Progress.Listed++
		login := strings.TrimSpace(u.UserPrincipalName)
		if login == "" {
			b.st.Progress.StartFailures++
			b.st.Progress.LastError = fmt.Sprintf("user %s has no userPrincipalName", u.ID)
			continue
		}
		if err := workflow.Await(ctx, func() bool { return len(b.running) < b.window }); err != nil {
			return err
		}
		id := UserWorkflowID(login)
		if b.running[id] {
			b.st.Progress.AlreadyRunning++ // listed twice while importing
			continue
		}
		b.startChild(ctx, id, login)
	}
	return nil
}

// startChild starts one user's migration. The start is confirmed
// asynchronously: a user whose workflow already runs (in another batch, or from
// an earlier listing) is counted, not started twice.
func (b *batchMigration) startChild(ctx workflow.Context, id, login string) {
	p := &b.st.Progress
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		TaskQueue:             TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			MigrationStateKey.ValueSet(string(StatePending)),
			MigrationBatchKey.ValueSet(b.in.Batch),
			MigrationDeadlineKey.ValueSet(p.Deadline)),
	})
	child := workflow.ExecuteChildWorkflow(cctx, MigrateUser, MigrateUserInput{
		Login:                      login,
		Batch:                      b.in.Batch,
		Deadline:                   p.Deadline,
		Policy:                     p.Policy,
		ReconcileEvery:             b.in.ReconcileEvery,
		Attributes:                 b.in.Attributes,
		FederatedToDeadline:        b.in.FederatedToDeadline,
		RefreshAttributesOnCapture: b.in.RefreshAttributesOnCapture,
		FederatedDomains:           b.st.FederatedDomains,
		DomainsKnown:               true,
		ReportTo:                   workflow.GetInfo(ctx).WorkflowExecution.ID,
	})
	b.running[id] = true
	p.Started++
	p.States[StateImporting]++
	b.pendingStarts++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { b.pendingStarts-- }()
		err := child.GetChildWorkflowExecution().Get(ctx, nil)
		if err == nil {
			return
		}
		delete(b.running, id)
		p.Started--
		p.States[StateImporting]--
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			p.AlreadyRunning++
			b.logger.Info("user already migrating elsewhere", "login", login)
			return
		}
		p.StartFailures++
		p.LastError = fmt.Sprintf("start %s: %v", id, err)
		b.logger.Error("cannot start the user's migration", "login", login, "error", err)
	})
}

// onReport applies a child's state change to the counts, freeing its window
// slot once it leaves the import phase.
func (b *batchMigration) onReport(r UserReportSignal) {
	p := &b.st.Progress
	if r.From == StateImporting || r.From == StatePending {
		delete(b.running, UserWorkflowID(r.Login))
	}
	if r.From != "" && p.States[r.From] > 0 {
		p.States[r.From]--
	}
	p.States[r.To]++
}

// planPage is the dry run of a page: eligibility from the listing, then a
// read-only Okta lookup per eligible user, at most WindowSize at once.
func (b *batchMigration) planPage(ctx workflow.Context, users []entra.User) error {
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())
	type lookup struct {
		login  string
		future workflow.Future
	}
	for start := 0; start < len(users); start += b.window {
		var lookups []lookup
		for _, u := range users[start:min(start+b.window, len(users))] {
			b.st.Progress.Listed++
			login := strings.TrimSpace(u.UserPrincipalName)
			reason, _ := eligibility(u, b.st.FederatedDomains, b.in.FederatedToDeadline)
			if reason != "" {
				b.addPlan(PlanEntry{Login: login, Action: PlanSkip, Reason: string(StateIneligible) + ": " + reason})
				continue
			}
			f := workflow.ExecuteActivity(octx, a.FindOktaUser, activities.FindOktaUserInput{IDOrLogin: login})
			lookups = append(lookups, lookup{login, f})
		}
		for _, l := range lookups {
			var r activities.FindOktaUserResult
			if err := l.future.Get(ctx, &r); err != nil {
				if temporal.IsCanceledError(err) {
					return err
				}
				b.addPlan(PlanEntry{Login: l.login, Action: PlanError, Reason: describe(err)})
				continue
			}
			action, why := oktaPlan(r.Found, r.User)
			b.addPlan(PlanEntry{Login: l.login, Action: action, Reason: why,
				OktaUserID: r.User.ID, OktaStatus: r.User.Status, Provider: r.User.ProviderType})
		}
	}
	return nil
}

// addPlan counts a plan entry and keeps it while under MaxPlanEntries.
func (b *batchMigration) addPlan(e PlanEntry) {
	b.st.Progress.Planned[e.Action]++
	if len(b.st.Plan) < b.maxPlan {
		b.st.Plan = append(b.st.Plan, e)
	} else {
		b.st.PlanTruncated = true
	}
}

// validateExtendDeadline accepts exactly one of Deadline and By, leading to a
// later deadline.
func (b *batchMigration) validateExtendDeadline(_ workflow.Context, req ExtendDeadlineRequest) error {
	if req.Deadline.IsZero() == (req.By == 0) {
		return errors.New("set exactly one of Deadline and By")
	}
	if req.By < 0 {
		return errors.New("By must be positive")
	}
	if next := b.extended(req); !next.After(b.st.Progress.Deadline) {
		return fmt.Errorf("the new deadline %s is not after the current one %s", next.Format(time.RFC3339), b.st.Progress.Deadline.Format(time.RFC3339))
	}
	return nil
}

func (b *batchMigration) extended(req ExtendDeadlineRequest) time.Time {
	if req.By > 0 {
		return b.st.Progress.Deadline.Add(req.By)
	}
	return req.Deadline
}

// extendDeadline moves the deadline of the users the batch has yet to start.
// Users already started carry their own deadline: extend each of them with
// UpdateExtendDeadline on its MigrateUser workflow (internal/control does).
func (b *batchMigration) extendDeadline(_ workflow.Context, req ExtendDeadlineRequest) (BatchProgress, error) {
	b.st.Progress.Deadline = b.extended(req)
	b.logger.Info("batch deadline extended", "deadline", b.st.Progress.Deadline)
	return b.progress(), nil
}

// progress is the progress query's answer.
func (b *batchMigration) progress() BatchProgress {
	p := b.st.Progress
	p.Importing = len(b.running)
	p.States = maps.Clone(p.States)
	p.Planned = maps.Clone(p.Planned)
	return p
}

// failed records a batch-level failure; the batch fails with it.
func (b *batchMigration) failed(what string, err error) (MigrateBatchResult, error) {
	b.st.Progress.LastError = what + ": " + describe(err)
	b.logger.Error("batch failed", "step", what, "error", b.st.Progress.LastError)
	return MigrateBatchResult{Progress: b.progress()}, err
}

// continueAsNewDue reports whether the history should be reset.
func (b *batchMigration) continueAsNewDue(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= b.historyLimit
}

// continueAsNew waits for pending child starts and handlers, drains the
// reports (which would otherwise be lost, as samples-go batch-sliding-window
// warns) and starts a new run carrying the state.
func (b *batchMigration) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return b.pendingStarts == 0 && workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	for {
		var r UserReportSignal
		if !b.reports.ReceiveAsync(&r) {
			break
		}
		b.onReport(r)
	}
	st := b.st
	// Sorting makes the map's random iteration order irrelevant.
	st.Running = slices.Sorted(maps.Keys(b.running)) //workflowcheck:ignore
	in := b.in
	in.Resume = &st
	b.logger.Info("continuing as new", "listed", st.Progress.Listed, "started", st.Progress.Started, "runs", st.Progress.Runs)
	return workflow.NewContinueAsNewError(ctx, MigrateBatch, in)
}
