package secretenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookup(t *testing.T) {
	const secret = "s3cr3t-value"
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", MaxFileSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		env     map[string]string
		want    string
		wantErr []string // substrings the error must have
	}{
		"unset":                {env: nil, want: ""},
		"variable":             {env: map[string]string{"TOKEN": secret}, want: secret},
		"file":                 {env: map[string]string{"TOKEN_FILE": write(t, secret)}, want: secret},
		"file, one newline":    {env: map[string]string{"TOKEN_FILE": write(t, secret+"\n")}, want: secret},
		"file, CRLF":           {env: map[string]string{"TOKEN_FILE": write(t, secret+"\r\n")}, want: secret},
		"file, two newlines":   {env: map[string]string{"TOKEN_FILE": write(t, secret+"\n\n")}, want: secret + "\n"},
		"file, inner newlines": {env: map[string]string{"TOKEN_FILE": write(t, "-----BEGIN-----\nabc\n-----END-----\n")}, want: "-----BEGIN-----\nabc\n-----END-----"},
		"file, spaces kept":    {env: map[string]string{"TOKEN_FILE": write(t, " "+secret+" \n")}, want: " " + secret + " "},
		"both set": {env: map[string]string{"TOKEN": secret, "TOKEN_FILE": write(t, secret)},
			wantErr: []string{"TOKEN and TOKEN_FILE are both set"}},
		"missing file": {env: map[string]string{"TOKEN_FILE": filepath.Join(dir, "nope")},
			wantErr: []string{"TOKEN_FILE", filepath.Join(dir, "nope"), "no such file"}},
		"directory":  {env: map[string]string{"TOKEN_FILE": dir}, wantErr: []string{"TOKEN_FILE", dir}},
		"empty file": {env: map[string]string{"TOKEN_FILE": write(t, "\n")}, wantErr: []string{"TOKEN_FILE", "is empty"}},
		"too large":  {env: map[string]string{"TOKEN_FILE": big}, wantErr: []string{"TOKEN_FILE", big, "larger than 64 KiB"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Lookup(envOf(tc.env), "TOKEN")
			if len(tc.wantErr) == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("Lookup = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Lookup = %q, want an error", got)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || got != "" {
				t.Errorf("error %q or value %q carries the secret", err, got)
			}
		})
	}
}

func TestGetenv(t *testing.T) {
	file := write(t, "from-file\n")
	env := map[string]string{
		"A_FILE": file, "B": "from-var", "PLAIN": "p", "PLAIN_FILE": "not a secret: passed through",
	}
	getenv, err := Getenv(envOf(env), "A", "B", "C")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"A": "from-file", "A_FILE": "", "B": "from-var", "C": "", "C_FILE": "",
		"PLAIN": "p", "PLAIN_FILE": "not a secret: passed through"} {
		if got := getenv(k); got != want {
			t.Errorf("getenv(%s) = %q, want %q", k, got, want)
		}
	}
	// Reading the result again is the identity: no secret is read twice.
	again, err := Getenv(getenv, "A", "B")
	if err != nil || again("A") != "from-file" {
		t.Fatalf("Getenv over Getenv: %q, %v", again("A"), err)
	}

	// Every problem is reported at once; the others still resolve.
	env = map[string]string{"A": "x", "A_FILE": file, "B_FILE": filepath.Join(t.TempDir(), "missing"), "C": "c"}
	getenv, err = Getenv(envOf(env), "A", "B", "C")
	if err == nil || !strings.Contains(err.Error(), "A and A_FILE are both set") || !strings.Contains(err.Error(), "B_FILE") {
		t.Fatalf("error %v, want both problems", err)
	}
	if getenv("A") != "" || getenv("B") != "" || getenv("C") != "c" {
		t.Fatalf("after errors: A=%q B=%q C=%q", getenv("A"), getenv("B"), getenv("C"))
	}
}

func TestNamesHaveNoFileSuffix(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Names() {
		if strings.HasSuffix(n, FileSuffix) || seen[n] || n != strings.ToUpper(n) {
			t.Errorf("secret name %q", n)
		}
		seen[n] = true
	}
	if !seen["TEMPORAL_API_KEY"] || !seen["OKTA_API_TOKEN"] || !seen["HOOK_AUTH_SECRET"] {
		t.Errorf("Names() = %v", Names())
	}
}
