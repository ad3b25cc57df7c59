// Package groupmap reads a group mapping file: which Entra groups (object ID
// or display name) become which Okta groups (name, or ID of an existing
// OKTA_GROUP), for starter migrate --map-groups.
package groupmap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"entra2okta/internal/mapfile"
	"entra2okta/workflows"
)

// ParseFile reads a mapping file: YAML (.yaml, .yml), a mapping of Entra
// group to Okta group, one per line (a list of Okta groups maps one Entra
// group to several); or CSV (.csv), rows of entraGroup,oktaGroup.
func ParseFile(path string) ([]workflows.GroupRule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	var rules []workflows.GroupRule
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		rules, err = ParseCSV(name, bytes.NewReader(data))
	case ".yaml", ".yml":
		rules, err = ParseYAML(name, data)
	default:
		return nil, fmt.Errorf("%s: want a .yaml, .yml or .csv group mapping file", path)
	}
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s: no group mapping in the file", path)
	}
	return rules, nil
}

// ParseYAML reads a mapping of Entra group to Okta group (or to a list of
// Okta groups). name labels errors.
func ParseYAML(name string, data []byte) ([]workflows.GroupRule, error) {
	root, err := mapfile.YAMLMapping(name, data, "a mapping of Entra group to Okta group (entraGroup: oktaGroup), one per line")
	if root == nil {
		return nil, err
	}
	var out []workflows.GroupRule
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			return nil, fmt.Errorf("%s:%d: want an Entra group object ID or display name", name, k.Line)
		}
		var targets []*yaml.Node
		switch v.Kind {
		case yaml.ScalarNode:
			targets = []*yaml.Node{v}
		case yaml.SequenceNode:
			targets = v.Content
		}
		if len(targets) == 0 {
			return nil, fmt.Errorf("%s:%d: %s: want an Okta group name or ID, or a list of them", name, k.Line, k.Value)
		}
		for _, t := range targets {
			if t.Kind != yaml.ScalarNode || t.Tag == "!!null" || strings.TrimSpace(t.Value) == "" {
				return nil, fmt.Errorf("%s:%d: %s: want an Okta group name or ID", name, t.Line, k.Value)
			}
			if out, err = add(out, strings.TrimSpace(k.Value), strings.TrimSpace(t.Value)); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, t.Line, err)
			}
		}
	}
	return out, nil
}

// ParseCSV reads rows of entraGroup,oktaGroup. A first row of column names
// (entra,okta; entraGroup,oktaGroup) is skipped, as are blank lines and
// lines starting with #. name labels errors.
func ParseCSV(name string, r io.Reader) ([]workflows.GroupRule, error) {
	cr := mapfile.CSVReader(r)
	var out []workflows.GroupRule
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if row == 0 && len(rec) == 2 && isHeader(rec[0], "entra", "entragroup", "source") && isHeader(rec[1], "okta", "oktagroup", "target") {
			continue
		}
		if len(rec) != 2 || strings.TrimSpace(rec[0]) == "" || strings.TrimSpace(rec[1]) == "" {
			return nil, fmt.Errorf("%s:%d: want entraGroup,oktaGroup (two non-empty columns)", name, line)
		}
		if out, err = add(out, strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

func isHeader(cell string, names ...string) bool {
	return slices.Contains(names, strings.ToLower(strings.ReplaceAll(strings.TrimSpace(cell), " ", "")))
}

// add appends a rule, checking it; a rule given twice is an error.
func add(rules []workflows.GroupRule, entraGroup, oktaGroup string) ([]workflows.GroupRule, error) {
	r := workflows.GroupRule{Entra: entraGroup, Okta: oktaGroup}
	if strings.HasPrefix(strings.ToLower(oktaGroup), "00g") && !workflows.IsOktaGroupID(oktaGroup) && !strings.Contains(oktaGroup, " ") {
		return nil, fmt.Errorf("%q looks like an Okta group ID but is not one (00g and 17 letters or digits)", oktaGroup)
	}
	if err := (workflows.GroupMapping{Rules: []workflows.GroupRule{r}}).Validate(); err != nil {
		return nil, err
	}
	for _, o := range rules {
		if strings.EqualFold(o.Entra, r.Entra) && strings.EqualFold(o.Okta, r.Okta) {
			return nil, fmt.Errorf("%s → %s is given twice", entraGroup, oktaGroup)
		}
	}
	return append(rules, r), nil
}
