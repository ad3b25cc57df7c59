package groupmap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"entra2okta/workflows"
)

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := []workflows.GroupRule{
		{Entra: "Finance", Okta: "Okta Finance"},
		{Entra: "3f1c6a2e-0000-4000-8000-000000000001", Okta: "00gabcdefghij0123456"},
		{Entra: "3f1c6a2e-0000-4000-8000-000000000001", Okta: "Everyone in Sales"},
	}
	yml := write("g.yaml", "# comment\nFinance: Okta Finance\n3f1c6a2e-0000-4000-8000-000000000001:\n  - 00gabcdefghij0123456\n  - Everyone in Sales\n")
	csvf := write("g.csv", "entraGroup,oktaGroup\n# comment\nFinance,Okta Finance\n3f1c6a2e-0000-4000-8000-000000000001,00gabcdefghij0123456\n"+
		"3f1c6a2e-0000-4000-8000-000000000001,\"Everyone in Sales\"\n")
	for _, p := range []string{yml, csvf} {
		got, err := ParseFile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %+v", p, got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s rule %d = %+v, want %+v", p, i, got[i], want[i])
			}
		}
	}
	// Each bad file is refused with an error that names it.
	for _, bad := range []struct{ name, body string }{
		{"one-column.csv", "Finance\n"},
		{"twice.csv", "Finance,Okta Finance\nfinance,okta finance\n"},
		{"no-target.yaml", "Finance:\n"},
		{"a-list.yaml", "- Finance\n"},
		{"bad-id.csv", "Finance,00g123\n"},
		{"unknown.txt", "Finance,Okta\n"},
		{"empty.csv", "# nothing\n"},
	} {
		if _, err := ParseFile(write(bad.name, bad.body)); err == nil {
			t.Errorf("%s accepted", bad.name)
		} else if !strings.Contains(err.Error(), bad.name) {
			t.Errorf("%s: error %q does not name the file", bad.name, err)
		}
	}
}
