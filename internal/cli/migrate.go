package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/control"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/attrmap"
	"entra2okta/internal/entra"
	"entra2okta/internal/logincsv"
	"entra2okta/workflows"
)

// ParseDeadline reads a deadline: a duration from now ("60d", "36h", "90m"),
// or an absolute RFC 3339 time. It returns the duration and/or the time.
func ParseDeadline(s string) (after time.Duration, at time.Time, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, time.Time{}, errors.New("empty deadline")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return 0, t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n <= 0 {
			return 0, time.Time{}, fmt.Errorf("deadline %q: want a positive number of days like 60d", s)
		}
		return time.Duration(n * float64(24*time.Hour)), time.Time{}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, time.Time{}, fmt.Errorf("deadline %q: want 60d, 36h, 90m or an RFC 3339 time", s)
	}
	return d, time.Time{}, nil
}

// ReadLoginsCSV reads user principal names from a CSV file: the column named
// login, upn, userPrincipalName or email when there is a header, else the first
// column. Blank lines and lines starting with # are skipped; duplicates
// (case-insensitive) are dropped.
func ReadLoginsCSV(r io.Reader) ([]string, error) { return logincsv.Read(r) }

// usersSource is the batch source of a users file: its logins in the
// workflow's input when they are few (entra.MaxInlineLogins), else the file
// itself, pinned by its SHA-256, which every worker must be able to read at
// the same path.
func usersSource(path string) (entra.Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return entra.Source{}, err
	}
	logins, err := ReadLoginsCSV(f)
	f.Close()
	if err != nil {
		return entra.Source{}, err
	}
	if len(logins) <= entra.MaxInlineLogins {
		return entra.Source{Logins: logins}, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return entra.Source{}, err
	}
	sha, rows, err := logincsv.Describe(abs)
	if err != nil {
		return entra.Source{}, err
	}
	return entra.Source{CSV: &entra.CSVFile{Path: abs, SHA256: sha, Rows: rows}}, nil
}

func runMigrate(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("migrate",
		"migrate --batch NAME (--group ID | --filter ODATA | --users FILE.csv | --all) [--deadline 60d] [--on-deadline POLICY] "+
			"[--map graphAttr=oktaAttr ...] [--map-file F.yaml|F.csv] [--map-defaults=false] "+
			"[--map-groups G.yaml|G.csv] [--map-groups-prefix P] [--sync-groups] [--dry-run] [--wait]", io)
	var tf temporalFlags
	tf.register(fs, env)
	var m migrateFlags
	var of oktaFlags
	m.register(fs, &of, env)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if m.asJSON && m.wait {
		return usageErr(io, "--json writes one document: not with --wait")
	}
	// With --json, stdout holds the document alone: the notes go to stderr.
	notes := io
	if m.asJSON {
		notes.Out = io.Err
	}
	in, code := m.batchInput(ctx, &of, io, notes)
	if code != ExitOK {
		return code
	}
	return startMigrate(ctx, &tf, in, m.asJSON, m.wait, io)
}

// batchInput checks the flags and builds the batch's input from them; the
// second result is ExitOK or the exit code of the usage error it printed.
func (m *migrateFlags) batchInput(ctx context.Context, of *oktaFlags, io, notes IO) (workflows.MigrateBatchInput, int) {
	if err := checkBatchName(m.batch); err != nil {
		return workflows.MigrateBatchInput{}, usageErr(io, "%v", err)
	}
	in := workflows.MigrateBatchInput{
		Batch: m.batch, Policy: workflows.DeadlinePolicy(m.policy), DryRun: m.dryRun, WindowSize: m.window,
		ReconcileEvery: m.reconcile, FederatedToDeadline: m.federated,
	}
	if !in.Policy.Valid() {
		return in, usageErr(io, "--on-deadline %q: want none, expire-password, reset-password or deactivate", m.policy)
	}
	if m.window < 0 || m.window > workflows.MaxWindowSize {
		return in, usageErr(io, "--window must be between 1 and %d", workflows.MaxWindowSize)
	}
	var err error
	if in.DeadlineAfter, in.Deadline, err = ParseDeadline(m.deadline); err != nil {
		return in, usageErr(io, "%v", err)
	}
	if in.Source, err = m.source(notes); err != nil {
		return in, usageErr(io, "%v", err)
	}
	if in.Groups, err = groupMapping(m.groupsFile, m.groupsPrefix, m.syncGroups); err != nil {
		return in, usageErr(io, "%v", err)
	}
	if in.Groups.Enabled() {
		fmt.Fprintf(notes.Out, "group mapping: %s\n", describeGroups(in.Groups))
	}
	if len(m.maps) > 0 || m.mapFile != "" || !m.mapDefaults {
		attrs, code := checkMappings(ctx, m.maps, m.mapFile, m.mapDefaults, of, notes)
		if code != ExitOK {
			return in, code
		}
		in.Attributes = attrs
	}
	return in, ExitOK
}

// source is the batch's source: exactly one of --group, --filter, --users
// or --all. A users file too large to travel in the input is noted on
// notes.
func (m *migrateFlags) source(notes IO) (entra.Source, error) {
	sources := 0
	for _, set := range []bool{m.group != "", m.filter != "", m.usersFile != "", m.all} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return entra.Source{}, errors.New("give exactly one of --group, --filter, --users or --all")
	}
	switch {
	case m.group != "":
		return entra.Source{GroupID: m.group}, nil
	case m.filter != "":
		return entra.Source{Filter: m.filter}, nil
	case m.all:
		return entra.Source{All: true}, nil
	}
	src, err := usersSource(m.usersFile)
	if err != nil {
		return src, err
	}
	if src.CSV != nil {
		fmt.Fprintf(notes.Out, "%d logins: the workers read %s a page at a time (every worker must see it at this path)\n",
			src.CSV.Rows, src.CSV.Path)
	}
	return src, nil
}

// startMigrate starts the batch and reports it: as one JSON document, as
// lines, or (wait) with its progress until every user is imported.
func startMigrate(ctx context.Context, tf *temporalFlags, in workflows.MigrateBatchInput, asJSON, wait bool, io IO) int {
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	run, err := control.StartBatch(ctx, c, in)
	if err != nil {
		return fail(io, "%v", err)
	}
	if asJSON {
		doc := migrateJSON{Namespace: tf.namespace, Batch: in.Batch, DryRun: in.DryRun, WorkflowID: run.GetID(), RunID: run.GetRunID()}
		for _, m := range in.Attributes {
			doc.Mappings = append(doc.Mappings, mappingJSON{Graph: m.Graph, Okta: m.Okta})
		}
		return writeJSON(io, doc)
	}
	mode := "migration"
	if in.DryRun {
		mode = "dry run"
	}
	fmt.Fprintf(io.Out, "started %s of batch %s (workflow %s, run %s)\n", mode, in.Batch, run.GetID(), run.GetRunID())
	if !wait {
		fmt.Fprintf(io.Out, "follow it with: starter status --batch %s --watch\n", in.Batch)
		return ExitOK
	}
	return waitBatch(ctx, c, tf.namespace, in, run, io)
}

// schemaReadTimeout bounds the read of the Okta user schema that checks the
// mappings.
const schemaReadTimeout = 30 * time.Second

// checkMappings reads the mapping file and flags and checks them, with the
// defaults unless dropped, against Graph's user properties and the Okta user
// schema, before anything starts: every problem is a usage error naming the
// mapping and the closest valid names.
func checkMappings(ctx context.Context, flags attrmap.Flags, file string, keepDefaults bool, of *oktaFlags, io IO) ([]workflows.AttributeMapping, int) {
	var entries []attrmap.Entry
	if file != "" {
		fromFile, err := attrmap.ParseFile(file)
		if err != nil {
			return nil, usageErr(io, "--map-file: %v", err)
		}
		entries = append(entries, fromFile...)
	}
	entries = append(entries, flags...)
	oc, err := of.client(ctx)
	if err != nil {
		return nil, usageErr(io, "the attribute mappings are checked against the Okta user schema: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, schemaReadTimeout)
	defer cancel()
	schema, err := oc.GetUserSchema(sctx)
	if err != nil {
		return nil, fail(io, "read the Okta user schema to check the attribute mappings: %v", err)
	}
	res, err := attrmap.Validate(entries, keepDefaults, schema)
	if err != nil {
		return nil, usageErr(io, "%v", err)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(io.Out, "note: "+n)
	}
	parts := make([]string, len(res.Mappings))
	for i, m := range res.Mappings {
		parts[i] = m.Graph + "→" + m.Okta
	}
	fmt.Fprintf(io.Out, "attribute mappings (%d): %s\n", len(parts), strings.Join(parts, ", "))
	return res.Mappings, ExitOK
}

// failedUnreported counts the users whose workflow closed without reporting
// (terminated, timed out, failed, cancelled): they did not migrate.
func failedUnreported(p workflows.BatchProgress) int {
	n := 0
	for _, v := range p.Unreported {
		n += v
	}
	return n
}

// waitBatch shows a batch's progress until every listed user is past the
// import phase (a real batch waits weeks for sign-ins; --wait does not).
func waitBatch(ctx context.Context, c client.Client, namespace string, in workflows.MigrateBatchInput, run client.WorkflowRun, io IO) int {
	rps, _, _ := control.ActivityRateLimit(ctx, c, namespace, workflows.OktaTaskQueue)
	start := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		p, err := control.BatchProgress(ctx, c, in.Batch)
		if err != nil {
			return fail(io, "%v", err)
		}
		fmt.Fprintln(io.Out, progressLine(p, time.Since(start), rps))
		if in.DryRun && p.Done() {
			var res workflows.MigrateBatchResult
			if err := run.Get(ctx, &res); err != nil {
				return fail(io, "dry run: %v", err)
			}
			for _, e := range res.Plan {
				fmt.Fprintln(io.Out, "  "+e.String())
			}
			if res.PlanTruncated {
				fmt.Fprintf(io.Out, "  … (plan truncated; counts above cover every user)\n")
			}
			return ExitOK
		}
		if !in.DryRun {
			if control.ImportDone(p) {
				if n := p.States[workflows.StateFailed] + failedUnreported(p); n > 0 {
					fmt.Fprintf(io.Out, "%d users Failed: starter report --batch %s\n", n, in.Batch)
					return ExitFailures
				}
				fmt.Fprintf(io.Out, "every user is imported; waiting users migrate at their first Okta sign-in (deadline %s)\n",
					p.Deadline.Format(time.RFC3339))
				return ExitOK
			}
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(io.Out, "stopped watching; the batch goes on")
			return ExitOK
		case <-tick.C:
		}
	}
}

func progressLine(p workflows.BatchProgress, elapsed time.Duration, oktaRPS float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] listed %d started %d importing %d", elapsed.Round(time.Second), p.Listed, p.Started, p.Importing)
	if p.DryRun {
		for _, a := range []workflows.PlanAction{workflows.PlanCreate, workflows.PlanAdopt, workflows.PlanSkip, workflows.PlanError} {
			fmt.Fprintf(&b, " %s %d", a, p.Planned[a])
		}
		return b.String()
	}
	for _, s := range workflows.States() {
		if n := p.States[s]; n > 0 {
			fmt.Fprintf(&b, " | %s %d", s, n)
		}
	}
	if oktaRPS > 0 {
		left := p.Importing + p.States[workflows.StatePending]
		if !p.ListingDone {
			b.WriteString(" | listing…")
		} else if left > 0 {
			fmt.Fprintf(&b, " | ETA ~%s at %.0f Okta req/s", time.Duration(float64(left)*2/oktaRPS*float64(time.Second)).Round(time.Second), oktaRPS)
		}
	}
	return b.String()
}
