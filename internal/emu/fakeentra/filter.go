package fakeentra

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// filterExpr is a parsed $filter over users: eq, ne, in, startswith,
// endswith, and, or, not and parentheses. ne, not and endswith
// are "advanced queries" that Graph accepts only with ConsistencyLevel:
// eventual and $count=true (https://learn.microsoft.com/en-us/graph/aad-advanced-queries).
type filterExpr struct {
	op     string // "and", "or", "not", "eq", "ne", "in", "startswith", "endswith"
	left   *filterExpr
	right  *filterExpr
	prop   string
	values []any
}

// eval evaluates the expression for a user. Callers hold s.mu.
func (f *filterExpr) eval(u *user) bool {
	switch f.op {
	case "and":
		return f.left.eval(u) && f.right.eval(u)
	case "or":
		return f.left.eval(u) || f.right.eval(u)
	case "not":
		return !f.left.eval(u)
	}
	v := u.value(f.prop)
	switch f.op {
	case "eq":
		return equalValue(v, f.values[0])
	case "ne":
		return !equalValue(v, f.values[0])
	case "in":
		for _, x := range f.values {
			if equalValue(v, x) {
				return true
			}
		}
		return false
	case "startswith", "endswith":
		sv, ok := v.(string)
		pv, ok2 := f.values[0].(string)
		if !ok || !ok2 {
			return false
		}
		sv, pv = strings.ToLower(sv), strings.ToLower(pv)
		if f.op == "startswith" {
			return strings.HasPrefix(sv, pv)
		}
		return strings.HasSuffix(sv, pv)
	}
	return false
}

// equalValue compares a property value with a literal; strings compare
// case-insensitively, as directory string properties do.
func equalValue(v, lit any) bool {
	switch l := lit.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, l)
	case bool:
		b, ok := v.(bool)
		return ok && b == l
	case float64:
		switch n := v.(type) {
		case float64:
			return n == l
		case int:
			return float64(n) == l
		}
	}
	return false
}

// queryError is a Graph error message for a malformed query, worded (and
// capitalised) as Graph words it.
type queryError string

func (e queryError) Error() string { return string(e) }

func queryErr(format string, a ...any) error { return queryError(fmt.Sprintf(format, a...)) }

type filterParser struct {
	toks []string
	pos  int
	adv  bool
}

// parseFilter parses a $filter. It reports whether advanced operators were
// used.
func parseFilter(s string) (*filterExpr, bool, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, false, err
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, false, err
	}
	if p.pos != len(p.toks) {
		return nil, false, queryErr("Invalid filter clause: syntax error at position %d in '%s'.", p.pos, s)
	}
	return e, p.adv, nil
}

func lexFilter(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			var b strings.Builder
			b.WriteByte('\'')
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, queryErr("Invalid filter clause: unterminated string literal.")
			}
			toks = append(toks, b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || strings.ContainsRune("_./-:", rune(s[j]))) {
				j++
			}
			if j == i {
				return nil, queryErr("Invalid filter clause: unexpected character '%c'.", c)
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *filterParser) expect(t string) error {
	if got := p.next(); got != t {
		return queryErr("Invalid filter clause: expected '%s' but found '%s'.", t, got)
	}
	return nil
}

func (p *filterParser) or() (*filterExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &filterExpr{op: "or", left: l, right: r}
	}
	return l, nil
}

func (p *filterParser) and() (*filterExpr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &filterExpr{op: "and", left: l, right: r}
	}
	return l, nil
}

func (p *filterParser) not() (*filterExpr, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.next()
		p.adv = true
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: "not", left: e}, nil
	}
	return p.primary()
}

func (p *filterParser) property(name string) (string, error) {
	c, ok := userPropByLower[strings.ToLower(name)]
	if !ok || !filterableProps[c] {
		return "", queryErr("Unsupported or invalid query filter clause specified for property '%s' of resource 'User'.", name)
	}
	return c, nil
}

func (p *filterParser) literal() (any, error) {
	t := p.next()
	switch {
	case strings.HasPrefix(t, "'"):
		return t[1:], nil
	case t == "true":
		return true, nil
	case t == "false":
		return false, nil
	case t == "null":
		return nil, nil
	}
	if n, err := strconv.ParseFloat(t, 64); err == nil {
		return n, nil
	}
	return nil, queryErr("Invalid filter clause: '%s' is not a literal.", t)
}

func (p *filterParser) primary() (*filterExpr, error) {
	t := p.next()
	if t == "(" {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	if fn := strings.ToLower(t); (fn == "startswith" || fn == "endswith") && p.peek() == "(" {
		p.next()
		prop, err := p.property(p.next())
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if fn == "endswith" {
			p.adv = true
		}
		return &filterExpr{op: fn, prop: prop, values: []any{lit}}, nil
	}
	if t == "" || strings.HasPrefix(t, "'") {
		return nil, queryErr("Invalid filter clause: a property name is expected.")
	}
	prop, err := p.property(t)
	if err != nil {
		return nil, err
	}
	switch op := strings.ToLower(p.next()); op {
	case "eq", "ne":
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		if op == "ne" {
			p.adv = true
		}
		return &filterExpr{op: op, prop: prop, values: []any{lit}}, nil
	case "in":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var vals []any
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			vals = append(vals, lit)
			if p.peek() == "," {
				p.next()
				continue
			}
			break
		}
		return &filterExpr{op: "in", prop: prop, values: vals}, p.expect(")")
	default:
		return nil, queryErr("Invalid filter clause: unsupported operator '%s'.", op)
	}
}
