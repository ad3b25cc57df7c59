// Command fakeidp serves the Okta and Entra ID / Graph emulators, seeded with
// the demo directory, for the docker-compose demo profile. It writes the CA
// certificate (for SSL_CERT_FILE) and a server certificate and key (for the
// hook server) into -dir, and registers -hook-url as fakeokta's password
// import inline hook. Never point real clients at it: it is an emulator.
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

	"entra2okta/internal/demodata"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
)

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, logger); err != nil {
		logger.Error("fakeidp exited", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("fakeidp", flag.ContinueOnError)
	dir := fs.String("dir", ".", "directory for ca.pem, server.crt and server.crt.key")
	oktaAddr := fs.String("okta-addr", ":8441", "fakeokta listen address")
	entraAddr := fs.String("entra-addr", ":8442", "fakeentra listen address")
	hookURL := fs.String("hook-url", "", "password import hook URL to register in fakeokta")
	users := fs.Int("users", 300, "users in the demo directory")
	var dns names
	fs.Var(&dns, "dns-name", "extra DNS name for the certificate (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := getenv("HOOK_AUTH_SECRET")
	token := getenv("OKTA_API_TOKEN")
	if *hookURL == "" || secret == "" || token == "" {
		return errors.New("-hook-url, HOOK_AUTH_SECRET and OKTA_API_TOKEN are required")
	}
	ca, err := loopbacktls.New(dns...)
	if err != nil {
		return err
	}
	o := fakeokta.New(fakeokta.Options{APITokens: []string{token}, HookRootCAs: ca.CertPool(), Logger: logger})
	e := fakeentra.New(fakeentra.Options{Logger: logger})
	dir0, err := demodata.Seed(o, e, *users)
	if err != nil {
		return err
	}
	if _, err := o.SetPasswordImportHook(*hookURL, "Authorization", secret); err != nil {
		return err
	}
	oktaSrv, err := ca.Serve(*oktaAddr, o)
	if err != nil {
		return err
	}
	defer oktaSrv.Close()
	es, err := ca.Serve(*entraAddr, e)
	if err != nil {
		return err
	}
	defer es.Close()
	// The key is named after the certificate plus ".key", where HAProxy
	// looks for a key a certificate file lacks (the demo's hookproxy-demo
	// terminates TLS with this pair).
	if err := ca.WriteServerCert(filepath.Join(*dir, "server.crt"), filepath.Join(*dir, "server.crt.key")); err != nil {
		return err
	}
	// ca.pem last: compose's health check waits for it.
	if err := ca.WriteCAFile(filepath.Join(*dir, "ca.pem")); err != nil {
		return err
	}
	logger.Info("fakeidp ready", "okta", *oktaAddr, "entra", *entraAddr, "tenant", dir0.TenantID,
		"verifierClientID", dir0.PublicClientID, "graphClientID", dir0.GraphClientID, "allStaffGroup", dir0.AllStaffGroupID,
		"users", len(dir0.Users))
	fmt.Fprintf(os.Stderr, "start a batch: starter migrate --batch demo --group %s --deadline 1d\n", dir0.AllStaffGroupID)
	<-ctx.Done()
	e.Release()
	return nil
}
