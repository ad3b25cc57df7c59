package oktaspec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Exchange is one HTTP request and its response, with both bodies in full.
type Exchange struct {
	// Request supplies the method, URL and headers; its Body is ignored in
	// favour of RequestBody.
	Request     *http.Request
	RequestBody []byte
	// Status, Header and Body are the response.
	Status int
	Header http.Header
	Body   []byte
}

// exchangeCtx is an Exchange with what validation learned about it, as the
// Exceptions see it.
type exchangeCtx struct {
	Exchange
	op    string // operationId, "" if unrouted
	route *routers.Route
	hook  bool // the password import hook, not a Management API call
}

// Check validates one Management API exchange against the operation the
// router finds for it. It returns the violations, the exceptions that
// excused a departure (one line each), and the operationId ("" if no
// operation matched).
func (s *Spec) Check(ctx context.Context, x Exchange) (vs []Violation, excused []string, op string) {
	base := Violation{Method: x.Request.Method, Path: x.Request.URL.EscapedPath()}
	if ex := outsideDescription(x.Request.URL.Path); ex != nil {
		return nil, []string{fmt.Sprintf("%s %s: %s", base.Method, base.Path, ex.Name)}, ""
	}
	req := cloneRequest(ctx, x.Request, x.RequestBody)
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		v := base
		v.Direction, v.Rule, v.Message = Request, RuleRoute, err.Error()
		return []Violation{v}, nil, ""
	}
	base.Operation = route.Operation.OperationID
	xc := &exchangeCtx{Exchange: x, op: base.Operation, route: route}
	in, vs := s.validateRequest(ctx, xc, req, params, base, s.sswsAuth)
	vs = append(vs, addedChecks(xc, base, Request)...)
	rvs, excused := s.validateResponse(ctx, xc, in, base)
	vs = append(vs, rvs...)
	vs = append(vs, addedChecks(xc, base, Response)...)
	kept, more := excuse(xc, vs)
	return kept, append(excused, more...), base.Operation
}

// validateRequest checks the request half of an exchange: parameters,
// security, body schema, undocumented query parameters and members.
func (s *Spec) validateRequest(ctx context.Context, xc *exchangeCtx, req *http.Request, params map[string]string, base Violation, auth openapi3filter.AuthenticationFunc) (*openapi3filter.RequestValidationInput, []Violation) {
	route := xc.route
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:          true,
			AuthenticationFunc:  auth,
			SkipSettingDefaults: true,
		},
	}
	base.Direction = Request
	var vs []Violation
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		vs = append(vs, toViolations(base, "", err)...)
	}
	vs = append(vs, undocumentedQuery(base, route, req)...)
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && len(bytes.TrimSpace(xc.RequestBody)) > 0 && isJSON(req.Header.Get("Content-Type")) {
		if sch := contentSchema(rb.Value.Content); sch != nil {
			vs = append(vs, undocumentedProperties(base, sch, xc.RequestBody)...)
		}
	}
	return in, vs
}

// validateResponse checks the response half: the status must be documented
// (or allowed by an Exception), then headers, content type, body schema and
// undocumented members.
func (s *Spec) validateResponse(ctx context.Context, xc *exchangeCtx, in *openapi3filter.RequestValidationInput, base Violation) (vs []Violation, excused []string) {
	route := xc.route
	base.Direction, base.Status = Response, xc.Status
	documented := route.Operation.Responses.Status(xc.Status)
	if documented == nil {
		documented = route.Operation.Responses.Default()
	}
	if documented == nil {
		if ex := statusException(xc); ex != nil {
			excused = append(excused, fmt.Sprintf("%s %s %s %d: %s", base.Operation, base.Method, base.Path, xc.Status, ex.Name))
			return ex.checkBody(s, xc, base), excused
		}
		v := base
		v.Rule = RuleStatus
		v.Message = fmt.Sprintf("status %d is not documented (documented: %s)", xc.Status, strings.Join(documentedStatuses(route.Operation), ", "))
		return []Violation{v}, nil
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 xc.Status,
		Header:                 xc.Header,
		Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	rin.SetBodyBytes(xc.Body)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		vs = append(vs, toViolations(base, "", err)...)
	}
	if sch := contentSchema(documented.Value.Content); sch != nil && isJSON(xc.Header.Get("Content-Type")) {
		vs = append(vs, undocumentedProperties(base, sch, xc.Body)...)
	}
	if len(documented.Value.Content) == 0 && xc.Status == http.StatusNoContent && len(xc.Body) > 0 {
		v := base
		v.Rule, v.Message = RuleBody, fmt.Sprintf("%d response carries a %d-byte body", xc.Status, len(xc.Body))
		vs = append(vs, v)
	}
	return vs, excused
}

// addedChecks runs the Exceptions of kind Add that apply to this exchange.
func addedChecks(xc *exchangeCtx, base Violation, dir Direction) []Violation {
	var vs []Violation
	for i := range Exceptions {
		ex := &Exceptions[i]
		if ex.Kind == Add && ex.check != nil && ex.hook == xc.hook && ex.dir == dir {
			vs = append(vs, ex.check(xc, base)...)
		}
	}
	return vs
}

// sswsAuth accepts the two security schemes Management API operations
// declare: apiToken ("Authorization: SSWS <token>") and oauth2 ("Authorization:
// Bearer <token>"). Token values are not checked: a wrong token is a
// legitimate request that Okta answers with 401.
func (s *Spec) sswsAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	var prefix string
	switch in.SecuritySchemeName {
	case "apiToken":
		prefix = "SSWS "
	case "oauth2":
		prefix = "Bearer "
	default:
		return fmt.Errorf("security scheme %q is not one our client uses", in.SecuritySchemeName)
	}
	if !strings.HasPrefix(h, prefix) || strings.TrimSpace(h[len(prefix):]) == "" {
		return fmt.Errorf("%s: Authorization header is not %q followed by a token", in.SecuritySchemeName, prefix)
	}
	return nil
}

// cloneRequest copies method, URL and headers and gives the copy the body
// bytes, so that validation never consumes the caller's body.
func cloneRequest(ctx context.Context, r *http.Request, body []byte) *http.Request {
	c := r.Clone(ctx)
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.ContentLength = int64(len(body))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) == 0 {
		c.Body = http.NoBody
	}
	return c
}

// documentedStatuses lists an operation's response keys, sorted.
func documentedStatuses(op *openapi3.Operation) []string {
	var out []string
	for k := range op.Responses.Map() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// undocumentedQuery reports query parameters the operation does not define.
func undocumentedQuery(base Violation, route *routers.Route, req *http.Request) []Violation {
	known := map[string]bool{}
	for _, ps := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				known[p.Value.Name] = true
			}
		}
	}
	var names []string
	for name := range req.URL.Query() {
		if !known[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var vs []Violation
	for _, name := range names {
		v := base
		v.Field, v.Rule, v.Message = "query "+name, RuleUndocParam, "the operation defines no such query parameter"
		vs = append(vs, v)
	}
	return vs
}

// toViolations turns kin-openapi's error tree into violations. field is the
// prefix (a parameter) that schema pointers are appended to.
func toViolations(base Violation, field string, err error) []Violation {
	var (
		me   openapi3.MultiError
		rqe  *openapi3filter.RequestError
		rse  *openapi3filter.ResponseError
		sece *openapi3filter.SecurityRequirementsError
		sche *openapi3.SchemaError
	)
	leaf := func(f, rule, msg string) []Violation {
		v := base
		v.Field, v.Rule, v.Message = f, rule, msg
		return []Violation{v}
	}
	switch {
	case errors.As(err, &me) && isMulti(err):
		var out []Violation
		for _, e := range me {
			out = append(out, toViolations(base, field, e)...)
		}
		return out
	case errors.As(err, &rqe) && isType[*openapi3filter.RequestError](err):
		f, rule := field, RuleBody
		if rqe.Parameter != nil {
			f, rule = rqe.Parameter.In+" "+rqe.Parameter.Name, RuleParameter
		}
		if strings.Contains(rqe.Reason, "Content-Type") {
			return leaf("header Content-Type", RuleContentType, rqe.Reason)
		}
		if rqe.Err == nil || errors.Is(rqe.Err, openapi3filter.ErrInvalidRequired) || errors.Is(rqe.Err, openapi3filter.ErrInvalidEmptyValue) {
			return leaf(f, rule, rqe.Error())
		}
		return relabel(toViolations(base, f, rqe.Err), rule)
	case errors.As(err, &rse) && isType[*openapi3filter.ResponseError](err):
		switch {
		case strings.Contains(rse.Reason, "status is not supported"):
			return leaf("", RuleStatus, rse.Reason)
		case strings.Contains(rse.Reason, "content-type") || strings.Contains(rse.Reason, "Content-Type"):
			return leaf("header Content-Type", RuleContentType, rse.Reason)
		case strings.Contains(rse.Reason, "header"):
			name := rse.Reason
			if i := strings.Index(name, "\""); i >= 0 {
				name = strings.Trim(name[i:], "\"")
				if j := strings.Index(name, "\""); j >= 0 {
					name = name[:j]
				}
			}
			if rse.Err == nil {
				return leaf("header "+name, RuleHeader, rse.Reason)
			}
			return relabel(toViolations(base, "header "+name, rse.Err), RuleHeader)
		case rse.Err == nil:
			return leaf(field, RuleBody, rse.Reason)
		case strings.Contains(rse.Reason, "decode"):
			return leaf(field, RuleBody, rse.Error())
		}
		return toViolations(base, field, rse.Err)
	case errors.As(err, &sece) && isType[*openapi3filter.SecurityRequirementsError](err):
		return leaf("header Authorization", RuleSecurity, sece.Error())
	case errors.As(err, &sche):
		if sche.SchemaField == "allOf" && sche.Origin != nil {
			// Report the members of allOf that failed, with their own
			// keywords and full pointers, rather than "allOf" at the root.
			if u, ok := errors.Unwrap(sche.Origin).(interface{ Unwrap() error }); ok {
				if inner, ok := u.Unwrap().(openapi3.MultiError); ok && len(inner) > 0 { //nolint:errorlint // one layer, not the chain
					return toViolations(base, field, inner)
				}
			}
		}
		f := field
		if p := sche.JSONPointer(); len(p) > 0 {
			f += "/" + strings.Join(p, "/")
		}
		if f == "" {
			f = "/"
		}
		return leaf(f, sche.SchemaField, sche.Reason)
	}
	return leaf(field, RuleBody, err.Error())
}

// relabel sets the rule of violations that carry no schema keyword.
func relabel(vs []Violation, rule string) []Violation {
	for i := range vs {
		if vs[i].Rule == "" || vs[i].Rule == RuleBody {
			vs[i].Rule = rule
		}
	}
	return vs
}

// isMulti reports whether err itself (not something it wraps) is a
// MultiError.
func isMulti(err error) bool {
	_, ok := err.(openapi3.MultiError) //nolint:errorlint // err itself, not what it wraps
	return ok
}

// isType reports whether err itself is a T, so that the switch in
// toViolations peels one layer at a time.
func isType[T error](err error) bool {
	_, ok := err.(T) //nolint:errorlint // err itself, not what it wraps
	return ok
}
