package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun: -doc names the document whose table run rewrites, leaving the
// text around the markers as it was; -h prints the help and exits 0; an
// unknown flag exits 2 and a document without markers 1, unchanged.
func TestRun(t *testing.T) {
	noEnv := func(string) string { return "" }
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.md")
	before, after := "# Settings\n\n"+Begin+"\n", End+"\n\nMore text.\n"
	if err := os.WriteFile(doc, []byte(before+"| stale |\n"+after), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-doc", doc}, noEnv, &stderr); code != 0 {
		t.Fatalf("rewrite: exit %d, stderr %q", code, stderr.String())
	}
	got, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := before + Table() + after; string(got) != want {
		t.Fatalf("rewritten document:\n%s\nwant:\n%s", got, want)
	}

	stderr.Reset()
	if code := run([]string{"-h"}, noEnv, &stderr); code != 0 || !strings.Contains(stderr.String(), "-doc") ||
		!strings.Contains(stderr.String(), "the Markdown file whose table to rewrite") || !strings.Contains(stderr.String(), "docs/configuration.md") {
		t.Fatalf("-h: exit %d, stderr %q", code, stderr.String())
	}

	stderr.Reset()
	if code := run([]string{"-nope"}, noEnv, &stderr); code != 2 || !strings.Contains(stderr.String(), "configdoc: ") {
		t.Fatalf("unknown flag: exit %d, stderr %q", code, stderr.String())
	}

	plain := filepath.Join(dir, "plain.md")
	if err := os.WriteFile(plain, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"-doc", plain}, noEnv, &stderr); code != 1 || !strings.Contains(stderr.String(), "markers") {
		t.Fatalf("no markers: exit %d, stderr %q", code, stderr.String())
	}
	if b, _ := os.ReadFile(plain); string(b) != "no markers\n" {
		t.Fatalf("document without markers changed: %q", b)
	}
}
