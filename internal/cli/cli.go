// Package cli implements the starter command: it launches and steers migration
// batches on Temporal (migrate, status, report, throttle, extend, skip,
// rollback) and runs the self-contained demo. starter/main.go only calls Main.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/control"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/settings"
	"entra2okta/internal/temporalconn"
)

// Exit codes that scripts can rely on.
const (
	ExitOK       = 0 // the command did what was asked
	ExitError    = 1 // the command failed (connection, server, API error)
	ExitUsage    = 2 // bad flags or arguments; nothing was done
	ExitFailures = 3 // the command worked, but the batch has users in state Failed
)

// Env reads configuration from the environment (os.Getenv in main).
type Env func(string) string

// IO is where a command writes.
type IO struct {
	Out, Err io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env Env, io IO) int
}

func commands() []command {
	return []command{
		{"demo", "run the whole product on emulators and a local Temporal, end to end", runDemo},
		{"preflight", "check Temporal, Okta, Entra ID and the hook server before a batch starts", runPreflight},
		{"migrate", "start (or dry-run) a migration batch", runMigrate},
		{"status", "counts of users per migration state, throughput and ETA", runStatus},
		{"report", "one row per user of a batch, as CSV or JSON", runReport},
		{"throttle", "change the Okta/Graph request rate of all workers at run time", runThrottle},
		{"extend", "move the deadline of every waiting user of a batch", runExtend},
		{"skip", "end one user's migration as Skipped", runSkip},
		{"release", "lift the identity hold of one user's migration", runRelease},
		{"rollback", "remove the Okta users a batch created that never signed in", runRollback},
		{"replay-check", "replay workflow histories against this build before deploying its worker", runReplayCheck},
		{"watch", "show the Okta events the hook server received and what it started or signalled", runWatch},
		{"version", "print the starter's version (module version and VCS revision)", runVersion},
	}
}

// Main runs the starter with its arguments (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, env Env, io IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.Err)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			// Every secret may come from a file (NAME_FILE); the commands
			// read the resolved values.
			env, err := secretenv.Getenv(env, secretenv.Names()...)
			if err != nil {
				fmt.Fprintf(io.Err, "starter: %v\n", err)
				return ExitUsage
			}
			return c.run(ctx, args[1:], env, io)
		}
	}
	fmt.Fprintf(io.Err, "starter: unknown command %q\n\n", args[0])
	usage(io.Err)
	return ExitUsage
}

func runVersion(_ context.Context, args []string, _ Env, io IO) int {
	fs := newFlagSet("version", "version [--json]", io)
	asJSON := fs.Bool("json", false, "one JSON document: {\"version\": ...}")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *asJSON {
		return writeJSON(io, struct {
			Version string `json:"version"`
		}{buildinfo.Version()})
	}
	fmt.Fprintln(io.Out, "starter", buildinfo.Version())
	return ExitOK
}

// writeJSON writes v as the command's one JSON document on stdout.
func writeJSON(io IO, v any) int {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(io, "writing JSON: %v", err)
	}
	return ExitOK
}

func usage(w io.Writer) {
	fmt.Fprint(w, `starter — launch and steer Entra ID → Okta migration batches.

Usage: starter <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "starter <command> -h" for a command's flags. Every flag has an environment
variable (shown in its help); flags win. Start with "starter demo".

Exit codes: 0 ok, 1 error, 2 usage, 3 the batch has Failed users.
`)
}

// temporalFlags are the connection flags every Temporal-talking command has.
// The rest of the connection (TLS, client certificate, API key, profile) comes
// from Temporal's environment configuration, as for the temporal CLI
// (temporalconn).
type temporalFlags struct {
	address   string
	namespace string // after dial: the namespace in use
	env       Env
}

func (t *temporalFlags) register(fs *flag.FlagSet, env Env) {
	t.env = env
	t.declare(settings.Attach(fs))
}

// declare declares the connection flags. They are only overrides: the
// variables are read by temporalconn, with the profile under them.
func (t *temporalFlags) declare(s *settings.Set) {
	type S = settings.Setting
	s.String(&t.address, S{Flag: "temporal-address", Env: "TEMPORAL_ADDRESS", Default: "the TEMPORAL_PROFILE's, else localhost:7233",
		Help: "Temporal frontend host:port"})
	// -namespace is the starter's former name of -temporal-namespace, the
	// worker's and the hook server's: still accepted for one release.
	s.String(&t.namespace, S{Flag: "temporal-namespace", Env: "TEMPORAL_NAMESPACE", Default: "the TEMPORAL_PROFILE's, else default",
		Help: "Temporal namespace", Aliases: []string{"namespace"}})
}

// Settings lists the settings of the starter's commands (the Temporal
// connection, Okta access, status's Web UI address, watch's hook server
// and preflight's), for docs/configuration.md's table.
func Settings() []settings.Declared {
	// One set per group: the groups share flag names (preflight's Okta and
	// Entra settings).
	s := settings.New("starter")
	var tf temporalFlags
	tf.declare(s)
	var of oktaFlags
	of.declare(s)
	var ui string
	declareUIURL(s, &ui)
	var ws watchSettings
	ws.declare(s)
	p := settings.New("preflight")
	var ps preflightSettings
	ps.declare(p, nil)
	return append(s.List(), p.List()...)
}

// declareUIURL declares status's --ui-url.
func declareUIURL(s *settings.Set, p *string) {
	*p = control.DefaultWebUIURL
	s.String(p, settings.Setting{Flag: "ui-url", Env: "TEMPORAL_UI_URL",
		Help: "Temporal Web UI address for status's links to the users by state; off for none"})
}

func (t *temporalFlags) dial(ctx context.Context) (client.Client, error) {
	conn, err := temporalconn.Load(t.env, temporalconn.Overrides{Address: t.address, Namespace: t.namespace})
	if err != nil {
		return nil, err
	}
	c, err := conn.Dial(ctx, 10*time.Second, client.Options{Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return nil, err
	}
	t.namespace = conn.Namespace()
	return c, nil
}

func envOr(env Env, key, def string) string {
	if v := env(key); v != "" {
		return v
	}
	return def
}

// newFlagSet returns a flag set whose errors are reported, not fatal.
func newFlagSet(name, synopsis string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "Usage: starter %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, also after positional arguments (settings.Interleave),
// and reports whether to go on; code is the exit code otherwise.
func parse(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if err := settings.CheckArgs(fs, args); err != nil {
		fmt.Fprintln(fs.Output(), err)
		return false, ExitUsage
	}
	if err := fs.Parse(settings.Interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, ExitOK
		}
		return false, ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return false, ExitUsage
	}
	return true, ExitOK
}

var batchNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// checkBatchName validates a batch name; names are used inside visibility
// queries, so only a safe alphabet is allowed.
func checkBatchName(name string) error {
	if !batchNameRE.MatchString(name) {
		return fmt.Errorf("batch name %q: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

func fail(io IO, format string, args ...any) int {
	fmt.Fprintf(io.Err, "starter: "+format+"\n", args...)
	return ExitError
}

func usageErr(io IO, format string, args ...any) int {
	fmt.Fprintf(io.Err, "starter: "+format+"\n", args...)
	return ExitUsage
}
