// Command fakeidp serves the Okta and Entra ID / Graph emulators, seeded with
// the demo directory, for the docker-compose demo profile. It writes the CA
// certificate (for SSL_CERT_FILE) and a server certificate and key (for the
// hook server) into -dir, and registers -hook-url as fakeokta's password
// import inline hook, called with HOOK_AUTH_SECRET; it accepts OKTA_API_TOKEN
// (each secret also from a file named by its _FILE variable). Never point
// real clients at it: it is an emulator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/demodata"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/settings"
)

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	err := run(ctx, os.Args[1:], os.Getenv, logger)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, settings.ErrVersion):
		fmt.Println("fakeidp", buildinfo.Version())
	default:
		logger.Error("fakeidp exited", "err", err)
		os.Exit(1)
	}
}

// config is fakeidp's settings.
type config struct {
	dir, oktaAddr, entraAddr, hookURL string
	users                             int
	dnsNames                          names
	// hookSecret is the Authorization value fakeokta sends to the hook;
	// oktaToken the API token it accepts.
	hookSecret, oktaToken string
}

// parseConfig declares fakeidp's settings (internal/settings: flags, the
// two secrets from the environment or their _FILE) and reads them from
// args and getenv.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	c := config{dir: ".", oktaAddr: ":8441", entraAddr: ":8442", users: 300}
	s := settings.New("fakeidp").WithVersion()
	s.String(&c.dir, settings.Setting{Flag: "dir", Help: "directory for ca.pem, server.crt and server.crt.key"})
	s.String(&c.oktaAddr, settings.Setting{Flag: "okta-addr", Help: "fakeokta listen address"})
	s.String(&c.entraAddr, settings.Setting{Flag: "entra-addr", Help: "fakeentra listen address"})
	s.String(&c.hookURL, settings.Setting{Flag: "hook-url", Help: "password import hook URL to register in fakeokta (required)"})
	s.Int(&c.users, settings.Setting{Flag: "users", Help: "users in the demo directory"})
	s.FlagSet().Var(&c.dnsNames, "dns-name", "extra DNS name for the certificate (repeatable)")
	s.String(&c.hookSecret, settings.Setting{Env: "HOOK_AUTH_SECRET", Secret: true,
		Help: "Authorization header value fakeokta sends to the password import hook (required)"})
	s.String(&c.oktaToken, settings.Setting{Env: "OKTA_API_TOKEN", Secret: true, Help: "API token fakeokta accepts (required)"})
	fs := s.FlagSet()
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage of fakeidp:")
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "Environment (each also from a file named by the variable plus _FILE): HOOK_AUTH_SECRET, OKTA_API_TOKEN (required)")
	}
	if err := s.Parse(args, getenv, true); err != nil {
		return c, err
	}
	if c.hookURL == "" || c.hookSecret == "" || c.oktaToken == "" {
		return c, errors.New("-hook-url, HOOK_AUTH_SECRET and OKTA_API_TOKEN are required")
	}
	return c, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger) error {
	c, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	ca, err := loopbacktls.New(c.dnsNames...)
	if err != nil {
		return err
	}
	o := fakeokta.New(fakeokta.Options{APITokens: []string{c.oktaToken}, HookRootCAs: ca.CertPool(), Logger: logger})
	e := fakeentra.New(fakeentra.Options{Logger: logger})
	dir0, err := demodata.Seed(o, e, c.users)
	if err != nil {
		return err
	}
	if _, err := o.SetPasswordImportHook(c.hookURL, "Authorization", c.hookSecret); err != nil {
		return err
	}
	oktaSrv, err := ca.Serve(c.oktaAddr, o)
	if err != nil {
		return err
	}
	defer oktaSrv.Close()
	es, err := ca.Serve(c.entraAddr, e)
	if err != nil {
		return err
	}
	defer es.Close()
	// The key is named after the certificate plus ".key", where HAProxy
	// looks for a key a certificate file lacks (the demo's hookproxy-demo
	// terminates TLS with this pair).
	if err := ca.WriteServerCert(filepath.Join(c.dir, "server.crt"), filepath.Join(c.dir, "server.crt.key")); err != nil {
		return err
	}
	// ca.pem last: compose's health check waits for it.
	if err := ca.WriteCAFile(filepath.Join(c.dir, "ca.pem")); err != nil {
		return err
	}
	logger.Info("fakeidp ready", "okta", c.oktaAddr, "entra", c.entraAddr, "tenant", dir0.TenantID,
		"verifierClientID", dir0.PublicClientID, "graphClientID", dir0.GraphClientID, "allStaffGroup", dir0.AllStaffGroupID,
		"users", len(dir0.Users))
	fmt.Fprintf(os.Stderr, "start a batch: starter migrate --batch demo --group %s --deadline 1d\n", dir0.AllStaffGroupID)
	<-ctx.Done()
	e.Release()
	return nil
}
