package oktaspec

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// undocumentedProperties reports JSON object members that no schema on
// their path declares.
//
// Okta's schemas rarely list required members or set additionalProperties,
// so a payload with a misspelt member ("activatd") is valid JSON Schema. This
// check closes that gap: at each object, the schemas that apply are the
// schema itself and everything reachable through allOf, oneOf and anyOf
// (a union, so a member documented by any branch is accepted). The object is
// closed when those schemas declare at least one property and none declares
// additionalProperties; then every member must be declared. Free-form
// objects (no properties, or additionalProperties present, as in
// UserProfile and HrefObject) are open.
func undocumentedProperties(base Violation, schema *openapi3.Schema, body []byte) []Violation {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil // the schema validation already reports undecodable bodies
	}
	var out []Violation
	walkUndocumented([]*openapi3.Schema{schema}, v, "", func(ptr, name string) {
		x := base
		x.Field = ptr + "/" + escapePointer(name)
		x.Rule = RuleUndocProperty
		x.Message = "member " + strconv.Quote(name) + " is not declared by any schema that applies here"
		out = append(out, x)
	})
	return out
}

// walkUndocumented visits v under the union of schemas.
func walkUndocumented(schemas []*openapi3.Schema, v any, ptr string, report func(ptr, name string)) {
	all := expand(schemas)
	if len(all) == 0 {
		return
	}
	switch val := v.(type) {
	case map[string]any:
		all = withDiscriminated(all, val)
		props := map[string][]*openapi3.Schema{}
		var extra []*openapi3.Schema
		open := true
		declared := false
		for _, s := range all {
			for name, p := range s.Properties {
				declared = true
				if p != nil && p.Value != nil {
					props[name] = append(props[name], p.Value)
				} else {
					props[name] = append(props[name], nil)
				}
			}
		}
		explicit := false
		for _, s := range all {
			ap := s.AdditionalProperties
			if ap.Has != nil || ap.Schema != nil {
				explicit = true
				if ap.Schema != nil && ap.Schema.Value != nil {
					extra = append(extra, ap.Schema.Value)
				}
			}
		}
		if declared && !explicit {
			open = false
		}
		names := make([]string, 0, len(val))
		for name := range val {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			child := ptr + "/" + escapePointer(name)
			if ps, ok := props[name]; ok {
				walkUndocumented(nonNil(ps), val[name], child, report)
				continue
			}
			if !open {
				report(ptr, name)
				continue
			}
			walkUndocumented(extra, val[name], child, report)
		}
	case []any:
		var items []*openapi3.Schema
		for _, s := range all {
			if s.Items != nil && s.Items.Value != nil {
				items = append(items, s.Items.Value)
			}
		}
		for i, e := range val {
			walkUndocumented(items, e, ptr+"/"+strconv.Itoa(i), report)
		}
	}
}

// withDiscriminated adds the schemas a discriminator selects for obj (for
// example InlineHookChannel's type HTTP selects InlineHookChannelHttp, which
// declares config), until no more are added.
func withDiscriminated(all []*openapi3.Schema, obj map[string]any) []*openapi3.Schema {
	for {
		added := false
		have := map[*openapi3.Schema]bool{}
		for _, s := range all {
			have[s] = true
		}
		for _, s := range all {
			d := s.Discriminator
			if d == nil || len(d.Mapping) == 0 {
				continue
			}
			key, _ := obj[d.PropertyName].(string)
			m, ok := d.Mapping[key]
			if !ok || m.Value == nil || have[m.Value] {
				continue
			}
			all = expand(append(all, m.Value))
			added = true
			break
		}
		if !added {
			return all
		}
	}
}

// expand returns the schemas plus everything reachable from them through
// allOf, oneOf and anyOf, each once.
func expand(schemas []*openapi3.Schema) []*openapi3.Schema {
	seen := map[*openapi3.Schema]bool{}
	var out []*openapi3.Schema
	var visit func(s *openapi3.Schema)
	visit = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, r := range group {
				if r != nil {
					visit(r.Value)
				}
			}
		}
	}
	for _, s := range schemas {
		visit(s)
	}
	return out
}

func nonNil(ss []*openapi3.Schema) []*openapi3.Schema {
	out := ss[:0:0]
	for _, s := range ss {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// escapePointer escapes a member name for a JSON pointer (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
