package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the module root, seen from this package's directory.
const root = "../../.."

// mdLink matches a Markdown link's target: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinksResolve fails when a relative link in README.md, docs/*.md or
// another Markdown file they link to names a file that does not exist, or a
// #fragment that is no heading of the Markdown file it points into.
func TestDocLinksResolve(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md")
	}
	queue := append([]string{filepath.Join(root, "README.md")}, docs...)
	seen := map[string]bool{}
	links := 0
	for len(queue) > 0 {
		file := filepath.Clean(queue[0])
		queue = queue[1:]
		if seen[file] {
			continue
		}
		seen[file] = true
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range relativeLinks(string(text)) {
			links++
			path, frag, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), path)
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s links to %s: %v", file, target, err)
					continue
				}
			}
			if !strings.HasSuffix(dest, ".md") {
				continue
			}
			if path != "" {
				queue = append(queue, dest)
			}
			if frag == "" {
				continue
			}
			b, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(string(b))[frag] {
				t.Errorf("%s links to %s: %s has no heading #%s", file, target, dest, frag)
			}
		}
	}
	if links == 0 {
		t.Error("no relative link found: the pattern is broken")
	}
}

// relativeLinks returns the targets of text's Markdown links that are not
// URLs, outside fenced code blocks.
func relativeLinks(text string) []string {
	var out []string
	fenced := false
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			if !strings.Contains(m[1], "://") && !strings.HasPrefix(m[1], "mailto:") {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// anchors returns the fragment of every heading of a Markdown text, as
// GitHub derives it: lower case, punctuation dropped, spaces made hyphens.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	fenced := false
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// TestAnchors checks the heading fragments against GitHub's for headings of
// these documents.
func TestAnchors(t *testing.T) {
	got := anchors("# Scaling, and what limits each part\n```\n# not a heading\n```\n## End-to-end suite (`internal/e2e`)\n")
	for _, want := range []string{"scaling-and-what-limits-each-part", "end-to-end-suite-internale2e"} {
		if !got[want] {
			t.Errorf("anchors lack %q: %v", want, got)
		}
	}
	if got["not-a-heading"] || len(got) != 2 {
		t.Errorf("anchors: %v", got)
	}
	if l := relativeLinks("[a](docs/x.md#y) [b](https://x.test/) ```\n"); len(l) != 1 || l[0] != "docs/x.md#y" {
		t.Errorf("relativeLinks: %q", l)
	}
}

// TestCIRunsReadmeTestCommand fails when .ci/run does not run, as one of its
// lines, exactly the test command the README gives a newcomer.
func TestCIRunsReadmeTestCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var command string
	for line := range strings.Lines(string(readme)) {
		if strings.HasPrefix(line, "go ") && strings.Contains(line, "go test ") {
			command, _, _ = strings.Cut(line, " #")
			command = strings.TrimSpace(command)
			break
		}
	}
	if command == "" {
		t.Fatal("README.md has no line starting with go and running go test")
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(ci)) {
		if strings.TrimSpace(line) == command {
			return
		}
	}
	t.Errorf(".ci/run does not run the README's test command %q", command)
}
