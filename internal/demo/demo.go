// Package demo runs the whole product on one machine with nothing but Go:
// the pinned Temporal dev server with its Web UI, the Entra ID / Graph and Okta
// emulators seeded with a realistic directory, the worker and the hook server,
// then a batch, simulated first sign-ins through Okta's /api/v1/authn (right and
// wrong passwords, MFA users, an attacker hammering one account), live progress
// and a per-state summary. It is what "starter demo" runs, and it checks its own
// outcome: the demo fails if any user ends in a state it should not.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/demodata"
	"entra2okta/internal/devstack"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/temporalconn"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

// Options configure a demo run.
type Options struct {
	// Users is the size of the seeded directory (default 300).
	Users int
	// Deadline is the batch's deadline after its start (default 90 s, so
	// the stragglers' policy runs while you watch).
	Deadline time.Duration
	// Temporal, when set, is the connection to an existing Temporal server
	// to use instead of starting the dev server (its namespace must allow
	// our search attributes); the starter builds it from Temporal's
	// environment configuration.
	Temporal *temporalconn.Config
	// TemporalAddress, when set and Temporal is not, uses that server
	// without TLS.
	TemporalAddress string
	Namespace       string
	// UIPort is the Web UI's port when the demo starts the dev server
	// (default 8233; a free port when taken; negative: any free port, and the
	// server on a free port too instead of 7233).
	UIPort int
	// Keep leaves everything running after the summary, until ctx ends.
	Keep bool
	// Dir receives the demo's log file and CA certificate (default: a new
	// temporary directory).
	Dir string
	// Out receives the demo's narrative.
	Out io.Writer
}

const (
	apiToken   = "demo-okta-api-token"
	oktaRPS    = 40.0
	createRPS  = 20.0
	attackerIP = "203.0.113.66"
)

// Run runs the demo until its summary (or, with Keep, until ctx ends).
func Run(ctx context.Context, opts Options) error {
	if opts.Users <= 0 {
		opts.Users = 300
	}
	if opts.Deadline <= 0 {
		opts.Deadline = 90 * time.Second
	}
	if opts.UIPort == 0 {
		opts.UIPort = 8233
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Temporal == nil && opts.TemporalAddress != "" {
		conn := temporalconn.Plain(opts.TemporalAddress, opts.Namespace)
		opts.Temporal = &conn
	}
	if opts.Temporal != nil {
		opts.TemporalAddress, opts.Namespace = opts.Temporal.Address(), opts.Temporal.Namespace()
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	d := &demo{opts: opts, out: opts.Out, start: time.Now()}
	defer d.close()
	if err := d.setup(ctx); err != nil {
		return err
	}
	if err := d.run(ctx); err != nil {
		return err
	}
	if opts.Keep {
		d.printKeep()
		<-ctx.Done()
		d.say("stopping")
	}
	return nil
}

type demo struct {
	opts  Options
	out   io.Writer
	start time.Time

	dir     string
	logFile *os.File
	logger  *slog.Logger
	closers []func()

	st      *devstack.Stack
	tc      client.Client
	okta    *fakeokta.Server
	entra   *fakeentra.Server
	seeded  demodata.Directory
	batch   string
	o365App string
	hires   []fakeentra.DemoUser // new hires Okta assigns to Office 365 (event-driven)
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "[%5.1fs] "+format+"\n", append([]any{time.Since(d.start).Seconds()}, args...)...)
}

func (d *demo) onClose(f func()) { d.closers = append(d.closers, f) }

// close stops everything the demo started, last started first.
func (d *demo) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

func (d *demo) setup(ctx context.Context) error {
	var err error
	d.dir = d.opts.Dir
	if d.dir == "" {
		if d.dir, err = os.MkdirTemp("", "entra2okta-demo-"); err != nil {
			return err
		}
	}
	if d.logFile, err = os.Create(filepath.Join(d.dir, "demo.log")); err != nil {
		return err
	}
	d.onClose(func() { _ = d.logFile.Close() })
	d.logger = slog.New(slog.NewJSONHandler(d.logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d.say("entra2okta demo — component logs: %s", d.logFile.Name())

	opts := devstack.Options{
		Temporal: d.opts.Temporal, Users: d.opts.Users, Okta: fakeokta.Options{APITokens: []string{apiToken}},
		Hook: &devstack.HookOptions{Configure: d.configureHook}, Worker: devstack.InProcess,
		WorkerConfig: func(c *worker.Config) { c.OktaRPS, c.OktaCreateRPS, c.GraphRPS = oktaRPS, createRPS, 100 },
		Dir:          d.dir, Output: d.logFile, Logger: d.logger,
	}
	if d.opts.Temporal != nil {
		d.say("using the Temporal server at %s", *d.opts.Temporal)
	} else {
		d.say("starting the Temporal dev server (the first run builds the pinned Temporal CLI from the Go module proxy: a few minutes)")
		opts.DevServer = d.devServerOptions()
	}
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	d.onClose(func() { _ = st.Close() })
	d.st, d.tc, d.okta, d.entra, d.seeded = st, st.Client(), st.Okta(), st.Entra(), st.Directory()
	if srv := st.DevServer(); srv != nil {
		d.say("Temporal dev server at %s, Web UI at %s", srv.HostPort(), srv.UIURL())
	}
	d.say("fakeentra at %s: tenant %s with %d users (%d groups); fakeokta at %s with %d users imported STAGED by the Office 365 app and %d already on Okta passwords",
		st.EntraURL(), d.seeded.TenantID, len(d.seeded.Users), len(d.seeded.GroupIDs), st.OktaURL(), len(d.seeded.Staged), len(d.seeded.AlreadyInOkta))
	d.say("hook server at %s: the password import inline hook, and the event hook (Office 365 assignments, user.import.password), registered and verified in fakeokta",
		st.HookBaseURL())
	d.say("worker running: Okta creates at ≤ %.0f/s and other calls at ≤ %.0f/s (server-enforced on task queues %s and %s)",
		createRPS, oktaRPS, workflows.OktaCreateTaskQueue, workflows.OktaTaskQueue)
	return nil
}

// devServerOptions puts the Web UI on opts.UIPort (a free port when taken)
// and the server on 7233 when free.
func (d *demo) devServerOptions() devtemporal.Options {
	uiPort := d.opts.UIPort
	if uiPort < 0 || !portFree(uiPort) {
		uiPort = 0
	}
	hostPort := ""
	if uiPort != 0 && portFree(7233) {
		hostPort = "127.0.0.1:7233"
	}
	return devtemporal.Options{HostPort: hostPort, Namespace: d.opts.Namespace, EnableUI: true, UIPort: uiPort}
}

// configureHook adds the Office 365 app to fakeokta and serves the event
// hook: assigning a user to the app starts the user's migration.
func (d *demo) configureHook(s *devstack.Stack, cfg *hookserver.ServerConfig) error {
	var err error
	if d.o365App, err = s.Okta().AddApp("", "Microsoft Office 365"); err != nil {
		return err
	}
	cfg.Events = &eventhook.EventConfig{Client: s.Client(), AppID: d.o365App, DeadlineAfter: d.opts.Deadline, Policy: workflows.PolicyExpirePassword}
	return nil
}

// departmentGroups maps the seeded Entra departments to Okta groups of the
// same name; Platform, nested in Engineering, lands in Engineering's group.
var departmentGroups = []workflows.GroupRule{
	{Entra: "Engineering", Okta: "Engineering"}, {Entra: "Sales", Okta: "Sales"}, {Entra: "Marketing", Okta: "Marketing"},
	{Entra: "Finance", Okta: "Finance"}, {Entra: "Support", Okta: "Support"},
}

func (d *demo) run(ctx context.Context) error {
	d.batch = "demo-" + time.Now().UTC().Format("20060102-150405")
	in := workflows.MigrateBatchInput{
		Batch: d.batch, Source: entra.Source{GroupID: d.seeded.AllStaffGroupID},
		DeadlineAfter: d.opts.Deadline, Policy: workflows.PolicyExpirePassword, ReconcileEvery: workflows.MinReconcileEvery,
		Groups: workflows.GroupMapping{Rules: departmentGroups},
	}
	run, err := control.StartBatch(ctx, d.tc, in)
	if err != nil {
		return err
	}
	d.say("batch %s started (group \"All Staff\", transitive): deadline in %s, then expire-password", d.batch, d.opts.Deadline)
	if err := d.waitImported(ctx); err != nil {
		return err
	}
	if err := d.assignNewHires(ctx); err != nil {
		return err
	}
	plan := d.signIns()
	d.say("simulating first sign-ins at Okta (/api/v1/authn): %d users type their Entra password (%d of them MFA-enforced in Entra, %d after a typo first), %d whose Entra password is expired or blocked by conditional access, and an attacker trying %d passwords on %s",
		len(plan.right)+len(plan.wrongThenRight), plan.mfa, len(plan.wrongThenRight), len(plan.refused), plan.attackTries, plan.victim)
	res := d.doSignIns(ctx, plan)
	d.say("sign-ins done: %d succeeded, %d refused", res.ok, res.refused)
	if err := d.waitFinal(ctx); err != nil {
		return err
	}
	var final workflows.MigrateBatchResult
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = run.Get(rctx, &final)
	cancel()
	if err != nil {
		return fmt.Errorf("batch %s: %w", d.batch, err)
	}
	return d.summary(ctx, plan, res)
}

// assignNewHires adds three people to Entra ID who are in no batch, imports
// them STAGED into Okta as the Office 365 app does, and assigns them to the
// Office 365 app: Okta's event hook starts their migrations.
func (d *demo) assignNewHires(ctx context.Context) error {
	for i := 1; i <= 3; i++ {
		upn := fmt.Sprintf("new.hire%d@%s", i, fakeentra.DemoDomain)
		u := fakeentra.DemoUser{UserPrincipalName: upn, Password: fakeentra.DemoPassword(upn), State: fakeentra.StateNormal}
		id, err := d.entra.AddUser(fakeentra.User{UserPrincipalName: upn, Password: u.Password,
			Attributes: map[string]any{"givenName": "New", "surname": fmt.Sprintf("Hire%d", i), "displayName": fmt.Sprintf("New Hire %d", i),
				"mail": upn, "department": "Sales", "jobTitle": "Account Executive"}})
		if err != nil {
			return err
		}
		u.ID = id
		if _, err := d.okta.SeedUser(fakeokta.SeedUser{Status: fakeokta.StatusStaged,
			Profile: map[string]any{"login": upn, "email": upn, "firstName": "New", "lastName": fmt.Sprintf("Hire%d", i)}}); err != nil {
			return err
		}
		if err := d.okta.AssignUserToApp(d.o365App, upn); err != nil {
			return err
		}
		d.hires = append(d.hires, u)
	}
	d.say("Okta assigned %d new hires (in no batch) to Office 365: the event hook starts their migrations (batch label %s)",
		len(d.hires), eventhook.DefaultEventsBatch)
	for {
		sc, err := control.CountStates(ctx, d.tc, d.opts.Namespace, eventhook.DefaultEventsBatch)
		if err == nil && sc.States[workflows.StateAwaitingSignIn] == int64(len(d.hires)) {
			d.say("the new hires are imported and wait for their first sign-in")
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitImported shows progress until every user is past the import phase.
func (d *demo) waitImported(ctx context.Context) error {
	last := ""
	for {
		p, err := control.BatchProgress(ctx, d.tc, d.batch)
		if err == nil {
			line := progress(p)
			if line != last {
				d.say("%s", line)
				last = line
			}
			if control.ImportDone(p) && p.Started > 0 {
				d.say("every user is imported; %d wait for their first Okta sign-in", p.States[workflows.StateAwaitingSignIn])
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func progress(p workflows.BatchProgress) string {
	var parts []string
	for _, s := range workflows.States() {
		if n := p.States[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	return fmt.Sprintf("listed %d, started %d, importing %d | %s", p.Listed, p.Started, p.Importing, strings.Join(parts, " · "))
}

// waitFinal waits until every user of the batch is in a final state.
func (d *demo) waitFinal(ctx context.Context) error {
	d.say("waiting for the deadline: users who did not sign in get the expire-password policy")
	last := ""
	for {
		sc, err := control.CountStates(ctx, d.tc, d.opts.Namespace, d.batch)
		if err == nil {
			var parts []string
			for _, s := range workflows.States() {
				if n := sc.States[s]; n > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", s, n))
				}
			}
			line := strings.Join(parts, " · ")
			if line != last {
				d.say("%s", line)
				last = line
			}
			ev, everr := control.CountStates(ctx, d.tc, d.opts.Namespace, eventhook.DefaultEventsBatch)
			if sc.Total > 0 && sc.Done() == sc.Total && everr == nil && ev.Done() == ev.Total {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

type signInPlan struct {
	right, wrongThenRight, refused []fakeentra.DemoUser // refused: right password that Entra's policy refuses
	mfa                            int
	victim                         string
	attackTries                    int
}

// signIns decides who signs in and how. Users not listed never sign in.
func (d *demo) signIns() signInPlan {
	var p signInPlan
	skip := map[string]bool{}
	for _, l := range d.seeded.AlreadyInOkta {
		skip[strings.ToLower(l)] = true
	}
	var eligible []fakeentra.DemoUser
	for _, u := range d.seeded.Users {
		if u.Guest || u.Disabled || u.Federated || skip[strings.ToLower(u.UserPrincipalName)] {
			continue
		}
		eligible = append(eligible, u)
	}
	for i, u := range eligible {
		switch {
		case i == 1:
			p.victim = u.UserPrincipalName // attacked; does not sign in itself
		case u.State == fakeentra.StatePasswordExpired || u.State == fakeentra.StateConditionalAccess:
			if i%2 == 0 {
				p.refused = append(p.refused, u)
			}
		case i%10 == 7: // one user in ten never comes
		case i%6 == 5:
			p.wrongThenRight = append(p.wrongThenRight, u)
		default:
			p.right = append(p.right, u)
			if u.State == fakeentra.StateMFARequired {
				p.mfa++
			}
		}
	}
	p.right = append(p.right, d.hires...)
	p.attackTries = 25
	return p
}

type signInResult struct {
	ok, refused        int
	unexpected         []string
	attackReachedEntra int
}

func (d *demo) doSignIns(ctx context.Context, p signInPlan) signInResult {
	hc := d.st.CA().HTTPClient(15 * time.Second)
	var (
		mu  sync.Mutex
		res signInResult
		wg  sync.WaitGroup
		sem = make(chan struct{}, 8)
	)
	record := func(login string, ok, want bool) {
		mu.Lock()
		defer mu.Unlock()
		if ok {
			res.ok++
		} else {
			res.refused++
		}
		if ok != want {
			res.unexpected = append(res.unexpected, fmt.Sprintf("%s: sign-in %v, expected %v", login, ok, want))
		}
	}
	signIn := func(login, password, ip string) bool {
		ok, err := authn(ctx, d.st, hc, login, password, ip)
		if err != nil {
			d.logger.Warn("demo sign-in request failed", "login", login, "err", err)
		}
		return ok
	}
	do := func(f func()) {
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer wg.Done(); defer func() { <-sem }(); f() }()
	}
	for i, u := range p.right {
		ip := fmt.Sprintf("198.51.100.%d", 1+i%250)
		do(func() { record(u.UserPrincipalName, signIn(u.UserPrincipalName, u.Password, ip), true) })
	}
	for i, u := range p.wrongThenRight {
		ip := fmt.Sprintf("192.0.2.%d", 1+i%250)
		do(func() {
			record(u.UserPrincipalName, signIn(u.UserPrincipalName, u.Password+"typo", ip), false)
			record(u.UserPrincipalName, signIn(u.UserPrincipalName, u.Password, ip), true)
		})
	}
	for i, u := range p.refused {
		ip := fmt.Sprintf("198.18.0.%d", 1+i%250)
		do(func() { record(u.UserPrincipalName, signIn(u.UserPrincipalName, u.Password, ip), false) })
	}
	before := d.entra.TokenRequests(p.victim)
	do(func() {
		for i := range p.attackTries {
			record(p.victim, signIn(p.victim, fmt.Sprintf("Summer2026!%d", i), attackerIP), false)
		}
	})
	wg.Wait()
	res.attackReachedEntra = d.entra.TokenRequests(p.victim) - before
	return res
}

// authn signs in through fakeokta's Classic authentication API.
func authn(ctx context.Context, st *devstack.Stack, hc *http.Client, login, password, ip string) (bool, error) {
	code, err := st.SignIn(ctx, hc, login, password, ip)
	if err != nil {
		return false, err
	}
	if code == http.StatusTooManyRequests {
		return false, errors.New("rate limited by Okta")
	}
	return code == http.StatusOK, nil
}

func (d *demo) summary(ctx context.Context, p signInPlan, res signInResult) error {
	sc, err := control.CountStates(ctx, d.tc, d.opts.Namespace, d.batch)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.out)
	fmt.Fprintf(d.out, "Batch %s — %d users, finished in %s\n", d.batch, sc.Total, time.Since(d.start).Round(time.Second))
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tUSERS\tWHY")
	why := map[workflows.State]string{
		workflows.StateMigrated:        "signed in once at Okta; the hook verified the password against Entra ID; Okta keeps it",
		workflows.StateAlreadyMigrated: "already held an Okta password: left alone",
		workflows.StateIneligible:      "disabled, guest or federated-domain accounts",
		workflows.StateExpired:         "never signed in (or Entra refused: expired password, conditional access) before the deadline; password expired",
		workflows.StateFailed:          "errors: see starter report",
	}
	for _, s := range workflows.States() {
		if n := sc.States[s]; n > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", s, n, why[s])
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(d.out)

	// Checks: the demo proves its own outcome.
	var problems []string
	wantMigrated := len(p.right) + len(p.wrongThenRight) - len(d.hires)
	if got := sc.States[workflows.StateMigrated]; int(got) != wantMigrated {
		problems = append(problems, fmt.Sprintf("%d users Migrated, expected %d (everyone who typed the right password)", got, wantMigrated))
	}
	if n := sc.States[workflows.StateFailed]; n > 0 {
		problems = append(problems, fmt.Sprintf("%d users Failed", n))
	}
	if got := sc.States[workflows.StateAlreadyMigrated]; int(got) != len(d.seeded.AlreadyInOkta) {
		problems = append(problems, fmt.Sprintf("%d users AlreadyMigrated, expected %d", got, len(d.seeded.AlreadyInOkta)))
	}
	problems = append(problems, res.unexpected...)
	for _, u := range append(append([]fakeentra.DemoUser{}, p.right...), p.wrongThenRight...) {
		if !d.okta.CheckPassword(u.UserPrincipalName, u.Password) {
			problems = append(problems, u.UserPrincipalName+": Okta does not hold the verified password")
		}
	}
	problems = append(problems, d.groupSummary(sc)...)
	ev, err := control.CountStates(ctx, d.tc, d.opts.Namespace, eventhook.DefaultEventsBatch)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Event-driven (no batch): %d new hires assigned to Office 365 in Okta → %d Migrated after their first sign-in.\n",
		len(d.hires), ev.States[workflows.StateMigrated])
	if int(ev.States[workflows.StateMigrated]) != len(d.hires) {
		problems = append(problems, fmt.Sprintf("%d of %d new hires Migrated", ev.States[workflows.StateMigrated], len(d.hires)))
	}
	lk := d.entra.Lockout(p.victim)
	fmt.Fprintf(d.out, "Attacker: %d wrong passwords for %s at Okta → %d reached Entra ID (abuse shield); Entra smart lockout: locked=%v.\n",
		p.attackTries, p.victim, res.attackReachedEntra, lk.Locked)
	if lk.Locked {
		problems = append(problems, "the attacker locked the victim out of Entra ID")
	}
	fmt.Fprintf(d.out, "Hook calls from Okta: %d. Passwords stored by Okta for every verified user; none in Temporal, logs or files.\n",
		len(d.okta.HookCalls()))
	if srv := d.st.DevServer(); srv != nil && srv.UIURL() != "" {
		// Each user's page there shows its state, the reason and its
		// deadline (the workflow's current details).
		ui := srv.UIURL()
		fmt.Fprintf(d.out, "Temporal Web UI, users of batch %s: %s\n", d.batch, control.WebUIUsersURL(ui, d.opts.Namespace, d.batch, ""))
		for _, s := range workflows.States() {
			if n := sc.States[s]; n > 0 {
				fmt.Fprintf(d.out, "  %s (%d): %s\n", s, n, control.WebUIUsersURL(ui, d.opts.Namespace, d.batch, s))
			}
		}
	}
	fmt.Fprintf(d.out, "Per-user report (state, reason, last sign-in, Okta user): go run ./starter report --batch %s --temporal-address %s\n", d.batch, d.hostPort())
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("demo outcome not as expected:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Fprintln(d.out, "Demo OK.")
	return nil
}

// groupSummary shows the Okta groups the departments became, and checks
// that each exists once and that the batch's imported users (Migrated and
// Expired: each got an Okta user) are each in one department group.
func (d *demo) groupSummary(sc control.StateCounts) []string {
	var problems []string
	count := map[string]int{}
	members := 0
	var parts []string
	for _, g := range d.okta.Groups() {
		count[g.Name]++
		if slices.ContainsFunc(departmentGroups, func(r workflows.GroupRule) bool { return r.Okta == g.Name }) {
			parts = append(parts, fmt.Sprintf("%s %d", g.Name, len(g.Members)))
			members += len(g.Members)
		}
	}
	fmt.Fprintf(d.out, "Okta groups from the Entra departments: %s (%d memberships).\n", strings.Join(parts, ", "), members)
	for _, r := range departmentGroups {
		if count[r.Okta] != 1 {
			problems = append(problems, fmt.Sprintf("Okta group %s exists %d times", r.Okta, count[r.Okta]))
		}
	}
	if want := int(sc.States[workflows.StateMigrated] + sc.States[workflows.StateExpired]); members != want {
		problems = append(problems, fmt.Sprintf("%d department group memberships, expected %d (one per imported user)", members, want))
	}
	return problems
}

func (d *demo) hostPort() string { return d.st.TemporalAddress() }

func (d *demo) printKeep() {
	fmt.Fprintf(d.out, `
Still running (--keep); Ctrl-C stops everything.
  Temporal:        %s   Web UI: %s
  fakeokta (org):  %s   API token: %s
  fakeentra:       %s   tenant %s
  hook server:     %s
  CA certificate:  %s   (export SSL_CERT_FILE=%s to call the emulators)
  Try:             go run ./starter status --batch %s --temporal-address %s
`, d.hostPort(), uiURL(d.st.DevServer()), d.st.OktaURL(), apiToken, d.st.EntraURL(), d.seeded.TenantID, d.st.HookURL(),
		filepath.Join(d.dir, "ca.pem"), filepath.Join(d.dir, "ca.pem"), d.batch, d.hostPort())
}

func uiURL(s *devtemporal.Server) string {
	if s == nil {
		return "(external server)"
	}
	return s.UIURL()
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
