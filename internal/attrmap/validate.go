package attrmap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"entra2okta/internal/graphprops"
	"entra2okta/internal/okta"
	"entra2okta/workflows"
)

// Error lists every problem of a set of mappings, one per line, each led by
// where the mapping was written.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid attribute mapping:\n  " + strings.Join(e.Problems, "\n  ")
}

// Result is a checked set of mappings.
type Result struct {
	// Mappings are what the batch's users apply: the kept defaults first,
	// then the operator's, each with its canonical names and conversion.
	Mappings []workflows.AttributeMapping
	// Notes tell the operator what was converted, replaced or could not be
	// checked.
	Notes []string
}

// Validate checks the operator's entries, after the default mappings when
// keepDefaults (an entry whose Okta attribute a default also fills replaces
// that default), against Graph's user properties and the Okta user schema.
// Every problem is reported at once in an *Error.
func Validate(entries []Entry, keepDefaults bool, schema okta.UserSchema) (Result, error) {
	var res Result
	var problems []string
	var all []Entry
	if keepDefaults {
		for _, d := range workflows.DefaultAttributeMappings() {
			i := slices.IndexFunc(entries, func(e Entry) bool { return strings.TrimSpace(e.Okta) == d.Okta })
			if i >= 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("%s: %s→%s replaces the default %s→%s", entries[i].Source, entries[i].Graph, d.Okta, d.Graph, d.Okta))
				continue
			}
			all = append(all, Entry{Graph: d.Graph, Okta: d.Okta, Source: "default"})
		}
	}
	all = append(all, entries...)
	if len(all) == 0 {
		return res, &Error{Problems: []string{"no attribute mapping: give --map or --map-file, or keep the defaults (--map-defaults=true)"}}
	}
	target := map[string]string{} // Okta attribute -> the source that fills it
	for _, e := range all {
		src, gp := graphSource(e.Graph)
		attr, op := oktaTarget(e.Okta, schema)
		if gp != "" || op != "" {
			for _, p := range []string{gp, op} {
				if p != "" {
					problems = append(problems, e.Source+": "+p)
				}
			}
			continue
		}
		if first, dup := target[attr.Name]; dup {
			problems = append(problems, fmt.Sprintf("%s: the Okta attribute %s is already filled by %s", e.Source, attr.Name, first))
			continue
		}
		target[attr.Name] = e.Source
		conv, note, problem := conversion(src, attr)
		if problem != "" {
			problems = append(problems, e.Source+": "+problem)
			continue
		}
		if note != "" {
			res.Notes = append(res.Notes, e.Source+": "+note)
		}
		res.Mappings = append(res.Mappings, workflows.AttributeMapping{Graph: src.name, Okta: attr.Name, Convert: conv})
	}
	if len(problems) > 0 {
		return Result{}, &Error{Problems: problems}
	}
	return res, nil
}

// kind is the shape of a Graph source's value.
type kind int

const (
	kindString     kind = iota // String, DateTimeOffset, an element, a member, the manager's UPN
	kindBoolean                // Boolean
	kindCollection             // String collection
	kindExtension              // a directory extension: its type is not known here
)

// source is a checked Graph source.
type source struct {
	name string // canonical spelling
	kind kind
}

// graphCandidates are the names offered when a Graph source is unknown.
var graphCandidates = func() []string {
	var out []string
	for _, p := range graphprops.All() {
		if p.Type == graphprops.Complex {
			for _, m := range p.Sub {
				out = append(out, p.Name+"."+m)
			}
			continue
		}
		out = append(out, p.Name)
	}
	return append(out, workflows.ManagerUPN)
}()

// graphSource checks a Graph source; problem is "" when it is valid.
func graphSource(name string) (source, string) {
	name = strings.TrimSpace(name)
	switch {
	case strings.EqualFold(name, workflows.ManagerUPN):
		return source{name: workflows.ManagerUPN, kind: kindString}, ""
	case strings.EqualFold(name, "manager"):
		return source{}, "the manager is mapped as " + workflows.ManagerUPN + " (the manager's user principal name)"
	case graphprops.LooksLikeDirectoryExtension(name):
		if graphprops.IsDirectoryExtension(name) {
			return source{name: name, kind: kindExtension}, ""
		}
		msg := fmt.Sprintf("%s is not a directory extension name: want extension_<the owner app's appId without hyphens: 32 hex digits>_<name>", name)
		if fixed := withoutAppIDHyphens(name); fixed != "" {
			msg += "; did you mean " + fixed + "?"
		}
		return source{}, msg
	}
	if base, i, ok := splitIndex(name); ok {
		p, known := graphprops.Lookup(base)
		if !known {
			return source{}, unknownGraph(base)
		}
		if p.Type != graphprops.StringCollection {
			return source{}, fmt.Sprintf("%s is not a collection: [%d] applies only to a String collection (businessPhones, otherMails, ...)", p.Name, i)
		}
		if p.SingleOnly {
			return source{}, singleOnly(p.Name)
		}
		return source{name: p.Name + "[" + strconv.Itoa(i) + "]", kind: kindString}, ""
	}
	if strings.ContainsAny(name, "[]") {
		return source{}, fmt.Sprintf("%s: an element is written name[n], n a number from 0", name)
	}
	if base, member, ok := strings.Cut(name, "."); ok {
		p, known := graphprops.Lookup(base)
		if !known {
			return source{}, unknownGraph(name)
		}
		if p.Type != graphprops.Complex {
			return source{}, fmt.Sprintf("%s has no members: it is a %s", p.Name, p.Type)
		}
		i := slices.IndexFunc(p.Sub, func(m string) bool { return strings.EqualFold(m, member) })
		if i < 0 {
			return source{}, fmt.Sprintf("%s has no member %q; its members are %s to %s", p.Name, member, p.Sub[0], p.Sub[len(p.Sub)-1])
		}
		return source{name: p.Name + "." + p.Sub[i], kind: kindString}, ""
	}
	p, known := graphprops.Lookup(name)
	if !known {
		return source{}, unknownGraph(name)
	}
	if p.SingleOnly {
		return source{}, singleOnly(p.Name)
	}
	switch p.Type {
	case graphprops.Complex:
		return source{}, fmt.Sprintf("%s is an object: map one of its members, %s.%s to %s.%s", p.Name, p.Name, p.Sub[0], p.Name, p.Sub[len(p.Sub)-1])
	case graphprops.Boolean:
		return source{name: p.Name, kind: kindBoolean}, ""
	case graphprops.StringCollection:
		return source{name: p.Name, kind: kindCollection}, ""
	}
	return source{name: p.Name, kind: kindString}, ""
}

func unknownGraph(name string) string {
	return fmt.Sprintf("%s is not a Graph user property%s", name, didYouMean(name, graphCandidates))
}

func singleOnly(name string) string {
	return fmt.Sprintf("Graph returns %s only when one user is read (a list of users with it in $select is refused, 501 NotImplemented), and a batch reads its users as lists", name)
}

// withoutAppIDHyphens rewrites extension_<appId with hyphens>_<name> into a
// valid name, or returns "".
func withoutAppIDHyphens(name string) string {
	rest := name[len("extension_"):]
	if len(rest) < 37 {
		return ""
	}
	fixed := "extension_" + strings.ReplaceAll(rest[:36], "-", "") + rest[36:]
	if graphprops.IsDirectoryExtension(fixed) {
		return fixed
	}
	return ""
}

// splitIndex splits "name[3]" into ("name", 3, true).
func splitIndex(s string) (string, int, bool) {
	open := strings.IndexByte(s, '[')
	if open <= 0 || !strings.HasSuffix(s, "]") {
		return "", 0, false
	}
	i, err := strconv.Atoi(s[open+1 : len(s)-1])
	if err != nil || i < 0 {
		return "", 0, false
	}
	return s[:open], i, true
}

// oktaTarget checks an Okta attribute against the schema.
func oktaTarget(name string, schema okta.UserSchema) (okta.SchemaAttribute, string) {
	name = strings.TrimSpace(name)
	if name == "login" {
		return okta.SchemaAttribute{}, "login is always the user principal name: it cannot be mapped"
	}
	a, ok := schema.Attributes[name]
	if !ok {
		for n := range schema.Attributes {
			if strings.EqualFold(n, name) {
				return okta.SchemaAttribute{}, fmt.Sprintf("%s is not in the Okta user schema; did you mean %s? (Okta attribute names are case-sensitive)", name, n)
			}
		}
		return okta.SchemaAttribute{}, fmt.Sprintf("%s is not in the Okta user schema (add it in the Profile Editor first)%s",
			name, didYouMean(name, schema.Names()))
	}
	if a.Mutability == "READ_ONLY" {
		return okta.SchemaAttribute{}, fmt.Sprintf("%s is read-only in the Okta user schema", name)
	}
	if a.Type == "" {
		a.Type = "string"
	}
	if a.Type == "array" && a.ItemsType == "" {
		a.ItemsType = "string"
	}
	return a, ""
}

// conversion decides how a Graph source's values reach an Okta attribute:
// the Convert, a note for the operator, or why the pair is refused.
func conversion(src source, attr okta.SchemaAttribute) (conv workflows.Conversion, note, problem string) {
	oktaType := attr.Type
	if oktaType == "array" {
		oktaType = "array of " + attr.ItemsType
	}
	refuse := func(why string) (workflows.Conversion, string, string) {
		return "", "", fmt.Sprintf("%s→%s: the Okta attribute is of type %s; %s", src.name, attr.Name, oktaType, why)
	}
	switch src.kind {
	case kindString:
		switch oktaType {
		case "string":
			return "", "", ""
		case "array of string":
			return workflows.ConvertArray, fmt.Sprintf("%s→%s: each value becomes a one-element array", src.name, attr.Name), ""
		}
		return refuse("Graph's " + src.name + " is a string, and text is not converted to " + attr.Type + " (a blank or malformed value would fail the user)")
	case kindBoolean:
		switch oktaType {
		case "boolean":
			return "", "", ""
		case "string":
			return workflows.ConvertString, fmt.Sprintf(`%s→%s: written as "true" or "false"`, src.name, attr.Name), ""
		}
		return refuse("Graph's " + src.name + " is a Boolean")
	case kindCollection:
		if oktaType == "array of string" {
			return workflows.ConvertArray, "", ""
		}
		return refuse("Graph's " + src.name + " is a String collection: map one element (" + src.name + "[0]) to an Okta string, or the whole to an Okta array of strings")
	default: // kindExtension
		unchecked := "the directory extension's type is not checked before the batch (that needs Graph's extension definitions): "
		switch oktaType {
		case "string":
			return workflows.ConvertString, src.name + "→" + attr.Name + ": " + unchecked +
				"a string is copied, a boolean or number written as text, a multi-valued one not copied", ""
		case "array of string":
			return workflows.ConvertArray, src.name + "→" + attr.Name + ": " + unchecked +
				"its values are copied as text", ""
		case "boolean", "integer", "number":
			return "", src.name + "→" + attr.Name + ": " + unchecked +
				"a value not of type " + attr.Type + " fails that user's Okta create or update", ""
		}
		return refuse("only arrays of strings are filled from Graph")
	}
}

// didYouMean offers the closest candidates to name, as "; did you mean a, b
// or c?", or "".
func didYouMean(name string, candidates []string) string {
	c := closest(name, candidates, 3)
	switch len(c) {
	case 0:
		return ""
	case 1:
		return "; did you mean " + c[0] + "?"
	}
	return "; did you mean " + strings.Join(c[:len(c)-1], ", ") + " or " + c[len(c)-1] + "?"
}

// closest returns up to n candidates nearest to name by edit distance
// (ignoring case), nearest first; a candidate that contains name, or that
// name contains, counts as near.
func closest(name string, candidates []string, n int) []string {
	lname := strings.ToLower(name)
	limit := max(2, len([]rune(lname))/3)
	type scored struct {
		s string
		d int
	}
	var found []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := distance(lname, lc)
		if len(lname) >= 4 && (strings.Contains(lc, lname) || strings.Contains(lname, lc)) {
			d = min(d, limit)
		}
		if d <= limit {
			found = append(found, scored{c, d})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.s, b.s)
	})
	var out []string
	for _, f := range found {
		if len(out) == n {
			break
		}
		if !slices.Contains(out, f.s) {
			out = append(out, f.s)
		}
	}
	return out
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
