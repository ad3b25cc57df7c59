package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeTableIsGenerated fails while docs/configuration.md's
// configuration table differs from what the declarations generate: run
// `go run ./internal/cmd/configdoc` from the module root.
func TestReadmeTableIsGenerated(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Rewrite(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(doc) {
		t.Fatal("docs/configuration.md's configuration table is stale: run `go run ./internal/cmd/configdoc` from the module root")
	}
}

// TestTable: every binary's variables appear once, with the binaries that
// read them; secrets show their _FILE form, no flag and no default; the starter's
// former -namespace is listed with -temporal-namespace.
func TestTable(t *testing.T) {
	table := Table()
	for _, want := range []string{
		"| `TEMPORAL_NAMESPACE` | `-temporal-namespace`, `-namespace` (starter, deprecated alias until the next release) | worker, hookserver, starter |",
		"| `OKTA_API_TOKEN` (or `OKTA_API_TOKEN_FILE`) | — | worker, hookserver, starter | — (secret) |",
		"| `HOOK_AUTH_SECRET` (or `HOOK_AUTH_SECRET_FILE`) | — | hookserver | — (secret) |",
		"| `HOOK_BUDGET` | `-budget`, `-hook-budget` (starter) | hookserver, starter | `2.5s` |",
		"| `OKTA_CREATE_RPS` | `-okta-create-rps` | worker, starter | `9.7` |",
		"| `GRAPH_CLIENT_ID` | `-graph-client-id` | starter | ENTRA_CLIENT_ID |",
		"| `TEMPORAL_UI_URL` | `-ui-url` | starter |",
		"| — | `-shutdown-timeout` | worker | `30s` |",
		"| `SSL_CERT_FILE` |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q", want)
		}
	}
	if n := strings.Count(table, "| `ENTRA_TENANT_ID` |"); n != 1 {
		t.Errorf("ENTRA_TENANT_ID in %d rows", n)
	}
	if _, err := Rewrite([]byte("no markers")); err == nil {
		t.Error("a document without markers is rewritten")
	}
	got, err := Rewrite([]byte("a\n" + Begin + "\nold\n" + End + "\nb\n"))
	if err != nil || string(got) != "a\n"+Begin+"\n"+table+End+"\nb\n" {
		t.Errorf("Rewrite: %q, %v", got, err)
	}
}
