package oktaspec

import (
	"bytes"
	"context"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// HookOperation names the x-webhooks operation hook violations refer to.
const HookOperation = "createPasswordImportInlineHook"

// CheckHookRequest validates a password import hook request, as Okta (or
// fakeokta) sends it, against x-webhooks.CreatePasswordImportInlineHook:
// method POST, JSON content type, the body against
// allOf(InlineHookBasePayload, PasswordImportRequest), undocumented members,
// and the "hook-request-matches-payload-example" rule. r supplies the method
// and headers; its body is ignored in favour of body.
func (s *Spec) CheckHookRequest(ctx context.Context, r *http.Request, body []byte) []Violation {
	base := Violation{Operation: HookOperation, Method: r.Method, Path: r.URL.EscapedPath(), Direction: Request}
	if r.Method != http.MethodPost {
		v := base
		v.Rule, v.Message = RuleRoute, "the hook is called with POST only"
		return []Violation{v}
	}
	xc := &exchangeCtx{Exchange: Exchange{Request: r, RequestBody: body}, op: HookOperation, route: s.hook, hook: true}
	req := cloneRequest(ctx, r, body)
	// "hook-security-is-authscheme": the webhook's declared security is not
	// what Okta sends, so it is not checked.
	_, vs := s.validateRequest(ctx, xc, req, nil, base, openapi3filter.NoopAuthenticationFunc)
	return append(vs, addedChecks(xc, base, Request)...)
}

// CheckHookResponse validates what a hook answered, given its status,
// headers and body: a documented status (200 with a PasswordImportResponse,
// 204 with no body, 403) or one the Exceptions allow, the body schema,
// undocumented members (error and debugContext are accepted) and the
// "hook-response-command" rule. It returns the violations and the
// exceptions that excused a departure.
func (s *Spec) CheckHookResponse(ctx context.Context, status int, header http.Header, body []byte) ([]Violation, []string) {
	if header == nil {
		header = http.Header{}
	}
	reqBody := []byte(`{}`)
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, hookPath, bytes.NewReader(reqBody))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	base := Violation{Operation: HookOperation, Method: http.MethodPost, Path: hookPath}
	xc := &exchangeCtx{
		Exchange: Exchange{Request: r, RequestBody: reqBody, Status: status, Header: header, Body: body},
		op:       HookOperation, route: s.hook, hook: true,
	}
	in := &openapi3filter.RequestValidationInput{Request: r, Route: s.hook}
	vs, excused := s.validateResponse(ctx, xc, in, base)
	vs = append(vs, addedChecks(xc, base, Response)...)
	kept, more := excuse(xc, vs)
	return kept, append(excused, more...)
}
