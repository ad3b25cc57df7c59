package graphprops

import (
	"strings"
	"testing"
)

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		if seen[strings.ToLower(p.Name)] {
			t.Errorf("%s listed twice", p.Name)
		}
		seen[strings.ToLower(p.Name)] = true
		if (p.Type == Complex) != (len(p.Sub) > 0) {
			t.Errorf("%s: type %s with members %v", p.Name, p.Type, p.Sub)
		}
	}
	p, ok := Lookup("ONPREMISESEXTENSIONATTRIBUTES")
	if !ok || p.Name != ExtensionAttributes || len(p.Sub) != 15 || p.Sub[0] != "extensionAttribute1" || p.Sub[14] != "extensionAttribute15" || p.Default {
		t.Errorf("extension attributes: %+v %v", p, ok)
	}
	p.Sub[0] = "changed"
	if q, _ := Lookup(ExtensionAttributes); q.Sub[0] != "extensionAttribute1" {
		t.Error("Lookup shares the catalogue's member list")
	}
	if p, ok := Lookup(" officelocation "); !ok || p.Name != "officeLocation" || p.Type != String || !p.Default {
		t.Errorf("officeLocation: %+v %v", p, ok)
	}
	if p, _ := Lookup("skills"); !p.SingleOnly || p.Type != StringCollection {
		t.Errorf("skills: %+v", p)
	}
	if _, ok := Lookup("officeLocaton"); ok {
		t.Error("a misspelt name was found")
	}
	if len(Names()) != len(All()) {
		t.Error("Names and All disagree")
	}
}

func TestDirectoryExtensionNames(t *testing.T) {
	for name, want := range map[string]bool{
		"extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroupTracker":       true,
		"extension_B7D8E648520F41D3B9C0FDEB91768A0A_permanent_pensionable": true,
		"extension_b7d8e648-520f-41d3-b9c0-fdeb91768a0a_jobGroupTracker":   false, // the appId keeps its hyphens
		"extension_b7d8e648520f41d3b9c0fdeb91768a0_jobGroupTracker":        false, // 31 digits
		"extension_b7d8e648520f41d3b9c0fdeb91768a0a_":                      false,
		"extension_b7d8e648520f41d3b9c0fdeb91768a0a_job-group":             false,
		"onPremisesExtensionAttributes":                                    false,
	} {
		if IsDirectoryExtension(name) != want {
			t.Errorf("IsDirectoryExtension(%q) = %v", name, !want)
		}
	}
	if !LooksLikeDirectoryExtension("Extension_abc") || LooksLikeDirectoryExtension("extensionAttribute3") {
		t.Error("LooksLikeDirectoryExtension")
	}
}
