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
	batch := fs.String("batch", "", "batch name: shows in the Web UI as MigrationBatch (required)")
	group := fs.String("group", "", "Entra group object id: its transitive user members")
	filter := fs.String("filter", "", "Microsoft Graph $filter over /users, e.g. \"department eq 'Sales'\"")
	usersFile := fs.String("users", "", "CSV file of user principal names (a login/upn column, or the first column)")
	all := fs.Bool("all", false, "every user of the tenant")
	deadline := fs.String("deadline", "60d", "when the straggler policy applies: 60d, 36h, or an RFC 3339 time")
	policy := fs.String("on-deadline", "none", "straggler policy: none, expire-password, reset-password or deactivate")
	dryRun := fs.Bool("dry-run", false, "read Entra ID and Okta, write nothing, print what would happen per user")
	wait := fs.Bool("wait", false, "show live progress until every user is imported (and, for a dry run, the plan)")
	window := fs.Int("window", 0, fmt.Sprintf("users imported at once (default %d, at most %d)", workflows.DefaultWindowSize, workflows.MaxWindowSize))
	reconcile := fs.Duration("reconcile-every", 0, "how often a waiting user's Okta record is re-read (default 24h)")
	federated := fs.Bool("federated-to-deadline", false, "migrate users of federated domains and leave them to the deadline policy, instead of Ineligible")
	var maps attrmap.Flags
	fs.Var(&maps, "map", "copy a Graph user property to an Okta profile attribute, graphAttr=oktaAttr (repeatable), e.g. "+
		"officeLocation=officeLocation or onPremisesExtensionAttributes.extensionAttribute3=costCenter; checked against the Okta user schema first")
	mapFile := fs.String("map-file", "", "attribute mappings from a file: YAML (graphAttr: oktaAttr) or CSV (graphAttr,oktaAttr), one per line")
	mapDefaults := fs.Bool("map-defaults", true, "keep the default mappings (givenName→firstName, surname→lastName, mail→email, ...) beside --map and --map-file")
	groupsFile := fs.String("map-groups", "", "Entra groups to Okta groups from a file: YAML (entraGroup: oktaGroup) or CSV (entraGroup,oktaGroup); "+
		"an Entra group is an object ID or display name, an Okta group a name (created when missing) or the ID of an existing OKTA_GROUP")
	groupsPrefix := fs.String("map-groups-prefix", "", "every Entra security group whose display name starts with this (case-sensitive) "+
		"becomes the Okta group of the same name, created when missing")
	syncGroups := fs.Bool("sync-groups", false, "at each reconciliation before the first sign-in, give a user the difference of its Entra groups "+
		"(never removing an Okta membership the migration did not add)")
	var of oktaFlags
	of.register(fs, env)
	asJSON := fs.Bool("json", false, "one JSON document on stdout: the batch, its workflow and run, the attribute mappings (not with --wait; notes go to stderr)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *asJSON && *wait {
		return usageErr(io, "--json writes one document: not with --wait")
	}
	// With --json, stdout holds the document alone: the notes go to stderr.
	notes := io
	if *asJSON {
		notes.Out = io.Err
	}
	if err := checkBatchName(*batch); err != nil {
		return usageErr(io, "%v", err)
	}
	in := workflows.MigrateBatchInput{
		Batch: *batch, Policy: workflows.DeadlinePolicy(*policy), DryRun: *dryRun, WindowSize: *window,
		ReconcileEvery: *reconcile, FederatedToDeadline: *federated,
	}
	if !in.Policy.Valid() {
		return usageErr(io, "--on-deadline %q: want none, expire-password, reset-password or deactivate", *policy)
	}
	if *window < 0 || *window > workflows.MaxWindowSize {
		return usageErr(io, "--window must be between 1 and %d", workflows.MaxWindowSize)
	}
	var err error
	if in.DeadlineAfter, in.Deadline, err = ParseDeadline(*deadline); err != nil {
		return usageErr(io, "%v", err)
	}
	sources := 0
	for _, set := range []bool{*group != "", *filter != "", *usersFile != "", *all} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return usageErr(io, "give exactly one of --group, --filter, --users or --all")
	}
	switch {
	case *group != "":
		in.Source = entra.Source{GroupID: *group}
	case *filter != "":
		in.Source = entra.Source{Filter: *filter}
	case *all:
		in.Source = entra.Source{All: true}
	default:
		src, err := usersSource(*usersFile)
		if err != nil {
			return usageErr(io, "%v", err)
		}
		in.Source = src
		if src.CSV != nil {
			fmt.Fprintf(notes.Out, "%d logins: the workers read %s a page at a time (every worker must see it at this path)\n",
				src.CSV.Rows, src.CSV.Path)
		}
	}
	if in.Groups, err = groupMapping(*groupsFile, *groupsPrefix, *syncGroups); err != nil {
		return usageErr(io, "%v", err)
	}
	if in.Groups.Enabled() {
		fmt.Fprintf(notes.Out, "group mapping: %s\n", describeGroups(in.Groups))
	}
	if len(maps) > 0 || *mapFile != "" || !*mapDefaults {
		attrs, code := checkMappings(ctx, maps, *mapFile, *mapDefaults, &of, notes)
		if code != ExitOK {
			return code
		}
		in.Attributes = attrs
	}

	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	run, err := control.StartBatch(ctx, c, in)
	if err != nil {
		return fail(io, "%v", err)
	}
	if *asJSON {
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
	if !*wait {
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
