package attrmap

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseYAML(t *testing.T) {
	got, err := ParseYAML("m.yaml", []byte(`# Graph property: Okta attribute
officeLocation: officeLocation

onPremisesExtensionAttributes.extensionAttribute3: "costCenter"   # quoted is fine
'businessPhones[1]': secondPhone
`))
	want := []Entry{
		{Graph: "officeLocation", Okta: "officeLocation", Source: "m.yaml:2"},
		{Graph: "onPremisesExtensionAttributes.extensionAttribute3", Okta: "costCenter", Source: "m.yaml:4"},
		{Graph: "businessPhones[1]", Okta: "secondPhone", Source: "m.yaml:5"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got, err := ParseYAML("empty.yaml", []byte("# nothing yet\n")); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v %v", got, err)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"a list", "- officeLocation\n- department\n", "m.yaml:1: want a mapping"},
		{"no Okta attribute", "officeLocation: officeLocation\ndepartment:\n", "m.yaml:2: want graphAttr: oktaAttr, with a name on both sides"},
		{"a nested value", "officeLocation: officeLocation\n\ndepartment:\n  okta: department\n", "m.yaml:3: want graphAttr: oktaAttr, with a single name"},
		{"a key twice", "department: department\nmail: email\ndepartment: division\n", "m.yaml:3: department is mapped again (first on line 1)"},
		{"bad YAML", "officeLocation: officeLocation\n  department: [\n", "m.yaml: line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseYAML("m.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseCSV(t *testing.T) {
	got, err := ParseCSV("m.csv", strings.NewReader("graphAttr,oktaAttr\n# comment\nofficeLocation,officeLocation\n\n mail , secondEmail\nmail,email\n"))
	want := []Entry{
		{Graph: "officeLocation", Okta: "officeLocation", Source: "m.csv:3"},
		{Graph: "mail", Okta: "secondEmail", Source: "m.csv:5"},
		{Graph: "mail", Okta: "email", Source: "m.csv:6"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v", got, err)
	}
	got, err = ParseCSV("m.csv", strings.NewReader("department,division\n"))
	if err != nil || len(got) != 1 || got[0].Source != "m.csv:1" {
		t.Errorf("headerless: %+v %v", got, err)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"three columns", "graph,okta\nofficeLocation,officeLocation\ndepartment,department,x\n", "m.csv:3: want 2 columns, graphAttr,oktaAttr; got 3"},
		{"one column", "officeLocation\n", "m.csv:1: want 2 columns"},
		{"an empty column", "officeLocation,officeLocation\n\n# c\ndepartment,\n", "m.csv:4: want graphAttr,oktaAttr, with a name in both columns"},
		{"a broken quote", "officeLocation,officeLocation\n\"department,department\n", "m.csv:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCSV("m.csv", strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	y := write("m.YML", "officeLocation: officeLocation\n")
	if got, err := ParseFile(y); err != nil || len(got) != 1 || got[0].Source != y+":1" {
		t.Errorf("yaml: %+v %v", got, err)
	}
	c := write("m.csv", "officeLocation,officeLocation\n")
	if got, err := ParseFile(c); err != nil || len(got) != 1 {
		t.Errorf("csv: %+v %v", got, err)
	}
	if _, err := ParseFile(write("m.json", "{}")); err == nil || !strings.Contains(err.Error(), "want a .yaml, .yml or .csv") {
		t.Errorf("json: %v", err)
	}
	if _, err := ParseFile(filepath.Join(dir, "absent.yaml")); err == nil {
		t.Error("a missing file was read")
	}
}

func TestFlags(t *testing.T) {
	var f Flags
	for _, v := range []string{"officeLocation=officeLocation", " onPremisesExtensionAttributes.extensionAttribute3 = costCenter "} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if f.String() != "officeLocation=officeLocation,onPremisesExtensionAttributes.extensionAttribute3=costCenter" || f[0].Source != "--map officeLocation=officeLocation" {
		t.Errorf("flags %+v", f)
	}
	for _, bad := range []string{"officeLocation", "=x", "x=", " = "} {
		if err := f.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
