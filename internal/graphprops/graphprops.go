// Package graphprops is the catalogue of the Microsoft Graph v1.0 user
// properties the product knows: their names, their types and how Graph
// returns them (https://learn.microsoft.com/en-us/graph/api/resources/user).
// The Graph emulator (internal/emu/fakeentra) serves these properties and the
// starter checks attribute mappings against them, so both read this one
// list. It imports nothing but the standard library.
package graphprops

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Type is a Graph property's type as the user resource documents it.
type Type string

// The property types of the catalogue.
const (
	String           Type = "String"
	Boolean          Type = "Boolean"
	DateTimeOffset   Type = "DateTimeOffset" // an ISO 8601 string on the wire
	StringCollection Type = "String collection"
	// Complex is an object whose members are the property's Sub names, each
	// a String.
	Complex Type = "complex"
)

// Property is one Graph user property.
type Property struct {
	Name string
	Type Type
	// Default: Graph returns it when a request has no $select.
	Default bool
	// SingleOnly: Graph returns it only when one user is read; a $select of
	// it on a collection is answered 501 NotImplemented.
	SingleOnly bool
	// Sub lists the members of a Complex property, in Graph's order.
	Sub []string
}

// ExtensionAttributes is the complex property that holds the 15 on-premises
// (Exchange custom) extension attributes, extensionAttribute1 to
// extensionAttribute15, each a String of up to 1024 characters. Graph
// returns it only on $select, always as an object with all 15 members (null
// when unset), and a $select names the whole object, never one member
// (https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes,
// https://learn.microsoft.com/en-us/graph/extensibility-overview).
const ExtensionAttributes = "onPremisesExtensionAttributes"

// extensionAttributeNames are ExtensionAttributes' members.
var extensionAttributeNames = func() []string {
	out := make([]string, 15)
	for i := range out {
		out[i] = "extensionAttribute" + strconv.Itoa(i+1)
	}
	return out
}()

// catalogue is the list, in the order of the user resource's page.
var catalogue = []Property{
	{Name: "aboutMe", Type: String, SingleOnly: true},
	{Name: "accountEnabled", Type: Boolean},
	{Name: "ageGroup", Type: String},
	{Name: "birthday", Type: DateTimeOffset, SingleOnly: true},
	{Name: "businessPhones", Type: StringCollection, Default: true},
	{Name: "city", Type: String},
	{Name: "companyName", Type: String},
	{Name: "country", Type: String},
	{Name: "createdDateTime", Type: DateTimeOffset},
	{Name: "creationType", Type: String},
	{Name: "department", Type: String},
	{Name: "displayName", Type: String, Default: true},
	{Name: "employeeHireDate", Type: DateTimeOffset},
	{Name: "employeeId", Type: String},
	{Name: "employeeType", Type: String},
	{Name: "externalUserState", Type: String},
	{Name: "faxNumber", Type: String},
	{Name: "givenName", Type: String, Default: true},
	{Name: "hireDate", Type: DateTimeOffset, SingleOnly: true},
	{Name: "id", Type: String, Default: true},
	{Name: "imAddresses", Type: StringCollection},
	{Name: "interests", Type: StringCollection, SingleOnly: true},
	{Name: "jobTitle", Type: String, Default: true},
	{Name: "mail", Type: String, Default: true},
	{Name: "mailNickname", Type: String},
	{Name: "mobilePhone", Type: String, Default: true},
	{Name: "mySite", Type: String, SingleOnly: true},
	{Name: "officeLocation", Type: String, Default: true},
	{Name: "onPremisesDistinguishedName", Type: String},
	{Name: "onPremisesDomainName", Type: String},
	{Name: ExtensionAttributes, Type: Complex, Sub: extensionAttributeNames},
	{Name: "onPremisesImmutableId", Type: String},
	{Name: "onPremisesSamAccountName", Type: String},
	{Name: "onPremisesSyncEnabled", Type: Boolean},
	{Name: "onPremisesUserPrincipalName", Type: String},
	{Name: "otherMails", Type: StringCollection},
	{Name: "passwordPolicies", Type: String},
	{Name: "pastProjects", Type: StringCollection, SingleOnly: true},
	{Name: "postalCode", Type: String},
	{Name: "preferredLanguage", Type: String, Default: true},
	{Name: "preferredName", Type: String, SingleOnly: true},
	{Name: "proxyAddresses", Type: StringCollection},
	{Name: "responsibilities", Type: StringCollection, SingleOnly: true},
	{Name: "schools", Type: StringCollection, SingleOnly: true},
	{Name: "skills", Type: StringCollection, SingleOnly: true},
	{Name: "state", Type: String},
	{Name: "streetAddress", Type: String},
	{Name: "surname", Type: String, Default: true},
	{Name: "usageLocation", Type: String},
	{Name: "userPrincipalName", Type: String, Default: true},
	{Name: "userType", Type: String},
}

var byLower = func() map[string]int {
	m := make(map[string]int, len(catalogue))
	for i, p := range catalogue {
		m[strings.ToLower(p.Name)] = i
	}
	return m
}()

// All returns the catalogue (a copy).
func All() []Property {
	out := slices.Clone(catalogue)
	for i := range out {
		out[i].Sub = slices.Clone(out[i].Sub)
	}
	return out
}

// Lookup finds a property by name, ignoring case as Graph's $select does.
func Lookup(name string) (Property, bool) {
	i, ok := byLower[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Property{}, false
	}
	p := catalogue[i]
	p.Sub = slices.Clone(p.Sub)
	return p, true
}

// Names returns every property name.
func Names() []string {
	out := make([]string, len(catalogue))
	for i, p := range catalogue {
		out[i] = p.Name
	}
	return out
}

// directoryExtension matches a directory extension property's name:
// extension_{the owner app's appId without hyphens}_{the extension's name}
// (https://learn.microsoft.com/en-us/graph/extensibility-overview). Graph
// returns a directory extension on v1.0 only when $select names it, and
// leaves it out of a user that has no value for it.
var directoryExtension = regexp.MustCompile(`^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$`)

// IsDirectoryExtension reports whether name is a well-formed directory
// extension property name.
func IsDirectoryExtension(name string) bool { return directoryExtension.MatchString(name) }

// LooksLikeDirectoryExtension reports whether name was meant as a directory
// extension (it starts with "extension_"), well-formed or not.
func LooksLikeDirectoryExtension(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "extension_")
}
