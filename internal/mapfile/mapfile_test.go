package mapfile

import (
	"strings"
	"testing"
)

func TestYAMLMapping(t *testing.T) {
	root, err := YAMLMapping("map", []byte("a: b\nc: d\n"), "x: y")
	if err != nil || root == nil || len(root.Content) != 4 || root.Content[2].Value != "c" || root.Content[3].Value != "d" {
		t.Fatalf("a mapping: %v %v", root, err)
	}
	if root, err := YAMLMapping("map", []byte("# nothing yet\n"), "x: y"); root != nil || err != nil {
		t.Errorf("an empty document: %v %v", root, err)
	}
	for _, c := range []struct{ data, want string }{
		{"\n- a\n- b\n", "map:2: want x: y"},
		{"a: [b\n", "map: line 1: "},
	} {
		root, err := YAMLMapping("map", []byte(c.data), "x: y")
		if root != nil || err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "yaml: ") {
			t.Errorf("%q: %v %v, want an error starting %q", c.data, root, err, c.want)
		}
	}
}

func TestCSVReader(t *testing.T) {
	recs, err := CSVReader(strings.NewReader("# a comment\na, b\nc\n")).ReadAll()
	if err != nil || len(recs) != 2 || len(recs[0]) != 2 || recs[0][1] != "b" || len(recs[1]) != 1 {
		t.Errorf("got %q %v, want [[a b] [c]]", recs, err)
	}
}
