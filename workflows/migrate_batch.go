package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"entra2okta/activities"
	"entra2okta/internal/entra"
)

// batchChange is the GetVersion change ID of the campaign-scale batch:
// version 1 counts users in a ledger (BatchState.Ledger) by sequence number,
// consumes reports only from the main loop, continues as new before its
// run's pending children reach Temporal's limit, sweeps for users that
// closed without a report, reads explicit logins and CSV files a page at a
// time, and spreads the users' deadlines. DefaultVersion is the first
// release's path, kept for the runs that started on it; a batch takes the
// new path at its next continue-as-new.
const batchChange = "campaign-scale"

// batchRelease is the GetVersion change ID of the batch's second release,
// recorded on version 1 runs only. Its run watches its children from the main
// loop (watchChildren) instead of one coroutine per child. The SDK resumes
// every coroutine at each pass of every workflow task, and each resume walks
// the coroutine's stack (runtime.Callers), so a run's 1,000 children made
// each task, and each replay of a 4,000-event history, cost O(children): a
// replay measured 7.6 s, 46 % of it in those coroutines. Replay happens after
// every failed workflow task, which continue-as-new meets whenever a report
// arrives while its task runs (UnhandledCommand).
const batchRelease = "batch-release-2"

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
	v             workflow.Version
	rel           workflow.Version // batchRelease's version (on version 1)
	running       map[string]bool  // first release: workflow IDs of users in the import phase
	pendingStarts int
	// children counts the children this run started that have not closed:
	// Temporal's pending children of the run.
	children     int
	window       int
	pageSize     int
	maxPlan      int
	historyLimit int
	maxChildren  int
	sweepEvery   time.Duration
	sweepTimer   workflow.Future
	// listed holds the current page's users by login (version 1), passed to
	// their workflows so that they need not read them again; users carried
	// over a continue-as-new read themselves.
	listed map[string]entra.User
	// watches are this run's children whose start or end the main loop
	// still waits for (batchRelease).
	watches []*childWatch
	reports workflow.ReceiveChannel
	logger  log.Logger
}

// setup validates the input, restores or initialises the state, installs the
// progress query and, on the first release's path, starts receiving the
// children's reports.
func (b *batchMigration) setup(ctx workflow.Context, in MigrateBatchInput) error {
	b.v = workflow.GetVersion(ctx, batchChange, workflow.DefaultVersion, 1)
	if b.v >= 1 {
		b.rel = workflow.GetVersion(ctx, batchRelease, workflow.DefaultVersion, 1)
	}
	if err := validateBatchInput(in, b.v); err != nil {
		return err
	}
	b.in = in
	b.window = withDefault(in.WindowSize, DefaultWindowSize)
	b.pageSize = withDefault(in.PageSize, DefaultPageSize)
	b.maxPlan = withDefault(in.MaxPlanEntries, DefaultMaxPlanEntries)
	b.historyLimit = withDefault(in.HistoryLimit, DefaultBatchHistoryLimit)
	b.maxChildren = withDefault(in.MaxChildrenPerRun, DefaultMaxChildrenPerRun)
	b.sweepEvery = withDefault(in.SweepEvery, DefaultSweepEvery)
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
	if b.v >= 1 {
		if b.st.Progress.Unreported == nil {
			b.st.Progress.Unreported = map[string]int{}
		}
		if b.st.Progress.BatchRun == "" {
			info := workflow.GetInfo(ctx)
			b.st.Progress.BatchRun = cmp.Or(info.FirstRunID, info.WorkflowExecution.RunID)
		}
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
	if b.v == workflow.DefaultVersion {
		// The first release's pump. A report handed to this parked receiver
		// never enters the channel's buffer, so continueAsNew's drain cannot
		// see it: version 1 consumes reports from the main loop only.
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var r UserReportSignal
				b.reports.Receive(ctx, &r)
				b.onReport(r)
			}
		})
	}
	return nil
}

func withDefault[T ~int | ~int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// validateBatchInput rejects inputs no run could complete.
func validateBatchInput(in MigrateBatchInput, v workflow.Version) error {
	var problems []string
	if strings.TrimSpace(in.Batch) == "" {
		problems = append(problems, "Batch is required")
	}
	if n := sourceFields(in.Source); n != 1 {
		problems = append(problems, fmt.Sprintf("Source must set exactly one of GroupID, Filter, Logins, All, CSV (%d set)", n))
	}
	if v >= 1 && in.Resume == nil && len(in.Source.Logins) > entra.MaxInlineLogins {
		problems = append(problems, fmt.Sprintf("Source.Logins holds %d logins; more than %d go in a CSV file (Source.CSV)",
			len(in.Source.Logins), entra.MaxInlineLogins))
	}
	if f := in.Source.CSV; f != nil && (f.Path == "" || len(f.SHA256) != 64) {
		problems = append(problems, "Source.CSV needs a Path and its SHA256 (64 hex digits)")
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
	if err := in.Groups.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if in.WindowSize < 0 || in.WindowSize > MaxWindowSize {
		problems = append(problems, fmt.Sprintf("WindowSize must be 1-%d", MaxWindowSize))
	}
	if in.PageSize < 0 || in.PageSize > 999 {
		problems = append(problems, "PageSize must be 1-999")
	}
	if in.MaxChildrenPerRun < 0 || in.MaxChildrenPerRun > DefaultMaxChildrenPerRun {
		problems = append(problems, fmt.Sprintf("MaxChildrenPerRun must be 1-%d", DefaultMaxChildrenPerRun))
	}
	if in.SweepEvery < 0 {
		problems = append(problems, "SweepEvery must be positive")
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
	for _, set := range []bool{s.GroupID != "", s.Filter != "", len(s.Logins) > 0, s.All, s.CSV != nil} {
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
	if b.v >= 1 {
		return b.runLedger(ctx)
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
	return b.done(), nil
}

// done is the batch's result.
func (b *batchMigration) done() MigrateBatchResult {
	b.logger.Info("batch done", "listed", b.st.Progress.Listed, "started", b.st.Progress.Started)
	return MigrateBatchResult{Progress: b.progress(), Plan: b.st.Plan, PlanTruncated: b.st.PlanTruncated}
}

// runLedger is run on version 1: the listing, then the wait, each continuing
// as new when due. Every wait consumes the reports that arrived (applyReports)
// so that continue-as-new, which drains them once more, never leaves one
// behind, and completion is decided after the drain.
func (b *batchMigration) runLedger(ctx workflow.Context) (MigrateBatchResult, error) {
	p := &b.st.Progress
	for !p.ListingDone {
		if len(b.st.PendingLogins) == 0 && !b.st.SourceDone {
			page, err := b.listPage(ctx)
			if err != nil {
				return b.failed("list the source's users", err)
			}
			p.Cursor, b.st.SourceDone = page.Next, page.Next == ""
			if b.in.DryRun {
				if err := b.planPage(ctx, page.Users); err != nil {
					return MigrateBatchResult{}, err
				}
			} else {
				p.Listed += len(page.Users)
				p.NotInEntra += max(0, page.Read-len(page.Users))
				b.st.PendingLogins = b.startableLogins(page.Users)
				if b.listsMappings() {
					b.listed = make(map[string]entra.User, len(page.Users))
					for _, u := range page.Users {
						b.listed[strings.TrimSpace(u.UserPrincipalName)] = u
					}
				}
			}
		}
		if err := b.startPending(ctx); err != nil {
			return MigrateBatchResult{}, err
		}
		p.ListingDone = b.st.SourceDone && len(b.st.PendingLogins) == 0
		if !p.ListingDone && (b.children >= b.maxChildren || b.continueAsNewDue(ctx)) {
			if err := b.continueAsNew(ctx); !errors.Is(err, errNotYet) {
				return MigrateBatchResult{}, err
			}
		}
	}
	for {
		if err := b.wait(ctx, func() bool { return p.Done() || b.continueAsNewDue(ctx) }); err != nil {
			return MigrateBatchResult{}, err
		}
		if p.Done() {
			return b.done(), nil
		}
		if err := b.continueAsNew(ctx); !errors.Is(err, errNotYet) {
			return MigrateBatchResult{}, err
		}
	}
}

// listPage reads the next page of the source. Explicit logins ride in the
// activity's input a page at a time (not the whole list, which would land in
// the history once per page); a CSV file is read by the workers.
func (b *batchMigration) listPage(ctx workflow.Context) (activities.ListEntraUsersResult, error) {
	src := b.in.Source
	cursor := b.st.Progress.Cursor
	var next string
	if len(src.Logins) > 0 {
		off := 0
		if cursor != "" {
			off, _ = strconv.Atoi(cursor)
		}
		end := min(off+b.pageSize, len(src.Logins))
		src.Logins, cursor = src.Logins[off:end], ""
		if end < len(b.in.Source.Logins) {
			next = strconv.Itoa(end)
		}
	}
	opts := GraphActivityOptions()
	if len(src.Logins) > 0 || src.CSV != nil {
		opts = GraphLoginPageActivityOptions()
	}
	attrs := listProperties()
	if b.listsMappings() {
		attrs = graphProperties(b.mappings())
	}
	var page activities.ListEntraUsersResult
	in := activities.ListEntraUsersInput{Source: src, Attributes: attrs, Cursor: cursor, PageSize: b.pageSize}
	// Reports keep being applied while the page is read, so the window and
	// the counts stay current during a long page.
	f := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.ListEntraUsers, in)
	if err := b.wait(ctx, f.IsReady); err != nil {
		return page, err
	}
	if err := f.Get(ctx, &page); err != nil {
		return page, err
	}
	if len(b.in.Source.Logins) > 0 {
		page.Next = next
	}
	return page, nil
}

// mappings are the attribute mappings the users apply.
func (b *batchMigration) mappings() []AttributeMapping {
	if b.in.Attributes != nil {
		return b.in.Attributes
	}
	return DefaultAttributeMappings()
}

// listsMappings reports whether the listing reads every mapped property, so
// that each user's workflow can start from the listed user: not on a dry run
// (which needs none), nor when the manager is mapped (Graph expands it per
// user on some sources, which would slow every page).
func (b *batchMigration) listsMappings() bool {
	return !b.in.DryRun && !slices.ContainsFunc(b.mappings(), func(m AttributeMapping) bool { return m.Graph == ManagerUPN })
}

// startableLogins keeps the logins of a page's users, counting those without one.
func (b *batchMigration) startableLogins(users []entra.User) []string {
	logins := make([]string, 0, len(users))
	for _, u := range users {
		login := strings.TrimSpace(u.UserPrincipalName)
		if login == "" {
			b.st.Progress.StartFailures++
			b.st.Progress.LastError = fmt.Sprintf("user %s has no userPrincipalName", u.ID)
			continue
		}
		logins = append(logins, login)
	}
	return logins
}

// startPending starts the pending logins of the page, each when the window
// has a free slot, stopping early when the run has started as many children
// as it may hold (they stay pending children of this run while they wait for
// their sign-in), or when the history is long while it waits for a slot:
// the reports of the batch's other users keep arriving while the window is
// full (for as long as the Okta queue is busy, e.g. with a deadline's
// policies), and a history that grows without bound makes every workflow task
// slow and, under a steady flow of signals, keeps the run from ever
// completing its continue-as-new. A free slot is used even when the history
// is long, so a run always makes progress.
func (b *batchMigration) startPending(ctx workflow.Context) error {
	p := &b.st.Progress
	for len(b.st.PendingLogins) > 0 {
		if b.children >= b.maxChildren {
			return nil
		}
		free := func() bool { return b.importing() < b.window }
		if err := b.wait(ctx, func() bool { return free() || b.continueAsNewDue(ctx) }); err != nil {
			return err
		}
		if !free() {
			return nil // continue as new while the window is full
		}
		login := b.st.PendingLogins[0]
		b.st.PendingLogins = b.st.PendingLogins[1:]
		if len(b.st.Ledger) >= MaxBatchUsers {
			p.StartFailures++
			p.LastError = fmt.Sprintf("the batch reached %d users: start the rest as another batch", MaxBatchUsers)
			continue
		}
		b.st.Ledger = append(b.st.Ledger, ledgerNone)
		b.startUser(ctx, len(b.st.Ledger), login)
	}
	return nil
}

// importing is the number of users in the import phase: the window's use.
func (b *batchMigration) importing() int {
	return b.st.Progress.States[StatePending] + b.st.Progress.States[StateImporting]
}

// executeUser starts a MigrateUser child for login with the batch's common
// input; extra adds the run's own fields (none on the first release's path,
// whose commands must not change).
func (b *batchMigration) executeUser(ctx workflow.Context, login string, deadline time.Time, memo map[string]any,
	sa []temporal.SearchAttributeUpdate, extra func(*MigrateUserInput)) workflow.ChildWorkflowFuture {
	if b.v >= 1 {
		// The SDK asks a started child to cancel when the context it was
		// started with is cancelled, whatever its ParentClosePolicy: cancelling
		// the batch (starter rollback does) must not cancel its users.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	// The static summary and details are the Web UI's title and fixed
	// description of the user's workflow. They travel as the command's
	// user metadata, which replay does not compare: the SDK matches a
	// StartChildWorkflowExecution command to its recorded event by workflow
	// type alone (isCommandMatchEvent in
	// https://github.com/temporalio/sdk-go/blob/v1.51.0/internal/internal_task_handlers.go),
	// so both paths set them without a version.
	// The batch counts a started user as Importing (version 1), and so does
	// its search attribute from the start: the user need not upsert it. The
	// SDK does not compare a child's search attributes on replay either.
	state := StatePending
	if b.v >= 1 {
		state = StateImporting
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            UserWorkflowID(login),
		TaskQueue:             TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         UserSummary(login, b.in.Batch),
		StaticDetails:         userStaticDetails(b.in.Batch, deadline, b.st.Progress.Policy),
		Memo:                  memo,
		TypedSearchAttributes: temporal.NewSearchAttributes(append([]temporal.SearchAttributeUpdate{
			MigrationStateKey.ValueSet(string(state)),
			MigrationBatchKey.ValueSet(b.in.Batch),
			MigrationDeadlineKey.ValueSet(deadline)}, sa...)...),
	})
	in := MigrateUserInput{
		Login:                      login,
		Batch:                      b.in.Batch,
		Deadline:                   deadline,
		Policy:                     b.st.Progress.Policy,
		ReconcileEvery:             b.in.ReconcileEvery,
		Attributes:                 b.in.Attributes,
		FederatedToDeadline:        b.in.FederatedToDeadline,
		RefreshAttributesOnCapture: b.in.RefreshAttributesOnCapture,
		Groups:                     b.in.Groups,
		FederatedDomains:           b.st.FederatedDomains,
		DomainsKnown:               true,
		ReportTo:                   workflow.GetInfo(ctx).WorkflowExecution.ID,
	}
	if extra != nil {
		extra(&in)
	}
	return workflow.ExecuteChildWorkflow(cctx, MigrateUser, in)
}

// startUser starts the migration of the user with ledger sequence seq. The
// start is confirmed asynchronously; a user whose workflow already runs (in
// another batch, or listed twice) is counted, not started twice. The child's
// end is watched while this run lives: one that closes without reporting
// (terminated, timed out) is counted at once; those of earlier runs are
// found by the sweep.
func (b *batchMigration) startUser(ctx workflow.Context, seq int, login string) {
	p := &b.st.Progress
	deadline := spreadDeadline(p.Deadline, b.spread(ctx), login)
	listed := b.listedUser(login)
	sa := []temporal.SearchAttributeUpdate{MigrationBatchRunKey.ValueSet(p.BatchRun)}
	if listed != nil && listed.ID != "" {
		// The hook binds sign-ins to this object from the first moment.
		// Search attributes of a child's start are not compared on
		// replay, so earlier histories replay unchanged.
		sa = append(sa, MigrationEntraIDKey.ValueSet(listed.ID))
	}
	child := b.executeUser(ctx, login, deadline, map[string]any{activities.BatchSeqMemo: seq}, sa,
		func(in *MigrateUserInput) { in.BatchRun, in.BatchSeq, in.Listed = p.BatchRun, seq, listed })
	b.st.Ledger[seq-1] = stateCode(StateImporting)
	p.Started++
	p.States[StateImporting]++
	b.children++
	b.pendingStarts++
	if b.rel >= 1 {
		b.watches = append(b.watches, &childWatch{seq: seq, login: login, child: child})
		return
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		err := child.GetChildWorkflowExecution().Get(ctx, nil)
		b.pendingStarts--
		if err != nil {
			b.notStarted(seq, login, err)
			return
		}
		err = child.Get(ctx, nil)
		b.children--
		if status := closeStatus(err); status != "" && ctx.Err() == nil {
			b.closed(seq, status)
		}
	})
}

// notStarted undoes the count of a user whose child could not start: one
// already running (in another batch, or listed twice) is counted as such.
func (b *batchMigration) notStarted(seq int, login string, err error) {
	p := &b.st.Progress
	b.children--
	b.st.Ledger[seq-1] = ledgerNone
	p.Started--
	p.States[StateImporting]--
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		p.AlreadyRunning++
		b.logger.Info("user already migrating elsewhere", "login", login)
		return
	}
	p.StartFailures++
	p.LastError = fmt.Sprintf("start %s: %v", UserWorkflowID(login), err)
	b.logger.Error("cannot start the user's migration", "login", login, "error", err)
}

// childWatch is a child of this run whose start is not confirmed yet, or
// whose end the run waits for.
type childWatch struct {
	seq     int
	login   string
	child   workflow.ChildWorkflowFuture
	started bool
}

// ready reports whether w has news: its start confirmed or refused, or its end.
func (w *childWatch) ready() bool {
	if !w.started {
		return w.child.GetChildWorkflowExecution().IsReady()
	}
	return w.child.IsReady()
}

// childNews reports whether a watched child has news for watchChildren.
func (b *batchMigration) childNews() bool {
	return slices.ContainsFunc(b.watches, (*childWatch).ready)
}

// watchChildren applies what the children of this run did since the last
// call (batchRelease): a start confirmed or refused, and the end of a child
// that closed without reporting (terminated, timed out), counted at once. It
// never blocks: it reads only futures that are ready.
func (b *batchMigration) watchChildren(ctx workflow.Context) {
	kept := b.watches[:0]
	for _, w := range b.watches {
		if !w.started && w.child.GetChildWorkflowExecution().IsReady() {
			b.pendingStarts--
			if err := w.child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
				b.notStarted(w.seq, w.login, err)
				continue
			}
			w.started = true
		}
		if w.started && w.child.IsReady() {
			err := w.child.Get(ctx, nil)
			b.children--
			if status := closeStatus(err); status != "" && ctx.Err() == nil {
				b.closed(w.seq, status)
			}
			continue
		}
		kept = append(kept, w)
	}
	clear(b.watches[len(kept):])
	b.watches = kept
}

// listedUser is the listing's record of login, nil when it has none.
func (b *batchMigration) listedUser(login string) *entra.User {
	u, ok := b.listed[login]
	if !ok {
		return nil
	}
	delete(b.listed, login)
	return &u
}

// closeStatus names how a child that did not complete ended ("" when it
// completed, or when this run is what was cancelled).
func closeStatus(err error) string {
	var term *temporal.TerminatedError
	var timeout *temporal.TimeoutError
	var canceled *temporal.CanceledError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &term):
		return "Terminated"
	case errors.As(err, &timeout):
		return "TimedOut"
	case errors.As(err, &canceled):
		return "Canceled"
	}
	return "Failed"
}

// spread is the span over which the users' deadlines are spread:
// DeadlineSpread, else a tenth of the time left until the batch's deadline,
// at most DefaultDeadlineSpread (a 60-day campaign spreads over 24 h, a
// 90-second demo over 9 s).
func (b *batchMigration) spread(ctx workflow.Context) time.Duration {
	if b.in.DeadlineSpread != 0 {
		return b.in.DeadlineSpread
	}
	return max(0, min(DefaultDeadlineSpread, b.st.Progress.Deadline.Sub(workflow.Now(ctx))/10))
}

// spreadDeadline moves a user's deadline by a fixed fraction of spread taken
// from its login, so that a batch's users do not all apply their policy at
// the same instant (and queue for hours on the Okta task queue); the same
// login always gets the same deadline.
func spreadDeadline(deadline time.Time, spread time.Duration, login string) time.Time {
	if spread <= 0 {
		return deadline
	}
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(login)))
	return deadline.Add(time.Duration(h.Sum64() % uint64(spread)))
}

// Ledger codes: 0 for a user not started, 1+i for States()[i], and the
// closedCodes for users whose workflow closed without a final report.
const ledgerNone byte = 0

const closedBase byte = 200

// closedCode is the ledger code of a ClosedStatuses entry (0 for another).
func closedCode(status string) byte {
	if i := slices.Index(ClosedStatuses(), status); i >= 0 {
		return closedBase + byte(i)
	}
	return ledgerNone
}

func stateCode(s State) byte { return byte(slices.Index(States(), s) + 1) }

// ledgerState is the State of a code (ok false for none and closed codes).
func ledgerState(c byte) (State, bool) {
	if c == ledgerNone || int(c) > len(States()) {
		return "", false
	}
	return States()[c-1], true
}

// rank orders the states a user passes through; a report never moves a user back.
func rank(s State) int {
	switch {
	case s.Terminal():
		return 3
	case s == StateAwaitingSignIn:
		return 2
	case s == StateImporting:
		return 1
	}
	return 0
}

// applyReport applies one report on version 1. A report of another batch
// run is counted and ignored; one without a sequence number comes from a
// user the first release started, counted as it was then.
func (b *batchMigration) applyReport(r UserReportSignal) {
	p := &b.st.Progress
	if r.BatchRun != "" && r.BatchRun != p.BatchRun {
		p.ForeignReports++
		return
	}
	if r.Seq == 0 {
		b.onReport(r)
		return
	}
	if r.Seq < 0 || r.Seq > len(b.st.Ledger) || !slices.Contains(States(), r.To) {
		p.ForeignReports++
		return
	}
	old, ok := ledgerState(b.st.Ledger[r.Seq-1])
	if !ok || rank(r.To) <= rank(old) {
		return // not started, closed, or a late or repeated report
	}
	p.States[old]--
	p.States[r.To]++
	b.st.Ledger[r.Seq-1] = stateCode(r.To)
}

// closed counts a user whose workflow closed without reporting its final
// state; it reports true if the ledger changed.
func (b *batchMigration) closed(seq int, status string) bool {
	// A user that reported its end and then closed (a cancelled user
	// reports Failed first) is counted by its report, not as unreported.
	b.applyReports()
	code := closedCode(status)
	if seq < 1 || seq > len(b.st.Ledger) || code == ledgerNone {
		return false
	}
	old, ok := ledgerState(b.st.Ledger[seq-1])
	if !ok || old.Terminal() {
		return false // reported its end before it closed
	}
	p := &b.st.Progress
	p.States[old]--
	p.Unreported[status]++
	b.st.Ledger[seq-1] = code
	b.logger.Warn("a user's workflow closed without reporting", "seq", seq, "status", status, "lastState", old)
	return true
}

// applyReports consumes every report delivered so far.
func (b *batchMigration) applyReports() {
	var r UserReportSignal
	for b.reports.ReceiveAsync(&r) {
		b.applyReport(r)
		r = UserReportSignal{}
	}
}

// wait blocks until cond holds, applying reports as they arrive and sweeping
// for users that closed without a report every SweepEvery while users are
// migrating.
func (b *batchMigration) wait(ctx workflow.Context, cond func() bool) error {
	for {
		b.watchChildren(ctx)
		b.applyReports()
		if cond() {
			return nil
		}
		if b.sweepTimer == nil && b.st.Progress.Started > 0 {
			b.sweepTimer = workflow.NewTimer(ctx, b.sweepEvery)
		}
		err := workflow.Await(ctx, func() bool {
			return b.reports.Len() > 0 || cond() || (b.sweepTimer != nil && b.sweepTimer.IsReady()) || b.childNews()
		})
		if err != nil {
			return err
		}
		if b.sweepTimer != nil && b.sweepTimer.IsReady() {
			b.sweepTimer = nil
			if err := b.sweep(ctx); err != nil {
				return err
			}
		}
	}
}

// sweepMargin covers the lag of Temporal's visibility store: each sweep
// reads the ends since the previous sweep started, less this margin.
const sweepMargin = 10 * time.Minute

// sweep finds, through visibility, the batch's users whose workflow closed
// without reporting (a terminated workflow runs no code) and counts them as
// ended, so that they neither hold a window slot nor keep the batch open. A
// failed sweep is recorded and tried again at the next one.
func (b *batchMigration) sweep(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	in := activities.FindClosedUsersInput{BatchRun: b.st.Progress.BatchRun}
	if !b.st.SweptAt.IsZero() {
		in.ClosedSince = b.st.SweptAt.Add(-sweepMargin)
	}
	var res activities.FindClosedUsersResult
	actx := workflow.WithActivityOptions(ctx, SweepActivityOptions())
	if err := workflow.ExecuteActivity(actx, a.FindClosedUsers, in).Get(ctx, &res); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		b.st.Progress.LastError = "sweep for closed users: " + describe(err)
		return nil
	}
	b.st.Progress.Sweeps++
	for _, st := range ClosedStatuses() {
		for _, seq := range res.Seqs(st) {
			b.closed(seq, st)
		}
	}
	if res.Truncated {
		// More ends than one answer holds (activities.MaxClosedPerSweep):
		// the span is read again at the next sweep.
		b.st.Progress.LastError = fmt.Sprintf("sweep for closed users: more than %d since the last sweep", activities.MaxClosedPerSweep)
		return nil
	}
	b.st.SweptAt = now
	return nil
}

// startPage starts a MigrateUser child per user, waiting for a free slot of
// the window before each (the first release's path).
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

// startChild starts one user's migration (the first release's path). The
// start is confirmed asynchronously: a user whose workflow already runs (in
// another batch, or from an earlier listing) is counted, not started twice.
func (b *batchMigration) startChild(ctx workflow.Context, id, login string) {
	p := &b.st.Progress
	child := b.executeUser(ctx, login, p.Deadline, nil, nil, nil)
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
// slot once it leaves the import phase (the first release's reports, which
// carry no sequence number).
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
		user   entra.User
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
			lookups = append(lookups, lookup{login, u, f})
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
			action, why := oktaPlan(r.Found, r.User, l.user)
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
	if b.v >= 1 {
		p.Importing = b.importing()
	} else {
		p.Importing = len(b.running)
	}
	p.States = maps.Clone(p.States)
	p.Planned = maps.Clone(p.Planned)
	p.Unreported = maps.Clone(p.Unreported)
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

// errNotYet tells the wait loop that continue-as-new found the batch done
// after its last drain.
var errNotYet = errors.New("the batch completed while continuing as new")

// continueAsNew waits for pending child starts and handlers, drains the
// reports (which would otherwise be lost, as samples-go batch-sliding-window
// warns) and starts a new run carrying the state. On version 1 it returns
// errNotYet when the drained reports completed the batch.
func (b *batchMigration) continueAsNew(ctx workflow.Context) error {
	for {
		b.watchChildren(ctx)
		if b.pendingStarts == 0 && workflow.AllHandlersFinished(ctx) {
			break
		}
		if err := workflow.Await(ctx, func() bool {
			return b.childNews() || (b.pendingStarts == 0 && workflow.AllHandlersFinished(ctx))
		}); err != nil {
			return err
		}
	}
	if b.v >= 1 {
		b.applyReports()
		if b.st.Progress.Done() {
			return errNotYet
		}
	} else {
		for {
			var r UserReportSignal
			if !b.reports.ReceiveAsync(&r) {
				break
			}
			b.onReport(r)
		}
	}
	st := b.st
	// Sorting makes the map's random iteration order irrelevant.
	st.Running = slices.Sorted(maps.Keys(b.running)) //workflowcheck:ignore
	in := b.in
	in.Resume = &st
	b.logger.Info("continuing as new", "listed", st.Progress.Listed, "started", st.Progress.Started, "runs", st.Progress.Runs)
	return workflow.NewContinueAsNewError(ctx, MigrateBatch, in)
}
