package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"entra2okta/internal/control"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/settings"
)

func runRollback(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("rollback", "rollback --batch NAME [--dry-run] [--stop-timeout 2m]", io)
	var tf temporalFlags
	tf.register(fs, env)
	var of oktaFlags
	of.register(fs, env)
	batch := fs.String("batch", "", "batch name (required)")
	dryRun := fs.Bool("dry-run", false, "list what would be deleted; change nothing (the batch is not stopped)")
	stopTimeout := fs.Duration("stop-timeout", control.DefaultStopTimeout,
		"how long to wait for the batch workflow to stop before touching any user")
	asJSON := fs.Bool("json", false, "one JSON document on stdout: the batch workflow's stop, each user's action and the counts")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if err := checkBatchName(*batch); err != nil {
		return usageErr(io, "%v", err)
	}
	if *stopTimeout <= 0 {
		return usageErr(io, "--stop-timeout must be positive, got %s", *stopTimeout)
	}
	oc, err := of.client(ctx)
	if err != nil {
		return usageErr(io, "%v", err)
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	counts := map[string]int{}
	doc := rollbackJSON{Namespace: tf.namespace, Batch: *batch, DryRun: *dryRun, Actions: []rollbackActionJSON{}}
	opts := control.RollbackOptions{DryRun: *dryRun, StopTimeout: *stopTimeout, OnStop: func(s control.BatchStop) {
		if *asJSON {
			doc.BatchWorkflow = &rollbackStopJSON{WorkflowID: s.WorkflowID, Found: s.Found, Cancelled: s.Cancelled, Status: s.Status}
			return
		}
		switch {
		case !s.Found:
			fmt.Fprintf(io.Out, "batch %s: no batch workflow (%s); rolling back its users\n", *batch, s.WorkflowID)
		case s.Cancelled:
			fmt.Fprintf(io.Out, "batch %s: stopped the batch workflow (%s, now %s); no user will be started\n", *batch, s.WorkflowID, s.Status)
		default:
			fmt.Fprintf(io.Out, "batch %s: the batch workflow had already ended (%s)\n", *batch, s.Status)
		}
	}}
	opts.OnGroup = func(g control.GroupAction) {
		if g.Action == "error" {
			counts["error"]++ // a group left behind fails the rollback as a user does
		}
		if *asJSON {
			doc.Groups = append(doc.Groups, rollbackGroupJSON{Action: g.Action, Name: g.Name, ID: g.ID, Reason: g.Reason})
			return
		}
		fmt.Fprintf(io.Out, "%-12s group %s %s (%s)\n", rollbackVerb(g.Action, *dryRun), g.Name, g.ID, g.Reason)
	}
	err = control.Rollback(ctx, c, oc, tf.namespace, *batch, opts, func(a control.RollbackAction) {
		counts[a.Action]++
		if *asJSON {
			doc.Actions = append(doc.Actions, rollbackActionJSON{Action: a.Action, Login: a.Login, OktaUserID: a.OktaUserID, Reason: a.Reason})
			return
		}
		fmt.Fprintf(io.Out, "%-12s %s %s (%s)\n", rollbackVerb(a.Action, *dryRun), a.Login, a.OktaUserID, a.Reason)
	})
	if err != nil {
		return fail(io, "%v", err)
	}
	if *asJSON {
		doc.Deleted, doc.Kept, doc.Errors = counts["delete"], counts["keep"], counts["error"]
		if code := writeJSON(io, doc); code != ExitOK || doc.Errors == 0 {
			return code
		}
		return ExitError
	}
	fmt.Fprintf(io.Out, "batch %s: %d deleted%s, %d kept, %d errors\n", *batch, counts["delete"],
		map[bool]string{true: " (dry run: nothing changed)", false: ""}[*dryRun], counts["keep"], counts["error"])
	if counts["error"] > 0 {
		return ExitError
	}
	return ExitOK
}

// oktaFlags configure an Okta client for commands that call Okta directly,
// with an API token or with an OAuth 2.0 service app (client ID and private
// key), which Okta recommends.
type oktaFlags struct {
	orgURL, token           string
	clientID, keyID, scopes string
	key                     string // OKTA_PRIVATE_KEY
	envErr                  error  // a secret file that could not be read
}

// register declares the flags, each defaulting to its variable in env. The
// token is a secret (settings): -h and usage errors never print it. The
// private key has no flag at all: it comes from OKTA_PRIVATE_KEY or
// OKTA_PRIVATE_KEY_FILE only.
func (f *oktaFlags) register(fs *flag.FlagSet, env Env) {
	s := settings.Attach(fs)
	f.declare(s)
	f.envErr = s.ApplyEnv(env)
}

func (f *oktaFlags) declare(s *settings.Set) {
	type S = settings.Setting
	s.String(&f.orgURL, S{Flag: "okta-org-url", Env: "OKTA_ORG_URL", Help: "Okta org URL, e.g. https://example.okta.com"})
	s.String(&f.token, S{FormerFlag: "okta-api-token", Env: "OKTA_API_TOKEN", Secret: true, Help: "Okta API token"})
	s.String(&f.clientID, S{Flag: "okta-client-id", Env: "OKTA_CLIENT_ID",
		Help: "Okta OAuth service app's client ID, instead of an API token; its private key comes from OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE"})
	s.String(&f.key, S{Env: "OKTA_PRIVATE_KEY", Secret: true, Help: "the service app's private key, PEM or JWK"})
	s.String(&f.keyID, S{Flag: "okta-private-key-id", Env: "OKTA_PRIVATE_KEY_ID", Help: "the service app key's kid"})
	s.String(&f.scopes, S{Flag: "okta-scopes", Env: "OKTA_SCOPES", Default: strings.Join(oktaclient.DefaultScopes(), " "), Help: "Okta API scopes to request"})
}

func (f *oktaFlags) client(ctx context.Context) (*oktaclient.Client, error) {
	if f.envErr != nil {
		return nil, f.envErr
	}
	key := f.key
	oauth := f.clientID != "" || key != ""
	switch {
	case f.token != "" && oauth:
		return nil, errors.New("set either OKTA_API_TOKEN or an OAuth service app (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY), not both")
	case f.orgURL == "" || (f.token == "" && !oauth):
		return nil, errors.New("Okta access needed: set OKTA_ORG_URL and OKTA_API_TOKEN (or OKTA_API_TOKEN_FILE), " +
			"or OKTA_ORG_URL and an OAuth service app: OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE)")
	case oauth && (f.clientID == "" || key == ""):
		return nil, errors.New("an OAuth service app needs both OKTA_CLIENT_ID (or --okta-client-id) and OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE)")
	case !oauth && (f.keyID != "" || f.scopes != ""):
		return nil, errors.New("--okta-private-key-id and --okta-scopes apply to an OAuth service app, not to an API token")
	}
	cfg := oktaclient.Config{OrgURL: f.orgURL, APIToken: f.token}
	if oauth {
		cfg.OAuth = oktaclient.OAuthConfig{ClientID: f.clientID, PrivateKey: key, KeyID: f.keyID, Scopes: oktaclient.ParseScopes(f.scopes)}
	}
	return oktaclient.New(ctx, cfg)
}

// rollbackVerb is how a rollback action is printed: a dry run's deletes are
// the ones it would make.
func rollbackVerb(action string, dryRun bool) string {
	if dryRun && action == "delete" {
		return "would delete"
	}
	return action
}
