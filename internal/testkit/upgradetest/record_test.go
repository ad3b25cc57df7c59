package upgradetest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	release1 "entra2okta/internal/testkit/upgradetest"
	"entra2okta/workflows"
)

// EnvRecord names the release directory (v1, v2, v3, v4) under workflows/testdata
// that TestRecordCorpus records into; unset, the test is skipped.
const EnvRecord = "RECORD_CORPUS"

// TestRecordCorpus records, from real runs on the dev server, a history of
// every path of the migration, for the append-only replay corpus (checked
// and replayed by workflows' TestReplay). RECORD_CORPUS=v1 runs the first
// release's code (release1_*_test.go), RECORD_CORPUS=v2 or later the current
// code (v3 adds the paths of the identity checks and the report memo, v4
// the expiry of a password below the Okta password policy). It
// never overwrites a recorded history: it refuses to start when the
// release's directory exists. It lists each new file, with its SHA-256 and
// the path it covers, in that directory's own MANIFEST (v1 to v3 are in
// workflows/testdata/MANIFEST, which is no longer edited).
func TestRecordCorpus(t *testing.T) {
	gen := os.Getenv(EnvRecord)
	if gen == "" {
		t.Skip("set " + EnvRecord + "=<release> to record the replay corpus")
	}
	current := gen != "v1"
	// The report memo's path, recorded from v3 on: a sign-in Entra
	// refused, then the deadline's policy.
	reportPaths := gen >= "v3"
	testdata := filepath.Join("..", "..", "..", "workflows", "testdata")
	dir := filepath.Join(testdata, gen)
	_, err := os.Stat(dir)
	require.True(t, os.IsNotExist(err), "%s exists: a recorded history is never re-recorded", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	locals := []string{"signin", "adopt", "confirm", "reconcile", "skip", "extend", "event", "cas", "recheck",
		"closed", "cancel", "b-signin", "b-deadline", "b-ineligible", "b-cancel", "b-term", "d-1", "d-2", "mismatch", "held"}
	if reportPaths {
		locals = append(locals, "refused")
	}
	// Paths added in v4: a verified password below the Okta password
	// policy, expired once Okta stored it; a user whose Entra groups are
	// mapped to Okta groups, synced again at a reconciliation after its
	// Entra groups changed.
	v4 := gen >= "v4"
	if v4 {
		locals = append(locals, "weak", "groups")
	}
	var users []entra.User
	for _, l := range locals {
		u := activitiestest.Member(l)
		u.AccountEnabled = l != "b-ineligible"
		users = append(users, u)
	}
	s := newStack(ctx, t, users...)
	s.okta.Add(okta.User{Login: login("adopt"), Status: okta.StatusStaged})
	// Paths added in v3: an Okta user with the login and someone else's
	// email (not adopted), and a migration held after an identity mismatch.
	v3 := gen >= "v3"
	if v3 {
		s.okta.Add(okta.User{Login: login("mismatch"), Status: okta.StatusStaged,
			Profile: okta.Profile{"login": login("mismatch"), "email": "former.holder@fabrikam.example"}})
	}
	if current {
		s.startCurrent()
	} else {
		s.startRelease1()
	}
	defer s.stop()
	t0 := time.Now()
	later := t0.Add(4 * time.Minute)
	user := func(local string) workflows.MigrateUserInput {
		return workflows.MigrateUserInput{Login: login(local), Batch: "rec", Deadline: later, Policy: workflows.PolicyNone}
	}
	type entry struct{ id, name, covers string }
	var recs []entry
	add := func(id, name, covers string) { recs = append(recs, entry{id, name, covers}) }
	startUser := func(in workflows.MigrateUserInput, name, covers string) {
		s.startUser(in)
		add(workflows.UserWorkflowID(in.Login), name, covers)
	}
	startUser(user("signin"), "user_signin", "MigrateUser: create, activate, password-verified signal, confirmed, Migrated")
	startUser(user("adopt"), "user_adopt_activate", "MigrateUser: adoption of a STAGED Okta user (update, activate), sign-in, Migrated")
	startUser(user("confirm"), "user_confirm_retries", "MigrateUser: verified sign-in not yet stored in Okta, confirmation retried after 1 min, Migrated")
	rec := user("reconcile")
	rec.ReconcileEvery = workflows.MinReconcileEvery
	startUser(rec, "user_reconciled", "MigrateUser: no signal, reconciliation finds provider OKTA, Migrated")
	startUser(user("skip"), "user_skip_update", "MigrateUser: skip update while waiting, Skipped")
	ext := user("extend")
	ext.Deadline, ext.Policy = t0.Add(30*time.Second), workflows.PolicyExpirePassword
	startUser(ext, "user_extend_update_expired", "MigrateUser: extend-deadline update, then the deadline (expire-password), Expired")
	startUser(user("event"), "user_import_event", "MigrateUser: user.import.password SUCCESS event signal, Migrated")
	cas := user("cas")
	cas.HistoryLimit = 12
	startUser(cas, "user_continue_as_new", "MigrateUser: continue-as-new while waiting (HistoryLimit 12), resumed run, sign-in, Migrated")
	rc := user("recheck")
	rc.Deadline, rc.Policy = t0.Add(30*time.Second), workflows.PolicyResetPassword
	startUser(rc, "user_deadline_recheck", "MigrateUser: a sign-in without signal just before the deadline: the deadline's check finds the password, Migrated")
	cl := user("closed")
	cl.ReportTo = workflows.BatchWorkflowID("gone")
	startUser(cl, "user_report_closed_batch", "MigrateUser: every report to its batch fails (batch closed or gone: SignalExternalWorkflowExecutionFailed), sign-in, Migrated")
	startUser(user("cancel"), "user_cancelled", "MigrateUser: cancelled while waiting for the sign-in")
	waiting := []string{"signin", "adopt", "confirm", "reconcile", "skip", "extend", "event", "cas", "recheck", "closed", "cancel"}
	if reportPaths {
		ref := user("refused")
		ref.Deadline, ref.Policy = t0.Add(30*time.Second), workflows.PolicyExpirePassword
		startUser(ref, "user_refused_expired", "MigrateUser: a sign-in Entra refused (wrong_password, AADSTS50126), then the deadline (expire-password), Expired: report memo at each change, current details")
		waiting = append(waiting, "refused")
	}
	if v3 {
		startUser(user("mismatch"), "user_adopt_identity_mismatch", "MigrateUser: an Okta user with the login and another person's email: not adopted, Ineligible")
		startUser(user("held"), "user_identity_hold_release", "MigrateUser: identity-mismatch outcome holds the migration (memo), release-hold update, sign-in, Migrated")
	}
	if v4 {
		sales := entra.Group{ID: "11111111-0000-4000-8000-000000000001", DisplayName: "Sales", SecurityEnabled: true}
		s.entra.SetGroups(login("groups"), sales)
		gu := user("groups")
		gu.ReconcileEvery = workflows.MinReconcileEvery
		gu.Groups = workflows.GroupMapping{Rules: []workflows.GroupRule{{Entra: "Sales", Okta: "Sales"}, {Entra: "Marketing", Okta: "Marketing"}}, Sync: true}
		startUser(gu, "user_groups_synced", "MigrateUser: a group mapping (two rules, sync): the Okta group created and the user added after the import; Entra groups changed, the next reconciliation moves the user; sign-in, Migrated")
		waiting = append(waiting, "groups")
		startUser(user("weak"), "user_below_policy_expired", "MigrateUser: a verified sign-in whose password is below the Okta password policy (minLength, dictionary.common): Migrated, the Okta password expired (expire-below-policy)")
		waiting = append(waiting, "weak")
	}

	batchQueue := release1.TaskQueue
	blogins := []string{login("b-signin"), login("b-deadline"), login("b-ineligible")}
	bin := workflows.MigrateBatchInput{Batch: "recb", Deadline: t0.Add(45 * time.Second), Policy: workflows.PolicyNone,
		PageSize: 2, WindowSize: 2, HistoryLimit: 40}
	if current {
		batchQueue = workflows.BatchTaskQueue
		blogins = append(blogins, login("b-cancel"), login("b-term"))
		bin.HistoryLimit, bin.MaxChildrenPerRun, bin.SweepEvery, bin.DeadlineSpread = 0, 2, 15*time.Second, -1
	}
	bin.Source = entra.Source{Logins: blogins}
	startBatch := func(in workflows.MigrateBatchInput, name, covers string) {
		id := workflows.BatchWorkflowID(in.Batch)
		_, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: batchQueue}, "MigrateBatch", in)
		require.NoError(t, err)
		add(id, name, covers)
	}
	batchCovers := "MigrateBatch: pages of 2, window of 2, continue-as-new, users' reports; one signs in, one expires, one ineligible"
	if current {
		batchCovers += "; one cancelled (reports Failed), one terminated (counted without a report)"
	}
	startBatch(bin, "batch", batchCovers)
	for _, l := range []string{"b-signin", "b-deadline"} {
		add(workflows.UserWorkflowID(login(l)), "batch_user_"+strings.TrimPrefix(l, "b-"), "MigrateUser started by a batch (reports to it): "+strings.TrimPrefix(l, "b-"))
	}
	if current {
		add(workflows.UserWorkflowID(login("b-cancel")), "batch_user_cancelled", "MigrateUser started by a batch, cancelled: reports Failed to the batch")
	}
	startBatch(workflows.MigrateBatchInput{Batch: "recdry", DryRun: true, Source: entra.Source{Logins: []string{login("d-1"), login("d-2")}}},
		"batch_dry_run", "MigrateBatch: dry run (reads, writes nothing, plan per user)")

	for _, l := range waiting {
		s.waitState(login(l), workflows.StateAwaitingSignIn, time.Minute)
	}
	if reportPaths {
		require.NoError(t, s.c.SignalWorkflow(ctx, workflows.UserWorkflowID(login("refused")), "", workflows.SignalPasswordVerified,
			workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeUnverified, Code: 50126, Reason: "wrong_password", At: time.Now(), EventID: "r-1"}))
	}
	if v4 {
		s.okta.SetProvider(login("weak"), "OKTA") // Okta stored the password the hook verified
		require.NoError(t, s.c.SignalWorkflow(ctx, workflows.UserWorkflowID(login("weak")), "", workflows.SignalPasswordVerified,
			workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeVerified, Reason: "ok", At: time.Now(), EventID: "w-1",
				BelowPolicy: []string{"minLength", "dictionary.common"}}))
	}
	if v4 {
		s.entra.SetGroups(login("groups"), entra.Group{ID: "11111111-0000-4000-8000-000000000002", DisplayName: "Marketing", SecurityEnabled: true})
	}
	s.signIn(login("signin"))
	s.signIn(login("adopt"))
	s.signIn(login("cas"))
	s.signIn(login("closed"))
	// Entra verified, Okta has not stored it yet: the first check fails.
	require.NoError(t, s.c.SignalWorkflow(ctx, workflows.UserWorkflowID(login("confirm")), "", workflows.SignalPasswordVerified,
		workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeVerified, At: time.Now(), EventID: "c-1"}))
	s.okta.SetProvider(login("reconcile"), "OKTA")
	s.okta.SetProvider(login("event"), "OKTA")
	require.NoError(t, s.c.SignalWorkflow(ctx, workflows.UserWorkflowID(login("event")), "", workflows.SignalPasswordImportEvent,
		workflows.PasswordImportEventSignal{EventID: "ev-1", Outcome: "SUCCESS", Published: time.Now()}))
	update := func(local, name string, arg any) {
		h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.UserWorkflowID(login(local)),
			UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		require.NoError(t, err, local)
		require.NoError(t, h.Get(ctx, nil), local)
	}
	update("skip", workflows.UpdateSkip, workflows.SkipRequest{Reason: "shared mailbox"})
	if v3 {
		s.waitState(login("held"), workflows.StateAwaitingSignIn, time.Minute)
		require.NoError(t, s.c.SignalWorkflow(ctx, workflows.UserWorkflowID(login("held")), "", workflows.SignalPasswordVerified,
			workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeUnverified, Reason: workflows.ReasonIdentityMismatch, At: time.Now(), EventID: "h-1"}))
		require.Eventually(t, func() bool { st, err := s.status(login("held")); return err == nil && st.Hold != "" }, 30*time.Second, 200*time.Millisecond)
		update("held", workflows.UpdateReleaseHold, workflows.ReleaseHoldRequest{Reason: "checked: the same person"})
		s.signIn(login("held"))
	}
	update("extend", workflows.UpdateExtendDeadline, workflows.ExtendDeadlineRequest{By: 10 * time.Second})
	require.NoError(t, s.c.CancelWorkflow(ctx, workflows.UserWorkflowID(login("cancel")), ""))
	s.waitState(login("b-signin"), workflows.StateAwaitingSignIn, time.Minute)
	s.signIn(login("b-signin"))
	if current {
		s.waitState(login("b-cancel"), workflows.StateAwaitingSignIn, time.Minute)
		require.NoError(t, s.c.CancelWorkflow(ctx, workflows.UserWorkflowID(login("b-cancel")), ""))
		s.waitState(login("b-term"), workflows.StateAwaitingSignIn, time.Minute)
		require.NoError(t, s.c.TerminateWorkflow(ctx, workflows.UserWorkflowID(login("b-term")), "", "recorded path: terminated"))
	}
	time.Sleep(5 * time.Second)
	s.okta.SetProvider(login("confirm"), "OKTA") // the retry a minute later finds it
	time.Sleep(time.Until(t0.Add(20 * time.Second)))
	s.okta.SetProvider(login("recheck"), "OKTA") // signed in; its signal was lost
	if v4 {
		// After its first reconciliation (a minute in), which moved it.
		time.Sleep(time.Until(t0.Add(80 * time.Second)))
		s.signIn(login("groups"))
	}

	// Wait for everything to close, then record every run.
	var mu sync.Mutex
	var lines []string
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, r := range recs {
		wctx, cancel := context.WithTimeout(ctx, time.Until(t0.Add(4*time.Minute)))
		err := s.c.GetWorkflow(wctx, r.id, "").Get(wctx, nil)
		cancel()
		if err != nil {
			t.Logf("%s ended with %v", r.id, err)
		}
		var ids []string
		require.Eventually(t, func() bool { ids = s.runIDs(r.id); return len(ids) > 0 }, 30*time.Second, 200*time.Millisecond)
		for i, runID := range ids {
			name := r.name
			covers := r.covers
			if len(ids) > 1 {
				name = fmt.Sprintf("%s.run%d", r.name, i+1)
				covers = fmt.Sprintf("%s (run %d of %d)", r.covers, i+1, len(ids))
			}
			data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(s.history(r.id, runID))
			require.NoError(t, err)
			data = append(data, '\n')
			path := filepath.Join(dir, name+".json")
			require.NoError(t, os.WriteFile(path, data, 0o444))
			sum := sha256.Sum256(data)
			mu.Lock()
			lines = append(lines, fmt.Sprintf("%s/%s.json\t%s\t%s: %s", gen, name, hex.EncodeToString(sum[:]), gen, covers))
			mu.Unlock()
		}
	}
	n, first := s.workflowTaskFailures()
	require.Zero(t, n, first)
	// The release's own manifest: an earlier manifest is never edited.
	manifest := "# The " + gen + " recordings (see ../MANIFEST for the format): listed here so that no earlier manifest is ever edited.\n" +
		strings.Join(lines, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte(manifest), 0o644))
}
