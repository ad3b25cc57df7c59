package oktaspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says whether an Exception relaxes the description or adds a rule
// Okta documents only in prose or examples.
type Kind int

// Kinds of Exception.
const (
	// Relax excuses a departure from the description that Okta's documented
	// behaviour requires.
	Relax Kind = iota
	// Add checks a rule the description states only in prose or examples.
	Add
)

// Exception is one place where the published description and Okta's
// documented behaviour disagree, and what this package does about it.
type Exception struct {
	Name   string
	Kind   Kind
	Source string // where Okta documents the behaviour
	Note   string

	hook     bool           // applies to the password import hook, not the Management API
	prefixes []string       // Relax: URL path prefixes outside the description
	ops      []string       // Relax: operationIds ("*": all) the entry applies to
	statuses []int          // Relax: undocumented statuses allowed for ops
	errBody  bool           // Relax: such a response's body must be an Okta Error object...
	codes    []string       // ...with one of these errorCodes (nil: any)
	rules    []string       // Relax: violations of these rules are excused for ops...
	fields   *regexp.Regexp // ...at fields matching this (nil: any field)...
	keep     *regexp.Regexp // ...unless the field matches this
	dir      Direction
	check    func(xc *exchangeCtx, base Violation) []Violation // Add
}

// Exceptions is the complete list. Keep it short: every entry weakens or
// extends the published contract and must name its source: a public URL
// or a named part of Okta's OpenAPI description (OAS).
var Exceptions = []Exception{
	{
		Name:     "authn-not-management-api",
		Kind:     Relax,
		Source:   "https://developer.okta.com/docs/reference/api/authn/",
		Note:     "POST /api/v1/authn belongs to the Authentication API, which management.yaml does not describe; fakeokta serves it only as the sign-in driver that fires the hook, so it is not validated here.",
		prefixes: []string{"/api/v1/authn"},
	},
	{
		Name:   "system-log-event-shape",
		Kind:   Relax,
		Source: "OAS components.examples.ListLogs; https://developer.okta.com/docs/reference/api/system-log/",
		Note:   "The description's own ListLogs example breaks its LogEvent schema: nulls in non-nullable members, values outside enums, numbers for strings, undeclared members (device, rootSessionId). Those rules are excused in listLogEvents bodies except on the members the product reads (uuid, eventType, published, outcome.result, actor.id, target[].id; outcome.reason is null on success), which system-log-members-we-read checks.",
		ops:    []string{"listLogEvents"},
		rules:  []string{"nullable", "enum", "type", RuleUndocProperty},
		keep:   regexp.MustCompile(`^/\d+/(uuid|eventType|published|outcome|outcome/result|actor|actor/id|target|target/\d+|target/\d+/id)$`),
	},
	{
		Name:   "system-log-members-we-read",
		Kind:   Add,
		dir:    Response,
		Source: "OAS createPasswordImportInlineHook description ('Event.Outcome ... FAILURE or SUCCESS'), https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook; https://developer.okta.com/docs/reference/api/system-log/",
		Note:   "LogEvent requires nothing. Every event carries uuid, eventType and published (date-time), and a user.import.password event's outcome.result is SUCCESS or FAILURE with the user among its targets: the product's safe-to-delete signal.",
		check:  checkLogEvents,
	},
	{
		Name:   "inline-hook-create-links",
		Kind:   Relax,
		Source: "OAS components.examples.InlineHookMgmtCreateHTTPResponse and schema InlineHookLinks",
		Note:   "createInlineHook's response _links schema (InlineHookLinksCreate) lacks activate and delete, which its own example and InlineHookLinks carry.",
		ops:    []string{"createInlineHook"},
		rules:  []string{RuleUndocProperty},
		fields: regexp.MustCompile(`^/_links/(activate|delete)$`),
	},
	{
		Name:   "expire-password-temppassword",
		Kind:   Relax,
		Source: "legacy Users API reference 'Expire password' (https://developer.okta.com/docs/reference/api/users/#expire-password); okta-sdk-golang v2.20.0 okta/user.go ExpirePassword",
		Note:   "okta-sdk-golang v2 always sends expire_password?tempPassword=false, the query parameter the legacy reference documented; the current description moved the temporary password to expire_password_with_temp_password and no longer lists tempPassword here.",
		ops:    []string{"expirePassword"},
		rules:  []string{RuleUndocParam},
		fields: regexp.MustCompile(`^query tempPassword$`),
	},
	{
		Name:     "401-500-on-every-operation",
		Kind:     Relax,
		Source:   "https://developer.okta.com/docs/reference/error-codes/ E0000011, E0000009; https://developer.okta.com/docs/reference/core-okta-api/",
		Note:     "Any Management API call with a missing or invalid token gets 401 E0000011, and an internal failure 500 E0000009, but the description documents these on few operations and on none of the Users ones. Allowed with an Okta Error body.",
		ops:      []string{"*"},
		statuses: []int{http.StatusUnauthorized, http.StatusInternalServerError},
		errBody:  true,
	},
	{
		Name:     "list-users-invalid-filter",
		Kind:     Relax,
		Source:   "https://developer.okta.com/docs/reference/error-codes/#E0000031 (internal/testkit/oktatest testBadFilter)",
		Note:     "Okta answers a filter or search it cannot parse with 400 E0000031 Invalid search criteria; listUsers documents no 400.",
		ops:      []string{"listUsers"},
		statuses: []int{http.StatusBadRequest},
		errBody:  true,
		codes:    []string{"E0000031"},
	},
	{
		Name:     "user-still-activating",
		Kind:     Relax,
		Source:   "https://developer.okta.com/docs/reference/error-codes/#E0000112",
		Note:     "A change to a user whose activation is still running gets 409 E0000112 (Cannot update this user because they are still being activated); the user operations document no 409.",
		ops:      []string{"updateUser", "replaceUser", "activateUser", "reactivateUser", "deactivateUser", "deleteUser", "expirePassword", "resetPassword"},
		statuses: []int{http.StatusConflict},
		errBody:  true,
		codes:    []string{"E0000112"},
	},
	{
		Name:   "user-schema-array-items",
		Kind:   Relax,
		Source: "OAS components.schemas.UserSchemaAttributeItems (defined, referenced by no property); Okta's management SDKs' UserSchemaAttribute.items (https://developer.okta.com/okta-sdk-java/apidocs/com/okta/sdk/resource/class-use/UserSchemaAttributeItems.html)",
		Note:   "A custom profile attribute of type array says its elements' type in items ({\"type\": \"string\"}), as Okta's SDKs model it, but UserSchemaAttribute does not declare items although the description defines UserSchemaAttributeItems. Accepted on the custom attributes of a user schema.",
		ops:    []string{"getUserSchema"},
		rules:  []string{RuleUndocProperty},
		fields: regexp.MustCompile(`^/definitions/custom/properties/[^/]+/items$`),
	},
	{
		Name:   "rate-limit-headers",
		Kind:   Add,
		Source: "https://developer.okta.com/docs/reference/rl2-monitor/; okta-sdk-golang v2.20.0 okta/requestExecutor.go Get429BackoffTime",
		Note:   "The description describes no X-Rate-Limit-* headers. When present they must be integers; a 429 must carry all three plus Date, or okta-sdk-golang v2 gives up without retrying.",
		dir:    Response,
		check:  checkRateLimitHeaders,
	},
	{
		Name:   "link-header-paging",
		Kind:   Add,
		Source: "https://developer.okta.com/docs/api/#pagination",
		Note:   "listUsers and listLogEvents page with Link headers the description does not describe: each must be <URL>; rel=\"...\", and a next link must stay on the same host and path and carry an after cursor.",
		dir:    Response,
		check:  checkLinkHeaders,
	},
	{
		Name:   "hook-security-is-authscheme",
		Kind:   Relax,
		hook:   true,
		Source: "https://developer.okta.com/docs/concepts/inline-hooks/ 'HTTP header'",
		Note:   "x-webhooks.CreatePasswordImportInlineHook declares security apiToken/oauth2, but Okta authenticates to the hook with the channel's configured authScheme header (or an OAuth bearer token); the hook request's security is not checked here.",
	},
	{
		Name:   "hook-request-matches-payload-example",
		Kind:   Add,
		hook:   true,
		dir:    Request,
		Source: "OAS components.examples.PasswordImportPayloadExample; https://developer.okta.com/docs/guides/password-import-inline-hook/nodejs/main/",
		Note:   "InlineHookBasePayload and PasswordImportRequest require nothing, and their schema examples disagree with the payload example (eventTypeVersion 1 vs \"1.0\", contentType application/JSON vs application/json). Okta sends every member of the payload example; eventType, eventTypeVersion, contentType, cloudEventVersion and data.action.credential take the example's values, and source is the hook's https URL.",
		check:  checkHookRequestExample,
	},
	{
		Name:     "hook-error-status",
		Kind:     Relax,
		hook:     true,
		Source:   "https://developer.okta.com/docs/concepts/inline-hooks/ 'Don't use HTTP status code to return information' and 'Time out and retry'",
		Note:     "The hook operation documents 200, 204 and 403 only. Okta documents HTTP error codes for a request the service could not parse (400) and 4xx as not retried; a 401 for a failed authScheme check is the same case. The body is not read by Okta.",
		ops:      []string{"*"},
		statuses: []int{http.StatusBadRequest, http.StatusUnauthorized},
	},
	{
		Name:   "hook-response-error-object",
		Kind:   Relax,
		hook:   true,
		Source: "https://developer.okta.com/docs/concepts/inline-hooks/ 'error' and 'debugContext'",
		Note:   "Every inline hook response may carry error and debugContext objects; PasswordImportResponse does not declare them. They are accepted as top-level members.",
		ops:    []string{"*"},
		rules:  []string{RuleUndocProperty},
		fields: regexp.MustCompile(`^/(error|debugContext)$`),
	},
	{
		Name:   "hook-response-command",
		Kind:   Add,
		hook:   true,
		dir:    Response,
		Source: "OAS PasswordImportResponse descriptions and note, https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook",
		Note:   "The schema leaves commands[].type untyped and nothing required. Documented: a 200 carries commands with at least one element, each of type com.okta.action.update with value.credential; the body is under 256 KB.",
		check:  checkHookResponseCommands,
	},
	{
		Name:   "execute-inline-hook-oneof",
		Kind:   Relax,
		Source: "OAS executeInlineHook requestBody and responses.200 (oneOf)",
		Note:   "executeInlineHook's request and 200 bodies are a oneOf of six hook types' schemas with no discriminator and nothing required, so every JSON object matches several of them and fails oneOf. The whole-body oneOf failure is excused; execute-inline-hook-password-import checks the password import members instead.",
		ops:    []string{"executeInlineHook"},
		rules:  []string{"oneOf"},
		fields: regexp.MustCompile(`^/?$`),
	},
	{
		Name:   "execute-inline-hook-password-import",
		Kind:   Add,
		dir:    Response, // checks the request too, once per exchange
		Source: "OAS PasswordImportRequestExecute and PasswordImportResponse; https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/#tag/InlineHook/operation/executeInlineHook",
		Note:   "For a password import hook: the request carries eventType com.okta.user.credential.password.import and data.context.credential; a 200 is a JSON object (PasswordImportResponse) whose commands, if any, are com.okta.action.update with value.credential VERIFIED or UNVERIFIED.",
		check:  checkExecutePasswordImport,
	},
}

// checkExecutePasswordImport implements "execute-inline-hook-password-import".
func checkExecutePasswordImport(xc *exchangeCtx, base Violation) []Violation {
	if xc.op != "executeInlineHook" {
		return nil
	}
	var vs []Violation
	bad := func(dir Direction, status int, ptr, rule, msg string) {
		v := base
		v.Direction, v.Status, v.Field, v.Rule, v.Message = dir, status, ptr, rule, "execute-inline-hook-password-import: "+msg
		vs = append(vs, v)
	}
	var req any
	if err := json.Unmarshal(xc.RequestBody, &req); err == nil {
		if t, _ := lookup(req, "/eventType"); t != "com.okta.user.credential.password.import" {
			bad(Request, 0, "/eventType", "enum", fmt.Sprintf("is %v, not a password import payload", t))
		}
		if _, ok := lookup(req, "/data/context/credential"); !ok {
			bad(Request, 0, "/data/context/credential", "required", "a password import payload carries the credential")
		}
	}
	if xc.Status != http.StatusOK {
		return vs
	}
	var doc any
	if err := json.Unmarshal(xc.Body, &doc); err != nil {
		return vs // reported by the schema validation
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		bad(Response, xc.Status, "", "type", "a 200 is a PasswordImportResponse object")
		return vs
	}
	for k := range obj {
		if k != "commands" && k != "error" && k != "debugContext" {
			bad(Response, xc.Status, "/"+k, RuleUndocProperty, "not a member of PasswordImportResponse")
		}
	}
	cmds, _ := obj["commands"].([]any)
	for i := range cmds {
		p := "/commands/" + strconv.Itoa(i)
		if t, _ := lookup(doc, p+"/type"); t != "com.okta.action.update" {
			bad(Response, xc.Status, p+"/type", "enum", fmt.Sprintf("is %v; the only password import command is com.okta.action.update", t))
		}
		if c, _ := lookup(doc, p+"/value/credential"); c != "VERIFIED" && c != "UNVERIFIED" {
			bad(Response, xc.Status, p+"/value/credential", "enum", fmt.Sprintf("is %v, not VERIFIED or UNVERIFIED", c))
		}
	}
	return vs
}

// outsideDescription returns the Exception that puts a path outside the
// description, or nil.
func outsideDescription(path string) *Exception {
	for i := range Exceptions {
		for _, p := range Exceptions[i].prefixes {
			if path == p || strings.HasPrefix(path, p+"/") {
				return &Exceptions[i]
			}
		}
	}
	return nil
}

// statusException returns the Exception allowing this undocumented status,
// or nil.
func statusException(xc *exchangeCtx) *Exception {
	for i := range Exceptions {
		ex := &Exceptions[i]
		if ex.Kind != Relax || ex.hook != xc.hook {
			continue
		}
		opOK := false
		for _, op := range ex.ops {
			opOK = opOK || op == "*" || op == xc.op
		}
		for _, st := range ex.statuses {
			if opOK && st == xc.Status {
				return ex
			}
		}
	}
	return nil
}

// excuse splits violations into those that stand and those a Relax
// exception's rules excuse (described one line each).
func excuse(xc *exchangeCtx, vs []Violation) (kept []Violation, excused []string) {
	for _, v := range vs {
		if ex := excuserOf(xc, v); ex != nil {
			excused = append(excused, fmt.Sprintf("%s %s %s %s %s %q: %s", v.Operation, v.Method, v.Path, v.Direction, v.Field, v.Rule, ex.Name))
			continue
		}
		kept = append(kept, v)
	}
	return kept, excused
}

func excuserOf(xc *exchangeCtx, v Violation) *Exception {
	for i := range Exceptions {
		ex := &Exceptions[i]
		if ex.Kind != Relax || ex.hook != xc.hook || len(ex.rules) == 0 || !slices.Contains(ex.rules, v.Rule) {
			continue
		}
		if !slices.Contains(ex.ops, "*") && !slices.Contains(ex.ops, xc.op) {
			continue
		}
		if ex.fields != nil && !ex.fields.MatchString(v.Field) || ex.keep != nil && ex.keep.MatchString(v.Field) {
			continue
		}
		return ex
	}
	return nil
}

// checkBody validates the body of a response allowed by a status exception.
func (ex *Exception) checkBody(s *Spec, xc *exchangeCtx, base Violation) []Violation {
	if !ex.errBody {
		return nil
	}
	bad := func(rule, msg string) []Violation {
		v := base
		v.Rule, v.Message = rule, ex.Name+": "+msg
		return []Violation{v}
	}
	if !isJSON(xc.Header.Get("Content-Type")) {
		return bad(RuleContentType, fmt.Sprintf("Content-Type %q is not application/json", xc.Header.Get("Content-Type")))
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(xc.Body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return bad(RuleBody, "body is not JSON: "+err.Error())
	}
	var vs []Violation
	if err := s.errorSchema.Value.VisitJSON(toFloat(v)); err != nil {
		vs = append(vs, toViolations(base, "", err)...)
	}
	vs = append(vs, undocumentedProperties(base, s.errorSchema.Value, xc.Body)...)
	if m, _ := v.(map[string]any); m != nil {
		code, _ := m["errorCode"].(string)
		switch {
		case code == "":
			out := base
			out.Field, out.Rule, out.Message = "/errorCode", "required", ex.Name+": an Okta error carries an errorCode"
			vs = append(vs, out)
		case len(ex.codes) > 0 && !slices.Contains(ex.codes, code):
			out := base
			out.Field, out.Rule, out.Message = "/errorCode", "enum", fmt.Sprintf("%s: errorCode %q; Okta documents %v for this status", ex.Name, code, ex.codes)
			vs = append(vs, out)
		}
	}
	return vs
}

// toFloat converts json.Number values (kept exact while decoding) into the
// float64 kin-openapi's VisitJSON expects.
func toFloat(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = toFloat(e)
		}
	case []any:
		for i, e := range t {
			t[i] = toFloat(e)
		}
	}
	return v
}

// checkRateLimitHeaders implements "rate-limit-headers".
func checkRateLimitHeaders(xc *exchangeCtx, base Violation) []Violation {
	base.Direction, base.Status = Response, xc.Status
	var vs []Violation
	bad := func(field, msg string) {
		v := base
		v.Field, v.Rule, v.Message = field, RuleHeader, "rate-limit-headers: "+msg
		vs = append(vs, v)
	}
	for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
		val := xc.Header.Get(h)
		if val == "" {
			if xc.Status == http.StatusTooManyRequests {
				bad("header "+h, "missing on a 429")
			}
			continue
		}
		if n, err := strconv.ParseInt(val, 10, 64); err != nil || n < 0 {
			bad("header "+h, fmt.Sprintf("%q is not a non-negative integer", val))
		}
	}
	if xc.Status == http.StatusTooManyRequests {
		if _, err := time.Parse(http.TimeFormat, xc.Header.Get("Date")); err != nil {
			bad("header Date", fmt.Sprintf("%q is not an HTTP date", xc.Header.Get("Date")))
		}
	}
	return vs
}

// linkValue matches one Link header element: <URI>; rel="name".
var linkValue = regexp.MustCompile(`^\s*<([^>]*)>\s*;\s*rel="([a-z]+)"\s*$`)

// checkLinkHeaders implements "link-header-paging".
func checkLinkHeaders(xc *exchangeCtx, base Violation) []Violation {
	if xc.op != "listUsers" && xc.op != "listLogEvents" || xc.Status != http.StatusOK {
		return nil
	}
	base.Direction, base.Status = Response, xc.Status
	var vs []Violation
	bad := func(msg string) {
		v := base
		v.Field, v.Rule, v.Message = "header Link", RuleHeader, "link-header-paging: "+msg
		vs = append(vs, v)
	}
	rels := map[string]bool{}
	for _, h := range xc.Header.Values("Link") {
		for _, part := range strings.Split(h, ",") {
			m := linkValue.FindStringSubmatch(part)
			if m == nil {
				bad(fmt.Sprintf("%q is not <URL>; rel=\"name\"", part))
				continue
			}
			rels[m[2]] = true
			u, err := url.Parse(m[1])
			if err != nil || !u.IsAbs() {
				bad(fmt.Sprintf("%s link %q is not an absolute URL", m[2], m[1]))
				continue
			}
			if u.Path != xc.Request.URL.Path {
				bad(fmt.Sprintf("%s link path %q is not the listed path %q", m[2], u.Path, xc.Request.URL.Path))
			}
			if xc.Request.URL.Host != "" && u.Host != xc.Request.URL.Host && u.Host != xc.Request.Host {
				bad(fmt.Sprintf("%s link host %q is not the request host %q", m[2], u.Host, xc.Request.URL.Host))
			}
			if m[2] == "next" && u.Query().Get("after") == "" {
				bad(fmt.Sprintf("next link %q carries no after cursor", m[1]))
			}
		}
	}
	if len(rels) > 0 && !rels["self"] {
		bad("Link headers without rel=\"self\"")
	}
	return vs
}

// checkLogEvents implements "system-log-members-we-read".
func checkLogEvents(xc *exchangeCtx, base Violation) []Violation {
	if xc.op != "listLogEvents" || xc.Status != http.StatusOK {
		return nil
	}
	base.Direction, base.Status = Response, xc.Status
	var events []any
	if err := json.Unmarshal(xc.Body, &events); err != nil {
		return nil // reported by the schema validation
	}
	var vs []Violation
	bad := func(ptr, rule, msg string) {
		v := base
		v.Field, v.Rule, v.Message = ptr, rule, "system-log-members-we-read: "+msg
		vs = append(vs, v)
	}
	for i, e := range events {
		p := "/" + strconv.Itoa(i)
		for _, m := range []string{"/uuid", "/eventType", "/published"} {
			if s, _ := lookup(e, m); s == nil || s == "" {
				bad(p+m, "required", "every System Log event carries it")
			}
		}
		if s, ok := lookup(e, "/published"); ok {
			if str, _ := s.(string); str != "" {
				if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
					bad(p+"/published", "format", fmt.Sprintf("%q is not an RFC 3339 date-time", str))
				}
			}
		}
		if t, _ := lookup(e, "/eventType"); t != "user.import.password" {
			continue
		}
		if r, _ := lookup(e, "/outcome/result"); r != "SUCCESS" && r != "FAILURE" {
			bad(p+"/outcome/result", "enum", fmt.Sprintf("is %v; a password import event's outcome is SUCCESS or FAILURE", r))
		}
		targets, _ := lookup(e, "/target")
		list, _ := targets.([]any)
		user := false
		for j := range list {
			typ, _ := lookup(e, "/target/"+strconv.Itoa(j)+"/type")
			id, _ := lookup(e, "/target/"+strconv.Itoa(j)+"/id")
			user = user || typ == "User" && id != nil && id != ""
		}
		if !user {
			bad(p+"/target", "required", "a password import event names the user among its targets (type User, id)")
		}
	}
	return vs
}

// payloadExample is PasswordImportPayloadExample's shape: the members Okta
// sends and, where fixed, their values ("" means any non-empty string).
var payloadExample = []struct{ ptr, value string }{
	{"/eventId", ""},
	{"/eventTime", ""},
	{"/eventType", "com.okta.user.credential.password.import"},
	{"/eventTypeVersion", "1.0"},
	{"/contentType", "application/json"},
	{"/cloudEventVersion", "0.1"},
	{"/source", ""},
	{"/data/context/request/id", ""},
	{"/data/context/request/method", ""},
	{"/data/context/request/url/value", ""},
	{"/data/context/request/ipAddress", ""},
	{"/data/context/credential/username", ""},
	{"/data/context/credential/password", ""},
	{"/data/action/credential", "UNVERIFIED"},
}

// hookSource is the documented form of a hook request's source member.
var hookSource = regexp.MustCompile(`^https://[^/\s]+/api/v1/inlineHooks/[A-Za-z0-9]+$`)

// checkHookRequestExample implements "hook-request-matches-payload-example".
func checkHookRequestExample(xc *exchangeCtx, base Violation) []Violation {
	base.Direction = Request
	var doc any
	if err := json.Unmarshal(xc.RequestBody, &doc); err != nil {
		return nil // reported by the schema validation
	}
	var vs []Violation
	bad := func(ptr, rule, msg string) {
		v := base
		v.Field, v.Rule, v.Message = ptr, rule, "hook-request-matches-payload-example: "+msg
		vs = append(vs, v)
	}
	for _, m := range payloadExample {
		got, ok := lookup(doc, m.ptr)
		s, isString := got.(string)
		switch {
		case !ok:
			bad(m.ptr, "required", "member of the documented payload is missing")
		case !isString:
			bad(m.ptr, "type", "member of the documented payload is not a string")
		case m.value != "" && s != m.value:
			bad(m.ptr, "enum", fmt.Sprintf("is %q; Okta sends %q", s, m.value))
		case s == "":
			bad(m.ptr, "minLength", "is empty")
		}
	}
	if src, ok := lookup(doc, "/source"); ok {
		if s, _ := src.(string); s != "" && !hookSource.MatchString(s) {
			bad("/source", "pattern", fmt.Sprintf("%q is not https://{org}/api/v1/inlineHooks/{hookId}", s))
		}
	}
	if t, ok := lookup(doc, "/eventTime"); ok {
		if s, _ := t.(string); s != "" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				bad("/eventTime", "format", fmt.Sprintf("%q is not an RFC 3339 date-time", s))
			}
		}
	}
	return vs
}

// maxHookResponse is the documented bound on a hook response ("must be less
// than 256 KB").
const maxHookResponse = 256 << 10

// checkHookResponseCommands implements "hook-response-command".
func checkHookResponseCommands(xc *exchangeCtx, base Violation) []Violation {
	base.Direction, base.Status = Response, xc.Status
	var vs []Violation
	bad := func(ptr, rule, msg string) {
		v := base
		v.Field, v.Rule, v.Message = ptr, rule, "hook-response-command: "+msg
		vs = append(vs, v)
	}
	if len(xc.Body) >= maxHookResponse {
		bad("", "maxLength", fmt.Sprintf("body is %d bytes; Okta requires less than 256 KB", len(xc.Body)))
	}
	if xc.Status != http.StatusOK {
		return vs
	}
	var doc any
	if err := json.Unmarshal(xc.Body, &doc); err != nil {
		return vs // reported by the schema validation
	}
	cmds, ok := lookup(doc, "/commands")
	list, isList := cmds.([]any)
	if !ok || !isList || len(list) == 0 {
		bad("/commands", "required", "a 200 must carry at least one command (what Okta does without one is undocumented)")
		return vs
	}
	for i := range list {
		p := "/commands/" + strconv.Itoa(i)
		if t, _ := lookup(doc, p+"/type"); t != "com.okta.action.update" {
			bad(p+"/type", "enum", fmt.Sprintf("is %v; the only password import command is com.okta.action.update", t))
		}
		if _, ok := lookup(doc, p+"/value/credential"); !ok {
			bad(p+"/value/credential", "required", "the command must say VERIFIED or UNVERIFIED")
		}
	}
	return vs
}

// lookup follows a JSON pointer (no escapes needed for our fixed pointers)
// through decoded JSON.
func lookup(doc any, ptr string) (any, bool) {
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
