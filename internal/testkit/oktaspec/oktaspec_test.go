package oktaspec_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/testkit/oktaspec"
)

// Okta's documented examples, verbatim: OAS names an example of Okta's
// management OpenAPI description (https://github.com/okta/okta-management-openapi-spec),
// CORE is https://developer.okta.com/docs/reference/core-okta-api/.
const (
	// OAS create-user-with-password-import-inline-hook-request.
	createUserRequest = `{ "profile": { "firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com",
               "login": "isaac.brock@example.com", "mobilePhone": "555-415-1337" },
  "credentials": { "password": { "hook": { "type": "default" } } } }`
	// OAS create-user-with-password-import-inline-hook-response.
	createUserResponse = `{ "id": "00ub0oNGTSWTBKOLGLNR", "status": "ACTIVE",
  "created": "2013-07-02T21:36:25.344Z", "activated": null, "statusChanged": null, "lastLogin": null,
  "lastUpdated": "2013-07-02T21:36:25.344Z", "passwordChanged": "2013-07-02T21:36:25.344Z",
  "profile": { "firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com",
               "login": "isaac.brock@example.com", "mobilePhone": "555-415-1337" },
  "credentials": { "password": {}, "provider": { "type": "IMPORT", "name": "IMPORT" } },
  "_links": { "self": { "href": "https://{yourOktaDomain}/api/v1/users/00ub0oNGTSWTBKOLGLNR" } } }`
	// CORE "Errors" (a duplicate login).
	duplicateLogin = `{ "errorCode": "E0000001", "errorSummary": "Api validation failed: login", "errorLink": "E0000001",
  "errorId": "oaeHfmOAx1iRLa0H10DeMz5fQ",
  "errorCauses": [ { "errorSummary": "login: An object with this field already exists in the current organization" } ] }`
	// OAS ErrorTooManyRequests.
	tooMany = `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"sampleQPivGUj_ND5v78vbYWW","errorCauses":[]}`
	// OAS activateUser with sendEmail=false.
	activationToken = `{"activationUrl": "https://{yourOktaDomain}/tokens/XE6wE17zmphl3KqAPFxO/verify", "activationToken": "XE6wE17zmphl3KqAPFxO"}`
	// OAS PasswordImportPayloadExample.
	hookRequest = `{
  "eventId": "3o9jBzq1SmOGmmsDsqyyeQ",
  "eventTime": "2020-01-17T21:23:56.000Z",
  "eventType": "com.okta.user.credential.password.import",
  "eventTypeVersion": "1.0",
  "contentType": "application/json",
  "cloudEventVersion": "0.1",
  "source": "https://${yourOktaDomain}/api/v1/inlineHooks/cbl2ad6phv9fsPLcF0g7",
  "data": {
    "context": {
      "request": {
        "id": "XiIl6wn7005Rr@fjYqeC7CCDBxw",
        "method": "POST",
        "url": { "value": "/idp/idx/challenge/answer" },
        "ipAddress": "66.124.153.138"
      },
      "credential": {
        "username": "isaac.brock@example.com",
        "password": "Okta"
      }
    },
    "action": { "credential": "UNVERIFIED" }
  }
}`
	// OAS PasswordImportVerifiedResponse / PasswordImportUnVerifiedResponse.
	hookVerified   = `{ "commands": [ { "type": "com.okta.action.update", "value": { "credential": "VERIFIED" } } ] }`
	hookUnverified = `{ "commands": [ { "type": "com.okta.action.update", "value": { "credential": "UNVERIFIED" } } ] }`
)

// logEvents is a user.import.password System Log event with the members
// the product reads and a null reason, as Okta sends.
const logEvents = `[{"uuid":"dc9fd3c0-598c-11ef-8478-2b7584bf8d5a","published":"2026-01-01T00:00:00.000Z","eventType":"user.import.password",
 "version":"0","severity":"INFO","displayMessage":"Import user password","legacyEventType":null,
 "outcome":{"result":"SUCCESS","reason":null},"actor":{"id":"00ub0oNGTSWTBKOLGLNR","type":"User","detailEntry":null},
 "target":[{"id":"00ub0oNGTSWTBKOLGLNR","type":"User","alternateId":"isaac.brock@example.com","detailEntry":null}]}]`

// hookRequestFor is the hook request example with a concrete org host, as a real
// request carries it (the example keeps the ${yourOktaDomain} placeholder).
var hookRequestConcrete = strings.Replace(hookRequest, "${yourOktaDomain}", "example.okta.com", 1)

// ex builds an exchange with the headers okta-sdk-golang sends and the
// headers Okta answers with; tweak adjusts it.
func ex(method, target, reqBody string, status int, respBody string, tweak ...func(*oktaspec.Exchange)) oktaspec.Exchange {
	var r *http.Request
	if reqBody == "" {
		r = httptest.NewRequest(method, "https://example.okta.com"+target, nil)
	} else {
		r = httptest.NewRequest(method, "https://example.okta.com"+target, strings.NewReader(reqBody))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Authorization", "SSWS 00abc")
	h := http.Header{}
	if respBody != "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("X-Rate-Limit-Limit", "600")
	h.Set("X-Rate-Limit-Remaining", "599")
	h.Set("X-Rate-Limit-Reset", "1609459200")
	x := oktaspec.Exchange{Request: r, RequestBody: []byte(reqBody), Status: status, Header: h, Body: []byte(respBody)}
	for _, f := range tweak {
		f(&x)
	}
	return x
}

// mutate decodes JSON, applies f, and encodes it again.
func mutate(t *testing.T, doc string, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func check(t *testing.T, s *oktaspec.Spec, x oktaspec.Exchange) ([]oktaspec.Violation, string) {
	t.Helper()
	vs, _, op := s.Check(context.Background(), x)
	return vs, op
}

func wantClean(t *testing.T, vs []oktaspec.Violation) {
	t.Helper()
	for _, v := range vs {
		t.Errorf("unexpected violation: %s", v)
	}
}

// wantViolation asserts that some violation has this field and rule, so a
// deviation is caught for the stated reason and not by accident.
func wantViolation(t *testing.T, vs []oktaspec.Violation, field, rule string) {
	t.Helper()
	for _, v := range vs {
		if v.Field == field && v.Rule == rule {
			if !strings.Contains(v.String(), rule) || !strings.Contains(v.String(), v.Method) {
				t.Errorf("violation text %q does not name the method and rule", v)
			}
			return
		}
	}
	t.Errorf("no violation with field %q and rule %q; got %d:", field, rule, len(vs))
	for _, v := range vs {
		t.Logf("  %s", v)
	}
}

// TestDocumentedExamplesPass: Okta's documented examples above conform,
// routed host-agnostically to the right operations.
func TestDocumentedExamplesPass(t *testing.T) {
	s := oktaspec.Skip(t)
	linked := func(x *oktaspec.Exchange) {
		x.Header.Add("Link", `<https://example.okta.com/api/v1/users?limit=1>; rel="self"`)
		x.Header.Add("Link", `<https://example.okta.com/api/v1/users?after=00ub0oNGTSWTBKOLGLNR&limit=1>; rel="next"`)
	}
	cases := []struct {
		name, op string
		x        oktaspec.Exchange
	}{
		{"create with hook", "createUser", ex("POST", "/api/v1/users?activate=false", createUserRequest, 200, createUserResponse)},
		{"create duplicate login", "createUser", ex("POST", "/api/v1/users?activate=true", createUserRequest, 400, duplicateLogin)},
		{"create rate limited", "createUser", ex("POST", "/api/v1/users", createUserRequest, 429, tooMany, func(x *oktaspec.Exchange) {
			x.Header.Set("X-Rate-Limit-Remaining", "0")
		})},
		{"get by login", "getUser", ex("GET", "/api/v1/users/isaac.brock%40example.com", "", 200, createUserResponse)},
		{"partial update puts user on hook", "updateUser", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", `{"credentials":{"password":{"hook":{"type":"default"}}}}`, 200, createUserResponse)},
		{"activate", "activateUser", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/activate?sendEmail=false", "", 200, activationToken)},
		{"deactivate", "deactivateUser", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/deactivate", "", 200, "")},
		{"delete", "deleteUser", ex("DELETE", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 204, "")},
		{"list by login with paging", "listUsers", ex("GET", `/api/v1/users?filter=profile.login+eq+%22isaac.brock%40example.com%22&limit=1`, "", 200, "["+createUserResponse+"]", linked)},
		{"401 on any operation", "getUser", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae1","errorCauses":[]}`)},
		{"not found", "getUser", ex("GET", "/api/v1/users/nobody", "", 404, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: nobody (User)","errorLink":"E0000007","errorId":"oae2","errorCauses":[]}`)},
	}
	cases = append(cases, []struct {
		name, op string
		x        oktaspec.Exchange
	}{
		{"expire password as SDK v2 sends it", "expirePassword", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/expire_password?tempPassword=false", "", 200, createUserResponse)},
		{"invalid filter", "listUsers", ex("GET", `/api/v1/users?filter=profile.login+eq`, "", 400, `{"errorCode":"E0000031","errorSummary":"Invalid search criteria.","errorLink":"E0000031","errorId":"oae4","errorCauses":[]}`)},
		{"user still activating", "updateUser", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", `{"profile":{"nickName":"Ike"}}`, 409, `{"errorCode":"E0000112","errorSummary":"Cannot update this user because they are still being activated. Please try again in a few minutes.","errorLink":"E0000112","errorId":"oae5","errorCauses":[]}`)},
		{"system log", "listLogEvents", ex("GET", `/api/v1/logs?filter=eventType+eq+%22user.import.password%22`, "", 200, logEvents)},
		{"500 on any operation", "activateUser", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/activate?sendEmail=false", "", 500, `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae3","errorCauses":[]}`)},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs, op := check(t, s, c.x)
			if op != c.op {
				t.Errorf("routed to %q, want %q", op, c.op)
			}
			wantClean(t, vs)
		})
	}

	t.Run("hook request", func(t *testing.T) {
		r := httptest.NewRequest("POST", "https://hook.example.com/okta/password-import", nil)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json")
		r.Header.Set("Authorization", "Basic YWRtaW46c3VwZXJzZWNyZXQ=")
		wantClean(t, s.CheckHookRequest(context.Background(), r, []byte(hookRequestConcrete)))
	})
	for name, resp := range map[string]struct {
		status int
		body   string
	}{"verified": {200, hookVerified}, "unverified": {200, hookUnverified}, "no content": {204, ""}} {
		t.Run("hook response "+name, func(t *testing.T) {
			h := http.Header{}
			if resp.body != "" {
				h.Set("Content-Type", "application/json")
			}
			vs, _ := s.CheckHookResponse(context.Background(), resp.status, h, []byte(resp.body))
			wantClean(t, vs)
		})
	}
}

// TestDescriptionExamplesPass replays the description's own examples for
// the operations and hook we use through the same checks (the description
// should agree with itself; where it does not, Exceptions must say why).
func TestDescriptionExamplesPass(t *testing.T) {
	s := oktaspec.Skip(t)
	get := func(name string) string {
		b, err := s.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("createUser with hook", func(t *testing.T) {
		vs, _ := check(t, s, ex("POST", "/api/v1/users?activate=true",
			get("create-user-with-password-import-inline-hook-request"), 200,
			get("create-user-with-password-import-inline-hook-response")))
		wantClean(t, vs)
	})
	t.Run("getUser", func(t *testing.T) {
		vs, _ := check(t, s, ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, get("user-example")))
		wantClean(t, vs)
	})
	t.Run("listUsers", func(t *testing.T) {
		vs, _ := check(t, s, ex("GET", "/api/v1/users", "", 200, get("ListUsersResponse")))
		wantClean(t, vs)
	})
	t.Run("listLogEvents", func(t *testing.T) {
		vs, _ := check(t, s, ex("GET", `/api/v1/logs?filter=eventType+eq+%22user.import.password%22`, "", 200, get("ListLogs")))
		wantClean(t, vs)
	})
	t.Run("createInlineHook", func(t *testing.T) {
		vs, _ := check(t, s, ex("POST", "/api/v1/inlineHooks", get("InlineHookMgmtCreateHTTPRequest"), 200, get("InlineHookMgmtCreateHTTPResponse")))
		wantClean(t, vs)
	})
	t.Run("429", func(t *testing.T) {
		vs, _ := check(t, s, ex("GET", "/api/v1/users", "", 429, get("ErrorTooManyRequests")))
		wantClean(t, vs)
	})
	t.Run("hook", func(t *testing.T) {
		// The payload example keeps the ${yourOktaDomain} placeholder.
		body := strings.Replace(get("PasswordImportPayloadExample"), "${yourOktaDomain}", "example.okta.com", 1)
		r := httptest.NewRequest("POST", "/okta/password-import", nil)
		r.Header.Set("Content-Type", "application/json")
		wantClean(t, s.CheckHookRequest(context.Background(), r, []byte(body)))
		h := http.Header{"Content-Type": {"application/json"}}
		for _, name := range []string{"PasswordImportVerifiedResponse", "PasswordImportUnVerifiedResponse"} {
			vs, _ := s.CheckHookResponse(context.Background(), 200, h, []byte(get(name)))
			wantClean(t, vs)
		}
	})
}

// TestDeviationsCaught: a renamed field, a wrong type, a wrong value, a
// wrong status, a wrong header, each caught with the rule that names it.
func TestDeviationsCaught(t *testing.T) {
	s := oktaspec.Skip(t)
	cases := []struct {
		name        string
		x           oktaspec.Exchange
		field, rule string
	}{
		{"renamed response field", ex("POST", "/api/v1/users?activate=false", createUserRequest, 200, mutate(t, createUserResponse, func(m map[string]any) {
			m["activatd"] = m["activated"]
			delete(m, "activated")
		})), "/activatd", oktaspec.RuleUndocProperty},
		{"renamed nested field", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, mutate(t, createUserResponse, func(m map[string]any) {
			obj(m, "credentials")["providers"] = obj(m, "credentials")["provider"]
			delete(obj(m, "credentials"), "provider")
		})), "/credentials/providers", oktaspec.RuleUndocProperty},
		{"wrong type", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, mutate(t, createUserResponse, func(m map[string]any) {
			m["id"] = 42
		})), "/id", "type"},
		{"value outside enum", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, mutate(t, createUserResponse, func(m map[string]any) {
			m["status"] = "ENABLED"
		})), "/status", "enum"},
		{"bad timestamp", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, mutate(t, createUserResponse, func(m map[string]any) {
			m["created"] = "2013-07-02 21:36:25"
		})), "/created", "format"},
		{"null where not nullable", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, mutate(t, createUserResponse, func(m map[string]any) {
			m["created"] = nil
		})), "/created", "nullable"},
		{"profile login too short", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, mutate(t, createUserResponse, func(m map[string]any) {
			obj(m, "profile")["login"] = "a@b"
		})), "/profile/login", "minLength"},
		{"wrong status", ex("POST", "/api/v1/users", createUserRequest, 201, createUserResponse), "", oktaspec.RuleStatus},
		{"undocumented error status", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/activate", "", 422, tooMany), "", oktaspec.RuleStatus},
		{"wrong content type", ex("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", 200, createUserResponse, func(x *oktaspec.Exchange) {
			x.Header.Set("Content-Type", "text/plain")
		}), "header Content-Type", oktaspec.RuleContentType},
		{"error body renamed", ex("POST", "/api/v1/users", createUserRequest, 400, strings.Replace(duplicateLogin, "errorCauses", "causes", 1)), "/causes", oktaspec.RuleUndocProperty},
		{"401 without Okta error body", ex("GET", "/api/v1/users/x", "", 401, `{"error":"unauthorized"}`), "/errorCode", "required"},
		{"request missing profile", ex("POST", "/api/v1/users", `{"credentials":{"password":{"hook":{"type":"default"}}}}`, 400, duplicateLogin), "/profile", "required"},
		{"request renamed field", ex("POST", "/api/v1/users", strings.Replace(createUserRequest, `"hook"`, `"hooks"`, 1), 200, createUserResponse), "/credentials/password/hooks", oktaspec.RuleUndocProperty},
		{"request bad query type", ex("POST", "/api/v1/users?activate=maybe", createUserRequest, 200, createUserResponse), "query activate", oktaspec.RuleParameter},
		{"request undocumented query", ex("POST", "/api/v1/users?activat=false", createUserRequest, 200, createUserResponse), "query activat", oktaspec.RuleUndocParam},
		{"request without token", ex("GET", "/api/v1/users/x", "", 401, tooMany, func(x *oktaspec.Exchange) {
			x.Request.Header.Del("Authorization")
		}), "header Authorization", oktaspec.RuleSecurity},
		{"expire password, other undocumented query", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/expire_password?tempPasswd=false", "", 200, createUserResponse), "query tempPasswd", oktaspec.RuleUndocParam},
		{"tempPassword where not excused", ex("POST", "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/reset_password?tempPassword=false", "", 200, `{"resetPasswordUrl":"https://example.okta.com/reset_password/x"}`), "query tempPassword", oktaspec.RuleUndocParam},
		{"excused status with the wrong error code", ex("GET", `/api/v1/users?filter=x`, "", 400, duplicateLogin), "/errorCode", "enum"},
		{"unknown route", ex("GET", "/api/v1/userz", "", 200, "[]"), "", oktaspec.RuleRoute},
		{"429 without reset", ex("GET", "/api/v1/users", "", 429, tooMany, func(x *oktaspec.Exchange) {
			x.Header.Del("X-Rate-Limit-Reset")
		}), "header X-Rate-Limit-Reset", oktaspec.RuleHeader},
		{"bad Link header", ex("GET", "/api/v1/users?limit=1", "", 200, "[]", func(x *oktaspec.Exchange) {
			x.Header.Add("Link", `<https://example.okta.com/api/v1/users?limit=1>; rel="self"`)
			x.Header.Add("Link", `<https://example.okta.com/api/v1/users?limit=1>; rel="next"`)
		}), "header Link", oktaspec.RuleHeader},
	}
	logs := func(f func(e map[string]any)) oktaspec.Exchange {
		var events []map[string]any
		if err := json.Unmarshal([]byte(logEvents), &events); err != nil {
			t.Fatal(err)
		}
		f(events[0])
		b, _ := json.Marshal(events)
		return ex("GET", "/api/v1/logs", "", 200, string(b))
	}
	cases = append(cases, []struct {
		name        string
		x           oktaspec.Exchange
		field, rule string
	}{
		{"log outcome outside enum", logs(func(e map[string]any) { obj(e, "outcome")["result"] = "DONE" }), "/0/outcome/result", "enum"},
		{"log target id wrong type", logs(func(e map[string]any) { e["target"].([]any)[0].(map[string]any)["id"] = 7 }), "/0/target/0/id", "type"},
		{"log without uuid", logs(func(e map[string]any) { delete(e, "uuid") }), "/0/uuid", "required"},
		{"log renamed eventType", logs(func(e map[string]any) { e["event_type"] = e["eventType"]; delete(e, "eventType") }), "/0/eventType", "required"},
		{"log bad timestamp", logs(func(e map[string]any) { e["published"] = "1 Jan 2026" }), "/0/published", "format"},
		{"log import event without user target", logs(func(e map[string]any) { delete(e, "target") }), "/0/target", "required"},
		{"500 not an Okta error", ex("GET", "/api/v1/users/x", "", 500, "<html>oops</html>", func(x *oktaspec.Exchange) {
			x.Header.Set("Content-Type", "text/html")
		}), "", oktaspec.RuleContentType},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs, _ := check(t, s, c.x)
			wantViolation(t, vs, c.field, c.rule)
		})
	}
}

// TestHookDeviationsCaught does the same for the password import hook, both
// directions.
func TestHookDeviationsCaught(t *testing.T) {
	s := oktaspec.Skip(t)
	ctx := context.Background()
	req := func(method, ct string) *http.Request {
		r := httptest.NewRequest(method, "https://hook.example.com/okta/password-import", nil)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	reqCases := []struct {
		name, body, ct, method string
		field, rule            string
	}{
		{"renamed credential", mutate(t, hookRequestConcrete, func(m map[string]any) {
			c := obj(m, "data", "context")
			c["credentials"] = c["credential"]
			delete(c, "credential")
		}), "application/json", "POST", "/data/context/credentials", oktaspec.RuleUndocProperty},
		{"missing username", mutate(t, hookRequestConcrete, func(m map[string]any) {
			delete(obj(m, "data", "context", "credential"), "username")
		}), "application/json", "POST", "/data/context/credential/username", "required"},
		{"password not a string", mutate(t, hookRequestConcrete, func(m map[string]any) {
			obj(m, "data", "context", "credential")["password"] = 1234
		}), "application/json", "POST", "/data/context/credential/password", "type"},
		{"eventTypeVersion as in the schema example", mutate(t, hookRequestConcrete, func(m map[string]any) {
			m["eventTypeVersion"] = "1"
		}), "application/json", "POST", "/eventTypeVersion", "enum"},
		{"wrong eventType", mutate(t, hookRequestConcrete, func(m map[string]any) {
			m["eventType"] = "com.okta.import.transform"
		}), "application/json", "POST", "/eventType", "enum"},
		{"source not https", mutate(t, hookRequestConcrete, func(m map[string]any) {
			m["source"] = "http://example.okta.com/api/v1/inlineHooks/cbl2"
		}), "application/json", "POST", "/source", "pattern"},
		{"data not an object", mutate(t, hookRequestConcrete, func(m map[string]any) {
			m["data"] = "x"
		}), "application/json", "POST", "/data", "type"},
		{"form encoded", hookRequestConcrete, "application/x-www-form-urlencoded", "POST", "header Content-Type", oktaspec.RuleContentType},
		{"GET", "", "", "GET", "", oktaspec.RuleRoute},
	}
	for _, c := range reqCases {
		t.Run("request "+c.name, func(t *testing.T) {
			wantViolation(t, s.CheckHookRequest(ctx, req(c.method, c.ct), []byte(c.body)), c.field, c.rule)
		})
	}

	jsonH := http.Header{"Content-Type": {"application/json"}}
	respCases := []struct {
		name        string
		status      int
		h           http.Header
		body        string
		field, rule string
	}{
		{"credential outside enum", 200, jsonH, strings.Replace(hookVerified, "VERIFIED", "OK", 1), "/commands/0/value/credential", "enum"},
		{"typo in command type", 200, jsonH, strings.Replace(hookVerified, "com.okta", "ccom.okta", 1), "/commands/0/type", "enum"},
		{"renamed value member", 200, jsonH, strings.Replace(hookVerified, `"credential"`, `"credentials"`, 1), "/commands/0/value/credentials", oktaspec.RuleUndocProperty},
		{"commands not an array", 200, jsonH, `{"commands":{"type":"com.okta.action.update"}}`, "/commands", "type"},
		{"200 without commands", 200, jsonH, `{}`, "/commands", "required"},
		{"wrong status", 201, jsonH, hookVerified, "", oktaspec.RuleStatus},
		{"server error", 500, jsonH, `{}`, "", oktaspec.RuleStatus},
		{"204 with body", 204, http.Header{}, hookVerified, "", oktaspec.RuleBody},
		{"text body", 200, http.Header{"Content-Type": {"text/plain"}}, hookVerified, "header Content-Type", oktaspec.RuleContentType},
		{"oversized", 200, jsonH, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}],"debugContext":{"pad":"` + strings.Repeat("x", 256<<10) + `"}}`, "", "maxLength"},
	}
	for _, c := range respCases {
		t.Run("response "+c.name, func(t *testing.T) {
			vs, _ := s.CheckHookResponse(ctx, c.status, c.h, []byte(c.body))
			wantViolation(t, vs, c.field, c.rule)
		})
	}

	t.Run("response exceptions", func(t *testing.T) {
		for _, st := range []int{400, 401} {
			vs, excused := s.CheckHookResponse(ctx, st, http.Header{"Content-Type": {"text/plain"}}, []byte("bad request\n"))
			wantClean(t, vs)
			if len(excused) != 1 || !strings.Contains(excused[0], "hook-error-status") {
				t.Errorf("status %d: excused = %q, want the hook-error-status exception", st, excused)
			}
		}
		vs, excused := s.CheckHookResponse(ctx, 200, jsonH, []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"UNVERIFIED"}}],"error":{"errorSummary":"x"}}`))
		wantClean(t, vs)
		if len(excused) != 1 || !strings.Contains(excused[0], "hook-response-error-object") {
			t.Errorf("excused = %q, want the hook-response-error-object exception", excused)
		}
	})
}

// TestExceptionsList: every exception names its source and says why.
func TestExceptionsList(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range oktaspec.Exceptions {
		if e.Name == "" || e.Source == "" || len(e.Note) < 40 {
			t.Errorf("exception %+v lacks a name, a source or a note", e)
		}
		if seen[e.Name] {
			t.Errorf("exception %q listed twice", e.Name)
		}
		seen[e.Name] = true
	}
}
