package settings

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type conf struct {
	addr    string
	token   string
	n       int
	rate    float64
	on      bool
	timeout time.Duration
	ns      string
	key     string
}

func declare(c *conf) *Set {
	s := New("test")
	s.FlagSet().SetOutput(new(bytes.Buffer))
	s.String(&c.addr, Setting{Flag: "addr", Env: "T_ADDR", Help: "address"})
	s.String(&c.token, Setting{FormerFlag: "token", Env: "T_TOKEN", Help: "token", Secret: true})
	s.Int(&c.n, Setting{Flag: "n", Env: "T_N", Help: "count"})
	s.Float(&c.rate, Setting{Flag: "rate", Env: "T_RATE", Help: "rate"})
	s.Bool(&c.on, Setting{Flag: "on", Env: "T_ON", Help: "switch"})
	s.Duration(&c.timeout, Setting{Flag: "timeout", Env: "T_TIMEOUT", Help: "timeout", Default: "ten seconds"})
	s.String(&c.ns, Setting{Flag: "temporal-namespace", Env: "T_NS", Help: "namespace", Aliases: []string{"namespace"}})
	s.String(&c.key, Setting{Env: "T_KEY", Help: "key, no flag", Secret: true})
	return s
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFlagOverEnvOverDefault(t *testing.T) {
	c := conf{addr: ":80", n: 1, rate: 2, timeout: 10 * time.Second}
	s := declare(&c)
	err := s.Parse([]string{"-n", "7", "-on", "-namespace", "old"},
		env(map[string]string{"T_ADDR": ":90", "T_N": "5", "T_RATE": "2.5", "T_TOKEN": "tok", "T_KEY": "k"}), true)
	if err != nil {
		t.Fatal(err)
	}
	want := conf{addr: ":90", token: "tok", n: 7, rate: 2.5, on: true, timeout: 10 * time.Second, ns: "old", key: "k"}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestBadValuesNamed(t *testing.T) {
	const secret = "not-a-number-secret"
	var c conf
	s := New("test")
	s.FlagSet().SetOutput(new(bytes.Buffer))
	var secretInt int
	s.Int(&secretInt, Setting{Env: "T_PIN", Secret: true})
	s.Int(&c.n, Setting{Flag: "n", Env: "T_N"})
	s.Duration(&c.timeout, Setting{Flag: "timeout", Env: "T_TIMEOUT"})
	err := s.Parse(nil, env(map[string]string{"T_PIN": secret, "T_N": "many", "T_TIMEOUT": "soon"}), true)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`T_N: "many" is not a valid int`, `T_TIMEOUT: "soon" is not a valid duration`, "T_PIN: not a valid int"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error quotes the secret: %v", err)
	}
	err = declare(&c).Parse([]string{"-timeout", "later"}, env(nil), true)
	if err == nil || !strings.Contains(err.Error(), "-timeout") {
		t.Fatalf("bad flag: %v", err)
	}
}

func TestSecretFromFileNeverPrinted(t *testing.T) {
	const secret = "file-secret-never-printed"
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var c conf
	s := declare(&c)
	if err := s.Parse(nil, env(map[string]string{"T_TOKEN_FILE": p}), true); err != nil || c.token != secret {
		t.Fatalf("token %q, err %v", c.token, err)
	}
	var out bytes.Buffer
	s.FlagSet().SetOutput(&out)
	s.FlagSet().PrintDefaults()
	if strings.Contains(out.String(), secret) || !strings.Contains(out.String(), "T_TOKEN_FILE") || !strings.Contains(out.String(), "timeout (default: ten seconds)") {
		t.Fatalf("usage:\n%s", out.String())
	}
	for _, d := range s.List() {
		if d.Secret && d.Default != "" {
			t.Fatalf("a secret's default is listed: %+v", d)
		}
	}
	err := declare(&c).Parse(nil, env(map[string]string{"T_TOKEN_FILE": p, "T_TOKEN": secret}), true)
	if err == nil || !strings.Contains(err.Error(), "T_TOKEN and T_TOKEN_FILE") || strings.Contains(err.Error(), secret) {
		t.Fatalf("conflict: %v", err)
	}
}

// TestSecretFlagRefused: a secret's former flag, in any spelling and after
// a positional, is an error naming the variable, never the value; a secret
// declared with a flag is a programming error.
func TestSecretFlagRefused(t *testing.T) {
	const value = "s3cr3t-flag-value"
	for _, args := range [][]string{{"-token", value}, {"--token=" + value}, {"-n", "1", "pos", "--token", value}} {
		var c conf
		s := declare(&c)
		err := s.Parse(args, env(nil), false)
		if err == nil || !strings.Contains(err.Error(), "-token is no longer accepted") ||
			!strings.Contains(err.Error(), "set T_TOKEN or T_TOKEN_FILE") || strings.Contains(err.Error(), value) || c.token != "" {
			t.Errorf("%q: %v (token %q)", args, err, c.token)
		}
		if err := CheckArgs(s.FlagSet(), Interleave(s.FlagSet(), args)); err == nil {
			t.Errorf("CheckArgs(%q) after Interleave: nil", args)
		}
	}
	var c conf
	if err := declare(&c).Parse([]string{"-addr", "x", "--", "-token"}, env(nil), false); err != nil {
		t.Errorf("-token after --: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a secret with a flag was declared")
		}
	}()
	var x string
	New("t").String(&x, Setting{Flag: "x", Env: "T_X", Secret: true})
}

func TestHelpAndPositionals(t *testing.T) {
	var c conf
	if err := declare(&c).Parse([]string{"-h"}, env(nil), true); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if err := declare(&c).WithVersion().Parse([]string{"-version"}, env(map[string]string{"T_N": "bad"}), true); !errors.Is(err, ErrVersion) {
		t.Fatalf("-version: %v", err)
	}
	err := declare(&c).Parse([]string{"-on", "false"}, env(nil), true)
	if err == nil || !strings.Contains(err.Error(), "-on=false") {
		t.Fatalf("-on false: %v", err)
	}
	err = declare(&c).Parse([]string{"-n", "1", "extra"}, env(nil), true)
	if err == nil || !strings.Contains(err.Error(), "unexpected arguments") || strings.Contains(err.Error(), "boolean") {
		t.Fatalf("stray: %v", err)
	}
}

func TestList(t *testing.T) {
	c := conf{addr: ":80", token: "default-secret", n: 3, timeout: time.Second}
	got := declare(&c).List()
	if len(got) != 8 {
		t.Fatalf("%d declarations", len(got))
	}
	check := map[string][2]string{"addr": {"string", ":80"}, "token": {"string", ""}, "n": {"int", "3"}, "rate": {"float", "0"},
		"on": {"bool", "false"}, "timeout": {"duration", "ten seconds"}, "temporal-namespace": {"string", ""}, "": {"string", ""}}
	for _, d := range got {
		if w := check[d.Flag]; w != [2]string{d.Kind, d.Default} {
			t.Errorf("%s: kind %s default %q, want %v", d.Flag, d.Kind, d.Default, w)
		}
	}
	if !reflect.DeepEqual(got[6].Aliases, []string{"namespace"}) {
		t.Errorf("aliases %v", got[6].Aliases)
	}
}

func TestInterleave(t *testing.T) {
	var c conf
	fs := declare(&c).FlagSet()
	for _, tc := range []struct{ in, want []string }{
		{[]string{"jsmith@contoso.com", "--n", "3"}, []string{"--n", "3", "--", "jsmith@contoso.com"}},
		{[]string{"a", "-on", "b", "-addr=x"}, []string{"-on", "-addr=x", "--", "a", "b"}},
		{[]string{"-addr", "-weird-value", "a"}, []string{"-addr", "-weird-value", "--", "a"}},
		{[]string{"a", "--", "-n", "b"}, []string{"--", "a", "-n", "b"}},
		{[]string{"-n", "2"}, []string{"-n", "2"}},
		{[]string{"a", "-unknown", "b"}, []string{"-unknown", "--", "a", "b"}},
		{[]string{"a", "-on", "-addr"}, []string{"-on", "-addr"}}, // Parse: flag needs an argument
	} {
		if got := Interleave(fs, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Interleave(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	s := declare(&c)
	if err := s.FlagSet().Parse(Interleave(s.FlagSet(), []string{"user@x", "-n", "9", "--", "-dash"})); err != nil ||
		c.n != 9 || !reflect.DeepEqual(s.FlagSet().Args(), []string{"user@x", "-dash"}) {
		t.Fatalf("n %d args %q err %v", c.n, s.FlagSet().Args(), err)
	}
}

func TestUint64(t *testing.T) {
	seed := uint64(1)
	s := New("test")
	s.FlagSet().SetOutput(new(bytes.Buffer))
	s.Uint64(&seed, Setting{Flag: "seed", Env: "T_SEED", Help: "seed"})
	if d := s.List()[0]; d.Kind != "uint64" || d.Default != "1" {
		t.Errorf("declared %s, default %q", d.Kind, d.Default)
	}
	if err := s.Parse(nil, env(map[string]string{"T_SEED": "18446744073709551615"}), true); err != nil || seed != 1<<64-1 {
		t.Fatalf("from the environment: %d, %v", seed, err)
	}
	if err := s.Parse([]string{"-seed", "0x10"}, env(nil), true); err != nil || seed != 16 {
		t.Fatalf("hexadecimal flag: %d, %v", seed, err)
	}
	err := s.Parse([]string{"-seed", "-1"}, env(map[string]string{"T_SEED": "many"}), true)
	if err == nil || !strings.Contains(err.Error(), `T_SEED: "many" is not a valid uint64`) || !strings.Contains(err.Error(), "-seed") {
		t.Fatalf("bad values: %v", err)
	}
}
