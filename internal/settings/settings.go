// Package settings is the one configuration mechanism of the product's
// binaries (worker, hook server, starter). A binary declares each setting
// once, bound to a field: its flag, its environment variable, its default
// (the field's value when declared), its help and whether it is a secret.
// Parse then applies flag > environment > default to a flag.FlagSet, reports
// every bad value with the variable or flag that holds it, and List returns
// the declarations, from which docs/configuration.md's table is
// generated. A secret is read through secretenv (NAME or NAME_FILE) and its
// value is printed by no help, usage or error.
package settings

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/secretenv"
)

// Setting declares one setting.
type Setting struct {
	// Flag is the flag name without dashes, e.g. "temporal-address"; ""
	// for a variable only. A secret has no flag: a process's command line
	// is readable by every local user (ps, /proc/<pid>/cmdline).
	Flag string
	Env  string // environment variable, "" for a flag only
	Help string // one line: what it sets
	// Default documents the default when the field's initial value does not
	// say it (e.g. "the profile's, else localhost:7233"); "" shows the
	// initial value.
	Default string
	// Secret: read through secretenv (also from Env+"_FILE"), never printed.
	Secret bool
	// Aliases are older flag names still accepted (for one release).
	Aliases []string
	// FormerFlag is a flag the setting no longer has (a secret's): given
	// on a command line it is an error that names Env, never the value.
	FormerFlag string
}

// Declared is a setting as List returns it.
type Declared struct {
	Setting
	Kind    string // string, int, uint64, float, bool, duration
	Default string // the documented default ("" for a secret or none)
}

// Set is one binary's (or command's) declared settings over a FlagSet.
type Set struct {
	fs      *flag.FlagSet
	decls   []*decl
	version bool
}

// ErrVersion is what Parse returns when -version was given: the caller
// prints buildinfo.Version and exits 0.
var ErrVersion = errors.New("-version")

// WithVersion adds the -version flag: Parse then returns ErrVersion, before
// the environment is validated, when it is set.
func (s *Set) WithVersion() *Set {
	s.fs.BoolVar(&s.version, "version", false, "print the version (module version and VCS revision) and exit")
	return s
}

type decl struct {
	s     Setting
	kind  string
	value flag.Value
	def   string
}

// New returns an empty Set over a ContinueOnError FlagSet named name.
func New(name string) *Set {
	return &Set{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
}

// Attach returns an empty Set that declares its settings on fs, beside
// flags fs already has (a starter command's own flags).
func Attach(fs *flag.FlagSet) *Set { return &Set{fs: fs} }

// FlagSet is the underlying flag set (for SetOutput, Usage, extra flags).
func (s *Set) FlagSet() *flag.FlagSet { return s.fs }

// String declares a string setting bound to p, whose value is its default.
func (s *Set) String(p *string, d Setting) { s.add(d, "string", (*stringValue)(p)) }

// Int declares an int setting bound to p.
func (s *Set) Int(p *int, d Setting) { s.add(d, "int", (*intValue)(p)) }

// Uint64 declares a uint64 setting bound to p (decimal, 0x hexadecimal or
// 0 octal, as Go's flag package reads one).
func (s *Set) Uint64(p *uint64, d Setting) { s.add(d, "uint64", (*uint64Value)(p)) }

// Float declares a float64 setting bound to p.
func (s *Set) Float(p *float64, d Setting) { s.add(d, "float", (*floatValue)(p)) }

// Bool declares a boolean setting bound to p. As with Go's flag package its
// flag takes a value only after "=" (-x, -x=false).
func (s *Set) Bool(p *bool, d Setting) { s.add(d, "bool", (*boolValue)(p)) }

// Duration declares a time.Duration setting bound to p (Go syntax: 90s, 15m).
func (s *Set) Duration(p *time.Duration, d Setting) { s.add(d, "duration", (*durationValue)(p)) }

func (s *Set) add(d Setting, kind string, v flag.Value) {
	if d.Secret && d.Flag != "" {
		panic("settings: secret " + d.Env + " declared with flag -" + d.Flag + ": a command line is visible to every local user")
	}
	dc := &decl{s: d, kind: kind, value: v, def: d.Default}
	if d.Secret {
		v = secretValue{v}
		dc.def = ""
	} else if dc.def == "" {
		dc.def = v.String()
	}
	help := d.Help
	if d.Default != "" && !d.Secret {
		help += " (default: " + d.Default + ")"
	}
	if d.Env != "" {
		help += " (" + d.Env + ")"
	}
	if d.Flag != "" {
		s.fs.Var(v, d.Flag, help)
	}
	for _, a := range d.Aliases {
		s.fs.Var(v, a, "deprecated alias of -"+d.Flag+", accepted for one more release")
	}
	if d.FormerFlag != "" {
		r := refusedFlag{name: d.FormerFlag, env: d.Env}
		s.fs.Var(r, d.FormerFlag, "refused: "+r.reason())
	}
	s.decls = append(s.decls, dc)
}

// refusedFlag is a secret's former flag. CheckArgs reports it before the
// flag package sees it, since the flag package quotes a refused value in
// its error.
type refusedFlag struct{ name, env string }

func (r refusedFlag) reason() string {
	return "a command line is visible to every local user; set " + r.env + " or " + r.env + secretenv.FileSuffix + " (a file holding it) instead"
}
func (r refusedFlag) Error() string    { return "-" + r.name + " is no longer accepted: " + r.reason() }
func (r refusedFlag) String() string   { return "" }
func (r refusedFlag) Set(string) error { return r }
func (r refusedFlag) IsBoolFlag() bool { return true }

// CheckArgs reports a secret's former flag (Setting.FormerFlag) among the
// flags of args, naming the variable to set instead and never the value.
// Parse calls it; a caller that parses fs itself calls it first.
func CheckArgs(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil {
			if r, ok := f.Value.(refusedFlag); ok {
				return r
			}
		}
	}
	return nil
}

// List returns the declarations in the order they were made.
func (s *Set) List() []Declared {
	out := make([]Declared, 0, len(s.decls))
	for _, d := range s.decls {
		out = append(out, Declared{Setting: d.s, Kind: d.kind, Default: d.def})
	}
	return out
}

// ApplyEnv sets every declared variable that getenv has (secrets through
// secretenv, so also from NAME_FILE). The error joins every bad value, each
// naming its variable; a secret's value is never quoted.
func (s *Set) ApplyEnv(getenv func(string) string) error {
	var errs []error
	for _, d := range s.decls {
		if d.s.Env == "" {
			continue
		}
		v := getenv(d.s.Env)
		if d.s.Secret {
			var err error
			if v, err = secretenv.Lookup(getenv, d.s.Env); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if v == "" {
			continue
		}
		if err := d.value.Set(v); err != nil {
			if d.s.Secret {
				errs = append(errs, fmt.Errorf("%s: not a valid %s", d.s.Env, d.kind))
			} else {
				errs = append(errs, fmt.Errorf("%s: %q is not a valid %s", d.s.Env, v, d.kind))
			}
		}
	}
	return errors.Join(errs...)
}

// Parse applies the environment, then the flags of args. Bad environment
// values and a bad flag are all reported; flag.ErrHelp is returned alone
// for -h. With noArgs, a positional argument is an error; a positional
// right after a boolean flag is explained (-x=false, not -x false).
func (s *Set) Parse(args []string, getenv func(string) string, noArgs bool) error {
	envErr := s.ApplyEnv(getenv)
	if err := CheckArgs(s.fs, args); err != nil {
		return errors.Join(envErr, err)
	}
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errors.Join(envErr, err)
	}
	if s.version {
		return ErrVersion
	}
	if noArgs && s.fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", s.fs.Args())
		if i := len(args) - s.fs.NArg() - 1; i >= 0 {
			name := strings.TrimLeft(args[i], "-")
			if f := s.fs.Lookup(name); f != nil && isBool(f) {
				err = fmt.Errorf("unexpected arguments: %q: -%s is a boolean flag, its value goes after '=' (-%s=false)", s.fs.Args(), name, name)
			}
		}
		return errors.Join(envErr, err)
	}
	return envErr
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Interleave moves the flags of args before its positional arguments, so
// that "skip jsmith@contoso.com --reason x" parses as Go's flag package
// would parse "--reason x jsmith@contoso.com" (it stops at the first
// positional). A flag that is not a boolean takes the next argument as its
// value unless written -name=value; everything after "--" stays positional,
// in order. An unknown flag, or a last flag without its value, is left for
// Parse to report.
func Interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) {
			if i+1 == len(args) {
				// Its value is missing: last, so that Parse says so.
				return flags
			}
			i++
			flags = append(flags, args[i])
		}
	}
	if len(pos) == 0 {
		return flags
	}
	// Positionals after the flags; "--" keeps one that starts with '-'
	// from being read as a flag.
	return append(append(flags, "--"), pos...)
}

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string {
	if v == nil {
		return ""
	}
	return string(*v)
}

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string {
	if v == nil {
		return "0"
	}
	return strconv.Itoa(int(*v))
}

type uint64Value uint64

func (v *uint64Value) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return errors.New("not a non-negative integer")
	}
	*v = uint64Value(n)
	return nil
}
func (v *uint64Value) String() string {
	if v == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*v), 10)
}

type floatValue float64

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	*v = floatValue(f)
	return nil
}
func (v *floatValue) String() string {
	if v == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not a boolean")
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string {
	if v == nil {
		return "false"
	}
	return strconv.FormatBool(bool(*v))
}
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration")
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string {
	if v == nil {
		return "0s"
	}
	return time.Duration(*v).String()
}

// secretValue hides a secret's value from flag's usage, which prints a
// flag's default (String) unless it is the zero value.
type secretValue struct{ flag.Value }

func (secretValue) String() string { return "" }
