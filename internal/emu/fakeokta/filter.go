package fakeokta

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// The expression language of Okta's filter and search parameters (a SCIM
// subset): attribute operator value, "attribute pr", and/or/not and
// parentheses. String comparison is case-insensitive.
//
//	expr   := and { "or" and }
//	and    := unary { "and" unary }
//	unary  := "not" unary | "(" expr ")" | attr "pr" | attr op value
//	op     := eq | ne | sw | co | gt | ge | lt | le
//	value  := "quoted string" | number | true | false | null

// attrFunc returns the values of an attribute (several for array-valued ones
// such as target.id) and whether it is present.
type attrFunc func(name string) ([]string, bool)

type node interface {
	eval(attr attrFunc) bool
}

type orNode struct{ l, r node }
type andNode struct{ l, r node }
type notNode struct{ n node }
type cmpNode struct {
	attr, op, value string
}

func (n orNode) eval(a attrFunc) bool  { return n.l.eval(a) || n.r.eval(a) }
func (n andNode) eval(a attrFunc) bool { return n.l.eval(a) && n.r.eval(a) }
func (n notNode) eval(a attrFunc) bool { return !n.n.eval(a) }

func (n cmpNode) eval(a attrFunc) bool {
	vals, ok := a(n.attr)
	if n.op == "pr" {
		return ok
	}
	if !ok {
		return n.op == "ne"
	}
	for _, v := range vals {
		if compare(v, n.op, n.value) {
			return true
		}
	}
	return false
}

func compare(have, op, want string) bool {
	switch op {
	case "eq":
		return strings.EqualFold(have, want)
	case "ne":
		return !strings.EqualFold(have, want)
	case "sw":
		return strings.HasPrefix(strings.ToLower(have), strings.ToLower(want))
	case "co":
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	}
	c := strings.Compare(have, want)
	if th, err := time.Parse(time.RFC3339Nano, have); err == nil {
		if tw, err := time.Parse(time.RFC3339Nano, want); err == nil {
			c = th.Compare(tw)
		}
	}
	switch op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

var errSyntax = errors.New("invalid expression")

// parseExpr parses s; allow, when not nil, restricts attribute/operator pairs.
func parseExpr(s string, allow func(attr, op string) bool) (node, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, allow: allow}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errSyntax, p.toks[p.pos].text)
	}
	return n, nil
}

type token struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')':
			out = append(out, token{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			i++
			for ; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				b.WriteRune(rs[i])
			}
			if i >= len(rs) {
				return nil, fmt.Errorf("%w: unterminated string", errSyntax)
			}
			i++
			out = append(out, token{text: b.String(), quoted: true})
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '(' && rs[j] != ')' && rs[j] != '"' {
				j++
			}
			out = append(out, token{text: string(rs[i:j])})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks  []token
	pos   int
	allow func(attr, op string) bool
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected end", errSyntax)
	}
	if p.peekWord("not") {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	if p.peekWord("(") {
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekWord(")") {
			return nil, fmt.Errorf("%w: missing )", errSyntax)
		}
		p.pos++
		return n, nil
	}
	attr := p.toks[p.pos]
	if attr.quoted || p.pos+1 >= len(p.toks) {
		return nil, fmt.Errorf("%w: expected attribute and operator", errSyntax)
	}
	op := strings.ToLower(p.toks[p.pos+1].text)
	p.pos += 2
	switch op {
	case "pr":
	case "eq", "ne", "sw", "co", "gt", "ge", "lt", "le":
		if p.pos >= len(p.toks) {
			return nil, fmt.Errorf("%w: missing value", errSyntax)
		}
		v := p.toks[p.pos]
		p.pos++
		if !v.quoted {
			switch strings.ToLower(v.text) {
			case "true", "false", "null":
			default:
				if strings.TrimLeft(v.text, "0123456789.-") != "" {
					return nil, fmt.Errorf("%w: value %q must be quoted", errSyntax, v.text)
				}
			}
		}
		if p.allow != nil && !p.allow(attr.text, op) {
			return nil, fmt.Errorf("%w: %s %s not supported", errSyntax, attr.text, op)
		}
		return cmpNode{attr: attr.text, op: op, value: v.text}, nil
	default:
		return nil, fmt.Errorf("%w: unknown operator %q", errSyntax, op)
	}
	if p.allow != nil && !p.allow(attr.text, op) {
		return nil, fmt.Errorf("%w: %s %s not supported", errSyntax, attr.text, op)
	}
	return cmpNode{attr: attr.text, op: op}, nil
}
