// Package attrmap reads the attribute mappings an operator chooses for a
// migration (a file, repeated --map flags, the defaults kept or dropped) and
// checks them, before any batch starts, against Microsoft Graph's user
// properties (internal/graphprops) and the org's Okta user schema, so that a
// misspelt or missing attribute is an error the operator sees at once, with
// the closest valid names, rather than a failed user later.
//
// A mapping names a Graph source and an Okta profile attribute:
//
//	officeLocation                                    a property
//	businessPhones[0]                                 an element of a String collection
//	onPremisesExtensionAttributes.extensionAttribute3 a member of an object property
//	extension_<appId without hyphens>_<name>          a directory extension
//	manager.userPrincipalName                         the manager's UPN
//
// Value shapes (Graph type → Okta type): a string (String, DateTimeOffset,
// an element, a member, the manager) is copied to an Okta string and
// becomes a one-element array for an Okta array of strings; a Boolean is
// copied to an Okta boolean and written "true"/"false" to an Okta string; a
// String collection is copied to an Okta array of strings (its non-blank
// elements). Everything else is refused: text is never parsed into an Okta
// boolean, integer or number, a collection is never squeezed into an Okta
// string (map one element instead), an object is mapped member by member.
// A directory extension's type is not known before the batch (that needs
// Graph's extension definitions): it is copied as read, as text to an Okta
// string, and the operator is told that a value of another type fails that
// user.
package attrmap

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"entra2okta/internal/mapfile"
)

// Entry is one mapping as the operator wrote it.
type Entry struct {
	Graph string // a Graph source, as written
	Okta  string // an Okta profile attribute, as written
	// Source says where it was written: "map.yaml:3", "--map a=b" or
	// "default".
	Source string
}

// maxFileSize bounds a mapping file: a few hundred lines are plenty.
const maxFileSize = 1 << 20

// ParseFile reads a mapping file: YAML (.yaml, .yml), a mapping of Graph
// source to Okta attribute, or CSV (.csv), two columns graphAttr,oktaAttr
// with an optional header row. Errors name the file and line.
func ParseFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return ParseYAML(path, data)
	case ".csv":
		return ParseCSV(path, bytes.NewReader(data))
	}
	return nil, fmt.Errorf("%s: want a .yaml, .yml or .csv mapping file", path)
}

// ParseYAML reads a YAML mapping of Graph source to Okta attribute:
//
//	officeLocation: officeLocation
//	onPremisesExtensionAttributes.extensionAttribute3: costCenter
//
// A Graph source may appear once (a YAML mapping's keys are unique); an
// empty document holds no entry. name labels errors.
func ParseYAML(name string, data []byte) ([]Entry, error) {
	root, err := mapfile.YAMLMapping(name, data, "a mapping of Graph property to Okta attribute (graphAttr: oktaAttr), one per line")
	if root == nil {
		return nil, err
	}
	var out []Entry
	first := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s:%d: want graphAttr: oktaAttr, with a single name on each side", name, k.Line)
		}
		graph, okta := strings.TrimSpace(k.Value), strings.TrimSpace(v.Value)
		if graph == "" || okta == "" || v.Tag == "!!null" {
			return nil, fmt.Errorf("%s:%d: want graphAttr: oktaAttr, with a name on both sides", name, k.Line)
		}
		if l, dup := first[strings.ToLower(graph)]; dup {
			return nil, fmt.Errorf("%s:%d: %s is mapped again (first on line %d); to copy it to a second Okta attribute use --map or a CSV file", name, k.Line, graph, l)
		}
		first[strings.ToLower(graph)] = k.Line
		out = append(out, Entry{Graph: graph, Okta: okta, Source: fmt.Sprintf("%s:%d", name, k.Line)})
	}
	return out, nil
}

// csvHeaders are the first-row cells that make it a header row.
var (
	csvGraphHeaders = []string{"graph", "graphattr", "graphattribute", "graphproperty", "entra", "source"}
	csvOktaHeaders  = []string{"okta", "oktaattr", "oktaattribute", "target"}
)

// ParseCSV reads rows of graphAttr,oktaAttr. A first row of column names
// (graphAttr,oktaAttr; graph,okta) is skipped, as are blank lines and lines
// starting with #. name labels errors.
func ParseCSV(name string, r io.Reader) ([]Entry, error) {
	cr := mapfile.CSVReader(r)
	var out []Entry
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %w", name, pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if row == 0 && len(rec) == 2 && isOneOf(rec[0], csvGraphHeaders) && isOneOf(rec[1], csvOktaHeaders) {
			continue
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("%s:%d: want 2 columns, graphAttr,oktaAttr; got %d", name, line, len(rec))
		}
		graph, okta := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if graph == "" || okta == "" {
			return nil, fmt.Errorf("%s:%d: want graphAttr,oktaAttr, with a name in both columns", name, line)
		}
		out = append(out, Entry{Graph: graph, Okta: okta, Source: fmt.Sprintf("%s:%d", name, line)})
	}
}

func isOneOf(s string, set []string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// ParseFlag reads one --map value, graphAttr=oktaAttr.
func ParseFlag(v string) (Entry, error) {
	graph, okta, ok := strings.Cut(v, "=")
	graph, okta = strings.TrimSpace(graph), strings.TrimSpace(okta)
	if !ok || graph == "" || okta == "" {
		return Entry{}, fmt.Errorf("want graphAttr=oktaAttr, e.g. officeLocation=officeLocation")
	}
	return Entry{Graph: graph, Okta: okta, Source: "--map " + v}, nil
}

// Flags collects repeated --map flags; it is a flag.Value.
type Flags []Entry

// String shows the flags as given.
func (f *Flags) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, e := range *f {
		parts[i] = e.Graph + "=" + e.Okta
	}
	return strings.Join(parts, ",")
}

// Set adds one graphAttr=oktaAttr.
func (f *Flags) Set(v string) error {
	e, err := ParseFlag(v)
	if err != nil {
		return err
	}
	*f = append(*f, e)
	return nil
}
