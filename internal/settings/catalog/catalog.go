// Package catalog gathers the settings every binary declares (the worker's,
// the hook server's and the starter's), so that what is derived from them,
// docs/configuration.md's table and the list of secret variables, covers
// a setting as soon as a binary declares it.
package catalog

import (
	"slices"

	"entra2okta/internal/cli"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/settings"
	"entra2okta/internal/worker"
)

// Binary is one binary's declared settings.
type Binary struct {
	Name  string
	Decls []settings.Declared
}

// Binaries returns the declarations of worker, hookserver and starter, in
// that order.
func Binaries() []Binary {
	wc := worker.DefaultConfig()
	hv := hookserver.Defaults()
	return []Binary{
		{"worker", worker.Settings(&wc).List()},
		{"hookserver", hookserver.Declare(&hv).List()},
		{"starter", cli.Settings()},
	}
}

// Secrets returns every secret variable, sorted: those the binaries declare
// as secret and those read through secretenv without a declaration (the
// Temporal API key, which temporalconn reads). Each may also be given as
// its name plus secretenv.FileSuffix.
func Secrets() []string {
	names := secretenv.Names()
	for _, b := range Binaries() {
		for _, d := range b.Decls {
			if d.Secret && d.Env != "" {
				names = append(names, d.Env)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
