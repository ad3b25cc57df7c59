package main

import (
	"io"

	"entra2okta/internal/settings"
)

// newSettings returns a subcommand's settings (internal/settings), whose
// flag package messages go to stderr.
func newSettings(name string, stderr io.Writer) *settings.Set {
	s := settings.New(name)
	s.FlagSet().SetOutput(stderr)
	return s
}

// parseFlags applies args to s. bench's settings are flags only: it reads
// no environment variable.
func parseFlags(s *settings.Set, args []string) error {
	return s.Parse(args, func(string) string { return "" }, false)
}
