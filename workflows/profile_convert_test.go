package workflows

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// TestNestedAndConvertedValues: a member of an object property is read
// (and selected as the whole object), the manager's UPN stays a flat key,
// and each Convert shapes values as the mapping check promised.
func TestNestedAndConvertedValues(t *testing.T) {
	const ext = "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup"
	maps := []AttributeMapping{
		{Graph: "onPremisesExtensionAttributes.extensionAttribute3", Okta: "costCenter"},
		{Graph: "onPremisesExtensionAttributes.extensionAttribute1", Okta: "division"}, // null: left out
		{Graph: "onPremisesExtensionAttributes.extensionAttribute2", Okta: "nickName"}, // blank: left out
		{Graph: ManagerUPN, Okta: "manager"},
		{Graph: "accountEnabled", Okta: "userType", Convert: ConvertString},
		{Graph: ext, Okta: "title", Convert: ConvertString},                           // a number as text
		{Graph: "officeLocation", Okta: "offices", Convert: ConvertArray},             // wrapped
		{Graph: "otherMails", Okta: "aliases", Convert: ConvertArray},                 // blanks dropped
		{Graph: "proxyAddresses", Okta: "proxies", Convert: ConvertArray},             // empty: left out
		{Graph: "businessPhones", Okta: "phones", Convert: ConvertString},             // a collection is no text
		{Graph: "onPremisesExtensionAttributes.extensionAttribute9", Okta: "missing"}, // the object is absent
		{Graph: "extension_00000000000000000000000000000000_x", Okta: "none", Convert: ConvertString},
	}
	u := entra.User{UserPrincipalName: "jo@contoso.com", Attributes: map[string]any{
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": "CC-42", "extensionAttribute1": nil, "extensionAttribute2": " "},
		ManagerUPN:                      "boss@contoso.com",
		"accountEnabled":                true,
		ext:                             float64(7),
		"officeLocation":                "Dublin",
		"otherMails":                    []any{"a@contoso.com", "", "b@contoso.com"},
		"proxyAddresses":                []any{},
		"businessPhones":                []any{"+1 555 0100"},
	}}
	assert.Equal(t, okta.Profile{
		"costCenter": "CC-42", "manager": "boss@contoso.com", "userType": "true", "title": "7",
		"offices": []any{"Dublin"}, "aliases": []any{"a@contoso.com", "b@contoso.com"},
	}, mappedProfile(u, maps))
	assert.Equal(t, []string{"id", "userPrincipalName", "mail", "accountEnabled", "userType",
		"onPremisesExtensionAttributes", "manager", ext, "officeLocation", "otherMails", "proxyAddresses", "businessPhones",
		"extension_00000000000000000000000000000000_x"}, graphProperties(maps))
}
