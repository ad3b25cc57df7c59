package oktaspec

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Direction says which half of an exchange a Violation is about.
type Direction string

// Directions.
const (
	Request  Direction = "request"
	Response Direction = "response"
)

// Rules name what a Violation broke when it is not a JSON Schema keyword
// (schema violations use the keyword itself: "type", "required", "enum",
// "format", "maxLength", "nullable", ...).
const (
	RuleRoute         = "route"                  // no operation in the description matches method and path
	RuleStatus        = "status"                 // the operation does not document the response status
	RuleContentType   = "content-type"           // the body's media type is not the documented one
	RuleBody          = "body"                   // the body is missing, unreadable or not JSON
	RuleParameter     = "parameter"              // a parameter fails its schema or is missing
	RuleUndocParam    = "undocumented-parameter" // a query parameter the operation does not define
	RuleUndocProperty = "undocumented-property"  // a JSON member no schema on its path declares
	RuleSecurity      = "security"               // no documented security scheme is satisfied
	RuleHeader        = "header"                 // a described or documented header is wrong
)

// Violation is one way an exchange departs from the published description
// (or from a rule in Exceptions).
type Violation struct {
	Operation string    // operationId, e.g. createUser; "" when no route matched
	Method    string    // request method
	Path      string    // request URL path (escaped form)
	Direction Direction // request or response
	Status    int       // response status; 0 for request violations
	Field     string    // JSON pointer into the body ("/credentials/provider/type"), "query activate", "header ETag", or "" for the whole message
	Rule      string    // the schema keyword or one of the Rule constants
	Message   string    // what kin-openapi or the check said
}

// String renders the violation on one line, operation first.
func (v Violation) String() string {
	var b strings.Builder
	op := v.Operation
	if op == "" {
		op = "(no operation)"
	}
	fmt.Fprintf(&b, "%s %s %s: %s", op, v.Method, v.Path, v.Direction)
	if v.Status != 0 {
		fmt.Fprintf(&b, " %d", v.Status)
	}
	field := v.Field
	if field == "" {
		field = "(whole)"
	}
	fmt.Fprintf(&b, " field %s violates %q: %s", field, v.Rule, v.Message)
	return b.String()
}

// Report collects violations from many exchanges. It is safe for concurrent
// use; its zero value is ready.
type Report struct {
	mu         sync.Mutex
	violations []Violation
	seen       map[string]map[int]int // operationId -> status -> count
	excused    []string
}

// NewReport returns an empty Report.
func NewReport() *Report { return &Report{} }

// add records one validated exchange and its violations.
func (r *Report) add(op string, status int, vs []Violation, excused []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]map[int]int{}
	}
	if r.seen[op] == nil {
		r.seen[op] = map[int]int{}
	}
	r.seen[op][status]++
	r.violations = append(r.violations, vs...)
	r.excused = append(r.excused, excused...)
}

// Violations returns a copy of what has been collected so far.
func (r *Report) Violations() []Violation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Violation(nil), r.violations...)
}

// Excused lists, one line each, the departures an Exception allowed, for
// logging; they are not violations.
func (r *Report) Excused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.excused...)
}

// Seen reports how many validated exchanges had this operationId and
// response status (status 0: any status). Requests whose route was not
// found count under operationId "".
func (r *Report) Seen(op string, status int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if status != 0 {
		return r.seen[op][status]
	}
	n := 0
	for _, c := range r.seen[op] {
		n += c
	}
	return n
}

// Operations lists "operationId status" pairs seen, sorted, for messages.
func (r *Report) Operations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for op, st := range r.seen {
		for s := range st {
			out = append(out, fmt.Sprintf("%s %d", op, s))
		}
	}
	sort.Strings(out)
	return out
}

// AssertClean reports every collected violation with t.Errorf, naming the
// operation, method, path, field and rule, and logs what was excused.
func (r *Report) AssertClean(t testing.TB) {
	t.Helper()
	for _, e := range r.Excused() {
		t.Logf("oktaspec: excused: %s", e)
	}
	for _, v := range r.Violations() {
		t.Errorf("OpenAPI violation: %s", v)
	}
}

// AssertSeen fails the test unless at least one exchange with this
// operationId and status (0: any) was validated, so that a test cannot pass
// by never reaching the route it claims to cover.
func (r *Report) AssertSeen(t testing.TB, op string, status int) {
	t.Helper()
	if r.Seen(op, status) == 0 {
		t.Errorf("oktaspec: no validated exchange for operation %s status %d; seen: %v", op, status, r.Operations())
	}
}
