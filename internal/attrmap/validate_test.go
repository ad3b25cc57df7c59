package attrmap

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"entra2okta/internal/okta"
	"entra2okta/workflows"
)

// testSchema is Okta's base profile plus custom attributes of each type.
func testSchema() okta.UserSchema {
	s := okta.UserSchema{Attributes: map[string]okta.SchemaAttribute{}}
	for _, n := range []string{"login", "email", "secondEmail", "firstName", "lastName", "displayName", "title", "department",
		"division", "costCenter", "employeeNumber", "mobilePhone", "primaryPhone", "manager", "managerId", "city", "userType"} {
		s.Attributes[n] = okta.SchemaAttribute{Name: n, Type: "string"}
	}
	for _, a := range []okta.SchemaAttribute{
		{Name: "officeLocation", Type: "string", Custom: true},
		{Name: "tags", Type: "array", ItemsType: "string", Custom: true},
		{Name: "badgeNumbers", Type: "array", ItemsType: "integer", Custom: true},
		{Name: "isContractor", Type: "boolean", Custom: true},
		{Name: "badgeNumber", Type: "integer", Custom: true},
		{Name: "hrSynced", Type: "string", Custom: true, Mutability: "READ_ONLY"},
	} {
		s.Attributes[a.Name] = a
	}
	return s
}

func flags(t *testing.T, vs ...string) []Entry {
	t.Helper()
	var f Flags
	for _, v := range vs {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestValidateKeepsDefaultsAndAddsMappings(t *testing.T) {
	res, err := Validate(flags(t, "officelocation=officeLocation", "onPremisesExtensionAttributes.EXTENSIONATTRIBUTE3=costCenter",
		"manager.userPrincipalName=manager"), true, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	want := append(workflows.DefaultAttributeMappings(),
		workflows.AttributeMapping{Graph: "officeLocation", Okta: "officeLocation"},
		workflows.AttributeMapping{Graph: "onPremisesExtensionAttributes.extensionAttribute3", Okta: "costCenter"},
		workflows.ManagerMapping)
	if !reflect.DeepEqual(res.Mappings, want) {
		t.Errorf("mappings\n got %+v\nwant %+v", res.Mappings, want)
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes %v", res.Notes)
	}
}

func TestValidateReplacesAndDropsDefaults(t *testing.T) {
	res, err := Validate(flags(t, "userPrincipalName=email"), true, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mappings) != len(workflows.DefaultAttributeMappings()) || res.Mappings[len(res.Mappings)-1].Graph != "userPrincipalName" {
		t.Errorf("mappings %+v", res.Mappings)
	}
	for _, m := range res.Mappings {
		if m.Graph == "mail" {
			t.Errorf("the default mail→email was kept beside userPrincipalName→email")
		}
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "replaces the default mail→email") {
		t.Errorf("notes %v", res.Notes)
	}

	res, err = Validate(flags(t, "givenName=firstName", "surname=lastName"), false, testSchema())
	if err != nil || len(res.Mappings) != 2 {
		t.Errorf("without defaults: %+v %v", res.Mappings, err)
	}
	if _, err := Validate(nil, false, testSchema()); err == nil || !strings.Contains(err.Error(), "no attribute mapping") {
		t.Errorf("nothing to map: %v", err)
	}
}

func TestValidateConversions(t *testing.T) {
	const ext = "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup"
	for _, tc := range []struct {
		entry string
		conv  workflows.Conversion
		note  string
	}{
		{"department=department", "", ""},
		{"employeeHireDate=title", "", ""},
		{"businessPhones[2]=primaryPhone", "", ""},
		{"department=tags", workflows.ConvertArray, "one-element array"},
		{"otherMails=tags", workflows.ConvertArray, ""},
		{"accountEnabled=isContractor", "", ""},
		{"onPremisesSyncEnabled=userType", workflows.ConvertString, `written as "true" or "false"`},
		{ext + "=division", workflows.ConvertString, "type is not checked before the batch"},
		{ext + "=tags", workflows.ConvertArray, "type is not checked"},
		{ext + "=badgeNumber", "", "a value not of type integer fails"},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			res, err := Validate(flags(t, tc.entry), false, testSchema())
			if err != nil {
				t.Fatal(err)
			}
			if res.Mappings[0].Convert != tc.conv {
				t.Errorf("convert %q, want %q", res.Mappings[0].Convert, tc.conv)
			}
			if note := strings.Join(res.Notes, "\n"); (tc.note == "") != (note == "") || !strings.Contains(note, tc.note) {
				t.Errorf("notes %q, want %q", note, tc.note)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	for _, tc := range []struct {
		entry string
		want  []string // substrings of the one problem
	}{
		// Unknown names, with the closest valid ones.
		{"officeLocaton=officeLocation", []string{"--map officeLocaton=officeLocation: officeLocaton is not a Graph user property; did you mean officeLocation?"}},
		{"department=costCentre", []string{"costCentre is not in the Okta user schema (add it in the Profile Editor first); did you mean costCenter?"}},
		{"officeLocation=OfficeLocation", []string{"did you mean officeLocation? (Okta attribute names are case-sensitive)"}},
		{"officeLocation=shoeSize", []string{"shoeSize is not in the Okta user schema (add it in the Profile Editor first)"}},
		{"mobile=mobilePhone", []string{"mobile is not a Graph user property; did you mean mobilePhone?"}},
		// Extension attributes.
		{"onPremisesExtensionAttributes.extensionAttribute16=costCenter", []string{"onPremisesExtensionAttributes has no member \"extensionAttribute16\"; its members are extensionAttribute1 to extensionAttribute15"}},
		{"onPremisesExtensionAttributes=costCenter", []string{"is an object: map one of its members", "extensionAttribute1 to onPremisesExtensionAttributes.extensionAttribute15"}},
		{"extensionAttribute3=costCenter", []string{"did you mean onPremisesExtensionAttributes.extensionAttribute3"}},
		{"department.name=costCenter", []string{"department has no members: it is a String"}},
		{"extension_b7d8e648-520f-41d3-b9c0-fdeb91768a0a_jobGroup=division", []string{"not a directory extension name", "did you mean extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup?"}},
		{"extension_jobGroup=division", []string{"not a directory extension name: want extension_<the owner app's appId"}},
		// Shapes that do not fit.
		{"department=isContractor", []string{"department→isContractor: the Okta attribute is of type boolean; Graph's department is a string, and text is not converted"}},
		{"employeeId=badgeNumber", []string{"of type integer"}},
		{"department=badgeNumbers", []string{"of type array of integer"}},
		{"otherMails=secondEmail", []string{"Graph's otherMails is a String collection: map one element (otherMails[0])"}},
		{"accountEnabled=badgeNumber", []string{"of type integer; Graph's accountEnabled is a Boolean"}},
		{"department[0]=department", []string{"department is not a collection"}},
		{"businessPhones[x]=primaryPhone", []string{"an element is written name[n]"}},
		// Sources a batch cannot read, targets it must not write.
		{"aboutMe=title", []string{"Graph returns aboutMe only when one user is read"}},
		{"manager=manager", []string{"the manager is mapped as manager.userPrincipalName"}},
		{"mail=login", []string{"login is always the user principal name"}},
		{"department=hrSynced", []string{"hrSynced is read-only"}},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			_, err := Validate(flags(t, tc.entry), false, testSchema())
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) != 1 {
				t.Fatalf("error %v, want one problem", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Problems[0], w) {
					t.Errorf("problem %q\nlacks %q", e.Problems[0], w)
				}
			}
		})
	}
}

// TestValidateReportsEveryProblem: all problems at once, each with where the
// mapping was written, and a target filled twice.
func TestValidateReportsEveryProblem(t *testing.T) {
	entries, err := ParseYAML("m.yaml", []byte("officeLocaton: officeLocation\ndepartment: costCentre\njobTitle: title\n"))
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries, flags(t, "companyName=division", "department=division")...)
	_, err = Validate(entries, true, testSchema())
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v", err)
	}
	want := []string{
		"m.yaml:1: officeLocaton is not a Graph user property",
		"m.yaml:2: costCentre is not in the Okta user schema",
		"--map department=division: the Okta attribute division is already filled by --map companyName=division",
	}
	if len(e.Problems) != len(want) {
		t.Fatalf("problems %q", e.Problems)
	}
	for i, w := range want {
		if !strings.HasPrefix(e.Problems[i], w) {
			t.Errorf("problem %d %q, want %q…", i, e.Problems[i], w)
		}
	}
	if !strings.HasPrefix(err.Error(), "invalid attribute mapping:\n  m.yaml:1: ") {
		t.Errorf("message %q", err.Error())
	}
}

func TestClosest(t *testing.T) {
	cands := []string{"officeLocation", "department", "displayName", "mobilePhone", "mail", "mailNickname"}
	for in, want := range map[string][]string{
		"officelocation": {"officeLocation"},
		"deprtment":      {"department"},
		"mial":           {"mail"},
		"nickname":       {"mailNickname"},
		"zzzzzz":         nil,
	} {
		if got := closest(in, cands, 3); !reflect.DeepEqual(got, want) {
			t.Errorf("closest(%q) = %v, want %v", in, got, want)
		}
	}
}
