// Package mapfile holds what the readers of an operator's mapping files
// (internal/attrmap for attributes, internal/groupmap for groups) share:
// the top-level mapping of a YAML file and the settings of a CSV reader.
package mapfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAMLMapping parses data as one YAML document and returns its top-level
// mapping node, whose Content alternates keys and values; an empty document
// gives nil and no error. name labels errors; want describes the expected
// mapping in the error for a document that is not a mapping
// ("name:line: want <want>").
func YAMLMapping(name string, data []byte, want string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want %s", name, root.Line, want)
	}
	return root, nil
}

// CSVReader returns a CSV reader for a mapping file: lines starting with #
// are comments, rows may have any number of fields (the caller checks
// them), and spaces before a field are dropped.
func CSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return cr
}
